#!/usr/bin/env python3
"""Integration tests of the everyday options: login mechanisms, password
sources, secrets kept out of every output, the pid file, the log file,
--justlogin and signals. Assertions are on the servers' real state (oracle),
the servers' own logs, files and process listings.
Usage: test_options.py --bin path/to/imapferry
"""
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import fake_imapd  # noqa: E402
import itest  # noqa: E402
from loopserver import LoopbackServer  # noqa: E402
import oracle  # noqa: E402
from itest import check, ferry_args, identical, run_ferry, snap, stat, test  # noqa: E402


def log_tail(host, since):
    with open(host.log_path, errors="replace") as f:
        f.seek(since)
        return f.read()


def log_size(host):
    return os.path.getsize(host.log_path)


class SilentServer(LoopbackServer):
    """Accepts connections and never answers: a host2 that hangs at the
    greeting, so a run stays alive long enough to be inspected."""

    def __init__(self):
        self.connected = threading.Event()
        self.conns = []
        self.listen(8)

    def _accepted(self, c):
        self.conns.append(c)
        self.connected.set()

    def close(self):
        LoopbackServer.close(self)
        for c in self.conns:
            c.close()


def start_hanging(s, user, *extra):
    """Starts a run whose host2 never greets; returns once it is stuck there
    (host1 is logged in by then, since host1 is opened first)."""
    hang = SilentServer()
    args = ferry_args(s, user, *extra, port2=hang.port)
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check(hang.connected.wait(15), "the run never reached host2")
    return p, hang


@test
def login_mechanisms(s):
    user = "user1"
    for mech1, mech2 in (("PLAIN", "CRAM-MD5"), ("CRAM-MD5", "LOGIN")):
        n1, n2 = log_size(s.host1), log_size(s.host2)
        r = run_ferry(s, user, "--justlogin", "--authmech1", mech1, "--authmech2", mech2.lower())
        check(r.returncode == 0, "--authmech %s/%s failed" % (mech1, mech2), r)
        check(re.search(r"^host1: capabilities: .*IMAP4rev1", r.stdout, re.M),
              "--justlogin shows no capabilities", r)
        check("Messages transferred" not in r.stdout, "--justlogin went on syncing", r)
        for host, mech, since in ((s.host1, mech1, n1), (s.host2, mech2, n2)):
            # Dovecot logs the IMAP LOGIN command as method=PLAIN.
            mech = "PLAIN" if mech == "LOGIN" else mech
            text = log_tail(host, since)
            check(re.search(r"Login: user=<%s>, method=%s" % (user, mech), text),
                  "%s's log shows no %s login:\n%s" % (host.name, mech, text[-2000:]))
    r = run_ferry(s, user, "--justlogin", "--authmech2", "PLAIN", pw2="wrong")
    check(r.returncode == 162, "PLAIN with a wrong password should exit 162", r)
    r = run_ferry(s, user, "--justlogin", "--authmech1", "DIGEST-MD5")
    check(r.returncode == 64 and "--authmech1 DIGEST-MD5 is not supported" in r.stderr,
          "an unknown mechanism should be a usage error", r)


@test
def authuser_master_login(s):
    # --authuser2: an admin identity logs in for the user's mailbox (SASL
    # PLAIN with an authorization identity), Dovecot's master-user setup.
    masters = os.path.join(itest.WORK, "masters")
    with open(masters, "w") as f:
        f.write("admin:{PLAIN}adminpw::::::\n")
    os.chmod(masters, 0o644)
    os.chmod(itest.WORK, 0o755)
    h = s.add_host("h2master", layout="host2", extra_config=(
        "passdb {\n  driver = passwd-file\n  master = yes\n  args = %s\n}\n" % masters))
    args = ferry_args(s, "user1", "--justlogin", "--authuser2", "admin", port2=h.port,
                      pw2="adminpw")
    n = log_size(h)
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "--authuser2 admin failed", r)
    check(re.search(r"Login: user=<user1>, method=PLAIN", log_tail(h, n)),
          "h2master's log shows no PLAIN login into user1's mailbox")
    args = ferry_args(s, "user1", "--justlogin", "--authuser2", "admin", port2=h.port,
                      pw2="not-adminpw")
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    check(r.returncode == 162 and "by admin" in r.stderr, "a wrong admin password: want 162", r)


