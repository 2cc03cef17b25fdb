#!/usr/bin/env python3
"""Integration tests of the per-folder-pair state: a rerun leaves alone the
folders where nothing changed on either side (one STATUS per side), and
compares in full, by identity, every folder where anything did: new mail,
a flag changed on either host, a copy deleted on host2, other options, a
damaged state file, a run killed halfway. Every assertion is on the
servers' real state read back by the oracle, plus the run's own account of
which folders it looked at.
Usage: test_state.py --bin path/to/imapferry
"""
import glob
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import itest  # noqa: E402
import oracle  # noqa: E402
from itest import check, ferry_args, identical, run_ferry, snap, stat, test  # noqa: E402

USER = "user2"
COUNT = 120
INCREMENTAL = "only the messages new on host1 were listed"


def unchanged_folders(out):
    return re.findall(r"^Folder \[(.*?)\] -> \[.*?\]: unchanged on both hosts", out, re.M)


def looked_at(out):
    """Folders the run compared in full."""
    return re.findall(r"^Folder \[(.*?)\] -> \[.*?\]: (?!unchanged)", out, re.M)


def state_files():
    return glob.glob(os.path.join(itest.WORK, "state", "*", "pair-*.state"))


def map_files():
    return glob.glob(os.path.join(itest.WORK, "state", "*", "pair-*.map"))


def flags_of(host, user, folder, uid):
    conn = host.imap(user)
    conn.select(folder)
    typ, data = conn.uid("FETCH", uid, "(FLAGS)")
    conn.logout()
    return re.search(rb"FLAGS \(([^)]*)\)", data[0]).group(1).decode().split()


def first_uid(conn, folder, criteria="ALL"):
    typ, _ = conn.select(folder)
    check(typ == "OK", "cannot select %s" % folder)
    typ, data = conn.uid("SEARCH", None, criteria)
    uids = data[0].split()
    check(uids, "no message matching %s in %s" % (criteria, folder))
    return uids[0]


@test
def setup(s):
    corpus.load(s.host1.imap(USER), seed=7, count=COUNT)
    r = run_ferry(s, USER)
    check(r.returncode == 0, "first run failed", r)
    check(stat(r.stdout, "Messages transferred") == COUNT, "first run should copy all", r)
    check(unchanged_folders(r.stdout) == [], "a first run has nothing to skip", r)
    check(state_files(), "no state written after a clean run", r)
    # Dovecot has UIDPLUS: every copy's APPENDUID is known, so every
    # folder pair gets its UID map.
    check(len(map_files()) == len(state_files()), "want a UID map beside each state file", r)
    identical(s, USER)


@test
def rerun_skips_every_unchanged_folder(s):
    r = run_ferry(s, USER)
    check(r.returncode == 0, "rerun failed", r)
    check(looked_at(r.stdout) == [], "an unchanged folder was compared in full", r)
    n = len(unchanged_folders(r.stdout))
    check(n >= 5 and stat(r.stdout, "Folders unchanged since last run") == n,
          "want every folder reported unchanged", r)
    check(stat(r.stdout, "Messages transferred") == 0, "rerun copied something", r)
    check(stat(r.stdout, "Messages skipped") == COUNT, "rerun should count all as skipped", r)
    check("The sync looks good, all %d identified messages" % COUNT in r.stdout,
          "want imapsync's verdict from the state's counts", r)
    identical(s, USER)


@test
def new_mail_on_host1_reopens_only_its_folder(s):
    conn = s.host1.imap(USER)
    corpus.append_one(conn, ("INBOX",), corpus.make_message(corpus.random.Random(501)),
                      (r"\Seen",), '"04-Apr-2023 05:06:07 +0100"')
    conn.logout()
    r = run_ferry(s, USER)
    check(r.returncode == 0, "run failed", r)
    check(looked_at(r.stdout) == ["INBOX"], "want only INBOX compared", r)
    check(stat(r.stdout, "Messages transferred") == 1, "want exactly the new message", r)
    check(INCREMENTAL in r.stdout, "host2 did not move: want only the new mail listed", r)
    check(stat(r.stdout, "Messages skipped") == COUNT, "want the others counted as there", r)
    identical(s, USER)


