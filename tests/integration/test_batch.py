#!/usr/bin/env python3
"""Integration tests of --csv: a batch of six account lines (three good,
one wrong password, one unreachable host, one TLS failure) run three at a
time against two real Dovecot servers, then the failures.csv it wrote,
fixed, run again.

Assertions are on the servers' real state (oracle), the batch folder
(summary.json's structure and values, failures.csv byte for byte, the logs),
the exit codes, and on every child's argv read from /proc while the batch
runs: no password may appear in any of them.
Usage: test_batch.py --bin path/to/imapferry
"""
import glob
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import harness  # noqa: E402
import itest  # noqa: E402
from itest import check, identical, test  # noqa: E402

USERS = ("user1", "user2", "user3")
COUNT = 40  # messages per account
WRONG = "Wr0ngPassw0rd-batch"


def closed_port():
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def passwords(s):
    return [s.host1.password(u) for u in USERS] + [s.host2.password(u) for u in USERS] + [WRONG]


def children_argv(pid, seen, done):
    """Records the argv of every child of pid until done is set."""
    while not done.is_set():
        kids = []
        for e in os.listdir("/proc"):
            if e.isdigit():
                st = harness._proc_stat(int(e))
                if st and st[1] == pid:
                    kids.append(e)
        for k in kids:
            try:
                with open("/proc/%s/cmdline" % k, "rb") as f:
                    argv = f.read()
            except OSError:
                continue
            # Between fork and exec a child still shows the batch's own argv.
            if argv and b"--csv" not in argv:
                seen[k] = argv
        time.sleep(0.001)


def run_batch(s, csv, *extra):
    """Runs imapferry --csv with the harness's ports; returns the result,
    the batch folder and the argv of the children seen while it ran."""
    logdir = os.path.join(itest.WORK, "logs")
    before = set(glob.glob(os.path.join(logdir, "batch-*")))
    args = [itest.BIN, "--csv", csv, "--host1", s.host1.host, "--port1", str(s.host1.port),
            "--host2", s.host2.host, "--port2", str(s.host2.port), "--notls1", "--notls2",
            "--logdir", logdir, "--statedir", os.path.join(itest.WORK, "state"),
            "--pidfile", os.path.join(itest.WORK, "batch.pid")] + list(extra)
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen, done = {}, threading.Event()
    t = threading.Thread(target=children_argv, args=(p.pid, seen, done))
    t.start()
    try:
        out, err = p.communicate(timeout=300)
    finally:
        done.set()
        t.join()
    r = subprocess.CompletedProcess(args, p.returncode, out, err)
    dirs = sorted(set(glob.glob(os.path.join(logdir, "batch-*"))) - before)
    check(len(dirs) == 1, "want one new batch folder, got %r" % dirs, r)
    return r, dirs[0], seen


def read_summary(d, r):
    with open(os.path.join(d, "summary.json")) as f:
        sm = json.load(f)
    want = {"version": int, "imapferry": str, "csv": str, "folder": str, "jobs": int,
            "maxconnsperhost": int, "accounts": int, "succeeded": int, "failed": int,
            "exit_code": int, "duration": (int, float), "lines": list}
    for k, ty in want.items():
        check(isinstance(sm.get(k), ty), "summary.json: %s is %r" % (k, sm.get(k)), r)
    check(sm["version"] == 1 and sm["folder"] == d, "summary.json header %r" % sm, r)
    line_keys = {"line": int, "host1": str, "user1": str, "host2": str, "user2": str,
                 "exit_code": (int, type(None)), "class": str, "duration": (int, float),
                 "messages_transferred": (int, type(None)), "messages_skipped": (int, type(None)),
                 "bytes_transferred": (int, type(None)), "errors": (int, type(None)),
                 "log": (str, type(None)), "reason": (str, type(None))}
    for e in sm["lines"]:
        check(set(e) == set(line_keys), "summary.json line keys %r" % sorted(e), r)
        for k, ty in line_keys.items():
            check(isinstance(e[k], ty), "summary.json line %s: %s is %r" % (e["line"], k, e[k]), r)
    check(sm["accounts"] == len(sm["lines"]) == sm["succeeded"] + sm["failed"],
          "summary.json counts", r)
    return sm


