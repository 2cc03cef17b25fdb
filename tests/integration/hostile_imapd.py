"""A scripted IMAP server that plays host1 for the hostile-server tests.

It speaks the part of IMAP4rev1 that imapferry uses on its source side
(see src/imapc.c): greeting, CAPABILITY, LOGIN, NAMESPACE, LIST/LSUB
"" "*" (and LIST "" ""), SELECT/EXAMINE, FETCH of metadata by sequence
number (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (...)]),
UID FETCH of bodies (UID BODY.PEEK[]), NOOP, LOGOUT; anything else is
answered BAD. Client literals ({n} and {n+}) are accepted.

Every client command (with its literals inlined) is recorded in .lines as
(connection number, text) so a test can check what was (not) sent.

Misbehaviour is scripted per test with plain attributes and hooks:
  greeting          bytes sent first (without CRLF added), default "* OK ..."
  Folder(...)       per folder: wire form of the name in LIST (a literal can
                    carry CR LF), EXISTS/UIDVALIDITY/PERMANENTFLAGS overrides,
                    raw replacement for the untagged SELECT answer
  Msg(...)          per message: raw FLAGS list content (quoted strings and
                    literals allowed), INTERNALDATE, body
  hooks             dict name -> fn(session, tag, ...) called instead of or
                    around the default answer; see the _cmd_* methods:
                      "fetch_meta"(sess, tag, folder, seqs) -> True if handled
                      "meta_extra"(sess, folder, seqs) -> bytes sent before the
                                   tagged OK of a metadata FETCH
                      "fetch_body"(sess, tag, folder, pairs) -> True if handled
                      "select"(sess, tag, folder) -> True if handled
                      "after_greeting"(sess) -> None
Sessions are numbered from 1 in connection order (sess.no); the server
counts them in .connections.
"""
import hashlib
import re
import socket
import threading

from loopserver import LoopbackServer

CRLF = b"\r\n"


def literal(data):
    if isinstance(data, str):
        data = data.encode()
    return b"{%d}\r\n" % len(data) + data


def quoted(s):
    if isinstance(s, str):
        s = s.encode()
    return b'"' + s.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


class Msg:
    def __init__(self, uid, body, flags=b"", date="01-Feb-2024 10:11:12 +0100"):
        self.uid = uid
        self.body = body if isinstance(body, bytes) else body.encode()
        self.flags = flags if isinstance(flags, bytes) else flags.encode()
        self.date = date
        self.size = None  # RFC822.SIZE to announce instead of the real one

    @property
    def sha(self):
        return hashlib.sha256(self.body).hexdigest()

    def header_fields(self, names):
        """The header lines whose names are in `names` (case-insensitive),
        continuation lines included, plus the blank line: what a server
        answers to BODY.PEEK[HEADER.FIELDS (names)]."""
        want = {n.lower() for n in names}
        head = self.body.split(b"\r\n\r\n", 1)[0]
        out, keep = [], False
        for line in head.split(b"\r\n"):
            if line[:1] in (b" ", b"\t"):
                if keep:
                    out.append(line)
                continue
            keep = line.split(b":", 1)[0].strip().decode("latin-1").lower() in want
            if keep:
                out.append(line)
        return b"".join(l + CRLF for l in out) + CRLF


class Folder:
    def __init__(self, name, msgs=(), wire=None, exists=None, uidvalidity=1700000000,
                 permflags=b"(\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)",
                 select_raw=None, attrs=b"()"):
        self.name = name if isinstance(name, bytes) else name.encode()
        self.msgs = list(msgs)
        self.wire = wire if wire is not None else quoted(self.name)
        self.exists = exists
        self.uidvalidity = uidvalidity
        self.permflags = permflags
        self.select_raw = select_raw
        self.attrs = attrs


