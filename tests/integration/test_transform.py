#!/usr/bin/env python3
"""Message transforms, provider presets and --sslargsN end to end.

Private Dovecot servers (harness.py): host1 and host2 in their two layouts,
and h1tls (host1 layout, TLS with a certificate from a throw-away CA that
nothing trusts unless told, tlscerts.py).

Assertions are on real state, read with Python's imaplib (not our C code):
every message of every folder as (exact bytes, flags, INTERNALDATE). The
expected host2 account is computed here from host1's messages with Python's
own rendering of each rule (perl's results for imapsync's rules), so a
transform that changes one byte too many, or too few, fails:
  - without a transform option host2 is byte-identical (oracle);
  - --regexmess changes exactly what its rule says and nothing else;
  - --disarmreadreceipts and --truncmess likewise, and a rerun copies
    nothing (the transformed messages are found by their identity);
  - --exchange2 (disarm, 10239-byte line wrap, \\Flagged dropped);
  - a rule that fails at run time (PCRE2's match limit) costs that message
    only, with an error naming it;
  - --sslargs1 SSL_verify_mode=0 copies from the untrusted server (with
    the warning), SSL_ca_file=CA without it, an unknown key exits 64 with
    nothing copied;
  - presets print their bundle, and what the user gives wins.

Usage: test_transform.py --bin path/to/imapferry
"""
import argparse
import collections
import os
import re
import shutil
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
from imaputil import (fetch_records, get_namespace, list_mailboxes,  # noqa: E402
                      parse_internaldate, quote, to_logical)
from itest import check, test  # noqa: E402

COUNT = 30
CERTS = None
STATE = None  # a fresh --statedir per run group, so no state outlives its test

# Messages made for the rules: a read-receipt request, a line longer than
# Exchange takes, a run of a's that sends (a+)+$ into the match limit.
DNT = (b"From: a@example.org\r\nTo: b@example.net\r\nSubject: receipt please\r\n"
       b"Disposition-Notification-To: <a@example.org>\r\n"
       b"Message-ID: <dnt.1@transform.test>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
       b"\r\nPlease confirm.\r\nDisposition-Notification-To: in the body stays\r\n")
LONG = (b"From: a@example.org\r\nTo: b@example.net\r\nSubject: long line\r\n"
        b"Message-ID: <long.1@transform.test>\r\nDate: Mon, 1 Jan 2024 11:00:00 +0000\r\n\r\n"
        + b"x" * 25000 + b"\r\nend\r\n")
AAA = (b"From: a@example.org\r\nTo: b@example.net\r\nSubject: many a\r\n"
       b"Message-ID: <aaa.1@transform.test>\r\nDate: Mon, 1 Jan 2024 12:00:00 +0000\r\n\r\n"
       + b"a" * 40 + b"!\r\n")
SPECIAL = ((DNT, ["\\Seen", "\\Flagged"]), (LONG, ["\\Flagged"]), (AAA, []))


# --------------------------------------------------------------------------
# reading accounts and the rules' expected effect
# --------------------------------------------------------------------------

def bodies(host, user):
    """{logical folder: Counter[(bytes, frozenset flags, epoch)]}"""
    conn = host.imap(user)
    try:
        prefix, sep = get_namespace(conn)
        out = {}
        for name, attrs, delim in list_mailboxes(conn):
            if "\\noselect" in attrs or "\\nonexistent" in attrs:
                continue
            c = collections.Counter()
            typ, data = conn.select(quote(name), readonly=True)
            check(typ == "OK", "EXAMINE %s: %r" % (name, data))
            if int(data[0] or 0):
                typ, data = conn.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])")
                check(typ == "OK", "FETCH %s: %r" % (name, data))
                for rec in fetch_records(data):
                    if "BODY[]" not in rec:
                        continue
                    flags = frozenset(f if isinstance(f, str) else f.decode()
                                      for f in rec.get("FLAGS", []))
                    flags = frozenset(f for f in flags if f.lower() != "\\recent")
                    c[(bytes(rec["BODY[]"]), flags, parse_internaldate(rec["INTERNALDATE"]))] += 1
            out[to_logical(name, prefix, delim or sep)] = c
        return out
    finally:
        conn.logout()


