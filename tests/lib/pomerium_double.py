#!/usr/bin/env python3
"""pomerium_double.py - a Pomerium test double for pom-proxy's tests.

Behaves like the parts of Pomerium a TCP-tunnel client meets (see
/work/shared/docs/protocol.md sections 2-5): HTTP/1.1 CONNECT over TLS with
JWT authorization, the programmatic login API and its sign-in redirect.
Python 3 standard library only.

Subcommands
-----------
  pomerium_double.py serve [options]       run the server (in the foreground)
  pomerium_double.py mint --secret S --sub USER [--email E] [--exp UNIX]
                                           print an HS256 token (no exp by default)
  pomerium_double.py verify --secret S TOKEN
                                           exit 0 and print the claims if the token
                                           is valid (signature, exp), else exit 1
  pomerium_double.py upstream MODE --port-file F [--listen ADDR] [...]
                                           a plain TCP server to tunnel to (below)

upstream modes (one connection at a time, each handled in a thread)
--------------
  echo [--send F] [--expect N]
                             send file F first (a greeting, like sshd's
                             banner) if given, then send back what arrives;
                             on EOF (with --expect: once N bytes came back)
                             half-close, close
  xfer --send F --save F [--expect N]
                             send file --send while saving everything received
                             to --save; close once the file is sent and either
                             N bytes arrived (with --expect) or the peer's EOF
                             (it does not half-close: the double would turn
                             that into a close_notify, which ends the client's
                             tunnel)
  reply --send F [--delay S] [--expect N]
                             read N bytes (without --expect: until EOF), wait S
                             seconds, then send file --send and close (checks
                             that a client's stdin EOF does not cut off the
                             answer)
  hold                       accept, read and discard until the peer closes

serve options
-------------
  --cert FILE --key FILE     server certificate chain and key (PEM), required
  --secret S                 the shared secret tokens are signed with, required
  --listen ADDR              127.0.0.1 or ::1 (repeatable; default 127.0.0.1);
                             all addresses share one port
  --port N                   port to bind (default 0: the kernel picks)
  --port-file FILE           the bound port is written here (atomically) once
                             every listener is ready
  --route FROM TO USERS      CONNECT authority FROM (exactly as sent, IPv6 in
                             brackets, e.g. ssh.corp.test:22 or [::1]:22) goes
                             to TCP TO (host:port); USERS is a comma list of
                             allowed JWT sub/email values, or '*' for any
                             valid token (repeatable)
  --log FILE                 request log (default: stderr), one line per request:
                               CONNECT <authority> <status> token=yes|no via=<header> user=<u>
                                 sni=<n> alpn=<p> client_cert=<cn> tls=<version> cipher=<name>
                                 group=<X25519|P-256|...>
                               GET <path> <status> token=yes|no ...
                             and, for tunnels, when they end:
                               END <authority> client_eof=notify|ragged|reset|closed up=<bytes> down=<bytes>
                             and for failed handshakes:
                               HANDSHAKE-FAILED <reason>
                             The token itself is never logged.
  --client-ca FILE           ask for a client certificate signed by FILE
  --mtls-mode reject|policy  reject (default): a missing or bad client
                             certificate fails the TLS handshake (Pomerium's
                             reject_connection); policy: the handshake accepts
                             a missing certificate and CONNECT answers 495
                             (Pomerium's default policy_with_default_deny; a
                             certificate from another CA still fails the
                             handshake here, a limitation of python ssl)
  --tls13-only               refuse TLS 1.2 (BearSSL 0.6 then cannot connect)

  TLS as Pomerium's Envoy sets it up (protocol.md section 9) by default:
  TLS 1.2 and 1.3, the server's order wins, TLS 1.2 suites
  ECDHE-ECDSA-AES256-GCM-SHA384, ECDHE-RSA-AES256-GCM-SHA384, the two
  AES128-GCM, the two CHACHA20-POLY1305; groups exactly X25519 then P-256
  (set on the SSL_CTX through ctypes: python's ssl has no group list);
  ALPN h2,http/1.1 (see --alpn).
  --client-cipher-order      the client's order of suites and groups wins
                             (OpenSSL's default, Envoy's is the server's)
  --ciphers LIST             TLS 1.2 suites, OpenSSL names, in the server's
                             order (default Envoy's, above)
  --groups LIST              ECDHE groups, e.g. P-384:P-256 (default
                             X25519:P-256)
  --alpn LIST                the ALPN protocols, server's order (default
                             h2,http/1.1). The double speaks HTTP/1.1 only:
                             a client that offers http/1.1 gets it even when
                             it offers h2 too (Envoy would pick h2 and speak
                             it). A list without http/1.1 is a listener that
                             speaks only HTTP/2 (Pomerium's codec_type:
                             http2): no ALPN for a client that offers only
                             http/1.1 (Envoy's ALPN callback agrees on none
                             and the handshake goes on), and to whatever the
                             client sends
                             first, Envoy's SETTINGS, a WINDOW_UPDATE and a
                             GOAWAY (PROTOCOL_ERROR), then the connection
                             closes (logged as HTTP2-ONLY)
  --coalesce                 after connecting upstream wait (<= 500 ms) for the
                             upstream's first bytes and send them in the same
                             TLS record as the 200 response header
  --status CODE              answer every CONNECT with CODE (no checks, e.g. 495)
  --raw-response TEXT        answer every CONNECT with TEXT (python escapes such
                             as \\r\\n are interpreted) and close
  --silent                   never answer a CONNECT (hold it until the client
                             goes away)
  --close-after SECS         close every tunnel SECS seconds after its 200
  --close-mode notify|abrupt|garbage|reset
                             how the double closes a tunnel (when upstream hits
                             EOF, or after --close-after / --close-after-bytes):
                             notify (default) sends a TLS close_notify then FIN;
                             abrupt sends FIN only; garbage sends a record that
                             cannot be decrypted (a TLS error in an open tunnel),
                             then FIN; reset waits until the client has
                             acknowledged every byte sent, then resets the TCP
                             connection (SO_LINGER 0: RST, no FIN)
  --close-after-bytes N      close every tunnel (as --close-mode says) once
                             exactly N bytes went down to the client (the 200
                             header not counted; the rest of upstream's data
                             is dropped)
  --stall-after-bytes N      once N bytes went down to the client, stop: send
                             nothing more and read nothing more from the
                             client (held until the client goes away, at most
                             120 s); logs "STALL <authority> down=N"

  Misbehaving answers (see tests/misbehave.t):
  --record-size N            send the CONNECT answer's header block (any of
                             them: 200, --status, --raw-response...) in TLS
                             records of at most N bytes; with --coalesce the
                             upstream's first bytes share the record of the
                             header's last byte(s). Logs "HEAD records=R
                             bytes=B early=E".
  --connect-head TEXT        the header block sent when a tunnel opens,
                             instead of "HTTP/1.1 200 OK...\r\n\r\n" (python
                             escapes interpreted; e.g. an HTTP/1.0 200, a
                             100 Continue before the 200, a 200 with a body:
                             whatever follows the blank line reaches the
                             client as tunnel bytes, before upstream's)
  --raw-response-file FILE   like --raw-response, the bytes of FILE
  --partial-response TEXT    answer every CONNECT with TEXT (escapes
                             interpreted), then say nothing more and hold the
                             connection until the client goes away (<= 120 s)
  --endless-header lines|line
                             answer "HTTP/1.1 200 OK\r\n" and then header
                             bytes without end, never the blank line: lines =
                             one short header line after another, line = one
                             header line that never ends; until the client
                             goes away (<= 60 s). Logs "ENDLESS sent=N".
  --reset-before-answer      read the CONNECT, then reset the connection (RST)
  (the three options below log the ClientHello they read: "CLIENT-HELLO
  record=0xRRRR version=0xVVVV suites=c02b,... supported_versions=-")
  --stall-handshake BYTES    read the ClientHello, send only the first BYTES
                             bytes of the server's handshake flight (0: none),
                             then hold the connection, silent (<= 120 s)
  --handshake-alert N        answer the ClientHello with a plaintext fatal TLS
                             alert N (e.g. 40 handshake_failure, 70
                             protocol_version, 116 certificate_required)
  --hello-version ssl3|1.0|1.1
                             answer the ClientHello with a hand-made
                             ServerHello that picks that protocol version (and
                             ECDHE-ECDSA-AES128-GCM), then hold (a server
                             trying to negotiate below TLS 1.2)
  --tls-max 1.0|1.1|1.2|1.3  the highest TLS version the double speaks; 1.0
                             and 1.1 also allow the old versions and legacy
                             ciphers (@SECLEVEL=0), so that such a server
                             really is one that cannot do TLS 1.2
  --signin-user USER         who the sign-in URL signs in as (default
                             alice@example.com; there is no IdP)
  --signin-ttl SECS          sign-in URLs expire after this (default 300)
  --portal-routes FILE       the routes the routes API lists: a JSON array of
                             {"from": URL, "name": N, "description": D,
                             "users": "*" or [sub/email...], "mcp": bool};
                             without it, the --route entries as
                             tcp+https://FROM with no name (the CONNECT
                             routing always comes from --route)
  --no-routes-portal         the routes API answers 404 (Pomerium's runtime
                             flag routes_portal switched off)
  --routes-status CODE       the routes API answers every request with CODE
                             (no checks), e.g. a 405 to a GET
  --revoked FILE             tokens whose jti is a line of FILE (read at each
                             request) are refused with 401, on CONNECT and by
                             the routes API: a revoked session

CONNECT handling, in order: --silent/--raw-response/--status; no route -> 404;
no token -> 302 to a sign-in URL; bad signature/expired/malformed -> 401;
user not allowed -> 403; upstream connect fails -> 503; else "HTTP/1.1 200 OK"
(headers date, server: envoy, x-request-id, as Envoy; no body; every other
status has a body and a content-length)
and bytes flow both ways. A client EOF (close_notify or TCP FIN) half-closes
the upstream and the double keeps relaying upstream's answer. Tokens are read
from "Authorization: Pomerium <jwt>", "Authorization: Bearer Pomerium-<jwt>"
or "X-Pomerium-Authorization: <jwt>"; Proxy-Authorization is ignored.

Login API: GET /.pomerium/api/v1/login?pomerium_redirect_uri=URL -> 200
text/plain, body = sign-in URL (no newline); 405 non-GET; 404 no parameter;
400 redirect host not localhost/loopback. GET <sign-in URL> -> 302 to URL
with pomerium_jwt=<fresh token> added to its query; 400 when unknown or
expired.

Routes API (Pomerium's proxy/handlers.go, proxy/portal/portal.go): GET
/.pomerium/api/v1/routes -> 200 application/json {"routes":[{"id", "name",
"type", "from", "description", "connect_command", "logo_url"}]} with the
routes the token's user may use (connect_command only for tcp and udp);
405 for another method; 404 with --no-routes-portal; no valid token: 401
when the request's Accept has application/json, else 302 to a sign-in URL.
Empty names are made up, as Pomerium's importutil.GenerateRouteNames does,
simplified: the host's first label, and on a clash more of its labels
joined with '-' (then -2, -3...). A 200 is logged as "GET
/.pomerium/api/v1/routes 200 ..." and then "ROUTES user=<u> routes=<n>".
"""

