#!/usr/bin/env python3
"""Hostile and broken source servers (issue 13): host1 is a scripted server
(hostile_imapd.py) that misbehaves in one way per test, host2 a real private
Dovecot (harness.py) whose state is read back with the oracle (imaplib, not
our C code).

Each test asserts the exit status, one clear error line, no sanitizer report
(run it with an ASan/UBSan binary too), host2's real state (folder names,
messages by content hash, flags, INTERNALDATE) and, where it matters, what
the client sent to host1 (every command is recorded by the scripted server).

Usage: test_hostile.py --bin path/to/imapferry
"""
import argparse
import collections
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import itest  # noqa: E402
import oracle  # noqa: E402
from harness import Servers  # noqa: E402
from hostile_imapd import Folder, HostileImapd, Msg, literal  # noqa: E402
from imaputil import parse_internaldate  # noqa: E402
from itest import check, test  # noqa: E402

BIN = None
WORK = None
USER = "user1"
PW1 = "h1pass1"
# Address space for a plain (non-ASan) binary: far above what a run of a few
# small messages needs, far below what a server-announced size would take.
MEM_LIMIT = 1 << 30
LIMIT_MEMORY = True  # off for sanitizer builds (their shadow memory is huge)
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|"
                       r"runtime error:|MemorySanitizer")


# --------------------------------------------------------------------------
# messages and expectations
# --------------------------------------------------------------------------

def body(n, tag="m", extra=b""):
    return (b"Message-ID: <%s-%d@hostile.test>\r\n"
            b"Date: Thu, 01 Feb 2024 10:%02d:00 +0100\r\n"
            b"From: a@hostile.test\r\nTo: b@hostile.test\r\n"
            b"Subject: %s number %d\r\n\r\n"
            b"Body of %s %d.\r\n%s" % (tag.encode(), n, n % 60, tag.encode(), n, tag.encode(), n,
                                      extra))


def msgs(tag, count, first_uid=1, flags=b"\\Seen"):
    return [Msg(first_uid + i, body(i + 1, tag), flags=flags) for i in range(count)]


def expect(ms, flags=None):
    """Counter of what host2 should hold for these host1 messages: (sha,
    flags, epoch). flags: one set for all, or a list (one set per message);
    default: the message's raw flags split on blanks."""
    c = collections.Counter()
    for i, m in enumerate(ms):
        if flags is None:
            fl = frozenset(m.flags.decode().split())
        elif isinstance(flags, list):
            fl = frozenset(flags[i])
        else:
            fl = frozenset(flags)
        c[(m.sha, fl, parse_internaldate(m.date))] += 1
    return c


# --------------------------------------------------------------------------
# running imapferry and reading host2
# --------------------------------------------------------------------------

def ferry(s, srv, *extra, notls1=True, timeout=120):
    args = [BIN,
            "--host1", "127.0.0.1", "--port1", str(srv.port),
            "--user1", USER, "--password1", PW1,
            "--host2", s.host2.host, "--port2", str(s.host2.port),
            "--user2", USER, "--password2", s.host2.password(USER),
            "--notls2", "--timeout1", "20",
            "--logdir", os.path.join(WORK, "logs"),
            "--pidfile", os.path.join(WORK, "imapferry.pid")]
    if notls1:
        args.append("--notls1")
    args += list(extra)
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (MEM_LIMIT, MEM_LIMIT))

    t0 = time.monotonic()
    r = subprocess.run(args, capture_output=True, text=True, errors="replace",
                       timeout=timeout, env=env, preexec_fn=limit if LIMIT_MEMORY else None)
    r.elapsed = time.monotonic() - t0
    r.args_shown = " ".join(a for a in args[1:] if a not in (PW1, s.host2.password(USER)))
    check(r.returncode >= 0, "imapferry died of signal %d" % -r.returncode, r)
    check(not SANITIZER.search(r.stderr + r.stdout), "sanitizer report", r)
    check(not re.search(r"out of memory|cannot allocate", r.stdout + r.stderr, re.I),
          "out of memory (address space limited to %d MiB%s)"
          % (MEM_LIMIT >> 20, "" if LIMIT_MEMORY else ", not applied"), r)
    return r


def host2(s):
    return oracle.snapshot(s.host2.host, s.host2.port, USER, s.host2.password(USER),
                           label="host2")


