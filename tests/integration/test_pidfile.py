#!/usr/bin/env python3
"""Integration tests of the pid file and the log file against planted files
(FIFO, symlink, another user's file, hard link), of --pidfilelocking with
two runs started at the same instant, stale pids and foreign locks, and of
the default pid file location. Assertions are on exit codes, the one error
line, the planted files (untouched) and the servers' real state (oracle).
Usage: test_pidfile.py --bin path/to/imapferry
"""
import fcntl
import os
import pwd
import shutil
import stat as st_
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import itest  # noqa: E402
import oracle  # noqa: E402
from itest import check, ferry_args, identical, run_ferry, snap, test  # noqa: E402

# host1's user1 gets a small corpus that host2 lacks, so a run that was
# wrongly let through would show on host2.
USER = "user1"
COUNT = 40
QUICK = 20  # seconds: a refused run must end long before this


def scratch(name):
    d = os.path.join(itest.WORK, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def run_quick(s, *extra, env=None, **kw):
    """A run that must end quickly; a hang (e.g. on a FIFO) fails the test
    through the timeout instead of blocking the suite."""
    args = ferry_args(s, USER, *extra, **kw)
    t0 = time.monotonic()
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=QUICK, env=env)
    except subprocess.TimeoutExpired:
        raise AssertionError("imapferry hung (over %d s): %s" % (QUICK, " ".join(extra)))
    r.elapsed = time.monotonic() - t0
    return r


def refused(s, r, code, *words):
    check(r.returncode == code, "want exit %d" % code, r)
    line = [l for l in r.stderr.splitlines() if l.startswith("imapferry:")]
    check(line and all(w in line[0] for w in words),
          "want one error line naming %r" % (words,), r)


def host2_untouched(s, before):
    check(oracle.compare(before, snap(s.host2, USER)) == [], "the refused run touched host2")


@test
def setup(s):
    corpus.load(s.host1.imap(USER), seed=11, count=COUNT)
    s.host2.reset(USER)


@test
def pidfile_fifo_refused(s):
    d = scratch("fifo")
    path = os.path.join(d, "run.pid")
    os.mkfifo(path, 0o600)
    before = snap(s.host2, USER)
    for locking in ((), ("--pidfilelocking",)):
        r = run_quick(s, "--pidfile", path, *locking)
        refused(s, r, 8, path, "FIFO")
        check(r.elapsed < 10, "a FIFO pid file took %.1f s to refuse" % r.elapsed, r)
    check(st_.S_ISFIFO(os.lstat(path).st_mode), "the FIFO was replaced")
    host2_untouched(s, before)


@test
def pidfile_symlink_refused(s):
    d = scratch("symlink")
    target = os.path.join(d, "precious")
    with open(target, "w") as f:
        f.write("precious data\n")
    path = os.path.join(d, "run.pid")
    os.symlink(target, path)
    dangling = os.path.join(d, "dangling.pid")
    os.symlink(os.path.join(d, "created-through-link"), dangling)
    before = snap(s.host2, USER)
    for locking in ((), ("--pidfilelocking",)):
        r = run_quick(s, "--pidfile", path, *locking)
        refused(s, r, 8, path, "symbolic link")
        r = run_quick(s, "--pidfile", dangling, *locking)
        refused(s, r, 8, dangling, "symbolic link")
    with open(target) as f:
        check(f.read() == "precious data\n", "the symlink's target was written")
    check(os.path.islink(path), "the symlink was replaced")
    check(not os.path.exists(os.path.join(d, "created-through-link")),
          "a file was created through a dangling symlink")
    # A directory and a second hard link are refused the same way.
    os.mkdir(os.path.join(d, "dir.pid"))
    r = run_quick(s, "--pidfile", os.path.join(d, "dir.pid"))
    refused(s, r, 8, "dir.pid", "directory")
    os.link(target, os.path.join(d, "hard.pid"))
    r = run_quick(s, "--pidfile", os.path.join(d, "hard.pid"))
    refused(s, r, 8, "hard.pid", "hard links")
    with open(target) as f:
        check(f.read() == "precious data\n", "the hard link's other name was written")
    host2_untouched(s, before)


@test
def pidfile_foreign_refused(s):
    d = scratch("foreign")
    path = os.path.join(d, "run.pid")
    with open(path, "w") as f:
        f.write("1\n")
    nobody = pwd.getpwnam("nobody").pw_uid
    os.chown(path, nobody, -1)
    before = snap(s.host2, USER)
    for locking in ((), ("--pidfilelocking",)):
        r = run_quick(s, "--pidfile", path, *locking)
        refused(s, r, 8, path, "belongs to uid %d" % nobody)
    with open(path) as f:
        check(f.read() == "1\n", "another user's pid file was written")
    check(os.stat(path).st_uid == nobody, "another user's pid file was replaced")
    host2_untouched(s, before)