def no_secret_anywhere(s, d, seen, r):
    pw = passwords(s)
    check(seen, "no child process was seen while the batch ran", r)
    for pid, argv in seen.items():
        words = argv.decode("utf-8", "replace").split("\0")
        for p in pw:
            check(p not in argv.decode("utf-8", "replace"),
                  "a password is in the argv of child %s: %r" % (pid, words), r)
        check(any(w.startswith("--passfile1=/dev/fd/") for w in words),
              "child %s got its password another way: %r" % (pid, words), r)
    files = [f for f in glob.glob(os.path.join(d, "*")) if not f.endswith("failures.csv")]
    check(any(f.endswith(".txt") and "/line" in f for f in files), "no per-line log", r)
    for f in files:
        with open(f, "rb") as fh:
            data = fh.read().decode("utf-8", "replace")
        for p in pw:
            check(p not in data, "a password is in %s" % f, r)
    check(oct(os.stat(d).st_mode & 0o777) == "0o700", "batch folder mode", r)
    check(oct(os.stat(os.path.join(d, "failures.csv")).st_mode & 0o777) == "0o600",
          "failures.csv mode", r)
    for p in pw:
        check(p not in r.stdout + r.stderr, "a password is in the batch's output", r)


@test
def batch_with_failures_then_retry(s):
    counts = {}
    for n, u in enumerate(USERS):
        s.host2.reset(u)
        s.host1.reset(u)
        summary = corpus.load(s.host1.imap(u), seed=40 + n, count=COUNT)
        counts[u] = sum(summary.values()) if isinstance(summary, dict) else COUNT
    closed = closed_port()
    bad = os.path.join(itest.WORK, "state bad")
    good = ["# three good accounts, then three bad ones",
            "127.0.0.1;user1;%s;127.0.0.1;user1;%s" % (s.host1.password("user1"),
                                                      s.host2.password("user1")),
            "",
            " 127.0.0.1 ; user2 ;%s;127.0.0.1;user2;%s;--timeout 60" % (
                s.host1.password("user2"), s.host2.password("user2")),
            # No password field: the line's --passfile2 (a quoted name) is used.
            "127.0.0.1;user3;%s;127.0.0.1;user3;;--passfile2 '%s'" % (
                s.host1.password("user3"), os.path.join(itest.WORK, "pw2 user3"))]
    with open(os.path.join(itest.WORK, "pw2 user3"), "w") as f:
        f.write(s.host2.password("user3") + "\n")
    # Each bad line has its own state folder: the pair lock would otherwise
    # make it wait for (exit 8 against) the good line of the same account.
    bad_lines = [
        "127.0.0.1;user1;%s;127.0.0.1;user1;%s;--statedir '%s1'" % (
            WRONG, s.host2.password("user1"), bad),
        "127.0.0.1;user2;%s;127.0.0.1;user2;%s;--port1 %d --statedir \"%s2\"" % (
            s.host1.password("user2"), s.host2.password("user2"), closed, bad),
        "127.0.0.1;user3;%s;127.0.0.1;user3;%s;--ssl1 --statedir %s3" % (
            s.host1.password("user3"), s.host2.password("user3"), bad.replace(" ", "\\ ")),
    ]
    csv = os.path.join(itest.WORK, "users.csv")
    with open(csv, "w") as f:
        f.write("\n".join(good + bad_lines) + "\n")
    r, d, seen = run_batch(s, csv, "--jobs", "3")
    check(r.returncode == 111, "want exit 111", r)
    for u in USERS:
        identical(s, u)
    with open(os.path.join(d, "failures.csv")) as f:
        check(f.read() == "\n".join(bad_lines) + "\n", "failures.csv is not the 3 bad lines", r)
    sm = read_summary(d, r)
    check(sm["jobs"] == 3 and sm["exit_code"] == 111 and sm["failed"] == 3, "summary header", r)
    got = {e["line"]: e for e in sm["lines"]}
    check(sorted(got) == [2, 4, 5, 6, 7, 8], "summary lines %r" % sorted(got), r)
    for line, u in ((2, "user1"), (4, "user2"), (5, "user3")):
        e = got[line]
        check(e["class"] == "ok" and e["exit_code"] == 0 and e["reason"] is None,
              "line %d: %r" % (line, e), r)
        check((e["host1"], e["user1"], e["host2"], e["user2"]) ==
              ("127.0.0.1", u, "127.0.0.1", u), "line %d names %r" % (line, e), r)
        check(e["messages_transferred"] == counts[u], "line %d transferred %r, want %d" % (
            line, e["messages_transferred"], counts[u]), r)
        check(e["log"] and os.path.isfile(e["log"]), "line %d has no log" % line, r)
    for line, cls, code in ((6, "auth", 161), (7, "connection", 101), (8, "tls", 12)):
        e = got[line]
        check(e["class"] == cls and e["exit_code"] == code and e["reason"],
              "line %d: want %s/%d, got %r" % (line, cls, code, e), r)
    table = r.stdout[r.stdout.index("\nline "):]
    for line, cls in ((6, "auth"), (7, "connection"), (8, "tls")):
        check(any(t.split()[:2] == [str(line), cls] for t in table.splitlines()),
              "the failure table lacks line %d (%s)" % (line, cls), r)
    no_secret_anywhere(s, d, seen, r)

    # Fix the three lines, give each account one new message, retry them
    # one at a time: with both hosts on 127.0.0.1, a budget of 2 sessions
    # per server lets only one job run.
    fixed = [bad_lines[0].replace(WRONG, s.host1.password("user1")),
             bad_lines[1].replace("--port1 %d " % closed, ""),
             bad_lines[2].replace("--ssl1 ", "")]
    for n, u in enumerate(USERS):
        corpus.append_one(s.host1.imap(u), ("INBOX",),
                          corpus.make_message(corpus.random.Random(500 + n)), (r"\Seen",))
    retry = os.path.join(d, "failures.csv")
    with open(retry, "w") as f:
        f.write("\n".join(fixed) + "\n")
    r, d2, seen = run_batch(s, retry, "--jobs", "3", "--maxconnsperhost", "2")
    check(r.returncode == 0, "want exit 0 after the fix", r)
    for u in USERS:
        identical(s, u)
    sm = read_summary(d2, r)
    check(sm["failed"] == 0 and sm["succeeded"] == 3 and sm["maxconnsperhost"] == 2,
          "retry summary %r" % sm, r)
    check([e["messages_transferred"] for e in sm["lines"]] == [1, 1, 1],
          "each retried line should copy its one new message", r)
    with open(os.path.join(d2, "failures.csv")) as f:
        check(f.read() == "", "failures.csv of a clean batch is not empty", r)
    running = peak = 0
    for ln in r.stdout.splitlines():
        if ln.startswith("line ") and ln.endswith(" started"):
            running += 1
            peak = max(peak, running)
        elif ln.startswith("line ") and (" done in " in ln or " FAILED " in ln):
            running -= 1
    check(peak == 1, "--maxconnsperhost 2 let %d jobs run at once" % peak, r)
    no_secret_anywhere(s, d2, seen, r)