def expected(src, body_fn=lambda b: b, flags_fn=lambda f: f, drop=lambda b: False):
    return {f: collections.Counter({(body_fn(b), flags_fn(fl), d): n
                                    for (b, fl, d), n in c.items() if not drop(b)})
            for f, c in src.items()}


def same_accounts(want, got, r=None):
    diffs = []
    for f in sorted(set(want) | set(got)):
        w, g = want.get(f, collections.Counter()), got.get(f, collections.Counter())
        for m in (w - g):
            diffs.append("%s: missing on host2: %r (flags %s)" % ("/".join(f), m[0][:120],
                                                                  sorted(m[1])))
        for m in (g - w):
            diffs.append("%s: unexpected on host2: %r (flags %s)" % ("/".join(f), m[0][:120],
                                                                     sorted(m[1])))
    check(not diffs, "host2 is not what the rules say:\n" + "\n".join(diffs[:12]), r)


def add_moved(b):
    """Python's rendering of s/\\r\\n\\r\\n/\\r\\nX-Moved: yes\\r\\n\\r\\n/."""
    return b.replace(b"\r\n\r\n", b"\r\nX-Moved: yes\r\n\r\n", 1)


def disarm(b):
    """imapsync's --disarmreadreceipts rule on the messages used here (perl
    gives the same): the field in the header block gets the X- prefix."""
    m = re.match(rb"\A((?:[^\n]+\r\n)+|)(^Disposition-Notification-To:[^\n]*\n)"
                 rb"(\r?\n|.*\n\r?\n)", b, re.I | re.M | re.S)
    if not m:
        return b
    return m.group(1) + b"X-" + m.group(2) + m.group(3) + b[m.end():]


def wrap(b):
    """s,(.{10239}),$1\\r\\n,g: '.' is any byte but \\n, as in perl."""
    return re.sub(rb"(.{10239})", lambda m: m.group(1) + b"\r\n", b)


def changed(src, fn):
    return sum(n for c in src.values() for (b, _, _), n in c.items() if fn(b) != b)


# --------------------------------------------------------------------------
# running imapferry
# --------------------------------------------------------------------------

def ferry(s, user, *extra, statedir=None):
    args = itest.ferry_args(s, user, "--statedir", statedir or STATE, *extra)
    t0 = time.monotonic()
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    r.elapsed = time.monotonic() - t0
    r.args_shown = " ".join(a for a in args[1:] if "pass" not in a)
    return r


def fresh_state(name):
    d = os.path.join(itest.WORK, "state-" + name)
    shutil.rmtree(d, ignore_errors=True)
    return d


def transferred(r):
    return itest.stat(r.stdout, "Messages transferred")


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------

@test
def no_option_byte_identical(s):
    """No transform option: every message byte for byte, the special ones
    (read receipt, 25 kB line) included."""
    s.host2.reset("user1")
    r = ferry(s, "user1", statedir=fresh_state("plain"))
    check(r.returncode == 0, "run failed", r)
    itest.identical(s, "user1")
    same_accounts(bodies(s.host1, "user1"), bodies(s.host2, "user1"), r)


@test
def regexmess_changes_exactly_the_rule(s):
    """--regexmess adds one header line to each message and nothing else;
    flags, dates and folders stay; a rerun copies nothing."""
    s.host2.reset("user1")
    st = fresh_state("regexmess")
    rule = r"s/\r\n\r\n/\r\nX-Moved: yes\r\n\r\n/"
    r = ferry(s, "user1", "--regexmess", rule, statedir=st)
    check(r.returncode == 0, "run failed", r)
    src = bodies(s.host1, "user1")
    n = sum(sum(c.values()) for c in src.values())
    check(changed(src, add_moved) == n, "the rule should change every message here")
    want = expected(src, add_moved)
    same_accounts(want, bodies(s.host2, "user1"), r)
    check(transferred(r) == n, "transferred %d of %d" % (transferred(r), n), r)
    r = ferry(s, "user1", "--regexmess", rule, statedir=st)
    check(r.returncode == 0 and transferred(r) == 0, "rerun copied again", r)
    # Without the state's shortcut too: the copies are found by identity.
    r = ferry(s, "user1", "--regexmess", rule, statedir=fresh_state("regexmess2"))
    check(r.returncode == 0 and transferred(r) == 0, "full rerun copied again", r)
    same_accounts(want, bodies(s.host2, "user1"), r)


