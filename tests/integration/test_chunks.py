#!/usr/bin/env python3
"""Integration tests of host1 listed, planned and copied a chunk at a time
(issue 14: memory that does not grow with the mailbox). A hidden test hook,
IMAPFERRY_TEST_HOST1_CHUNK, makes the chunks a few messages long so that the
corpus (duplicates, messages without Message-ID, keywords) crosses many
chunk boundaries; the servers' real state is checked by the oracle and the
counts are compared with a run that lists host1 whole (--delete2duplicates
--dry needs the whole listing, so it is never chunked).
Usage: test_chunks.py --bin path/to/imapferry
"""
import glob
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
from itest import check, identical, run_ferry, stat, test  # noqa: E402
import itest  # noqa: E402

USER = "user1"
COUNT = 140
MAP_USER = "user2"  # the UID map test's own account pair, with state
MAP_COUNT = 40
INCREMENTAL = "only the messages new on host1 were listed"
COUNTS = ("Messages transferred", "Messages skipped", "Messages found duplicate on host1",
          "Messages found duplicate on host2")


def chunked(n):
    env = dict(os.environ)
    env["IMAPFERRY_TEST_HOST1_CHUNK"] = str(n)
    return env


def found(r, which):
    """"Messages found in host1 not in host2" (which = "host1 not in host2")."""
    return int(re.search(r"^Messages found in %s\s*:\s*(\d+)" % which, r.stdout,
                         re.M).group(1))


def counts(r):
    return tuple(stat(r.stdout, c) for c in COUNTS) + (
        found(r, "host1 not in host2"), found(r, "host2 not in host1"))


@test
def first_copy_in_chunks(s):
    corpus.load(s.host1.imap(USER), seed=11, count=COUNT)
    r = run_ferry(s, USER, "--nostate", env=chunked(7))
    check(r.returncode == 0, "chunked first copy failed", r)
    check(stat(r.stdout, "Messages transferred") == COUNT, "want every message copied", r)
    identical(s, USER)
    r = run_ferry(s, USER, "--nostate", env=chunked(3))
    check(r.returncode == 0, "chunked rerun failed", r)
    check(stat(r.stdout, "Messages transferred") == 0, "a rerun in chunks copied again", r)
    check(stat(r.stdout, "Messages skipped") == COUNT, "want every message paired", r)
    identical(s, USER)


@test
def changes_across_chunks(s):
    # host2 loses two copies, gains one message of its own, and host1
    # changes flags: the chunked run copies exactly the two, fixes the flags
    # and counts as a whole listing does.
    h2 = s.host2.imap(USER)
    typ, _ = h2.select("INBOX")
    check(typ == "OK", "cannot select host2 INBOX")
    typ, data = h2.uid("SEARCH", None, "ALL")
    uids = data[0].split()
    check(len(uids) > 10, "INBOX too small for the test")
    for u in (uids[1], uids[-2]):
        h2.uid("STORE", u, "+FLAGS", r"(\Deleted)")
        h2.uid("EXPUNGE", u)
    corpus.append_one(h2, ("INBOX",), b"Subject: only on host2\r\nMessage-ID: <only2@t>\r\n\r\nx\r\n")
    h2.logout()
    h1 = s.host1.imap(USER)
    h1.select("INBOX")
    typ, data = h1.uid("SEARCH", None, "ALL")
    for u in data[0].split()[3::9]:
        h1.uid("STORE", u, "+FLAGS", r"(\Flagged Work)")
    h1.logout()

    whole = run_ferry(s, USER, "--nostate", "--dry", "--delete2duplicates")
    check(whole.returncode == 0, "whole --dry run failed", whole)
    part = run_ferry(s, USER, "--nostate", "--dry", env=chunked(5))
    check(part.returncode == 0, "chunked --dry run failed", part)
    check(counts(part) == counts(whole), "chunked counts %r differ from whole %r"
          % (counts(part), counts(whole)), part)
    check(found(part, "host1 not in host2") == 2, "want the two lost copies", part)

    r = run_ferry(s, USER, "--nostate", env=chunked(5))
    check(r.returncode == 0, "chunked run failed", r)
    check(stat(r.stdout, "Messages transferred") == 2, "want the two lost copies sent", r)
    # the message only host2 has stays; without it host2 is host1
    h2 = s.host2.imap(USER)
    h2.select("INBOX")
    typ, data = h2.uid("SEARCH", None, "HEADER", "Message-ID", "<only2@t>")
    only = data[0].split()
    check(len(only) == 1, "host2's own message is gone")
    h2.uid("STORE", only[0], "+FLAGS", r"(\Deleted)")
    h2.uid("EXPUNGE", only[0])
    h2.logout()
    identical(s, USER)