@test
def message_gone_on_host1_keeps_its_copy(s):
    """An expunge on host1 with new mail of the same count: UIDNEXT moved,
    MESSAGES did not. QRESYNC's VANISHED names what went, so host2 is not
    listed; its copy stays on host2 (imapsync without --delete2) and is
    counted as host2's alone, as a full compare would count it."""
    conn = s.host1.imap(USER)
    uid = first_uid(conn, "Junk")
    conn.uid("STORE", uid, "+FLAGS", r"(\Deleted)")
    conn.uid("EXPUNGE", uid)
    corpus.append_one(conn, ("Junk",), corpus.make_message(corpus.random.Random(502)), (),
                      '"05-May-2023 06:07:08 +0000"')
    conn.logout()
    r = run_ferry(s, USER)
    check(r.returncode == 0, "run failed", r)
    check(looked_at(r.stdout) == ["Junk"], "want only Junk compared", r)
    check(INCREMENTAL in r.stdout, "VANISHED names the expunge: host2 need not be listed", r)
    check(stat(r.stdout, "Messages transferred") == 1, "want exactly the new message", r)
    check(stat(r.stdout, "Messages found in host2 not in host1") == 1,
          "want the expunged one seen as host2-only", r)
    # host2 keeps the copy of what host1 expunged, as imapsync without --delete2.
    conn = s.host2.imap(USER)
    typ, data = conn.select("INBOX.Junk")
    n2 = int(data[0])
    conn.logout()
    conn = s.host1.imap(USER)
    typ, data = conn.select("Junk")
    n1 = int(data[0])
    conn.logout()
    check(n2 == n1 + 1, "host2 Junk: %d messages, want %d" % (n2, n1 + 1))
    r = run_ferry(s, USER)
    check(looked_at(r.stdout) == [], "the next run should leave everything alone", r)
    # Back to a mirror for the tests that follow; other options, full compare.
    r = run_ferry(s, USER, "--delete2", "--delete2ceiling", "100")
    check(stat(r.stdout, "Messages deleted on host2") == 1, "want the one copy deleted", r)
    r = run_ferry(s, USER)
    check(r.returncode == 0, "run failed", r)
    identical(s, USER)


@test
def flag_change_on_host1_is_seen(s):
    conn = s.host1.imap(USER)
    uid = first_uid(conn, "Sent", "UNFLAGGED")
    conn.uid("STORE", uid, "+FLAGS", r"(\Flagged)")
    conn.logout()
    r = run_ferry(s, USER)
    check(r.returncode == 0, "run failed", r)
    check(looked_at(r.stdout) == ["Sent"], "want only Sent compared", r)
    check(re.search(r"^Folder \[Sent\] .* 1 flag update\b", r.stdout, re.M),
          "want one flag update in Sent", r)
    check(INCREMENTAL in r.stdout,
          "host2 did not move: the UID map should place the change without listing it", r)
    identical(s, USER)


@test
def flag_change_on_host2_is_undone(s):
    conn = s.host2.imap(USER)
    uid = first_uid(conn, "INBOX", "SEEN")
    conn.uid("STORE", uid, "-FLAGS", r"(\Seen)")
    conn.logout()
    r = run_ferry(s, USER)
    check(r.returncode == 0, "run failed", r)
    check(looked_at(r.stdout) == ["INBOX"], "want only INBOX compared", r)
    identical(s, USER)


@test
def copy_deleted_on_host2_is_sent_again(s):
    conn = s.host2.imap(USER)
    uid = first_uid(conn, "INBOX")
    conn.uid("STORE", uid, "+FLAGS", r"(\Deleted)")
    conn.uid("EXPUNGE", uid)  # only this one: the corpus has \Deleted messages too
    conn.logout()
    r = run_ferry(s, USER)
    check(r.returncode == 0, "run failed", r)
    check(looked_at(r.stdout) == ["INBOX"], "want only INBOX compared", r)
    check(stat(r.stdout, "Messages transferred") == 1, "want the deleted copy sent again", r)
    identical(s, USER)


@test
def other_options_compare_in_full(s):
    r = run_ferry(s, USER, "--maxsize", "100000000")
    check(r.returncode == 0, "run failed", r)
    check(unchanged_folders(r.stdout) == [], "a state written under other options was used", r)
    r = run_ferry(s, USER, "--maxsize", "100000000")
    check(looked_at(r.stdout) == [], "the same options twice should skip again", r)
    r = run_ferry(s, USER, "--nostate")
    check(unchanged_folders(r.stdout) == [], "--nostate used the state", r)
    identical(s, USER)