@test
def disarm_and_truncmess(s):
    """--disarmreadreceipts renames the header field only (not the body's
    line); --truncmess cuts after it; a rerun copies nothing."""
    s.host2.reset("user2")
    st = fresh_state("disarm")
    cut = 3000
    opts = ("--disarmreadreceipts", "--truncmess", str(cut))
    r = ferry(s, "user2", *opts, statedir=st)
    check(r.returncode == 0, "run failed", r)
    src = bodies(s.host1, "user2")
    check(changed(src, disarm) == 1, "one message asks for a read receipt")
    check(changed(src, lambda b: b[:cut]) >= 3, "the cut should shorten several messages")
    want = expected(src, lambda b: disarm(b)[:cut])
    got = bodies(s.host2, "user2")
    same_accounts(want, got, r)
    inbox = [b for (b, _, _) in got[("INBOX",)]]
    check(any(b"\r\nX-Disposition-Notification-To: <a@example.org>\r\n" in b and
              b"\r\nDisposition-Notification-To: in the body stays\r\n" in b for b in inbox),
          "the disarmed message is not on host2 as expected")
    r = ferry(s, "user2", *opts, statedir=fresh_state("disarm2"))
    check(r.returncode == 0 and transferred(r) == 0, "rerun copied again", r)
    same_accounts(want, bodies(s.host2, "user2"), r)


@test
def exchange2_bundle(s):
    """--exchange2 against the harness: read receipts disarmed, lines of
    10239 bytes wrapped, \\Flagged dropped, the bundle printed."""
    s.host2.reset("user3")
    r = ferry(s, "user3", "--exchange2", statedir=fresh_state("exchange2"))
    check(r.returncode == 0, "run failed", r)
    check("imapferry: --exchange2 is like: --maxsize 10000000 --maxmessagespersecond 4 "
          "--disarmreadreceipts --regexflag 's/\\\\Flagged//g' --regexmess "
          "'s,(.{10239}),$1\\r\\n,g'" in r.stderr, "bundle line", r)
    src = bodies(s.host1, "user3")
    check(changed(src, wrap) == 1 and changed(src, disarm) == 1, "test data")
    want = expected(src, lambda b: disarm(wrap(b)), lambda f: f - {"\\Flagged"})
    same_accounts(want, bodies(s.host2, "user3"), r)


@test
def match_limit_skips_that_message(s):
    """A rule that exceeds PCRE2's match limit on one message: that message
    is reported and left out, every other one is copied unchanged."""
    s.host2.reset("user3")
    r = ferry(s, "user3", "--regexmess", "s/(a+)+$/x/", statedir=fresh_state("limit"))
    check(r.returncode not in (0, 64), "the failure must show in the exit code", r)
    err = [ln for ln in r.stderr.splitlines() if "ERROR" in ln]
    check(len(err) == 1 and "match limit" in err[0] and "--regexmess" in err[0] and
          "UID" in err[0], "one error line naming the message and the rule", r)
    want = expected(bodies(s.host1, "user3"), drop=lambda b: b == AAA)
    same_accounts(want, bodies(s.host2, "user3"), r)


def tls_ferry(s, *opts1):
    src, dst = s["h1tls"], s.host2
    args = [itest.BIN, "--host1", "127.0.0.1", "--port1", str(src.imaps_port), "--ssl1",
            "--user1", "user1", "--password1", src.password("user1"),
            "--host2", dst.host, "--port2", str(dst.port), "--notls2",
            "--user2", "user1", "--password2", dst.password("user1"),
            "--logdir", os.path.join(itest.WORK, "logs"),
            "--pidfile", os.path.join(itest.WORK, "imapferry.pid"),
            "--statedir", fresh_state("tls"), *opts1]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    r.args_shown = " ".join(a for a in args[1:] if "pass" not in a)
    return r