@test
def listing_in_rounds(s):
    """Both sides' listings in FETCHes of 3 messages (a hidden test hook):
    rounds of 1, 2, 4 and then 8 FETCHes sent back to back, which Dovecot
    may answer at once, each command's messages coming with another's. Every
    message must be listed once: the copy is exact, a rerun pairs them all,
    and host2's listing after a loss is complete too."""
    user = "user3"
    s.host1.reset(user)
    s.host2.reset(user)
    corpus.load(s.host1.imap(user), seed=12, count=COUNT)
    env = dict(os.environ)
    env["IMAPFERRY_TEST_META_CHUNK"] = "3"
    r = run_ferry(s, user, "--nostate", "--workers", "1", env=env)
    check(r.returncode == 0, "first copy failed", r)
    check(stat(r.stdout, "Messages transferred") == COUNT, "want every message copied", r)
    identical(s, user)
    # host2 loses copies here and there: the rerun lists both sides in
    # rounds and sends back exactly those.
    h2 = s.host2.imap(user)
    h2.select("INBOX")
    typ, data = h2.uid("SEARCH", None, "ALL")
    gone = data[0].split()[::7]
    check(len(gone) >= 5, "INBOX too small for the test")
    for u in gone:
        h2.uid("STORE", u, "+FLAGS", r"(\Deleted)")
    h2.expunge()
    h2.logout()
    whole = run_ferry(s, user, "--nostate", "--workers", "1", "--dry")
    check(whole.returncode == 0, "--dry run with whole FETCHes failed", whole)
    lost = found(whole, "host1 not in host2")
    check(lost >= len(gone), "the loss went unseen", whole)
    r = run_ferry(s, user, "--nostate", "--workers", "1", "--dry", env=env)
    check(counts(r) == counts(whole), "counts %r in rounds differ from %r" % (
        counts(r), counts(whole)), r)
    r = run_ferry(s, user, "--nostate", "--workers", "1", env=env)
    check(r.returncode == 0, "rerun failed", r)
    check(stat(r.stdout, "Messages transferred") == lost, "want the %d lost sent back" % lost, r)
    identical(s, user)


def map_counts():
    """Entries of each UID map of MAP_USER's account pair (header: magic,
    two UIDVALIDITYs, a 64-bit count, little-endian)."""
    out = []
    for path in glob.glob(os.path.join(itest.WORK, "state", MAP_USER + "@*", "pair-*.map")):
        with open(path, "rb") as fh:
            head = fh.read(24)
        check(head[:8] == b"IFUMAP01", "%s is not a UID map" % path)
        out.append(struct.unpack("<Q", head[16:24])[0])
    return sorted(out)


def mail(i):
    return (b"From: a@example.org\r\nTo: b@example.org\r\nSubject: map %d\r\n"
            b"Message-ID: <chunkmap%d@t>\r\n\r\nbody %d\r\n" % (i, i, i))


def set_flags(host, msgid, flags):
    """+FLAGS on the one INBOX message with that Message-ID."""
    conn = host.imap(MAP_USER)
    conn.select("INBOX")
    typ, data = conn.uid("SEARCH", None, "HEADER", "Message-ID", msgid)
    uids = data[0].split()
    check(len(uids) == 1, "want one %s, found %r" % (msgid, uids))
    conn.uid("STORE", uids[0], "+FLAGS", flags)
    conn.logout()


def flags_of(host, msgid):
    conn = host.imap(MAP_USER)
    conn.select("INBOX")
    typ, data = conn.uid("SEARCH", None, "HEADER", "Message-ID", msgid)
    uids = data[0].split()
    check(len(uids) == 1, "want one %s, found %r" % (msgid, uids))
    typ, data = conn.uid("FETCH", uids[0], "(FLAGS)")
    conn.logout()
    return sorted(re.search(rb"FLAGS \(([^)]*)\)", data[0]).group(1).decode().split())


def flag_update_through_map(s, msgid, flags, new):
    """host1 changes msgid's flags (and gets message new, if any): the
    chunked rerun sends the change through the map, without listing host2."""
    set_flags(s.host1, msgid, flags)
    if new is not None:
        conn = s.host1.imap(MAP_USER)
        corpus.append_one(conn, ("INBOX",), mail(new))
        conn.logout()
    r = run_ferry(s, MAP_USER, env=chunked(7))
    check(r.returncode == 0, "chunked rerun failed", r)
    check(INCREMENTAL in r.stdout, "the map was not used: host2 listed in full", r)
    check(re.search(r"^Folder \[INBOX\] .* 1 flag update\b", r.stdout, re.M),
          "want one flag update in INBOX", r)
    check(stat(r.stdout, "Messages transferred") == (new is not None),
          "want only the new message copied", r)
    want = flags_of(s.host1, msgid)
    check(flags_of(s.host2, msgid) == want, "host2's copy lacks host1's flags %s" % want, r)
    identical(s, MAP_USER)
    return r


