#!/usr/bin/env python3
"""End-to-end tests of imapferry between two real Dovecot servers.

Every assertion is on the servers' real state, read back by the oracle
(oracle.py, Python's imaplib, not our C code): folder names, message bytes,
flags and INTERNALDATEs. Usage: test_sync.py --bin path/to/imapferry [--count N]
"""
import os
import re
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import faultproxy  # noqa: E402
import itest  # noqa: E402
import oracle  # noqa: E402
from itest import check, identical, run_ferry, snap, stat, test  # noqa: E402


@test
def full_copy_rerun_and_delta(s):
    user = "user1"
    summary = corpus.load(s.host1.imap(user), seed=1, count=itest.COUNT)
    total = sum(summary.values()) if isinstance(summary, dict) else itest.COUNT
    r = run_ferry(s, user)
    check(r.returncode == 0, "first run failed", r)
    check(stat(r.stdout, "Messages transferred") == total,
          "first run should transfer all %d messages" % total, r)
    check("Detected 0 errors" in r.stdout, "first run reported errors", r)
    identical(s, user)
    print("     copied %d messages in %.2fs (%.0f msg/s)" % (total, r.elapsed, total / r.elapsed))
    # imapsync's per-folder lines, which scripts scrape: before the copy.
    inbox = summary["INBOX"] if isinstance(summary, dict) else None
    if inbox is not None:
        check(("Host1: folder [INBOX] has %d messages in total (mentioned by SELECT)" % inbox)
              in r.stdout, "want imapsync's Host1 line for INBOX", r)
        check("Host2: folder [INBOX] has 0 messages in total (mentioned by SELECT)" in r.stdout,
              "want imapsync's Host2 line for INBOX", r)

    before = snap(s.host2, user)
    r = run_ferry(s, user)
    check(r.returncode == 0, "second run failed", r)
    check(stat(r.stdout, "Messages transferred") == 0, "second run copied something", r)
    check(stat(r.stdout, "Messages skipped") == total, "second run should skip all", r)
    if inbox is not None:
        check(("Host2: folder [INBOX] has %d messages in total (mentioned by SELECT)" % inbox)
              in r.stdout, "want imapsync's Host2 line on a rerun too", r)
    check(oracle.compare(before, snap(s.host2, user)) == [], "second run changed host2")

    conn = s.host1.imap(user)
    corpus.append_one(conn, ("INBOX",), corpus.make_message(corpus.random.Random(99)),
                      (r"\Seen",), '"02-Feb-2021 03:04:05 +0200"')
    corpus.append_one(conn, ("Sent",),
                      corpus.make_message(corpus.random.Random(100), with_msgid=False),
                      (r"\Answered", "Work"), '"03-Mar-2022 04:05:06 -0500"')
    r = run_ferry(s, user)
    check(r.returncode == 0, "third run failed", r)
    check(stat(r.stdout, "Messages transferred") == 2, "third run should copy exactly 2", r)
    identical(s, user)

    # Flags changed on host1 after the copy: one added, one removed, a
    # keyword added. --dry must leave both servers as they are; a real
    # rerun brings host2 in line and copies nothing.
    conn = s.host1.imap(user)
    conn.select("INBOX")
    typ, data = conn.uid("SEARCH", None, "SEEN")
    seen = data[0].split()
    typ, data = conn.uid("SEARCH", None, "UNFLAGGED")
    unflagged = data[0].split()
    check(seen and unflagged, "corpus lacks seen/unflagged messages in INBOX")
    conn.uid("STORE", seen[0], "-FLAGS", r"(\Seen)")
    conn.uid("STORE", unflagged[-1], "+FLAGS", r"(\Flagged Work)")
    conn.logout()
    before1, before2 = snap(s.host1, user), snap(s.host2, user)
    check(oracle.compare(before1, before2) != [], "the flag change is not visible")
    r = run_ferry(s, user, "--dry")
    check(r.returncode == 0, "dry run failed", r)
    check(re.search(r"^Folder \[INBOX\] .* 2 flag updates \(not done: --dry\)", r.stdout, re.M),
          "dry run should announce 2 flag updates in INBOX", r)
    check(oracle.compare(before1, snap(s.host1, user)) == [], "--dry changed host1")
    check(oracle.compare(before2, snap(s.host2, user)) == [], "--dry changed host2")
    r = run_ferry(s, user)
    check(r.returncode == 0, "flag resync run failed", r)
    check(stat(r.stdout, "Messages transferred") == 0, "flag resync copied messages", r)
    identical(s, user)


