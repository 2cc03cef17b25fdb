#!/usr/bin/env python3
"""Baseline copier for scripts/bench: an IMAP account copied the obvious way.

Written the way most people would write it with Python's imaplib, as a
reference point a reader understands at a glance:

  * log in to both servers, ask each for its NAMESPACE (prefix, separator)
  * LIST "" "*" on host1, skip \\Noselect, map each name to its logical
    components and back to a host2 name (imaputil.to_logical/to_server_name)
  * CREATE the folders host2 lacks, SUBSCRIBE what host1 has subscribed
  * per folder: EXAMINE, UID SEARCH ALL, then for each message, one at a time,
    UID FETCH uid (FLAGS INTERNALDATE BODY.PEEK[]) on host1 and APPEND it to
    host2 with the same flags (minus \\Recent) and INTERNALDATE

No pipelining, no batching, no dedup: it assumes the destination account is
empty (copy it twice and you get every message twice).

CLI
    naive_copy.py --a HOST:PORT:USER:PASS --b HOST:PORT:USER:PASS
    prints one line per folder and a last line
        copied N messages (B bytes) in S.SSs (R messages/s)
    exit 0 on success, 2 on a connection/login/protocol error.
"""

from __future__ import annotations

import argparse
import imaplib
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaputil import (fetch_records, get_namespace, list_mailboxes,  # noqa: E402
                      logical_str, quote, set_nodelay, to_logical, to_server_name)


def _account(spec: str):
    parts = spec.split(":", 3)  # the password may contain ':'
    if len(parts) != 4 or not parts[1].isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT:USER:PASS, got %r" % spec)
    return parts[0], int(parts[1]), parts[2], parts[3]


def connect(host: str, port: int, user: str, password: str) -> imaplib.IMAP4:
    conn = imaplib.IMAP4(host, port, timeout=300)
    set_nodelay(conn)
    conn.login(user, password)
    return conn


def _text(v) -> str:
    return v.decode("utf-8", "surrogateescape") if isinstance(v, (bytes, bytearray)) else v


def _ok(typ, data, what: str):
    if typ != "OK":
        raise imaplib.IMAP4.error("%s failed: %r" % (what, data))
    return data


def copy_folder(src, dst, src_name: str, dst_name: str) -> tuple[int, int]:
    """Copy every message of one folder, one at a time. (messages, bytes)."""
    data = _ok(*src.select(quote(src_name), readonly=True), "EXAMINE %s" % src_name)
    if int(data[0] or 0) == 0:
        return 0, 0
    data = _ok(*src.uid("SEARCH", "ALL"), "UID SEARCH in %s" % src_name)
    uids = [int(u) for u in b" ".join(d or b"" for d in data).split()]
    copied = nbytes = 0
    for uid in uids:
        data = _ok(*src.uid("FETCH", str(uid), "(FLAGS INTERNALDATE BODY.PEEK[])"),
                   "UID FETCH %d in %s" % (uid, src_name))
        rec = next((r for r in fetch_records(data) if "BODY[]" in r), None)
        if rec is None:  # expunged meanwhile
            continue
        body = bytes(rec["BODY[]"])
        flags = [_text(f) for f in rec.get("FLAGS", [])]
        flags = [f for f in flags if f.lower() != "\\recent"]
        date = '"%s"' % _text(rec["INTERNALDATE"])
        _ok(*dst.append(quote(dst_name), "(%s)" % " ".join(flags) if flags else None,
                        date, body), "APPEND to %s" % dst_name)
        copied += 1
        nbytes += len(body)
    return copied, nbytes


def copy_account(src, dst, log=print) -> tuple[int, int]:
    p1, s1 = get_namespace(src)
    p2, s2 = get_namespace(dst)

    folders = []  # (logical, host1 name), parents before children
    for name, attrs, delim in list_mailboxes(src, "LIST"):
        if "\\noselect" in attrs or "\\nonexistent" in attrs:
            continue
        folders.append((to_logical(name, p1, delim or s1), name))
    folders.sort()

    existing = {to_logical(name, p2, delim or s2)
                for name, _, delim in list_mailboxes(dst, "LIST")}
    for logical, _ in folders:
        if logical not in existing:
            dst_name = to_server_name(logical, p2, s2)
            _ok(*dst.create(quote(dst_name)), "CREATE %s" % dst_name)

    for name, _, delim in list_mailboxes(src, "LSUB"):
        dst_name = to_server_name(to_logical(name, p1, delim or s1), p2, s2)
        _ok(*dst.subscribe(quote(dst_name)), "SUBSCRIBE %s" % dst_name)

    total = total_bytes = 0
    for logical, src_name in folders:
        t0 = time.monotonic()
        n, b = copy_folder(src, dst, src_name, to_server_name(logical, p2, s2))
        log("%-16s %6d messages %10d bytes %7.2fs" % (logical_str(logical), n, b,
                                                      time.monotonic() - t0))
        total += n
        total_bytes += b
    return total, total_bytes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="copy an IMAP account the naive way (baseline)")
    ap.add_argument("--a", required=True, type=_account, metavar="HOST:PORT:USER:PASS",
                    help="source account")
    ap.add_argument("--b", required=True, type=_account, metavar="HOST:PORT:USER:PASS",
                    help="destination account (expected empty)")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    conns = []
    try:
        for host, port, user, pw in (args.a, args.b):
            try:
                conns.append(connect(host, port, user, pw))
            except (OSError, imaplib.IMAP4.error) as e:
                print("naive_copy: %s:%d/%s: %s" % (host, port, user, e), file=sys.stderr)
                return 2
        try:
            total, nbytes = copy_account(*conns)
        except (OSError, imaplib.IMAP4.error, socket.timeout) as e:
            print("naive_copy: %s" % e, file=sys.stderr)
            return 2
        for c in conns:
            try:
                c.logout()
            except (OSError, imaplib.IMAP4.error):
                pass
    finally:
        for c in conns:
            try:
                c.shutdown()
            except OSError:
                pass
    elapsed = time.monotonic() - t0
    print("copied %d messages (%d bytes) in %.2fs (%.1f messages/s)"
          % (total, nbytes, elapsed, total / elapsed if elapsed > 0 else 0.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
