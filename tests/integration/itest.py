"""Shared pieces of the integration tests: running imapferry against the
harness's servers, reading its statistics, asserting through the oracle,
and a tiny runner that prints `N passed, N failed`."""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import oracle
from harness import Servers

BIN = None
COUNT = 300
WORK = None  # per-run scratch dir: log files, pid files
results = []


def ferry_args(s, user, *extra, pw1=None, pw2=None, port2=None, notls=True, logdir=True,
               pidfile=True):
    args = [BIN,
            "--host1", s.host1.host, "--port1", str(s.host1.port),
            "--user1", user, "--password1", pw1 or s.host1.password(user),
            "--host2", s.host2.host, "--port2", str(port2 or s.host2.port),
            "--user2", user, "--password2", pw2 or s.host2.password(user)]
    if notls:
        args += ["--notls1", "--notls2"]
    # Keep logs and pid files out of the source tree and away from other runs.
    if logdir:
        args += ["--logdir", os.path.join(WORK, "logs")]
    if pidfile:
        args += ["--pidfile", os.path.join(WORK, "imapferry.pid")]
    # State (folder pairs left alone when unchanged) stays in the scratch
    # dir too, unless the test picks its own.
    if "--statedir" not in extra:
        args += ["--statedir", os.path.join(WORK, "state")]
    return args + list(extra)


def run_ferry(s, user, *extra, env=None, **kw):
    t0 = time.monotonic()
    r = subprocess.run(ferry_args(s, user, *extra, **kw), capture_output=True, text=True,
                       timeout=600, env=env)
    r.elapsed = time.monotonic() - t0
    return r


def stat(out, label):
    m = re.search(r"^%s\s*:\s*(\d+)" % re.escape(label), out, re.M)
    assert m, "no '%s' line in the output:\n%s" % (label, out)
    return int(m.group(1))


def snap(host, user):
    return oracle.snapshot(host.host, host.port, user, host.password(user))


def check(cond, what, r=None):
    if not cond:
        detail = ""
        if r is not None:
            shown = getattr(r, "args_shown", None)
            detail = ("\n--- imapferry %s" % shown) if shown else ""
            detail += "\n--- exit %s\n--- stdout\n%s\n--- stderr\n%s" % (r.returncode, r.stdout,
                                                                          r.stderr)
        raise AssertionError(what + detail)


def identical(s, user):
    diffs = oracle.compare(snap(s.host1, user), snap(s.host2, user))
    check(not diffs, "host2 differs from host1:\n" + "\n".join(diffs[:40]))


def test(fn):
    def wrapper(s):
        t0 = time.monotonic()
        try:
            fn(s)
        except Exception as e:  # report and go on with the next test
            results.append((fn.__name__, False))
            print("FAIL %s: %s" % (fn.__name__, e), flush=True)
        else:
            results.append((fn.__name__, True))
            print("ok   %s (%.1fs)" % (fn.__name__, time.monotonic() - t0), flush=True)
    wrapper.__name__ = fn.__name__
    return wrapper


def main(tests, **servers_kw):
    """Parses --bin/--count, runs each test with one pair of servers."""
    global BIN, COUNT, WORK
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--count", type=int,
                    default=int(os.environ.get("IMAPFERRY_TEST_COUNT", COUNT)))
    a = ap.parse_args()
    BIN, COUNT = os.path.abspath(a.bin), a.count
    with tempfile.TemporaryDirectory(prefix="imapferry-test-") as work:
        WORK = work
        with Servers(**servers_kw) as s:
            for t in tests:
                t(s)
    failed = sum(1 for _, ok in results if not ok)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0