@test
def justfolders(s):
    user = "user3"
    corpus.load(s.host1.imap(user), seed=4, count=10)
    r = run_ferry(s, user, "--justfolders")
    check(r.returncode == 0, "--justfolders failed", r)
    a, b = snap(s.host1, user), snap(s.host2, user)
    check(set(a) == set(b), "folders differ: %s vs %s" % (sorted(a), sorted(b)))
    check(sum(sum(c.values()) for c in b.values()) == 0, "--justfolders copied messages")


def ferry_to(s, dst, user, *extra):
    """A run from host1 to another host2-layout instance."""
    args = itest.ferry_args(s, user, *extra, pw2=dst.password(user), port2=dst.port)
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    return r


@test
def copy_without_literal_plus(s):
    # Servers that announce neither LITERAL+ nor MULTIAPPEND get one
    # synchronising APPEND per message; LITERAL+ alone (Exchange's set) gets
    # one non-synchronising APPEND per message. The copy must be the same.
    user = "user1"
    a = snap(s.host1, user)
    for name, caps in (("h2poor", "IMAP4rev1 SASL-IR ID ENABLE IDLE NAMESPACE"),
                       ("h2litplus", "IMAP4rev1 SASL-IR ID ENABLE IDLE NAMESPACE LITERAL+")):
        dst = s.add_host(name, layout="host2", extra_config=(
            "protocol imap {\n  imap_capability = %s\n}\n" % caps))
        r = ferry_to(s, dst, user, "--justlogin")
        announced = r.stdout.split("host2: capabilities:")[-1]
        check("MULTIAPPEND" not in announced and ("LITERAL+" in announced) == ("LIT" in caps),
              "%s does not announce what the test needs: the test proves nothing" % name, r)
        r = ferry_to(s, dst, user)
        check(r.returncode == 0, "copy to %s failed" % name, r)
        diffs = oracle.compare(a, snap(dst, user))
        check(not diffs, "%s differs from host1:\n%s" % (name, "\n".join(diffs[:20])))


def odd_messages():
    """Messages a CRLF-only corpus never has: bare LF line ends, a bare CR,
    a NUL byte in the body."""
    head = "From: a@example.org\r\nSubject: odd %d\r\nMessage-ID: <odd%d@example.org>\r\n"
    return [
        (head % (1, 1)).encode() + b"\r\nline one\nline two\nline three\n",
        (head % (2, 2)).encode() + b"\r\nbare\rcarriage return\r\n",
        (head % (3, 3)).encode() + b"\r\nnul \x00 byte\r\n",
    ]


@test
def odd_bytes_copied_once(s):
    # Both APPEND paths send the bytes host1 served (libetpan's own APPEND
    # would turn a bare LF into CRLF), so the copy's size matches host1's
    # and a rerun does not copy the message again.
    user = "user3"
    s.host1.reset(user)
    conn = s.host1.imap(user)
    stored = 0
    for msg in odd_messages():
        typ, _ = conn.append("INBOX", None, None, msg)
        stored += typ == "OK"
    conn.logout()
    check(stored >= 2, "host1 took only %d of the odd messages: the test proves nothing" % stored)
    a = snap(s.host1, user)
    for name, caps in (("h2oddpoor", "IMAP4rev1 SASL-IR ID ENABLE IDLE NAMESPACE"),
                       ("h2oddplus", None)):
        extra = "protocol imap {\n  imap_capability = %s\n}\n" % caps if caps else ""
        dst = s.add_host(name, layout="host2", extra_config=extra)
        r = ferry_to(s, dst, user)
        check(r.returncode == 0, "copy to %s failed" % name, r)
        diffs = oracle.compare(a, snap(dst, user))
        check(not diffs, "%s differs from host1:\n%s" % (name, "\n".join(diffs[:20])), r)
        r = ferry_to(s, dst, user)
        check(r.returncode == 0 and stat(r.stdout, "Messages transferred") == 0,
              "the rerun to %s copied again" % name, r)
        check(not oracle.compare(a, snap(dst, user)), "%s changed on the rerun" % name, r)


