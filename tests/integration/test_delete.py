#!/usr/bin/env python3
"""Integration tests of the deletion options between two real Dovecot
servers: --delete1 (after a verified copy only), --delete1 with --delete2
refused, --delete2duplicates, --delete2folders with --delete2foldersonly
and --delete2foldersbutnot, the ceiling, and --dry deleting nothing.

Every assertion is on the servers' real state, read back with Python's
imaplib (oracle.py): message bytes (sha256), flags, INTERNALDATE, folder
names. Exit codes and output lines are checked in addition, never instead.

Usage: test_delete.py --bin path/to/imapferry
"""
import collections
import hashlib
import os
import random
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import itest  # noqa: E402
import oracle  # noqa: E402
from imaputil import quote  # noqa: E402
from itest import check, run_ferry, snap, stat, test  # noqa: E402

USER = "user2"
DATE0 = 1262304000
FLAGSETS = [["\\Seen"], ["\\Answered", "$Label1"], ["\\Flagged"], []]


def message(i, tag="del", size=900):
    rng = random.Random("%s-%d" % (tag, i))
    return corpus.make_message(rng, with_msgid=(i % 4 != 3), size=size,
                               date=(DATE0 + i * 86400, 0), eightbit=False)


def append(conn, folder, msg, i, flags=None):
    date = corpus.format_internaldate(DATE0 + i * 86400, 60)
    flags = FLAGSETS[i % len(FLAGSETS)] if flags is None else flags
    typ, data = conn.append(quote(folder), "(%s)" % " ".join(flags) if flags else None, date, msg)
    check(typ == "OK", "APPEND to %s: %r" % (folder, data))


def fresh(s):
    s.host1.reset(USER)
    s.host2.reset(USER)


def by_name(host):
    return snap(host, USER).by_name()


def count(host):
    """{server folder name: number of messages}."""
    return {n: sum(c.values()) for n, c in by_name(host).items()}


def shas(counter):
    return collections.Counter(sha for (sha, _f, _d), n in counter.items() for _ in range(n))


def oracle_sha(msg):
    return hashlib.sha256(msg).hexdigest()


def ok(r, what):
    check(r.returncode == 0, "%s: want exit 0" % what, r)


def unchanged(before1, before2, s, r, what):
    check(oracle.compare(before1, snap(s.host1, USER)) == [], "%s: host1 changed" % what, r)
    check(oracle.compare(before2, snap(s.host2, USER)) == [], "%s: host2 changed" % what, r)


@test
def delete1_moves_what_was_copied(s):
    fresh(s)
    c1 = s.host1.imap(USER)
    c1.create("Work")
    for i in range(12):
        append(c1, "INBOX" if i < 8 else "Work", message(i), i)
    # One big message that --maxsize leaves out: it must stay on host1.
    big = message(99, size=20000)
    append(c1, "Work", big, 99)
    c1.logout()
    # Two of them are on host2 already (same bytes, flags and date).
    c2 = s.host2.imap(USER)
    append(c2, "INBOX", message(0), 0)
    append(c2, "INBOX", message(1), 1)
    c2.logout()
    old1 = snap(s.host1, USER)

    # --dry: lists, deletes nothing, copies nothing.
    before2 = snap(s.host2, USER)
    r = run_ferry(s, USER, "--delete1", "--maxsize", "10000", "--dry")
    ok(r, "--delete1 --dry")
    check(len(re.findall(r"would be deleted on host1", r.stdout)) == 12,
          "--dry must list the 12 messages --delete1 would take", r)
    unchanged(old1, before2, s, r, "--delete1 --dry")

    r = run_ferry(s, USER, "--delete1", "--maxsize", "10000")
    ok(r, "--delete1")
    check(stat(r.stdout, "Messages deleted on host1") == 12, "want 12 deleted on host1", r)
    check(stat(r.stdout, "Messages transferred") == 10, "want 10 copied", r)
    # host1 keeps exactly the message left out, folders included.
    got1 = by_name(s.host1)
    check(sorted(got1) == ["INBOX", "Work"], "host1 folders changed: %r" % sorted(got1), r)
    check(sum(got1["INBOX"].values()) == 0, "host1 INBOX is not empty", r)
    check(list(shas(got1["Work"])) == [oracle_sha(big)] and sum(got1["Work"].values()) == 1,
          "host1 Work must keep only the big message", r)
    # host2 holds what host1 held, less the message left out.
    want = oracle.Snapshot("want")
    for f, c in old1.items():
        want[f] = collections.Counter({k: n for k, n in c.items() if k[0] != oracle_sha(big)})
    diffs = oracle.compare(want, snap(s.host2, USER), subscriptions=False)
    check(not diffs, "host2 is not the old host1:\n" + "\n".join(diffs[:20]), r)

    # A rerun has nothing left to move.
    r = run_ferry(s, USER, "--delete1", "--maxsize", "10000")
    ok(r, "--delete1 rerun")
    check(stat(r.stdout, "Messages deleted on host1") == 0, "the rerun deleted again", r)


