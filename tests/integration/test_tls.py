#!/usr/bin/env python3
"""TLS end-to-end tests of imapferry against real Dovecot servers.

Five private Dovecot instances (harness.py) and a throw-away CA (tlscerts.py):
  host1      host1 layout, NO TLS at all (ssl = no: no STARTTLS, no imaps)
  host2      host2 layout, good certificate (DNS:localhost, IP:127.0.0.1):
             STARTTLS on .port, implicit TLS on .imaps_port
  h1tls      host1 layout, good certificate (source of the implicit-TLS case)
  h2wrong    host2 layout, certificate for DNS:wrong.example only
  h2expired  host2 layout, right names, validity 2020-01-01..2020-02-01
All with auth_verbose/auth_debug, so every authentication request shows up in
their log ("auth: Debug: client in: AUTH ..."), and imap-login ends each
connection with "Login: user=<..>, ..., TLS" or "Disconnected ... (no auth
attempts ...)".

Assertions are on real state: copies are checked with the oracle (Python's
imaplib, not our C code); refusals by the exit status, the one error line, an
unchanged destination (oracle snapshot before/after, with source messages the
destination lacks, so a copy would show) and the server's own log (no
authentication request during the run; each such check is followed by a
control login that the same check must flag, so it can fail).

Usage: test_tls.py --bin path/to/imapferry
"""
import argparse
import imaplib
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import itest  # noqa: E402
import oracle  # noqa: E402
import tlscerts  # noqa: E402
from harness import Servers, TLSConfig  # noqa: E402
from itest import check, test  # noqa: E402

BIN = None
COUNT = 30
CERTS = None

# every authentication request is logged by the auth process
LOG_CONFIG = "auth_verbose = yes\nauth_debug = yes\n"


# --------------------------------------------------------------------------
# running imapferry
# --------------------------------------------------------------------------

def ferry(src, dst, user1, user2=None, opts1=(), opts2=(), name1="127.0.0.1",
          name2="127.0.0.1", port1=None, port2=None):
    """Run imapferry from src (a harness Host) to dst. The port is the
    implicit-TLS one when --sslN is among the options, unless given."""
    user2 = user2 or user1
    if port1 is None:
        port1 = src.imaps_port if "--ssl1" in opts1 else src.port
    if port2 is None:
        port2 = dst.imaps_port if "--ssl2" in opts2 else dst.port
    args = [BIN,
            "--host1", name1, "--port1", str(port1),
            "--user1", user1, "--password1", src.password(user1),
            "--host2", name2, "--port2", str(port2),
            "--user2", user2, "--password2", dst.password(user2),
            *opts1, *opts2,
            # logs and pid files stay in the scratch dir, not in the build tree
            "--logdir", os.path.join(CERTS.dir, "logs"),
            "--pidfile", os.path.join(CERTS.dir, "imapferry.pid")]
    t0 = time.monotonic()
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    r.elapsed = time.monotonic() - t0
    r.args_shown = " ".join(a for a in args[1:] if a not in (src.password(user1),
                                                             dst.password(user2)))
    return r


def snap(host, user):
    return oracle.snapshot(host.host, host.port, user, host.password(user), label=host.name)


def identical(src, user1, dst, user2=None):
    a, b = snap(src, user1), snap(dst, user2 or user1)
    check(a.total() > 0, "the source %s/%s is empty: the test proves nothing" % (src.name, user1))
    diffs = oracle.compare(a, b)
    check(not diffs, "%s differs from %s:\n%s" % (dst.name, src.name, "\n".join(diffs[:40])))


def unchanged(host, user, before):
    diffs = oracle.compare(before, snap(host, user))
    check(not diffs, "%s/%s changed:\n%s" % (host.name, user, "\n".join(diffs[:20])))


def lacks_something(src, user1, dst, user2=None):
    """The destination misses messages of the source, so any copy would show
    in an unchanged() check."""
    check(oracle.compare(snap(src, user1), snap(dst, user2 or user1)) != [],
          "%s already has everything of %s: a copy would not show" % (dst.name, src.name))


