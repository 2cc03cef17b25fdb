#!/usr/bin/env python3
"""Integration tests of the progress display: a throttled sync run under a
pseudo-terminal shows one progress line, redrawn in place, whose figures
are sane (done counts never go back, never above the totals, the totals are
what was copied, the last state says 100%); log lines are never mixed into
it; without a terminal (pipes, TERM=dumb, --noprogress) not one byte of it
is written. A batch (--csv) under a pseudo-terminal shows its account table.
The copies are checked by the oracle.

The pseudo-terminal's output is played on a small terminal model (carriage
return, line feed, erase to end of line or screen, cursor up), so the test
sees the screen a user would see, not only the bytes.
Usage: test_progress.py --bin path/to/imapferry
"""
import errno
import fcntl
import glob
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import itest  # noqa: E402
from itest import check, identical, snap, stat, test  # noqa: E402

COUNT = 40  # messages per account
# The throttled copy under a terminal: enough that its biggest folders take
# several batches, so that the cap's pauses fall inside a folder (where the
# line shows it part done), not only between folders.
LINE_COUNT = 120
SECONDS = 4.0  # what the throttled copy should take
PROGRESS = re.compile(r"(?:folder (\d+)/(\d+) \[[^\]]*\]|(\d+) folders copying, (\d+)/(\d+) "
                      r"begun, last \[[^\]]*\]|(\d+)/(\d+) folders): (\d+)/(\d+) msgs, "
                      r"([0-9.]+)(B|KiB|MiB|GiB)/([0-9.]+)(B|KiB|MiB|GiB) \((\d+)%\), "
                      r"(?:-|[0-9.]+(?:B|KiB|MiB|GiB))/s(?:, ETA \d+:\d\d|, in \d+:\d\d)?")
UNIT = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}


def human(n):
    """progress_human: what the line shows for n bytes."""
    if n < 1024:
        return "%dB" % n
    v, u = n / 1024, 0
    units = ["KiB", "MiB", "GiB", "TiB"]
    while v >= 1024 and u + 1 < len(units):
        v /= 1024
        u += 1
    return "%.1f%s" % (v, units[u])


class Result:
    def __init__(self, args, returncode, raw):
        self.args_shown = " ".join(args[1:])
        self.returncode = returncode
        self.raw = raw
        self.stdout = raw.decode("utf-8", "replace")
        self.stderr = "(stdout and stderr are the same terminal)"


