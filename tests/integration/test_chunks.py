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
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
from itest import check, identical, run_ferry, stat, test  # noqa: E402
import itest  # noqa: E402

USER = "user1"
COUNT = 140
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


if __name__ == "__main__":
    sys.exit(itest.main([first_copy_in_chunks, changes_across_chunks]))
