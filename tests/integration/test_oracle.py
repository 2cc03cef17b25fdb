#!/usr/bin/env python3
"""Self-test of the test tooling: harness + corpus + oracle.

Proves that the oracle reports identical accounts as identical and that it
FAILS on each kind of difference (flag, INTERNALDATE, extra message, missing
folder, subscription), with a message saying what differs.

Run from anywhere:  python3 tests/integration/test_oracle.py
Exit 0 when all checks pass, 1 otherwise; prints "N passed, N failed".
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import time
import traceback
from collections import Counter, defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
import imaputil  # noqa: E402
import oracle  # noqa: E402
from harness import Servers  # noqa: E402

SEED, COUNT, USER = 7, 40, "user2"

passed = 0
failed = 0


def check(name: str, cond: bool, detail="") -> bool:
    global passed, failed
    if cond:
        passed += 1
        print("PASS %s" % name)
    else:
        failed += 1
        print("FAIL %s" % name)
        if detail:
            text = detail if isinstance(detail, str) else "\n".join(map(str, detail))
            print("     " + text.replace("\n", "\n     "))
    return cond


def snaps(s):
    a = oracle.snapshot(s.host1.host, s.host1.port, USER, s.host1.password(USER), label="host1")
    b = oracle.snapshot(s.host2.host, s.host2.port, USER, s.host2.password(USER), label="host2")
    return a, b


def fresh_host2(s):
    """Reset host2/user2 and load the same corpus again."""
    s.host2.reset(USER)
    conn = s.host2.imap(USER)
    corpus.load(conn, seed=SEED, count=COUNT)
    conn.logout()


def find_uid(conn, folder_name: str, want=lambda rec: True):
    """First message in a folder (selected read-write) matching want(rec)."""
    typ, _ = conn.select(imaputil.quote(folder_name))
    assert typ == "OK", folder_name
    typ, data = conn.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])")
    for rec in imaputil.fetch_records(data):
        if "BODY[]" in rec and want(rec):
            return rec
    raise AssertionError("no matching message in %s" % folder_name)


def test_units():
    check("mUTF-7 encodes Entwürfe", imaputil.mutf7_encode("Entwürfe") == "Entw&APw-rfe")
    check("mUTF-7 round trip", all(imaputil.mutf7_decode(imaputil.mutf7_encode(x)) == x
                                   for x in ["A&B", "日本語/x", "Project X", "€uro&Co", "😀"]))
    check("INTERNALDATE zones normalised",
          imaputil.parse_internaldate("01-Jan-2020 05:30:00 +0530")
          == imaputil.parse_internaldate("31-Dec-2019 16:00:00 -0800")
          == imaputil.parse_internaldate("01-Jan-2020 00:00:00 +0000"))
    r1, r2 = random.Random(5), random.Random(5)
    m = corpus.make_message(r1)
    check("make_message deterministic, CRLF, no NUL",
          m == corpus.make_message(r2) and b"\0" not in m and b"\n" not in m.replace(b"\r\n", b""))


def test_servers(s):
    try:
        s.host1.imap(USER, s.host2.password(USER))
        ok = False
    except Exception:
        ok = True
    check("host1 refuses host2's password", ok)
    conn = s.host2.imap(USER)
    check("host2 namespace is INBOX./.",
          imaputil.get_namespace(conn) == ("INBOX.", "."), imaputil.get_namespace(conn))
    conn.logout()


def test_identical(s):
    for h in s.hosts:
        conn = h.imap(USER)
        corpus.load(conn, seed=SEED, count=COUNT)
        conn.logout()
    a, b = snaps(s)
    d = oracle.compare(a, b)
    check("same corpus on both hosts -> no difference", d == [], d)
    check("snapshot holds all %d messages" % COUNT, a.total() == COUNT == b.total(),
          (a.total(), b.total()))
    # the oracle's view equals what the corpus generator produced
    exp = defaultdict(Counter)
    for f, m, fl, dt in corpus.generate(SEED, COUNT):
        exp[f][(hashlib.sha256(m).hexdigest(), frozenset(fl), imaputil.parse_internaldate(dt.strip('"')))] += 1
    check("snapshot matches corpus.generate()", all(exp[f] == b.get(f) for f in exp),
          [f for f in exp if exp[f] != b.get(f)])
    want = {("INBOX",), ("Archive", "2019"), ("Entwürfe",), ("Project X",), ("Empty",)}
    check("logical folders incl. nested, non-ASCII, space, empty", want <= set(b), sorted(b))
    check("non-ASCII name is mUTF-7 on host2",
          b.names.get(("Entwürfe",)) == "INBOX.Entw&APw-rfe", b.names.get(("Entwürfe",)))
    check("Junk not subscribed, Empty subscribed",
          ("Junk",) not in a.subscribed and ("Empty",) in a.subscribed, sorted(a.subscribed))


def test_flag_difference(s):
    conn = s.host2.imap(USER)
    rec = find_uid(conn, "INBOX", lambda r: "\\Flagged" not in r["FLAGS"])
    typ, _ = conn.uid("STORE", rec["UID"], "+FLAGS", "(\\Flagged)")
    conn.logout()
    d = oracle.compare(*snaps(s))
    check("flag change -> exactly one difference", len(d) == 1, d)
    check("... says INBOX, flags, \\Flagged, both hosts",
          len(d) == 1 and d[0].startswith("INBOX: message ") and "flags" in d[0]
          and "\\Flagged" in d[0] and "host1" in d[0] and "host2" in d[0]
          and "INTERNALDATE" not in d[0], d)
    print("     reported: %s" % (d[0] if d else None))


def test_date_difference(s):
    fresh_host2(s)
    d = oracle.compare(*snaps(s))
    check("after reset + reload -> no difference", d == [], d)
    conn = s.host2.imap(USER)
    name = imaputil.to_server_name(("Sent",), "INBOX.", ".")
    rec = find_uid(conn, name)
    epoch = imaputil.parse_internaldate(rec["INTERNALDATE"])
    flags = [f for f in rec["FLAGS"] if f.lower() != "\\recent"]
    # same bytes and flags, INTERNALDATE one hour later; then drop the original
    corpus.append_one(conn, ("Sent",), bytes(rec["BODY[]"]), flags, (epoch + 3600, -480))
    conn.select(imaputil.quote(name))
    conn.uid("STORE", rec["UID"], "+FLAGS.SILENT", "(\\Deleted)")
    typ, data = conn.uid("EXPUNGE", rec["UID"])
    conn.logout()
    d = oracle.compare(*snaps(s))
    check("INTERNALDATE change -> exactly one difference", len(d) == 1, d)
    check("... says Sent, INTERNALDATE, +3600 s, not flags",
          len(d) == 1 and d[0].startswith("Sent: ") and "INTERNALDATE" in d[0]
          and "+3600 s" in d[0] and "flags" not in d[0], d)
    print("     reported: %s" % (d[0] if d else None))


def test_extra_message(s):
    fresh_host2(s)
    conn = s.host2.imap(USER)
    msg = corpus.make_message(random.Random(4242), with_msgid=False)
    corpus.append_one(conn, ("Project X",), msg, ["\\Seen", "Work"], (1500000000, 330))
    conn.logout()
    d = oracle.compare(*snaps(s))
    check("extra message -> exactly one difference", len(d) == 1, d)
    check("... says Project X, only on host2, its sha",
          len(d) == 1 and d[0].startswith("Project X: message ")
          and "only on host2" in d[0] and hashlib.sha256(msg).hexdigest()[:10] in d[0], d)
    print("     reported: %s" % (d[0] if d else None))


def test_missing_folder(s):
    fresh_host2(s)
    conn = s.host2.imap(USER)
    name = imaputil.quote(imaputil.to_server_name(("Archive", "2019"), "INBOX.", "."))
    # only DELETE: Dovecot keeps the subscription, so exactly one difference
    typ, data = conn.delete(name)
    conn.logout()
    d = oracle.compare(*snaps(s))
    check("missing folder -> exactly one difference", len(d) == 1, d)
    check("... says folder Archive/2019 only on host1",
          len(d) == 1 and "folder 'Archive/2019'" in d[0] and "only on host1" in d[0], d)
    print("     reported: %s" % (d[0] if d else None))


def test_subscription_and_timezone(s):
    fresh_host2(s)
    # the same instant in two zones is not a difference
    msg = corpus.make_message(random.Random(77))
    for h, tz in ((s.host1, 330), (s.host2, -480)):
        conn = h.imap(USER)
        corpus.append_one(conn, ("INBOX",), msg, [], (1600000000, tz))
        conn.logout()
    d = oracle.compare(*snaps(s))
    check("same INTERNALDATE instant in other zones -> no difference", d == [], d)
    conn = s.host2.imap(USER)
    conn.unsubscribe(imaputil.quote("INBOX.Sent"))
    conn.logout()
    d = oracle.compare(*snaps(s))
    check("unsubscribed folder -> exactly 'subscription 'Sent' only on host1'",
          d == ["subscription 'Sent' only on host1"], d)


def main() -> int:
    t0 = time.monotonic()
    test_units()
    try:
        with Servers() as s:
            print("servers up in %.2fs: host1 :%d, host2 :%d (%s)"
                  % (time.monotonic() - t0, s.host1.port, s.host2.port, s.root))
            for t in (test_servers, test_identical, test_flag_difference, test_date_difference,
                      test_extra_message, test_missing_folder, test_subscription_and_timezone):
                t1 = time.monotonic()
                try:
                    t(s)
                    print("     (%s: %.2fs)" % (t.__name__, time.monotonic() - t1))
                except Exception:
                    check(t.__name__ + " raised", False, traceback.format_exc())
            t1 = time.monotonic()
        print("servers stopped in %.2fs" % (time.monotonic() - t1))
    except Exception:
        check("harness", False, traceback.format_exc())
    print("%d passed, %d failed (%.1fs)" % (passed, failed, time.monotonic() - t0))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