@test
def damaged_state_is_a_note_not_a_copy(s):
    files = state_files()
    check(files, "no state files")
    for f in files:
        with open(f, "r+b") as fh:
            data = fh.read()
            fh.seek(0)
            fh.write(data.replace(b"counts ", b"cOunts ", 1))
    r = run_ferry(s, USER)
    check(r.returncode == 0, "run failed", r)
    check(unchanged_folders(r.stdout) == [], "a damaged state file was trusted", r)
    check("is not one imapferry wrote" in r.stdout, "want a note naming the state file", r)
    check(stat(r.stdout, "Messages transferred") == 0, "a damaged state caused copies", r)
    r = run_ferry(s, USER)
    check(looked_at(r.stdout) == [], "the state was not rewritten", r)
    identical(s, USER)


@test
def flag_change_goes_to_the_mapped_copy(s):
    """host1 changed flags, host2 did not move: the map names the copy, so
    host2 is not listed and the copy gets exactly host1's flags."""
    conn = s.host1.imap(USER)
    uid1 = first_uid(conn, "INBOX", "UNANSWERED")
    conn.uid("STORE", uid1, "+FLAGS", r"(\Answered $Label7)")
    conn.logout()
    r = run_ferry(s, USER)
    check(r.returncode == 0, "run failed", r)
    check(looked_at(r.stdout) == ["INBOX"], "want only INBOX looked at", r)
    check(INCREMENTAL in r.stdout, "want the map to place the change", r)
    check(re.search(r"^Folder \[INBOX\] .* 1 flag update\b", r.stdout, re.M),
          "want one flag update in INBOX", r)
    want = sorted(flags_of(s.host1, USER, "INBOX", uid1))
    check("\\Answered" in want and "$Label7" in want, "host1 flags: %s" % want)
    got = [sorted(flags_of(s.host2, USER, "INBOX", u.decode()))
           for u in host2_uids(s, "INBOX")]
    check(want in got, "no host2 copy has host1's new flags %s" % want, r)
    identical(s, USER)


def host2_uids(s, folder):
    conn = s.host2.imap(USER)
    conn.select(folder)
    typ, data = conn.uid("SEARCH", None, "ALL")
    conn.logout()
    return data[0].split()


@test
def damaged_map_is_a_note_not_a_copy(s):
    files = map_files()
    check(files, "no UID map files")
    for f in files:
        with open(f, "r+b") as fh:
            data = bytearray(fh.read())
            data[-12] ^= 0xFF  # inside the last entry: the checksum no longer holds
            fh.seek(0)
            fh.write(data)
    conn = s.host1.imap(USER)
    uid = first_uid(conn, "INBOX", "UNFLAGGED")
    conn.uid("STORE", uid, "+FLAGS", r"(\Flagged)")
    conn.logout()
    r = run_ferry(s, USER)
    check(r.returncode == 0, "run failed", r)
    check("UID map" in r.stdout and "is not one imapferry wrote" in r.stdout,
          "want a note naming the damaged map", r)
    check(INCREMENTAL not in r.stdout, "a damaged map was trusted", r)
    check(stat(r.stdout, "Messages transferred") == 0, "a damaged map caused copies", r)
    identical(s, USER)
    # Rewritten by that run: the next flag change goes through it again.
    conn = s.host1.imap(USER)
    conn.select("INBOX")
    conn.uid("STORE", uid, "-FLAGS", r"(\Flagged)")
    conn.logout()
    r = run_ferry(s, USER)
    check(INCREMENTAL in r.stdout, "the map was not rewritten", r)
    identical(s, USER)


@test
def uidvalidity_change_on_host2_repairs_by_identity(s):
    """host2's Sent is recreated with the same messages (a new UIDVALIDITY):
    its map is void, the folder is paired by identity, nothing is copied
    twice, and the new map serves the next run."""
    conn = s.host2.imap(USER)
    typ, data = conn.select("INBOX.Sent")
    old_validity = conn.response("UIDVALIDITY")[1][0]
    typ, data = conn.uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[])")
    msgs = []
    for item in data:
        if not isinstance(item, tuple):
            continue
        meta = item[0].decode()
        flags = re.search(r"FLAGS \(([^)]*)\)", meta).group(1)
        flags = " ".join(f for f in flags.split() if f != "\\Recent")
        date = re.search(r'INTERNALDATE ("[^"]*")', meta).group(1)
        msgs.append((flags, date, item[1]))
    conn.close()
    conn.delete("INBOX.Sent")
    conn.create("INBOX.Sent")
    conn.subscribe("INBOX.Sent")
    for flags, date, body in msgs:
        conn.append("INBOX.Sent", "(%s)" % flags, date, body)
    conn.select("INBOX.Sent")
    new_validity = conn.response("UIDVALIDITY")[1][0]
    conn.logout()
    check(new_validity != old_validity, "Dovecot kept the UIDVALIDITY")
    r = run_ferry(s, USER)
    check(r.returncode == 0, "run failed", r)
    check(looked_at(r.stdout) == ["Sent"], "want only Sent compared", r)
    check(stat(r.stdout, "Messages transferred") == 0, "the recreated folder got copies", r)
    identical(s, USER)
    conn = s.host1.imap(USER)
    uid = first_uid(conn, "Sent", "UNSEEN")
    conn.uid("STORE", uid, "+FLAGS", r"(\Seen)")
    conn.logout()
    r = run_ferry(s, USER)
    check(INCREMENTAL in r.stdout, "want the new map used", r)
    identical(s, USER)