def h2_unchanged(s, before, r):
    check(not oracle.compare(before, itest.snap(s.host2, "user1")), "host2 changed", r)


@test
def sslargs(s):
    """--sslargs1 SSL_verify_mode=0 copies from a server nobody trusts, with
    the warning; without it the run exits 12; SSL_ca_file=CA verifies; an
    unknown key or SSL_version exits 64 naming it, nothing copied."""
    s.host2.reset("user1")
    before = itest.snap(s.host2, "user1")
    r = tls_ferry(s)
    check(r.returncode == 12, "an untrusted certificate must fail (exit 12)", r)
    h2_unchanged(s, before, r)
    for kv, word in (("SSL_verifycn_name=x", "SSL_verifycn_name"),
                     ("SSL_version=TLSv1_2", "SSL_version")):
        r = tls_ferry(s, "--sslargs1", kv)
        check(r.returncode == 64 and ("--sslargs1 %s is not supported" % word) in r.stderr,
              "refusal of %s" % kv, r)
        h2_unchanged(s, before, r)
    r = tls_ferry(s, "--sslargs1", "SSL_verify_mode=0")
    check(r.returncode == 0, "SSL_verify_mode=0 run failed", r)
    check(re.search(r"WARNING.*insecure1", r.stdout + r.stderr), "no insecure warning", r)
    check(not oracle.compare(itest.snap(s["h1tls"], "user1"), itest.snap(s.host2, "user1")),
          "host2 differs from h1tls")
    s.host2.reset("user1")
    r = tls_ferry(s, "--sslargs1", "SSL_ca_file=" + CERTS.ca, "--sslargs1", "SSL_verify_mode=1")
    check(r.returncode == 0, "SSL_ca_file run failed", r)
    check("WARNING" not in r.stdout + r.stderr, "a verified run must not warn", r)
    check(not oracle.compare(itest.snap(s["h1tls"], "user1"), itest.snap(s.host2, "user1")),
          "host2 differs from h1tls")


@test
def presets_user_options_win(s):
    """--gmail1 with the harness's host, port and --notls1 given: the rest
    of the bundle applies (folder names without [Gmail]/, All Mail last);
    --office2 --dry prints its bundle and changes nothing."""
    conn = s.host1.imap("user2")
    for name in ("[Gmail]/Sent Mail", "[Gmail]/All Mail", "[Gmail]/Starred"):
        conn.create(quote(name))
    conn.logout()
    s.host2.reset("user2")
    r = ferry(s, "user2", "--gmail1", "--justfolderlists", statedir=fresh_state("gmail"))
    check(r.returncode == 0, "run failed", r)
    line = [ln for ln in r.stderr.splitlines() if "--gmail1 is like:" in ln]
    check(len(line) == 1, "no bundle line", r)
    check(line[0].startswith("imapferry: --gmail1 is like: --maxbytespersecond 300000 "
                             "--maxbytesafter 3000000000 --automap --regextrans2 "
                             "'s,\\[Gmail\\].,,' --folderlast '[Gmail]/Sent Mail'"),
          "bundle: " + line[0], r)
    check("--host1" not in line[0] and "--ssl1" not in line[0], "user options must win", r)
    check(line[0].endswith("--skipcrossduplicates --useheader X-Gmail-Received "
                           "--useheader Message-Id"), "identity of the bundle: " + line[0], r)
    maps = re.findall(r"^  \[(.*)\] -> \[(.*?)\]", r.stdout, re.M)
    for name in ("Sent Mail", "Starred", "All Mail"):
        check(("[Gmail]/" + name, "INBOX." + name) in maps, "mapping of " + name, r)
    # --folderlast: those three last, in the preset's order.
    check([a for a, _ in maps[-3:]] == ["[Gmail]/Sent Mail", "[Gmail]/Starred",
                                        "[Gmail]/All Mail"], "folder order %r" % maps, r)

    before = itest.snap(s.host2, "user2")
    r = ferry(s, "user2", "--office2", "--dry", statedir=fresh_state("office"))
    check(r.returncode == 0, "dry run failed", r)
    check("imapferry: --office2 is like: --maxsize 45000000 --maxmessagespersecond 4 "
          "--disarmreadreceipts --regexmess 's,(.{10239}),$1\\r\\n,g' "
          "--f1f2 Files=Files_renamed_by_imapsync\n" in r.stderr, "office2 bundle", r)
    check(not oracle.compare(before, itest.snap(s.host2, "user2")), "--dry changed host2", r)