def refused(r, label, *words):
    """Exit 12 and one stderr line naming the host label ('[imapferry:
    ERROR: ]hostN: ...') containing all `words` (regular expressions,
    case-insensitive). Returns that line."""
    check(r.returncode == 12, "want exit 12", r)
    lines = [ln for ln in r.stderr.splitlines() if re.search(r"(^|: )%s: " % label, ln)]
    check(len(lines) == 1, "want exactly one stderr line naming '%s:'" % label, r)
    for w in words:
        check(re.search(w, lines[0], re.I), "the %s line does not match /%s/" % (label, w), r)
    for secret in ("h1pass", "h2pass"):
        check(secret not in r.stdout + r.stderr, "a password is printed", r)
    return lines[0]


def no_warning(r):
    check(not re.search(r"WARNING.*insecure|insecure.*WARNING", r.stdout + r.stderr),
          "insecure warning without --insecure", r)


# --------------------------------------------------------------------------
# Dovecot log windows
# --------------------------------------------------------------------------

class LogWindow:
    """What a host logged since the window was opened.

    Dovecot writes its log asynchronously (each process -> log process ->
    file), so lines of an earlier session (e.g. the oracle's own plaintext
    login just before) can land a few ms later. The window opens only once
    the log has not grown for QUIET seconds."""

    QUIET = 0.15

    def __init__(self, host):
        self.host = host
        self.path = host.log_path
        size, since = os.path.getsize(self.path), time.monotonic()
        deadline = since + 5
        while time.monotonic() - since < self.QUIET and time.monotonic() < deadline:
            time.sleep(0.02)
            now = os.path.getsize(self.path)
            if now != size:
                size, since = now, time.monotonic()
        self.start = size

    def lines(self):
        with open(self.path, "rb") as f:
            f.seek(self.start)
            return f.read().decode("utf-8", "replace").splitlines()

    def wait_for(self, pattern, timeout=5.0):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            hits = [ln for ln in self.lines() if rx.search(ln)]
            if hits or time.monotonic() > deadline:
                return hits
            time.sleep(0.02)


AUTH_RX = re.compile(r"auth: Debug: client in: AUTH\b|imap-login: Info: Login: "
                     r"|user=<[^>]+>|passwd-file\(")
# how imap-login ends a connection (with the reason and the auth attempt count)
DISCONNECT_RX = r"imap-login: Info: (Disconnected|Aborted login)"


def login_evidence(window):
    """Lines of the window showing an authentication attempt: the auth
    process' requests, imap-login's Login lines and connections that ended
    with auth attempts."""
    return [ln for ln in window.lines()
            if AUTH_RX.search(ln)
            or (re.search(DISCONNECT_RX, ln) and "no auth attempts" not in ln)]


def assert_no_login(window, what, r=None, want_tls_abort=False):
    """The run reached the server (an imap-login disconnect line appears),
    and no authentication request of any kind was made in the window."""
    seen = window.wait_for(DISCONNECT_RX + "|imap-login: Info: Login: ")
    check(seen, "%s: no connection from the run in %s's log" % (what, window.host.name), r)
    time.sleep(0.2)  # let the auth process' lines (if any) reach the log
    bad = login_evidence(window)
    check(not bad, "%s: %s logged an authentication during the run:\n%s"
          % (what, window.host.name, "\n".join(bad)), r)
    if want_tls_abort:
        # the client gave up during the handshake (it sent an alert)
        ends = [ln for ln in window.lines() if re.search(DISCONNECT_RX, ln)]
        check(any("TLS handshaking" in ln or "alert" in ln for ln in ends),
              "%s: no TLS handshake failure in %s's log:\n%s"
              % (what, window.host.name, "\n".join(ends)), r)


