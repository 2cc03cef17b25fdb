#!/usr/bin/env python3
"""Compare two IMAP accounts, independently of imapferry's C code.

A snapshot of an account maps each logical folder (tuple of components, names
decoded from modified UTF-7, namespace prefix stripped, INBOX -> ('INBOX',);
host1 'INBOX/Sub' and host2 'INBOX.INBOX.Sub' are both ('INBOX', 'Sub'), as
imapsync maps them, and host2's 'INBOX.INBOX' is ('INBOX.INBOX',), never the INBOX)
to a Counter (multiset) of messages, each message being
    (sha256 hex of the exact bytes, frozenset of flags without \\Recent,
     INTERNALDATE as absolute epoch seconds)
so the comparison is independent of UIDs, the hierarchy separator, the
namespace prefix and the time zone the server prints INTERNALDATE in.
Subscriptions (LSUB) are recorded too and compared.

Python use
    a = oracle.snapshot('127.0.0.1', p1, 'user1', 'h1pass1', label='host1')
    b = oracle.snapshot('127.0.0.1', p2, 'user1', 'h2pass1', label='host2')
    diffs = oracle.compare(a, b)          # [] when identical

CLI
    python3 oracle.py --a HOST:PORT:USER:PASS --b HOST:PORT:USER:PASS [--no-subscriptions]
    exit 0 identical, 1 differences (each printed, then a summary line),
    2 connection/login/protocol error.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import imaplib
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaputil import (fetch_records, get_namespace, list_mailboxes,  # noqa: E402
                      logical_str, parse_internaldate, quote, set_nodelay, to_logical)

CHUNK_BYTES = 16 * 1024 * 1024   # fetch bodies in chunks of about this many bytes
CHUNK_MAX = 500                  # ... and at most this many messages per chunk


class Snapshot(dict):
    """dict logical folder -> Counter[(sha, flags, epoch)], plus
    .subscribed (set of logical folders), .sizes (sha -> size), .label,
    .names (logical folder -> server name)."""

    def __init__(self, label: str):
        super().__init__()
        self.label = label
        self.subscribed: set = set()
        self.sizes: dict[str, int] = {}
        self.names: dict[tuple, str] = {}

    def total(self) -> int:
        return sum(sum(c.values()) for c in self.values())

    def by_name(self) -> dict:
        """server name (as listed, modified UTF-7) -> Counter of messages."""
        return {self.names[f]: c for f, c in self.items()}


def _uid_set(uids: list[int]) -> str:
    """Compact UID set '1:5,8,10:12' (keeps the command line short)."""
    out = []
    start = prev = None
    for u in sorted(uids):
        if start is None:
            start = prev = u
        elif u == prev + 1:
            prev = u
        else:
            out.append("%d:%d" % (start, prev) if start != prev else str(start))
            start = prev = u
    if start is not None:
        out.append("%d:%d" % (start, prev) if start != prev else str(start))
    return ",".join(out)


def _folder_messages(conn, server_name: str, snap: Snapshot) -> collections.Counter:
    typ, data = conn.select(quote(server_name), readonly=True)  # EXAMINE
    if typ != "OK":
        raise imaplib.IMAP4.error("EXAMINE %s failed: %r" % (server_name, data))
    counter: collections.Counter = collections.Counter()
    if int(data[0] or 0) == 0:
        return counter
    # First the sizes, to cut the body fetches into chunks of bounded bytes.
    typ, data = conn.uid("FETCH", "1:*", "(UID RFC822.SIZE)")
    if typ != "OK":
        raise imaplib.IMAP4.error("UID FETCH sizes in %s failed: %r" % (server_name, data))
    sizes = {}
    for rec in fetch_records(data):
        if "UID" in rec and "RFC822.SIZE" in rec:
            sizes[int(rec["UID"])] = int(rec["RFC822.SIZE"])
    chunks, cur, cur_bytes = [], [], 0
    for uid in sorted(sizes):
        if cur and (cur_bytes + sizes[uid] > CHUNK_BYTES or len(cur) >= CHUNK_MAX):
            chunks.append(cur)
            cur, cur_bytes = [], 0
        cur.append(uid)
        cur_bytes += sizes[uid]
    if cur:
        chunks.append(cur)
    seen = set()
    for chunk in chunks:
        typ, data = conn.uid("FETCH", _uid_set(chunk),
                             "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
        if typ != "OK":
            raise imaplib.IMAP4.error("UID FETCH in %s failed: %r" % (server_name, data))
        for rec in fetch_records(data):
            # unsolicited FETCH (e.g. flag updates from another session) has no body
            if "BODY[]" not in rec or "UID" not in rec:
                continue
            uid = int(rec["UID"])
            if uid in seen:
                continue
            seen.add(uid)
            body = rec["BODY[]"]
            if not isinstance(body, (bytes, bytearray)):  # NIL
                body = b""
            body = bytes(body)
            flags = rec.get("FLAGS", [])
            flags = frozenset(f if isinstance(f, str) else f.decode() for f in flags
                              if (f if isinstance(f, str) else f.decode()).lower() != "\\recent")
            epoch = parse_internaldate(rec["INTERNALDATE"])
            sha = hashlib.sha256(body).hexdigest()
            snap.sizes[sha] = len(body)
            counter[(sha, flags, epoch)] += 1
    missing = set(sizes) - seen
    if missing:  # expunged by someone meanwhile, or a parse problem: say so
        raise imaplib.IMAP4.error("%s: no body for UIDs %s" % (server_name, _uid_set(sorted(missing))))
    return counter


def snapshot(host: str, port: int, user: str, password: str, label: str | None = None,
             timeout: float = 120) -> Snapshot:
    """Read a whole account. Raises OSError / imaplib.IMAP4.error on failure."""
    snap = Snapshot(label or "%s:%s/%s" % (host, port, user))
    conn = imaplib.IMAP4(host, int(port), timeout=timeout)
    try:
        set_nodelay(conn)
        conn.login(user, password)
        prefix, sep = get_namespace(conn)
        for name, attrs, delim in list_mailboxes(conn, "LIST"):
            if "\\noselect" in attrs or "\\nonexistent" in attrs:
                continue
            logical = to_logical(name, prefix, delim or sep)
            if logical in snap.names:  # never let one folder hide another
                raise imaplib.IMAP4.error("%s and %s both map to the logical folder %r"
                                          % (snap.names[logical], name, logical))
            snap.names[logical] = name
            snap[logical] = _folder_messages(conn, name, snap)
        for name, attrs, delim in list_mailboxes(conn, "LSUB"):
            snap.subscribed.add(to_logical(name, prefix, delim or sep))
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    finally:
        try:
            conn.shutdown()
        except OSError:
            pass
    return snap


# --------------------------------------------------------------------------
# comparison
# --------------------------------------------------------------------------

def _fmt_flags(flags) -> str:
    return "{" + ",".join(sorted(flags)) + "}"


def _fmt_date(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def _describe(msg, sizes) -> str:
    sha, flags, epoch = msg
    size = sizes.get(sha)
    return "%s.. (%s bytes, %s, flags %s)" % (sha[:10], size if size is not None else "?",
                                             _fmt_date(epoch), _fmt_flags(flags))


def _pair(only_a: list, only_b: list):
    """Pair unmatched messages with the same sha so the report can say what
    differs. Preference: same date (flags differ), then same flags (date
    differs), then anything with that sha. Returns (pairs, rest_a, rest_b)."""
    by_sha_b = collections.defaultdict(list)
    for y in only_b:
        by_sha_b[y[0]].append(y)
    pairs, rest_a = [], []
    by_sha_a = collections.defaultdict(list)
    for x in only_a:
        by_sha_a[x[0]].append(x)
    for sha, xs in by_sha_a.items():
        ys = by_sha_b.get(sha, [])
        for same in (lambda x, y: x[2] == y[2], lambda x, y: x[1] == y[1], lambda x, y: True):
            for x in list(xs):
                for y in ys:
                    if same(x, y):
                        pairs.append((x, y))
                        xs.remove(x)
                        ys.remove(y)
                        break
        rest_a.extend(xs)
    rest_b = [y for ys in by_sha_b.values() for y in ys]
    return pairs, rest_a, rest_b


def compare(a: Snapshot, b: Snapshot, subscriptions: bool = True) -> list[str]:
    """Human-readable differences between two snapshots ([] if identical)."""
    la, lb = getattr(a, "label", "a"), getattr(b, "label", "b")
    sizes = dict(getattr(a, "sizes", {}))
    sizes.update(getattr(b, "sizes", {}))
    diffs: list[str] = []

    # where each sha lives, to hint at messages that went to the wrong folder
    def index(s):
        idx = collections.defaultdict(set)
        for f, c in s.items():
            for m in c:
                idx[m[0]].add(f)
        return idx
    idx_a, idx_b = index(a), index(b)

    for folder in sorted(set(a) | set(b)):
        name = logical_str(folder)
        if folder not in b:
            diffs.append("folder %r (%d messages) only on %s"
                         % (name, sum(a[folder].values()), la))
            continue
        if folder not in a:
            diffs.append("folder %r (%d messages) only on %s"
                         % (name, sum(b[folder].values()), lb))
            continue
        ca, cb = a[folder], b[folder]
        if ca == cb:
            continue
        only_a = list((ca - cb).elements())
        only_b = list((cb - ca).elements())
        pairs, rest_a, rest_b = _pair(only_a, only_b)
        for x, y in pairs:
            what = []
            if x[1] != y[1]:
                what.append("flags %s on %s, %s on %s" % (_fmt_flags(x[1]), la, _fmt_flags(y[1]), lb))
            if x[2] != y[2]:
                what.append("INTERNALDATE %s on %s, %s on %s (%+d s)"
                            % (_fmt_date(x[2]), la, _fmt_date(y[2]), lb, y[2] - x[2]))
            diffs.append("%s: message %s.. (%s bytes) %s"
                         % (name, x[0][:10], sizes.get(x[0], "?"), "; ".join(what)))
        for side, rest, other_idx, other_label in ((la, rest_a, idx_b, lb), (lb, rest_b, idx_a, la)):
            for m in rest:
                hint = ""
                elsewhere = sorted(logical_str(f) for f in other_idx.get(m[0], ()) if f != folder)
                if elsewhere:
                    hint = " (same bytes are in %s on %s)" % (", ".join(map(repr, elsewhere)),
                                                              other_label)
                diffs.append("%s: message %s only on %s%s" % (name, _describe(m, sizes), side, hint))

    if subscriptions:
        sa, sb = getattr(a, "subscribed", set()), getattr(b, "subscribed", set())
        for f in sorted(sa - sb):
            diffs.append("subscription %r only on %s" % (logical_str(f), la))
        for f in sorted(sb - sa):
            diffs.append("subscription %r only on %s" % (logical_str(f), lb))
    return diffs


def _parse_account(spec: str):
    parts = spec.split(":", 3)  # the password may contain ':'
    if len(parts) != 4 or not parts[1].isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT:USER:PASS, got %r" % spec)
    return parts[0], int(parts[1]), parts[2], parts[3]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="compare two IMAP accounts")
    ap.add_argument("--a", required=True, type=_parse_account, metavar="HOST:PORT:USER:PASS")
    ap.add_argument("--b", required=True, type=_parse_account, metavar="HOST:PORT:USER:PASS")
    ap.add_argument("--no-subscriptions", action="store_true", help="ignore LSUB differences")
    args = ap.parse_args(argv)
    snaps = []
    for acct in (args.a, args.b):
        host, port, user, pw = acct
        try:
            snaps.append(snapshot(host, port, user, pw, label="%s:%d/%s" % (host, port, user)))
        except (OSError, imaplib.IMAP4.error, socket.timeout) as e:
            print("oracle: %s:%d/%s: %s" % (host, port, user, e), file=sys.stderr)
            return 2
    a, b = snaps
    diffs = compare(a, b, subscriptions=not args.no_subscriptions)
    for d in diffs:
        print(d)
    summary = "%s: %d folders, %d messages; %s: %d folders, %d messages" % (
        a.label, len(a), a.total(), b.label, len(b), b.total())
    if diffs:
        print("DIFFERENT: %d difference(s); %s" % (len(diffs), summary))
        return 1
    print("IDENTICAL: %s" % summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
