#!/usr/bin/env python3
"""Drop-in options of issue 15, part 3, end to end: --proxyauth1/2,
--delete1emptyfolders, the per-folder lines of imapsync that integrators
scrape, and Gmail labels (--synclabels, --resynclabels).

Private Dovecot servers (harness.py) play host1 and host2. Dovecot has no
PROXYAUTH, so fake_imapd.ProxyAuthImapd plays a Cyrus-like server in front
of one of them: it takes the admin's LOGIN and, on PROXYAUTH, relays the
session into the proxied user's real Dovecot mailbox, where the oracle
reads what arrived. gmail_proxy.GmailProxy plays Gmail in front of each
Dovecot the same way, keeping X-GM-LABELS itself. Assertions are on the
servers' real state.

Usage: test_dropin3.py --bin path/to/imapferry
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import fake_imapd  # noqa: E402
import gmail_proxy  # noqa: E402
import itest  # noqa: E402
from itest import check, ferry_args, identical, run_ferry, snap, test  # noqa: E402


def run(args):
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


def with_admin(args, side, admin, pw):
    """args with --passwordN replaced by the admin's and --authuserN added."""
    args = list(args)
    i = args.index("--password%d" % side)
    args[i + 1] = pw
    return args + ["--authuser%d" % side, admin, "--proxyauth%d" % side]


@test
def proxyauth_lands_in_the_proxied_mailbox(s):
    user = "user2"
    s.host1.reset(user)
    s.host2.reset(user)
    s.host2.reset("user3")
    corpus.load(s.host1.imap(user), seed=21, count=6)
    users2 = {u: s.host2.password(u) for u in ("user2", "user3")}
    proxy = fake_imapd.ProxyAuthImapd(s.host2.port, users2)
    try:
        # host2 is the PROXYAUTH server: the admin logs in, user2's mailbox fills.
        args = with_admin(ferry_args(s, user, port2=proxy.port), 2, "admin", "adminpw")
        r = run(args)
        check(r.returncode == 0, "--proxyauth2 run failed", r)
        check(proxy.logins and set(proxy.logins) == {"admin"},
              "LOGIN went out as %r, not as the admin" % proxy.logins, r)
        check(proxy.proxied and set(proxy.proxied) == {"user2"},
              "PROXYAUTH asked for %r, want user2" % proxy.proxied, r)
        identical(s, user)
        check(snap(s.host2, "user3").total() == 0, "another mailbox got messages")

        # A user the admin may not proxy: a failed host2 login, 162.
        args = with_admin(ferry_args(s, "user1", port2=proxy.port), 2, "admin", "adminpw")
        r = run(args)
        check(r.returncode == 162 and "PROXYAUTH user1 refused" in r.stderr,
              "a refused PROXYAUTH should exit 162 naming it", r)
        # A wrong admin password is a failed login too, and never shown.
        args = with_admin(ferry_args(s, user, port2=proxy.port), 2, "admin", "wrong-pw")
        r = run(args)
        check(r.returncode == 162 and "wrong-pw" not in r.stderr + r.stdout,
              "a refused admin LOGIN should exit 162", r)
    finally:
        proxy.close()

    # host1 side: the source read through PROXYAUTH, with a NO giving 161.
    s.host2.reset(user)
    users1 = {u: s.host1.password(u) for u in ("user2",)}
    proxy = fake_imapd.ProxyAuthImapd(s.host1.port, users1, admin="boss", admin_password="bosspw")
    try:
        args = ferry_args(s, user)
        args[args.index("--port1") + 1] = str(proxy.port)
        r = run(with_admin(args, 1, "boss", "bosspw"))
        check(r.returncode == 0 and set(proxy.proxied) == {"user2"},
              "--proxyauth1 run failed", r)
        identical(s, user)
        args = ferry_args(s, "user3")
        args[args.index("--port1") + 1] = str(proxy.port)
        r = run(with_admin(args, 1, "boss", "bosspw"))
        check(r.returncode == 161 and "PROXYAUTH user3 refused" in r.stderr,
              "a refused PROXYAUTH on host1 should exit 161", r)
    finally:
        proxy.close()

    # Without --authuser: one line, exit 64, nothing sent.
    r = run_ferry(s, user, "--proxyauth1")
    check(r.returncode == 64 and r.stderr.strip().endswith("--proxyauth1 needs --authuser1")
          and len(r.stderr.strip().splitlines()) == 1,
          "--proxyauth1 without --authuser1 should be one usage line", r)
    r = run_ferry(s, user, "--proxyauth2", "--authuser2", "a", "--authmech2", "PLAIN")
    check(r.returncode == 64 and "drop --authmech2 PLAIN" in r.stderr,
          "--proxyauth2 with --authmech2 PLAIN should be refused", r)
    r = run_ferry(s, user, "--proxyauth2", "--authuser2", "a", "--oauthaccesstoken2", "tok")
    check(r.returncode == 64 and "not --oauthaccesstoken2" in r.stderr,
          "--proxyauth2 with a token should be refused", r)
    r = run_ferry(s, "user\x01", "--proxyauth1", "--authuser1", "a")
    check(r.returncode == 64 and "printable ASCII" in r.stderr,
          "a user name with a control byte should never reach PROXYAUTH", r)


