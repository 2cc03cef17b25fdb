#!/usr/bin/env python3
"""Integration tests of the message identity options between two real
Dovecot servers: --useheader (a rerun pairs by the chosen fields),
--messageidnodomain (<x@a> pairs with <x@b>), --wholeheaderifneeded (a
scripted host1 that answers HEADER.FIELDS with nothing), --skipcrossduplicates
(a message another host2 folder got is not copied again, one folder at a time
and with --workers), and a bad header name refused before anything is sent.

Every assertion is on the servers' real state, read back with Python's
imaplib (oracle.py): message bytes (sha256) per folder. Exit codes and
output lines are checked in addition, never instead.

Usage: test_identity.py --bin path/to/imapferry
"""
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import itest  # noqa: E402
from hostile_imapd import Folder, HostileImapd, Msg, literal  # noqa: E402
from imaputil import quote  # noqa: E402
from itest import check, run_ferry, snap, stat, test  # noqa: E402

USER = "user2"


def message(msgid, subject, body):
    return ("From: a@example.org\r\nTo: b@example.org\r\nSubject: %s\r\n"
            "Message-ID: %s\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n%s\r\n"
            % (subject, msgid, body)).encode()


def sha(msg):
    return hashlib.sha256(msg).hexdigest()


def append(host, folder, *msgs):
    conn = host.imap(USER)
    if folder != "INBOX":
        conn.create(quote(folder))
    for m in msgs:
        typ, data = conn.append(quote(folder), None, None, m)
        check(typ == "OK", "APPEND to %s: %r" % (folder, data))
    conn.logout()


def fresh(s):
    s.host1.reset(USER)
    s.host2.reset(USER)


def shas(host):
    """{server folder name: sorted list of the messages' sha256}."""
    out = {}
    for name, c in snap(host, USER).by_name().items():
        out[name] = sorted(sha_ for (sha_, _f, _d) in c.elements())
    return out


def ok(r, what):
    check(r.returncode == 0, "%s: want exit 0" % what, r)


@test
def useheader_pairs_by_subject(s):
    fresh(s)
    a = message("<a1@one.example>", "first", "body a")
    b = message("<b1@one.example>", "second", "body b")
    append(s.host1, "INBOX", a, b)
    # host2 already has "first", under another Message-ID and other bytes.
    a2 = message("<other@two.example>", "first", "body a, as host2 got it")
    append(s.host2, "INBOX", a2)
    r = run_ferry(s, USER, "--useheader", "Subject")
    ok(r, "--useheader Subject")
    check(shas(s.host2)["INBOX"] == sorted([sha(a2), sha(b)]),
          "--useheader Subject: host2 must keep its 'first' and get 'second' only", r)
    check(stat(r.stdout, "Messages skipped") == 1, "one message already there", r)
    # A rerun with the same option pairs both: nothing is copied.
    r = run_ferry(s, USER, "--useheader", "subject")
    ok(r, "rerun")
    check(shas(s.host2)["INBOX"] == sorted([sha(a2), sha(b)]), "the rerun copied again", r)
    # Without it the Message-IDs differ, so host1's "first" is copied: the
    # option (and the state's fingerprint holding it) made the difference.
    r = run_ferry(s, USER)
    ok(r, "default identity")
    check(shas(s.host2)["INBOX"] == sorted([sha(a), sha(a2), sha(b)]),
          "without --useheader host1's 'first' must be copied", r)


@test
def messageidnodomain_pairs_across_domains(s):
    fresh(s)
    x = message("<x1@a.example>", "same", "body x")
    y = message("<y1@a.example>", "other", "body y")
    append(s.host1, "INBOX", x, y)
    x2 = message("<x1@b.example>", "same", "body x")
    append(s.host2, "INBOX", x2)
    r = run_ferry(s, USER, "--messageidnodomain")
    ok(r, "--messageidnodomain")
    check(shas(s.host2)["INBOX"] == sorted([sha(x2), sha(y)]),
          "<x1@a.example> must pair with <x1@b.example>; only y copied", r)


