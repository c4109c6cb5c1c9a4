#!/bin/bash
# misbehave.t — a misbehaving proxy (the Pomerium double told to misbehave)
# against the real pom-proxy. Every case ends, within a bounded time (each
# run is under `timeout`; the stalls under --connect-timeout 2), in either
# the right bytes on stdout with exit 0 and nothing on stderr, or one clear
# stderr line and the documented exit code (proxycmd/exitcode.h) — the test says
# which:
#   answers that work: status line and headers in 1-byte TLS records (with
#     and without the first tunnel bytes in the record of the header's last
#     byte), tunnel bytes in the 200's record, HTTP/1.0 200, 100 Continue
#     before the 200 (also byte by byte), bare LF line ends, a 200 with a
#     Content-Length or Transfer-Encoding and a body (RFC 9110 9.3.6: a
#     client ignores both on a 2xx to CONNECT: the body is tunnel data)
#   answers that fail (13): an endless header (many lines, or one line),
#     a 1 MiB header line, 1 MiB of short header lines, a status line with
#     no CRLF and then silence, a header cut off and then silence, a reset
#     before the answer
#   the handshake: stalled before and inside the server's first flight
#     (13, --connect-timeout), a fatal alert (6 or 12, the alert named)
#   the open tunnel: closed right after the 200 (0, no output), closed
#     mid-transfer with and without close_notify (0, exactly the bytes sent
#     before), undecryptable data and a TCP reset mid-transfer and right
#     after the 200 (1, the bytes before delivered, the cause named), a
#     stall mid-transfer while pom-proxy is still sending (pom-proxy has no
#     idle timeout, ssh keeps its own: it waits, and SIGHUP still ends it
#     within its one-second close, exit 0)
. "$(dirname "$0")/lib/world.sh"
watchdog 170
need setsid python3 sha256sum
pom_built
pki
printf 'HELLO-FROM-UPSTREAM\n' >"$T/greeting"
printf 'PING\n' >"$T/ping"
GREET_PING=$'HELLO-FROM-UPSTREAM\nPING'
# greets, echoes the 5 bytes of PING, closes: the double then ends the tunnel
start_upstream echo --send "$T/greeting" --expect 5
ECHO=$UPSTREAM_PORT
start_upstream hold
HOLD=$UPSTREAM_PORT
random_file "$T/big" 4
start_upstream xfer --send "$T/big" --save "$T/xfer-saved"
XFER=$UPSTREAM_PORT
head -c 1000000 "$T/big" >"$T/prefix"
TOK=$(token_file alice@example.com)
export PP_TIMEOUT=30
ROUTES=(--route echo.test:7 "127.0.0.1:$ECHO" '*' --route hold.test:7 "127.0.0.1:$HOLD" '*'
	--route xfer.test:7 "127.0.0.1:$XFER" '*')

# pp_run DEST [pom-proxy args] — run_pp against the last double
pp_run() {
	local dest=$1
	shift
	run_pp --pomerium-url "https://localhost:$DOUBLE_PORT" --alternate-ca-path "$PKI/ca.pem" \
		--service-account-file "$TOK" "$@" "$dest"
}

# works DESC WANT [DOUBLE ARGS] — PING through echo.test:7: stdout WANT,
# exit 0, nothing on stderr
works() {
	local desc=$1 want=$2
	shift 2
	start_double "${ROUTES[@]}" "$@"
	PP_STDIN=$T/ping pp_run echo.test:7
	is "$RC" 0 "$desc: exit 0" || diag "$ERR"
	is "$OUT" "$want" "$desc: the tunnel's bytes arrive, in order"
	is "$ERR" "" "$desc: nothing on stderr"
}

# fails WANT_RC REGEX DESC [DOUBLE ARGS] — one line, exit WANT_RC, no output
fails() {
	local want=$1 re=$2 desc=$3
	shift 3
	start_double "${ROUTES[@]}" "$@"
	pp_run echo.test:7 --connect-timeout 2
	expect_failure "$want" "$re" "$desc"
}

