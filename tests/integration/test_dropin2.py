#!/usr/bin/env python3
"""Drop-in options of issue 15, part 2, end to end: --skipmess,
--maxlinelength, --addheader, --abort, --justconnect, a refused --search
(exit 121) and --oauthrefreshcmd2.

Private Dovecot servers (harness.py) play host1 and host2; scripted servers
play what Dovecot will not do: hostile_imapd.py refuses UID SEARCH (it
answers BAD to any command it does not know), fake_imapd.py takes XOAUTH2
with one token and records every line it gets. Assertions are on the
servers' real state read with Python's imaplib (oracle.py): exactly which
messages, byte for byte, reached host2.

Usage: test_dropin2.py --bin path/to/imapferry
"""
import collections
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import fake_imapd  # noqa: E402
import harness  # noqa: E402
import itest  # noqa: E402
import oracle  # noqa: E402
from hostile_imapd import Folder, HostileImapd, Msg  # noqa: E402
from itest import check, ferry_args, identical, run_ferry, snap, stat, test  # noqa: E402

INBOX = ("INBOX",)


def mail(tag, subject=None, msgid=True, extra=b"", body=b""):
    """A small message; distinct for each tag."""
    head = b"From: a@dropin.test\r\nTo: b@dropin.test\r\n"
    if msgid:
        head += b"Message-ID: <%s@dropin.test>\r\n" % tag.encode()
    head += b"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
    head += b"Subject: %s\r\n" % (subject or "note " + tag).encode()
    return head + extra + b"\r\n" + (body or b"Body of %s.\r\n" % tag.encode())


def sha(b):
    return hashlib.sha256(b).hexdigest()


def fresh(s, user, msgs, folder=INBOX):
    """host1 holds exactly msgs in folder, host2 is empty."""
    s.host1.reset(user)
    s.host2.reset(user)
    conn = s.host1.imap(user)
    try:
        if folder != INBOX:
            conn.create(folder[0])
        for m in msgs:
            corpus.append_one(conn, folder, m, ("\\Seen",))
    finally:
        conn.logout()


def shas(host, user, folder=INBOX):
    """Counter of the sha256 of every message in one folder."""
    c = collections.Counter()
    for (h, _flags, _date), n in snap(host, user).get(folder, collections.Counter()).items():
        c[h] += n
    return c


def host1_uids(s, user):
    """{sha of the body: host1 UID} for INBOX."""
    conn = s.host1.imap(user)
    try:
        conn.select("INBOX", readonly=True)
        typ, data = conn.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
        out = {}
        for item in data:
            if isinstance(item, tuple):
                uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
                out[sha(item[1])] = uid
        return out
    finally:
        conn.logout()


def statedir(name):
    d = os.path.join(itest.WORK, "state-" + name)
    shutil.rmtree(d, ignore_errors=True)
    return d


# --------------------------------------------------------------------------
# message filters
# --------------------------------------------------------------------------

@test
def skipmess_leaves_out_matches(s):
    user = "user1"
    good = [mail("g%d" % i) for i in range(3)]
    spam = [mail("s1", "SPAM offer"), mail("s2", "SPAM again")]
    junk = mail("j1", extra=b"X-Junk: yes\r\n")
    # Not at a line start: the anchored rule must not take it.
    body_spam = mail("b1", body=b"Re Subject: SPAM in the body\r\n")
    fresh(s, user, good + spam + [junk, body_spam])
    st = statedir("skipmess")
    r = run_ferry(s, user, "--skipmess", "m{^Subject: SPAM}m", "--skipmess", "/^x-junk: YES/mi",
                  "--statedir", st)
    check(r.returncode == 0, "want exit 0", r)
    want = collections.Counter(sha(m) for m in good + [body_spam])
    check(shas(s.host2, user) == want, "host2 INBOX is not exactly the unmatched messages", r)
    lines = [ln for ln in r.stdout.splitlines() if "skipped by --skipmess" in ln]
    check(len(lines) == 3, "want one line per skipped message, got %r" % lines, r)
    check(stat(r.stdout, "Messages skipped") == 3, "want 3 messages skipped", r)
    check(stat(r.stdout, "Messages transferred") == 4, "want 4 transferred", r)
    # Again: the matches are looked at again and still left out, nothing twice.
    r = run_ferry(s, user, "--skipmess", "m{^Subject: SPAM}m", "--skipmess", "/^x-junk: YES/mi",
                  "--statedir", st)
    check(r.returncode == 0 and stat(r.stdout, "Messages transferred") == 0,
          "the rerun copied something", r)
    check(shas(s.host2, user) == want, "the rerun changed host2", r)
    # Without the rule they come, and host2 is then host1.
    r = run_ferry(s, user, "--statedir", st)
    check(r.returncode == 0 and stat(r.stdout, "Messages transferred") == 3,
          "want the 3 left-out messages copied without --skipmess", r)
    identical(s, user)