@test
def bad_csv_runs_nothing(s):
    s.host2.reset("user1")
    csv = os.path.join(itest.WORK, "bad.csv")
    with open(csv, "w") as f:
        f.write("127.0.0.1;user1;%s;127.0.0.1;user1;%s\n" % (s.host1.password("user1"),
                                                            s.host2.password("user1")))
        f.write("127.0.0.1;user2;%s;127.0.0.1;user2\n" % s.host1.password("user2"))
    logdir = os.path.join(itest.WORK, "badlogs")
    r = subprocess.run([itest.BIN, "--csv", csv, "--logdir", logdir], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 64, "want exit 64", r)
    check("line 2: 5 fields where 6 are needed" in r.stderr, "want the line named", r)
    check(s.host1.password("user2") not in r.stderr, "the password is in the error", r)
    check(not os.path.exists(logdir), "a refused batch made its folder", r)
    c = s.host2.imap("user1")
    typ, data = c.select("INBOX")
    check(int(data[0]) == 0, "a refused batch synced line 1")
    c.logout()


@test
def rate_caps_are_shared_by_the_jobs(s):
    """--maxbytespersecond on the command line is the batch's: each of the
    --jobs accounts gets its share; a line's own cap is its own. The copies
    are checked by the oracle."""
    for u in ("user2", "user3"):
        s.host2.reset(u)
    csv = os.path.join(itest.WORK, "rates.csv")
    with open(csv, "w") as f:
        f.write("127.0.0.1;user2;%s;127.0.0.1;user2;%s\n"
                % (s.host1.password("user2"), s.host2.password("user2")))
        f.write("127.0.0.1;user3;%s;127.0.0.1;user3;%s;--maxbytespersecond 700000\n"
                % (s.host1.password("user3"), s.host2.password("user3")))
    r, d, seen = run_batch(s, csv, "--jobs", "2", "--maxbytespersecond", "3000000",
                           "--maxmessagespersecond", "500")
    check(r.returncode == 0, "the batch failed", r)
    argvs = [a.split(b"\0") for a in seen.values()]
    caps = sorted(x for a in argvs for x in a
                  if x.startswith(b"--maxbytespersecond="))
    # user2's child counts into the batch's one bucket, so it gets the
    # whole caps; user3's line has a cap of its own and counts alone, with
    # its share of the batch's other cap.
    check(caps == [b"--maxbytespersecond=3000000", b"--maxbytespersecond=700000"],
          "want the batch's cap whole and the line's kept, got %r" % caps, r)
    msg_caps = sorted(x for a in argvs for x in a if x.startswith(b"--maxmessagespersecond="))
    check(msg_caps == [b"--maxmessagespersecond=250", b"--maxmessagespersecond=500"],
          "want the message cap whole for the shared job, halved for the other: %r" % msg_caps, r)
    for u in ("user2", "user3"):
        identical(s, u)