@test
def refused_message_in_a_batch(s):
    # host2 refuses messages over 100 KB. In a MULTIAPPEND batch that
    # refusal voids the whole batch; the retry one by one must store every
    # other message, report each refused one, and exit 114 (append errors).
    small = s.add_host("h2small", layout="host2", extra_config=(
        "mail_plugins = $mail_plugins quota\n"
        "plugin {\n  quota = maildir:User quota\n  quota_max_mail_size = 100k\n}\n"))
    user = "user1"
    a = snap(s.host1, user)
    big = {sha for folder in a.values() for (sha, flags, date) in folder
           if a.sizes.get(sha, 0) > 100 * 1024}
    check(big, "the corpus has no message over 100 KB: the test proves nothing")
    r = ferry_to(s, small, user)
    check(r.returncode == 114, "want exit 114 (append errors)", r)
    nbig = sum(n for folder in a.values() for (sha, flags, date), n in folder.items()
               if sha in big)
    check(len(re.findall(r"ERROR: host2: APPEND", r.stderr)) == nbig,
          "want one error line per refused message (%d)" % nbig, r)
    b = snap(small, user)
    for name, msgs in a.items():
        want = {k: n for k, n in msgs.items() if k[0] not in big}
        got = dict(b.get(name, {}))
        check(got == want, "folder %s: the small messages are not all there" % (name,))


@test
def skipsize(s):
    # Same Message-ID, different size (a server that rewrote the message):
    # by default and with --skipsize that is the same message, not copied
    # again; imapsync's strict --noskipsize takes it as another one.
    user = "user3"
    msg = (b"Message-ID: <skipsize-1@test>\r\nSubject: size\r\n\r\nbody\r\n")
    c1, c2 = s.host1.imap(user), s.host2.imap(user)
    c1.create("SkipSize")
    c2.create("INBOX.SkipSize")
    corpus.append_one(c1, ("SkipSize",), msg)
    corpus.append_one(c2, ("SkipSize",), msg.replace(b"body", b"body rewritten"))
    line = r"^Folder \[SkipSize\] -> \[INBOX\.SkipSize\]: %d would be copied, %d already there"
    r = run_ferry(s, user, "--dry")
    check(re.search(line % (0, 1), r.stdout, re.M), "by default a rewritten copy is paired", r)
    r = run_ferry(s, user, "--dry", "--skipsize")
    check(re.search(line % (0, 1), r.stdout, re.M), "--skipsize must pair them", r)
    r = run_ferry(s, user, "--dry", "--skipsize", "--noskipsize")
    check(re.search(line % (1, 0), r.stdout, re.M), "--noskipsize must win when last", r)


@test
def sigterm_mid_copy(s):
    # SIGTERM as soon as the first folder is done: the run stops between two
    # batches, prints the statistics, exits 6, and host2 holds only whole
    # messages of host1; a rerun then completes the copy.
    dst = s.add_host("h2sig", layout="host2")
    user = "user1"
    args = itest.ferry_args(s, user, pw2=dst.password(user), port2=dst.port)
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = ""
    for line in p.stdout:
        out += line
        if line.startswith("Folder ["):
            p.send_signal(signal.SIGTERM)
            break
    rest, err = p.communicate(timeout=60)
    out += rest
    check(p.returncode == 6, "want exit 6 after SIGTERM, got %s\n%s\n%s" % (p.returncode, out, err))
    check("++++ Statistics" in out and "stopped by signal" in err, "no statistics or no notice")
    a, b = snap(s.host1, user), snap(dst, user)
    check(sum(sum(c.values()) for c in b.values()) < sum(sum(c.values()) for c in a.values()),
          "the copy finished before the signal: the test proves nothing")
    for name, msgs in b.items():
        for key, n in msgs.items():
            check(a.get(name, {}).get(key, 0) >= n,
                  "host2 %s holds a message host1 lacks (half-written?)" % (name,))
    r = ferry_to(s, dst, user)
    check(r.returncode == 0, "the rerun after SIGTERM failed", r)
    diffs = oracle.compare(a, snap(dst, user))
    check(not diffs, "after the rerun h2sig differs:\n" + "\n".join(diffs[:20]))