def folders(host, user):
    """host's folder names for user, as LIST gives them (wire names)."""
    conn = host.imap(user)
    try:
        typ, data = conn.list()
        names = set()
        for line in data:
            m = re.match(rb'\(([^)]*)\) (?:"[^"]*"|NIL) (.*)$', line)
            name = m.group(2).decode()
            names.add(name[1:-1] if name.startswith('"') else name)
        return names
    finally:
        conn.logout()


def mail(tag):
    return (b"From: a@dropin3.test\r\nMessage-ID: <%s@dropin3.test>\r\n"
            b"Subject: %s\r\n\r\nBody %s\r\n" % (tag.encode(), tag.encode(), tag.encode()))


def host1_tree(s, user, tree):
    """host1 holds exactly tree {folder: number of messages}, host2 nothing."""
    s.host1.reset(user)
    s.host2.reset(user)
    conn = s.host1.imap(user)
    try:
        for name, n in tree.items():
            if name != "INBOX":
                check(conn.create(name)[0] == "OK", "cannot create " + name)
            for i in range(n):
                corpus.append_one(conn, tuple(name.split("/")), mail("%s-%d" % (name, i)))
    finally:
        conn.logout()


@test
def delete1emptyfolders_removes_empty_leaves(s):
    user = "user3"
    tree = {"INBOX": 0, "Empty": 0, "Full": 1, "Parent": 0, "Parent/Kid": 1, "Chain": 0,
            "Chain/Leaf": 0, "Other": 0}
    host1_tree(s, user, tree)
    everything = set(tree)
    # --dry: the list of what would go, and nothing goes.
    r = run_ferry(s, user, "--delete1emptyfolders", "--exclude", "^Other$", "--dry")
    check(r.returncode == 0, "--dry --delete1emptyfolders failed", r)
    would = re.findall(r"^Host1 deleted (\S+) \(not really since --dry mode\)$", r.stdout, re.M)
    check(would == ["Empty", "Chain/Leaf", "Chain"],
          "--dry should list Empty, Chain/Leaf, Chain, got %r" % would, r)
    check(folders(s.host1, user) == everything, "--dry deleted a host1 folder", r)
    check(snap(s.host2, user).total() == 0, "--dry copied something")

    r = run_ferry(s, user, "--delete1emptyfolders", "--exclude", "^Other$")
    check(r.returncode == 0, "--delete1emptyfolders failed", r)
    check(re.search(r"^Host1: folder Parent has subfolders$", r.stdout, re.M) and
          re.search(r"^Host1: Not deleting INBOX$", r.stdout, re.M),
          "imapsync's lines for a kept parent and INBOX are missing", r)
    left = folders(s.host1, user)
    check(left == {"INBOX", "Full", "Parent", "Parent/Kid", "Other"},
          "host1 folders left: %r" % sorted(left), r)
    snap1, snap2 = snap(s.host1, user), snap(s.host2, user)
    check(snap1.total() == 2 and snap2.total() == 2, "messages lost or not copied", r)
    made = {"/".join(k) for k in snap2.keys()}
    check(made == {"INBOX", "Full", "Parent", "Parent/Kid"},
          "host2 got folders %r: a deleted one must not be created" % sorted(made), r)

    # With --delete1, a folder emptied by the move goes after the loop.
    host1_tree(s, user, {"INBOX": 1, "Moved": 2, "Kept": 0, "Kept/Kid": 1})
    r = run_ferry(s, user, "--delete1", "--delete1emptyfolders", "--folder", "INBOX",
                  "--folder", "Moved", "--folder", "Kept")
    check(r.returncode == 0, "--delete1 --delete1emptyfolders failed", r)
    left = folders(s.host1, user)
    check(left == {"INBOX", "Kept", "Kept/Kid"}, "host1 folders left: %r" % sorted(left), r)
    snap2 = snap(s.host2, user)
    check(snap2.total() == 3 and snap(s.host1, user).total() == 1,
          "the moved messages are not all on host2", r)