@test
def copy_rewritten_by_host2_stays_paired(s):
    """A copy host2 holds with other bytes (here rewritten on the way by
    --regexmess) is the same message to the map: a later full compare
    under --noskipsize (another size is another message) leaves it paired
    instead of copying it again."""
    user = "user1"
    statedir = os.path.join(itest.WORK, "state-rewritten")
    conn = s.host1.imap(user)
    rng = corpus.random.Random(4242)
    for i in range(6):
        corpus.append_one(conn, ("INBOX",), corpus.make_message(rng), (), None)
    conn.logout()
    rule = r"s/\r\n\r\n/\r\nX-Rewritten: yes\r\n\r\n/"
    r = run_ferry(s, user, "--noskipsize", "--regexmess", rule, "--statedir", statedir)
    check(r.returncode == 0 and stat(r.stdout, "Messages transferred") == 6, "first run", r)
    r = run_ferry(s, user, "--noskipsize", "--statedir", statedir)
    check(r.returncode == 0, "rerun failed", r)
    check(stat(r.stdout, "Messages transferred") == 0,
          "the rewritten copies were copied again", r)
    conn = s.host2.imap(user)
    typ, data = conn.select("INBOX")
    conn.logout()
    check(int(data[0]) == 6, "host2 INBOX has %s messages, want 6" % data[0].decode())
    s.host1.reset(user)
    s.host2.reset(user)


