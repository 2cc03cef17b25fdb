#!/usr/bin/env python3
"""Integration tests of imapsync's folder and flag rules, between two real
Dovecot servers (harness.py): selection (--folder, --folderrec, --include,
--exclude, --subscribed, --folderfirst/last, --subfolder1), naming
(prefix/separator mapping, --regextrans2, --subfolder2, --f1f2, --automap,
merging), subscriptions, flags (--regexflag, --noresyncflags), dates
(--nosyncinternaldates), --dry, the two migration-guide scripts and the
option table.

Every assertion is on the servers' real state, read back over IMAP with
Python's imaplib (oracle.py), not through imapferry: folder names as the
server lists them, message bytes (sha256), flags, INTERNALDATE and
subscriptions. Exit codes and output lines are checked in addition, never
instead.

The expected host2 names below were computed by hand with perl 5, applying
imapsync 2.229's own code (prefix_seperator_invertion, separator_invert with
fixslash2, `eval "\\$h2_fold =~ $rule ; 1"` for each --regextrans2, the
q() rules of set_regextrans2_for_subfolder2, `/$exclude/` on the host1 name)
to the raw host1 names; this suite runs neither perl nor imapsync.

Names Dovecot 2.3 refuses (found with CREATE on both layouts), so not in the
corpus: names with control characters (`&AAo-` = LF, `&AA0ACg-` = CRLF:
"Control characters not allowed in new mailbox names"; these are what script
1's last --regextrans2 strips), names starting with '~' ("Begins with '~'"),
and on host2 (Maildir++) any '/' in a name. Everything else in the brief is
accepted on host1 (LAYOUT=fs, '/'): `Foo: Bar`, `Star*Folder`, `Pct%Folder`,
`Quote"d`, `Trailing ` (trailing space), ` Leading`, `Dot.ted`, `Back\\slash`.
Flags: Dovecot refuses `\\Junk` and any other unknown backslash flag ("Invalid
system flag \\JUNK"), and keywords with '"' ("Invalid characters in atom");
it accepts `$Label1`, `NonJunk`, `Junk`, `a:b`, `a/b`.

Usage: test_rules.py --bin path/to/imapferry
"""
import collections
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import itest  # noqa: E402
import oracle  # noqa: E402
from imaputil import list_mailboxes, mutf7_decode, quote  # noqa: E402
from itest import check, run_ferry, snap, stat, test  # noqa: E402

SEP2 = "."

# --------------------------------------------------------------------------
# the rules corpus (host1, user1): raw host1 names (modified UTF-7, sep '/'),
# whether host1 has them subscribed. Parents before children, so no parent is
# a \Noselect placeholder.
# --------------------------------------------------------------------------
RULES_USER = "user1"
RULES_FOLDERS = [
    ("INBOX", True),
    ("Sent", True),
    ("Sent/Old", True),
    ("Drafts", False),
    ("Trash", True),
    ("Junk", False),
    ("Spam", True),
    ("Junkyard", True),        # \bJunk\b does not match: kept by script 1
    ("Old spam", True),        # (?i)\bSpam\b matches: excluded by script 1
    ("Archive", True),
    ("Archive/2019", True),
    ("Foo: Bar", True),        # colon
    ("Star*Folder", True),     # asterisk (a LIST wildcard)
    ('Quote"d', True),         # double quote
    ("Trailing ", True),       # trailing space
    ("Calendar", True),
    ("Calendar/Sub", False),
    ("Contacts", False),
    ("INBOX/Receipts", True),  # a child of INBOX
    ("Entw&APw-rfe", True),    # Entwürfe, non-ASCII
    ('Notes: "x" ', True),     # colon, quotes and a trailing space at once
    ("Dot.ted", True),         # host2's separator inside a host1 name
]
ALL1 = [n for n, _ in RULES_FOLDERS]
SUBSCRIBED1 = {n for n, sub in RULES_FOLDERS if sub}

# imapsync's default naming onto host2 (prefix "INBOX.", sep "."): prefix1
# removed, separators swapped, a '/' left becomes '_' (fixslash2, on by
# default), prefix2 added except for INBOX. host1 INBOX/Receipts becomes
# INBOX.INBOX.Receipts (imapsync's mapping, the "double INBOX").
DEFAULT_H2 = {
    "INBOX": "INBOX",
    "Sent": "INBOX.Sent",
    "Sent/Old": "INBOX.Sent.Old",
    "Drafts": "INBOX.Drafts",
    "Trash": "INBOX.Trash",
    "Junk": "INBOX.Junk",
    "Spam": "INBOX.Spam",
    "Junkyard": "INBOX.Junkyard",
    "Old spam": "INBOX.Old spam",
    "Archive": "INBOX.Archive",
    "Archive/2019": "INBOX.Archive.2019",
    "Foo: Bar": "INBOX.Foo: Bar",
    "Star*Folder": "INBOX.Star*Folder",
    'Quote"d': 'INBOX.Quote"d',
    "Trailing ": "INBOX.Trailing ",
    "Calendar": "INBOX.Calendar",
    "Calendar/Sub": "INBOX.Calendar.Sub",
    "Contacts": "INBOX.Contacts",
    "INBOX/Receipts": "INBOX.INBOX.Receipts",
    "Entw&APw-rfe": "INBOX.Entw&APw-rfe",
    'Notes: "x" ': 'INBOX.Notes: "x" ',
    "Dot.ted": "INBOX.Dot_ted",
}

