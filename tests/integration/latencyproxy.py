#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that delays each direction by a fixed time, to
measure a client over a slow network on loopback servers.

Bytes read from one side at time t are written to the other at t + delay,
in order, whatever else is in flight: a reader thread per direction keeps
reading while a writer thread sends what is due, so a pipelined stream pays
the delay once, not once per chunk (no stop-and-wait). With delay D each
way a round trip costs 2*D. Every connection gets its own four threads, so
several clients (or one client with several connections) can go through at
once. Standard library only.

It also counts what the client sends to the server: IMAP command lines that
start with a tag (literals, synchronising or LITERAL+, are skipped by their
announced length), so a benchmark can report the commands a run sent. After
a STARTTLS or COMPRESS command the stream is opaque and counting stops
(.opaque_connections says on how many connections that happened).

Python use
    from latencyproxy import LatencyProxy
    with LatencyProxy(target_port, delay_ms=20) as p:
        connect to 127.0.0.1:p.port ...
        p.connections, p.commands, p.verbs (Counter: 'SELECT', 'UID FETCH'...),
        p.bytes_up, p.bytes_down
        p.reset_counts()           # zero the counters between measured runs

Shell use
    python3 latencyproxy.py --target PORT --delay MS [--port PORT]
        prints "LATENCY_PORT=N" and forwards until SIGINT/SIGTERM, then
        prints the counters.
