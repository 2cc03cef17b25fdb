#!/usr/bin/env python3
"""COMPRESS=DEFLATE (RFC 4978) end to end.

Two private Dovecot 2.3 servers with the imap_zlib plugin (they announce
COMPRESS=DEFLATE after login), each reached through a counting TCP proxy, so
the bytes on the wire are measured outside imapferry. A scripted server
stands in for what Dovecot will not do: refuse COMPRESS (NO, BAD), send a
corrupt DEFLATE stream, send a decompression bomb.

Assertions are on real state: the copy is identical by the oracle
(Python's imaplib); negotiation shows in the bytes through the proxies (far
fewer than the message bytes, and far fewer than the same copy with
--nocompress1 --nocompress2) and in imapferry's "logged in" lines; the
scripted server records whether the commands after a refusal came in
plaintext.

Usage: test_compress.py --bin path/to/imapferry
"""
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import itest  # noqa: E402
import oracle  # noqa: E402
import tlscerts  # noqa: E402
from harness import Servers, TLSConfig  # noqa: E402
from itest import check, test  # noqa: E402
from latencyproxy import LatencyProxy  # noqa: E402
from loopserver import LoopbackServer  # noqa: E402

USER = "user1"
SEED, COUNT = 16, 30
TEXT_COUNT = 50
# Dovecot 2.3: the imap_zlib plugin alone gives COMPRESS=DEFLATE (zlib, the
# storage compression plugin, is not needed).
ZLIB_CONFIG = "protocol imap {\n  mail_plugins = $mail_plugins imap_zlib\n}\n"

CERTS = None
MSG_BYTES = 0   # bytes of the corpus messages
MEASURED = {}   # wire bytes per run: "on" / "off"


# --------------------------------------------------------------------------
# a proxy that counts what passes
# --------------------------------------------------------------------------

class ScriptedServer(LoopbackServer):
    """Greets with COMPRESS=DEFLATE, accepts any LOGIN, and answers
    COMPRESS DEFLATE as `mode` says:
      no / bad   refuse; later commands are answered in plaintext
      corrupt    OK, then garbage instead of DEFLATE for the next command
      bomb       OK, then a compressed line of `bomb_mib` MiB with no end
    .lines records every plaintext line received."""

    CAPS = "IMAP4rev1 LITERAL+ COMPRESS=DEFLATE"

    def __init__(self, mode, bomb_mib=0):
        self.mode, self.bomb_mib = mode, bomb_mib
        self.lines = []
        self.bomb = self._make_bomb() if mode == "bomb" else b""
        self.listen(8)

    def _make_bomb(self):
        """"* OK " and bomb_mib MiB of "a". The MiB is compressed once and
        repeated: it starts with a literal and refers only to itself, and
        each copy ends on a sync flush, so the copies join into one
        valid stream (about 1 KiB per MiB)."""
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        head = c.compress(b"* OK ") + c.flush(zlib.Z_SYNC_FLUSH)
        mib = c.compress(b"a" * (1 << 20)) + c.flush(zlib.Z_SYNC_FLUSH)
        return head + mib * self.bomb_mib

    def _session(self, conn):
        f = conn.makefile("rwb", buffering=0)

        def send(s):
            f.write(s.encode() + b"\r\n")

        try:
            send("* OK [CAPABILITY %s] scripted" % self.CAPS)
            while True:
                line = f.readline()
                if not line:
                    return
                line = line.decode(errors="replace").rstrip("\r\n")
                self.lines.append(line)
                tag, _, rest = line.partition(" ")
                cmd = rest.split(" ")[0].upper()
                if cmd == "CAPABILITY":
                    send("* CAPABILITY %s" % self.CAPS)
                    send("%s OK done" % tag)
                elif cmd == "LOGIN":
                    send("%s OK logged in" % tag)
                elif cmd == "COMPRESS":
                    if self.mode == "no":
                        send("%s NO compression not today" % tag)
                    elif self.mode == "bad":
                        send("%s BAD what is COMPRESS" % tag)
                    else:
                        send("%s OK DEFLATE active" % tag)
                        self._hostile(conn)
                        return
                elif cmd == "LIST":
                    send('* LIST (\\Noselect) "/" ""')
                    send("%s OK done" % tag)
                elif cmd == "LOGOUT":
                    send("* BYE bye")
                    send("%s OK bye" % tag)
                    return
                else:
                    send("%s OK done" % tag)
        except OSError:
            pass
        finally:
            conn.close()

    def _hostile(self, conn):
        conn.recv(65536)  # the next (compressed) command
        if self.mode == "corrupt":
            conn.sendall(b"\xff" * 64 + b"* OK this is not DEFLATE\r\n")
        else:
            conn.sendall(self.bomb)
        # Keep the connection open: what ends the session must be the data.
        conn.settimeout(60)
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass


# --------------------------------------------------------------------------
# running imapferry
# --------------------------------------------------------------------------

def ferry(s, p1, p2, *extra, tls=False, host1_port=None, timeout=300):
    args = [itest.BIN,
            "--host1", "127.0.0.1", "--port1", str(host1_port or p1.port),
            "--user1", USER, "--password1", s.host1.password(USER),
            "--host2", "127.0.0.1", "--port2", str(p2.port),
            "--user2", USER, "--password2", s.host2.password(USER),
            "--logdir", os.path.join(itest.WORK, "logs"),
            "--pidfile", os.path.join(itest.WORK, "imapferry.pid"),
            "--statedir", os.path.join(itest.WORK, "state"), "--nostate"]
    if tls:
        args += ["--cafile1", CERTS.ca, "--cafile2", CERTS.ca]
    else:
        args += ["--notls1", "--notls2"]
    args += list(extra)
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    r.args_shown = " ".join(a for a in args[1:] if not re.match(r"h\dpass", a))
    for secret in ("h1pass", "h2pass"):
        check(secret not in r.stdout + r.stderr, "a password is printed", r)
    return r


def login_line(r, label):
    lines = [ln for ln in r.stdout.splitlines() if re.match(r"%s: logged in as " % label, ln)]
    check(len(lines) == 1, "want one '%s: logged in' line" % label, r)
    return lines[0]


def proxies(s):
    """Byte-counting proxies in front of both hosts (the latency proxy with
    no delay: .bytes_down counts server->client, .bytes_up the other way)."""
    return LatencyProxy(s.host1.port, delay_ms=0), LatencyProxy(s.host2.port, delay_ms=0)


def fresh_destination(s):
    s.host2.reset(USER)
    check(oracle.compare(itest.snap(s.host1, USER), itest.snap(s.host2, USER)) != [],
          "host2 already has host1's mail: a copy would not show")


def copy_and_measure(s, key, *extra, tls=False):
    fresh_destination(s)
    p1, p2 = proxies(s)
    try:
        r = ferry(s, p1, p2, *extra, tls=tls)
    finally:
        p1.close()
        p2.close()
    check(r.returncode == 0, "want exit 0", r)
    itest.identical(s, USER)
    MEASURED[key] = (p1.bytes_down, p2.bytes_up)
    print("     %s: host1->imapferry %d, imapferry->host2 %d bytes, for %d bytes of mail"
          % (key, p1.bytes_down, p2.bytes_up, MSG_BYTES), flush=True)
    return r, p1, p2


@test
def compressed_both_sides(s):
    r, p1, p2 = copy_and_measure(s, "on")
    for label in ("host1", "host2"):
        line = login_line(r, label)
        check(line.find("plaintext, COMPRESS=DEFLATE") >= 0, "COMPRESS not on for " + label, r)
    # Every message crossed both proxies; compressed they take far less.
    check(p1.bytes_down < 0.6 * MSG_BYTES,
          "host1 -> imapferry carried %d bytes for %d bytes of mail" % (p1.bytes_down, MSG_BYTES), r)
    check(p2.bytes_up < 0.6 * MSG_BYTES,
          "imapferry -> host2 carried %d bytes for %d bytes of mail" % (p2.bytes_up, MSG_BYTES), r)