@test
def every_preset_dry(s):
    """Each preset, alone and Gmail's two together, with --dry against the
    harness (user options win over the preset's hosts): its bundle printed
    once, exit 0, host2 untouched."""
    before = itest.snap(s.host2, "user2")
    for presets in (["--gmail1"], ["--gmail2"], ["--gmail1", "--gmail2"], ["--office1"],
                    ["--office2"], ["--exchange2"]):
        r = ferry(s, "user2", *presets, "--dry", statedir=fresh_state("dry" + "".join(presets)))
        check(r.returncode == 0, "%s --dry failed" % " ".join(presets), r)
        lines = [ln for ln in r.stderr.splitlines() if " is like: --" in ln]
        check(len(lines) == 1 and lines[0].startswith("imapferry: %s is like: --" % " ".join(presets)),
              "%s: want one bundle line, got %r" % (" ".join(presets), lines), r)
    check(not oracle.compare(before, itest.snap(s.host2, "user2")), "a --dry changed host2")


@test
def pipemess_through_commands(s):
    """--pipemess runs every message through the commands in turn (the
    bytes host2 gets are the commands' output); a command that fails the
    start-up check stops the run before host2 is touched."""
    s.host2.reset("user1")
    sed = "LC_ALL=C sed 's/^Subject: /Subject: [piped] /'"
    r = ferry(s, "user1", "--pipemess", sed, "--pipemess", "cat", statedir=fresh_state("pipe"))
    check(r.returncode == 0, "run failed", r)
    src = bodies(s.host1, "user1")

    def piped(b):
        return re.sub(rb"(?m)^Subject: ", b"Subject: [piped] ", b)

    check(changed(src, piped) >= 3, "the command should change several messages")
    same_accounts(expected(src, piped), bodies(s.host2, "user1"), r)
    s.host2.reset("user1")
    r = ferry(s, "user1", "--pipemess", "exit 3", statedir=fresh_state("pipe2"))
    check(r.returncode == 64 and "--pipemess #1 command exited with 3 on a test message" in r.stderr,
          "a failing command should stop the run at start (exit 64)", r)
    check(sum(len(c) for c in bodies(s.host2, "user1").values()) == 0, "host2 was touched", r)


TESTS = (no_option_byte_identical, regexmess_changes_exactly_the_rule, disarm_and_truncmess,
         exchange2_bundle, match_limit_skips_that_message, sslargs, presets_user_options_win,
         every_preset_dry, pipemess_through_commands)


def main():
    global CERTS, STATE
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--count", type=int, default=COUNT)
    ap.add_argument("-k", help="run only tests whose name contains this")
    a = ap.parse_args()
    itest.BIN = os.path.abspath(a.bin)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="imapferry-test-") as work:
        itest.WORK = work
        STATE = os.path.join(work, "state")
        os.makedirs(os.path.join(work, "certs"))
        CERTS = tlscerts.make_certs(os.path.join(work, "certs"))
        s = Servers()
        s.add_host("h1tls", layout="host1", tls=TLSConfig(CERTS.good_cert, CERTS.good_key))
        with s:
            for user, seed, count in (("user1", 41, a.count), ("user2", 42, a.count),
                                      ("user3", 43, 6)):
                conn = s.host1.imap(user)
                corpus.load(conn, seed=seed, count=count)
                for msg, flags in SPECIAL:
                    corpus.append_one(conn, ("INBOX",), msg, flags, 1704103200)
                conn.logout()
            conn = s["h1tls"].imap("user1")
            corpus.load(conn, seed=44, count=10)
            conn.logout()
            for t in TESTS:
                if a.k is None or a.k in t.__name__:
                    t(s)
    failed = sum(1 for _, ok in itest.results if not ok)
    print("%d passed, %d failed (%.1fs)" % (len(itest.results) - failed, failed,
                                             time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