@test
def delete1_keeps_a_refused_message(s):
    # host2 refuses messages over 100 KB: that one stays on host1, the
    # others are moved, and the run says it had errors.
    small = s.add_host("h2small", layout="host2", extra_config=(
        "mail_plugins = $mail_plugins quota\n"
        "plugin {\n  quota = maildir:User quota\n  quota_max_mail_size = 100k\n}\n"))
    fresh(s)
    small.reset(USER)
    c1 = s.host1.imap(USER)
    for i in range(6):
        append(c1, "INBOX", message(i), i)
    big = message(50, size=150000)
    append(c1, "INBOX", big, 50)
    c1.logout()
    args = itest.ferry_args(s, USER, "--delete1", pw2=small.password(USER), port2=small.port)
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    check(r.returncode != 0, "a refused APPEND must not end in exit 0", r)
    check(re.search(r"APPEND", r.stderr), "no line names the refused APPEND", r)
    got1 = by_name(s.host1)
    check(list(shas(got1["INBOX"])) == [oracle_sha(big)],
          "host1 must keep exactly the refused message, has %d" % sum(got1["INBOX"].values()), r)
    got2 = snap(small, USER).by_name()
    check(sum(got2["INBOX"].values()) == 6 and oracle_sha(big) not in shas(got2["INBOX"]),
          "host2 must hold the 6 small ones", r)
    check(stat(r.stdout, "Messages deleted on host1") == 6, "want 6 deleted on host1", r)


@test
def delete1_with_delete2_refused(s):
    fresh(s)
    c1 = s.host1.imap(USER)
    for i in range(3):
        append(c1, "INBOX", message(i), i)
    c1.logout()
    c2 = s.host2.imap(USER)
    append(c2, "INBOX", message(40), 40)
    c2.logout()
    b1, b2 = snap(s.host1, USER), snap(s.host2, USER)
    r = run_ferry(s, USER, "--delete1", "--delete2")
    check(r.returncode == 64, "--delete1 --delete2: want exit 64", r)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    check(len(lines) == 1 and "--delete1" in lines[0] and "--delete2" in lines[0],
          "want one line naming both options", r)
    unchanged(b1, b2, s, r, "--delete1 --delete2")


@test
def delete2duplicates_keeps_one_of_each(s):
    fresh(s)
    c1 = s.host1.imap(USER)
    for i in range(20):
        append(c1, "INBOX", message(i), i)
    c1.logout()
    r = run_ferry(s, USER)
    ok(r, "first copy")
    want = by_name(s.host1)["INBOX"]
    # host2 gets a second copy of message 0, and two copies of one host1
    # never had: 23 messages, 2 of them extra copies (within 10%).
    c2 = s.host2.imap(USER)
    append(c2, "INBOX", message(0), 0)
    append(c2, "INBOX", message(70), 70)
    append(c2, "INBOX", message(70), 70)
    c2.logout()
    b1, b2 = snap(s.host1, USER), snap(s.host2, USER)
    r = run_ferry(s, USER, "--delete2duplicates", "--dry")
    ok(r, "--delete2duplicates --dry")
    check(len(re.findall(r"would be deleted on host2 \(duplicate", r.stdout)) == 2,
          "--dry must list the 2 extra copies", r)
    unchanged(b1, b2, s, r, "--delete2duplicates --dry")

    r = run_ferry(s, USER, "--delete2duplicates")
    ok(r, "--delete2duplicates")
    check(stat(r.stdout, "Messages deleted on host2") == 2, "want 2 deleted on host2", r)
    got = by_name(s.host2)["INBOX"]
    extra = shas(got) - shas(want)
    check(sum(got.values()) == 21 and list(extra) == [oracle_sha(message(70))]
          and extra[oracle_sha(message(70))] == 1 and not (shas(want) - shas(got)),
          "host2 must hold host1's 20 and one copy of the foreign message", r)

    # --delete2 then takes the foreign message too, nothing else.
    r = run_ferry(s, USER, "--delete2")
    ok(r, "--delete2")
    got = by_name(s.host2)["INBOX"]
    check(got == want, "host2 INBOX must equal host1's after --delete2", r)


def make_folders(conn, names):
    for n in names:
        typ, data = conn.create(quote(n))
        check(typ == "OK", "CREATE %s: %r" % (n, data))