@test
def skipmess_refuses_a_substitution(s):
    r = run_ferry(s, "user1", "--skipmess", "s/a/b/")
    check(r.returncode == 64 and "--skipmess" in r.stderr and "m/" in r.stderr,
          "want exit 64 naming --skipmess", r)


@test
def maxlinelength_skips_long_lines(s):
    user = "user2"
    at = mail("at", body=b"x" * 98 + b"\r\nshort\r\n")      # longest line: 100 bytes
    over = mail("over", body=b"y" * 99 + b"\r\nshort\r\n")  # 101 bytes
    plain = mail("plain")
    fresh(s, user, [at, over, plain])
    r = run_ferry(s, user, "--maxlinelength", "100", "--statedir", statedir("mll"))
    check(r.returncode == 0, "want exit 0", r)
    check(shas(s.host2, user) == collections.Counter([sha(at), sha(plain)]),
          "host2 must hold the 100-byte-line message and not the 101-byte one", r)
    lines = [ln for ln in r.stdout.splitlines()
             if ln.startswith("- msg") and "maxlinelength 100" in ln]
    check(len(lines) == 1 and "line length 101" in lines[0],
          "want one line naming the 101-byte line, got %r" % lines, r)
    check(stat(r.stdout, "Messages skipped") == 1, "want 1 message skipped", r)
    r = run_ferry(s, user, "--maxlinelength", "0")
    check(r.returncode == 64 and "--maxlinelength" in r.stderr, "want exit 64 for 0", r)


@test
def addheader_only_when_asked(s):
    user = "user3"
    bare = [mail("n1", "draft one", msgid=False), mail("n2", "draft two", msgid=False)]
    ided = [mail("i1"), mail("i2")]
    fresh(s, user, bare + ided)
    uids = host1_uids(s, user)
    # Without the option every message is copied byte for byte.
    r = run_ferry(s, user, "--statedir", statedir("noadd"))
    check(r.returncode == 0, "want exit 0", r)
    identical(s, user)
    s.host2.reset(user)
    st = statedir("add")
    r = run_ferry(s, user, "--addheader", "--statedir", st)
    check(r.returncode == 0, "want exit 0 with --addheader", r)
    want = collections.Counter(sha(m) for m in ided)
    for m in bare:
        want[sha(b"Message-Id: <%d@imapsync>\r\n" % uids[sha(m)] + m)] += 1
    check(shas(s.host2, user) == want,
          "host2 must hold the identified messages as they are and the others with "
          "\"Message-Id: <UID@imapsync>\" first", r)
    # Reruns, in full (no state), pair them: nothing more is copied.
    for extra in (("--nostate",), ()):
        r = run_ferry(s, user, "--addheader", "--statedir", st, *extra)
        check(r.returncode == 0 and stat(r.stdout, "Messages transferred") == 0,
              "a rerun with --addheader %s copied again" % " ".join(extra), r)
        check(shas(s.host2, user) == want, "the rerun changed host2", r)


# --------------------------------------------------------------------------
# run control
# --------------------------------------------------------------------------