@test
def concurrent_starts_one_runs(s):
    """Two --pidfilelocking runs started at the same instant on one pid
    file, with no file, then with a stale one (both used to unlink it and
    both win): exactly one syncs, the other exits 8 naming it."""
    d = scratch("concurrent")
    path = os.path.join(d, "run.pid")
    dead = subprocess.Popen(["true"])
    dead.wait()
    for rnd, stale in enumerate((False, True, False, True)):
        s.host2.reset(USER)
        if stale:
            with open(path, "w") as f:
                f.write("%d\n" % dead.pid)
        args = ferry_args(s, USER, "--pidfile", path, "--pidfilelocking")
        ps = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(2)]
        outs = []
        for p in ps:
            try:
                out, err = p.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                for q in ps:
                    q.kill()
                raise AssertionError("round %d: a run hung" % rnd)
            outs.append((p.pid, p.returncode, out, err))
        codes = sorted(o[1] for o in outs)
        detail = "\n".join("pid %d exit %d\n%s%s" % o for o in outs)
        check(codes == [0, 8], "round %d (stale=%s): want exits [0, 8], got %s\n%s"
              % (rnd, stale, codes, detail))
        win = [o for o in outs if o[1] == 0][0]
        lose = [o for o in outs if o[1] == 8][0]
        check("locked by process %d" % win[0] in lose[3],
              "round %d: the refused run does not name the running one\n%s" % (rnd, detail))
        check(not os.path.exists(path), "round %d: the pid file was left behind" % rnd)
        # No duplicates, nothing missing: host2 holds host1's messages once.
        identical(s, USER)


