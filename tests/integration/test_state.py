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
def message_gone_on_host1_means_full_compare(s):
    """An expunge on host1 with new mail of the same count: UIDNEXT moved,
    MESSAGES did not; only a full compare sees what is what."""
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
    check(INCREMENTAL not in r.stdout, "an expunge on host1 must mean a full compare", r)
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


if __name__ == "__main__":
    sys.exit(itest.main([setup, rerun_skips_every_unchanged_folder,
                         new_mail_on_host1_reopens_only_its_folder,
                         message_gone_on_host1_means_full_compare, flag_change_on_host1_is_seen,
                         flag_change_on_host2_is_undone, copy_deleted_on_host2_is_sent_again,
                         other_options_compare_in_full, damaged_state_is_a_note_not_a_copy,
                         flag_change_goes_to_the_mapped_copy, damaged_map_is_a_note_not_a_copy,
                         uidvalidity_change_on_host2_repairs_by_identity,
                         copy_rewritten_by_host2_stays_paired, kill_during_copy_then_rerun]))