# Script 1 of the migration guides (imapsync-coverage.md), as the shell line
#   imapsync --buffersize 8192000 --nosyncacls --subscribe --syncinternaldates \
#     --exclude '(?i)\b(Junk|Spam|Trash)\b' \
#     --regexflag 's/\\\\(?!Answered|Flagged|Deleted|Seen|Recent|Draft)[^\s]*\s*//ig' \
#     --regexflag 'tr,:"/,_,' \
#     --regextrans2 's,:,-,g' --regextrans2 's,\*,,g' --regextrans2 's,\",'\'',g' \
#     --regextrans2 's,\s+(?=/|$),,g' \
#     --regextrans2 's,^(Briefcase|Calendar|Contacts|Emailed Contacts|Notebook|Tasks)(?=/|$), $1 Folder,ig' \
#     --host1 ... --password2 "$2" \
#     --regextrans2 's,\",-,g' --regextrans2 's,&AAo-|&AA0ACg-|&AA0ACgANAAo-(?=/|$),,g' \
#     --pidfile "$3.pid" --pidfilelocking --logfile $3
# passes to the program exactly these strings (checked with bash printing its
# argv); hosts, ports, users, passwords, --notls1/2 and the pid/log paths come
# from itest.ferry_args and script1_args().
SCRIPT1_RULES = [
    "--buffersize", "8192000", "--nosyncacls", "--subscribe", "--syncinternaldates",
    "--exclude", r"(?i)\b(Junk|Spam|Trash)\b",
    "--regexflag", r"s/\\\\(?!Answered|Flagged|Deleted|Seen|Recent|Draft)[^\s]*\s*//ig",
    "--regexflag", r'tr,:"/,_,',
    "--regextrans2", r"s,:,-,g",
    "--regextrans2", r"s,\*,,g",
    "--regextrans2", r"s,\",',g",
    "--regextrans2", r"s,\s+(?=/|$),,g",
    "--regextrans2",
    r"s,^(Briefcase|Calendar|Contacts|Emailed Contacts|Notebook|Tasks)(?=/|$), $1 Folder,ig",
    "--regextrans2", r"s,\",-,g",
    "--regextrans2", r"s,&AAo-|&AA0ACg-|&AA0ACgANAAo-(?=/|$),,g",
]

# What perl gives for script 1 (see the module docstring). Junk, Spam, Trash
# and "Old spam" are excluded. The rules were written for a '/' sep2 server:
# on host2's '.' layout (?=/|$) only matches at the end of the whole name, and
# ^(...Calendar|Contacts...) never matches because every name but INBOX starts
# with the prefix "INBOX.", so Calendar and Contacts keep their names.
SCRIPT1_H2 = {
    "INBOX": "INBOX",
    "Sent": "INBOX.Sent",
    "Sent/Old": "INBOX.Sent.Old",
    "Drafts": "INBOX.Drafts",
    "Junkyard": "INBOX.Junkyard",
    "Archive": "INBOX.Archive",
    "Archive/2019": "INBOX.Archive.2019",
    "Foo: Bar": "INBOX.Foo- Bar",
    "Star*Folder": "INBOX.StarFolder",
    'Quote"d': "INBOX.Quote'd",
    "Trailing ": "INBOX.Trailing",
    "Calendar": "INBOX.Calendar",
    "Calendar/Sub": "INBOX.Calendar.Sub",
    "Contacts": "INBOX.Contacts",
    "INBOX/Receipts": "INBOX.INBOX.Receipts",
    "Entw&APw-rfe": "INBOX.Entw&APw-rfe",
    'Notes: "x" ': "INBOX.Notes- 'x'",
    "Dot.ted": "INBOX.Dot_ted",
}
SCRIPT1_EXCLUDED = {"Junk", "Spam", "Trash", "Old spam"}

# --subfolder2 Migrated: imapsync's three rules s,^INBOX.(.*),INBOX.Migrated.$1,
# s,^INBOX$,INBOX.Migrated.INBOX, s,^(INBOX.){2},INBOX., in front of the chain.
SUBFOLDER2_H2 = {n: ("INBOX.Migrated.INBOX" if n == "INBOX"
                     else "INBOX.Migrated." + DEFAULT_H2[n][len("INBOX."):]) for n in ALL1}

# Flags of the corpus messages, cycled. Dovecot refuses \Junk (see above), so
# the junk-like ones are the keywords Junk and NonJunk; a:b and a/b carry the
# characters script 1's tr,:"/,_, maps.
FLAGSETS = [
    ["\\Seen"],
    ["\\Answered", "$Label1", "NonJunk"],
    ["\\Flagged", "a:b"],
    ["\\Seen", "a/b", "$Forwarded"],
    [],
    ["\\Draft", "Junk", "$Label1"],
    ["\\Seen", "\\Deleted"],
]
DATE0 = 1262304000  # 2010-01-01: far from "now", so an arrival date shows
ZONES = [60, -480, 330, 0, 120, -300]


def message(i, tag="rules"):
    rng = random.Random("%s-%d" % (tag, i))
    return corpus.make_message(rng, with_msgid=(i % 5 != 3), size=900,
                               date=(DATE0 + i * 3_196_800, 0), eightbit=False)


def append(conn, raw, msg, flags, i):
    date = corpus.format_internaldate(DATE0 + i * 3_196_800 + 3600 * (i % 7), ZONES[i % len(ZONES)])
    typ, data = conn.append(quote(raw), "(%s)" % " ".join(flags) if flags else None, date, msg)
    check(typ == "OK", "APPEND to %s: %r" % (raw, data))


def load_rules_corpus(s, user=RULES_USER):
    """host1: every RULES_FOLDERS folder with 2 messages, subscribed as listed."""
    s.host1.reset(user)
    conn = s.host1.imap(user)
    i = 0
    for raw, sub in RULES_FOLDERS:
        if raw != "INBOX":
            typ, data = conn.create(quote(raw))
            check(typ == "OK", "host1 refused to create %r: %r" % (raw, data))
        if sub:
            typ, data = conn.subscribe(quote(raw))
            check(typ == "OK", "host1 refused to subscribe %r: %r" % (raw, data))
        for _ in range(2):
            append(conn, raw, message(i), FLAGSETS[i % len(FLAGSETS)], i)
            i += 1
    conn.logout()


_loaded = set()


def rules_corpus(s, user=RULES_USER):
    """The rules corpus on host1 (loaded once), host2 reset to an empty account."""
    if user not in _loaded:
        load_rules_corpus(s, user)
        _loaded.add(user)
    s.host2.reset(user)


# --------------------------------------------------------------------------
# reading the servers
# --------------------------------------------------------------------------

def folders(host, user):
    """{raw server name: Counter of (sha, flags, epoch)} of the selectable folders."""
    return snap(host, user).by_name()


def subscribed(host, user):
    """Raw names host lists in LSUB (without \\Noselect placeholders)."""
    conn = host.imap(user)
    try:
        return {n for n, attrs, _ in list_mailboxes(conn, "LSUB") if "\\noselect" not in attrs}
    finally:
        conn.logout()


def expected(s, user, mapping, flagmap=None):
    """{host2 name: Counter} that host2 must hold after syncing host1's folders
    by `mapping` (host1 raw name -> host2 raw name; several may merge into
    one); INBOX always exists on host2, empty unless something maps to it."""
    got1 = folders(s.host1, user)
    exp = collections.defaultdict(collections.Counter)
    exp["INBOX"] = collections.Counter()
    for h1, h2 in mapping.items():
        check(h1 in got1, "host1 lacks %r: the corpus is broken" % h1)
        exp[h2] += collections.Counter()  # an empty folder is wanted too
        for (sha, flags, date), n in got1[h1].items():
            exp[h2][(sha, flagmap(flags) if flagmap else flags, date)] += n
    return dict(exp)