@test
def account_pair_locked_without_pidfilelocking(s):
    """Two default runs (no --pidfilelocking, each its own pid file) on one
    account pair used to copy everything twice: the pair's lock in the
    state directory lets one through, the other exits 8."""
    d = scratch("pairlock")
    state = os.path.join(d, "state")
    refused = 0
    for rnd in range(3):
        s.host2.reset(USER)
        ps = [subprocess.Popen(ferry_args(s, USER, "--statedir", state, "--pidfile",
                                          os.path.join(d, "run%d.pid" % k)),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for k in range(2)]
        outs = []
        for p in ps:
            out, err = p.communicate(timeout=120)
            outs.append((p.pid, p.returncode, out, err))
        codes = sorted(o[1] for o in outs)
        detail = "\n".join("pid %d exit %d\n%s%s" % o for o in outs)
        check(codes in ([0, 0], [0, 8]), "round %d: want exits [0, 8] (or [0, 0] when one "
              "ended first), got %s\n%s" % (rnd, codes, detail))
        for o in outs:
            if o[1] == 8:
                refused += 1
                check("another imapferry run (pid" in o[3], "the refused run says why\n" + detail)
        identical(s, USER)
    check(refused > 0, "no round overlapped: the test proved nothing")
    # A lock held by someone else: the run stops at once, host2 untouched.
    locks = [os.path.join(state, e, "lock") for e in os.listdir(state)]
    check(len(locks) == 1, "want one pair directory under --statedir, got %r" % locks)
    s.host2.reset(USER)
    before = snap(s.host2, USER)
    with open(locks[0], "r+") as f:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = run_ferry(s, USER, "--statedir", state, "--nostate", "--pidfile", "")
        check(r.returncode == 8 and "another imapferry run (pid %d)" % os.getpid() in r.stderr,
              "a held pair lock: want exit 8 naming this process", r)
        check(oracle.compare(before, snap(s.host2, USER)) == [], "host2 changed", r)
    r = run_ferry(s, USER, "--statedir", state, "--pidfile", "")
    check(r.returncode == 0, "the lock released: the run goes on", r)
    identical(s, USER)


@test
def stale_or_foreign_pid_lock_decides(s):
    d = scratch("stale")
    path = os.path.join(d, "run.pid")
    dead = subprocess.Popen(["true"])
    dead.wait()
    # A dead pid, then a live pid that holds no lock (this test's own):
    # the lock decides, so both runs go on and clean up.
    for pid, note in ((dead.pid, "removed the old pid file"),
                      (os.getpid(), "holds no lock")):
        with open(path, "w") as f:
            f.write("%d\n" % pid)
        r = run_quick(s, "--pidfile", path, "--pidfilelocking", "--justlogin")
        check(r.returncode == 0 and note in r.stdout, "pid %d in the file blocked the run" % pid,
              r)
        check(not os.path.exists(path), "the pid file was left behind")
    # A lock held by another process, with a dead pid written inside: refused
    # with locking (naming the holder), overwritten with a warning without.
    with open(path, "w") as f:
        f.write("%d\n" % dead.pid)
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        before = snap(s.host2, USER)
        r = run_quick(s, "--pidfile", path, "--pidfilelocking", "--justlogin")
        refused(s, r, 8, path, "locked by process %d" % os.getpid())
        # Read through the locking fd: closing any other fd of the file
        # would drop this process's fcntl lock.
        check(os.pread(fd, 100, 0) == b"%d\n" % dead.pid, "the refused run wrote the pid file")
        host2_untouched(s, before)
        r = run_quick(s, "--pidfile", path, "--justlogin")
        check(r.returncode == 0 and "in use by process %d" % os.getpid() in r.stdout,
              "without --pidfilelocking the run should go on with a warning", r)
        check(os.path.exists(path), "a pid file locked by another process was removed")
    finally:
        os.close(fd)


@test
def default_pidfile_per_user(s):
    """No --pidfile: $XDG_RUNTIME_DIR/imapferry.pid when that is our private
    folder, else $TMPDIR/imapferry-UID.pid. A FIFO planted at the expected
    place shows which path was used (exit 8 naming it)."""
    xdg = scratch("xdg")
    os.chmod(xdg, 0o700)
    tmp = scratch("tmpdir")
    os.mkfifo(os.path.join(xdg, "imapferry.pid"))
    uidname = os.path.join(tmp, "imapferry-%d.pid" % os.geteuid())
    os.mkfifo(uidname)
    env = dict(os.environ, XDG_RUNTIME_DIR=xdg, TMPDIR=tmp)
    r = run_quick(s, "--justlogin", env=env, pidfile=False)
    refused(s, r, 8, os.path.join(xdg, "imapferry.pid"), "FIFO")
    os.chmod(xdg, 0o777)  # writable by others: not a private folder
    r = run_quick(s, "--justlogin", env=env, pidfile=False)
    refused(s, r, 8, uidname, "FIFO")
    del env["XDG_RUNTIME_DIR"]
    r = run_quick(s, "--justlogin", env=env, pidfile=False)
    refused(s, r, 8, uidname, "FIFO")
    os.unlink(uidname)
    r = run_quick(s, "--justlogin", env=env, pidfile=False)
    check(r.returncode == 0 and not os.path.exists(uidname), "the default pid file run failed", r)


@test
def logfile_traps_refused(s):
    d = scratch("logtrap")
    target = os.path.join(d, "precious")
    with open(target, "w") as f:
        f.write("precious data\n")
    logdir = os.path.join(d, "logs")
    os.makedirs(logdir)
    os.symlink(target, os.path.join(logdir, "link.txt"))
    os.mkfifo(os.path.join(logdir, "fifo.txt"))
    with open(os.path.join(logdir, "foreign.txt"), "w") as f:
        f.write("theirs\n")
    nobody = pwd.getpwnam("nobody").pw_uid
    os.chown(os.path.join(logdir, "foreign.txt"), nobody, -1)
    before = snap(s.host2, USER)
    for name, what in (("link.txt", "symbolic link"), ("fifo.txt", "FIFO"),
                       ("foreign.txt", "belongs to uid %d" % nobody)):
        r = run_quick(s, "--logdir", logdir, "--logfile", name, logdir=False)
        refused(s, r, 1, os.path.join(logdir, name), what)
    with open(target) as f:
        check(f.read() == "precious data\n", "the log symlink's target was written")
    with open(os.path.join(logdir, "foreign.txt")) as f:
        check(f.read() == "theirs\n", "another user's log file was written")
    host2_untouched(s, before)
    # Our own file is appended to, as before, with mode 0600 when created.
    r = run_quick(s, "--logdir", logdir, "--logfile", "ours.txt", "--justlogin", logdir=False)
    check(r.returncode == 0, "a fresh log file was refused", r)
    mode = st_.S_IMODE(os.stat(os.path.join(logdir, "ours.txt")).st_mode)
    check(mode == 0o600, "log file mode %o, want 600" % mode)
    size = os.path.getsize(os.path.join(logdir, "ours.txt"))
    r = run_quick(s, "--logdir", logdir, "--logfile", "ours.txt", "--justlogin", logdir=False)
    check(r.returncode == 0 and os.path.getsize(os.path.join(logdir, "ours.txt")) > size,
          "our own log file should be appended to", r)


if __name__ == "__main__":
    sys.exit(itest.main([setup, pidfile_fifo_refused, pidfile_symlink_refused,
                         pidfile_foreign_refused, concurrent_starts_one_runs,
                         account_pair_locked_without_pidfilelocking,
                         stale_or_foreign_pid_lock_decides, default_pidfile_per_user,
                         logfile_traps_refused]))