@test
def map_kept_across_chunks(s):
    # A folder listed in chunks of 7 leaves its UID map: after a first copy
    # (APPENDUIDs only) and after a full compare (the chunks' pairs), a
    # host1 flag change goes straight to host2's copy.
    conn = s.host1.imap(MAP_USER)
    for i in range(MAP_COUNT):
        corpus.append_one(conn, ("INBOX",), mail(i), flags=("\\Seen",) if i % 3 else ())
    conn.logout()
    r = run_ferry(s, MAP_USER, env=chunked(7))
    check(r.returncode == 0, "chunked first copy failed", r)
    check(stat(r.stdout, "Messages transferred") == MAP_COUNT, "want every message copied", r)
    identical(s, MAP_USER)
    check(MAP_COUNT in map_counts(), "want INBOX's map with every message, have %r"
          % map_counts(), r)

    flag_update_through_map(s, "<chunkmap5@t>", r"(\Flagged $Work)", MAP_COUNT)
    check(MAP_COUNT + 1 in map_counts(), "the rerun's map lacks the new copy", r)

    # host2 loses a copy: a full compare in chunks, with the old map, pairs
    # every other message and builds the map from the chunks' pairs.
    conn = s.host2.imap(MAP_USER)
    conn.select("INBOX")
    typ, data = conn.uid("SEARCH", None, "HEADER", "Message-ID", "<chunkmap20@t>")
    conn.uid("STORE", data[0].split()[0], "+FLAGS", r"(\Deleted)")
    conn.uid("EXPUNGE", data[0].split()[0])
    conn.logout()
    r = run_ferry(s, MAP_USER, env=chunked(7))
    check(r.returncode == 0, "chunked full compare failed", r)
    check(INCREMENTAL not in r.stdout, "host2 moved: want a full compare", r)
    check(stat(r.stdout, "Messages transferred") == 1, "want the lost copy sent again", r)
    check(stat(r.stdout, "Messages skipped") == MAP_COUNT, "want the others paired", r)
    identical(s, MAP_USER)
    check(MAP_COUNT + 1 in map_counts(), "the full compare's map is not whole: %r"
          % map_counts(), r)

    flag_update_through_map(s, "<chunkmap33@t>", r"(\Answered)", None)
    flag_update_through_map(s, "<chunkmap20@t>", r"(\Flagged)", None)


def store_kw(host, user, msgid, op, flags):
    """UID STORE op flags on the one INBOX message with that Message-ID."""
    conn = host.imap(user)
    conn.select("INBOX")
    typ, data = conn.uid("SEARCH", None, "HEADER", "Message-ID", msgid)
    uids = data[0].split()
    check(len(uids) == 1, "want one %s, found %r" % (msgid, uids))
    conn.uid("STORE", uids[0], op, flags)
    conn.logout()


@test
def keywords_survive_in_chunks(s):
    # Keywords are interned once per process (a message holds an id):
    # several keywords on one message, sets shared by others, and sets
    # that change on host1 afterwards must reach host2 exactly, through
    # the chunked full compare and through the UID map.
    user = "user3"
    s.host1.reset(user)
    s.host2.reset(user)
    sets = (("$Forwarded", "Work", "ProjectX"), ("Work",), ("$Forwarded", "Work"), (),
            ("\\Seen", "ProjectX", "Work"))
    conn = s.host1.imap(user)
    for i in range(20):
        corpus.append_one(conn, ("INBOX",), b"Subject: kw %d\r\nMessage-ID: <kw%d@t>\r\n\r\n"
                          b"body %d\r\n" % (i, i, i), flags=sets[i % len(sets)])
    conn.logout()
    r = run_ferry(s, user, env=chunked(3))
    check(r.returncode == 0, "first copy failed", r)
    check(stat(r.stdout, "Messages transferred") == 20, "want every message copied", r)
    identical(s, user)
    # one keyword off a message of three, another gains the set it lost,
    # a third gets one no message had: a full compare in chunks
    store_kw(s.host1, user, "<kw0@t>", "-FLAGS", "(Work)")
    store_kw(s.host1, user, "<kw2@t>", "+FLAGS", "(ProjectX)")
    store_kw(s.host1, user, "<kw3@t>", "+FLAGS", "($Label9 Work)")
    r = run_ferry(s, user, "--nostate", env=chunked(3))
    check(r.returncode == 0, "full compare failed", r)
    check(re.search(r"^Folder \[INBOX\] .* 3 flag updates\b", r.stdout, re.M),
          "want three flag updates in INBOX", r)
    check(stat(r.stdout, "Messages transferred") == 0, "the full compare copied", r)
    identical(s, user)
    # and once more through the map the first run left
    store_kw(s.host1, user, "<kw1@t>", "+FLAGS", "($Forwarded ProjectX)")
    r = run_ferry(s, user, env=chunked(3))
    check(r.returncode == 0, "rerun with state failed", r)
    check(re.search(r"^Folder \[INBOX\] .* 1 flag update\b", r.stdout, re.M),
          "want one flag update in INBOX", r)
    identical(s, user)


if __name__ == "__main__":
    sys.exit(itest.main([first_copy_in_chunks, changes_across_chunks, listing_in_rounds,
                         map_kept_across_chunks, keywords_survive_in_chunks]))
