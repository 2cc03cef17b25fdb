"""A TCP proxy on 127.0.0.1 that cuts a connection at an exact byte count,
for testing what happens when a server or the network drops a session.

FaultProxy(target_port, cut_up=N) forwards to 127.0.0.1:target_port and
closes the first connection once N bytes went from the client to the server
(cut_down: from the server to the client); later connections pass through
untouched. .connections counts the connections seen."""
import socket
import threading

from loopserver import LoopbackServer


class FaultProxy(LoopbackServer):
    def __init__(self, target_port, cut_up=None, cut_down=None):
        self.target_port = target_port
        self.cut_up, self.cut_down = cut_up, cut_down
        self.connections = 0
        self.cuts = 0
        self.listen(16)

    def _accepted(self, client):
        self.connections += 1
        first = self.connections == 1
        server = socket.create_connection(("127.0.0.1", self.target_port))
        conn = {"closed": False}
        limits = (self.cut_up if first else None, self.cut_down if first else None)
        for src, dst, limit in ((client, server, limits[0]), (server, client, limits[1])):
            threading.Thread(target=self._pump, args=(src, dst, limit, client, server, conn),
                             daemon=True).start()

    def _cut(self, client, server, conn):
        if not conn["closed"]:
            conn["closed"] = True
            for s in (client, server):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def _pump(self, src, dst, limit, client, server, conn):
        sent = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) >= limit:
                    dst.sendall(data[:max(0, limit - sent)])
                    self.cuts += 1
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        self._cut(client, server, conn)
