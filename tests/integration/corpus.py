#!/usr/bin/env python3
"""Seeded, reproducible test mailbox loader (IMAP APPEND via imaplib).

The same (seed, count) always yields the same messages (bytes), flags,
INTERNALDATEs and folders: everything is drawn from random.Random objects
seeded from (seed, message index); nothing depends on the clock. Because each
message has its own generator, a corpus of count=300 is the first 300
messages of count=1000 with the same seed.

Logical folders (path components; mapped to server names through the
server's NAMESPACE, so the same corpus loads into host1 and host2):
    INBOX, Sent, Drafts, Trash, Junk, Archive, Archive/2019, Entwürfe
    (non-ASCII -> modified UTF-7 on the wire), Project X (space), Empty (no
    messages). All are subscribed except Junk.

Messages: CRLF only, never empty, never a NUL byte; sizes ~0.8 KB .. 3 MB
(one in a hundred is 1-3 MB, a few percent 50-300 KB, the rest small; the
default 300 messages are ~10 MB, 1000 ~ 35 MB, 10000 ~ 330 MB); text/plain and
multipart/mixed with base64 attachments; ~10% carry raw 8-bit header bytes
(UTF-8 or latin-1); ~10% have no Message-ID; ~3% are byte-identical copies
of an earlier message in the same folder. Flags from \\Seen \\Answered
\\Flagged \\Draft \\Deleted and keywords $Forwarded NonJunk Work.
INTERNALDATEs from 2005 to 2025 in various zones.

Python use
    import corpus
    summary = corpus.load(conn, seed=1, count=300)   # {'INBOX': 104, ...}
    corpus.append_one(conn, ('Archive', '2019'), msg_bytes, ['\\\\Seen'], epoch_or_datestr)
    for folder, msg, flags, date in corpus.generate(seed, count): ...

CLI
    python3 corpus.py --host 127.0.0.1 --port P --user U --password W [--seed N] [--count N]
"""

from __future__ import annotations

import argparse
import base64
import datetime
import email.utils
import imaplib
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaputil import (format_internaldate, get_namespace, quote,  # noqa: E402
                      set_nodelay, to_server_name)

# (logical folder, weight for random placement). Parents come before children:
# creating 'Archive/2019' first would leave 'Archive' a \Noselect placeholder.
FOLDERS = [
    (("INBOX",), 35),
    (("Sent",), 15),
    (("Drafts",), 5),
    (("Trash",), 5),
    (("Junk",), 5),
    (("Archive",), 8),
    (("Archive", "2019"), 8),
    (("Entwürfe",), 6),
    (("Project X",), 8),
    (("Empty",), 0),
]
UNSUBSCRIBED = {("Junk",)}

SYSTEM_FLAGS = [("\\Seen", 0.6), ("\\Answered", 0.15), ("\\Flagged", 0.1),
                ("\\Draft", 0.05), ("\\Deleted", 0.03)]
KEYWORDS = [("$Forwarded", 0.08), ("NonJunk", 0.1), ("Work", 0.1)]
TIMEZONES = [60, -480, 330, 0, 120, -300, 540, -210, 765, -600]  # minutes east of UTC
DATE_MIN = 1104537600   # 2005-01-01T00:00:00Z
DATE_MAX = 1767225599   # 2025-12-31T23:59:59Z

WORDS = ("imap mailbox folder message sync server client flag seen answered "
         "draft archive project budget meeting report invoice schedule review "
         "release build test deploy network storage backup quota header body "
         "attachment greeting regards tomorrow yesterday urgent please thanks").split()
NAMES = ["Alice Example", "Bob Builder", "Carol Jones", "Dave O'Neil", "Eve Adams",
         "Frank Miller", "Grace Hopper", "Heidi Klum"]
# raw 8-bit header values (deliberately not RFC 2047 encoded)
EIGHTBIT_SUBJECTS = [
    "Grüße aus München – Ärger mit Öl".encode("utf-8"),
    "Réunion à l'hôtel, café crème".encode("utf-8"),
    "Gr\u00fc\u00dfe, Stra\u00dfe".encode("latin-1"),
    "日本語の件名テスト".encode("utf-8"),
    "Se\u00f1or Pe\u00f1a".encode("latin-1"),
]
EIGHTBIT_NAMES = ["Jürgen Müller".encode("utf-8"), "Ren\u00e9 Fran\u00e7ois".encode("latin-1")]


def _rng_for(seed: int, index: int) -> random.Random:
    # String seeds are hashed with SHA-512 by random.Random: stable across runs
    # and independent of PYTHONHASHSEED.
    return random.Random("imapferry-corpus-%d-%d" % (seed, index))


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _text_body(rng: random.Random, approx: int) -> bytes:
    """Plain ASCII text, lines < 78 chars, CRLF, about `approx` bytes."""
    lines = []
    size = 0
    while size < approx:
        line = _words(rng, rng.randint(3, 11)).capitalize() + "."
        lines.append(line)
        size += len(line) + 2
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _b64_lines(data: bytes) -> bytes:
    enc = base64.b64encode(data)
    return b"\r\n".join(enc[i:i + 76] for i in range(0, len(enc), 76)) + b"\r\n"