def diff_folders(want, got):
    """Differences between {name: Counter} dicts. A host2 folder that is not
    wanted is tolerated only if it is empty and a parent of a wanted one
    (imapsync CREATEs the parents of a folder, e.g. INBOX.INBOX above
    INBOX.INBOX.Receipts; Dovecot may also list them as \\Noselect)."""
    out = []
    for name in sorted(set(got) - set(want)):
        parent = any(w.startswith(name + SEP2) for w in want)
        if got[name] or not parent:
            out.append("host2 has folder %r (%d messages), which should not exist"
                       % (name, sum(got[name].values())))
    a, b = oracle.Snapshot("expected"), oracle.Snapshot("host2")
    for name in want:
        a[(name,)] = want[name]
        if name in got:
            b[(name,)] = got[name]
    return out + oracle.compare(a, b, subscriptions=False)


def host2_is(s, user, want, r=None, host=None, what="host2"):
    got = folders(host or s.host2, user)
    d = diff_folders(want, got)
    check(not d, "%s is not as expected:\n  %s\n(host2 lists %s)"
          % (what, "\n  ".join(d[:30]), sorted(got)), r)


def folder_lines(out):
    """[(name1, name2)] of the tool's 'Folder [a] -> [b]...' lines, in order."""
    return re.findall(r"^Folder \[(.*?)\] -> \[(.*?)\]", out, re.M)


def shown(raw):
    return mutf7_decode(raw)


def ok_run(r, what):
    check(r.returncode == 0, "%s: want exit 0" % what, r)


# --------------------------------------------------------------------------
# 2, 3. the two migration-guide scripts
# --------------------------------------------------------------------------

def script1_args(tag):
    logname = "script1-%s" % tag
    pidfile = os.path.join(itest.WORK, "%s.pid" % logname)
    return SCRIPT1_RULES + ["--pidfile", pidfile, "--pidfilelocking", "--logfile", logname], \
        pidfile, os.path.join(itest.WORK, "logs", logname)


def tr_flags(flags):
    """Script 1's flag rules: the first --regexflag matches two literal
    backslashes (four in the Perl source) and so changes nothing; the second
    maps ':' '"' '/' to '_' (a:b and a/b both become a_b)."""
    return frozenset(f.translate(str.maketrans(':"/', "___")) for f in flags)


@test
def script1_names_flags_dates(s):
    user = RULES_USER
    rules_corpus(s, user)
    args, pidfile, logfile = script1_args("first")
    r = run_ferry(s, user, *args, pidfile=False)
    ok_run(r, "script 1")
    want = expected(s, user, SCRIPT1_H2, tr_flags)
    got1 = folders(s.host1, user)
    check(any(":" in f or "/" in f for c in got1.values() for _, fl, _ in c for f in fl),
          "no keyword with ':' or '/' on host1: the tr test proves nothing")
    host2_is(s, user, want, r, what="host2 after script 1")
    for name in SCRIPT1_EXCLUDED:
        check(got1.get(name), "host1 %r is empty: the exclusion proves nothing" % name)
    # --subscribe: the host2 folder of every subscribed, synced host1 folder
    want_sub = {SCRIPT1_H2[n] for n in SUBSCRIBED1 if n in SCRIPT1_H2}
    got_sub = subscribed(s.host2, user)
    check(got_sub == want_sub, "host2 subscriptions: missing %s, extra %s"
          % (sorted(want_sub - got_sub), sorted(got_sub - want_sub)), r)
    check(not os.path.exists(pidfile), "the pid file %s was left behind" % pidfile, r)
    check(os.path.exists(logfile), "no log file %s (--logfile is relative to the log "
          "directory)" % logfile, r)
    total = sum(sum(c.values()) for c in want.values())
    check(stat(r.stdout, "Messages transferred") == total, "want %d transferred" % total, r)

    before = snap(s.host2, user)
    args, _, _ = script1_args("rerun")
    r = run_ferry(s, user, *args, pidfile=False)
    ok_run(r, "script 1 rerun")
    check(stat(r.stdout, "Messages transferred") == 0, "the rerun copied something", r)
    d = oracle.compare(before, snap(s.host2, user))
    check(not d, "the rerun changed host2 (flag resync must compare mapped flags):\n"
          + "\n".join(d[:20]), r)


@test
def script2_sent_only(s):
    user = RULES_USER
    rules_corpus(s, user)
    # imapsync --host1 .. --authmech1 LOGIN --ssl1 --host2 .. --authmech2 LOGIN --ssl2
    #   --exclude "Trash|Spam|Drafts" --folder "Sent" --regextrans2 's/Sent/Sent Items/' --skipsize
    # (--ssl1/--ssl2 replaced by the harness's plaintext --notls1/--notls2)
    r = run_ferry(s, user, "--authmech1", "LOGIN", "--authmech2", "LOGIN",
                  "--exclude", "Trash|Spam|Drafts", "--folder", "Sent",
                  "--regextrans2", "s/Sent/Sent Items/", "--skipsize")
    ok_run(r, "script 2")
    host2_is(s, user, expected(s, user, {"Sent": "INBOX.Sent Items"}), r)
    check(subscribed(s.host2, user) == {"INBOX.Sent Items"},
          "host2 should have exactly INBOX.Sent Items subscribed (host1 Sent is)", r)


# --------------------------------------------------------------------------
# 4. --automap
# --------------------------------------------------------------------------

AUTOMAP_CONFIG = r"""namespace inbox {
  mailbox "Sent Items" {
    special_use = \Sent
    auto = create
  }
}
"""