@test
def nocompress_does_not_negotiate(s):
    r, p1, p2 = copy_and_measure(s, "off", "--nocompress1", "--nocompress2")
    for label in ("host1", "host2"):
        check("COMPRESS" not in login_line(r, label), "COMPRESS on for " + label, r)
    check(p1.bytes_down >= MSG_BYTES and p2.bytes_up >= MSG_BYTES,
          "uncompressed, the wire carries every message byte (%d, %d < %d)"
          % (p1.bytes_down, p2.bytes_up, MSG_BYTES), r)
    if "on" in MEASURED:
        on, off = MEASURED["on"], MEASURED["off"]
        check(on[0] < 0.6 * off[0] and on[1] < 0.6 * off[1],
              "compressed %r against uncompressed %r" % (on, off))


@test
def compress_only_one_side(s):
    r, p1, p2 = copy_and_measure(s, "one", "--nocompress2", "--compress1")
    check("COMPRESS=DEFLATE" in login_line(r, "host1"), "COMPRESS off on host1", r)
    check("COMPRESS" not in login_line(r, "host2"), "COMPRESS on on host2", r)
    check(p1.bytes_down < 0.6 * MSG_BYTES and p2.bytes_up >= MSG_BYTES,
          "bytes %d / %d for %d bytes of mail" % (p1.bytes_down, p2.bytes_up, MSG_BYTES), r)


@test
def compressed_under_starttls(s):
    r, p1, p2 = copy_and_measure(s, "tls", tls=True)
    for label in ("host1", "host2"):
        line = login_line(r, label)
        check(re.search(r", TLSv1\.[23] \S+, COMPRESS=DEFLATE \(", line),
              "want TLS and COMPRESS in the %s line" % label, r)
    # TLS adds a little per record; compression still shows.
    check(p1.bytes_down < 0.6 * MSG_BYTES and p2.bytes_up < 0.6 * MSG_BYTES,
          "bytes %d / %d for %d bytes of mail" % (p1.bytes_down, p2.bytes_up, MSG_BYTES), r)


def scripted_login(s, mode):
    srv = ScriptedServer(mode)
    p1, p2 = proxies(s)
    try:
        r = ferry(s, p1, p2, "--justlogin", host1_port=srv.port, timeout=60)
    finally:
        srv.close()
        p1.close()
        p2.close()
    return r, srv


@test
def refusal_goes_on_uncompressed(s):
    for mode, word in (("no", "compression not today"), ("bad", "what is COMPRESS")):
        r, srv = scripted_login(s, mode)
        check(r.returncode == 0, "want exit 0 after a %s to COMPRESS" % mode.upper(), r)
        said = [ln for ln in r.stdout.splitlines() if "refused COMPRESS DEFLATE" in ln]
        check(len(said) == 1 and said[0].startswith("host1: ") and word in said[0],
              "want one line saying host1 refused COMPRESS", r)
        check("COMPRESS" not in login_line(r, "host1"), "COMPRESS reported on", r)
        i = next((k for k, ln in enumerate(srv.lines) if "COMPRESS DEFLATE" in ln), None)
        check(i is not None, "imapferry never asked for COMPRESS: %r" % srv.lines, r)
        # The next command came readable, i.e. uncompressed.
        check(any(re.match(r"\S+ (LIST|NAMESPACE|LOGOUT)\b", ln) for ln in srv.lines[i + 1:]),
              "no plaintext command after the refusal: %r" % srv.lines, r)
        # host2 (Dovecot) was compressed all the same.
        check("COMPRESS=DEFLATE" in login_line(r, "host2"), "host2 not compressed", r)


def hostile_run(s, mode, bomb_mib=0):
    srv = ScriptedServer(mode, bomb_mib)
    p1, p2 = proxies(s)
    try:
        t0 = time.monotonic()
        r = ferry(s, p1, p2, "--reconnectretry1", "0", host1_port=srv.port, timeout=120)
        r.elapsed = time.monotonic() - t0
    finally:
        srv.close()
        p1.close()
        p2.close()
    return r