def _pick_size(rng: random.Random, large: bool) -> int:
    if large:
        return rng.randint(1_000_000, 3_000_000)
    r = rng.random()
    if r < 0.04:
        return rng.randint(50_000, 300_000)
    if r < 0.45:
        return rng.randint(3_000, 20_000)
    return rng.randint(800, 3_000)


def make_message(rng: random.Random, with_msgid: bool = True, *, size: int | None = None,
                 date: tuple[int, int] | None = None, eightbit: bool | None = None) -> bytes:
    """One RFC 5322 message, CRLF line endings, no NUL bytes, never empty.

    size: approximate total size in bytes (default: drawn from rng);
    date: (epoch, tz_minutes) for the Date: header (default: drawn from rng);
    eightbit: raw 8-bit Subject/From (default: ~10%)."""
    if size is None:
        size = _pick_size(rng, False)
    if date is None:
        date = (rng.randint(DATE_MIN, DATE_MAX), rng.choice(TIMEZONES))
    if eightbit is None:
        eightbit = rng.random() < 0.10
    epoch, tz = date
    when = datetime.datetime.fromtimestamp(epoch, datetime.timezone(datetime.timedelta(minutes=tz)))
    token = "%016x" % rng.getrandbits(64)  # makes otherwise similar messages distinct

    sender = rng.choice(NAMES)
    local = sender.split()[0].lower()
    if eightbit:
        from_hdr = b'"' + rng.choice(EIGHTBIT_NAMES) + b'" <' + local.encode() + b"@example.org>"
        subject = rng.choice(EIGHTBIT_SUBJECTS) + b" " + token[:6].encode()
    else:
        from_hdr = ('"%s" <%s@example.org>' % (sender, local)).encode()
        subject = ("%s %s" % (_words(rng, rng.randint(2, 6)).capitalize(), token[:6])).encode()
    headers = [
        b"Return-Path: <" + local.encode() + b"@example.org>",
        b"From: " + from_hdr,
        b"To: user@example.net",
        b"Subject: " + subject,
        b"Date: " + email.utils.format_datetime(when).encode(),
    ]
    if with_msgid:
        headers.append(("Message-ID: <%s.%d@corpus.imapferry.test>" % (token, epoch)).encode())
    headers.append(b"MIME-Version: 1.0")
    if eightbit:
        headers.append(b"X-Corpus-Note: raw 8-bit header bytes above")

    if size < 4000 and rng.random() < 0.7:
        headers.append(b"Content-Type: text/plain; charset=us-ascii")
        headers.append(b"Content-Transfer-Encoding: 7bit")
        head = b"\r\n".join(headers) + b"\r\n\r\n"
        body = _text_body(rng, max(200, size - len(head)))
        body += ("Token: %s\r\n" % token).encode()
        return head + body

    boundary = "=_imapferry_%s" % token
    headers.append(('Content-Type: multipart/mixed; boundary="%s"' % boundary).encode())
    head = b"\r\n".join(headers) + b"\r\n\r\n"
    text = _text_body(rng, rng.randint(300, 1500)) + ("Token: %s\r\n" % token).encode()
    parts = [b"This is a multi-part message in MIME format.\r\n",
             ("--%s\r\n" % boundary).encode(),
             b"Content-Type: text/plain; charset=us-ascii\r\n\r\n", text]
    remaining = max(300, size - len(head) - len(text) - 400)
    nattach = 1 if remaining < 20000 else rng.randint(1, 3)
    for k in range(nattach):
        raw_len = max(100, remaining // nattach * 3 // 4)  # base64 grows by 4/3
        name = "%s-%d.%s" % (rng.choice(["report", "photo", "data", "scan"]), k,
                             rng.choice(["pdf", "jpg", "bin", "zip"]))
        parts += [("--%s\r\n" % boundary).encode(),
                  ('Content-Type: application/octet-stream; name="%s"\r\n' % name).encode(),
                  ('Content-Disposition: attachment; filename="%s"\r\n' % name).encode(),
                  b"Content-Transfer-Encoding: base64\r\n\r\n",
                  _b64_lines(rng.randbytes(raw_len))]
    parts.append(("--%s--\r\n" % boundary).encode())
    return head + b"".join(parts)


def _pick_flags(rng: random.Random, folder: tuple) -> list[str]:
    flags = []
    for f, p in SYSTEM_FLAGS:
        if f == "\\Draft" and folder == ("Drafts",):
            p = 0.6
        if rng.random() < p:
            flags.append(f)
    for k, p in KEYWORDS:
        if rng.random() < p:
            flags.append(k)
    return flags


def generate(seed: int = 1, count: int = 300):
    """Yield (logical_folder, message_bytes, flags, internaldate_str) for the
    corpus, deterministically. internaldate_str is quoted, ready for APPEND."""
    folders = [f for f, w in FOLDERS if w > 0]
    weights = [w for f, w in FOLDERS if w > 0]
    per_folder: dict[tuple, list] = {}
    for i in range(count):
        rng = _rng_for(seed, i)
        folder = rng.choices(folders, weights)[0]
        previous = per_folder.setdefault(folder, [])
        flags = _pick_flags(rng, folder)
        date = format_internaldate(rng.randint(DATE_MIN, DATE_MAX), rng.choice(TIMEZONES))
        if previous and rng.random() < 0.03:
            # exact byte-identical duplicate; half of them also with the same
            # flags and INTERNALDATE (a multiset count of 2 in the oracle)
            msg, pflags, pdate = rng.choice(previous)
            if rng.random() < 0.5:
                flags, date = list(pflags), pdate
        else:
            # one in a hundred is large (1-3 MB), at a fixed position per block
            large = (i % 100) == 37
            msg = make_message(rng, with_msgid=rng.random() >= 0.10,
                               size=_pick_size(rng, large))
            # keep only small ones as duplicate candidates (memory for 10000)
            if len(msg) < 50_000:
                previous.append((msg, flags, date))
        yield folder, msg, flags, date


def create_folders(conn) -> None:
    """Create and subscribe the corpus folders (existing ones are fine)."""
    prefix, sep = get_namespace(conn)
    for folder, _ in FOLDERS:
        name = quote(to_server_name(folder, prefix, sep))
        if folder != ("INBOX",):
            typ, data = conn.create(name)
            if typ != "OK" and b"exists" not in b" ".join(d or b"" for d in data).lower():
                raise RuntimeError("CREATE %s failed: %r" % (name, data))
        if folder not in UNSUBSCRIBED:
            typ, data = conn.subscribe(name)
            if typ != "OK":
                raise RuntimeError("SUBSCRIBE %s failed: %r" % (name, data))


def _date_arg(date):
    """Accept a quoted INTERNALDATE string, an epoch int (UTC), an
    (epoch, tz_minutes) tuple or an aware datetime."""
    if date is None:
        return None
    if isinstance(date, str):
        return date if date.startswith('"') else '"%s"' % date
    if isinstance(date, (int, float)):
        return format_internaldate(int(date), 0)
    if isinstance(date, tuple):
        return format_internaldate(int(date[0]), int(date[1]))
    if isinstance(date, datetime.datetime):
        off = date.utcoffset()
        if off is None:
            raise ValueError("naive datetime for INTERNALDATE")
        return format_internaldate(int(date.timestamp()), int(off.total_seconds() // 60))
    raise TypeError("unsupported date %r" % (date,))


def append_one(conn, logical_folder, msg_bytes: bytes, flags=(), date=None) -> None:
    """APPEND one message to a logical folder (tuple of components, or a
    str for a single component) with flags and INTERNALDATE."""
    if not msg_bytes:
        raise ValueError("Dovecot refuses 0-byte messages")
    prefix, sep = get_namespace(conn)
    name = quote(to_server_name(logical_folder, prefix, sep))
    if isinstance(flags, str):
        flags = flags.split()
    flag_arg = "(%s)" % " ".join(flags) if flags else None
    typ, data = conn.append(name, flag_arg, _date_arg(date), msg_bytes)
    if typ != "OK":
        raise RuntimeError("APPEND to %s failed: %r" % (name, data))


def load(conn, seed: int = 1, count: int = 300) -> dict:
    """Create the folders and append the corpus. Returns {folder: messages}
    with folder names as '/'-joined logical names ('Archive/2019')."""
    set_nodelay(conn)
    create_folders(conn)
    summary = {"/".join(f): 0 for f, _ in FOLDERS}
    for folder, msg, flags, date in generate(seed, count):
        append_one(conn, folder, msg, flags, date)
        summary["/".join(folder)] += 1
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="load the seeded imapferry test corpus")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=300)
    args = ap.parse_args(argv)
    try:
        conn = imaplib.IMAP4(args.host, args.port, timeout=120)
        conn.login(args.user, args.password)
    except (OSError, imaplib.IMAP4.error) as e:
        print("corpus: cannot log in to %s:%d as %s: %s" % (args.host, args.port, args.user, e),
              file=sys.stderr)
        return 2
    t0 = time.monotonic()
    summary = load(conn, args.seed, args.count)
    elapsed = time.monotonic() - t0
    conn.logout()
    for k, v in summary.items():
        print("%-14s %6d" % (k, v))
    print("loaded %d messages (seed %d) in %.1fs" % (sum(summary.values()), args.seed, elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