import argparse
import base64
import fcntl
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import select
import signal
import socket
import ssl
import struct
import sys
import termios
import threading
import time
import urllib.parse
import uuid
import warnings
from email.utils import formatdate

REASONS = {
    200: "OK", 301: "Moved Permanently", 302: "Found", 307: "Temporary Redirect",
    308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    431: "Request Header Fields Too Large", 450: "Blocked",
    495: "SSL Certificate Error", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}
MAX_HEADER = 16384


# ---------------------------------------------------------------- tokens

def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    text += "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text.encode())


def mint(secret, sub, email=None, exp=None):
    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"iss": "authenticate.pomerium.test", "aud": "pomerium.test",
              "sub": sub, "iat": now, "jti": str(uuid.uuid4()),
              "idp_id": "double"}
    if email is None and "@" in sub:
        email = sub
    if email:
        claims["email"] = email
    if exp is not None:
        claims["exp"] = int(exp)
    signing = b64u(json.dumps(header, separators=(",", ":")).encode()) + "." + \
        b64u(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest()
    return signing + "." + b64u(sig)


def verify(secret, token):
    """Return (claims, None) or (None, reason)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None, "malformed"
    try:
        header = json.loads(unb64u(parts[0]))
        claims = json.loads(unb64u(parts[1]))
        sig = unb64u(parts[2])
    except (ValueError, UnicodeDecodeError):
        return None, "malformed"
    if not isinstance(header, dict) or header.get("alg") != "HS256" \
            or not isinstance(claims, dict):
        return None, "unknown"
    want = hmac.new(secret.encode(), (parts[0] + "." + parts[1]).encode(),
                    hashlib.sha256).digest()
    if not hmac.compare_digest(want, sig):
        return None, "bad-signature"
    exp = claims.get("exp")
    if exp is not None:
        if not isinstance(exp, (int, float)) or exp <= time.time():
            return None, "expired"
    return claims, None


# ---------------------------------------------------------------- logging

class Log:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, "a", buffering=1) if path else sys.stderr

    def __call__(self, line):
        with self.lock:
            self.f.write(line + "\n")
            self.f.flush()


# ---------------------------------------------------------------- TLS over a socket, thread-safe for one reader + one writer

class PeerEOF(Exception):
    pass


class TLS:
    """A server-side TLS connection driven through memory BIOs, so that the
    double decides exactly which bytes go into which record and whether a
    close_notify is sent. One thread may read while another writes."""

    def __init__(self, sock, ctx):
        self.sock = sock
        self.inc = ssl.MemoryBIO()
        self.out = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_side=True)
        self.lock = threading.Lock()       # guards obj and the BIOs
        self.send_lock = threading.Lock()  # keeps socket writes in BIO order
        self.sni = None

    def flush(self):
        with self.send_lock:
            with self.lock:
                data = self.out.read()
            if data:
                self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(65536)
        with self.lock:
            if data:
                self.inc.write(data)
            else:
                self.inc.write_eof()
        return bool(data)

    def handshake(self):
        while True:
            try:
                with self.lock:
                    self.obj.do_handshake()
                self.flush()
                return
            except ssl.SSLWantReadError:
                self.flush()
                if not self._fill():
                    raise PeerEOF("EOF during handshake")
            except ssl.SSLError:
                try:
                    self.flush()  # our alert, if any
                except OSError:
                    pass
                raise

    def recv(self):
        """Application bytes; raises PeerEOF('notify'|'ragged'|'reset')."""
        while True:
            try:
                with self.lock:
                    data = self.obj.read(65536)
                if self.out.pending:
                    self.flush()
                if not data:
                    raise PeerEOF(self._eof_kind())
                return data
            except ssl.SSLWantReadError:
                try:
                    self._fill()
                except (ConnectionResetError, OSError):
                    raise PeerEOF("reset")
            except ssl.SSLZeroReturnError:
                raise PeerEOF(self._eof_kind())
            except ssl.SSLEOFError:
                raise PeerEOF("ragged")

    def _eof_kind(self):
        """The TLS layer says EOF: a close_notify if it said so before the
        socket's EOF went in; after it, the EOF was ragged (some Python
        builds report a ragged EOF as an empty read, not SSLEOFError)."""
        return "ragged" if self.inc.eof else "notify"

    def send(self, data):
        with self.lock:
            view = memoryview(data)
            while view:
                n = self.obj.write(view)
                view = view[n:]
        self.flush()

    def send_records(self, pieces):
        """Each piece in its own TLS record, all flushed at once."""
        with self.lock:
            for piece in pieces:
                view = memoryview(piece)
                while view:
                    n = self.obj.write(view)
                    view = view[n:]
        self.flush()

    def close_notify(self):
        with self.lock:
            try:
                self.obj.unwrap()
            except (ssl.SSLWantReadError, ssl.SSLError):
                pass
        self.flush()


def hold(sock, secs=120):
    """Say nothing; read and discard until the peer goes away or secs pass."""
    end = time.time() + secs
    try:
        sock.settimeout(1)
        while time.time() < end:
            try:
                if not sock.recv(65536):
                    return
            except socket.timeout:
                continue
    except OSError:
        return


def wait_peer_gone(sock, secs=120):
    """Without reading: until the peer closes or resets, or secs pass."""
    p = select.poll()
    p.register(sock.fileno(), select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    end = time.time() + secs
    while time.time() < end:
        if p.poll(200):
            return


def wait_acked(sock, secs=5):
    """Until every byte written to sock was acknowledged (SIOCOUTQ 0)."""
    end = time.time() + secs
    while time.time() < end:
        try:
            left = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ,
                                                 b"\0\0\0\0"))[0]
        except OSError:
            return
        if left == 0:
            return
        time.sleep(0.01)


def reset(sock):
    """Close sock with a TCP RST (SO_LINGER 0); wakes a thread reading it."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def client_hello_summary(rec):
    """'CLIENT-HELLO record=0x0301 version=0x0303 suites=c02b,... supported_versions=-'
    for a TLS record holding a ClientHello (what the raw handshake options log)."""
    try:
        if rec[0] != 0x16 or rec[5] != 1:
            return "CLIENT-HELLO unparsed"
        b = rec[9:]
        ver = b[0:2]
        i = 2 + 32
        i += 1 + b[i]
        n = int.from_bytes(b[i:i + 2], "big")
        suites = [b[i + 2 + k:i + 4 + k].hex() for k in range(0, n, 2)]
        i += 2 + n
        i += 1 + b[i]
        sv = "-"
        if i + 2 <= len(b):
            end = i + 2 + int.from_bytes(b[i:i + 2], "big")
            i += 2
            while i + 4 <= end:
                t, ln = int.from_bytes(b[i:i + 2], "big"), int.from_bytes(b[i + 2:i + 4], "big")
                if t == 43:
                    v = b[i + 5:i + 4 + ln]
                    sv = ",".join("0x" + v[k:k + 2].hex() for k in range(0, len(v), 2))
                i += 4 + ln
        return "CLIENT-HELLO record=0x%s version=0x%s suites=%s supported_versions=%s" % (
            rec[1:3].hex(), ver.hex(), ",".join(suites), sv)
    except IndexError:
        return "CLIENT-HELLO unparsed"