@test
def automap_sent_to_special_use(s):
    user = "user3"
    try:
        h2 = s["h2auto"]
    except KeyError:
        h2 = s.add_host("h2auto", layout="host2", extra_config=AUTOMAP_CONFIG)
    conn = h2.imap(user)
    attrs = {n: a for n, a, _ in list_mailboxes(conn)}
    conn.logout()
    check("\\sent" in attrs.get("INBOX.Sent Items", set()),
          "h2auto has no \\Sent folder 'INBOX.Sent Items': %r" % attrs)
    for name, opts in (("Sent", ("--automap",)), ("Sent Messages", ("--automap",)),
                       ("Gesendete Objekte", ("--automap",)), ("Sent", ())):
        s.host1.reset(user)
        h2.reset(user)
        c = s.host1.imap(user)
        c.create(quote(name))
        for i in range(3):
            append(c, name if i else "INBOX", message(100 + i), FLAGSETS[i], i)
        c.logout()
        r = subprocess.run(itest.ferry_args(s, user, *opts, pw2=h2.password(user), port2=h2.port),
                           capture_output=True, text=True, timeout=120)
        ok_run(r, "%s %s" % (name, " ".join(opts)))
        target = "INBOX.Sent Items" if opts else DEFAULT_H2.get(name, "INBOX." + name)
        want = expected(s, user, {"INBOX": "INBOX", name: target})
        if not opts:  # the control: without --automap the special folder stays empty
            want["INBOX.Sent Items"] = collections.Counter()
        host2_is(s, user, want, r, host=h2,
                 what="h2auto after host1 %r %s" % (name, " ".join(opts) or "(no --automap)"))


# --------------------------------------------------------------------------
# 5. selection
# --------------------------------------------------------------------------

def default_mapping(names):
    return {n: DEFAULT_H2[n] for n in names}


@test
def select_folder(s):
    user = RULES_USER
    rules_corpus(s, user)
    r = run_ferry(s, user, "--folder", "Sent", "--folder", "Calendar/Sub")
    ok_run(r, "--folder")
    host2_is(s, user, expected(s, user, default_mapping(["Sent", "Calendar/Sub"])), r)


@test
def select_folderrec(s):
    user = RULES_USER
    rules_corpus(s, user)
    r = run_ferry(s, user, "--folderrec", "Calendar", "--folderrec", "Sent")
    ok_run(r, "--folderrec")
    host2_is(s, user, expected(s, user, default_mapping(
        ["Calendar", "Calendar/Sub", "Sent", "Sent/Old"])), r)


@test
def select_include(s):
    user = RULES_USER
    rules_corpus(s, user)
    r = run_ferry(s, user, "--include", "^Archive", "--include", "^Contacts$")
    ok_run(r, "--include")
    host2_is(s, user, expected(s, user, default_mapping(
        ["Archive", "Archive/2019", "Contacts"])), r)


@test
def select_exclude(s):
    user = RULES_USER
    rules_corpus(s, user)
    # /^(Calendar|INBOX)/ also takes INBOX/Receipts; host2's INBOX stays empty
    r = run_ferry(s, user, "--exclude", "^(Calendar|INBOX)", "--exclude", "Trash")
    ok_run(r, "--exclude")
    keep = [n for n in ALL1 if not re.search("^(Calendar|INBOX)", n) and "Trash" not in n]
    check(len(keep) == len(ALL1) - 5, "test bug: %r" % keep)
    host2_is(s, user, expected(s, user, default_mapping(keep)), r)


@test
def select_subscribed(s):
    user = RULES_USER
    rules_corpus(s, user)
    r = run_ferry(s, user, "--subscribed")
    ok_run(r, "--subscribed")
    check(len(SUBSCRIBED1) < len(ALL1), "test bug")
    host2_is(s, user, expected(s, user, default_mapping(sorted(SUBSCRIBED1))), r)


@test
def select_order_bytewise_and_first_last(s):
    user = RULES_USER
    rules_corpus(s, user)
    before = snap(s.host2, user)
    r = run_ferry(s, user, "--dry")
    ok_run(r, "--dry")
    got = [a for a, b in folder_lines(r.stdout)]
    want = [shown(n) for n in sorted(ALL1)]  # plain byte order: INBOX is not first
    check(got == want, "default order:\n got  %r\n want %r" % (got, want), r)
    r = run_ferry(s, user, "--dry", "--folderfirst", "Sent", "--folderfirst", "Contacts",
                  "--folderfirst", "Nope", "--folderlast", "INBOX", "--folderlast", "Archive")
    ok_run(r, "--dry --folderfirst/--folderlast")
    got = [a for a, b in folder_lines(r.stdout)]
    rest = [n for n in sorted(ALL1) if n not in ("Sent", "Contacts", "INBOX", "Archive")]
    want = [shown(n) for n in ["Sent", "Contacts"] + rest + ["INBOX", "Archive"]]
    check(got == want, "--folderfirst/last order:\n got  %r\n want %r" % (got, want), r)
    check(oracle.compare(before, snap(s.host2, user)) == [], "--dry changed host2", r)


@test
def select_missing_folder_warns(s):
    user = RULES_USER
    rules_corpus(s, user)
    r = run_ferry(s, user, "--folder", "Nope", "--folder", "Sent")
    ok_run(r, "--folder Nope --folder Sent")
    check(re.search(r"warning.*Nope|Nope.*warning", r.stdout + r.stderr, re.I),
          "no warning naming the missing folder Nope", r)
    host2_is(s, user, expected(s, user, default_mapping(["Sent"])), r)


@test
def subfolder2_puts_all_under_migrated(s):
    user = RULES_USER
    rules_corpus(s, user)
    r = run_ferry(s, user, "--subfolder2", "Migrated")
    ok_run(r, "--subfolder2 Migrated")
    host2_is(s, user, expected(s, user, SUBFOLDER2_H2), r)


@test
def subfolder1_missing_exits_21(s):
    user = RULES_USER
    rules_corpus(s, user)
    r = run_ferry(s, user, "--subfolder1", "NoSuchFolder")
    check(r.returncode == 21, "--subfolder1 of a folder host1 lacks: want exit 21", r)
    host2_is(s, user, {"INBOX": collections.Counter()}, r, what="host2 (nothing may be created)")
    # the positive case: the subtree's root becomes INBOX, its children move up
    s.host2.reset(user)
    r = run_ferry(s, user, "--subfolder1", "Calendar")
    ok_run(r, "--subfolder1 Calendar")
    host2_is(s, user, expected(s, user, {"Calendar": "INBOX", "Calendar/Sub": "INBOX.Sub"}), r)


@test
def skipemptyfolders(s):
    user = "user3"
    s.host1.reset(user)
    c = s.host1.imap(user)
    for name in ("Full", "Empty", "Full/Empty2"):
        c.create(quote(name))
    append(c, "INBOX", message(300), ["\\Seen"], 300)
    append(c, "Full", message(301), [], 301)
    c.logout()
    for opts, mapping in (((), {"INBOX": "INBOX", "Full": "INBOX.Full", "Empty": "INBOX.Empty",
                                "Full/Empty2": "INBOX.Full.Empty2"}),
                          (("--skipemptyfolders",), {"INBOX": "INBOX", "Full": "INBOX.Full"})):
        s.host2.reset(user)
        r = run_ferry(s, user, *opts)
        ok_run(r, " ".join(opts) or "default")
        host2_is(s, user, expected(s, user, mapping), r,
                 what="host2 after %s" % (" ".join(opts) or "a default run"))


