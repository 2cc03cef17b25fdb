"""loopserver: the listener the scripted test servers and proxies share: a
TCP socket on 127.0.0.1, its port chosen by the kernel, whose connections
are each served by a thread of their own. Standard library only."""
import socket
import threading


class LoopbackServer:
    """Subclasses call self.listen() last in __init__ and define
    _session(conn); one that must do more on each accept (count it, keep
    it) overrides _accepted(conn)."""

    def listen(self, backlog=8):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _serve(self):
        try:
            while True:
                conn, _ = self.sock.accept()
                self._accepted(conn)
        except OSError:
            pass

    def _accepted(self, conn):
        threading.Thread(target=self._session, args=(conn,), daemon=True).start()