# ---------------------------------------------------------------- Envoy's TLS parameters

# Envoy's default TLS 1.2 suites, in its (the server's) order
ENVOY_CIPHERS = ("ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                 "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                 "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")
SSL_CTRL_SET_GROUPS_LIST = 92
SSL_CTRL_GET_NEGOTIATED_GROUP = 134
GROUP_NAMES = {"x25519": "X25519", "secp256r1": "P-256", "prime256v1": "P-256",
               "secp384r1": "P-384", "secp521r1": "P-521", "x448": "X448"}
_libssl = None


def libssl():
    """The OpenSSL that python's _ssl module is linked with (ctypes)."""
    global _libssl
    if _libssl is None:
        import ctypes
        import _ssl
        lib = ctypes.CDLL(_ssl.__file__)
        for fn, res, args in (
                ("SSL_CTX_ctrl", ctypes.c_long, [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]),
                ("SSL_CTX_get_options", ctypes.c_uint64, [ctypes.c_void_p]),
                ("SSL_ctrl", ctypes.c_long, [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]),
                ("SSL_get_SSL_CTX", ctypes.c_void_p, [ctypes.c_void_p]),
                ("SSL_group_to_name", ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_int])):
            getattr(lib, fn).restype = res
            getattr(lib, fn).argtypes = args
        _libssl = (ctypes, lib)
    return _libssl


