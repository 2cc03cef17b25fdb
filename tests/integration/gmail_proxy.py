"""A scripted Gmail in front of a real Dovecot: it relays every command and
answer, adds X-GM-EXT-1 to the capabilities (and drops COMPRESS=DEFLATE so
the stream stays readable) and plays X-GM-LABELS itself, from a table the
test fills and reads: .labels[(folder, uid)] = [label, ...], folder the
wire name as bytes. UID FETCH ... X-GM-LABELS goes to Dovecot without the
item, and each FETCH answer gets the UID's labels added; UID STORE ...
X-GM-LABELS replaces the table's entry (Dovecot gets a NOOP, so the tagged
answer comes back in order). Every STORE line is kept in .stores. Dovecot
keeps the messages, so the oracle reads them as usual."""
import re
import socket
import threading

from loopserver import LoopbackServer

LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")
ATOM_OK = re.compile(r"^\\?[A-Za-z0-9_$.\-/]+$")


def _read_item(f):
    """One command or answer: a line, and literals with the lines after them."""
    out = b""
    while True:
        line = f.readline()
        if not line:
            return None
        out += line
        m = LITERAL.search(line)
        if not m:
            return out
        n = int(m.group(1))
        data = b""
        while len(data) < n:
            chunk = f.read(n - len(data))
            if not chunk:
                return None
            data += chunk
        out += data


def _labels_out(labels):
    words = []
    for label in labels:
        if ATOM_OK.match(label):
            words.append(label.encode())
        else:
            words.append(b'"' + label.encode().replace(b"\\", b"\\\\").replace(b'"', b'\\"')
                         + b'"')
    return b"(" + b" ".join(words) + b")"


def _labels_in(text):
    out = []
    for q, atom in re.findall(r'"((?:[^"\\]|\\.)*)"|([^\s()"]+)', text):
        out.append(re.sub(r"\\(.)", r"\1", q) if atom == "" else atom)
    return out


def _uids(spec):
    out = []
    for part in spec.split(","):
        a, _, b = part.partition(":")
        out.extend(range(int(a), int(b or a) + 1))
    return out


def _folder(rest):
    """The mailbox argument of SELECT/EXAMINE as bytes."""
    m = re.match(rb'"((?:[^"\\]|\\.)*)"', rest)
    if m:
        return re.sub(rb"\\(.)", rb"\1", m.group(1))
    m = LITERAL.search(rest.split(b"\r\n")[0] + b"\r\n")
    if m:
        return rest.split(b"\r\n", 1)[1][:int(m.group(1))]
    return rest.split()[0]


class GmailProxy(LoopbackServer):
    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.labels = {}
        self.stores = []
        self.mu = threading.Lock()
        self.listen(16)

    def _session(self, c):
        u = socket.create_connection(("127.0.0.1", self.upstream_port))
        st = {"folder": b"", "inject": {}}
        t = threading.Thread(target=self._down, args=(u, c, st), daemon=True)
        t.start()
        try:
            self._up(c, u, st)
        except OSError:
            pass
        for s in (c, u):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        t.join(5)
        c.close()
        u.close()

    def _up(self, c, u, st):
        fc = c.makefile("rb")
        while True:
            cmd = _read_item(fc)
            if cmd is None:
                return
            m = re.match(rb"(\S+) (UID )?(\S+) ?(.*)", cmd, re.S)
            if not m:
                u.sendall(cmd)
                continue
            tag, uid, verb, rest = m.group(1), m.group(2), m.group(3).upper(), m.group(4)
            if verb in (b"SELECT", b"EXAMINE"):
                st["folder"] = _folder(rest)
            elif uid and verb == b"STORE" and b"X-GM-LABELS" in rest.upper():
                sm = re.match(rb"(\S+) [+-]?X-GM-LABELS(?:\.SILENT)? \((.*)\)\r\n$", rest,
                              re.S | re.I)
                line = cmd.decode("utf-8", "replace")
                with self.mu:
                    self.stores.append(line)
                    for n in _uids(sm.group(1).decode()):
                        self.labels[(st["folder"], n)] = _labels_in(sm.group(2).decode())
                u.sendall(tag + b" NOOP\r\n")
                continue
            elif uid and verb == b"FETCH" and b"X-GM-LABELS" in rest.upper():
                st["inject"][tag] = st["folder"]
                cmd = re.sub(rb" ?X-GM-LABELS", b"", cmd, flags=re.I)
            u.sendall(cmd)

    def _down(self, u, c, st):
        fu = u.makefile("rb")
        try:
            while True:
                resp = _read_item(fu)
                if resp is None:
                    return
                if b"CAPABILITY" in resp.split(b"\r\n")[0]:
                    resp = resp.replace(b"IMAP4rev1", b"IMAP4rev1 X-GM-EXT-1", 1)
                    resp = resp.replace(b" COMPRESS=DEFLATE", b"")
                inject = st["inject"]
                fm = re.match(rb"\* \d+ FETCH \((.*)\)\r\n$", resp, re.S)
                if inject and fm and re.search(rb"\bUID (\d+)", fm.group(1)):
                    n = int(re.search(rb"\bUID (\d+)", fm.group(1)).group(1))
                    folder = next(iter(inject.values()))
                    with self.mu:
                        labels = self.labels.get((folder, n), [])
                    resp = resp[:-3] + b" X-GM-LABELS " + _labels_out(labels) + b")\r\n"
                tag = resp.split(b" ", 1)[0]
                inject.pop(tag, None)
                c.sendall(resp)
        except OSError:
            pass