@test
def delete2folders_only_butnot_and_ceiling(s):
    fresh(s)
    c1 = s.host1.imap(USER)
    make_folders(c1, ["Work", "Private"])
    for i, f in enumerate(["INBOX", "Work", "Private"]):
        append(c1, f, message(i), i)
    c1.logout()
    r = run_ferry(s, USER, "--exclude", "^Private$")
    ok(r, "first copy")
    c2 = s.host2.imap(USER)
    # INBOX.Private: host1 has Private, only excluded from the sync: stays.
    make_folders(c2, ["INBOX.Private", "INBOX.Old", "INBOX.Old.Sub", "INBOX.Junk", "INBOX.Full"])
    c2.subscribe("INBOX.Junk")
    append(c2, "INBOX.Full", message(80), 80)
    c2.logout()
    base = {"INBOX", "INBOX.Work", "INBOX.Private"}

    def names():
        return set(count(s.host2))

    b1, b2 = snap(s.host1, USER), snap(s.host2, USER)
    r = run_ferry(s, USER, "--exclude", "^Private$", "--delete2folders", "--dry")
    check("Folder [INBOX.Old.Sub] would be deleted on host2" in r.stdout
          and "Folder [INBOX.Junk] would be deleted on host2" in r.stdout,
          "--dry must list the folders", r)
    unchanged(b1, b2, s, r, "--delete2folders --dry")

    r = run_ferry(s, USER, "--exclude", "^Private$", "--delete2foldersonly", "/Junk/")
    ok(r, "--delete2foldersonly /Junk/")
    check(names() == base | {"INBOX.Old", "INBOX.Old.Sub", "INBOX.Full"},
          "only INBOX.Junk may go, host2 has %r" % sorted(names()), r)
    check(stat(r.stdout, "Folders deleted on host2") == 1, "want 1 folder deleted", r)

    r = run_ferry(s, USER, "--exclude", "^Private$", "--delete2foldersbutnot", "/Old/")
    check(r.returncode != 0 and "--delete2ceiling 100" in r.stderr and "INBOX.Full" in r.stderr,
          "INBOX.Full holds a message: want an error naming the override", r)
    check(names() == base | {"INBOX.Old", "INBOX.Old.Sub", "INBOX.Full"},
          "butnot /Old/ and the ceiling: nothing may go, host2 has %r" % sorted(names()), r)

    r = run_ferry(s, USER, "--exclude", "^Private$", "--delete2folders")
    check(r.returncode != 0, "INBOX.Full is still over the ceiling", r)
    check(names() == base | {"INBOX.Full"}, "Old and Old.Sub must go, host2 has %r"
          % sorted(names()), r)
    check(sum(by_name(s.host2)["INBOX.Full"].values()) == 1, "INBOX.Full lost its message", r)

    r = run_ferry(s, USER, "--exclude", "^Private$", "--delete2folders",
                  "--delete2ceiling", "100")
    ok(r, "--delete2folders --delete2ceiling 100")
    check(names() == base, "INBOX.Full must go now, host2 has %r" % sorted(names()), r)
    # What host1 maps to is intact.
    got = by_name(s.host2)
    h1 = by_name(s.host1)
    check(got["INBOX"] == h1["INBOX"] and got["INBOX.Work"] == h1["Work"],
          "a synced folder changed", r)


@test
def expunge1_expunge2_nouidexpunge2(s):
    fresh(s)
    c1 = s.host1.imap(USER)
    for i in range(20):
        append(c1, "INBOX", message(i), i)
    append(c1, "INBOX", message(60), 60, flags=["\\Deleted"])
    c1.logout()
    # --expunge1: host1's message marked \Deleted is expunged before the
    # folder is listed, so it is never copied.
    r = run_ferry(s, USER, "--expunge1")
    ok(r, "--expunge1")
    got1 = by_name(s.host1)["INBOX"]
    check(sum(got1.values()) == 20 and oracle_sha(message(60)) not in shas(got1),
          "--expunge1 must remove exactly the \\Deleted message from host1", r)
    check(by_name(s.host2)["INBOX"] == got1, "host2 must equal host1", r)
    # --delete2 --nouidexpunge2: the foreign host2 message is only marked.
    c2 = s.host2.imap(USER)
    append(c2, "INBOX", message(61), 61, flags=[])
    c2.logout()
    r = run_ferry(s, USER, "--delete2", "--nouidexpunge2")
    ok(r, "--delete2 --nouidexpunge2")
    got2 = by_name(s.host2)["INBOX"]
    marked = [f for (sha, f, _d) in got2 if sha == oracle_sha(message(61))]
    check(sum(got2.values()) == 21 and marked == [frozenset({"\\Deleted"})],
          "--nouidexpunge2: the message must stay, marked \\Deleted, got %r" % marked, r)
    # --expunge2 alone: a plain EXPUNGE after the folder removes it.
    r = run_ferry(s, USER, "--expunge2")
    ok(r, "--expunge2")
    check(by_name(s.host2)["INBOX"] == got1, "--expunge2 must leave host2 equal to host1", r)


@test
def bad_folder_rule_refused(s):
    b1, b2 = snap(s.host1, USER), snap(s.host2, USER)
    r = run_ferry(s, USER, "--delete2foldersonly", "s/a/b/")
    check(r.returncode == 64 and "--delete2foldersonly" in r.stderr,
          "a substitution is no match expression: want exit 64 naming the option", r)
    unchanged(b1, b2, s, r, "a refused rule")


if __name__ == "__main__":
    sys.exit(itest.main([delete1_moves_what_was_copied, delete1_with_delete2_refused,
                         delete2duplicates_keeps_one_of_each,
                         delete2folders_only_butnot_and_ceiling, expunge1_expunge2_nouidexpunge2,
                         bad_folder_rule_refused,
                         delete1_keeps_a_refused_message]))
