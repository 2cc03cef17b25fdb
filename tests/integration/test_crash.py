#!/usr/bin/env python3
"""Crash tests, mbsync's way: a copy is run once per N with the hidden hook
IMAPFERRY_TEST_CRASH_AT=N, which ends the process at its Nth step (an APPEND
sent but not answered, just answered, a state file written but not yet in
place, just in place: see src/crashpoint.c), and the rerun after each crash
must leave host2 identical to host1: nothing missing, nothing twice. Both a
first copy and a delta run over existing state are cut at every step.
Usage: test_crash.py --bin path/to/imapferry
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import itest  # noqa: E402
from itest import check, ferry_args, identical, test  # noqa: E402

USER = "user3"
CRASHED = 137
MAX_STEPS = 200  # far more than the corpus needs: a loop that never ends fails


def state_dir():
    return os.path.join(itest.WORK, "crash-state")


def run(s, n=None):
    env = dict(os.environ)
    env.pop("IMAPFERRY_TEST_CRASH_AT", None)
    if n is not None:
        env["IMAPFERRY_TEST_CRASH_AT"] = str(n)
    args = ferry_args(s, USER, "--workers", "1", "--statedir", state_dir())
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)


def cut_at_every_step(s, prepare):
    """prepare() sets up the servers for one attempt; returns the number of
    steps the run took when it finally ran through."""
    for n in range(1, MAX_STEPS):
        prepare()
        r = run(s, n)
        if r.returncode != CRASHED:
            check(r.returncode == 0, "the run without a crash failed", r)
            identical(s, USER)
            return n - 1
        check("test crash at step %d" % n in r.stderr, "crashed elsewhere than step %d" % n, r)
        again = run(s)
        check(again.returncode == 0, "the rerun after a crash at step %d failed" % n, again)
        identical(s, USER)
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
        conn.logout()

    steps = cut_at_every_step(s, prepare)
    check(steps >= 4, "only %d steps in a delta run" % steps)


if __name__ == "__main__":
    sys.exit(itest.main([first_copy_cut_at_every_step, delta_run_cut_at_every_step]))