def ctx_pointer(ctx):
    """The SSL_CTX * of an ssl.SSLContext: CPython's PySSLContext holds it
    right after the object header; checked against the options it reports."""
    ctypes, lib = libssl()
    ptr = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
    if not ptr or lib.SSL_CTX_get_options(ptr) != ctx.options:
        sys.exit("pomerium_double: cannot find the SSL_CTX of an SSLContext")
    return ptr


def set_groups(ctx, groups):
    """SSL_CTX_set1_groups_list, which python's ssl does not offer."""
    ctypes, lib = libssl()
    if lib.SSL_CTX_ctrl(ctx_pointer(ctx), SSL_CTRL_SET_GROUPS_LIST, 0,
                        ctypes.c_char_p(groups.encode())) != 1:
        sys.exit("pomerium_double: OpenSSL refused the group list %r" % groups)


def negotiated_group(obj):
    """The ECDHE group of an ssl.SSLObject's handshake: X25519, P-256..."""
    try:
        ctypes, lib = libssl()
        so = obj._sslobj  # PySSLSocket: header, Socket, then SSL *ssl
        ptr = ctypes.c_void_p.from_address(id(so) + object.__basicsize__ +
                                           ctypes.sizeof(ctypes.c_void_p)).value
        if not ptr or lib.SSL_get_SSL_CTX(ptr) != ctx_pointer(obj.context):
            return "?"
        nid = lib.SSL_ctrl(ptr, SSL_CTRL_GET_NEGOTIATED_GROUP, 0, None)
        name = lib.SSL_group_to_name(ptr, nid) if nid > 0 else None
    except (AttributeError, OSError, ValueError):
        return "?"
    if not name:
        return "-"
    name = name.decode()
    return GROUP_NAMES.get(name.lower(), name)


def read_hello(sock):
    """The client's first bytes: a whole TLS record (the ClientHello) when
    they start one, else what the first read gave."""
    buf = sock.recv(65536)
    while buf and buf[0] == 0x16 and \
            (len(buf) < 5 or len(buf) < 5 + int.from_bytes(buf[3:5], "big")):
        d = sock.recv(65536)
        if not d:
            break
        buf += d
    return buf


def alpn_offer(rec):
    """The ALPN protocol names in a ClientHello record (empty if none)."""
    try:
        if rec[0] != 0x16 or rec[5] != 1:
            return []
        b = rec[9:]
        i = 2 + 32
        i += 1 + b[i]
        i += 2 + int.from_bytes(b[i:i + 2], "big")
        i += 1 + b[i]
        end = i + 2 + int.from_bytes(b[i:i + 2], "big")
        i += 2
        while i + 4 <= end:
            t, ln = int.from_bytes(b[i:i + 2], "big"), int.from_bytes(b[i + 2:i + 4], "big")
            if t == 16:
                names, j = [], i + 6
                while j < i + 4 + ln:
                    names.append(b[j + 1:j + 1 + b[j]].decode("latin-1"))
                    j += 1 + b[j]
                return names
            i += 4 + ln
    except IndexError:
        pass
    return []


# ---------------------------------------------------------------- HTTP

def parse_request(raw):
    text = raw.decode("latin-1")
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        if ":" not in line:
            return None
        k, v = line.split(":", 1)
        headers.append((k.strip().lower(), v.strip()))
    return parts[0], parts[1], headers


def header(headers, name):
    for k, v in headers:
        if k == name:
            return v
    return None


def response(code, extra=(), body=None, ctype="text/html; charset=utf-8"):
    lines = ["HTTP/1.1 %d %s" % (code, REASONS.get(code, "Unknown"))]
    lines.append("date: " + formatdate(usegmt=True))
    lines.append("server: envoy")
    lines.extend(extra)
    if code != 200 or body is not None:
        if body is None:
            body = ("<!DOCTYPE html><html><head><title>%d %s</title></head>"
                    "<body><h1>%d %s</h1><p>pomerium test double</p></body>"
                    "</html>" % (code, REASONS.get(code, "Unknown"), code,
                                 REASONS.get(code, "Unknown")))
        body = body.encode() if isinstance(body, str) else body
        lines.append("content-type: " + ctype)
        lines.append("content-length: %d" % len(body))
    else:
        body = b""
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def split_hostport(hp):
    if hp.startswith("["):
        host, _, rest = hp[1:].partition("]")
        return host, int(rest.lstrip(":"))
    host, _, port = hp.rpartition(":")
    return host, int(port)


def is_loopback_host(host):
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------- the server