def cross_setup(s):
    fresh(s)
    m1 = message("<m1@x>", "in both", "body 1")
    m2 = message("<m2@x>", "inbox only", "body 2")
    m3 = message("<m3@x>", "archive only", "body 3")
    append(s.host1, "INBOX", m1, m2)
    append(s.host1, "Archive", m1, m3)
    return m1, m2, m3


@test
def skipcrossduplicates_one_folder_gets_it(s):
    m1, m2, m3 = cross_setup(s)
    r = run_ferry(s, USER, "--skipcrossduplicates", "--folderfirst", "INBOX")
    ok(r, "--skipcrossduplicates")
    got = shas(s.host2)
    check(got["INBOX"] == sorted([sha(m1), sha(m2)]), "INBOX must get m1 and m2", r)
    check(got["INBOX.Archive"] == [sha(m3)],
          "Archive must not get m1 again (INBOX has it): %r" % got, r)
    check("--skipcrossduplicates" in r.stdout, "the skipped message is named", r)
    check(stat(r.stdout, "Messages skipped") == 1, "counted as skipped", r)
    # A rerun still leaves it out (the state's shortcut is not used).
    r = run_ferry(s, USER, "--skipcrossduplicates", "--folderfirst", "INBOX")
    ok(r, "rerun")
    check(shas(s.host2)["INBOX.Archive"] == [sha(m3)], "the rerun copied m1 to Archive", r)
    # Without the option Archive gets its own copy.
    r = run_ferry(s, USER)
    ok(r, "without --skipcrossduplicates")
    check(shas(s.host2)["INBOX.Archive"] == sorted([sha(m1), sha(m3)]),
          "without the option m1 belongs in Archive too", r)


@test
def skipcrossduplicates_with_workers(s):
    m1, m2, m3 = cross_setup(s)
    r = run_ferry(s, USER, "--skipcrossduplicates", "--workers", "2")
    ok(r, "--skipcrossduplicates --workers 2")
    got = shas(s.host2)
    everything = sorted(got.get("INBOX", []) + got.get("INBOX.Archive", []))
    # Which folder gets m1 depends on which worker reaches it first, but
    # only one does.
    check(everything == sorted([sha(m1), sha(m2), sha(m3)]),
          "m1 must be copied exactly once across the folders: %r" % got, r)
    check(sha(m2) in got["INBOX"] and sha(m3) in got["INBOX.Archive"], "m2, m3 in place", r)


def broken_host1(srv_box):
    """Hooks for a host1 whose HEADER.FIELDS answers are empty, but whose
    BODY.PEEK[HEADER] is right (the servers --wholeheaderifneeded is for)."""
    def empty_fields(sess, tag, f, seqs):
        for q in seqs:
            m = f.msgs[q - 1]
            sess.send(b"* %d FETCH (UID %d FLAGS () INTERNALDATE \"%s\" RFC822.SIZE %d "
                      b"BODY[HEADER.FIELDS (SUBJECT)] {2}\r\n\r\n)\r\n"
                      % (q, m.uid, m.date.encode(), len(m.body)))
        sess.line(tag + b" OK FETCH done")
        return True

    def whole_header(sess, tag, f, pairs):
        last = [text for no, text in srv_box[0].lines if no == sess.no][-1]
        if "BODY.PEEK[HEADER]" not in last.upper():
            return False
        if srv_box[0].state.get("refuse"):
            sess.line(tag + b" NO not today")
            return True
        for q, m in pairs:
            head = m.body.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
            sess.send(b"* %d FETCH (UID %d BODY[HEADER] %s)\r\n" % (q, m.uid, literal(head)))
        sess.line(tag + b" OK UID FETCH done")
        return True
    return {"fetch_meta": empty_fields, "fetch_body": whole_header}