def fresh(s):
    """host2's account empty (INBOX only) before a test."""
    s.host2.reset(USER)
    snap = host2(s)
    check(snap.total() == 0 and set(snap) == {("INBOX",)},
          "host2 not empty after reset: %r" % dict(snap))
    return snap


def folders(snap):
    return sorted(snap.names.values())


def synced(snap, logical, want, r=None):
    got = snap.get(logical, collections.Counter())
    if got != want:
        only_got = got - want
        only_want = want - got
        check(False, "host2 %s: %d messages, want %d\n  unexpected: %r\n  missing: %r"
              % ("/".join(logical), sum(got.values()), sum(want.values()),
                 sorted(only_got.items()), sorted(only_want.items())), r)


def error_lines(r, *words):
    """stderr lines that contain all the regular expressions `words`
    (case-insensitive); at least one must exist. Returns them."""
    lines = [ln for ln in r.stderr.splitlines()
             if all(re.search(w, ln, re.I) for w in words)]
    check(lines, "no stderr line matching %r" % (words,), r)
    return lines


def no_epoch_zero(snap, r=None):
    for logical, c in snap.items():
        for (_, _, epoch) in c:
            check(epoch > 86400 * 366, "host2 %s holds a message dated %s (1970?)"
                  % ("/".join(logical), time.strftime("%Y-%m-%d", time.gmtime(epoch))), r)


def looks_good(r):
    return "The sync looks good" in r.stdout


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------

@test
def test_preauth_without_tls_refused(s):
    before = fresh(s)
    inbox = msgs("pre", 2)
    with HostileImapd([Folder("INBOX", inbox)],
                      greeting=b"* PREAUTH [CAPABILITY IMAP4rev1 NAMESPACE] welcome back\r\n") \
            as srv:
        r = ferry(s, srv, notls1=False)  # default: STARTTLS expected on host1
        check(r.returncode == 12, "want exit 12 (TLS) for PREAUTH without --notls1", r)
        lines = error_lines(r, "host1", "PREAUTH")
        check(len(lines) == 1, "want exactly one line naming PREAUTH, got %r" % lines, r)
        sent = [c for c in srv.commands() if not c.upper().startswith("LOGOUT")]
        check(not sent, "commands sent over the PREAUTH session: %r" % sent, r)
    after = host2(s)
    check(folders(after) == folders(before) and after.total() == 0,
          "host2 changed: %r" % dict(after), r)


@test
def test_preauth_with_notls1_accepted(s):
    fresh(s)
    inbox = msgs("pre", 3)
    with HostileImapd([Folder("INBOX", inbox)],
                      greeting=b"* PREAUTH [CAPABILITY IMAP4rev1 NAMESPACE] welcome back\r\n") \
            as srv:
        r = ferry(s, srv)
        check(r.returncode == 0, "want exit 0 with --notls1 and PREAUTH", r)
        check(not srv.commands("LOGIN"), "LOGIN sent on a PREAUTH session", r)
    synced(host2(s), ("INBOX",), expect(inbox), r)


@test
def test_folder_name_with_crlf_skipped(s):
    fresh(s)
    inbox, good, bad = msgs("in", 2), msgs("good", 3, flags=b"\\Flagged"), msgs("bad", 2)
    bad_name = b"Bad\r\nName"
    lf_name = b"Lf\nX"
    with HostileImapd([Folder("INBOX", inbox), Folder("Good", good),
                       Folder(bad_name, bad, wire=literal(bad_name)),
                       Folder(lf_name, msgs("lf", 1), wire=literal(lf_name))]) as srv:
        r = ferry(s, srv)
        check(r.returncode != 0, "want a non-zero exit: two folders were skipped", r)
        lines = error_lines(r, "control character")
        check(len(lines) == 2, "want one control-character line per bad folder, got %r"
              % lines, r)
        for verb in ("SELECT", "EXAMINE", "STATUS"):
            bad_cmds = [c for c in srv.commands(verb) if "Bad" in c or "Lf" in c]
            check(not bad_cmds, "%s of a CR/LF folder sent to host1: %r" % (verb, bad_cmds), r)
        check(not looks_good(r), "'The sync looks good' after skipped folders", r)
    snap = host2(s)
    names = folders(snap)
    check(not any(("Bad" in n or "Name" in n or "Lf" in n) for n in names),
          "a CR/LF folder reached host2: %r" % names, r)
    check(not any(("Bad" in "".join(l) or "Lf" in "".join(l)) for l in snap.subscribed),
          "a CR/LF folder is subscribed on host2: %r" % snap.subscribed, r)
    check(set(snap) == {("INBOX",), ("Good",)}, "host2 folders %r, want INBOX and Good"
          % names, r)
    synced(snap, ("INBOX",), expect(inbox), r)
    synced(snap, ("Good",), expect(good), r)
    # Dovecot's own view: no folder named with a control character at all
    out = s.host2.doveadm("mailbox", "list", "-u", USER)
    check("Bad" not in out and "Name" not in out, "doveadm lists %r" % out, r)