@test
def password_sources(s):
    user = "user2"
    corpus.load(s.host1.imap(user), seed=5, count=8)
    pf = os.path.join(itest.WORK, "pass1")
    with open(pf, "w") as f:
        f.write(s.host1.password(user) + "\n")
    args = [a for a in ferry_args(s, user, "--passfile1", pf)]
    # Drop --password1/--password2 and take host2's from the environment.
    for opt in ("--password1", "--password2"):
        i = args.index(opt)
        del args[i:i + 2]
    env = dict(os.environ, IMAPSYNC_PASSWORD2=s.host2.password(user))
    r = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    check(r.returncode == 0, "--passfile1 + IMAPSYNC_PASSWORD2 failed", r)
    identical(s, user)
    r = run_ferry(s, user, "--passfile1", "/nonexistent/pass")
    check(r.returncode == 0, "--password1 must win over --passfile1", r)
    i = args.index("--passfile1")
    args[i + 1] = "/nonexistent/pass"
    r = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    check(r.returncode == 66 and "/nonexistent/pass" in r.stderr,
          "an unreadable --passfile1 should exit 66 naming the file", r)


@test
def secrets_never_shown(s):
    user = "user3"
    pw1, pw2 = s.host1.password(user), s.host2.password(user)
    corpus.load(s.host1.imap(user), seed=6, count=5)
    logdir = os.path.join(itest.WORK, "secret-logs")
    # A run that is alive long enough to be seen by ps.
    p, hang = start_hanging(s, user, "--logdir", logdir, "--timeout2", "20")
    try:
        ps = subprocess.run(["ps", "-ww", "-o", "args=", "-p", str(p.pid)], capture_output=True,
                            text=True).stdout
        with open("/proc/%d/cmdline" % p.pid, "rb") as f:
            cmdline = f.read().decode(errors="replace")
    finally:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        hang.close()
    check("--password1" in ps and "imapferry" in ps, "ps did not show the run: %r" % ps)
    check(pw1 not in ps and pw2 not in ps and pw1 not in cmdline and pw2 not in cmdline,
          "a password is visible in ps: %r" % ps)
    # A complete run, then a refused login: nothing anywhere names a password.
    r = run_ferry(s, user, "--logdir", logdir)
    check(r.returncode == 0, "sync failed", r)
    r2 = run_ferry(s, user, "--logdir", logdir, pw2="Wr0ngPassw0rd")
    check(r2.returncode == 162, "want 162", r2)
    logs = ""
    for name in os.listdir(logdir):
        path = os.path.join(logdir, name)
        mode = os.stat(path).st_mode & 0o777
        check(mode == 0o600, "log file %s has mode %o, want 600" % (name, mode))
        with open(path, errors="replace") as f:
            logs += f.read()
    check("Messages transferred" in logs, "the log lacks the statistics")
    everything = logs + out + err + r.stdout + r.stderr + r2.stdout + r2.stderr
    for pw in (pw1, pw2, "Wr0ngPassw0rd"):
        check(pw not in everything, "password %r found in the output or logs" % pw)


@test
def pidfile_locking(s):
    user = "user1"
    pidfile = os.path.join(itest.WORK, "lock.pid")
    corpus.load(s.host1.imap("user3"), seed=7, count=3)
    p, hang = start_hanging(s, user, "--pidfile", pidfile, "--pidfilelocking", "--timeout2", "30")
    try:
        before = snap(s.host2, "user3")
        with open(pidfile) as f:
            check(f.readline().strip() == str(p.pid), "the pid file does not name the run")
        r = run_ferry(s, "user3", "--pidfile", pidfile, "--pidfilelocking")
        check(r.returncode == 8, "a second run on a held pid file should exit 8", r)
        check("pid file" in r.stderr and pidfile in r.stderr, "no clear line", r)
        check(oracle.compare(before, snap(s.host2, "user3")) == [],
              "the refused run touched host2")
    finally:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        hang.close()
    check(p.returncode == 6, "SIGTERM should end the run with exit 6, got %s\n%s%s"
          % (p.returncode, out, err))
    check("++++ Statistics" in out, "no statistics after SIGTERM:\n" + out)
    check(not os.path.exists(pidfile), "the pid file was left behind")
    # A stale pid file (its process is gone) is removed and the run goes on.
    dead = subprocess.Popen(["true"])
    dead.wait()
    with open(pidfile, "w") as f:
        f.write("%d\n" % dead.pid)
    r = run_ferry(s, "user3", "--pidfile", pidfile, "--pidfilelocking")
    check(r.returncode == 0 and "removed the old pid file" in r.stdout,
          "a stale pid file should be removed", r)
    identical(s, "user3")


