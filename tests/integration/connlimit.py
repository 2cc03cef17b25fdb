#!/usr/bin/env python3
"""A TCP forwarder on 127.0.0.1 that lets at most N connections through to
an IMAP server at once and turns the others away with an untagged BYE
greeting, as a provider does at its per-account session limit.

Dovecot's own mail_max_userip_connections is counted after each login has
finished, so logins that arrive together can all pass it: under load a
test built on it refused nothing. Here the count is taken at connect time,
so "only 2 sessions" holds whatever the timing. Standard library only.

    with ConnLimit(target_port, limit=2) as p:
        connect to 127.0.0.1:p.port ...; p.refused counts turned-away ones
"""

import socket
import threading

BYE = b"* BYE [UNAVAILABLE] Maximum number of connections exceeded\r\n"


class ConnLimit:
    def __init__(self, target_port, limit):
        self.target = ("127.0.0.1", target_port)
        self.limit = limit
        self.open = 0
        self.refused = 0
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.closing = False

    def __enter__(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.closing = True
        self.sock.close()

    def _accept(self):
        while not self.closing:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                full = self.open >= self.limit
                if full:
                    self.refused += 1
                else:
                    self.open += 1
            if full:
                try:
                    client.sendall(BYE)
                finally:
                    client.close()
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        try:
            server = socket.create_connection(self.target)
        except OSError:
            client.close()
            self._done()
            return
        ends = [0]

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (dst, src):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                with self.lock:
                    ends[0] += 1
                    last = ends[0] == 2
                if last:
                    client.close()
                    server.close()
                    self._done()

        threading.Thread(target=pump, args=(client, server), daemon=True).start()
        threading.Thread(target=pump, args=(server, client), daemon=True).start()

    def _done(self):
        with self.lock:
            self.open -= 1