@test
def abort_stops_the_running_sync(s):
    user = "user1"
    s.host1.reset(user)
    s.host2.reset(user)
    corpus.load(s.host1.imap(user), seed=15, count=60)
    pidfile = os.path.join(itest.WORK, "abort.pid")
    args = ferry_args(s, user, "--maxmessagespersecond", "1", "--maxsleep", "30",
                      "--statedir", statedir("abort"), pidfile=False) + ["--pidfile", pidfile]
    victim = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Wait until it copies (the throttle then holds it for long).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and snap(s.host2, user).total() == 0:
            time.sleep(0.3)
        check(victim.poll() is None, "the throttled run ended by itself")
        t0 = time.monotonic()
        ab = subprocess.run([itest.BIN, "--abort", "--pidfile", pidfile], capture_output=True,
                            text=True, timeout=30)
        out, err = victim.communicate(timeout=30)
        took = time.monotonic() - t0
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    check(ab.returncode == 0, "--abort must exit 0", ab)
    check(str(victim.pid) in ab.stdout, "--abort must name the run's pid", ab)
    check(victim.returncode == 6, "the aborted run must exit 6 (signal), got %s\n%s\n%s"
          % (victim.returncode, out[-2000:], err[-2000:]))
    check("Messages transferred" in out, "the aborted run printed no statistics")
    check(took < 10, "stopping took %.1f s" % took)
    check(not os.path.exists(pidfile), "the aborted run left its pid file")
    # host2 holds only host1 messages, each once, and not all of them.
    h1, h2 = snap(s.host1, user), snap(s.host2, user)
    for folder, c in h2.items():
        extra = c - h1.get(folder, collections.Counter())
        check(not extra, "host2 %s holds what host1 lacks: %r" % (folder, extra))
    check(0 < h2.total() < h1.total(), "want a partial copy, host2 has %d of %d"
          % (h2.total(), h1.total()))
    # Nothing to abort: still exit 0; and the next run completes the copy.
    ab = subprocess.run([itest.BIN, "--abort", "--pidfile", pidfile], capture_output=True,
                        text=True, timeout=30)
    check(ab.returncode == 0 and "no run holds" in ab.stdout, "--abort with no run", ab)
    r = run_ferry(s, user, "--statedir", statedir("abort"))
    check(r.returncode == 0, "the rerun after --abort failed", r)
    identical(s, user)


@test
def justconnect_logs_in_nowhere(s):
    fake = fake_imapd.FakeImapd(caps="IMAP4rev1 AUTH=PLAIN ID", password="secret")
    try:
        r = subprocess.run([itest.BIN, "--host1", s.host1.host, "--port1", str(s.host1.port),
                            "--host2", "127.0.0.1", "--port2", str(fake.port), "--notls1",
                            "--notls2", "--justconnect", "--logdir",
                            os.path.join(itest.WORK, "logs"), "--pidfile",
                            os.path.join(itest.WORK, "jc.pid")],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "want exit 0", r)
        check(re.search(r"^Host1 banner: .*\S", r.stdout, re.M), "no host1 banner", r)
        check(re.search(r"^Host1 capability: .*IMAP4rev1", r.stdout, re.M),
              "no host1 capabilities", r)
        check(re.search(r"^Host2 banner: .*fake ready", r.stdout, re.M), "no host2 banner", r)
        check(re.search(r"^Host2 capability: IMAP4rev1 AUTH=PLAIN ID$", r.stdout, re.M),
              "no host2 capabilities", r)
        sent = [ln.split(" ", 2)[1].upper() for ln in fake.lines if " " in ln]
        check(not {"LOGIN", "AUTHENTICATE"} & set(sent), "a login was sent: %r" % sent, r)
        check("Messages transferred" not in r.stdout, "--justconnect printed a sync report", r)
    finally:
        fake.close()
    # Nobody listening on host2: imapsync's exit 10.
    port = harness.free_port()
    r = subprocess.run([itest.BIN, "--host1", s.host1.host, "--port1", str(s.host1.port),
                        "--host2", "127.0.0.1", "--port2", str(port), "--notls1", "--notls2",
                        "--justconnect", "--nolog", "--pidfile", ""],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 10 and "host2" in r.stderr, "want exit 10 naming host2", r)


@test
def refused_search_exits_121(s):
    user = "user1"
    s.host2.reset(user)
    before = snap(s.host2, user)
    inbox = [Msg(1, mail("h1")), Msg(2, mail("h2"))]
    other = [Msg(1, mail("o1"))]
    with HostileImapd([Folder("INBOX", inbox), Folder("Other", other)]) as srv:
        args = [itest.BIN, "--host1", "127.0.0.1", "--port1", str(srv.port),
                "--user1", user, "--password1", "h1pass1",
                "--host2", s.host2.host, "--port2", str(s.host2.port),
                "--user2", user, "--password2", s.host2.password(user),
                "--notls1", "--notls2", "--search", "SINCE 1-Jan-2024",
                "--logdir", os.path.join(itest.WORK, "logs"),
                "--pidfile", os.path.join(itest.WORK, "search.pid"),
                "--statedir", statedir("search")]
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
        searches = [c for _n, c in srv.lines if "SEARCH" in c.upper()]
    check(r.returncode == 121, "want exit 121 (EXIT_ERR_SEARCH)", r)
    check(searches, "no UID SEARCH reached host1", r)
    check(re.search(r"UID SEARCH SINCE 1-Jan-2024", r.stdout + r.stderr),
          "no error line naming the search", r)
    after = snap(s.host2, user)
    check(after.total() == before.total() == 0, "messages were copied despite the refused "
          "search: %d" % after.total(), r)