@test
def xoauth2_and_logindisabled(s):
    # Dovecot would need an OAuth2 introspection service; a scripted server
    # that checks the SASL string exactly is enough to test our side.
    fake = fake_imapd.FakeImapd(user="user1", token="tok-123")
    tokfile = os.path.join(itest.WORK, "token")
    with open(tokfile, "w") as f:
        f.write("tok-123\n")
    try:
        for tok in ("tok-123", tokfile):
            r = run_ferry(s, "user1", "--justlogin", "--authmech2", "XOAUTH2",
                          "--oauthaccesstoken2", tok, port2=fake.port)
            check(r.returncode == 0, "XOAUTH2 with token %r failed" % tok, r)
            check(re.search(r"^host2: capabilities: .*AUTH=XOAUTH2", r.stdout, re.M),
                  "no host2 capabilities", r)
        r = run_ferry(s, "user1", "--justlogin", "--oauthaccesstoken2", "wrong-token",
                      port2=fake.port)
        check(r.returncode == 162, "a refused token should exit 162", r)
        check("wrong-token" not in r.stdout + r.stderr, "the token was printed", r)
    finally:
        fake.close()
    fake = fake_imapd.FakeImapd(caps="IMAP4rev1 LOGINDISABLED", password="secret")
    try:
        r = run_ferry(s, "user1", "--justlogin", port2=fake.port, pw2="secret")
        check(r.returncode == 162 and "LOGINDISABLED" in r.stderr,
              "LOGINDISABLED should stop the login with exit 162", r)
        check(not any(" LOGIN " in l.upper() + " " for l in fake.lines),
              "LOGIN was sent despite LOGINDISABLED: %r" % fake.lines)
    finally:
        fake.close()


@test
def starttls_injection_refused(s):
    fake = fake_imapd.FakeImapd(caps="IMAP4rev1 STARTTLS", password="secret",
                                starttls_inject=True)
    try:
        args = [a for a in ferry_args(s, "user1", "--justlogin", port2=fake.port, pw2="secret")
                if a != "--notls2"]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    finally:
        fake.close()
    check(r.returncode == 12, "data injected after the STARTTLS answer: want exit 12", r)
    check(re.search(r"host2: .* sent data after its STARTTLS answer", r.stderr),
          "no clear line about the injection", r)
    check(any(l.upper().endswith("STARTTLS") for l in fake.lines), "STARTTLS was never sent")
    check(not any(" LOGIN " in l.upper() + " " for l in fake.lines),
          "LOGIN was sent after an injected STARTTLS answer: %r" % fake.lines)


@test
def timeout_and_foldersizes(s):
    hang = SilentServer()
    try:
        r = run_ferry(s, "user1", "--timeout2", "1", port2=hang.port)
    finally:
        hang.close()
    check(r.returncode == 102 and re.search(r"host2: .*timed out", r.stderr),
          "--timeout2 1 against a silent server should exit 102 saying it timed out", r)
    user = "user2"  # synced by password_sources
    r = run_ferry(s, user)
    check(r.returncode == 0, "rerun failed", r)
    a = snap(s.host1, user)
    total1 = sum(sum(c.values()) for c in a.values())
    sizes = re.findall(r"sizes: host1 (\d+) msgs (\d+) bytes; host2 before (\d+) msgs "
                       r"(\d+) bytes, after (\d+) msgs", r.stdout)
    check(len(sizes) == len(a), "want one sizes line per folder", r)
    check(sum(int(x[0]) for x in sizes) == total1, "host1 counts do not add up", r)
    check(all(x[0] == x[2] == x[4] and x[1] == x[3] for x in sizes),
          "synced folders should have equal sizes on both hosts", r)
    check(re.search(r"^Final difference host2 - host1\s*: 0 messages, 0 bytes", r.stdout, re.M),
          "no final difference line", r)
    nolog = os.path.join(itest.WORK, "nolog")
    r = run_ferry(s, user, "--nofoldersizes", "--nolog", "--logdir", nolog)
    check(r.returncode == 0 and "sizes:" not in r.stdout, "--nofoldersizes ignored", r)
    check(not os.path.exists(nolog), "--nolog still wrote a log")


@test
def address_family(s):
    """--inet6 to a server that listens on 127.0.0.1 only cannot connect, by
    name or by resolving "localhost"; --inet4 by the same name syncs."""
    user = "user3"
    s.host1.reset(user)
    s.host2.reset(user)
    corpus.load(s.host1.imap(user), seed=21, count=12)

    def by_name(*extra):
        args = itest.ferry_args(s, user, *extra)
        args[args.index("--host1") + 1] = "localhost"
        return subprocess.run(args, capture_output=True, text=True, timeout=120)

    r = by_name("--inet6")
    check(r.returncode == 101 and re.search(r"host1: cannot (connect to|resolve) localhost", r.stderr),
          "--inet6 to an IPv4-only server should exit 101 naming the host", r)
    check(snap(s.host2, user).total() == 0, "--inet6 run touched host2", r)
    r = by_name("--ipv4")
    check(r.returncode == 0, "--inet4 by name failed", r)
    itest.identical(s, user)
    r = by_name("--inet4", "--inet6")
    check(r.returncode == 64 and "exclude each other" in r.stderr, "both families accepted", r)


if __name__ == "__main__":
    sys.exit(itest.main([login_mechanisms, authuser_master_login, password_sources, secrets_never_shown,
                         pidfile_locking, xoauth2_and_logindisabled, starttls_injection_refused,
                         timeout_and_foldersizes, address_family]))