@test
def wholeheaderifneeded_refetches(s):
    user = "user1"
    a = message("<a1@one.example>", "first", "body a")
    a2 = message("<other@two.example>", "first", "body a, as host2 got it")
    box = [None]
    with HostileImapd([Folder("INBOX", [Msg(1, a)])], hooks=broken_host1(box)) as srv:
        box[0] = srv

        def run(*extra):
            args = [itest.BIN, "--host1", "127.0.0.1", "--port1", str(srv.port),
                    "--user1", user, "--password1", srv.password,
                    "--host2", s.host2.host, "--port2", str(s.host2.port),
                    "--user2", user, "--password2", s.host2.password(user),
                    "--notls1", "--notls2", "--nostate", "--nolog",
                    "--pidfile", os.path.join(itest.WORK, "identity.pid"),
                    "--useheader", "Subject"] + list(extra)
            return subprocess.run(args, capture_output=True, text=True, timeout=120)

        s.host2.reset(user)
        conn = s.host2.imap(user)
        conn.append("INBOX", None, None, a2)
        conn.logout()
        h2 = {"INBOX": [sha(a2)]}
        # On by default: the whole header has the Subject, so host2's
        # "first" is host1's message and nothing is copied.
        r = run()
        ok(r, "--useheader Subject on a broken host1")
        check(any("BODY.PEEK[HEADER]" in c.upper() for c in srv.commands("UID FETCH")),
              "the whole header must be fetched", r)
        got = {n: sorted(sha_ for (sha_, _f, _d) in c.elements())
               for n, c in snap(s.host2, user).by_name().items()}
        check(got == h2, "host2 must be left as it was: %r" % got, r)
        # Off: the empty answer is all there is, the message keys as without
        # --useheader and is copied.
        srv.lines.clear()
        r = run("--nowholeheaderifneeded")
        ok(r, "--nowholeheaderifneeded")
        check(not any("BODY.PEEK[HEADER]" in c.upper() for c in srv.commands("UID FETCH")),
              "no whole-header fetch with --nowholeheaderifneeded", r)
        got = {n: sorted(sha_ for (sha_, _f, _d) in c.elements())
               for n, c in snap(s.host2, user).by_name().items()}
        check(got == {"INBOX": sorted([sha(a), sha(a2)])}, "host1's message copied: %r" % got, r)
        # A host1 that refuses the whole header: a note, and the run goes on
        # with the key it has, as with --nowholeheaderifneeded (host2's two
        # messages are keyed by their Subject, so it is copied once more).
        srv.state["refuse"] = True
        r = run()
        ok(r, "whole header refused")
        check("keyed from what came back" in r.stdout + r.stderr, "the refusal is noted", r)
        got2 = {n: sorted(sha_ for (sha_, _f, _d) in c.elements())
                for n, c in snap(s.host2, user).by_name().items()}
        check(got2 == {"INBOX": sorted([sha(a), sha(a), sha(a2)])},
              "copied as without the whole header: %r" % got2, r)


@test
def bad_header_name_refused(s):
    fresh(s)
    append(s.host1, "INBOX", message("<z@x>", "z", "body z"))
    before = snap(s.host2, USER)
    for bad in ("Sub ject", "X:Y", "Subject\r\nA LOGOUT"):
        r = run_ferry(s, USER, "--useheader", bad)
        check(r.returncode == 64, "--useheader %r: want exit 64" % bad, r)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        check(len(lines) == 1 and "--useheader" in lines[0] and "header field name" in lines[0],
              "one line naming --useheader", r)
    r = run_ferry(s, USER, "--skipheader", "(")
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    check(r.returncode == 64 and len(lines) == 1 and lines[0].startswith(
        'imapferry: --skipheader: pattern "(": '), "a bad --skipheader: one line, exit 64", r)
    check(snap(s.host2, USER) == before, "host2 must be untouched", r)


if __name__ == "__main__":
    sys.exit(itest.main([useheader_pairs_by_subject, messageidnodomain_pairs_across_domains,
                         wholeheaderifneeded_refetches, skipcrossduplicates_one_folder_gets_it,
                         skipcrossduplicates_with_workers, bad_header_name_refused]))