@test
def test_raw_utf8_folder_names(s):
    """A host1 that lists raw UTF-8 names (against RFC 3501): host2 gets the
    modified UTF-7 spelling; a name that is not UTF-8 is skipped."""
    fresh(s)
    inbox, de = msgs("u8in", 1), msgs("u8de", 2)
    utf8 = "Entw\u00fcrfe".encode()
    with HostileImapd([Folder("INBOX", inbox), Folder(utf8, de, wire=literal(utf8)),
                       Folder(b"Bad\xff", msgs("u8bad", 1), wire=literal(b"Bad\xff"))]) as srv:
        r = ferry(s, srv)
        check(r.returncode != 0, "want a non-zero exit: one folder was skipped", r)
        check(len(error_lines(r, "not UTF-8")) == 1, "want one line for the non-UTF-8 name", r)
    snap = host2(s)
    check(set(snap) == {("INBOX",), ("Entw\u00fcrfe",)}, "host2 folders %r" % folders(snap), r)
    synced(snap, ("Entw\u00fcrfe",), expect(de), r)
    out = s.host2.doveadm("mailbox", "list", "-u", USER)
    check("INBOX.Entw\u00fcrfe" in out, "doveadm does not list the UTF-8 name: %r" % out, r)


@test
def test_bare_lf_and_nul_copied_once(s):
    """A host1 serving messages with bare LF line ends, a bare CR and a NUL
    byte: each reaches host2 once, and a rerun copies nothing, although
    host2 may store (and size) the bytes its own way."""
    fresh(s)
    m = [Msg(1, body(1, "lf").replace(b"\r\n", b"\n")),
         Msg(2, body(2, "cr", extra=b"bare\rcr\r\n")),
         Msg(3, body(3, "nul", extra=b"nul \x00 byte\r\n")),
         Msg(4, body(4, "plain"))]
    with HostileImapd([Folder("INBOX", m)]) as srv:
        r = ferry(s, srv)
        check(r.returncode == 0, "want exit 0", r)
        first = host2(s).get(("INBOX",), collections.Counter())
        check(sum(first.values()) == 4, "host2 INBOX holds %d messages, want 4"
              % sum(first.values()), r)
        r = ferry(s, srv)
        check(r.returncode == 0 and itest.stat(r.stdout, "Messages transferred") == 0,
              "the rerun copied again", r)
    again = host2(s).get(("INBOX",), collections.Counter())
    check(again == first, "host2 INBOX changed on the rerun: %d messages"
          % sum(again.values()), r)


@test
def test_keyword_deleted_and_crlf_keyword(s):
    fresh(s)
    m = [Msg(1, body(1, "kw"), flags=b'\\Seen "\\\\Deleted"'),
         Msg(2, body(2, "kw"), flags=b"\\Flagged " + literal(b"foo\r\n\\Deleted")),
         Msg(3, body(3, "kw"), flags=b'$Work "\\\\Deleted" \\Answered'),
         Msg(4, body(4, "kw"), flags=b"\\Seen " + literal(b"x\r\nA002 DELETE INBOX"))]
    want = expect(m, [{"\\Seen"}, {"\\Flagged"}, {"$Work", "\\Answered"}, {"\\Seen"}])
    with HostileImapd([Folder("INBOX", m)]) as srv:
        r = ferry(s, srv)
        synced(host2(s), ("INBOX",), want, r)
        # a rerun copies nothing again and does not add \Deleted either
        r2 = ferry(s, srv)
        check(r2.returncode == r.returncode, "rerun exit %d, first run %d"
              % (r2.returncode, r.returncode), r2)
    snap = host2(s)
    synced(snap, ("INBOX",), want, r2)
    for (_, fl, _) in snap[("INBOX",)]:
        check("\\Deleted" not in fl and not any("foo" in f or "DELETE" in f for f in fl),
              "host2 flags %r" % sorted(fl), r)


