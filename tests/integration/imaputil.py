"""Small IMAP helpers shared by corpus.py and oracle.py (standard library only).

Contents:
  * modified UTF-7 (RFC 3501 section 5.1.3) encoder/decoder for mailbox names
  * quote() for IMAP quoted strings
  * a tolerant tokenizer/parser for the (text | (text, literal)) lists that
    imaplib returns, used for FETCH, LIST and NAMESPACE responses
  * INTERNALDATE formatting/parsing
  * namespace lookup and logical-folder <-> server-name mapping

Logical folders are tuples of path components, e.g. ('INBOX',), ('Sent',),
('Archive', '2019'), ('Entwürfe',). On a server the name is
prefix + separator.join(mutf7(component)), except INBOX which is always 'INBOX'.
"""

from __future__ import annotations

import base64
import calendar
import re
import socket

__all__ = [
    "mutf7_encode", "mutf7_decode", "quote", "parse_response", "fetch_records",
    "format_internaldate", "parse_internaldate", "get_namespace",
    "to_server_name", "to_logical", "logical_str", "list_mailboxes",
    "set_nodelay",
]


# --------------------------------------------------------------------------
# modified UTF-7
# --------------------------------------------------------------------------

def _b64_modified(chunk: str) -> str:
    # UTF-16BE (surrogate pairs for non-BMP chars), base64 without padding,
    # '/' replaced by ','.
    raw = chunk.encode("utf-16-be")
    return base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ",")


def mutf7_encode(name: str) -> str:
    """Encode a Unicode mailbox name into IMAP modified UTF-7."""
    out = []
    pending = []  # run of non-printable-ASCII characters waiting for encoding
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            if pending:
                out.append("&" + _b64_modified("".join(pending)) + "-")
                pending = []
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    if pending:
        out.append("&" + _b64_modified("".join(pending)) + "-")
    return "".join(out)


def mutf7_decode(name: str) -> str:
    """Decode IMAP modified UTF-7 into Unicode. Malformed input is returned
    unchanged for the malformed part (the oracle must not crash on odd names)."""
    out = []
    i = 0
    n = len(name)
    while i < n:
        ch = name[i]
        if ch != "&":
            out.append(ch)
            i += 1
            continue
        end = name.find("-", i + 1)
        if end < 0:  # malformed: no terminator
            out.append(name[i:])
            break
        if end == i + 1:
            out.append("&")
        else:
            b64 = name[i + 1:end].replace(",", "/")
            b64 += "=" * (-len(b64) % 4)
            try:
                out.append(base64.b64decode(b64, validate=True).decode("utf-16-be"))
            except (ValueError, UnicodeDecodeError):
                out.append(name[i:end + 1])
        i = end + 1
    return "".join(out)


# --------------------------------------------------------------------------
# quoting and response parsing
# --------------------------------------------------------------------------

