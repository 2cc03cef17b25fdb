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
                         kill_during_copy_then_rerun]))