class Session:
    def __init__(self, server, sock, no):
        self.server, self.sock, self.no = server, sock, no
        self.f = sock.makefile("rwb", buffering=0)
        self.folder = None
        self.closed = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.f.write(data)

    def line(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.f.write(data + CRLF)

    def close(self):
        """Drops the connection at once (no LOGOUT exchange)."""
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def read_command(self):
        """One client command with its literals inlined, or None at EOF."""
        buf = b""
        while True:
            line = self.f.readline()
            if not line:
                return None
            buf += line
            m = re.search(rb"\{(\d+)(\+?)\}\r?\n$", line)
            if not m:
                return buf.rstrip(b"\r\n")
            if not m.group(2):
                self.line(b"+ go ahead")
            n = int(m.group(1))
            data = b""
            while len(data) < n:
                chunk = self.f.read(n - len(data))
                if not chunk:
                    return None
                data += chunk
            buf += data


def _atoms(b):
    """Splits command arguments: atoms, "quoted" and {n} literals (inlined)
    -> list of bytes values; parenthesised parts are kept raw."""
    out, i = [], 0
    while i < len(b):
        c = b[i:i + 1]
        if c == b" ":
            i += 1
        elif c == b'"':
            j, v = i + 1, b""
            while j < len(b) and b[j:j + 1] != b'"':
                if b[j:j + 1] == b"\\":
                    j += 1
                v += b[j:j + 1]
                j += 1
            out.append(v)
            i = j + 1
        elif c == b"{":
            m = re.match(rb"\{(\d+)\+?\}\r\n", b[i:])
            n = int(m.group(1))
            start = i + m.end()
            out.append(b[start:start + n])
            i = start + n
        elif c == b"(":
            depth, j = 0, i
            while j < len(b):
                if b[j:j + 1] == b"(":
                    depth += 1
                elif b[j:j + 1] == b")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            out.append(b[i:j + 1])
            i = j + 1
        else:
            j = i
            while j < len(b) and b[j:j + 1] != b" ":
                if b[j:j + 1] == b"[":  # BODY.PEEK[HEADER.FIELDS (a b)] is one item
                    j = b.index(b"]", j)
                j += 1
            out.append(b[i:j])
            i = j
    return out


def parse_set(s, top):
    """An IMAP sequence set (1:3,5,7:*) -> sorted list of numbers <= top
    ('*' = top); never materialises a range beyond top."""
    out = set()
    for part in s.decode().split(","):
        a, _, b = part.partition(":")
        lo = top if a == "*" else int(a)
        hi = lo if not b else (top if b == "*" else int(b))
        lo, hi = min(lo, hi), max(lo, hi)
        out.update(range(lo, min(hi, top) + 1))
    return sorted(out)


class HostileImapd(LoopbackServer):
    def __init__(self, folders, user="user1", password="h1pass1",
                 caps="IMAP4rev1 LITERAL+ NAMESPACE", greeting=None, hooks=None):
        self.folders = list(folders)
        self.user, self.password, self.caps = user, password, caps
        self.greeting = greeting if greeting is not None else (
            b"* OK [CAPABILITY %s] hostile ready\r\n" % caps.encode())
        self.hooks = dict(hooks or {})
        self.lines = []          # (session number, command text)
        self.connections = 0
        self.state = {}          # scratch space for hooks (e.g. "already misbehaved")
        self.lock = threading.Lock()
        self.listen(8)

    # ------------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def folder(self, name):
        if isinstance(name, str):
            name = name.encode()
        for f in self.folders:
            if f.name == name or (name.upper() == b"INBOX" and f.name.upper() == b"INBOX"):
                return f
        return None

    def commands(self, verb=None):
        """Recorded command texts (tag stripped), optionally only one verb."""
        out = []
        for _, l in self.lines:
            rest = l.split(" ", 1)[1] if " " in l else ""
            if verb is None or rest.upper().startswith(verb.upper() + " ") or \
                    rest.upper() == verb.upper():
                out.append(rest)
        return out

    # ------------------------------------------------------------------
    def _accepted(self, c):
        with self.lock:
            self.connections += 1
            no = self.connections
        threading.Thread(target=self._session, args=(c, no), daemon=True).start()

    def _session(self, c, no):
        s = Session(self, c, no)
        try:
            s.send(self.greeting)
            if "after_greeting" in self.hooks:
                self.hooks["after_greeting"](s)
            while not s.closed:
                cmd = s.read_command()
                if cmd is None:
                    return
                self.lines.append((no, cmd.decode("latin-1")))
                parts = cmd.split(b" ", 2)
                tag = parts[0]
                verb = parts[1].upper() if len(parts) > 1 else b""
                args = parts[2] if len(parts) > 2 else b""
                if verb == b"UID" and args:
                    sub, _, args = args.partition(b" ")
                    verb = b"UID " + sub.upper()
                fn = getattr(self, "_cmd_" + verb.decode("latin-1").replace(" ", "_").lower(),
                             None)
                if fn is None:
                    s.line(tag + b" BAD unknown command")
                else:
                    fn(s, tag, args)
        except (OSError, ValueError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    # ------------------------------------------------------------------
    def _cmd_capability(self, s, tag, args):
        s.line(b"* CAPABILITY " + self.caps.encode())
        s.line(tag + b" OK CAPABILITY done")

    def _cmd_noop(self, s, tag, args):
        s.line(tag + b" OK NOOP done")

    def _cmd_login(self, s, tag, args):
        a = _atoms(args)
        if len(a) == 2 and a[0].decode() == self.user and a[1].decode() == self.password:
            s.line(tag + b" OK [CAPABILITY " + self.caps.encode() + b"] logged in")
        else:
            s.line(tag + b" NO [AUTHENTICATIONFAILED] bad user or password")

    def _cmd_logout(self, s, tag, args):
        s.line(b"* BYE logging out")
        s.line(tag + b" OK LOGOUT done")
        s.close()

    def _cmd_namespace(self, s, tag, args):
        s.line(b'* NAMESPACE (("" "/")) NIL NIL')
        s.line(tag + b" OK NAMESPACE done")

    def _list(self, s, tag, args, verb):
        a = _atoms(args)
        if len(a) == 2 and a[1] == b"":
            s.line(b'* %s (\\Noselect) "/" ""' % verb)
        else:
            for f in self.folders:
                s.send(b'* %s %s "/" %s\r\n' % (verb, f.attrs, f.wire))
        s.line(tag + b" OK " + verb + b" done")

    def _cmd_list(self, s, tag, args):
        self._list(s, tag, args, b"LIST")

    def _cmd_lsub(self, s, tag, args):
        self._list(s, tag, args, b"LSUB")

    def _cmd_select(self, s, tag, args, verb=b"SELECT"):
        a = _atoms(args)
        f = self.folder(a[0]) if a else None
        if f is None:
            s.line(tag + b" NO [NONEXISTENT] no such mailbox")
            return
        s.folder = f
        if "select" in self.hooks and self.hooks["select"](s, tag, f):
            return
        if f.select_raw is not None:
            s.send(f.select_raw)
        else:
            exists = len(f.msgs) if f.exists is None else f.exists
            uidnext = max([m.uid for m in f.msgs] + [0]) + 1
            s.line(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)")
            if f.permflags is not None:
                s.line(b"* OK [PERMANENTFLAGS " + f.permflags + b"] flags")
            s.line(b"* %d EXISTS" % exists)
            s.line(b"* 0 RECENT")
            s.line(b"* OK [UIDVALIDITY %d] uids valid" % f.uidvalidity)
            s.line(b"* OK [UIDNEXT %d] next uid" % uidnext)
        s.line(tag + b" OK [%s] %s done" % (b"READ-ONLY" if verb == b"EXAMINE" else b"READ-WRITE",
                                            verb))

    def _cmd_examine(self, s, tag, args):
        self._cmd_select(s, tag, args, b"EXAMINE")

    # metadata, by sequence number --------------------------------------
    def meta_item(self, seq, m, fields):
        hdr = m.header_fields(fields)
        return (b"* %d FETCH (UID %d FLAGS (%s) INTERNALDATE \"%s\" RFC822.SIZE %d "
                b"BODY[HEADER.FIELDS (%s)] %s)\r\n"
                % (seq, m.uid, m.flags, m.date.encode(),
                   len(m.body) if m.size is None else m.size,
                   b" ".join(f.encode() for f in fields), literal(hdr)))

    def _cmd_fetch(self, s, tag, args):
        f = s.folder
        if f is None:
            s.line(tag + b" BAD no mailbox selected")
            return
        a = _atoms(args)
        seqs = [q for q in parse_set(a[0], len(f.msgs))]
        items = b" ".join(a[1:])
        if b"BODY.PEEK[]" in items.upper():  # bodies by sequence number: not used today
            pairs = [(q, f.msgs[q - 1]) for q in seqs]
            self._bodies(s, tag, f, pairs, b"FETCH")
            return
        if "fetch_meta" in self.hooks and self.hooks["fetch_meta"](s, tag, f, seqs):
            return
        m = re.search(rb"HEADER\.FIELDS \(([^)]*)\)", items, re.I)
        fields = m.group(1).decode().split() if m else []
        for q in seqs:
            s.send(self.meta_item(q, f.msgs[q - 1], fields))
        if "meta_extra" in self.hooks:
            s.send(self.hooks["meta_extra"](s, f, seqs))
        s.line(tag + b" OK FETCH done")

    # bodies, by UID ------------------------------------------------------
    def body_item(self, seq, m):
        return b"* %d FETCH (UID %d BODY[] %s)\r\n" % (seq, m.uid, literal(m.body))

    def _bodies(self, s, tag, f, pairs, verb):
        if "fetch_body" in self.hooks and self.hooks["fetch_body"](s, tag, f, pairs):
            return
        for q, m in pairs:
            s.send(self.body_item(q, m))
        s.line(tag + b" OK " + verb + b" done")

    def _cmd_uid_fetch(self, s, tag, args):
        f = s.folder
        if f is None:
            s.line(tag + b" BAD no mailbox selected")
            return
        a = _atoms(args)
        top = max([m.uid for m in f.msgs] + [0])
        want = set(parse_set(a[0], top))
        pairs = [(i + 1, m) for i, m in enumerate(f.msgs) if m.uid in want]
        self._bodies(s, tag, f, pairs, b"UID FETCH")