def quote(s: str) -> str:
    """IMAP quoted string (imaplib does not quote mailbox arguments itself)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Literal(bytes):
    """Marker type: a string that came as an IMAP literal ({n}\\r\\n...)."""


_LITERAL_AT_END = re.compile(rb"\{(\d+)\+?\}\s*$")
_ATOM_END = b" ()\"\r\n"


def _tokenize_text(buf: bytes):
    """Yield tokens from a piece of response text.

    '(' and ')' are yielded as str; atoms (incl. NIL, numbers, flags, BODY[...])
    as str (latin-1 decoded); quoted strings as bytes (unescaped).
    """
    i, n = 0, len(buf)
    while i < n:
        c = buf[i:i + 1]
        if c in (b" ", b"\r", b"\n", b"\t"):
            i += 1
        elif c in (b"(", b")"):
            yield c.decode()
            i += 1
        elif c == b'"':
            i += 1
            val = bytearray()
            while i < n and buf[i:i + 1] != b'"':
                if buf[i:i + 1] == b"\\" and i + 1 < n:
                    i += 1
                val += buf[i:i + 1]
                i += 1
            i += 1  # closing quote
            yield bytes(val)
        else:
            start = i
            while i < n and buf[i:i + 1] not in (b" ", b"(", b")", b'"', b"\r", b"\n"):
                if buf[i:i + 1] == b"[":
                    # section spec like BODY[HEADER.FIELDS (A B)]: keep it as one atom
                    close = buf.find(b"]", i)
                    i = n if close < 0 else close + 1
                else:
                    i += 1
            yield buf[start:i].decode("latin-1")


def _tokens(data):
    """Tokens from imaplib's response data list (bytes items, (head, literal)
    tuples, possibly None). Items are treated as one continuous stream, which
    is what makes literals in the middle of a FETCH response work."""
    for item in data:
        if item is None:
            continue
        if isinstance(item, tuple):
            head, lit = item[0], item[1]
            m = _LITERAL_AT_END.search(head)
            if m:
                head = head[:m.start()]
            yield from _tokenize_text(head)
            yield Literal(lit)
        else:
            yield from _tokenize_text(item)


def parse_response(data) -> list:
    """Parse imaplib response data into nested Python lists.

    Parenthesized lists become lists, atoms str, quoted strings bytes,
    literals Literal (a bytes subclass)."""
    root: list = []
    stack = [root]
    for tok in _tokens(data):
        if tok == "(" and type(tok) is str:
            new: list = []
            stack[-1].append(new)
            stack.append(new)
        elif tok == ")" and type(tok) is str:
            if len(stack) > 1:
                stack.pop()
        else:
            stack[-1].append(tok)
    return root


def _as_text(v) -> str:
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "surrogateescape")
    return v


def fetch_records(data) -> list[dict]:
    """Turn imaplib FETCH data into a list of dicts {ITEM-NAME: value}.

    Keys are upper-cased atoms ('UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE',
    'BODY[]'); the message sequence number is under 'SEQ'."""
    items = parse_response(data)
    records = []
    i = 0
    while i < len(items):
        seq = items[i]
        if i + 1 < len(items) and isinstance(items[i + 1], list):
            lst = items[i + 1]
            rec = {"SEQ": seq}
            for k in range(0, len(lst) - 1, 2):
                key = lst[k]
                key = key.upper() if isinstance(key, str) else _as_text(key).upper()
                rec[key] = lst[k + 1]
            records.append(rec)
            i += 2
        else:  # unexpected shape; skip a token
            i += 1
    return records


# --------------------------------------------------------------------------
# INTERNALDATE
# --------------------------------------------------------------------------

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_DATE_RE = re.compile(
    r"\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\s*$")


def format_internaldate(epoch: int, tz_minutes: int) -> str:
    """'"DD-Mon-YYYY HH:MM:SS +hhmm"' (quoted, ready for APPEND) for the
    instant `epoch` shown in the zone `tz_minutes` east of UTC. Locale-free."""
    import time
    t = time.gmtime(epoch + tz_minutes * 60)
    sign = "+" if tz_minutes >= 0 else "-"
    off = abs(tz_minutes)
    return '"%02d-%s-%04d %02d:%02d:%02d %s%02d%02d"' % (
        t.tm_mday, _MONTHS[t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min,
        t.tm_sec, sign, off // 60, off % 60)


def parse_internaldate(s) -> int:
    """INTERNALDATE string -> absolute epoch seconds (UTC)."""
    s = _as_text(s)
    m = _DATE_RE.match(s)
    if not m:
        raise ValueError("bad INTERNALDATE %r" % s)
    day, mon, year, hh, mm, ss, sign, oh, om = m.groups()
    month = [x.lower() for x in _MONTHS].index(mon.lower()) + 1
    local = calendar.timegm((int(year), month, int(day), int(hh), int(mm), int(ss), 0, 0, 0))
    off = (int(oh) * 60 + int(om)) * 60
    return local - off if sign == "+" else local + off


# --------------------------------------------------------------------------
# namespaces and names
# --------------------------------------------------------------------------

def get_namespace(conn) -> tuple[str, str]:
    """(prefix, separator) of the first personal namespace, via NAMESPACE.

    Falls back to LIST "" "" for the separator if the server lacks NAMESPACE.
    Cached on the connection object."""
    cached = getattr(conn, "_imapferry_ns", None)
    if cached:
        return cached
    prefix, sep = "", "/"
    try:
        typ, data = conn.namespace()
    except conn.error:
        typ, data = "NO", None
    if typ == "OK" and data:
        tree = parse_response(data)
        personal = tree[0] if tree else "NIL"
        if isinstance(personal, list) and personal and isinstance(personal[0], list):
            first = personal[0]
            prefix = _as_text(first[0])
            sep = "" if first[1] == "NIL" else _as_text(first[1])
    else:
        typ, data = conn.list('""', '""')
        tree = parse_response(data)
        if len(tree) >= 2 and tree[1] != "NIL":
            sep = _as_text(tree[1])
    conn._imapferry_ns = (prefix, sep)
    return prefix, sep


def to_server_name(components, prefix: str, sep: str) -> str:
    """Logical components -> server mailbox name (modified UTF-7, unquoted)."""
    if isinstance(components, str):
        components = (components,)
    components = tuple(components)
    if components == ("INBOX",):
        return "INBOX"
    return prefix + sep.join(mutf7_encode(c) for c in components)


def to_logical(name: str, prefix: str, sep: str) -> tuple:
    """Server mailbox name (modified UTF-7) -> logical components.

    Under a prefix such as 'INBOX.', the children of INBOX are named
    'INBOX.INBOX.Sub' (imapsync's mapping of host1 'INBOX/Sub'), so
    ('INBOX', 'Sub') on both layouts. A folder literally named INBOX under
    the prefix ('INBOX.INBOX', the parent of those) is not the INBOX: it gets
    the logical name (prefix + 'INBOX',), e.g. ('INBOX.INBOX',), so it can
    never be confused with (and overwrite) the real ('INBOX',)."""
    if name.upper() == "INBOX":
        return ("INBOX",)
    if prefix and name.startswith(prefix):
        name = name[len(prefix):]
    elif prefix and name.upper().startswith(prefix.upper()):
        name = name[len(prefix):]
    parts = name.split(sep) if sep else [name]
    if prefix and len(parts) == 1 and parts[0].upper() == "INBOX":
        return (prefix + parts[0],)
    return tuple(mutf7_decode(p) for p in parts)


def logical_str(components) -> str:
    """Human readable logical folder name ('Archive/2019')."""
    return "/".join(components)


def list_mailboxes(conn, command: str = "LIST") -> list[tuple[str, set, str]]:
    """LIST (or LSUB) "" "*" -> [(name, {attributes}, separator)].

    Names are returned as sent by the server (modified UTF-7)."""
    if command.upper() == "LSUB":
        typ, data = conn.lsub('""', '"*"')
    else:
        typ, data = conn.list('""', '"*"')
    if typ != "OK":
        raise conn.error("%s failed: %r" % (command, data))
    tree = parse_response(data)
    out = []
    for k in range(0, len(tree) - 2, 3):
        attrs, delim, name = tree[k], tree[k + 1], tree[k + 2]
        if not isinstance(attrs, list):
            raise ValueError("cannot parse %s response: %r" % (command, data))
        attr_set = {_as_text(a).lower() for a in attrs}
        out.append((_as_text(name), attr_set, "" if delim == "NIL" else _as_text(delim)))
    return out


def set_nodelay(conn) -> None:
    """TCP_NODELAY on an imaplib connection: avoids delayed-ACK stalls between
    the literal and the final CRLF of an APPEND."""
    try:
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass


if __name__ == "__main__":  # tiny self-check
    for s, e in [("Entwürfe", "Entw&APw-rfe"), ("A&B", "A&-B"), ("Project X", "Project X"),
                 ("日本語", "&ZeVnLIqe-"), ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-")]:
        assert mutf7_encode(s) == e, (s, mutf7_encode(s), e)
        assert mutf7_decode(e) == s, (e, mutf7_decode(e), s)
    # host1 'INBOX/Sub' and host2 'INBOX.INBOX.Sub' are the same logical folder;
    # host2's 'INBOX.INBOX' (their parent) is not the INBOX
    assert to_logical("INBOX/Sub", "", "/") == to_logical("INBOX.INBOX.Sub", "INBOX.", ".") \
        == ("INBOX", "Sub")
    assert to_logical("INBOX.INBOX", "INBOX.", ".") == ("INBOX.INBOX",)
    assert to_server_name(("INBOX", "Sub"), "INBOX.", ".") == "INBOX.INBOX.Sub"
    assert parse_internaldate("17-Jul-1996 02:44:25 -0700") == 837596665
    assert parse_internaldate(" 7-Jul-1996 02:44:25 +0000") == 836707465
    print("imaputil ok")
