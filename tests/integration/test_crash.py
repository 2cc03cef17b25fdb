#!/usr/bin/env python3
"""Crash tests, mbsync's way: a copy is run once per N with the hidden hook
IMAPFERRY_TEST_CRASH_AT=N, which ends the process at its Nth step (a batch
journaled but its APPEND not sent, the APPEND sent but not answered, just
answered, its answer journaled, a state file written but not yet in place,
just in place: see src/crashpoint.c), and the rerun after each crash must
leave host2 identical to host1: nothing missing, nothing twice. A first
copy, a first copy of one folder that takes several APPEND batches, and a
delta run over existing state (new mail and flag changes, sent through the
UID map) are cut at every step.
Usage: test_crash.py --bin path/to/imapferry
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import itest  # noqa: E402
from itest import check, ferry_args, identical, test  # noqa: E402

USER = "user3"
CRASHED = 137
MAX_STEPS = 200  # far more than the corpus needs: a loop that never ends fails


def state_dir():
    return os.path.join(itest.WORK, "crash-state")


def run(s, n=None, user=USER):
    env = dict(os.environ)
    env.pop("IMAPFERRY_TEST_CRASH_AT", None)
    if n is not None:
        env["IMAPFERRY_TEST_CRASH_AT"] = str(n)
    args = ferry_args(s, user, "--workers", "1", "--statedir", state_dir())
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)


def server_done(s, user):
    """Waits until host2 has closed the killed run's session. A batch sent
    in full before the kill is still being stored by the server for a
    moment after; a rerun started within that moment cannot see it (nor
    could any client), so the test, like a real rerun minutes later,
    starts once the server has let go of the dead session."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = s.host2.doveadm("who", "-1", user, check=False)
        if user not in out:
            return
        time.sleep(0.05)


def cut_at_every_step(s, prepare, user=USER):
    """prepare() sets up the servers for one attempt; returns the number of
    steps the run took when it finally ran through."""
    for n in range(1, MAX_STEPS):
        prepare()
        r = run(s, n, user)
        if r.returncode != CRASHED:
            check(r.returncode == 0, "the run without a crash failed", r)
            identical(s, user)
            return n - 1
        check("test crash at step %d" % n in r.stderr, "crashed elsewhere than step %d" % n, r)
        server_done(s, user)
        again = run(s, None, user)
        check(again.returncode == 0, "the rerun after a crash at step %d failed" % n, again)
        if "(APPEND sent, not answered)" in r.stderr:
            # The journal told the rerun that batch's fate was unknown.
            check("unanswered; what host2 holds" in again.stdout,
                  "the rerun did not notice the unanswered APPEND of step %d" % n, again)
        identical(s, user)
    raise AssertionError("the run never got through %d steps" % MAX_STEPS)


@test
def first_copy_cut_at_every_step(s):
    corpus.load(s.host1.imap(USER), seed=21, count=30)

    def prepare():
        s.host2.reset(USER)
        shutil.rmtree(state_dir(), ignore_errors=True)

    steps = cut_at_every_step(s, prepare)
    check(steps >= 10, "only %d steps: the hook is not where it should be" % steps)
    print("     a first copy has %d steps; each one cut and rerun" % steps)


@test
def batches_of_one_folder_cut_at_every_step(s):
    """250 messages in one folder: three APPEND batches (100 at most each,
    copy.c's BATCH_MSGS), so a cut lands between batches of one folder too,
    with the journal holding finished batches and an unfinished one."""
    user = "user1"
    conn = s.host1.imap(user)
    rng = corpus.random.Random(31)
    for i in range(250):
        corpus.append_one(conn, ("INBOX",), corpus.make_message(rng, size=2000),
                          (r"\Seen",) if i % 3 else (), None)
    conn.logout()

    def prepare():
        s.host2.reset(user)
        shutil.rmtree(state_dir(), ignore_errors=True)

    steps = cut_at_every_step(s, prepare, user)
    check(steps >= 12, "only %d steps for three batches" % steps)
    print("     three batches in one folder: %d steps; each one cut and rerun" % steps)


@test
def delta_run_cut_at_every_step(s):
    r = run(s)
    check(r.returncode == 0, "setup run failed", r)
    added = [0]

    def prepare():
        # Two new messages each time, in two folders: the state of both
        # pairs is stale, so the run appends and writes state in each.
        conn = s.host1.imap(USER)
        for folder in (("INBOX",), ("Sent",)):
            added[0] += 1
            corpus.append_one(conn, folder,
                              corpus.make_message(corpus.random.Random(9000 + added[0])),
                              (r"\Seen",), '"06-Jun-2024 07:08:09 +0200"')
        # And a flag change in a third folder, where host2 stays as the
        # last run left it: that one goes through the UID map.
        conn.select("Drafts")
        typ, data = conn.uid("SEARCH", None, "ALL")
        uid = data[0].split()[0]
        conn.uid("STORE", uid, "FLAGS" if added[0] % 4 else "-FLAGS", r"(\Flagged)")
        conn.logout()

    steps = cut_at_every_step(s, prepare)
    check(steps >= 4, "only %d steps in a delta run" % steps)


if __name__ == "__main__":
    sys.exit(itest.main([first_copy_cut_at_every_step, batches_of_one_folder_cut_at_every_step,
                         delta_run_cut_at_every_step]))