def shown(jux):
    """The display name in imapsync's "[wire]" or "[wire] = [UTF-8]"."""
    m = re.fullmatch(r"\[(.*?)\](?: = \[(.*)\])?", jux)
    return m.group(2) if m.group(2) is not None else m.group(1)


@test
def imapsync_folder_lines_numbered_in_plan_order(s):
    user = "user1"
    s.host1.reset(user)
    s.host2.reset(user)
    corpus.load(s.host1.imap(user), seed=31, count=60)
    r = run_ferry(s, user, "--justfolderlists")
    check(r.returncode == 0, "--justfolderlists failed", r)
    plan = re.findall(r"^  \[(.*)\] -> \[(.*?)\]", r.stdout.split("Folder mapping")[1], re.M)
    n = len(plan)
    check(n >= 9, "too few folder pairs: %r" % plan, r)
    counts1 = {"/".join(k): sum(v.values()) for k, v in snap(s.host1, user).items()}

    for rerun in (0, 1):
        r = run_ferry(s, user, "--workers", "4")
        check(r.returncode == 0, "--workers 4 run failed", r)
        out = r.stdout
        check(("++++ Looping on each one of %d folders to sync\n" % n) in out and
              "++++ End looping on each folder\n" in out, "no imapsync loop lines", r)
        lines = re.findall(r"^Folder +(\d+)/(\d+) (\[.*?\](?: = \[.*?\])?) +-> "
                           r"(\[.*?\](?: = \[.*?\])?) *$", out, re.M)
        check(sorted(int(k) for k, _, _, _ in lines) == list(range(1, n + 1)),
              "want Folder 1/%d .. %d/%d once each, got %r" % (n, n, n, lines), r)
        for k, of, a, b in lines:
            want = plan[int(k) - 1]
            check(int(of) == n and (shown(a), shown(b)) == want,
                  "Folder %s/%s names %s -> %s, the plan's #%s is %r" % (k, of, a, b, k, want), r)
            line = "Folder %7s %-35s -> %-35s\n" % ("%s/%s" % (k, of), a, b)
            check(line in out, "not imapsync's exact shape: %r" % line, r)
            c1 = re.findall(r"^Host1: folder %s considering (\d+) messages$" % re.escape(a), out,
                            re.M)
            c2 = re.findall(r"^Host2: folder %s considering (\d+) messages$" % re.escape(b), out,
                            re.M)
            have = counts1.get(want[0], 0)
            check(c1 == [str(have)] and c2 == [str(have if rerun else 0)],
                  "considering lines of %s: host1 %r host2 %r, want %d" % (a, c1, c2, have), r)
        check(re.search(r"^Folder +\d+/%d \[Entw&APw-rfe\] = \[Entwürfe\] +-> "
                        r"\[INBOX\.Entw&APw-rfe\] = \[INBOX\.Entwürfe\] *$" % n, out, re.M),
              "no jux_utf8 names for Entwürfe", r)
        # The 2.229 lines are still there.
        check(re.search(r"^Host1: folder \[Entwürfe\] has \d+ messages in total "
                        r"\(mentioned by SELECT\)$", out, re.M), "the 2.229 line is gone", r)
    identical(s, user)


