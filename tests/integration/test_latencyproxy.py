#!/usr/bin/env python3
"""Self-test of tests/integration/latencyproxy.py, the delay proxy that
scripts/bench --latency puts in front of both servers.

Against a local echo server (no Dovecot needed) it checks that one round
trip costs about 2*delay, that 100 pipelined messages cost about 2*delay in
all (not 100 round trips: no stop-and-wait), that several connections are
delayed at once rather than one after another, that 8 MiB of random bytes
come back intact and in order, that a half-close is passed on, that the
IMAP command counter counts tagged lines and not literal contents, and that
the shell form starts, forwards and stops.

Run from anywhere:  python3 tests/integration/test_latencyproxy.py [--bin IGNORED]
Exit 0 when all checks pass, 1 otherwise; prints "N passed, N failed".
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from latencyproxy import LatencyProxy  # noqa: E402
from loopserver import LoopbackServer  # noqa: E402

DELAY_MS = 100
RTT = 2 * DELAY_MS / 1000.0
SLACK = 0.15  # seconds of scheduling noise allowed on a busy 2-core machine

passed = 0
failed = 0


def check(name: str, cond: bool, detail="") -> None:
    global passed, failed
    if cond:
        passed += 1
        print("PASS %s" % name, flush=True)
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail), flush=True)


class EchoServer(LoopbackServer):
    """Echoes every byte back; counts connections; records EOFs seen."""

    def __init__(self):
        self.eofs = []  # first bytes of each connection that saw the client's EOF
        self.listen(16)

    def _session(self, c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        first = b""
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    self.eofs.append(first)
                    break
                first = first or data[:16]
                c.sendall(data)
        except OSError:
            pass
        c.close()


def connect(port):
    c = socket.create_connection(("127.0.0.1", port), timeout=30)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def recv_exact(c, n):
    buf = bytearray()
    while len(buf) < n:
        data = c.recv(min(1 << 20, n - len(buf)))
        if not data:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += data
    return bytes(buf)


def round_trip(port):
    c = connect(port)
    try:
        c.sendall(b"warm\r\n")  # connection set-up is not part of the measure
        recv_exact(c, 6)
        t0 = time.monotonic()
        c.sendall(b"ping\r\n")
        echoed = recv_exact(c, 6) == b"ping\r\n"
        return time.monotonic() - t0, echoed
    finally:
        c.close()


def test_round_trip(echo, p):
    secs, ok = round_trip(p.port)
    check("one round trip costs about 2*delay (%.3fs for %.3fs)" % (secs, RTT),
          ok and RTT - 0.005 <= secs <= RTT + SLACK, "echo ok=%s" % ok)
    direct, _ = round_trip(echo.port)
    check("without the proxy the same round trip is fast (%.4fs)" % direct, direct < 0.05)


def test_pipelined(p):
    c = connect(p.port)
    c.sendall(b"warm\r\n")
    recv_exact(c, 6)
    msgs = [b"A%03d NOOP %s\r\n" % (i, b"x" * i) for i in range(100)]
    expect = b"".join(msgs)
    got = bytearray()

    def reader():
        got.extend(recv_exact(c, len(expect)))

    t0 = time.monotonic()
    th = threading.Thread(target=reader)
    th.start()
    for m in msgs:  # 100 separate writes, about 1 ms apart: 100 chunks in flight
        c.sendall(m)
        time.sleep(0.001)
    sending = time.monotonic() - t0
    th.join(30)
    secs = time.monotonic() - t0
    c.close()
    check("100 pipelined messages come back intact and in order", bytes(got) == expect)
    # the last answer is due one round trip after the last write
    check("100 pipelined messages cost about 2*delay in all, not 100 round trips "
          "(%.3fs, %.3fs of it spent writing, for %.3fs)" % (secs, sending, RTT),
          RTT - 0.005 <= secs <= sending + RTT + SLACK)


def test_parallel(p):
    """Four clients at once: each pays one round trip, not four."""
    results = []

    def one():
        results.append(round_trip(p.port))
    t0 = time.monotonic()
    ths = [threading.Thread(target=one) for _ in range(4)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(30)
    secs = time.monotonic() - t0
    check("4 connections at once all answered", len(results) == 4 and all(ok for _, ok in results))
    # each does warm-up + ping: 2 round trips, plus the connect
    check("4 connections are delayed side by side (%.3fs for 4 x 2 round trips)" % secs,
          secs <= 2 * RTT + 2 * SLACK)


def test_bulk(p):
    rnd = random.Random(16)
    blob = bytes(rnd.getrandbits(8) for _ in range(1 << 16)) * 128  # 8 MiB
    blob = hashlib.sha256(blob).digest() + blob[::-1]  # not periodic at the start
    c = connect(p.port)
    got = []

    def reader():
        got.append(recv_exact(c, len(blob)))
    th = threading.Thread(target=reader)
    th.start()
    t0 = time.monotonic()
    for i in range(0, len(blob), 100000):
        c.sendall(blob[i:i + 100000])
    th.join(60)
    secs = time.monotonic() - t0
    c.close()
    check("8 MiB of random bytes arrive intact and in order (%.2fs)" % secs,
          got and hashlib.sha256(got[0]).digest() == hashlib.sha256(blob).digest())
    check("the bulk transfer is not paced per chunk (%.2fs < 3s)" % secs, secs < 3)


def test_half_close(echo, p):
    c = connect(p.port)
    c.sendall(b"half-close\r\n")
    t0 = time.monotonic()
    c.shutdown(socket.SHUT_WR)
    data = recv_exact(c, 12)
    tail = c.recv(10)  # the echo server closes after the EOF: passed back to us
    secs = time.monotonic() - t0
    c.close()
    time.sleep(0.05)
    check("a half-close reaches the server after the delay and the close comes back",
          data == b"half-close\r\n" and tail == b"" and b"half-close\r\n" in echo.eofs
          and secs >= RTT - 0.005, "data=%r tail=%r secs=%.3f" % (data, tail, secs))


def test_counting(echo):
    # 0 ms: the counter does not depend on the delay
    with LatencyProxy(echo.port, 0) as p:
        c = connect(p.port)
        lit1 = b"X1 FAKE command\r\nX2 FAKE too\r\n"
        lit2 = b"Z9 NOOP\r\nab"
        stream = (b"a1 LOGIN user pass\r\n"
                  b"a2 SELECT INBOX\r\n"
                  b"a3 UID FETCH 1:* (FLAGS)\r\n"
                  b"+ continuation-like line\r\n"
                  b"DONE\r\n"
                  # a LITERAL+ APPEND whose literal holds lines that look like commands
                  b"a4 APPEND INBOX (\\Seen) {%d+}\r\n%s\r\n" % (len(lit1), lit1) +
                  # a synchronising literal, then more of the same command line
                  b"a5 APPEND INBOX {%d}\r\n%s {3}\r\nxyz\r\n" % (len(lit2), lit2) +
                  b"a6 uid store 1 +FLAGS (\\Seen)\r\n"
                  b"a7 LOGOUT\r\n")
        # byte by byte too: the counter must not depend on how the stream is cut
        c.sendall(stream[:50])
        for i in range(50, len(stream)):
            c.sendall(stream[i:i + 1])
        recv_exact(c, len(stream))
        c.close()
        time.sleep(0.1)
        want = {"LOGIN": 1, "SELECT": 1, "UID FETCH": 1, "APPEND": 2, "UID STORE": 1,
                "LOGOUT": 1}
        check("7 tagged commands counted, literal contents and untagged lines not (%d: %s)"
              % (p.commands, dict(p.verbs)), p.commands == 7 and dict(p.verbs) == want)
        check("bytes counted both ways",
              p.bytes_up == len(stream) and p.bytes_down == len(stream) and p.connections == 1,
              "up %d down %d conns %d" % (p.bytes_up, p.bytes_down, p.connections))
        p.reset_counts()
        c = connect(p.port)
        sent = b"b1 COMPRESS DEFLATE\r\nb2 NOOP\r\n"
        c.sendall(sent)
        recv_exact(c, len(sent))
        c.close()
        time.sleep(0.1)
        check("counting stops after COMPRESS (the stream is no longer plain text)",
              p.commands == 1 and p.opaque_connections == 1 and p.connections == 1,
              "commands %d opaque %d" % (p.commands, p.opaque_connections))


def test_shell(echo):
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "latencyproxy.py"),
                             "--target", str(echo.port), "--delay", str(DELAY_MS)],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        ok = line.startswith("LATENCY_PORT=")
        secs, echoed = round_trip(int(line.split("=")[1])) if ok else (0, False)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
        check("shell form: prints its port, delays a round trip (%.3fs), stops on SIGTERM"
              % secs, ok and echoed and RTT - 0.005 <= secs <= RTT + SLACK
              and proc.returncode == 0 and "commands 0" in out,
              "line=%r rc=%s out=%r" % (line, proc.returncode, out))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main() -> int:
    # --bin is accepted (the ctest line passes it to every integration test) and unused
    echo = EchoServer()
    try:
        with LatencyProxy(echo.port, DELAY_MS) as p:
            for t in (lambda: test_round_trip(echo, p), lambda: test_pipelined(p),
                      lambda: test_parallel(p), lambda: test_bulk(p),
                      lambda: test_half_close(echo, p)):
                try:
                    t()
                except Exception:  # noqa: BLE001 - report and go on with the others
                    check("no exception", False, traceback.format_exc())
        for t in (lambda: test_counting(echo), lambda: test_shell(echo)):
            try:
                t()
            except Exception:  # noqa: BLE001
                check("no exception", False, traceback.format_exc())
    finally:
        echo.close()
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