@test
def test_exists_4294967295(s):
    fresh(s)
    inbox = msgs("big", 3)
    other = msgs("oth", 2)
    with HostileImapd([Folder("INBOX", inbox, exists=4294967295), Folder("Other", other)]) \
            as srv:
        r = ferry(s, srv, timeout=60)
        fetches = srv.commands("FETCH")
        # INBOX: its first chunk, then one round of two chunks that comes
        # back empty; Other: one.
        check(len(fetches) <= 4, "metadata FETCH asked %d times: %r" % (len(fetches),
                                                                        fetches[:5]), r)
    snap = host2(s)
    synced(snap, ("INBOX",), expect(inbox), r)
    synced(snap, ("Other",), expect(other), r)
    print("     exists 4294967295: exit %d in %.1fs" % (r.returncode, r.elapsed))


@test
def test_phantom_fetch(s):
    fresh(s)
    inbox = msgs("ph", 3)

    def meta_extra(sess, f, seqs):
        return (b"* 999 FETCH (UID 777 FLAGS ())\r\n"
                b"* 4 FETCH (UID 778 FLAGS (\\Seen) INTERNALDATE \"01-Jan-1970 00:00:00 +0000\" "
                b"RFC822.SIZE 0 BODY[HEADER.FIELDS (Message-ID)] {2}\r\n\r\n)\r\n"
                b"* 2 FETCH (UID 779 FLAGS (\\Seen) RFC822.SIZE 5)\r\n")

    def fetch_body(sess, tag, f, pairs):
        sess.send(b"* 999 FETCH (UID 777 BODY[] {5}\r\nhello)\r\n")
        for q, m in pairs:
            sess.send(sess.server.body_item(q, m))
        sess.send(b"* 998 FETCH (UID 778 BODY[] {0}\r\n)\r\n")
        sess.line(tag + b" OK UID FETCH done")
        return True

    with HostileImapd([Folder("INBOX", inbox)],
                      hooks={"meta_extra": meta_extra, "fetch_body": fetch_body}) as srv:
        r = ferry(s, srv)
        check(r.returncode == 0, "want exit 0: phantoms are ignored", r)
    snap = host2(s)
    synced(snap, ("INBOX",), expect(inbox), r)
    no_epoch_zero(snap, r)


@test
def test_unsolicited_flag_fetch_before_answer(s):
    """An unsolicited `* 2 FETCH (FLAGS ...)` (another client's flag change,
    legal at any time) arriving before the real answer for 2."""
    fresh(s)
    inbox = msgs("un", 3)

    def fetch_meta(sess, tag, f, seqs):
        sess.send(b"* 2 FETCH (FLAGS (\\Seen \\Flagged))\r\n")
        m = re.search(rb"HEADER\.FIELDS \(([^)]*)\)", sess.server.lines[-1][1].encode("latin-1"))
        fields = m.group(1).decode().split()
        for q in seqs:
            sess.send(sess.server.meta_item(q, f.msgs[q - 1], fields))
        sess.line(tag + b" OK FETCH done")
        return True

    with HostileImapd([Folder("INBOX", inbox)], hooks={"fetch_meta": fetch_meta}) as srv:
        r = ferry(s, srv)
        check(r.returncode == 0, "want exit 0", r)
    synced(host2(s), ("INBOX",), expect(inbox), r)


@test
def test_unparseable_select_skips_one_folder(s):
    fresh(s)
    inbox, broken, other = msgs("in", 2), msgs("br", 2), msgs("ot", 3)
    garbage = (b"* FLAGS (\\Seen (broken)\r\n"
               b"* 2 EXISTS\r\n* OK [UIDVALIDITY 5] x\r\n")
    with HostileImapd([Folder("INBOX", inbox), Folder("Broken", broken, select_raw=garbage),
                       Folder("Other", other)]) as srv:
        r = ferry(s, srv, "--reconnectretry1", "1", timeout=90)
        check(r.returncode != 0, "want a non-zero exit: a folder failed", r)
        check(r.returncode == 111, "want exit 111 (sync with errors), got %d" % r.returncode, r)
        error_lines(r, "Broken")
        check(not looks_good(r), "'The sync looks good' after a failed folder", r)
        fetched = [c for c in srv.commands("UID FETCH")]
        check(fetched, "no body was fetched at all", r)
    snap = host2(s)
    synced(snap, ("INBOX",), expect(inbox), r)
    synced(snap, ("Other",), expect(other), r)
    check(sum(snap.get(("Broken",), collections.Counter()).values()) == 0,
          "host2 Broken holds messages", r)
    print("     unparseable SELECT: exit %d in %.1fs, %d connections to host1"
          % (r.returncode, r.elapsed, srv.connections))


