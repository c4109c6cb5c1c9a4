#!/usr/bin/env python3
"""delay.py — a TCP relay on loopback that delays each direction.

    delay.py PORT_FILE TO_PORT [DELAY_MS]

Listens on 127.0.0.1 (a port the kernel picks, written to PORT_FILE once
listening) and relays every connection to 127.0.0.1:TO_PORT. Each chunk
read from one side is written to the other DELAY_MS (default 10)
milliseconds after it was read, in order; an EOF is passed on the same way
(a half-close), so a round trip through the relay costs 2 x DELAY_MS more
than one without it. A chunk is handed on whole: the cost is per read, not
per byte. The TCP handshake itself is not delayed (the kernel answers the
SYN before the relay sees the connection): a connect through the relay
costs no round trip. Per connection: one reader and one writer thread per
direction, the writer sleeping (clock_nanosleep, not a poll timeout
rounded to milliseconds) until each chunk is due. Python 3 standard
library only.
"""
import collections
import os
import socket
import sys
import threading
import time


def direction(src, dst, delay, done):
    q = collections.deque()
    cv = threading.Condition()

    def reader():
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            with cv:
                q.append((time.monotonic() + delay, data))
                cv.notify()
            if not data:
                return

    def writer():
        try:
            while True:
                with cv:
                    while not q:
                        cv.wait()
                    due, data = q.popleft()
                left = due - time.monotonic()
                if left > 0:
                    time.sleep(left)
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            done()

    threading.Thread(target=reader, daemon=True).start()
    threading.Thread(target=writer, daemon=True).start()


def serve(port_file, to_port, delay):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(128)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(port_file + ".tmp", port_file)
    while True:
        c, _ = ls.accept()
        try:
            u = socket.create_connection(("127.0.0.1", to_port))
        except OSError:
            c.close()
            continue
        for s in (c, u):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        left = [2]
        lock = threading.Lock()

        def done(c=c, u=u, left=left, lock=lock):
            with lock:
                left[0] -= 1
                if left[0] == 0:
                    c.close()
                    u.close()
        direction(c, u, delay, done)
        direction(u, c, delay, done)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: delay.py PORT_FILE TO_PORT [DELAY_MS]")
    delay = float(sys.argv[3]) / 1000 if len(sys.argv) == 4 else 0.010
    serve(sys.argv[1], int(sys.argv[2]), delay)


main()