"""

from __future__ import annotations

import argparse
import collections
import re
import signal
import socket
import sys
import threading
import time

QUEUE_LIMIT = 32 * 1024 * 1024   # bytes in flight per direction before the reader waits
LINE_KEEP = 256                   # bytes of a command line kept for its tag and verb
# "tag SP verb": a tag has no space, '+', '*' or '"'; base64 AUTHENTICATE lines and
# IDLE's DONE have no space, so they are not commands.
TAGGED = re.compile(rb"^([^\s+*\"(){%\\]+) ([A-Za-z]+)(?: ([A-Za-z]+))?")
LITERAL = re.compile(rb"~?\{(\d+)\+?\}\r?\n$")


class CommandCounter:
    """Counts the tagged commands in one client->server byte stream."""

    def __init__(self, proxy: "LatencyProxy"):
        self.proxy = proxy
        self.skip = 0            # literal bytes still to pass over
        self.line = bytearray()  # current line (head only, see _add)
        self.tail = b""          # last bytes of the current line, for "{N}\r\n"
        self.continued = False   # the current line goes on after a literal
        self.opaque = False

    def _add(self, chunk: bytes) -> None:
        if len(self.line) < LINE_KEEP:
            self.line += chunk[:LINE_KEEP - len(self.line)]
        self.tail = (self.tail + chunk)[-32:]

    def feed(self, data: bytes) -> None:
        i, n = 0, len(data)
        while i < n and not self.opaque:
            if self.skip:
                k = min(self.skip, n - i)
                self.skip -= k
                i += k
                continue
            j = data.find(b"\n", i)
            if j < 0:
                self._add(data[i:])
                return
            self._add(data[i:j + 1])
            i = j + 1
            self._line_done()

    def _line_done(self) -> None:
        if not self.continued:
            m = TAGGED.match(self.line)
            if m:
                verb = m.group(2).upper().decode()
                if verb == "UID" and m.group(3):
                    verb += " " + m.group(3).upper().decode()
                self.proxy._count(verb)
                if verb in ("STARTTLS", "COMPRESS"):
                    self.opaque = True
                    self.proxy._count_opaque()
        m = LITERAL.search(self.tail)
        self.skip = int(m.group(1)) if m else 0
        self.continued = bool(m)
        self.line = bytearray()
        self.tail = b""


class _Direction:
    """One direction of one connection: a reader that stamps each chunk with
    its due time and a writer that sends it then."""

    def __init__(self, conn: "_Connection", src, dst, counter):
        self.conn, self.src, self.dst, self.counter = conn, src, dst, counter
        self.queue: collections.deque = collections.deque()
        self.queued = 0
        self.cond = threading.Condition()
        self.up = counter is not None

    def start(self):
        for fn in (self._read, self._write):
            threading.Thread(target=fn, daemon=True).start()

    def _put(self, item) -> None:
        with self.cond:
            while item[1] and self.queued > QUEUE_LIMIT and not self.conn.dead:
                self.cond.wait(0.5)
            self.queue.append(item)
            self.queued += len(item[1] or b"")
            self.cond.notify_all()

    def _read(self) -> None:
        delay = self.conn.proxy.delay
        try:
            while True:
                data = self.src.recv(262144)
                if not data:
                    break
                due = time.monotonic() + delay
                if self.counter:
                    self.counter.feed(data)
                self.conn.proxy._bytes(self.up, len(data))
                self._put((due, data))
        except OSError:
            pass
        self._put((time.monotonic() + delay, None))  # EOF, delayed like the data

    def _write(self) -> None:
        try:
            while True:
                with self.cond:
                    while not self.queue:
                        self.cond.wait()
                    due = self.queue[0][0]
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                # send everything already due in one go
                parts, eof = [], False
                with self.cond:
                    now = time.monotonic()
                    while self.queue and self.queue[0][0] <= now:
                        _, data = self.queue.popleft()
                        if data is None:
                            eof = True
                            break
                        parts.append(data)
                        self.queued -= len(data)
                    self.cond.notify_all()
                if parts:
                    self.dst.sendall(b"".join(parts))
                if eof:
                    try:
                        self.dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    break
        except OSError:
            self.conn.abort()
        self.conn.half_done()


class _Connection:
    def __init__(self, proxy: "LatencyProxy", client, server):
        self.proxy = proxy
        self.client, self.server = client, server
        self.dead = False
        self.done = 0
        self.lock = threading.Lock()
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.dirs = (_Direction(self, client, server, CommandCounter(proxy)),
                     _Direction(self, server, client, None))
        for d in self.dirs:
            d.start()

    def abort(self) -> None:
        """A write failed: drop both sides at once (the readers then end)."""
        with self.lock:
            self.dead = True
        for s in (self.client, self.server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def half_done(self) -> None:
        with self.lock:
            self.done += 1
            last = self.done == 2
        if last:
            for s in (self.client, self.server):
                s.close()


class LatencyProxy:
    """Listens on 127.0.0.1 (port 0: any free port, see .port) and forwards
    each connection to host:target_port with delay_ms added each way."""

    def __init__(self, target_port: int, delay_ms: float, port: int = 0,
                 host: str = "127.0.0.1"):
        self.target = (host, target_port)
        self.delay = delay_ms / 1000.0
        self.lock = threading.Lock()
        self.reset_counts()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def reset_counts(self) -> None:
        with self.lock:
            self.connections = 0
            self.commands = 0
            self.verbs: collections.Counter = collections.Counter()
            self.bytes_up = self.bytes_down = 0
            self.opaque_connections = 0

    def _count(self, verb: str) -> None:
        with self.lock:
            self.commands += 1
            self.verbs[verb] += 1

    def _count_opaque(self) -> None:
        with self.lock:
            self.opaque_connections += 1

    def _bytes(self, up: bool, n: int) -> None:
        with self.lock:
            if up:
                self.bytes_up += n
            else:
                self.bytes_down += n

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def __enter__(self) -> "LatencyProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=10)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += 1
            _Connection(self, client, server)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="TCP proxy adding a delay each way")
    ap.add_argument("--target", type=int, required=True, help="port on 127.0.0.1 to forward to")
    ap.add_argument("--delay", type=float, required=True, help="milliseconds added each way")
    ap.add_argument("--port", type=int, default=0, help="port to listen on (default: any free)")
    args = ap.parse_args(argv)
    if args.delay < 0 or not 0 < args.target < 65536:
        ap.error("--delay must be >= 0 and --target a port number")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with LatencyProxy(args.target, args.delay, port=args.port) as p:
        print("LATENCY_PORT=%d" % p.port, flush=True)
        while not stop.wait(1):
            pass
        print("connections %d, commands %d, bytes up %d, down %d"
              % (p.connections, p.commands, p.bytes_up, p.bytes_down), flush=True)
        for verb, n in sorted(p.verbs.items()):
            print("  %-12s %d" % (verb, n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