def control_logins(host, user, tls):
    """Logins imapferry did not make, to prove the log check can fail: a
    good one and one with a wrong password, each must be flagged by
    login_evidence() (after the same settling as assert_no_login)."""
    for password, end_rx in ((host.password(user), r"imap-login: Info: Login: user=<%s>"),
                             ("wrong-password", DISCONNECT_RX + r".*user=<%s>")):
        window = LogWindow(host)
        conn = imaplib.IMAP4(host.host, host.port, timeout=30)
        try:
            if tls:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                conn.starttls(ssl_context=ctx)
            try:
                conn.login(user, password)
            except imaplib.IMAP4.error:
                pass
        finally:
            try:
                conn.logout()  # also closes the socket
            except (OSError, imaplib.IMAP4.error):
                pass
        check(window.wait_for(end_rx % re.escape(user)),
              "control login on %s did not show in the log" % host.name)
        time.sleep(0.2)
        ev = login_evidence(window)
        check(any("client in: AUTH" in ln for ln in ev) and any("imap-login" in ln for ln in ev),
              "the log check on %s misses a control login:\n%s"
              % (host.name, "\n".join(window.lines())))


def logins(window, user):
    """imap-login's 'Login:' lines for user in the window (waits for one)."""
    return window.wait_for(r"imap-login: Info: Login: user=<%s>" % re.escape(user))


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------

@test
def legacy_plain_host1_default_starttls_host2(s):
    """host1 without any TLS (--notls1); host2 with no TLS option at all and
    --cafile2: the default must use STARTTLS and copy everything."""
    h1, h2 = s.host1, s.host2
    w1, w2 = LogWindow(h1), LogWindow(h2)
    r = ferry(h1, h2, "user1", opts1=["--notls1"], opts2=["--cafile2", CERTS.ca])
    check(r.returncode == 0, "run failed", r)
    check("Detected 0 errors" in r.stdout, "errors reported", r)
    no_warning(r)
    # host2's logins by this run were over TLS on the plain port, i.e. STARTTLS
    l2 = logins(w2, "user1")
    check(l2 and all(", TLS," in ln for ln in l2),
          "host2: login not over TLS:\n%s" % "\n".join(l2), r)
    check(all("lport=%d\t" % h2.port in ln for ln in w2.lines() if "client in: AUTH" in ln),
          "host2: authentication not on the STARTTLS port", r)
    l1 = logins(w1, "user1")
    check(l1 and not any(", TLS," in ln for ln in l1), "host1: want plaintext logins", r)
    identical(h1, "user1", h2)
    print("     %d messages over STARTTLS in %.2fs" % (COUNT, r.elapsed))


@test
def implicit_tls_both_sides(s):
    src, h2 = s["h1tls"], s.host2
    w1, w2 = LogWindow(src), LogWindow(h2)
    r = ferry(src, h2, "user2",
              opts1=["--ssl1", "--cafile1", CERTS.ca], opts2=["--ssl2", "--cafile2", CERTS.ca])
    check(r.returncode == 0, "run failed", r)
    check("Detected 0 errors" in r.stdout, "errors reported", r)
    for w, h in ((w1, src), (w2, h2)):
        ls = logins(w, "user2")
        check(ls and all(", TLS," in ln for ln in ls), "%s: login not over TLS" % h.name, r)
        auth = [ln for ln in w.lines() if "client in: AUTH" in ln]
        check(auth and all("lport=%d\t" % h.imaps_port in ln for ln in auth),
              "%s: authentication not on the implicit-TLS port:\n%s" % (h.name, "\n".join(auth)),
              r)
    identical(src, "user2", h2)


@test
def explicit_starttls_tls2_localhost(s):
    """--tls2 with --cafile2, and the server named `localhost` (matched by
    the certificate's DNS:localhost)."""
    h1, h2 = s.host1, s.host2
    w2 = LogWindow(h2)
    r = ferry(h1, h2, "user3", opts1=["--notls1"], opts2=["--tls2", "--cafile2", CERTS.ca],
              name2="localhost")
    check(r.returncode == 0, "run failed", r)
    l2 = logins(w2, "user3")
    check(l2 and all(", TLS," in ln for ln in l2), "host2: login not over TLS", r)
    identical(h1, "user3", h2)