def run_pty(args, env_extra=None, cols=200, rows=50, timeout=300, stdout=None):
    """Runs args with stdin, stdout and stderr on a new pseudo-terminal of
    cols x rows (stdout: a file object to write stdout to instead); returns
    its exit code and every byte it wrote on the terminal."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = dict(os.environ)
    env["TERM"] = "xterm"
    env.update(env_extra or {})
    p = subprocess.Popen(args, stdin=slave, stdout=stdout or slave, stderr=slave, env=env,
                         start_new_session=True, close_fds=True)
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.killpg(p.pid, signal.SIGKILL)
                raise AssertionError("imapferry under a pty did not end in %ds" % timeout)
            ready, _, _ = select.select([master], [], [], min(left, 1.0))
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError as e:  # EIO: every slave end is closed
                if e.errno != errno.EIO:
                    raise
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    p.wait(timeout=60)
    return Result(args, p.returncode, bytes(out))


def screen(raw):
    """The lines a terminal shows after raw (scrolling never loses a line:
    the model's screen is as tall as it needs to be)."""
    lines, row, col = [[]], 0, 0
    text = raw.decode("utf-8", "replace")
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\x1b":
            m = re.match(r"\x1b\[(\d*)([A-Za-z])", text[i:])
            assert m, "unknown escape sequence %r" % text[i:i + 8]
            n, op = int(m.group(1) or 1), m.group(2)
            if op == "K":
                del lines[row][col:]
            elif op == "J":
                del lines[row][col:]
                del lines[row + 1:]
            elif op == "A":
                row = max(0, row - n)
            else:
                raise AssertionError("unexpected escape sequence %r" % m.group(0))
            i += len(m.group(0))
            continue
        if c == "\r":
            col = 0
        elif c == "\n":
            row += 1
            while len(lines) <= row:
                lines.append([])
        else:
            line = lines[row]
            while len(line) < col:
                line.append(" ")
            if col < len(line):
                line[col] = c
            else:
                line.append(c)
            col += 1
        i += 1
    return ["".join(line) for line in lines]


def draws(raw):
    """Every state of the progress line, in the order drawn."""
    return [m for m in PROGRESS.finditer(raw.decode("utf-8", "replace"))]


def fig(m):
    g = m.groups()
    return {"msgs": int(g[7]), "msgs_total": int(g[8]),
            "bytes": float(g[9]) * UNIT[g[10]], "bytes_total": float(g[11]) * UNIT[g[12]],
            "bytes_shown": g[9] + g[10], "total_shown": g[11] + g[12], "pct": int(g[13]),
            "final": g[5] is not None, "folders": (g[5], g[6]), "text": m.group(0)}


def no_progress_at_all(r, what):
    for stream in (r.stdout, r.stderr):
        check("\r" not in stream, "%s: a carriage return was written" % what, r)
        check("\x1b" not in stream, "%s: an escape sequence was written" % what, r)
        check(not PROGRESS.search(stream), "%s: a progress line was written" % what, r)


def logfile_of(r):
    m = re.search(r"^Log file is (\S+)", r.stdout, re.M)
    check(m, "no 'Log file is' line", r)
    with open(m.group(1), encoding="utf-8", errors="replace") as f:
        return f.read()


@test
def line_under_a_terminal(s):
    user = "user1"
    s.host2.reset(user)
    corpus.load(s.host1.imap(user), seed=31, count=LINE_COUNT)
    # A first run without a cap measures the corpus (and copies it); the
    # throttled one then copies it all again into an empty host2.
    r0 = itest.run_ferry(s, user, "--nostate")
    check(r0.returncode == 0, "the measuring run failed", r0)
    size = stat(r0.stdout, "Total bytes transferred")
    n = stat(r0.stdout, "Messages transferred")
    check(n == LINE_COUNT, "want %d messages copied, got %d" % (LINE_COUNT, n), r0)
    no_progress_at_all(r0, "a run on pipes")
    s.host2.reset(user)
    rate = max(int(size / SECONDS), 1000)
    t0 = time.monotonic()
    r = run_pty(itest.ferry_args(s, user, "--nostate", "--maxbytespersecond", str(rate)))
    elapsed = time.monotonic() - t0
    check(r.returncode == 0, "the run under a pty failed", r)
    check(elapsed > SECONDS * 0.6, "the throttled run took only %.1fs" % elapsed, r)
    identical(s, user)
    seen = [fig(m) for m in draws(r.raw)]
    check(len(seen) >= 4, "want the line drawn several times, got %d" % len(seen), r)
    for a, b in zip(seen, seen[1:]):
        check(b["msgs"] >= a["msgs"] and b["bytes"] >= a["bytes"],
              "done went back: %r then %r" % (a["text"], b["text"]), r)
    for f in seen:
        check(f["msgs"] <= f["msgs_total"] <= LINE_COUNT and
              f["bytes"] <= f["bytes_total"] * 1.0001,
              "done over total or total over the corpus: %r" % f["text"], r)
        check(0 <= f["pct"] <= 100, "percentage %r" % f["text"], r)
    mid = [f for f in seen if not f["final"] and 0 < f["pct"] < 100]
    check(mid, "no state between 0 and 100% was drawn", r)
    check(any(", ETA " in f["text"] for f in mid), "no ETA shown", r)
    last = seen[-1]
    check(last["final"] and ", in " in last["text"], "the last state is not the final one: %r"
          % last["text"], r)
    check(sum(1 for f in seen if f["final"]) == 1, "the final state was drawn more than once", r)
    check(last["msgs"] == last["msgs_total"] == LINE_COUNT, "final counts %r" % last["text"], r)
    check(last["pct"] == 100, "final percentage %r" % last["text"], r)
    check(last["bytes_shown"] == last["total_shown"] == human(size),
          "final bytes %r, want %s" % (last["text"], human(size)), r)
    check(last["folders"][0] == last["folders"][1], "not every folder began: %r" % last["text"],
          r)
    # What the user sees: the final line once, on a line of its own, above
    # the statistics, and every log line whole.
    lines = screen(r.raw)
    prog = [i for i, ln in enumerate(lines) if "msgs, " in ln and " msgs" in ln]
    check(len(prog) == 1, "want one progress line left on the screen, got %r"
          % [lines[i] for i in prog], r)
    check(PROGRESS.fullmatch(lines[prog[0]].rstrip()),
          "the progress line is mixed with other text: %r" % lines[prog[0]], r)
    stats = [i for i, ln in enumerate(lines) if ln.startswith("Messages transferred")]
    check(stats and stats[0] > prog[0], "the statistics are not below the progress line", r)
    want = [ln for ln in r0.stdout.splitlines() if ln.startswith("Folder [")]
    got = [ln for ln in lines if ln.startswith("Folder [")]
    check(sorted(want) == sorted(got) and want, "the folder lines on the screen are not the "
          "ones a run on pipes prints:\n%s\n---\n%s" % ("\n".join(want), "\n".join(got)), r)
    check(not PROGRESS.search(logfile_of(r)), "the log file holds progress", r)


@test
def nothing_without_a_terminal(s):
    user = "user2"
    s.host2.reset(user)
    corpus.load(s.host1.imap(user), seed=32, count=COUNT)
    args = itest.ferry_args(s, user, "--nostate", "--maxbytespersecond", "400000")
    env = dict(os.environ, TERM="xterm")
    r = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
    check(r.returncode == 0, "the run on pipes failed", r)
    check(stat(r.stdout, "Messages transferred") == COUNT, "not all copied", r)
    no_progress_at_all(r, "stdout and stderr on pipes")
    identical(s, user)
    # stdout to a file, stderr on the terminal: the line is drawn on stderr
    # only, the file gets the plain lines.
    s.host2.reset(user)
    out_path = os.path.join(itest.WORK, "progress-stdout.txt")
    with open(out_path, "wb") as out:
        r = run_pty(itest.ferry_args(s, user, "--nostate"), stdout=out)
    with open(out_path, "rb") as f:
        r.stdout = f.read().decode("utf-8", "replace")
    check(r.returncode == 0, "stdout to a file: the run failed", r)
    check(stat(r.stdout, "Messages transferred") == COUNT, "stdout to a file: not all copied", r)
    no_progress_at_all(r, "stdout to a file")
    final = [fig(m) for m in draws(r.raw) if fig(m)["final"]]
    check(len(final) == 1 and final[0]["msgs"] == COUNT, "stdout to a file: want the final "
          "line on the terminal, got %r" % r.raw.decode("utf-8", "replace"), r)
    shown = [ln for ln in screen(r.raw) if ln.strip()]
    check(shown == [final[0]["text"]], "stdout to a file: the terminal shows %r" % shown, r)
    identical(s, user)
    for extra_env, extra, what in (({"TERM": "dumb"}, [], "TERM=dumb"),
                                   ({}, ["--noprogress"], "--noprogress")):
        s.host2.reset(user)
        r = run_pty(itest.ferry_args(s, user, "--nostate", *extra), env_extra=extra_env)
        check(r.returncode == 0, "%s: the run failed" % what, r)
        check("Messages transferred" in r.stdout, "%s: no statistics" % what, r)
        check(not PROGRESS.search(r.stdout), "%s: progress was drawn" % what, r)
        check("\x1b" not in r.stdout, "%s: an escape sequence was written" % what, r)
        identical(s, user)


@test
def batch_table_under_a_terminal(s):
    users = ("user1", "user3")
    for u in users:
        s.host2.reset(u)
        s.host1.reset(u)
        corpus.load(s.host1.imap(u), seed=33, count=20)
    rows = ["127.0.0.1;%s;%s;127.0.0.1;%s;%s;--maxbytespersecond 100000" % (
        u, s.host1.password(u), u, s.host2.password(u)) for u in users]
    rows.append("127.0.0.1;user2;WrongPassw0rd;127.0.0.1;user2;%s" % s.host2.password("user2"))
    csv = os.path.join(itest.WORK, "progress.csv")
    with open(csv, "w") as f:
        f.write("\n".join(rows) + "\n")
    logdir = os.path.join(itest.WORK, "batchlogs")
    args = [itest.BIN, "--csv", csv, "--jobs", "2", "--port1", str(s.host1.port),
            "--port2", str(s.host2.port), "--notls1", "--notls2", "--logdir", logdir,
            "--pidfile", os.path.join(itest.WORK, "batch.pid"),
            "--statedir", os.path.join(itest.WORK, "state")]
    r = run_pty(args)
    check(r.returncode == 111, "want exit 111 (one line fails)", r)
    for u in users:
        identical(s, u)
    text = r.raw.decode("utf-8", "replace")
    check(re.search(r"\x1b\[\d+A", text), "the table was never redrawn in place", r)
    check(re.search(r"line 1 +user1@127\.0\.0\.1 -> user1@127\.0\.0\.1  running \d+ s", text),
          "line 1 was never shown running", r)
    check(re.search(r"accounts: 3: 1 waiting, 2 running, 0 done, 0 failed", text),
          "the table never showed two running and one waiting", r)
    lines = screen(r.raw)
    heads = [i for i, ln in enumerate(lines) if ln.startswith("accounts: ")]
    check(len(heads) == 1, "want one table left on the screen, got %d" % len(heads), r)
    h = heads[0]
    check(re.fullmatch(r"accounts: 3: 0 waiting, 0 running, 2 done, 1 failed \(\d+ s\)",
                       lines[h]), "final table head %r" % lines[h], r)
    check(re.fullmatch(r"  line 3 +user2@127\.0\.0\.1 -> user2@127\.0\.0\.1  failed \(auth, exit "
                       r"161\)", lines[h + 1]), "failed row %r" % lines[h + 1], r)
    for k in (2, 3):
        check(re.fullmatch(r"  line [12] +user[13]@\S+ -> user[13]@\S+  done in [0-9.]+ s, 20 "
                           r"msgs copied", lines[h + k]), "done row %r" % lines[h + k], r)
    started = [ln for ln in lines if re.fullmatch(r"line \d: \S+ -> \S+ started", ln)]
    check(len(started) == 3, "the log lines of the batch are not whole: %r" % started, r)
    batch_logs = glob.glob(os.path.join(logdir, "batch-*", "batch.txt"))
    check(len(batch_logs) == 1, "want one batch.txt", r)
    with open(batch_logs[0]) as f:
        check("accounts: " not in f.read(), "the table went into batch.txt", r)


if __name__ == "__main__":
    sys.exit(itest.main([line_under_a_terminal, nothing_without_a_terminal,
                         batch_table_under_a_terminal]))