@test
def test_bye_mid_body_fetch(s):
    fresh(s)
    inbox = msgs("bye", 6)
    other = msgs("aft", 2)

    def fetch_body(sess, tag, f, pairs):
        if f.name != b"INBOX" or sess.server.state.get("bye"):
            return False
        sess.server.state["bye"] = True
        for q, m in pairs[:2]:
            sess.send(sess.server.body_item(q, m))
        sess.send(b"* BYE server shutting down\r\n")
        sess.close()
        return True

    with HostileImapd([Folder("INBOX", inbox), Folder("Other", other)],
                      hooks={"fetch_body": fetch_body}) as srv:
        r = ferry(s, srv, timeout=90)
        check(srv.state.get("bye"), "the BYE was never played", r)
        check(srv.connections >= 2, "no reconnection to host1", r)
        check(r.returncode == 0, "want exit 0 after a successful reconnection", r)
        error_lines(r, "host1", "reconnect")
        # a rerun finds everything there
        r2 = ferry(s, srv)
        check(r2.returncode == 0, "rerun exit", r2)
    snap = host2(s)
    synced(snap, ("INBOX",), expect(inbox), r)
    synced(snap, ("Other",), expect(other), r)


@test
def test_garbage_instead_of_greeting(s):
    before = fresh(s)
    with HostileImapd([Folder("INBOX", msgs("g", 2))],
                      greeting=b"\x00\x01\xfe\xff\x1b[2J garbage \x80\x81\r\n") as srv:
        r = ferry(s, srv, timeout=60)
        check(r.returncode == 101, "want exit 101 (connection to host1)", r)
        lines = error_lines(r, "host1")
        check(len(lines) == 1, "want one line naming host1, got %r" % lines, r)
    after = host2(s)
    check(folders(after) == folders(before) and after.total() == 0, "host2 changed", r)


@test
def test_garbage_after_greeting(s):
    before = fresh(s)

    def junk(sess):
        sess.send(b"\x00\x01\xfe\xff\x1b[2J garbage \x80\x81\r\n")

    with HostileImapd([Folder("INBOX", msgs("g", 2))], hooks={"after_greeting": junk}) as srv:
        r = ferry(s, srv, timeout=60)
        check(r.returncode == 101, "want exit 101 (connection to host1)", r)
        lines = error_lines(r, "host1")
        check(len(lines) == 1, "want one line naming host1, got %r" % lines, r)
    after = host2(s)
    check(folders(after) == folders(before) and after.total() == 0, "host2 changed", r)


def huge_literal(s, announce):
    """UID FETCH of bodies: message 1 in full, then message 2 announced as a
    literal of `announce` bytes, a few bytes of it and the connection closed
    (on every connection)."""
    fresh(s)
    inbox = msgs("lit", 3)
    other = msgs("ok", 2)

    def fetch_body(sess, tag, f, pairs):
        if f.name != b"INBOX":
            return False
        for q, m in pairs:
            if m.uid == 2:
                sess.send(b"* %d FETCH (UID 2 BODY[] {%d}\r\nFrom: x\r\n" % (q, announce))
                sess.close()
                return True
            sess.send(sess.server.body_item(q, m))
        sess.line(tag + b" OK UID FETCH done")
        return True

    with HostileImapd([Folder("INBOX", inbox), Folder("Other", other)],
                      hooks={"fetch_body": fetch_body}) as srv:
        r = ferry(s, srv, "--reconnectretry1", "1", timeout=90)
        check(r.returncode != 0, "want a non-zero exit: a message could not be fetched", r)
        check(not looks_good(r), "'The sync looks good' after a failed message", r)
        error_lines(r, "host1")
    snap = host2(s)
    synced(snap, ("Other",), expect(other), r)
    got = snap.get(("INBOX",), collections.Counter())
    check(all(k in expect(inbox) for k in got), "host2 INBOX holds a message host1 never "
          "served in full: %r" % sorted(got), r)
    no_epoch_zero(snap, r)
    check("the most imapferry accepts" in r.stderr,
          "the error does not say the literal was refused for its size", r)
    err = [ln for ln in r.stderr.splitlines() if "host1" in ln]
    print("     literal {%d}: exit %d in %.1fs, INBOX %d of 3 copied; first host1 line: %s"
          % (announce, r.returncode, r.elapsed, sum(got.values()), err[0] if err else "(none)"))


