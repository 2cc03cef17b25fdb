#!/usr/bin/env python3
"""Integration tests of --workers: several connection pairs syncing folder
pairs at once must leave host2 exactly as one worker does (merged folders
included), finish when the server refuses the extra sessions, wait for few
round trips (--debug counts them) and share one rate limit. Assertions are on the servers' real state through the oracle.
Usage: test_workers.py --bin path/to/imapferry
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import connlimit  # noqa: E402
import corpus  # noqa: E402
import latencyproxy  # noqa: E402
import itest  # noqa: E402
import oracle  # noqa: E402
from itest import check, run_ferry, snap, stat, test  # noqa: E402

# Archive and Archive/2019 both go into host2's INBOX.Archive.
MERGE = ["--regextrans2", "s,^INBOX\\.Archive\\.2019$,INBOX.Archive,"]


@test
def four_workers_same_as_one(s):
    for user in ("user1", "user2"):
        corpus.load(s.host1.imap(user), seed=11, count=200)
    r1 = run_ferry(s, "user1", *MERGE)
    check(r1.returncode == 0, "one worker failed", r1)
    r4 = run_ferry(s, "user2", "--workers", "4", *MERGE)
    check(r4.returncode == 0, "four workers failed", r4)
    check("4 workers" in r4.stdout, "want 4 workers announced", r4)
    check(oracle.compare(snap(s.host2, "user1"), snap(s.host2, "user2")) == [],
          "four workers left host2 different from one worker")
    for label in ("Messages transferred", "Messages skipped", "Total bytes transferred"):
        check(stat(r1.stdout, label) == stat(r4.stdout, label), "%s differs" % label, r4)
    folders = re.findall(r"^Folder \[(.*?)\] -> ", r4.stdout, re.M)
    check(sorted(folders) == sorted(re.findall(r"^Folder \[(.*?)\] -> ", r1.stdout, re.M)),
          "not every folder pair was synced once", r4)
    check("INBOX.Archive" in snap(s.host2, "user2").by_name(), "merged folder missing")
    # A rerun with workers finds everything there.
    r = run_ferry(s, "user2", "--workers", "4", "--nostate", *MERGE)
    check(stat(r.stdout, "Messages transferred") == 0, "rerun copied again", r)


@test
def server_allowing_two_sessions(s):
    """host1 takes 2 sessions at once: the run has 1 worker's pair plus one
    more at most; the rest go without and the copy completes."""
    s.host1.reset("user3")
    s.host2.reset("user3")
    corpus.load(s.host1.imap("user3"), seed=12, count=150)
    with connlimit.ConnLimit(s.host1.port, limit=2) as gate:
        args = itest.ferry_args(s, "user3", "--workers", "4")
        args[args.index("--port1") + 1] = str(gate.port)
        r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "the run failed", r)
    check(gate.refused >= 2, "the gate refused %d sessions, want 2 or more" % gate.refused, r)
    check(r.stdout.count("refused the session: BYE [UNAVAILABLE]") == 2,
          "want the 2 refused workers noted with the server's reason", r)
    itest.identical(s, "user3")


@test
def wrong_password_tried_once(s):
    """On a first run the workers connect while the run's own sessions
    list and create, but only once both are logged in: a wrong password is
    sent once (an account lockout counts attempts), and the other side,
    whose password is right, gets no session besides the run's own."""
    s.host1.reset("user3")
    s.host2.reset("user3")
    corpus.load(s.host1.imap("user3"), seed=12, count=20)
    with latencyproxy.LatencyProxy(s.host1.port, 0) as p1, \
            latencyproxy.LatencyProxy(s.host2.port, 0) as p2:
        args = itest.ferry_args(s, "user3", "--workers", "4", "--nostate")
        args[args.index("--port1") + 1] = str(p1.port)
        args[args.index("--port2") + 1] = str(p2.port)
        args[args.index("--password1") + 1] = "not-the-password"
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
        logins = (p1.verbs["LOGIN"], p2.verbs["LOGIN"])
    check(r.returncode == 161, "want exit 161 (host1 login refused), got %d" % r.returncode, r)
    check(logins == (1, 1), "want one LOGIN a side, got host1 %d, host2 %d" % logins, r)
    check(not re.search(r"^worker \d", r.stdout + r.stderr, re.M), "a worker had something to say",
          r)
    check(snap(s.host2, "user3").by_name().keys() <= {"INBOX"}, "host2 was written to")
    # The right password: the same run copies, with its workers.
    r = run_ferry(s, "user3", "--workers", "4", "--nostate")
    check(r.returncode == 0 and "4 workers" in r.stdout, "the run with workers failed", r)
    itest.identical(s, "user3")