@test
def default_refuses_server_without_starttls(s):
    """No TLS option for host1, which offers no STARTTLS: refused, no
    password sent in plaintext, nothing copied."""
    h1, h2 = s.host1, s.host2
    conn = h1.imap("user3")  # something host2 does not have yet
    corpus.append_one(conn, ("INBOX",), corpus.make_message(corpus.random.Random(301)),
                      (r"\Seen",), '"04-Apr-2023 05:06:07 +0000"')
    conn.logout()
    lacks_something(h1, "user3", h2)
    before = snap(h2, "user3")
    w1 = LogWindow(h1)
    r = ferry(h1, h2, "user3", opts2=["--cafile2", CERTS.ca])
    line = refused(r, "host1", r"STARTTLS")
    print("     " + line)
    assert_no_login(w1, "default without STARTTLS", r)
    control_logins(h1, "user3", tls=False)
    unchanged(h2, "user3", before)


@test
def tls1_refuses_server_without_starttls(s):
    h1, h2 = s.host1, s.host2
    lacks_something(h1, "user3", h2)
    before = snap(h2, "user3")
    w1 = LogWindow(h1)
    r = ferry(h1, h2, "user3", opts1=["--tls1"], opts2=["--cafile2", CERTS.ca])
    line = refused(r, "host1", r"STARTTLS")
    print("     " + line)
    assert_no_login(w1, "--tls1 without STARTTLS", r)
    unchanged(h2, "user3", before)


def _refused_cert(s, dst, opts2, reason_rx, what, user="user1"):
    h1 = s.host1
    lacks_something(h1, user, dst)
    before = snap(dst, user)
    w = LogWindow(dst)
    r = ferry(h1, dst, user, opts1=["--notls1"], opts2=opts2)
    line = refused(r, "host2", r"certificate", reason_rx)
    print("     " + line)
    assert_no_login(w, what, r, want_tls_abort=True)
    unchanged(dst, user, before)
    return r


@test
def wrong_name_starttls(s):
    dst = s["h2wrong"]
    _refused_cert(s, dst, ["--cafile2", CERTS.ca], r"127\.0\.0\.1", "wrong name, STARTTLS")
    control_logins(dst, "user1", tls=True)


@test
def wrong_name_tls2(s):
    _refused_cert(s, s["h2wrong"], ["--tls2", "--cafile2", CERTS.ca], r"127\.0\.0\.1",
                  "wrong name, --tls2")


@test
def wrong_name_implicit(s):
    _refused_cert(s, s["h2wrong"], ["--ssl2", "--cafile2", CERTS.ca], r"127\.0\.0\.1",
                  "wrong name, implicit TLS")


@test
def expired_starttls(s):
    dst = s["h2expired"]
    _refused_cert(s, dst, ["--cafile2", CERTS.ca], r"expired", "expired, STARTTLS")
    control_logins(dst, "user1", tls=True)


@test
def expired_implicit(s):
    _refused_cert(s, s["h2expired"], ["--ssl2", "--cafile2", CERTS.ca], r"expired",
                  "expired, implicit TLS")


@test
def untrusted_without_cafile(s):
    """The good certificate, but its CA is not in the system store."""
    h1, h2 = s.host1, s.host2
    # host2/user2 holds h1tls' corpus; host1/user2 has another one
    lacks_something(h1, "user2", h2)
    before = snap(h2, "user2")
    for opts in ([], ["--ssl2"]):
        w = LogWindow(h2)
        r = ferry(h1, h2, "user2", opts1=["--notls1"], opts2=opts)
        line = refused(r, "host2", r"certificate", r"not trusted")
        print("     " + line)
        assert_no_login(w, "no --cafile2 %s" % " ".join(opts), r, want_tls_abort=True)
    unchanged(h2, "user2", before)


