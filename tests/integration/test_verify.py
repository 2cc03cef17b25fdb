#!/usr/bin/env python3
"""Integration tests of --verify and --justverify between two real Dovecot
servers: a clean sync verifies with 0 differences; then host2 is changed
behind our back (one message rewritten as Cyrus does, 8-bit header bytes
to 'X' with the same size, flags and date; one deleted; one flag changed)
and --justverify reports exactly those 3 and exits 122, leaving both
servers as they were; a host2 folder that does not exist makes its host1
messages missing without being created; --verify with --delete1 is refused.

Every assertion on the servers is made through the oracle (oracle.py,
Python's imaplib): message bytes (sha256), flags, INTERNALDATE, folder names.

Usage: test_verify.py --bin path/to/imapferry
"""
import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import itest  # noqa: E402
import oracle  # noqa: E402
from imaputil import fetch_records, quote  # noqa: E402
from itest import check, run_ferry, snap, stat, test  # noqa: E402

USER = "user3"
DATE0 = 1262304000
FLAGSETS = [["\\Seen"], ["\\Answered", "$Label1"], [], ["\\Seen", "\\Flagged"]]


def message(i, eightbit=False):
    rng = random.Random("verify-%d" % i)
    return corpus.make_message(rng, with_msgid=True, size=1500 + 37 * i,
                               date=(DATE0 + i * 86400, 0), eightbit=eightbit)


def append(conn, folder, msg, i, flags=None, date=None):
    flags = FLAGSETS[i % len(FLAGSETS)] if flags is None else flags
    date = date or corpus.format_internaldate(DATE0 + i * 3600, 120)
    typ, data = conn.append(quote(folder), "(%s)" % " ".join(flags) if flags else None, date, msg)
    check(typ == "OK", "APPEND to %s: %r" % (folder, data))


def fresh(s):
    s.host1.reset(USER)
    s.host2.reset(USER)


def load_host1(s):
    """INBOX: 8 messages, two with raw 8-bit headers; Work: 4."""
    c1 = s.host1.imap(USER)
    c1.create("Work")
    for i in range(8):
        append(c1, "INBOX", message(i, eightbit=i in (2, 5)), i)
    for i in range(8, 12):
        append(c1, "Work", message(i), i)
    c1.logout()
    return 12


def verify_stats(out):
    return {k: stat(out, "Verify: " + k) for k in (
        "folders checked", "messages checked", "missing on host2", "extra on host2",
        "altered on host2", "flags differ", "dates differ", "differences")}


def host2_messages(conn, folder):
    """{uid: record} of every message of a host2 folder (BODY.PEEK: no \\Seen)."""
    typ, data = conn.select(quote(folder))
    check(typ == "OK", "SELECT %s: %r" % (folder, data))
    typ, data = conn.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])")
    check(typ == "OK", "FETCH: %r" % (data,))
    return {int(r["UID"]): r for r in fetch_records(data) if "BODY[]" in r}


def flag_text(rec):
    return " ".join(f if isinstance(f, str) else f.decode() for f in rec.get("FLAGS", [])
                    if (f if isinstance(f, str) else f.decode()).lower() != "\\recent")


def expunge_uid(conn, uid):
    typ, data = conn.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)")
    check(typ == "OK", "STORE \\Deleted: %r" % (data,))
    typ, data = conn.uid("EXPUNGE", str(uid))
    check(typ == "OK", "UID EXPUNGE: %r" % (data,))


def cyrus_rewrite(body):
    """What Cyrus 3.6 does on APPEND: 8-bit header bytes become 'X'."""
    head, sep, rest = body.partition(b"\r\n\r\n")
    return bytes(b if b < 0x80 else 0x58 for b in head) + sep + rest


def unchanged(b1, b2, s, r, what):
    check(oracle.compare(b1, snap(s.host1, USER)) == [], "%s: host1 changed" % what, r)
    check(oracle.compare(b2, snap(s.host2, USER)) == [], "%s: host2 changed" % what, r)