@test
def prefix2_override(s):
    user = RULES_USER
    rules_corpus(s, user)
    # --prefix2 replaces host2's NAMESPACE prefix in the naming; INBOX stays INBOX
    r = run_ferry(s, user, "--folder", "INBOX", "--folder", "Sent", "--folder", "Archive/2019",
                  "--folder", "INBOX/Receipts", "--prefix2", "INBOX.Old.")
    ok_run(r, "--prefix2 INBOX.Old.")
    host2_is(s, user, expected(s, user, {"INBOX": "INBOX", "Sent": "INBOX.Old.Sent",
                                         "Archive/2019": "INBOX.Old.Archive.2019",
                                         "INBOX/Receipts": "INBOX.Old.INBOX.Receipts"}), r)


@test
def justfoldersizes_changes_nothing(s):
    user = RULES_USER
    rules_corpus(s, user)
    before = snap(s.host2, user)
    r = run_ferry(s, user, "--justfoldersizes")
    ok_run(r, "--justfoldersizes")
    check(oracle.compare(before, snap(s.host2, user)) == [], "--justfoldersizes changed host2", r)
    missing = [n for n in ALL1 if "[%s]" % shown(n) not in r.stdout]
    check(not missing, "--justfoldersizes does not show %r" % missing, r)


# --------------------------------------------------------------------------
# 6. flags and dates (host1 user2: a small corpus of its own)
# --------------------------------------------------------------------------

FLAG_USER = "user2"
FLAG_MSGS = [("INBOX", ["\\Seen", "$Label1"]), ("INBOX", ["$Label1", "NonJunk"]),
             ("INBOX", ["\\Answered"]), ("INBOX", []), ("Work", ["\\Flagged", "$Label1"]),
             ("Work", ["\\Seen"])]


def load_flag_corpus(s):
    user = FLAG_USER
    s.host1.reset(user)
    s.host2.reset(user)
    conn = s.host1.imap(user)
    conn.create("Work")
    conn.subscribe("Work")
    for i, (folder, flags) in enumerate(FLAG_MSGS):
        append(conn, folder, message(200 + i, "flags"), flags, 200 + i)
    conn.logout()


def uid_of(conn, folder, i):
    """UID of FLAG_MSGS[i] in folder (found by its bytes' Subject token)."""
    token = re.search(rb"Token: (\w+)", message(200 + i, "flags")).group(1).decode()
    typ, _ = conn.select(quote(folder))
    typ, data = conn.uid("SEARCH", None, "BODY", token)
    uids = data[0].split()
    check(len(uids) == 1, "message %d not found once in %s: %r" % (i, folder, data))
    return uids[0].decode()


def without_label1(flags):
    return frozenset(f for f in flags if f != "$Label1")


@test
def regexflag_removes_label1(s):
    user = FLAG_USER
    load_flag_corpus(s)
    rule = r"s/\$Label1//"
    r = run_ferry(s, user, "--regexflag", rule)
    ok_run(r, "--regexflag")
    mapping = {"INBOX": "INBOX", "Work": "INBOX.Work"}
    host2_is(s, user, expected(s, user, mapping, without_label1), r, what="host2 after the copy")
    # host1 gains $Label1 and \Flagged on one message; host2 gains $Label1 on
    # another: the rerun's resync sets host2 to host1's flags minus $Label1
    c1, c2 = s.host1.imap(user), s.host2.imap(user)
    c1.uid("STORE", uid_of(c1, "INBOX", 2), "+FLAGS", "($Label1 \\Flagged)")
    c2.uid("STORE", uid_of(c2, "INBOX", 3), "+FLAGS", "($Label1)")
    c1.logout()
    c2.logout()
    r = run_ferry(s, user, "--regexflag", rule)
    ok_run(r, "--regexflag rerun")
    check(stat(r.stdout, "Messages transferred") == 0, "the rerun copied something", r)
    want = expected(s, user, mapping, without_label1)
    check(any("\\Flagged" in f for _, f, _ in want["INBOX"] if "\\Answered" in f),
          "test bug: the host1 change is not there")
    host2_is(s, user, want, r, what="host2 after the flag resync")


@test
def noresyncflags_leaves_host2_flags(s):
    user = FLAG_USER
    load_flag_corpus(s)
    r = run_ferry(s, user)
    ok_run(r, "first copy")
    itest.identical(s, user)
    c2 = s.host2.imap(user)
    c2.uid("STORE", uid_of(c2, "INBOX", 3), "+FLAGS", "(\\Flagged)")
    c2.uid("STORE", uid_of(c2, "INBOX", 0), "-FLAGS", "(\\Seen)")
    c2.logout()
    before = snap(s.host2, user)
    check(oracle.compare(snap(s.host1, user), before) != [], "the host2 change is not visible")
    r = run_ferry(s, user, "--noresyncflags")
    ok_run(r, "--noresyncflags")
    d = oracle.compare(before, snap(s.host2, user))
    check(not d, "--noresyncflags changed host2 flags:\n" + "\n".join(d[:20]), r)
    r = run_ferry(s, user)
    ok_run(r, "default rerun")
    itest.identical(s, user)  # the default resyncs host2's flags to host1's


@test
def nosyncinternaldates_gives_arrival_date(s):
    user = FLAG_USER
    load_flag_corpus(s)
    t0 = time.time()
    r = run_ferry(s, user, "--nosyncinternaldates")
    t1 = time.time()
    ok_run(r, "--nosyncinternaldates")
    want = expected(s, user, {"INBOX": "INBOX", "Work": "INBOX.Work"})
    got = folders(s.host2, user)
    for name, msgs in want.items():
        w = sorted((sha, fl) for (sha, fl, _), n in msgs.items() for _ in range(n))
        g = sorted((sha, fl) for (sha, fl, _), n in got.get(name, {}).items() for _ in range(n))
        check(w == g, "%s: bytes or flags differ" % name, r)
        for (sha, fl, date), n in got.get(name, {}).items():
            check(t0 - 5 <= date <= t1 + 5, "%s: host2 INTERNALDATE %s is not the arrival time "
                  "(run between %d and %d)" % (name, date, t0, t1), r)


