#!/usr/bin/env python3
"""hello.py PORTFILE — accept one TLS connection on 127.0.0.1, print what
its ClientHello offers (highest version, supported_versions, the groups in
the client's order, the first cipher suites), then close it. Used by
bench/run.sh to show which ECDHE group each tool asks for first.
Python 3 standard library only; bounded by a 20 s timeout."""
import os
import socket
import sys

GROUPS = {23: "P-256", 24: "P-384", 25: "P-521", 29: "x25519", 30: "x448",
          256: "ffdhe2048", 257: "ffdhe3072", 258: "ffdhe4096"}
VERSIONS = {0x0301: "1.0", 0x0302: "1.1", 0x0303: "1.2", 0x0304: "1.3"}


def recvn(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise EOFError("short ClientHello")
        b += d
    return b


def main():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(20)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(tmp, sys.argv[1])
    s, _ = ls.accept()
    s.settimeout(20)
    hs = b""
    while len(hs) < 4 or len(hs) < 4 + int.from_bytes(hs[1:4], "big"):
        h = recvn(s, 5)
        hs += recvn(s, int.from_bytes(h[3:5], "big"))
    s.close()
    p = 4
    legacy = int.from_bytes(hs[p:p + 2], "big")
    p += 2 + 32
    p += 1 + hs[p]                                    # session id
    n = int.from_bytes(hs[p:p + 2], "big")
    suites = [int.from_bytes(hs[p + 2 + i:p + 4 + i], "big") for i in range(0, n, 2)]
    p += 2 + n
    p += 1 + hs[p]                                    # compression
    end = p + 2 + int.from_bytes(hs[p:p + 2], "big")
    p += 2
    groups, versions = [], []
    while p + 4 <= end:
        t = int.from_bytes(hs[p:p + 2], "big")
        ln = int.from_bytes(hs[p + 2:p + 4], "big")
        body = hs[p + 4:p + 4 + ln]
        if t == 10:
            groups = [int.from_bytes(body[2 + i:4 + i], "big")
                      for i in range(0, int.from_bytes(body[:2], "big"), 2)]
        elif t == 43:
            versions = [int.from_bytes(body[1 + i:3 + i], "big") for i in range(0, body[0], 2)]
        p += 4 + ln
    vs = [VERSIONS.get(v, "0x%04x" % v) for v in versions if v & 0x0f0f != 0x0a0a]
    print("max_version=%s versions=%s groups=%s suites=%d first_suites=%s" % (
        VERSIONS.get(legacy, hex(legacy)), ",".join(vs) or "-",
        ",".join(GROUPS.get(g, str(g)) for g in groups if g & 0x0f0f != 0x0a0a),
        len(suites), ",".join("%04x" % x for x in suites[:4])))


main()