@test
def verify_catches_what_host2_changed(s):
    fresh(s)
    total = load_host1(s)

    # A sync with --verify: identical, and verify says so.
    r = run_ferry(s, USER, "--verify")
    check(r.returncode == 0, "sync --verify: want exit 0", r)
    itest.identical(s, USER)
    v = verify_stats(r.stdout)
    check(v["differences"] == 0 and v["messages checked"] == total and v["folders checked"] == 2,
          "a clean sync must verify with 0 differences over %d messages: %r" % (total, v), r)

    b1, b2 = snap(s.host1, USER), snap(s.host2, USER)
    r = run_ferry(s, USER, "--justverify")
    check(r.returncode == 0, "--justverify after a clean sync: want exit 0", r)
    check(verify_stats(r.stdout)["differences"] == 0, "want 0 differences", r)
    check(stat(r.stdout, "Messages transferred") == 0, "--justverify copied something", r)
    unchanged(b1, b2, s, r, "--justverify")

    # Behind our back, on host2: Cyrus's rewrite of one 8-bit message (same
    # size, flags and date), one message deleted, one flag changed.
    c2 = s.host2.imap(USER)
    inbox = host2_messages(c2, "INBOX")
    eight = [u for u, rec in inbox.items() if any(b >= 0x80 for b in bytes(rec["BODY[]"]))]
    check(len(eight) == 2, "host2 INBOX should hold 2 8-bit messages, has %d" % len(eight))
    victim = inbox[eight[0]]
    body = bytes(victim["BODY[]"])
    altered = cyrus_rewrite(body)
    check(len(altered) == len(body) and altered != body, "the rewrite must keep the size")
    expunge_uid(c2, eight[0])
    date = victim["INTERNALDATE"]
    date = (date if isinstance(date, str) else bytes(date).decode()).strip('"')
    typ, data = c2.append("INBOX", "(%s)" % flag_text(victim), '"%s"' % date, altered)
    check(typ == "OK", "APPEND of the altered copy: %r" % (data,))
    plain = sorted(u for u in inbox if u not in eight)
    flagged = plain[0]
    typ, data = c2.uid("STORE", str(flagged), "+FLAGS.SILENT", "(\\Flagged \\Draft)")
    check(typ == "OK", "STORE: %r" % (data,))
    work = host2_messages(c2, "INBOX.Work")
    check(len(work) == 4, "host2 INBOX.Work should hold 4 messages, has %d" % len(work))
    expunge_uid(c2, sorted(work)[1])
    c2.logout()

    b1, b2 = snap(s.host1, USER), snap(s.host2, USER)
    ledger = os.path.join(itest.WORK, "verify.jsonl")
    r = run_ferry(s, USER, "--justverify", "--ledger", ledger)
    check(r.returncode == 122, "--justverify with 3 differences: want exit 122", r)
    with open(ledger, encoding="utf-8") as f:
        entries = [json.loads(line) for line in f]
    kinds = sorted((e["folder2"], e["outcome"], e["uid1"] is None, e["uid2"] is None)
                   for e in entries)
    check(kinds == [("INBOX", "verify: altered on host2", False, False),
                    ("INBOX", "verify: flags differ", False, False),
                    ("INBOX.Work", "verify: missing on host2", False, True)],
          "the ledger should hold the 3 differences, got %r" % kinds, r)
    v = verify_stats(r.stdout)
    want = {"folders checked": 2, "messages checked": total, "missing on host2": 1,
            "extra on host2": 0, "altered on host2": 1, "flags differ": 1, "dates differ": 0,
            "differences": 3}
    check(v == want, "want %r, got %r" % (want, v), r)
    lines = [ln for ln in r.stdout.splitlines()
             if re.match(r"Verify \[.*\]: (missing|extra|altered|flags|date)", ln)]
    check(len(lines) == 3, "want exactly 3 difference lines, got %r" % lines, r)
    check(any("[INBOX] -> [INBOX]: altered on host2" in ln for ln in lines),
          "the altered message must be named in INBOX", r)
    check(any("[INBOX] -> [INBOX]: flags differ" in ln and "\\Flagged" in ln for ln in lines),
          "the flag change must be named in INBOX", r)
    check(any("[Work] -> [INBOX.Work]: missing on host2" in ln for ln in lines),
          "the deleted message must be named missing in Work", r)
    check("Detected 0 errors" in r.stdout, "differences are not errors", r)
    unchanged(b1, b2, s, r, "--justverify with differences")

    # A sync with --verify puts back what it can (the missing message, the
    # flags); the altered copy has the identity of host1's, so it stays and
    # is still reported.
    r = run_ferry(s, USER, "--verify")
    check(r.returncode == 122, "sync --verify over an altered message: want exit 122", r)
    v = verify_stats(r.stdout)
    check(v["differences"] == 1 and v["altered on host2"] == 1,
          "after the sync only the altered message differs: %r" % v, r)
    check(stat(r.stdout, "Messages transferred") == 1, "the missing message must be copied", r)
    diffs = oracle.compare(snap(s.host1, USER), snap(s.host2, USER))
    check(len(diffs) >= 1 and all("INBOX" in d for d in diffs),
          "host2 must differ from host1 only by the altered INBOX message: %r" % diffs, r)