@test
def test_4gb_literal_in_body_fetch(s):
    huge_literal(s, 4294967296)


@test
def test_4gb_minus_1_literal_in_body_fetch(s):
    huge_literal(s, 4294967295)


@test
def test_message_announced_over_the_cap(s):
    """RFC822.SIZE of 2 GiB on one message: it is skipped and named before
    any body is fetched; the others are copied."""
    fresh(s)
    inbox = msgs("big", 3)
    inbox[1].size = 2 << 30
    with HostileImapd([Folder("INBOX", inbox)]) as srv:
        r = ferry(s, srv)
        check(r.returncode != 0, "want a non-zero exit: a message was skipped", r)
        check(not looks_good(r), "'The sync looks good' with a message left out", r)
        check(re.search(r"message UID %d in \[INBOX\]: \d+ bytes, more than the 1024 MiB"
                        % inbox[1].uid, r.stderr), "no line naming the big message", r)
    snap = host2(s)
    synced(snap, ("INBOX",), expect([inbox[0], inbox[2]]), r)


@test
def test_throttled_pauses_the_run(s):
    """Gmail's [THROTTLED] and Office 365's suggested backoff time, sent
    with the metadata of two folders: the run pauses, says so once per
    pause, and still copies everything."""
    fresh(s)
    a, b = msgs("ta", 2), msgs("tb", 2, first_uid=10)

    def meta_extra(sess, f, seqs):
        if f.name == b"INBOX":
            return b"* OK [THROTTLED] slow down\r\n"
        return b"* OK Request is throttled. Suggested Backoff Time: 1500 milliseconds\r\n"

    with HostileImapd([Folder("INBOX", a), Folder("Other", b)],
                      hooks={"meta_extra": meta_extra}) as srv:
        r = ferry(s, srv, "--workers", "1")
    check(r.returncode == 0, "want exit 0", r)
    check(r.stdout.count("asked to slow down") == 2, "want one line per pause", r)
    check(r.elapsed >= 3.4, "want at least 2 s + 1.5 s of pauses, took %.1f s" % r.elapsed, r)
    snap = host2(s)
    synced(snap, ("INBOX",), expect(a), r)
    synced(snap, ("Other",), expect(b), r)


TESTS = [test_preauth_without_tls_refused, test_preauth_with_notls1_accepted,
         test_folder_name_with_crlf_skipped, test_keyword_deleted_and_crlf_keyword,
         test_exists_4294967295, test_phantom_fetch, test_unsolicited_flag_fetch_before_answer,
         test_unparseable_select_skips_one_folder, test_bye_mid_body_fetch,
         test_garbage_instead_of_greeting, test_raw_utf8_folder_names,
         test_bare_lf_and_nul_copied_once, test_garbage_after_greeting,
         test_4gb_literal_in_body_fetch,
         test_4gb_minus_1_literal_in_body_fetch, test_message_announced_over_the_cap,
         test_throttled_pauses_the_run]


def main():
    global BIN, WORK, LIMIT_MEMORY
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("-k", help="run only the tests whose name contains this")
    a = ap.parse_args()
    BIN = os.path.abspath(a.bin)
    with open(BIN, "rb") as f:
        image = f.read()
    LIMIT_MEMORY = not any(w in image for w in (b"__asan_init", b"__tsan_init", b"__msan_init"))
    tests = [t for t in TESTS if not a.k or a.k in t.__name__]
    with tempfile.TemporaryDirectory(prefix="imapferry-hostile-") as work:
        WORK = work
        with Servers() as s:
            for t in tests:
                t(s)
    failed = sum(1 for _, ok in itest.results if not ok)
    print("%d passed, %d failed" % (len(itest.results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