def connection_failure(r, *words):
    print("     exit %s: %s" % (r.returncode, " | ".join(r.stderr.splitlines()[-2:])), flush=True)
    check(r.returncode not in (0, None) and r.returncode >= 0,
          "want a failed run, not exit %s / a crash" % r.returncode, r)
    check(r.returncode in (101, 111), "want exit 101 (host1 connection), got %s"
          % r.returncode, r)
    lines = [ln for ln in r.stderr.splitlines() if "host1" in ln]
    check(lines, "no error line names host1", r)
    for w in words:
        check(any(re.search(w, ln, re.I) for ln in lines), "no host1 error line says /%s/" % w, r)
    check("AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr,
          "sanitizer report", r)


@test
def corrupt_stream_ends_session(s):
    before = itest.snap(s.host2, USER)
    r = hostile_run(s, "corrupt")
    connection_failure(r, r"corrupt compressed data")
    check(oracle.compare(before, itest.snap(s.host2, USER)) == [], "host2 changed")


@test
def bomb_is_bounded(s):
    # 1 GiB of one endless line in about 1 MiB of DEFLATE: the line cap
    # (16 MiB) applies to the inflated bytes and imapferry stays small.
    r = hostile_run(s, "bomb", bomb_mib=1024)
    connection_failure(r, r"line longer than 16 MiB")
    rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    # ASan's shadow and quarantine add some; a 1 GiB inflate would not fit.
    print("     peak RSS of a child: %.0f MiB" % rss_mib, flush=True)
    check(rss_mib < 400, "imapferry grew to %.0f MiB on the bomb" % rss_mib, r)


def main():
    global CERTS, MSG_BYTES
    with tempfile.TemporaryDirectory(prefix="imapferry-compress-") as certdir:
        CERTS = tlscerts.make_certs(certdir)
        tls = TLSConfig(CERTS.good_cert, CERTS.good_key, imaps=False)
        return itest.main([load, compressed_both_sides, nocompress_does_not_negotiate,
                           compress_only_one_side, compressed_under_starttls,
                           refusal_goes_on_uncompressed, corrupt_stream_ends_session,
                           bomb_is_bounded],
                          tls=tls, extra_config={"host1": ZLIB_CONFIG, "host2": ZLIB_CONFIG})


def text_message(rng, i, size):
    """A plain-text message of about `size` bytes: mail as it mostly is,
    and compressible, unlike the corpus's random attachments."""
    head = ("From: \"Sender %d\" <s%d@example.org>\r\nTo: user@example.net\r\n"
            "Subject: report %d\r\nDate: Mon, 6 Jan 2020 10:%02d:00 +0100\r\n"
            "Message-ID: <text%d.%d@compress.imapferry.test>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
            % (i, i, i, i % 60, i, SEED)).encode()
    lines, n = [], len(head)
    while n < size:
        line = " ".join(rng.choice(corpus.WORDS) for _ in range(rng.randint(4, 11)))
        lines.append(line.capitalize() + ".")
        n += len(line) + 3
    return head + ("\r\n".join(lines) + "\r\n").encode()


@test
def load(s):
    """The seeded corpus (flags, dates, odd names, a few random
    attachments) plus text messages that make up most of the bytes."""
    global MSG_BYTES
    conn = s.host1.imap(USER)
    corpus.load(conn, seed=SEED, count=COUNT)
    MSG_BYTES = sum(len(m) for _, m, _, _ in corpus.generate(SEED, COUNT))
    rng = random.Random(SEED)
    for i in range(TEXT_COUNT):
        msg = text_message(rng, i, rng.randint(10_000, 60_000))
        corpus.append_one(conn, ("INBOX",) if i % 2 else ("Archive",), msg, ["\\Seen"])
        MSG_BYTES += len(msg)
    conn.logout()
    check(MSG_BYTES > 1_000_000, "the corpus is too small to measure: %d bytes" % MSG_BYTES)


if __name__ == "__main__":
    sys.exit(main())