def host1_bytes(s, u):
    snap = itest.snap(s.host1, u)
    return sum(n * snap.sizes[key[0]] for c in snap.values() for key, n in c.items())


@test
def one_rate_limit_for_the_whole_batch(s):
    """Three accounts, --jobs 3, one byte cap: user1 holds most of the
    bytes, so with the cap split three ways its job alone would take about
    1.8 times what the cap implies for the sum; with one bucket for all the
    batch ends when the sum of the bytes at the cap says (within 20%)."""
    corpus.load(s.host1.imap("user1"), seed=50, count=2 * COUNT)
    for u in USERS:
        s.host2.reset(u)
    total = sum(host1_bytes(s, u) for u in USERS)
    want = 5.0  # seconds at the cap
    rate = int(total / want)
    csv = os.path.join(itest.WORK, "onebucket.csv")
    with open(csv, "w") as f:
        for u in USERS:
            f.write("127.0.0.1;%s;%s;127.0.0.1;%s;%s\n"
                    % (u, s.host1.password(u), u, s.host2.password(u)))
    r, d, seen = run_batch(s, csv, "--jobs", "3", "--maxbytespersecond", str(rate))
    check(r.returncode == 0, "the batch failed", r)
    sm = read_summary(d, r)
    copied = sum(e["bytes_transferred"] for e in sm["lines"])
    check(copied == total, "copied %d bytes, host1 holds %d" % (copied, total), r)
    took, cap_says = sm["duration"], copied / rate
    check(abs(took - cap_says) <= 0.2 * cap_says,
          "the batch took %.1fs, the cap says %.1fs for %d bytes" % (took, cap_says, copied), r)
    argvs = [a.split(b"\0") for a in seen.values()]
    check(argvs and all(("--maxbytespersecond=%d" % rate).encode() in a for a in argvs),
          "want every job to get the whole cap", r)
    check(oct(os.stat(os.path.join(d, "ratelimit")).st_mode & 0o777) == "0o600",
          "rate limit file mode", r)
    for u in USERS:
        identical(s, u)


if __name__ == "__main__":
    sys.exit(itest.main([batch_with_failures_then_retry, bad_csv_runs_nothing,
                         rate_caps_are_shared_by_the_jobs, one_rate_limit_for_the_whole_batch]))