class Double:
    def __init__(self, args):
        self.a = args
        self.log = Log(args.log)
        self.routes = {}
        for frm, to, users in args.route or []:
            self.routes[frm] = (to, None if users == "*" else
                                set(u for u in users.split(",") if u))
        self.states = {}
        self.states_lock = threading.Lock()
        self.alpn = [x for x in args.alpn.split(",") if x]
        self.ctx = self.make_ctx(self.alpn)
        # the double speaks HTTP/1.1 only: for clients that offer it (with h2)
        self.ctx_h1 = self.make_ctx(["http/1.1"]) if "http/1.1" in self.alpn \
            and self.alpn[0] != "http/1.1" else None
        self.port = None

    def make_ctx(self, alpn):
        a = self.a
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3 if a.tls13_only \
            else ssl.TLSVersion.TLSv1_2
        ciphers = a.ciphers
        if a.tls_max:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                v = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1,
                     "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[a.tls_max]
                if v < ssl.TLSVersion.TLSv1_2:
                    ctx.minimum_version = ssl.TLSVersion.TLSv1
                    ciphers = "ALL:@SECLEVEL=0"
                ctx.maximum_version = v
        ctx.set_ciphers(ciphers)  # TLS 1.2 and below; 1.3 keeps its suites
        ctx.load_cert_chain(a.cert, a.key)
        if a.client_cipher_order:
            ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
        else:
            ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE  # as Envoy
        set_groups(ctx, a.groups)
        ctx.set_alpn_protocols(alpn)
        if a.client_ca:
            ctx.load_verify_locations(a.client_ca)
            ctx.verify_mode = ssl.CERT_REQUIRED if a.mtls_mode == "reject" \
                else ssl.CERT_OPTIONAL

        def sni_cb(obj, name, _ctx):
            obj.sni_seen = name
        ctx.sni_callback = sni_cb
        return ctx

    # -------------------------------------------------- listeners
    def serve(self):
        addrs = self.a.listen or ["127.0.0.1"]
        for attempt in range(50):
            socks = []
            port = self.a.port
            try:
                for addr in addrs:
                    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
                    s = socket.socket(fam, socket.SOCK_STREAM)
                    socks.append(s)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    if fam == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    s.bind((addr, port))
                    s.listen(128)
                    port = s.getsockname()[1]
                break
            except OSError:
                # port 0 picked on the first address may be taken on another
                for s in socks:
                    s.close()
                if self.a.port or attempt == 49:
                    raise
        self.port = port
        if self.a.port_file:
            tmp = self.a.port_file + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % port)
            os.rename(tmp, self.a.port_file)
        for s in socks[1:]:
            threading.Thread(target=self.accept_loop, args=(s,),
                             daemon=True).start()
        self.accept_loop(socks[0])

    def accept_loop(self, ls):
        while True:
            conn, peer = ls.accept()
            threading.Thread(target=self.handle, args=(conn,),
                             daemon=True).start()

    # -------------------------------------------------- one connection
    def handle(self, sock):
        a = self.a
        raw = a.stall_handshake is not None or a.handshake_alert is not None \
            or a.hello_version
        tls = None
        try:
            sock.settimeout(15)
            if raw:
                tls = TLS(sock, self.ctx)
                if self.raw_handshake(sock, tls):
                    return
            try:
                hello = read_hello(sock)
            except OSError as e:
                self.log("HANDSHAKE-FAILED %s" % str(e).replace("\n", " "))
                return
            ctx = self.ctx
            if self.ctx_h1 is not None and "http/1.1" in alpn_offer(hello):
                ctx = self.ctx_h1
            tls = TLS(sock, ctx)
            if hello:
                tls.inc.write(hello)
            try:
                tls.handshake()
            except (ssl.SSLError, PeerEOF, OSError) as e:
                self.log("HANDSHAKE-FAILED %s" % str(e).replace("\n", " "))
                return
            tls.sni = getattr(tls.obj, "sni_seen", None)
            if "http/1.1" not in self.alpn:
                self.http2_only(tls)
                return
            buf = b""
            while b"\r\n\r\n" not in buf:
                if len(buf) > MAX_HEADER:
                    tls.send(response(431, ["connection: close"]))
                    tls.close_notify()
                    return
                try:
                    buf += tls.recv()
                except PeerEOF:
                    return
            head, _, rest = buf.partition(b"\r\n\r\n")
            req = parse_request(head)
            if req is None:
                self.log("BAD-REQUEST 400")
                tls.send(response(400, ["connection: close"]))
                tls.close_notify()
                return
            method, target, headers = req
            if method == "CONNECT":
                self.connect(tls, target, headers, rest)
            else:
                self.http(tls, method, target, headers)
        except (OSError, PeerEOF, ssl.SSLError):
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def raw_handshake(self, sock, tls):
        """--stall-handshake, --handshake-alert, --hello-version: True when
        the connection was handled here."""
        a = self.a
        if a.stall_handshake is not None:
            hello = read_hello(sock)
            self.log(client_hello_summary(hello))
            tls.inc.write(hello)
            try:
                with tls.lock:
                    tls.obj.do_handshake()
            except (ssl.SSLWantReadError, ssl.SSLError):
                pass
            flight = tls.out.read()
            sent = flight[:a.stall_handshake]
            if sent:
                sock.sendall(sent)
            self.log("HANDSHAKE-STALLED sent=%d of=%d" % (len(sent), len(flight)))
            hold(sock)
            return True
        if a.handshake_alert is not None:
            self.log(client_hello_summary(read_hello(sock)))
            sock.sendall(b"\x15\x03\x03\x00\x02\x02" + bytes([a.handshake_alert]))
            self.log("HANDSHAKE-ALERT %d" % a.handshake_alert)
            hold(sock, 30)
            return True
        if a.hello_version:
            self.log(client_hello_summary(read_hello(sock)))
            ver = {"ssl3": b"\x03\x00", "1.0": b"\x03\x01", "1.1": b"\x03\x02"}[a.hello_version]
            body = ver + os.urandom(32) + b"\x00" + b"\xc0\x2b" + b"\x00"
            hs = b"\x02" + len(body).to_bytes(3, "big") + body
            sock.sendall(b"\x16" + ver + len(hs).to_bytes(2, "big") + hs)
            self.log("HELLO-VERSION %s" % a.hello_version)
            hold(sock, 30)
            return True
        return False

    # what Envoy's HTTP/2 codec sends to a client whose first bytes are not
    # the HTTP/2 connection preface (an HTTP/1.1 CONNECT, say): its
    # SETTINGS, a WINDOW_UPDATE, a GOAWAY with PROTOCOL_ERROR; then it closes
    def http2_only(self, tls):
        try:
            first = tls.recv()
        except PeerEOF:
            first = b""
        def frame(ftype, payload):
            return struct.pack(">I", len(payload))[1:] + bytes([ftype, 0]) + \
                struct.pack(">I", 0) + payload
        settings = struct.pack(">HI", 3, 2147483647) + struct.pack(">HI", 4, 268435456) + \
            struct.pack(">HI", 8, 1)
        out = frame(4, settings) + frame(8, struct.pack(">I", 268369921)) + \
            frame(7, struct.pack(">II", 0, 1))
        self.log("HTTP2-ONLY first=%r alpn=%s sni=%s" % (
            first[:24], tls.obj.selected_alpn_protocol() or "-", tls.sni or "-"))
        tls.send(out)
        tls.close_notify()

    def send_head(self, tls, head, early=b""):
        """The answer's header block (and early tunnel bytes), cut into
        records of --record-size bytes when asked."""
        n = self.a.record_size
        if not n:
            tls.send(head + early)  # one write: one TLS record
            return
        pieces = [head[i:i + n] for i in range(0, len(head), n)] or [b""]
        pieces[-1] += early
        self.log("HEAD records=%d bytes=%d early=%d" % (len(pieces), len(head), len(early)))
        tls.send_records(pieces)

    def token_of(self, headers):
        v = header(headers, "authorization")
        if v is not None:
            if v.startswith("Pomerium "):
                return v[len("Pomerium "):].strip(), "authorization"
            if v.startswith("Bearer Pomerium-"):
                return v[len("Bearer Pomerium-"):].strip(), "bearer"
        v = header(headers, "x-pomerium-authorization")
        if v is not None:
            if v.startswith("Pomerium "):
                v = v[len("Pomerium "):]
            return v.strip(), "x-pomerium-authorization"
        return None, "none"

    def client_cn(self, tls):
        try:
            cert = tls.obj.getpeercert()
        except (ValueError, ssl.SSLError):
            return None
        if not cert:
            return None
        for rdn in cert.get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    return v
        return "?"

    def reply(self, tls, what, target, code, token, via, user, extra=(),
              body=None, ctype="text/html; charset=utf-8"):
        cn = self.client_cn(tls)
        cipher = tls.obj.cipher()
        self.log("%s %s %d token=%s via=%s user=%s sni=%s alpn=%s client_cert=%s tls=%s cipher=%s group=%s" % (
            what, target, code, "yes" if token else "no", via, user or "-",
            tls.sni or "-", tls.obj.selected_alpn_protocol() or "-",
            (cn or "-").replace(" ", "_"), tls.obj.version(),
            cipher[0] if cipher else "-", negotiated_group(tls.obj)))
        if code != 200:
            self.send_head(tls, response(code, list(extra) + ["connection: close"],
                                         body, ctype))
            tls.close_notify()

    def connect(self, tls, target, headers, rest):
        a = self.a
        token, via = self.token_of(headers)
        if a.silent:
            self.log("CONNECT %s silent token=%s" % (target, "yes" if token else "no"))
            try:
                while True:
                    tls.recv()
            except (PeerEOF, OSError, ssl.SSLError):
                return
        if a.raw_response is not None or a.raw_response_file:
            self.log("CONNECT %s raw token=%s" % (target, "yes" if token else "no"))
            if a.raw_response_file:
                with open(a.raw_response_file, "rb") as f:
                    raw = f.read()
            else:
                raw = a.raw_response.encode("latin-1")
            self.send_head(tls, raw)
            tls.close_notify()
            return
        if a.partial_response is not None:
            self.log("CONNECT %s partial token=%s" % (target, "yes" if token else "no"))
            tls.send(a.partial_response.encode("latin-1"))
            hold(tls.sock)
            return
        if a.reset_before_answer:
            self.log("CONNECT %s reset token=%s" % (target, "yes" if token else "no"))
            reset(tls.sock)
            return
        if a.endless_header:
            self.log("CONNECT %s endless-%s token=%s" % (target, a.endless_header,
                                                        "yes" if token else "no"))
            sent = 0
            end = time.time() + 60
            try:
                tls.send(b"HTTP/1.1 200 OK\r\n")
                sent += 17
                i = 0
                while time.time() < end:
                    if a.endless_header == "lines":
                        chunk = b"X-Filler-%08d: %s\r\n" % (i, b"f" * 40)
                    else:
                        chunk = b"X-Endless: " if i == 0 else b"e" * 1024
                    tls.send(chunk)
                    sent += len(chunk)
                    i += 1
            except (OSError, ssl.SSLError):
                pass
            self.log("ENDLESS sent=%d" % sent)
            return
        if a.status:
            extra = []
            if a.status in (301, 302, 307, 308):
                extra.append("location: " + self.signin_url(headers, "https://%s/" % target, tls))
            self.reply(tls, "CONNECT", target, a.status, token, via, None, extra)
            return
        if a.client_ca and a.mtls_mode == "policy" and not self.client_cn(tls):
            self.reply(tls, "CONNECT", target, 495, token, via, None)
            return
        route = self.routes.get(target)
        if route is None:
            self.reply(tls, "CONNECT", target, 404, token, via, None)
            return
        if not token:
            self.reply(tls, "CONNECT", target, 302, token, via, None,
                       ["location: " + self.signin_url(headers, "https://%s/" % target, tls)])
            return
        claims, why = self.verify_token(token)
        if claims is None:
            self.reply(tls, "CONNECT", target, 401, token, via, "(%s)" % why)
            return
        user = claims.get("email") or claims.get("sub")
        to, users = route
        if users is not None and claims.get("sub") not in users \
                and claims.get("email") not in users:
            self.reply(tls, "CONNECT", target, 403, token, via, user)
            return
        try:
            up = socket.create_connection(split_hostport(to), timeout=5)
        except (OSError, ValueError):
            self.reply(tls, "CONNECT", target, 503, token, via, user)
            return
        first = b""
        up_eof = False
        if a.coalesce:
            up.settimeout(0.5)
            try:
                first = up.recv(16384 - 256)
                up_eof = not first
            except socket.timeout:
                pass
            except OSError:
                up_eof = True
        up.settimeout(None)
        tls.sock.settimeout(None)
        self.reply(tls, "CONNECT", target, 200, token, via, user)
        # Envoy's 200: date, server: envoy, x-request-id, no body
        head = a.connect_head.encode("latin-1") if a.connect_head is not None \
            else response(200, ["x-request-id: " + str(uuid.uuid4())])
        limit = a.close_after_bytes if a.close_after_bytes is not None \
            else a.stall_after_bytes
        if limit is not None and len(first) > limit:
            first = first[:limit]
        self.send_head(tls, head, first)
        self.splice(tls, up, target, rest, up_eof, len(first))

    def close_tunnel(self, tls, full):
        """The double ends the tunnel: close_notify (unless abrupt), then FIN
        (and, when full, stop reading too)."""
        try:
            if self.a.close_mode == "notify":
                tls.close_notify()
            elif self.a.close_mode == "garbage":
                # an application-data record that cannot decrypt
                with tls.send_lock:
                    tls.sock.sendall(b"\x17\x03\x03\x00\x20" + os.urandom(32))
            elif self.a.close_mode == "reset":
                with tls.send_lock:
                    wait_acked(tls.sock)
                    self.log("RESET")
                    reset(tls.sock)
                return
            tls.sock.shutdown(socket.SHUT_RDWR if full else socket.SHUT_WR)
        except OSError:
            pass

    def splice(self, tls, up, target, rest, up_eof, down0):
        stats = {"up": 0, "down": down0, "client_eof": "-"}
        timers = []

        def later(secs, fn):
            t = threading.Timer(secs, fn)
            t.daemon = True
            timers.append(t)
            t.start()

        def stop_reading_client():
            try:
                tls.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        a = self.a
        limit = a.close_after_bytes if a.close_after_bytes is not None \
            else a.stall_after_bytes
        stalled = threading.Event()
        client_gone = threading.Event()

        def up_to_client():
            try:
                while not up_eof and (limit is None or stats["down"] < limit):
                    data = up.recv(65536)
                    if not data:
                        break
                    if limit is not None:
                        data = data[:limit - stats["down"]]
                    stats["down"] += len(data)
                    tls.send(data)
            except (OSError, ssl.SSLError):
                pass
            if a.stall_after_bytes is not None and a.close_after_bytes is None \
                    and stats["down"] >= limit:
                self.log("STALL %s down=%d" % (target, stats["down"]))
                stalled.set()
                client_gone.wait(120)
                return
            self.close_tunnel(tls, full=False)
            # the client has 10 s to go away, then the double stops reading
            later(10, stop_reading_client)

        t = threading.Thread(target=up_to_client, daemon=True)
        t.start()
        if self.a.close_after is not None:
            def close_now():
                self.close_tunnel(tls, full=True)
                try:
                    up.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            later(self.a.close_after, close_now)
        try:
            if rest:
                stats["up"] += len(rest)
                up.sendall(rest)
            while True:
                if stalled.is_set():
                    raise PeerEOF("stalled")
                data = tls.recv()
                stats["up"] += len(data)
                up.sendall(data)
        except PeerEOF as e:
            if str(e) == "stalled":
                wait_peer_gone(tls.sock)
                client_gone.set()
            stats["client_eof"] = str(e)
        except (OSError, ssl.SSLError) as e:
            stats["client_eof"] = "error:" + type(e).__name__
        if stalled.is_set() and not client_gone.is_set():
            wait_peer_gone(tls.sock)
            client_gone.set()
        try:
            up.shutdown(socket.SHUT_WR)  # half-close: the answer still flows
        except OSError:
            pass
        t.join()
        for x in timers:
            x.cancel()
        up.close()
        self.log("END %s client_eof=%s up=%d down=%d" % (
            target, stats["client_eof"], stats["up"], stats["down"]))

    # -------------------------------------------------- login API
    def signin_url(self, headers, redirect, tls=None):
        if tls is not None:  # a CONNECT: its Host is the destination
            host = "%s:%d" % (tls.sni or "localhost", self.port)
        else:  # the login API: the Host the client used, as Pomerium does
            host = header(headers, "host") or "localhost:%d" % self.port
        nonce = secrets.token_urlsafe(16)
        with self.states_lock:
            self.states[nonce] = (redirect, time.time())
        return "https://%s/.pomerium/sign_in?pomerium_state=%s" % (host, nonce)

    def http(self, tls, method, target, headers):
        token, via = self.token_of(headers)
        u = urllib.parse.urlsplit(target)
        path = u.path
        q = urllib.parse.parse_qs(u.query)
        if path == "/.pomerium/api/v1/login":
            if method != "GET":
                return self.reply(tls, method, path, 405, token, via, None,
                                  ["allow: GET"])
            redirect = q.get("pomerium_redirect_uri", [None])[0]
            if not redirect:
                return self.reply(tls, method, path, 404, token, via, None)
            if not is_loopback_host(urllib.parse.urlsplit(redirect).hostname):
                return self.reply(tls, method, path, 400, token, via, None)
            url = self.signin_url(headers, redirect)
            self.reply(tls, method, path, 200, token, via, None)
            tls.send(response(200, ["connection: close"], url, "text/plain"))
            tls.close_notify()
            return
        if path == "/.pomerium/api/v1/routes":
            return self.routes_api(tls, method, path, headers, token, via)
        if path == "/.pomerium/sign_in":
            nonce = q.get("pomerium_state", [None])[0]
            with self.states_lock:
                st = self.states.get(nonce)
            if method != "GET":
                return self.reply(tls, method, path, 405, token, via, None)
            if st is None or time.time() - st[1] > self.a.signin_ttl:
                return self.reply(tls, method, path, 400, token, via, None)
            redirect = st[0]
            r = urllib.parse.urlsplit(redirect)
            jwt = mint(self.a.secret, self.a.signin_user)
            query = (r.query + "&" if r.query else "") + \
                urllib.parse.urlencode({"pomerium_jwt": jwt})
            loc = urllib.parse.urlunsplit((r.scheme, r.netloc, r.path, query,
                                           r.fragment))
            return self.reply(tls, method, path, 302, token, via,
                              self.a.signin_user, ["location: " + loc])
        self.reply(tls, method, path, 404, token, via, None)

    # -------------------------------------------------- routes API
    def verify_token(self, token):
        """verify(), and a token whose jti is listed in --revoked is refused."""
        claims, why = verify(self.a.secret, token)
        if claims is not None and self.a.revoked:
            try:
                with open(self.a.revoked) as f:
                    revoked = set(line.strip() for line in f)
            except OSError:
                revoked = set()
            if claims.get("jti") in revoked:
                return None, "revoked"
        return claims, why

    def portal_routes(self):
        """The routes the routes API knows, as configured."""
        if self.a.portal_routes:
            with open(self.a.portal_routes) as f:
                return json.load(f)
        return [{"from": "tcp+https://" + frm,
                 "users": "*" if users is None else sorted(users)}
                for frm, (to, users) in self.routes.items()]

    def routes_api(self, tls, method, path, headers, token, via):
        if self.a.routes_status:
            return self.reply(tls, method, path, self.a.routes_status, token, via, None)
        if method != "GET":
            return self.reply(tls, method, path, 405, token, via, None, ["allow: GET"])
        if self.a.no_routes_portal:
            return self.reply(tls, method, path, 404, token, via, None)
        claims, why = self.verify_token(token) if token else (None, "none")
        if claims is None:
            if "application/json" in (header(headers, "accept") or ""):
                return self.reply(tls, method, path, 401, token, via, "(%s)" % why)
            back = "https://%s%s" % (header(headers, "host") or "localhost", path)
            return self.reply(tls, method, path, 302, token, via, None,
                              ["location: " + self.signin_url(headers, back)])
        user = claims.get("email") or claims.get("sub")
        mine = [r for r in self.portal_routes()
                if r.get("users", "*") == "*" or claims.get("sub") in r["users"]
                or claims.get("email") in r["users"]]
        names = route_names([r["from"] for r in mine])
        out = []
        for r, made_up in zip(mine, names):
            out.append(portal_route(r, r.get("name") or made_up))
        body = json.dumps({"routes": out}, separators=(",", ":"))
        self.reply(tls, method, path, 200, token, via, user)
        self.log("ROUTES user=%s routes=%d" % (user, len(out)))
        tls.send(response(200, ["connection: close"], body, "application/json"))
        tls.close_notify()


