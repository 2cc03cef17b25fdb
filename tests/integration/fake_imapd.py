"""A scripted IMAP server for what no real server here will do: XOAUTH2
with a test token, LOGINDISABLED on loopback. It speaks just enough IMAP
for a login (--justlogin): greeting, CAPABILITY, LOGIN, AUTHENTICATE
XOAUTH2, LIST "" "", NAMESPACE, LOGOUT, and a STARTTLS answer with injected
plaintext after it. Every client line is recorded in
.lines so tests can check what was (not) sent."""
import base64
import socket
import threading


class FakeImapd:
    def __init__(self, caps="IMAP4rev1 AUTH=XOAUTH2 SASL-IR", user="user1", token="tok-123",
                 password=None, starttls_inject=False):
        self.caps, self.user, self.token, self.password = caps, user, token, password
        # Answer STARTTLS with OK and, in the same packet, a plaintext line:
        # the response injection of CVE-2020-15953.
        self.starttls_inject = starttls_inject
        self.lines = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self):
        self.sock.close()

    def _serve(self):
        try:
            while True:
                c, _ = self.sock.accept()
                threading.Thread(target=self._session, args=(c,), daemon=True).start()
        except OSError:
            pass

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