def header_and_internal_dates(host, user, folder):
    """(Date: header epoch, INTERNALDATE epoch) of every message in folder."""
    import email.utils
    from imaputil import parse_internaldate
    conn = host.imap(user)
    typ, _ = conn.select(quote(folder), readonly=True)
    check(typ == "OK", "SELECT %s" % folder)
    typ, data = conn.fetch("1:*", "(INTERNALDATE BODY.PEEK[HEADER.FIELDS (DATE)])")
    conn.logout()
    out = []
    for item in data:
        if not isinstance(item, tuple):
            continue
        idate = re.search(rb'INTERNALDATE "([^"]+)"', item[0]).group(1).decode()
        hdr = item[1].decode().split(":", 1)[1].strip()
        out.append((int(email.utils.parsedate_to_datetime(hdr).timestamp()),
                    parse_internaldate(idate)))
    return out


@test
def idatefromheader_dates_from_date_header(s):
    user = FLAG_USER
    s.host1.reset(user)
    s.host2.reset(user)
    conn = s.host1.imap(user)
    # Dates of 2010 (a server may replace a future date with the time of
    # the copy); append() gives each an INTERNALDATE hours away from it.
    for i in range(4):
        append(conn, "INBOX", message(i, "idate"), (), i)
    conn.logout()
    before = header_and_internal_dates(s.host1, user, "INBOX")
    check(any(h != i for h, i in before), "test bug: host1 dates all equal their Date: headers")
    r = run_ferry(s, user, "--idatefromheader")
    ok_run(r, "--idatefromheader")
    after = header_and_internal_dates(s.host2, user, "INBOX")
    check(len(after) == len(before), "host2 INBOX has %d messages, host1 %d"
          % (len(after), len(before)), r)
    for h, i in after:
        check(h == i, "host2 INTERNALDATE %d is not the Date: header's %d" % (i, h), r)


def sizes1_list(s, user):
    c = s.host1.imap(user)
    c.select("INBOX", readonly=True)
    typ, data = c.fetch("1:*", "(RFC822.SIZE)")
    c.logout()
    return [int(re.search(rb"RFC822\.SIZE (\d+)", d).group(1)) for d in data]