def portal_route(r, name):
    """One route of the routes API, as Pomerium's RoutesFromConfigRoutes makes it."""
    frm = r["from"]
    u = urllib.parse.urlsplit(frm)
    if r.get("mcp"):
        kind, cmd = "mcp", None
    elif u.scheme.startswith("tcp+") or u.scheme.startswith("udp+"):
        kind = u.scheme[:3]
        cmd = "pomerium-cli %s %s" % (kind, frm if len(u.path) > 1 else u.netloc)
    else:
        kind, cmd = "http", None
    out = {"id": hashlib.sha256(frm.encode()).hexdigest()[:16], "name": name,
           "type": kind, "from": frm, "description": r.get("description", "")}
    if cmd:
        out["connect_command"] = cmd
    out["logo_url"] = ""
    return out


def route_names(froms):
    """Names for routes that have none: each host's first label, and on a
    clash more of its labels joined with '-', then a number."""
    labels = [(urllib.parse.urlsplit(f).hostname or "route").split(".") for f in froms]
    out, seen = [], set()
    for ls in labels:
        name, i = ls[0], 1
        while name in seen and i < len(ls):
            name += "-" + ls[i]
            i += 1
        base, k = name, 2
        while name in seen:
            name = "%s-%d" % (base, k)
            k += 1
        seen.add(name)
        out.append(name)
    return out