# --------------------------------------------------------------------------
# OAuth refresh
# --------------------------------------------------------------------------

def oauth_run(s, fake, cmd, tokfile):
    pw1 = "h1pass1"
    return subprocess.run([itest.BIN, "--host1", s.host1.host, "--port1", str(s.host1.port),
                           "--user1", "user1", "--password1", pw1,
                           "--host2", "127.0.0.1", "--port2", str(fake.port), "--user2", "user1",
                           "--oauthaccesstoken2", tokfile, "--oauthrefreshcmd2", cmd,
                           "--notls1", "--notls2", "--justlogin", "--nolog", "--pidfile", "",
                           "--statedir", statedir("oauth")],
                          capture_output=True, text=True, timeout=60)


@test
def oauthrefreshcmd_before_login_and_once_on_refusal(s):
    d = os.path.join(itest.WORK, "oauth")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    tok, count = os.path.join(d, "token"), os.path.join(d, "count")
    fake = fake_imapd.FakeImapd(user="user1", token="tok-fresh")
    try:
        def case(script, want_rc, want_runs, what):
            with open(tok, "w") as f:
                f.write("tok-stale\n")
            if os.path.exists(count):
                os.unlink(count)
            fake.lines.clear()
            r = oauth_run(s, fake, script % {"t": tok, "c": count}, tok)
            runs = open(count).read().count("x") if os.path.exists(count) else 0
            auths = [ln for ln in fake.lines if "AUTHENTICATE" in ln.upper()]
            check(r.returncode == want_rc, "%s: want exit %d" % (what, want_rc), r)
            check(runs == want_runs, "%s: the command ran %d times, want %d"
                  % (what, runs, want_runs), r)
            check("tok-fresh" not in r.stdout + r.stderr, "%s: the token was printed" % what, r)
            return r, auths

        # The fresh token is read after the command: one run, one login.
        r, auths = case("echo x >> %(c)s; echo tok-fresh > %(t)s", 0, 1, "refresh")
        check(len(auths) == 1, "want one AUTHENTICATE, got %r" % auths, r)
        # Refused once: one more refresh, one more try.
        r, auths = case("n=$(cat %(c)s 2>/dev/null); echo x >> %(c)s; "
                        "if [ -n \"$n\" ]; then echo tok-fresh > %(t)s; "
                        "else echo tok-bad > %(t)s; fi", 0, 2, "second try")
        check(len(auths) == 2, "want two AUTHENTICATE, got %r" % auths, r)
        # Refused twice: host2's login failure.
        r, auths = case("echo x >> %(c)s; echo tok-bad > %(t)s", 162, 2, "refused twice")
        check(len(auths) == 2, "want two AUTHENTICATE, got %r" % auths, r)
        # A failing command: no login at all.
        r, auths = case("echo x >> %(c)s; exit 3", 162, 1, "failing command")
        check(not auths and "--oauthrefreshcmd2 exited with 3" in r.stderr,
              "want no login and a line naming the command's exit", r)
    finally:
        fake.close()
    r = subprocess.run([itest.BIN, "--host1", "h", "--user1", "u", "--password1", "p",
                        "--host2", "h", "--user2", "u", "--password2", "p",
                        "--oauthrefreshcmd2", "true"], capture_output=True, text=True)
    check(r.returncode == 64 and "--oauthaccesstoken2" in r.stderr,
          "want exit 64: the command needs a token file", r)


if __name__ == "__main__":
    sys.exit(itest.main([skipmess_leaves_out_matches, skipmess_refuses_a_substitution,
                         maxlinelength_skips_long_lines, addheader_only_when_asked,
                         abort_stops_the_running_sync, justconnect_logs_in_nowhere,
                         refused_search_exits_121,
                         oauthrefreshcmd_before_login_and_once_on_refusal]))