@test
def reconnects_after_a_cut(s):
    # The first connection to each side is cut in the middle of the copy
    # (host2 while APPENDs are going up, host1 while bodies come down). The
    # run reconnects, goes on, copies every message exactly once, and counts
    # the reconnections; with --reconnectretry2 0 the same cut ends the run.
    user = "user1"
    a = snap(s.host1, user)
    total = sum(sum(c.values()) for c in a.values())
    for name, cut in (("h2cut2", {"cut_up": 3_000_000}), ("h2cut1", {"cut_down": 3_000_000})):
        dst = s.add_host(name, layout="host2")
        side = "host2" if "cut_up" in cut else "host1"
        proxy = faultproxy.FaultProxy(dst.port if side == "host2" else s.host1.port, **cut)
        try:
            # One worker: the cut is counted on the connection the proxy
            # cuts, and the reconnect under test is that one's.
            if side == "host2":
                args = itest.ferry_args(s, user, "--workers", "1", pw2=dst.password(user),
                                        port2=proxy.port)
            else:
                args = itest.ferry_args(s, user, "--workers", "1", pw2=dst.password(user),
                                        port2=dst.port)
                args[args.index("--port1") + 1] = str(proxy.port)
            r = subprocess.run(args, capture_output=True, text=True, timeout=300)
        finally:
            proxy.close()
        check(proxy.cuts >= 1, "the proxy never cut: the test proves nothing")
        check(r.returncode == 0, "the run did not survive the cut on %s" % side, r)
        check(re.search(r"reconnecting to %s \(1 of 3\)" % side, r.stderr), "no notice", r)
        check(stat(r.stdout, "Reconnections to %s" % side) == 1, "want 1 reconnection", r)
        check(stat(r.stdout, "Messages transferred") == total, "want %d transferred" % total, r)
        diffs = oracle.compare(a, snap(dst, user))
        check(not diffs, "%s differs after the cut:\n%s" % (name, "\n".join(diffs[:20])))
    dst = s.add_host("h2cut0", layout="host2")
    proxy = faultproxy.FaultProxy(dst.port, cut_up=3_000_000)
    try:
        r = subprocess.run(itest.ferry_args(s, user, "--reconnectretry2", "0", "--workers", "1",
                                            pw2=dst.password(user), port2=proxy.port),
                           capture_output=True, text=True, timeout=300)
    finally:
        proxy.close()
    check(r.returncode == 102 and "connection lost" in r.stderr,
          "--reconnectretry2 0: a cut should end the run with 102", r)


@test
def wrong_password_host1(s):
    user = "user2"
    corpus.load(s.host1.imap(user), seed=2, count=5)
    before = snap(s.host2, user)
    r = run_ferry(s, user, pw1="not-the-password")
    check(r.returncode == 161, "want exit 161", r)
    check(re.search(r"host1: login refused for user user2", r.stderr), "no clear line", r)
    check("not-the-password" not in r.stdout + r.stderr, "password printed", r)
    check(oracle.compare(before, snap(s.host2, user)) == [], "host2 changed")


@test
def wrong_password_host2(s):
    user = "user2"
    before = snap(s.host2, user)
    r = run_ferry(s, user, pw2="not-the-password")
    check(r.returncode == 162, "want exit 162", r)
    check(re.search(r"host2: login refused for user user2", r.stderr), "no clear line", r)
    check(oracle.compare(before, snap(s.host2, user)) == [], "host2 changed")


@test
def closed_port_host2(s):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    r = run_ferry(s, "user2", port2=port)
    check(r.returncode == 102, "want exit 102", r)
    check(re.search(r"host2: cannot connect to 127\.0\.0\.1 port %d" % port, r.stderr),
          "no clear line naming host and port", r)


@test
def no_plaintext_fallback(s):
    # These servers offer no STARTTLS: without --notls the run must stop
    # before sending the password, not fall back to plaintext.
    user = "user3"
    before = snap(s.host2, user)
    r = run_ferry(s, user, notls=False)
    check(r.returncode == 12, "want exit 12", r)
    check(re.search(r"host1: .* offers no STARTTLS.*--notls1", r.stderr), "no clear line", r)
    check(r.stderr.count("\n") == 1, "want exactly one error line", r)
    r = run_ferry(s, user, "--notls1", notls=False)
    check(r.returncode == 12 and "--notls2" in r.stderr, "host2 must be refused too", r)
    check(oracle.compare(before, snap(s.host2, user)) == [], "host2 changed")


if __name__ == "__main__":
    sys.exit(itest.main([full_copy_rerun_and_delta, copy_without_literal_plus, odd_bytes_copied_once,
                         refused_message_in_a_batch, sigterm_mid_copy, reconnects_after_a_cut, justfolders, skipsize, wrong_password_host1,
                         wrong_password_host2, closed_port_host2, no_plaintext_fallback]))
