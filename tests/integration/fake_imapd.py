"""A scripted IMAP server for what no real server here will do: XOAUTH2
with a test token, LOGINDISABLED on loopback. It speaks just enough IMAP
for a login (--justlogin): greeting, CAPABILITY, LOGIN, AUTHENTICATE
XOAUTH2, LIST "" "", NAMESPACE, LOGOUT, and a STARTTLS answer with injected
plaintext after it. Every client line is recorded in
.lines so tests can check what was (not) sent.

ProxyAuthImapd plays a Cyrus-like server with PROXYAUTH (Dovecot has none):
it takes the admin's LOGIN, then on PROXYAUTH logs in to a real Dovecot as
that user and relays the rest of the session byte for byte, so messages
land in the proxied user's real mailbox and the oracle can check them."""
import base64
import re
import socket
import threading

from loopserver import LoopbackServer


class FakeImapd(LoopbackServer):
    def __init__(self, caps="IMAP4rev1 AUTH=XOAUTH2 SASL-IR", user="user1", token="tok-123",
                 password=None, starttls_inject=False):
        self.caps, self.user, self.token, self.password = caps, user, token, password
        # Answer STARTTLS with OK and, in the same packet, a plaintext line:
        # the response injection of CVE-2020-15953.
        self.starttls_inject = starttls_inject
        self.lines = []
        self.listen(4)

    def _session(self, c):
        f = c.makefile("rwb", buffering=0)

        def send(s):
            f.write(s.encode() + b"\r\n")

        send("* OK [CAPABILITY %s] fake ready" % self.caps)
        try:
            while True:
                line = f.readline()
                if not line:
                    return
                line = line.decode(errors="replace").rstrip("\r\n")
                self.lines.append(line)
                parts = line.split(" ")
                tag, cmd = parts[0], (parts[1].upper() if len(parts) > 1 else "")
                if cmd == "CAPABILITY":
                    send("* CAPABILITY %s" % self.caps)
                    send("%s OK done" % tag)
                elif cmd == "LOGIN":
                    ok = self.password is not None and line.endswith('"%s"' % self.password)
                    send("%s %s" % (tag, "OK logged in" if ok else "NO [AUTHENTICATIONFAILED] no"))
                elif cmd == "AUTHENTICATE" and len(parts) > 2 and parts[2].upper() == "XOAUTH2":
                    if len(parts) > 3:
                        ir = parts[3]
                    else:
                        send("+ ")
                        ir = f.readline().decode().strip()
                        self.lines.append(ir)
                    want = "user=%s\x01auth=Bearer %s\x01\x01" % (self.user, self.token)
                    try:
                        got = base64.b64decode(ir).decode()
                    except Exception:
                        got = ""
                    if got == want:
                        send("%s OK authenticated" % tag)
                    else:
                        send("%s NO [AUTHENTICATIONFAILED] bad token" % tag)
                elif cmd == "STARTTLS" and self.starttls_inject:
                    f.write(("%s OK begin TLS\r\n* OK [CAPABILITY IMAP4rev1] injected\r\n"
                             % tag).encode())
                elif cmd == "LIST":
                    send('* LIST (\\Noselect) "/" ""')
                    send("%s OK done" % tag)
                elif cmd == "NAMESPACE":
                    send('* NAMESPACE (("" "/")) NIL NIL')
                    send("%s OK done" % tag)
                elif cmd == "LOGOUT":
                    send("* BYE bye")
                    send("%s OK bye" % tag)
                    return
                else:
                    send("%s BAD unknown" % tag)
        except OSError:
            pass
        finally:
            c.close()


def _astrings(text):
    """The quoted strings and atoms of a command's arguments, unquoted."""
    out = []
    for q, atom in re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', text):
        out.append(re.sub(r"\\(.)", r"\1", q) if atom == "" else atom)
    return out


class ProxyAuthImapd(LoopbackServer):
    """LOGIN admin/admin_password, then PROXYAUTH USER: the session becomes
    USER's on the Dovecot at upstream_port (logged in with passwords[USER]).
    A PROXYAUTH for a user not in `passwords` gets NO. .proxied lists the
    users each PROXYAUTH asked for, .logins the names LOGIN was sent with."""

    def __init__(self, upstream_port, passwords, admin="admin", admin_password="adminpw"):
        self.upstream_port, self.passwords = upstream_port, passwords
        self.admin, self.admin_password = admin, admin_password
        self.proxied, self.logins, self.lines = [], [], []
        self.listen(8)

    def _upstream(self, user):
        u = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
        f = u.makefile("rwb", buffering=0)
        f.readline()  # greeting
        f.write(('x LOGIN "%s" "%s"\r\n' % (user, self.passwords[user])).encode())
        while True:
            line = f.readline()
            if not line or line.startswith(b"x "):
                break
        if not line.startswith(b"x OK"):
            u.close()
            return None
        u.settimeout(None)
        return u

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _session(self, c):
        # Unbuffered, so nothing past the PROXYAUTH line is read before the relay.
        f = c.makefile("rwb", buffering=0)

        def send(s):
            f.write(s.encode() + b"\r\n")

        send("* OK [CAPABILITY IMAP4rev1] proxyauth ready")
        admin = False
        try:
            while True:
                line = f.readline()
                if not line:
                    return
                line = line.decode(errors="replace").rstrip("\r\n")
                self.lines.append(line)
                parts = line.split(" ", 2)
                tag, cmd = parts[0], (parts[1].upper() if len(parts) > 1 else "")
                args = _astrings(parts[2]) if len(parts) > 2 else []
                if cmd == "CAPABILITY":
                    send("* CAPABILITY IMAP4rev1")
                    send("%s OK done" % tag)
                elif cmd == "LOGIN" and len(args) == 2:
                    self.logins.append(args[0])
                    admin = args == [self.admin, self.admin_password]
                    send("%s %s" % (tag, "OK admin in" if admin
                                    else "NO [AUTHENTICATIONFAILED] no"))
                elif cmd == "PROXYAUTH" and len(args) == 1:
                    self.proxied.append(args[0])
                    up = (self._upstream(args[0]) if admin and args[0] in self.passwords
                          else None)
                    if up is None:
                        send("%s NO not authorized to proxy %s" % (tag, args[0]))
                        continue
                    send("%s OK proxied" % tag)
                    threading.Thread(target=self._pump, args=(up, c), daemon=True).start()
                    self._pump(c, up)
                    return
                elif cmd == "LOGOUT":
                    send("* BYE bye")
                    send("%s OK bye" % tag)
                    return
                else:
                    send("%s BAD unknown" % tag)
        except OSError:
            pass
        finally:
            c.close()