def folder_budget(snapshot):
    """logical folder name -> the body batches its first copy needs at most
    (50 messages or 1 MiB each, copy.c)."""
    out = {}
    for f, c in snapshot.items():
        n = sum(c.values())
        b = sum(k * snapshot.sizes[key[0]] for key, k in c.items())
        out["/".join(f)] = -(-n // 50) + -(-b // (1 << 20))
    return out


@test
def round_trips_counted_and_few(s):
    """--debug counts the round trips each folder waited for: a first copy
    costs host1 its SELECT sent together with the metadata FETCH (the
    STATUS read before the loop says how many to ask for) and the body
    FETCHes, host2 its SELECT, which carries the STATUS of the folder before
    for its state, and the APPEND batches (its CREATE and SUBSCRIBE went
    out for all folders at once, before the folder loop); a rerun with
    state costs four for the whole run, whatever the folder count: the
    greeting, LOGIN, NAMESPACE with LIST and LSUB, and one STATUS round; a
    rerun without state one a folder on each side."""
    user = "user3"
    s.host2.reset(user)
    corpus.load(s.host1.imap(user), seed=13, count=200)
    budget = folder_budget(snap(s.host1, user))
    r = run_ferry(s, user, "--workers", "1", "--debug", "--statedir",
                  os.path.join(itest.WORK, "state-rt"))
    check(r.returncode == 0, "first copy failed", r)
    itest.identical(s, user)
    got = {m[0]: (int(m[1]), int(m[2])) for m in
           re.findall(r"^Folder \[(.*)\]: round trips: host1 (\d+), host2 (\d+)$", r.stdout, re.M)}
    check(set(got) == set(budget), "want a round trip line per folder, got %r" % sorted(got), r)
    for f, (h1, h2) in got.items():
        check(1 <= h1 <= 1 + budget[f] and 1 <= h2 <= 1 + budget[f],
              "folder %s: %d/%d round trips, budget %d + 1" % (f, h1, h2, budget[f]), r)
    # The same body batches on both sides, and one SELECT each: host1's
    # took its listing along (else host1 waits for one more a folder),
    # host2's the STATUS for the state of the folder before (else host2
    # waits for one more a folder: the last folder's goes after the loop).
    # An answer that comes in with the one before costs no wait of its
    # own, so the sums are compared, not each folder's.
    busy = [f for f in got if budget[f]]
    gap = sum(got[f][1] for f in busy) - sum(got[f][0] for f in busy)
    check(2 * abs(gap) < len(busy),
          "host2 waited for %d round trips more than host1 over %d folders: %r"
          % (gap, len(busy), got), r)
    total = re.search(r"^Round trips of the run \(every session\): host1 (\d+), host2 (\d+)$",
                      r.stdout, re.M)
    check(total, "no run total", r)
    # one session per side: greeting, LOGIN, NAMESPACE with LIST and LSUB,
    # the STATUS round (host2's with its CREATEs), besides the folders'
    for side in (0, 1):
        folders = sum(v[side] for v in got.values())
        check(folders < int(total.group(side + 1)) <= folders + 8,
              "host%d: run total %s for %d in the folders" % (side + 1, total.group(side + 1),
                                                               folders), r)
    r = run_ferry(s, user, "--workers", "4", "--debug", "--statedir",
                  os.path.join(itest.WORK, "state-rt"))
    check(stat(r.stdout, "Messages transferred") == 0, "rerun copied", r)
    total = re.search(r"^Round trips of the run \(every session\): host1 (\d+), host2 (\d+)$",
                      r.stdout, re.M)
    print("    no-change rerun: round trips host1 %s, host2 %s" % total.groups() if total else "")
    check(total and int(total.group(1)) <= 4 and int(total.group(2)) <= 4,
          "a rerun with nothing new should wait for 4 round trips a side", r)
    # Without state each folder is listed in full: both SELECTs take their
    # listing along (the STATUS round before the loop said how many).
    r = run_ferry(s, user, "--workers", "4", "--debug", "--nostate")
    check(stat(r.stdout, "Messages transferred") == 0, "--nostate rerun copied", r)
    got = {m[0]: (int(m[1]), int(m[2])) for m in
           re.findall(r"^Folder \[(.*)\]: round trips: host1 (\d+), host2 (\d+)$", r.stdout, re.M)}
    check(set(got) == set(budget) and all(v == (1, 1) for v in got.values()),
          "--nostate rerun: want one round trip a folder on each side, got %r" % got, r)


@test
def one_rate_limit_for_all_workers(s):
    """--maxbytespersecond is one cap for the run, shared by 4 workers, and
    the run keeps to it: measured over the whole run (start, logins and
    listings included), within 20% of the cap either way. ~9 MB at 1 MB/s
    is ~9 s of copying, so the fixed cost (well under a second) stays small,
    and a loaded CI machine still copies faster than the cap."""
    user = "user3"
    s.host1.reset(user)
    s.host2.reset(user)
    corpus.load(s.host1.imap(user), seed=13, count=300)
    rate = 1000000
    t0 = time.monotonic()
    r = run_ferry(s, user, "--workers", "4", "--maxbytespersecond", str(rate), "--nostate")
    elapsed = time.monotonic() - t0
    check(r.returncode == 0, "run failed", r)
    check("4 workers" in r.stdout, "want 4 workers announced", r)
    size = stat(r.stdout, "Total bytes transferred")
    check(size > 8 * rate, "only %d bytes copied: too little to measure" % size, r)
    got = size / elapsed
    print("    %d bytes in %.2f s: %.0f B/s for a cap of %d (%.1f%%)"
          % (size, elapsed, got, rate, 100.0 * got / rate), flush=True)
    check(rate * 0.8 <= got <= rate * 1.2,
          "4 workers went %.0f B/s, not within 20%% of the cap %d" % (got, rate), r)
    itest.identical(s, user)


if __name__ == "__main__":
    sys.exit(itest.main([four_workers_same_as_one, server_allowing_two_sessions,
                         wrong_password_tried_once, round_trips_counted_and_few,
                         one_rate_limit_for_all_workers]))