@test
def justverify_creates_nothing(s):
    fresh(s)
    c1 = s.host1.imap(USER)
    c1.create("Only1")
    for i in range(3):
        append(c1, "Only1", message(20 + i), i)
    append(c1, "INBOX", message(30), 0)
    c1.logout()
    c2 = s.host2.imap(USER)
    append(c2, "INBOX", message(31), 1)
    c2.logout()
    b1, b2 = snap(s.host1, USER), snap(s.host2, USER)
    r = run_ferry(s, USER, "--justverify")
    check(r.returncode == 122, "want exit 122", r)
    v = verify_stats(r.stdout)
    check(v["missing on host2"] == 4 and v["extra on host2"] == 1 and v["differences"] == 5,
          "want 4 missing (3 in a folder host2 lacks) and 1 extra: %r" % v, r)
    check("The sync looks good" not in r.stdout and "The sync is not" not in r.stdout,
          "--justverify syncs nothing: no sync verdict", r)
    unchanged(b1, b2, s, r, "--justverify with a folder host2 lacks")


@test
def justverify_streams_big_messages(s):
    # 2 x 24 MB on both sides: the digests are computed as the bytes come,
    # so --justverify stays far below one message in memory.
    fresh(s)
    c1, c2 = s.host1.imap(USER), s.host2.imap(USER)
    for i in range(2):
        big = message(40 + i)[:-2] + (b"x" * 76 + b"\r\n") * (24 * 1024 * 1024 // 78)
        append(c1, "INBOX", big, i)
        append(c2, "INBOX", big, i)
    c1.logout()
    c2.logout()
    r = run_ferry(s, USER, "--justverify")
    check(r.returncode == 0, "--justverify of equal big messages: want exit 0", r)
    v = verify_stats(r.stdout)
    check(v["messages checked"] == 2 and v["differences"] == 0, "want 0 differences: %r" % v, r)
    peak = float(re.search(r"^Peak memory\s*:\s*([\d.]+) MiB", r.stdout, re.M).group(1))
    # One message held whole would add its 24 MB; the sanitizer build's
    # baseline alone is about 20 MiB.
    check(peak < 22, "--justverify held %.1f MiB for 24 MB messages" % peak, r)


@test
def verify_with_delete1_refused(s):
    fresh(s)
    b1, b2 = snap(s.host1, USER), snap(s.host2, USER)
    r = run_ferry(s, USER, "--verify", "--delete1")
    check(r.returncode == 64 and "--delete1" in r.stderr and "--verify" in r.stderr,
          "--verify --delete1: want exit 64 naming both", r)
    unchanged(b1, b2, s, r, "a refused run")


if __name__ == "__main__":
    sys.exit(itest.main([verify_catches_what_host2_changed, justverify_creates_nothing,
                         justverify_streams_big_messages, verify_with_delete1_refused]))