# A TLS client that prints the plaintext length of each application record
# of the CONNECT answer, up to the header's end and N more bytes.
cat >"$T/records.py" <<'EOF'
import socket, ssl, sys
port, ca, token, more = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(ca)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
s = socket.create_connection(("127.0.0.1", port), timeout=10)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
o = ctx.wrap_bio(inc, out, server_hostname="localhost")
def flush():
    d = out.read()
    if d:
        s.sendall(d)
while True:
    try:
        o.do_handshake(); flush(); break
    except ssl.SSLWantReadError:
        flush(); inc.write(s.recv(65536))
o.write(b"CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\n"
        b"Authorization: Pomerium " + token.encode() + b"\r\n\r\n")
flush()
def recvn(n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            sys.exit("EOF")
        b += d
    return b
got, lens = b"", []
while b"\r\n\r\n" not in got or len(got.split(b"\r\n\r\n", 1)[1]) < more:
    h = recvn(5)
    inc.write(h + recvn(int.from_bytes(h[3:5], "big")))
    try:
        d = o.read(65536)
    except ssl.SSLWantReadError:
        continue
    lens.append(len(d))
    got += d
print(" ".join(map(str, lens)))
EOF
records() { # PORT MORE — record lengths of the last double's answer
	timeout 20 python3 "$T/records.py" "$1" "$PKI/ca.pem" "$(cat "$TOK")" "$2"
}

# ------------------------------------------------------------ answers that work
works "status line and headers in 1-byte records" "$GREET_PING" --record-size 1
lens=$(records "$DOUBLE_PORT" 0)
like "$lens" '^1( 1){30,}$' "  (the double really sent the header block one byte per record: $(wc -w <<<"$lens") records)"
works "1-byte records, the first tunnel bytes in the record of the header's last byte" "$GREET_PING" \
	--record-size 1 --coalesce
lens=$(records "$DOUBLE_PORT" 20)
like "$lens" '^1( 1){30,} 21$' "  (the last record held the blank line's LF and the 20-byte greeting)"
works "the first tunnel bytes in the 200's record (--coalesce)" "$GREET_PING" --coalesce
lens=$(records "$DOUBLE_PORT" 20)
like "$lens" '^[0-9]+$' "  (one record held the whole 200 and the greeting: $lens bytes)"
works "HTTP/1.0 200" "$GREET_PING" --connect-head 'HTTP/1.0 200 Connection established\r\n\r\n'
works "100 Continue, then the 200" "$GREET_PING" \
	--connect-head 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Connection established\r\nServer: envoy\r\n\r\n'
works "100 Continue, then the 200, one byte per record" "$GREET_PING" --record-size 1 \
	--connect-head 'HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\nHTTP/1.1 200 OK\r\n\r\n'
works "bare LF line ends" "$GREET_PING" --connect-head 'HTTP/1.1 200 OK\nServer: envoy\n\n'
works "a 200 with Content-Length and a body: the body is tunnel data (RFC 9110 9.3.6)" \
	$'BODY!\n'"$GREET_PING" --connect-head 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nBODY!\n'
works "a 200 with Transfer-Encoding: chunked: what follows is tunnel data, not dechunked" \
	$'5\r\nhello\r\n'"$GREET_PING" \
	--connect-head 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'

# ------------------------------------------------------------ answers that fail
fails 13 'malformed answer.*(too many header lines|too large)' "an endless header (short lines without end)" \
	--endless-header lines
like "$(grep ENDLESS "$DOUBLE_LOG")" 'ENDLESS sent=[0-9]+' "  (the double was still sending when pom-proxy hung up)"
fails 13 'malformed answer.*(line too long|too large)' "an endless header (one line without end)" \
	--endless-header line
python3 -c 'import sys; sys.stdout.write("HTTP/1.1 200 OK\r\nX-Big: " + "b" * (1 << 20) + "\r\n\r\n")' >"$T/big-header"
fails 13 'malformed answer.*(line too long|too large)' "a header line of 1 MiB" --raw-response-file "$T/big-header"
python3 -c 'import sys; sys.stdout.write("HTTP/1.1 200 OK\r\n" + "".join("X-H%05d: %s\r\n" % (i, "h" * 90) for i in range(10923)) + "\r\n")' \
	>"$T/many-headers"
fails 13 'malformed answer.*(too many header lines|too large)' "1 MiB of short header lines" \
	--raw-response-file "$T/many-headers"
fails 13 'did not complete its answer to connect within 2000 ms' \
	"a status line without CRLF, then silence (--connect-timeout 2)" --partial-response 'HTTP/1.1 200 OK'
fails 13 'did not complete its answer to connect within 2000 ms' \
	"a header cut off, then silence (--connect-timeout 2)" --partial-response 'HTTP/1.1 200 OK\r\nServer: env'
fails 13 'closed the connection .*answer to connect.*reset' "a TCP reset instead of the answer" \
	--reset-before-answer
like "$(grep '^CONNECT echo' "$DOUBLE_LOG")" 'CONNECT echo\.test:7 reset token=yes' "  (the double read the CONNECT, then reset)"

# a plain http:// proxy that takes the request and closes: the message
# says so and names no error (the EOF has none; the errno left over from
# the connect's EINPROGRESS once showed up here)
spawn closer python3 -c 'import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
c, _ = s.accept(); c.recv(65536); c.close()' "$T/closer.port"
wait_file "$T/closer.port" || bail "the closing server did not start"
run_pp --connect-timeout 5 "http://127.0.0.1:$(cat "$T/closer.port")/echo.test:7"
is "$RC" 13 "a plain proxy that closes after the request: exit 13"
last=$(tail -n 1 "$T/pp.err")
like "$last" '^pom-proxy: proxy 127\.0\.0\.1:[0-9]+ closed the connection before answering CONNECT$' \
	"  one line that says so, with no stale error after it"

# ------------------------------------------------------------ the handshake
fails 13 'did not complete the tls handshake within 2000 ms' \
	"no answer to the ClientHello (--connect-timeout 2)" --stall-handshake 0
like "$(grep HANDSHAKE-STALLED "$DOUBLE_LOG")" 'sent=0 ' "  (the double read the ClientHello, sent nothing)"
fails 13 'did not complete the tls handshake within 2000 ms' \
	"the server's first flight stops after 100 bytes (--connect-timeout 2)" --stall-handshake 100
like "$(grep HANDSHAKE-STALLED "$DOUBLE_LOG")" 'sent=100 of=[0-9]+' "  (100 bytes of the ServerHello flight sent)"
fails 6 'alert handshake_failure \(40\)' "a fatal alert handshake_failure" --handshake-alert 40
fails 6 'alert protocol_version \(70\)' "a fatal alert protocol_version" --handshake-alert 70
fails 6 'alert internal_error \(80\)' "a fatal alert internal_error" --handshake-alert 80
fails 12 'alert certificate_required \(116\).*client-cert' "a fatal alert certificate_required" \
	--handshake-alert 116

# ------------------------------------------------------------ the open tunnel ends
for mode in notify abrupt; do
	start_double "${ROUTES[@]}" --close-after 0 --close-mode "$mode"
	pp_run hold.test:7
	is "$RC/$(wc -c <"$T/pp.out")/$ERR" "0/0/" "closed right after the 200 ($mode): exit 0, no output, nothing said"
done
for mode in notify abrupt; do
	start_double "${ROUTES[@]}" --close-after-bytes 1000000 --close-mode "$mode"
	pp_run xfer.test:7
	is "$RC" 0 "closed mid-transfer ($mode): exit 0" || diag "$ERR"
	is "$(sha "$T/pp.out")" "$(sha "$T/prefix")" "closed mid-transfer ($mode): exactly the 1000000 bytes sent before arrived"
	is "$ERR" "" "closed mid-transfer ($mode): nothing on stderr"
done

# broken (1): the bytes before are delivered, one line says why
broken() { # DESC REGEX WANTFILE DEST [DOUBLE ARGS]
	local desc=$1 re=$2 want=$3 dest=$4
	shift 4
	start_double "${ROUTES[@]}" "$@"
	pp_run "$dest"
	is "$RC" 1 "$desc: exit 1" || diag "$ERR"
	is "$(wc -l <"$T/pp.err")" 1 "$desc: one stderr line" || diag "$ERR"
	like "${ERR,,}" "^pom-proxy: .*$re" "$desc: the line names the cause (/$re/)"
	is "$(sha "$T/pp.out")" "$(sha "$want")" "$desc: the bytes sent before arrived"
}
broken "undecryptable data mid-transfer" 'integrity|bad mac' "$T/prefix" xfer.test:7 \
	--close-after-bytes 1000000 --close-mode garbage
broken "a TCP reset mid-transfer" 'lost.*reset' "$T/prefix" xfer.test:7 \
	--close-after-bytes 1000000 --close-mode reset
broken "a TCP reset right after the 200 and the greeting" 'lost.*reset' "$T/greeting" echo.test:7 \
	--coalesce --close-after 0.2 --close-mode reset
like "$(grep -c RESET "$DOUBLE_LOG")" '^1$' "  (the double did reset the connection)"

# a stall mid-transfer, pom-proxy still sending: it waits; SIGHUP ends it
start_double "${ROUTES[@]}" --stall-after-bytes 1048576
head -c $((256 * 1024 * 1024)) /dev/zero |
	setsid "$POM_PROXY" --pomerium-url "https://localhost:$DOUBLE_PORT" --alternate-ca-path "$PKI/ca.pem" \
		--service-account-file "$TOK" xfer.test:7 >"$T/stall.out" 2>"$T/stall.err" &
PID=$!
_PIDS+=("$PID")
ok "stall mid-transfer: the double stalls after 1 MiB" wait_log_line "$DOUBLE_LOG" '^STALL xfer\.test:7 down=1048576' "$PID" 20
for i in $(seq 100); do [ "$(wc -c <"$T/stall.out")" -ge 1048576 ] && break; sleep 0.1; done
is "$(wc -c <"$T/stall.out")" 1048576 "stall mid-transfer: the 1 MiB before the stall arrived"
# pom-proxy's sends back up: the send queue of its socket to the double
# (/proc/net/tcp: the connection whose remote port is the double's)
sendq() {
	python3 - "$DOUBLE_PORT" <<'EOF'
import sys
port = "%04X" % int(sys.argv[1])
for line in open("/proc/net/tcp").readlines()[1:]:
    f = line.split()
    if f[2].endswith(":" + port) and f[3] == "01":
        print(int(f[4].split(":")[0], 16))
        break
EOF
}
for i in $(seq 100); do
	q=$(sendq)
	[ "${q:-0}" -gt 0 ] && break
	sleep 0.1
done
ok "stall mid-transfer: pom-proxy's data to the proxy is stuck in its socket (send queue ${q:-?} bytes)" test "${q:-0}" -gt 0
ok "stall mid-transfer: pom-proxy keeps waiting (no idle timeout)" alive "$PID"
kill -HUP "$PID"
ok "stall mid-transfer: SIGHUP ends it (one-second close)" wait_gone "$PID" 10
wait "$PID"
is "$?" 0 "stall mid-transfer: SIGHUP is a normal end: exit 0"
is "$(cat "$T/stall.err")" "" "stall mid-transfer: nothing on stderr"
is "$(head -c 1048576 "$T/big" | sha256sum)" "$(sha256sum <"$T/stall.out")" "stall mid-transfer: the bytes are the right ones"

done_testing