# ---------------------------------------------------------------- upstream test servers

def upstream(a):
    fam = socket.AF_INET6 if ":" in a.listen else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.listen, a.port))
    ls.listen(16)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(tmp, a.port_file)
    count = [0]

    def send_file(c, path):
        with open(path, "rb") as f:
            while True:
                chunk = f.read(65536)
                if not chunk:
                    break
                c.sendall(chunk)

    def drain(c, out=None):
        while True:
            d = c.recv(65536)
            if not d:
                return
            if out:
                out.write(d)

    def handle(c, n):
        try:
            if a.mode == "echo":
                if a.send:
                    send_file(c, a.send)
                got = 0
                while a.expect is None or got < a.expect:
                    d = c.recv(65536 if a.expect is None else min(65536, a.expect - got))
                    if not d:
                        break
                    c.sendall(d)
                    got += len(d)
                c.shutdown(socket.SHUT_WR)
            elif a.mode == "xfer":
                save = a.save if n == 1 else "%s.%d" % (a.save, n)
                with open(save + ".part", "wb") as out:
                    def sender():
                        try:
                            send_file(c, a.send)
                        except OSError:
                            pass
                    t = threading.Thread(target=sender, daemon=True)
                    t.start()
                    got = 0
                    while a.expect is None or got < a.expect:
                        d = c.recv(65536)
                        if not d:
                            break
                        out.write(d)
                        got += len(d)
                    t.join()
                os.rename(save + ".part", save)
            elif a.mode == "reply":
                if a.expect is None:
                    drain(c)
                else:
                    got = 0
                    while got < a.expect:
                        d = c.recv(65536)
                        if not d:
                            break
                        got += len(d)
                time.sleep(a.delay)
                send_file(c, a.send)
                c.shutdown(socket.SHUT_WR)
            elif a.mode == "hold":
                drain(c)
        except OSError:
            pass
        finally:
            c.close()

    while True:
        c, _ = ls.accept()
        count[0] += 1
        threading.Thread(target=handle, args=(c, count[0]), daemon=True).start()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    u = sub.add_parser("upstream")
    u.add_argument("mode", choices=["echo", "xfer", "reply", "hold"])
    u.add_argument("--listen", default="127.0.0.1")
    u.add_argument("--port", type=int, default=0)
    u.add_argument("--port-file", required=True)
    u.add_argument("--send")
    u.add_argument("--save")
    u.add_argument("--delay", type=float, default=0)
    u.add_argument("--expect", type=int)

    s = sub.add_parser("serve")
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--secret", required=True)
    s.add_argument("--listen", action="append")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--port-file")
    s.add_argument("--route", nargs=3, action="append",
                   metavar=("FROM", "TO", "USERS"))
    s.add_argument("--log")
    s.add_argument("--client-ca")
    s.add_argument("--mtls-mode", choices=["reject", "policy"], default="reject")
    s.add_argument("--tls13-only", action="store_true")
    s.add_argument("--coalesce", action="store_true")
    s.add_argument("--status", type=int)
    s.add_argument("--raw-response")
    s.add_argument("--silent", action="store_true")
    s.add_argument("--close-after", type=float)
    s.add_argument("--close-mode", choices=["notify", "abrupt", "garbage", "reset"],
                   default="notify")
    s.add_argument("--close-after-bytes", type=int)
    s.add_argument("--stall-after-bytes", type=int)
    s.add_argument("--record-size", type=int)
    s.add_argument("--connect-head")
    s.add_argument("--raw-response-file")
    s.add_argument("--partial-response")
    s.add_argument("--endless-header", choices=["lines", "line"])
    s.add_argument("--reset-before-answer", action="store_true")
    s.add_argument("--stall-handshake", type=int)
    s.add_argument("--handshake-alert", type=int)
    s.add_argument("--hello-version", choices=["ssl3", "1.0", "1.1"])
    s.add_argument("--tls-max", choices=["1.0", "1.1", "1.2", "1.3"])
    s.add_argument("--client-cipher-order", action="store_true")
    s.add_argument("--ciphers", default=ENVOY_CIPHERS)
    s.add_argument("--groups", default="X25519:P-256")
    s.add_argument("--alpn", default="h2,http/1.1")
    s.add_argument("--signin-user", default="alice@example.com")
    s.add_argument("--signin-ttl", type=float, default=300)
    s.add_argument("--portal-routes")
    s.add_argument("--no-routes-portal", action="store_true")
    s.add_argument("--routes-status", type=int)
    s.add_argument("--revoked")

    m = sub.add_parser("mint")
    m.add_argument("--secret", required=True)
    m.add_argument("--sub", required=True)
    m.add_argument("--email")
    m.add_argument("--exp", type=int)

    v = sub.add_parser("verify")
    v.add_argument("--secret", required=True)
    v.add_argument("token")

    a = p.parse_args()
    if a.cmd == "upstream":
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        upstream(a)
        return 0
    if a.cmd == "mint":
        print(mint(a.secret, a.sub, a.email, a.exp))
        return 0
    if a.cmd == "verify":
        claims, why = verify(a.secret, a.token.strip())
        if claims is None:
            print("invalid: " + why, file=sys.stderr)
            return 1
        print(json.dumps(claims, sort_keys=True))
        return 0
    for k in ("raw_response", "connect_head", "partial_response"):
        if getattr(a, k) is not None:
            setattr(a, k, getattr(a, k).encode("latin-1").decode("unicode_escape"))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    Double(a).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