def host2_labels(s, user, proxy2, folder="INBOX"):
    """{Message-ID tag: set of labels} of host2's folder, as proxy2 holds them."""
    conn = s.host2.imap(user)
    try:
        conn.select(folder, readonly=True)
        typ, data = conn.uid("FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        out = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
            tag = re.search(rb"<(.*)@dropin3.test>", item[1]).group(1).decode()
            out[tag] = set(proxy2.labels.get((folder.encode(), uid), []))
        return out
    finally:
        conn.logout()


@test
def gmail_labels_follow_the_messages(s):
    user = "user2"
    s.host1.reset(user)
    s.host2.reset(user)
    conn = s.host1.imap(user)
    try:
        for tag in ("m1", "m2", "m3", "m4"):
            corpus.append_one(conn, ("INBOX",), mail(tag))
    finally:
        conn.logout()
    g1, g2 = gmail_proxy.GmailProxy(s.host1.port), gmail_proxy.GmailProxy(s.host2.port)
    try:
        # host1's UIDs 1..4 are m1..m4 (a fresh mailbox).
        g1.labels[(b"INBOX", 1)] = ["Work", "My Label"]
        g1.labels[(b"INBOX", 2)] = ["\\Important"]
        g1.labels[(b"INBOX", 4)] = ["Work", "Caf\u00e9"]  # not ASCII: never sent

        def ferry(*extra):
            args = ferry_args(s, user, *extra, port2=g2.port)
            args[args.index("--port1") + 1] = str(g1.port)
            return run(args)

        r = ferry("--synclabels")
        check(r.returncode == 0, "--synclabels run failed", r)
        identical(s, user)
        got = host2_labels(s, user, g2)
        check(got == {"m1": {"Work", "My Label"}, "m2": {"\\Important"}, "m3": set(),
                      "m4": set()}, "host2 labels after --synclabels: %r" % got, r)
        check(re.search(r"^    2 messages given host1's Gmail labels, 1 not", r.stdout, re.M),
              "want 2 stored and 1 refused reported", r)
        check(any('"My Label"' in x for x in g2.stores), "a label with a blank went unquoted")
        check(not any("Caf" in x for x in g2.stores), "a non-ASCII label was sent")

        # Labels changed on host1: --synclabels alone leaves copies alone,
        # --resynclabels brings them in line.
        g1.labels[(b"INBOX", 1)] = ["Other"]
        g1.labels[(b"INBOX", 3)] = ["New"]
        stores = len(g2.stores)
        r = ferry("--resynclabels", "--nostate", "--dry")
        check(r.returncode == 0 and len(g2.stores) == stores, "--dry stored labels", r)
        r = ferry("--synclabels", "--nostate")
        check(r.returncode == 0 and host2_labels(s, user, g2)["m1"] == {"Work", "My Label"},
              "--synclabels changed a message it did not copy", r)
        r = ferry("--resynclabels", "--nostate")
        got = host2_labels(s, user, g2)
        check(r.returncode == 0 and got["m1"] == {"Other"} and got["m3"] == {"New"}
              and got["m2"] == {"\\Important"}, "host2 labels after --resynclabels: %r" % got, r)
        identical(s, user)
    finally:
        g1.close()
        g2.close()
    # Without X-GM-EXT-1 (plain Dovecot): one notice, the copy goes on.
    r = run_ferry(s, user, "--synclabels", "--nostate")
    check(r.returncode == 0 and r.stderr.count("X-GM-EXT-1") == 1,
          "want one notice that host1 has no X-GM-EXT-1", r)


if __name__ == "__main__":
    sys.exit(itest.main([proxyauth_lands_in_the_proxied_mailbox,
                         delete1emptyfolders_removes_empty_leaves,
                         imapsync_folder_lines_numbered_in_plan_order,
                         gmail_labels_follow_the_messages]))