@test
def maxsize_minsize_skip_by_size(s):
    user = FLAG_USER
    s.host1.reset(user)
    s.host2.reset(user)
    conn = s.host1.imap(user)
    sizes = (600, 2500, 9000)
    for i, size in enumerate(sizes):
        rng = random.Random("size-%d" % i)
        msg = corpus.make_message(rng, with_msgid=True, size=size, date=(DATE0 + i * 86400, 0),
                                  eightbit=False)
        typ, data = conn.append("INBOX", None, None, msg)
        check(typ == "OK", "APPEND: %r" % (data,))
    conn.logout()
    inbox = folders(s.host1, user)["INBOX"]

    def by_size(lo, hi):
        """host1's INBOX messages with lo < size <= hi, as host2 must hold them."""
        sizes1 = {}
        c = s.host1.imap(user)
        c.select("INBOX", readonly=True)
        typ, data = c.fetch("1:*", "(RFC822.SIZE BODY.PEEK[])")
        c.logout()
        import hashlib
        for item in data:
            if isinstance(item, tuple):
                n = int(re.search(rb"RFC822\.SIZE (\d+)", item[0]).group(1))
                sizes1[hashlib.sha256(item[1]).hexdigest()] = n
        return collections.Counter({k: v for k, v in inbox.items() if lo < sizes1[k[0]] <= hi})

    a, b, c = sorted(sizes1_list(s, user))
    big = str((b + c) // 2)
    r = run_ferry(s, user, "--maxsize", big)
    ok_run(r, "--maxsize")
    check(re.search(r"skipped \(%d exceeds maxsize limit %s bytes\)" % (c, big), r.stdout),
          "no line for the message over --maxsize", r)
    check(stat(r.stdout, "Messages skipped") == 1, "the big message counts as skipped", r)
    host2_is(s, user, {"INBOX": by_size(-1, int(big))}, r)
    r = run_ferry(s, user, "--maxsize", big)
    ok_run(r, "--maxsize rerun")
    check(stat(r.stdout, "Messages transferred") == 0, "the rerun copied something", r)

    s.host2.reset(user)
    r = run_ferry(s, user, "--minsize", str(a), "--maxsize", str(c + 1000), "--appendlimit", big)
    ok_run(r, "--minsize --appendlimit")
    check("maxsize set to %s bytes (--appendlimit)" % big in r.stdout, "no maxsize line", r)
    check(re.search(r"skipped \(%d smaller than minsize %d bytes\)" % (a, a), r.stdout),
          "no minsize line", r)
    host2_is(s, user, {"INBOX": by_size(a, int(big))}, r)


# --------------------------------------------------------------------------
# 7. naming: merge, --f1f2, --dry, subscriptions
# --------------------------------------------------------------------------

@test
def merge_two_folders_into_one(s):
    user = RULES_USER
    rules_corpus(s, user)
    opts = ("--folder", "Calendar", "--folder", "Contacts",
            "--regextrans2", r"s,^INBOX\.(Calendar|Contacts)$,INBOX.PIM,")
    r = run_ferry(s, user, *opts)
    ok_run(r, "merge")
    want = expected(s, user, {"Calendar": "INBOX.PIM", "Contacts": "INBOX.PIM"})
    check(sum(want["INBOX.PIM"].values()) == 4, "test bug")
    host2_is(s, user, want, r)
    r = run_ferry(s, user, *opts)
    ok_run(r, "merge rerun")
    check(stat(r.stdout, "Messages transferred") == 0, "the merge rerun copied something", r)
    host2_is(s, user, want, r, what="host2 after the merge rerun")


@test
def f1f2_maps_one_exact_name(s):
    user = RULES_USER
    rules_corpus(s, user)
    # A=B matches the exact host1 name only (not Archive's other children or
    # Archive itself). B is used verbatim: no prefix added, no regextrans2.
    r = run_ferry(s, user, "--folderrec", "Archive", "--f1f2", "Archive/2019=INBOX.Old",
                  "--regextrans2", "s/Old/Wrong/")
    ok_run(r, "--f1f2")
    host2_is(s, user, expected(s, user, {"Archive": "INBOX.Archive",
                                         "Archive/2019": "INBOX.Old"}), r)


@test
def f1f2_target_is_verbatim(s):
    user = RULES_USER
    rules_corpus(s, user)
    # 'Old' is used as is, without host2's prefix "INBOX.": Dovecot refuses it
    # ("Client tried to access nonexistent namespace"), so that folder fails
    # and the other one still syncs.
    r = run_ferry(s, user, "--folder", "Archive/2019", "--folder", "Sent",
                  "--f1f2", "Archive/2019=Old")
    host2_is(s, user, expected(s, user, {"Sent": "INBOX.Sent"}), r)
    check(r.returncode == 116, "a folder host2 refuses to create: want exit 116 (create errors)", r)
    check(re.search(r"(?<![\w.])Old\b", r.stderr), "the error line must name the folder 'Old' "
          "(imapsync: \"Could not create folder [Old] from [Archive/2019]\")", r)


@test
def search_maxage_minage_select(s):
    user = FLAG_USER
    s.host1.reset(user)
    conn = s.host1.imap(user)
    now = int(time.time())
    for i, (date, subject) in enumerate(((DATE0, "old one"), (DATE0 + 86400, "old two"),
                                         (now - 3600, "fresh"))):
        rng = random.Random("age-%d" % i)
        msg = corpus.make_message(rng, with_msgid=True, size=800, date=(date, 0), eightbit=False)
        msg = re.sub(rb"(?m)^Subject: [^\r\n]*", b"Subject: " + subject.encode(), msg, count=1)
        typ, data = conn.append("INBOX", None, None, msg)
        check(typ == "OK", "APPEND: %r" % (data,))
    conn.logout()
    inbox = folders(s.host1, user)["INBOX"]

    def subjects(host):
        c = host.imap(user)
        c.select("INBOX", readonly=True)
        typ, data = c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        c.logout()
        return sorted(d[1].decode().split(":", 1)[1].strip() for d in data
                      if isinstance(d, tuple))

    for opts, want in ((("--maxage", "30"), ["fresh"]),
                       (("--minage", "30"), ["old one", "old two"]),
                       (("--search", 'SUBJECT "old two"'), ["old two"]),
                       (("--search1", "SUBJECT fresh", "--maxage", "30000"), ["fresh"])):
        s.host2.reset(user)
        r = run_ferry(s, user, *opts)
        ok_run(r, " ".join(opts))
        check(subjects(s.host2) == want, "%s: host2 holds %r, want %r"
              % (" ".join(opts), subjects(s.host2), want), r)
        r = run_ferry(s, user, *opts)
        check(stat(r.stdout, "Messages transferred") == 0, "%s: the rerun copied" % opts[0], r)
    check(len(inbox) == 3, "test bug: host1 INBOX changed")
    before = snap(s.host2, user)
    r = run_ferry(s, user, "--search", "ALL\r\nA1 DELETE INBOX")
    check(r.returncode == 64 and "control character" in r.stderr,
          "a search with CR LF: want exit 64 and a line", r)
    check(oracle.compare(before, snap(s.host2, user)) == [], "host2 changed", r)


@test
def delete2_mirrors_within_the_ceiling(s):
    user = FLAG_USER
    s.host1.reset(user)
    s.host2.reset(user)
    conn = s.host1.imap(user)
    for i in range(20):
        append(conn, "INBOX", message(500 + i, "del"), (), i % 5)
    conn.logout()
    r = run_ferry(s, user)
    ok_run(r, "first copy")
    want = expected(s, user, {"INBOX": "INBOX"})

    def add_extra(k):
        c = s.host2.imap(user)
        for j in range(k):
            typ, data = c.append("INBOX", None, None, message(900 + j, "extra"))
            check(typ == "OK", "APPEND of an extra: %r" % (data,))
        c.logout()

    add_extra(2)  # 2 of 22: within the 10% ceiling
    r = run_ferry(s, user, "--delete2", "--dry")
    ok_run(r, "--delete2 --dry")
    check(len(re.findall(r"would be deleted on host2", r.stdout)) == 2, "--dry lists 2", r)
    check(sum(folders(s.host2, user)["INBOX"].values()) == 22, "--dry deleted something", r)
    r = run_ferry(s, user, "--delete2")
    ok_run(r, "--delete2")
    check(stat(r.stdout, "Messages deleted on host2") == 2, "want 2 deleted in the stats", r)
    host2_is(s, user, want, r, what="host2 after --delete2")

    add_extra(5)  # 5 of 25: over the ceiling, nothing removed
    r = run_ferry(s, user, "--delete2")
    check(r.returncode != 0 and "--delete2ceiling 100 allows it" in r.stderr,
          "over the ceiling: want an error naming the override", r)
    check(sum(folders(s.host2, user)["INBOX"].values()) == 25, "the ceiling let deletions through",
          r)
    r = run_ferry(s, user, "--delete2", "--delete2ceiling", "100")
    ok_run(r, "--delete2 --delete2ceiling 100")
    host2_is(s, user, want, r, what="host2 after --delete2ceiling 100")


@test
def maxmessagespersecond_paces_the_copy(s):
    user = FLAG_USER
    s.host1.reset(user)
    s.host2.reset(user)
    conn = s.host1.imap(user)
    for i in range(8):
        append(conn, "INBOX", message(700 + i, "pace"), (), i % 5)
    conn.logout()
    # 8 messages at 4 per second cannot take less than about 2 s; imapsync's
    # formula pauses after each batch until the average is below the cap.
    t0 = time.time()
    r = run_ferry(s, user, "--maxmessagespersecond", "4")
    took = time.time() - t0
    ok_run(r, "--maxmessagespersecond 4")
    check(took >= 1.6, "8 messages at 4/s took %.2f s" % took, r)
    host2_is(s, user, expected(s, user, {"INBOX": "INBOX"}), r)


@test
def exitwhenover_ends_after_the_folder(s):
    user = FLAG_USER
    s.host1.reset(user)
    s.host2.reset(user)
    conn = s.host1.imap(user)
    conn.create("Work")
    for i in range(6):
        append(conn, "INBOX" if i < 3 else "Work", message(800 + i, "over"), (), i % 5)
    conn.logout()
    # The first folder's batch passes 1 byte: it is finished, then the run
    # ends with imapsync's exit 118 and Work is left for the next run.
    r = run_ferry(s, user, "--exitwhenover", "1")
    check(r.returncode == 118, "want exit 118 (transfer limit)", r)
    check("Maximum bytes transferred reached" in r.stderr, "no line for the limit", r)
    got = folders(s.host2, user)
    check(sum(got.get("INBOX", {}).values()) == 3 and "INBOX.Work" not in got,
          "want INBOX copied and Work untouched, got %r" % sorted(got), r)
    r = run_ferry(s, user)
    ok_run(r, "the next run")
    host2_is(s, user, expected(s, user, {"INBOX": "INBOX", "Work": "INBOX.Work"}), r)


@test
def errorsmax_stops_the_run(s):
    user = RULES_USER
    rules_corpus(s, user)
    # Three folders host2 refuses to create (names outside its namespace):
    # with --errorsmax 2 the run stops after the second error, the third
    # folder is never tried, and the exit code is that of the errors.
    opts = ["--f1f2", "Archive/2019=Old1", "--f1f2", "Drafts=Old2", "--f1f2", "Sent=Old3"]
    for f in ("Archive/2019", "Drafts", "Sent"):
        opts += ["--folder", f]
    r = run_ferry(s, user, "--errorsmax", "2", *opts)
    check(r.returncode == 116, "want exit 116 (create errors)", r)
    check("the --errorsmax limit: stopping" in r.stderr, "no --errorsmax line", r)
    check("Old1" in r.stderr and "Old2" in r.stderr and "Old3" not in r.stderr,
          "want errors for Old1 and Old2 only", r)
    check(not re.search(r"looks good", r.stdout), "'looks good' after a stopped run", r)
    r = run_ferry(s, user, *opts)
    check("Old3" in r.stderr and "--errorsmax" not in r.stderr,
          "without --errorsmax (50 by default) every folder is tried", r)


@test
def dry_with_rules_changes_nothing(s):
    user = RULES_USER
    rules_corpus(s, user)
    # host2 already holds one Sent message with other flags: a real run would
    # change its flags and copy the rest; --dry does neither
    c1, c2 = s.host1.imap(user), s.host2.imap(user)
    c1.select("Sent", readonly=True)
    typ, data = c1.uid("FETCH", "1:*", "(BODY.PEEK[])")
    body = [x[1] for x in data if isinstance(x, tuple)][0]
    c2.create("INBOX.Sent")
    c2.append("INBOX.Sent", "(\\Flagged Other)", '"01-Jan-2020 00:00:00 +0000"', body)
    c1.logout()
    c2.logout()
    b1, b2 = snap(s.host1, user), snap(s.host2, user)
    args, _, _ = script1_args("dry")
    r = run_ferry(s, user, "--dry", *args, pidfile=False)
    ok_run(r, "--dry with script 1's rules")
    d = oracle.compare(b2, snap(s.host2, user)) + oracle.compare(b1, snap(s.host1, user))
    check(not d, "--dry changed a server:\n" + "\n".join(d[:20]), r)
    got = folder_lines(r.stdout)
    want = [(shown(a), shown(SCRIPT1_H2[a])) for a in sorted(SCRIPT1_H2)]
    check(got == want, "the plan printed by --dry:\n got  %r\n want %r" % (got, want), r)


@test
def subscriptions_default_none_all(s):
    user = RULES_USER
    rules_corpus(s, user)
    for opts, want in (((), {DEFAULT_H2[n] for n in SUBSCRIBED1}),
                       (("--nosubscribe",), set()),
                       (("--subscribeall",), set(DEFAULT_H2.values()))):
        s.host2.reset(user)
        r = run_ferry(s, user, "--justfolders", *opts)
        ok_run(r, "--justfolders %s" % " ".join(opts))
        got = subscribed(s.host2, user)
        check(got == want, "%s: host2 subscriptions missing %s, extra %s"
              % (" ".join(opts) or "default", sorted(want - got), sorted(got - want)), r)


# --------------------------------------------------------------------------
# 8. the option table
# --------------------------------------------------------------------------

SAMPLE_OPTIONS = [
    "regextrans2", "buffersize", "gmail1", "gmail2", "office1", "exchange2", "folder",
    "folderrec", "include", "exclude", "folderfirst", "folderlast", "subscribed",
    "skipemptyfolders", "subfolder1", "subfolder2", "f1f2", "automap", "sep1", "sep2",
    "prefix1", "prefix2", "subscribe", "subscribeall", "regexflag", "filterbuggyflags",
    "resyncflags", "syncflagsaftercopy", "syncinternaldates", "justfoldersizes",
    "justfolderlists", "justfolders", "dry", "maxage", "minage", "delete2", "useheader",
    "nosyncacls", "syncacls", "pidfilelocking", "logfile", "skipsize", "authmech1", "ssl2",
    # aliases of imapsync's GetOptions specs
    "subscribe_all", "expunge", "delete1", "ipv4", "modules_version",
]


@test
def option_table(s):
    r = subprocess.run([itest.BIN, "--list-options"], capture_output=True, text=True, timeout=30)
    ok_run(r, "--list-options")
    missing = [o for o in SAMPLE_OPTIONS
               if not re.search(r"(?<![\w-])(--)?%s(?![\w-])" % re.escape(o), r.stdout)]
    check(not missing, "--list-options lacks %s" % missing, r)
    before = snap(s.host2, "user3")
    r = run_ferry(s, "user3", "--justfolder")
    check(r.returncode == 64, "--justfolder is ambiguous: want exit 64", r)
    check(re.search(r"ambiguous", r.stderr, re.I) and "justfolders" in r.stderr
          and "justfoldersizes" in r.stderr, "the error must name the candidates", r)
    r = run_ferry(s, "user3", "--emailreport2")
    check(r.returncode == 64 and "--emailreport2 is not supported" in r.stderr,
          "a refused option: want exit 64 and '--emailreport2 is not supported'", r)
    check(oracle.compare(before, snap(s.host2, "user3")) == [], "a refused run changed host2")


if __name__ == "__main__":
    sys.exit(itest.main([
        script1_names_flags_dates, script2_sent_only, automap_sent_to_special_use,
        select_folder, select_folderrec, select_include, select_exclude, select_subscribed,
        select_order_bytewise_and_first_last, select_missing_folder_warns,
        subfolder2_puts_all_under_migrated, subfolder1_missing_exits_21, skipemptyfolders,
        prefix2_override, justfoldersizes_changes_nothing,
        regexflag_removes_label1, noresyncflags_leaves_host2_flags,
        nosyncinternaldates_gives_arrival_date, idatefromheader_dates_from_date_header,
        maxsize_minsize_skip_by_size,
        merge_two_folders_into_one, f1f2_maps_one_exact_name, f1f2_target_is_verbatim,
        errorsmax_stops_the_run, search_maxage_minage_select, delete2_mirrors_within_the_ceiling,
        maxmessagespersecond_paces_the_copy, exitwhenover_ends_after_the_folder,
        dry_with_rules_changes_nothing, subscriptions_default_none_all, option_table]))