@test
def kill_during_copy_then_rerun(s):
    """New mail in every folder, the run killed with SIGKILL while copying:
    the old state no longer matches host2, so the next run pairs what
    arrived by identity and copies the rest once."""
    conn = s.host1.imap(USER)
    rng = corpus.random.Random(777)
    for i in range(150):
        folder = ("INBOX",) if i % 2 else ("Sent",)
        corpus.append_one(conn, folder, corpus.make_message(rng, size=200000), (), None)
    conn.logout()
    # The cap keeps the copy going for seconds, so the kill lands inside it.
    p = subprocess.Popen(ferry_args(s, USER, "--maxbytespersecond", "4000000"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.5)
    p.send_signal(signal.SIGKILL)
    p.communicate()
    check(p.returncode == -signal.SIGKILL, "the run ended before the kill")
    check(oracle.compare(snap(s.host1, USER), snap(s.host2, USER)) != [],
          "the killed run had already copied everything")
    r = run_ferry(s, USER)
    check(r.returncode == 0, "rerun after the kill failed", r)
    identical(s, USER)
    r = run_ferry(s, USER)
    check(looked_at(r.stdout) == [], "the run after recovery should leave every folder alone",
          r)


# The lines a full compare and an incremental run must print alike: the
# run's counts and verdict, and the changed folder's own lines.
# (Project X is reported unchanged by one and compared by the other.)
SAME_LINES = re.compile(r"^(Messages |Total bytes |Start difference|Final difference|The sync|"
                        r"There is no|Host[12]: folder \[INBOX\]|Folder \[INBOX\] -> |"
                        r"msg INBOX/)")

TWINS = ("user1", "user3")


def twin_accounts(s, *extra):
    """The same small account for both TWINS (no duplicates: each message
    once), copied once with its own state dir each; returns the dirs."""
    dirs = []
    for user in TWINS:
        s.host1.reset(user)
        s.host2.reset(user)
        conn = s.host1.imap(user)
        conn.create('"Project X"')
        rng = corpus.random.Random(1414)
        for i in range(24):
            corpus.append_one(conn, ("INBOX",) if i % 3 else ("Project X",),
                              corpus.make_message(rng, size=2000 + 97 * i),
                              (r"\Seen",) if i % 2 else (), None)
        conn.logout()
        d = os.path.join(itest.WORK, "state-" + user)
        r = run_ferry(s, user, "--statedir", d, *extra)
        check(r.returncode == 0 and stat(r.stdout, "Messages transferred") == 24,
              "first copy of %s" % user, r)
        identical(s, user)
        dirs.append(d)
    return dirs


def expunge_flag_add(s, user):
    """host1's INBOX loses its 2nd and 4th messages, its 6th gets \\Flagged
    and a new message comes; returns the expunged ones as the oracle sees
    them (a Counter)."""
    before = snap(s.host1, user)[("INBOX",)]
    conn = s.host1.imap(user)
    conn.select("INBOX")
    typ, data = conn.uid("SEARCH", None, "ALL")
    uids = data[0].split()
    gone = b",".join([uids[1], uids[3]])
    conn.uid("STORE", gone, "+FLAGS", r"(\Deleted)")
    conn.uid("EXPUNGE", gone)
    conn.logout()
    after = snap(s.host1, user)[("INBOX",)]
    conn = s.host1.imap(user)
    conn.select("INBOX")
    conn.uid("STORE", uids[5], "+FLAGS", r"(\Flagged)")
    corpus.append_one(conn, ("INBOX",), corpus.make_message(corpus.random.Random(1515)),
                      (), '"06-Jun-2023 07:08:09 +0000"')
    conn.logout()
    return before - after


def same_counts(inc, full):
    # sorted: the workers finish folders in any order
    lines_a = sorted(line for line in inc.stdout.splitlines() if SAME_LINES.match(line))
    lines_b = sorted(line for line in full.stdout.splitlines() if SAME_LINES.match(line))
    check(lines_a and lines_a == lines_b,
          "the incremental run and the full compare count differently:\n%s" %
          "\n".join("%s\n   | %s" % (x, y) for x, y in zip(lines_a, lines_b) if x != y),
          inc)


@test
def expunges_on_host1_without_listing_host2(s):
    """Issue 14: two messages expunged on host1, a flag changed, one new.
    The rerun reads the expunges from VANISHED and does not list host2;
    host2 keeps the two copies (no --delete2), and every count comes out
    as the full compare of a twin account (--nostate) gives it."""
    dirs = twin_accounts(s)
    gone = [expunge_flag_add(s, user) for user in TWINS]
    check(sum(gone[0].values()) == 2, "want 2 expunged messages, got %r" % gone[0])
    inc = run_ferry(s, TWINS[0], "--statedir", dirs[0])
    check(inc.returncode == 0, "incremental run failed", inc)
    check(looked_at(inc.stdout) == ["INBOX"], "want only INBOX looked at", inc)
    check(INCREMENTAL in inc.stdout, "the expunges sent INBOX to a full compare", inc)
    check(re.search(r"^Folder \[INBOX\] .* 1 copied, .* 1 flag update\b", inc.stdout, re.M),
          "want one copy and one flag update in INBOX", inc)
    full = run_ferry(s, TWINS[1], "--nostate")
    check(full.returncode == 0, "full compare failed", full)
    check(INCREMENTAL not in full.stdout, "--nostate took the shortcut", full)
    same_counts(inc, full)
    check(stat(inc.stdout, "Messages found in host2 not in host1") == 2,
          "want the two copies counted as host2's alone", inc)
    for user, g in zip(TWINS, gone):
        a, b = snap(s.host1, user), snap(s.host2, user)
        check(b[("INBOX",)] == a[("INBOX",)] + g,
              "%s: host2 INBOX is not host1's plus the two expunged" % user)
        del a[("INBOX",)], b[("INBOX",)]
        check(oracle.compare(a, b) == [], "%s: other folders differ" % user)
    # The map lost the two: the next run leaves INBOX alone, and a flag
    # change still goes through the map.
    r = run_ferry(s, TWINS[0], "--statedir", dirs[0])
    check(looked_at(r.stdout) == [], "the run after should leave everything alone", r)


@test
def expunges_on_host1_with_delete2(s):
    """The same with --delete2: host2 loses exactly the two copies, the
    log names them as a full compare does, and the counts agree."""
    dirs = twin_accounts(s, "--delete2", "--delete2ceiling", "100")
    gone = [expunge_flag_add(s, user) for user in TWINS]
    inc = run_ferry(s, TWINS[0], "--statedir", dirs[0], "--delete2", "--delete2ceiling", "100")
    check(inc.returncode == 0, "incremental run failed", inc)
    check(INCREMENTAL in inc.stdout, "the expunges sent INBOX to a full compare", inc)
    check(stat(inc.stdout, "Messages deleted on host2") == 2, "want the two copies deleted", inc)
    check(len(re.findall(r"^msg INBOX/\d+ deleted on host2 \(not on host1, --delete2\)$",
                         inc.stdout, re.M)) == 2, "want a line per deleted copy", inc)
    full = run_ferry(s, TWINS[1], "--nostate", "--delete2", "--delete2ceiling", "100")
    check(full.returncode == 0, "full compare failed", full)
    same_counts(inc, full)
    for user in TWINS:
        identical(s, user)
    r = run_ferry(s, TWINS[0], "--statedir", dirs[0], "--delete2", "--delete2ceiling", "100")
    check(looked_at(r.stdout) == [], "the run after should leave everything alone", r)


NO_QRESYNC = ("IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT MULTIAPPEND UNSELECT "
              "CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED CONDSTORE ESEARCH LIST-STATUS MOVE "
              "LITERAL+ SPECIAL-USE")


@test
def expunge_on_host1_without_qresync_compares_in_full(s):
    """A host1 that announces CONDSTORE but not QRESYNC: the expunge is
    seen by a full compare, as before."""
    user = TWINS[0]
    h1 = s.add_host("h1noqr", layout="host1", extra_config=(
        "protocol imap {\n  imap_capability = %s\n}\n" % NO_QRESYNC))
    s.host2.reset(user)
    conn = h1.imap(user)
    rng = corpus.random.Random(1616)
    for i in range(6):
        corpus.append_one(conn, ("INBOX",), corpus.make_message(rng), (), None)
    conn.logout()
    d = os.path.join(itest.WORK, "state-noqr")

    def run(*extra):
        args = ferry_args(s, user, "--statedir", d, *extra, pw1=h1.password(user))
        args[args.index("--port1") + 1] = str(h1.port)
        return subprocess.run(args, capture_output=True, text=True, timeout=600)

    r = run("--justlogin")
    announced = r.stdout.split("host1: capabilities:")[-1].split("\n")[0]
    check("CONDSTORE" in announced and "QRESYNC" not in announced,
          "h1noqr does not announce what the test needs: the test proves nothing", r)
    r = run()
    check(r.returncode == 0 and stat(r.stdout, "Messages transferred") == 6, "first copy", r)
    conn = h1.imap(user)
    conn.select("INBOX")
    conn.uid("STORE", "2", "+FLAGS", r"(\Deleted)")
    conn.uid("EXPUNGE", "2")
    corpus.append_one(conn, ("INBOX",), corpus.make_message(rng), (), None)
    conn.logout()
    r = run()
    check(r.returncode == 0, "run failed", r)
    check(INCREMENTAL not in r.stdout, "without QRESYNC an expunge must mean a full compare", r)
    check(stat(r.stdout, "Messages transferred") == 1, "want exactly the new message", r)
    check(stat(r.stdout, "Messages found in host2 not in host1") == 1,
          "want the expunged one seen as host2-only", r)
    a, b = oracle.snapshot(h1.host, h1.port, user, h1.password(user)), snap(s.host2, user)
    check(sum(b[("INBOX",)].values()) == 7 and not (a[("INBOX",)] - b[("INBOX",)]),
          "host2 INBOX should hold host1's 6 and the expunged one")


if __name__ == "__main__":
    sys.exit(itest.main([setup, rerun_skips_every_unchanged_folder,
                         new_mail_on_host1_reopens_only_its_folder,
                         message_gone_on_host1_keeps_its_copy, flag_change_on_host1_is_seen,
                         flag_change_on_host2_is_undone, copy_deleted_on_host2_is_sent_again,
                         other_options_compare_in_full, damaged_state_is_a_note_not_a_copy,
                         flag_change_goes_to_the_mapped_copy, damaged_map_is_a_note_not_a_copy,
                         uidvalidity_change_on_host2_repairs_by_identity,
                         copy_rewritten_by_host2_stays_paired, kill_during_copy_then_rerun,
                         expunges_on_host1_without_listing_host2, expunges_on_host1_with_delete2,
                         expunge_on_host1_without_qresync_compares_in_full]))