@test
def insecure_wrong_name_copies_with_warning(s):
    """--insecure2 against the wrong-name server: copies, warns; also the
    positive control of the log checks above (imapferry's own login shows)."""
    h1, dst = s.host1, s["h2wrong"]
    lacks_something(h1, "user1", dst)
    w = LogWindow(dst)
    r = ferry(h1, dst, "user1", opts1=["--notls1"], opts2=["--insecure2"])
    check(r.returncode == 0, "run failed", r)
    warn = [ln for ln in (r.stdout + r.stderr).splitlines()
            if "WARNING" in ln and "insecure" in ln]
    check(warn, "no line with WARNING and insecure", r)
    print("     " + warn[0])
    l2 = logins(w, "user1")
    check(l2 and all(", TLS," in ln for ln in l2), "h2wrong: login not over TLS", r)
    check(login_evidence(w), "h2wrong: the log check does not see imapferry's login", r)
    identical(h1, "user1", dst)
    # every run warns, also when there is nothing to copy
    r = ferry(h1, dst, "user1", opts1=["--notls1"], opts2=["--insecure2"])
    check(r.returncode == 0, "second run failed", r)
    check(re.search(r"WARNING.*insecure|insecure.*WARNING", r.stdout + r.stderr),
          "no warning on the second run", r)


@test
def wrong_port_kind_hints(s):
    """Plaintext to the implicit-TLS port, and --ssl2 to the plaintext port:
    both refused with a line that says which option fixes it."""
    h1, h2 = s.host1, s.host2
    before = snap(h2, "user2")
    r = ferry(h1, h2, "user2", opts1=["--notls1"],
              opts2=["--cafile2", CERTS.ca, "--timeout2", "2"], port2=h2.imaps_port)
    check(r.returncode == 102 and "add --ssl2" in r.stderr,
          "plaintext to an implicit-TLS port: want exit 102 and the --ssl2 hint", r)
    r = ferry(h1, h2, "user2", opts1=["--notls1"], opts2=["--ssl2", "--cafile2", CERTS.ca],
              port2=h2.port)
    check(r.returncode == 12 and "drop --ssl2" in r.stderr,
          "--ssl2 to a plaintext port: want exit 12 and the hint to drop --ssl2", r)
    unchanged(h2, "user2", before)


TESTS = (legacy_plain_host1_default_starttls_host2, implicit_tls_both_sides,
         explicit_starttls_tls2_localhost, default_refuses_server_without_starttls,
         tls1_refuses_server_without_starttls, wrong_name_starttls, wrong_name_tls2,
         wrong_name_implicit, expired_starttls, expired_implicit, untrusted_without_cafile,
         insecure_wrong_name_copies_with_warning, wrong_port_kind_hints)


def main():
    global BIN, CERTS, COUNT
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--count", type=int, default=COUNT)
    ap.add_argument("-k", help="run only tests whose name contains this")
    a = ap.parse_args()
    BIN, COUNT = os.path.abspath(a.bin), a.count
    t0 = time.monotonic()
    certdir = tempfile.mkdtemp(prefix="ifr-certs-", dir="/tmp")
    try:
        CERTS = tlscerts.make_certs(certdir)
        good = TLSConfig(CERTS.good_cert, CERTS.good_key)
        ex = {"host1": LOG_CONFIG, "host2": LOG_CONFIG}
        s = Servers(tls2=good, extra_config=ex)
        s.add_host("h1tls", layout="host1", tls=good, extra_config=LOG_CONFIG)
        s.add_host("h2wrong", layout="host2", tls=TLSConfig(CERTS.wrong_cert, CERTS.wrong_key),
                   extra_config=LOG_CONFIG)
        s.add_host("h2expired", layout="host2",
                   tls=TLSConfig(CERTS.expired_cert, CERTS.expired_key), extra_config=LOG_CONFIG)
        with s:
            print("     5 Dovecot instances up in %.2fs" % (time.monotonic() - t0), flush=True)
            # sources: distinct content per account, so every copy is visible
            for host, user, seed, count in ((s.host1, "user1", 1, COUNT),
                                            (s.host1, "user2", 2, 10),
                                            (s.host1, "user3", 3, 5),
                                            (s["h1tls"], "user2", 4, COUNT)):
                conn = host.imap(user)
                corpus.load(conn, seed=seed, count=count)
                conn.logout()
            for t in TESTS:
                if a.k is None or a.k in t.__name__:
                    t(s)
    finally:
        shutil.rmtree(certdir, ignore_errors=True)
    failed = sum(1 for _, ok in itest.results if not ok)
    print("%d passed, %d failed (%.1fs)" % (len(itest.results) - failed, failed,
                                             time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
