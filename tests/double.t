#!/bin/bash
# double.t — the Pomerium test double itself, checked with independent
# clients (proxytunnel -E, openssl s_client, curl, a python TLS probe):
# every CONNECT status, the token headers, the login API, mint/verify and
# the options other tests rely on (--coalesce, --status, --raw-response,
# --close-mode, --client-ca, --tls13-only, IPv6).
. "$(dirname "$0")/lib/world.sh"
watchdog 180
need proxytunnel openssl curl python3
pki

# A python TLS client that sees records and close_notify:
#   probe.py PORT MODE [--addr A] [--cert F --key F] < request
#   MODE first-record: print the plaintext of the first application record
#   MODE until-close:  print everything, then on stderr "EOF notify|ragged"
#   --close-notify: send a close_notify after the request (a half-close)
cat >"$T/probe.py" <<'EOF'
import socket, ssl, sys, argparse
p = argparse.ArgumentParser()
p.add_argument("port", type=int); p.add_argument("mode")
p.add_argument("--addr", default="127.0.0.1"); p.add_argument("--ca", required=True)
p.add_argument("--cert"); p.add_argument("--key")
p.add_argument("--close-notify", action="store_true")  # after the request
a = p.parse_args()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(a.ca)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2   # as BearSSL 0.6
ctx.set_alpn_protocols(["http/1.1"])
if a.cert:
    ctx.load_cert_chain(a.cert, a.key)
s = socket.create_connection((a.addr, a.port), timeout=10)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
o = ctx.wrap_bio(inc, out, server_hostname="localhost")
def flush():
    d = out.read()
    if d: s.sendall(d)
while True:
    try:
        o.do_handshake(); flush(); break
    except ssl.SSLWantReadError:
        flush(); d = s.recv(65536)
        if not d: sys.exit("EOF in handshake")
        inc.write(d)
o.write(sys.stdin.buffer.read()); flush()
if a.close_notify:
    try: o.unwrap()
    except ssl.SSLWantReadError: pass
    flush()
def recvn(n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d: return None
        b += d
    return b
if a.mode == "first-record":
    while True:
        h = recvn(5)
        body = recvn(int.from_bytes(h[3:5], "big"))
        inc.write(h + body)
        try:
            data = o.read(65536)
        except ssl.SSLWantReadError:
            continue            # not application data (e.g. a ticket)
        sys.stdout.buffer.write(data); break
else:
    # an EOF the TLS layer reports before the socket's EOF went in is a
    # close_notify; after it, ragged (some Python builds report a ragged
    # EOF as an empty read rather than SSLEOFError)
    def eof():
        print("EOF ragged" if inc.eof else "EOF notify", file=sys.stderr)
    while True:
        try:
            data = o.read(65536)
            if not data: eof(); break
            sys.stdout.buffer.write(data); sys.stdout.flush()
        except ssl.SSLWantReadError:
            d = s.recv(65536)
            if d: inc.write(d)
            else: inc.write_eof()
        except ssl.SSLZeroReturnError:
            eof(); break
        except ssl.SSLEOFError:
            print("EOF ragged", file=sys.stderr); break
EOF
probe() { timeout -k 2 20 python3 "$T/probe.py" --ca "$PKI/ca.pem" "$@"; }

# --- mint / verify --------------------------------------------------------
tok=$(mint_token alice@example.com)
like "$tok" '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "mint prints a three-part JWT"
claims=$(python3 "$DOUBLE" verify --secret "$SECRET" "$tok")
ok "verify accepts a minted token" [ $? -eq 0 ]
like "$claims" '"sub": "alice@example.com"' "the token carries sub"
unlike "$claims" '"exp"' "no exp claim by default"
nok "verify rejects another secret" quiet python3 "$DOUBLE" verify --secret other "$tok"
sig=${tok##*.}
[ "${sig:0:1}" = A ] && bad=B || bad=A
nok "verify rejects a tampered signature" quiet python3 "$DOUBLE" verify --secret "$SECRET" "${tok%.*}.$bad${sig:1}"
expired=$(mint_token alice@example.com $(($(date +%s) - 60)))
nok "verify rejects an exp in the past" quiet python3 "$DOUBLE" verify --secret "$SECRET" "$expired"
future=$(mint_token alice@example.com $(($(date +%s) + 3600)))
ok "verify accepts an exp in the future" quiet python3 "$DOUBLE" verify --secret "$SECRET" "$future"

# --- CONNECT statuses, through proxytunnel -E -----------------------------
printf 'HELLO-FROM-UPSTREAM\n' >"$T/greeting"
start_upstream echo --send "$T/greeting"
ECHO=$UPSTREAM_PORT
DEAD=$(closed_port)
start_double --route echo.test:7 127.0.0.1:$ECHO alice@example.com \
	--route open.test:7 127.0.0.1:$ECHO '*' \
	--route dead.test:7 127.0.0.1:$DEAD '*'
P=$DOUBLE_PORT
bob=$(mint_token bob@example.com)

# pt DEST [HEADER] — proxytunnel through the double; stdin "ping", kept
# open a moment so the answer can come back. Sets PT_OUT (stdout), PT_ERR,
# PT_RC.
pt() {
	local h=()
	[ -n "${2:-}" ] && h=(-H "$2")
	PT_OUT=$( (printf 'ping\n'; sleep 1) | timeout -k 2 15 proxytunnel -E \
		-C "$PKI/ca.pem" -p "localhost:$P" -d "$1" "${h[@]}" 2>"$T/pt.err")
	PT_RC=$?
	PT_ERR=$(cat "$T/pt.err")
}
pt echo.test:7 "Authorization: Pomerium $tok"
is "$PT_RC" 0 "200: proxytunnel succeeds"
is "$PT_OUT" $'HELLO-FROM-UPSTREAM\nping' "200: the upstream's greeting and the echo come back"
pt echo.test:7 "Authorization: Bearer Pomerium-$tok"
is "$PT_OUT" $'HELLO-FROM-UPSTREAM\nping' "200 with Authorization: Bearer Pomerium-<jwt>"
pt echo.test:7 "X-Pomerium-Authorization: $tok"
is "$PT_OUT" $'HELLO-FROM-UPSTREAM\nping' "200 with X-Pomerium-Authorization"
pt echo.test:7 "Authorization: pomerium $tok"
like "$PT_ERR" 'HTTP return code: 302' "'pomerium ' (lower case) is not a token: 302"
pt echo.test:7
like "$PT_ERR" 'HTTP return code: 302' "no token: 302"
pt echo.test:7 "Proxy-Authorization: Pomerium $tok"
like "$PT_ERR" 'HTTP return code: 302' "Proxy-Authorization is ignored: 302"
pt echo.test:7 "Authorization: Pomerium ${tok}x"
like "$PT_ERR" 'HTTP return code: 401' "bad signature: 401"
pt echo.test:7 "Authorization: Pomerium $expired"
like "$PT_ERR" 'HTTP return code: 401' "expired exp: 401"
pt echo.test:7 "Authorization: Pomerium not-a-jwt"
like "$PT_ERR" 'HTTP return code: 401' "malformed token: 401"
pt echo.test:7 "Authorization: Pomerium $bob"
like "$PT_ERR" 'HTTP return code: 403' "user not on the route's list: 403"
pt open.test:7 "Authorization: Pomerium $bob"
is "$PT_OUT" $'HELLO-FROM-UPSTREAM\nping' "route open to any valid token: 200 for bob"
pt nowhere.test:7 "Authorization: Pomerium $tok"
like "$PT_ERR" 'HTTP return code: 404' "no route: 404"
pt dead.test:7 "Authorization: Pomerium $tok"
like "$PT_ERR" 'HTTP return code: 503' "upstream refuses: 503"
pt ECHO.TEST:7 "Authorization: Pomerium $tok"
like "$PT_ERR" 'HTTP return code: 404' "routes match the authority exactly: 404"

is "$(count_log '^CONNECT echo.test:7 200 token=yes via=authorization user=alice@example.com sni=localhost ')" 1 \
	"the log records the CONNECT, token presence, user and SNI"
is "$(count_log '^CONNECT echo.test:7 302 token=no ')" 3 "the log records the three token-less CONNECTs"
is "$(count_log '^END echo.test:7 ')" 3 "the log records the end of each tunnel"
nok "the log never contains a token" grep -qF "${tok%%.*}.${tok#*.}" "$DOUBLE_LOG"
nok "the log never contains a token's signature" grep -qF "${tok##*.}" "$DOUBLE_LOG"

# --- raw responses, with openssl s_client ---------------------------------
# sc REQUEST [s_client args] — one request, everything the double answers
sc() {
	local req=$1
	shift
	printf '%b' "$req" | timeout -k 2 15 openssl s_client -quiet -ign_eof -connect "127.0.0.1:$P" \
		-servername localhost -CAfile "$PKI/ca.pem" -verify_return_error "$@" 2>"$T/sc.err"
}
resp=$(sc 'CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\n\r\n' -alpn http/1.1 | tr -d '\r')
like "$resp" $'^HTTP/1.1 302 Found\n' "302 status line"
like "$resp" $'\nlocation: https://localhost:[0-9]+/.pomerium/sign_in\\?pomerium_state=' "302 has a sign-in Location"
like "$resp" $'\ncontent-length: [0-9]+\n' "error responses carry a body with content-length"
like "$(tail -1 "$DOUBLE_LOG")" ' alpn=http/1.1 ' "ALPN http/1.1 is negotiated"
resp=$(sc 'CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\n\r\n' -tls1_2 | head -c 12)
is "$resp" "HTTP/1.1 302" "TLS 1.2 is accepted (BearSSL 0.6 speaks only 1.2)"
resp=$(printf 'CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\nAuthorization: Pomerium %s\r\n\r\n' "$tok" |
	probe "$P" first-record | tr -d '\r' | head -1)
is "$resp" "HTTP/1.1 200 OK" "200 status line"

# --- --coalesce: the 200 header and the upstream's greeting share a record -
start_double --coalesce --route echo.test:7 127.0.0.1:$ECHO '*'
rec=$(printf 'CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\nAuthorization: Pomerium %s\r\n\r\n' "$tok" |
	probe "$DOUBLE_PORT" first-record | tr -d '\r')
like "$rec" $'^HTTP/1.1 200 OK\n.*\n\nHELLO-FROM-UPSTREAM$' "--coalesce: one TLS record holds the 200 and the greeting"
rec=$(printf 'CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\nAuthorization: Pomerium %s\r\n\r\n' "$tok" |
	probe "$P" first-record | tr -d '\r')
unlike "$rec" 'HELLO' "without --coalesce the 200 comes alone"

# --- --status, --raw-response, --silent ------------------------------------
start_double --status 495
resp=$(printf 'CONNECT x.test:22 HTTP/1.1\r\nHost: x.test:22\r\n\r\n' | probe "$DOUBLE_PORT" until-close 2>/dev/null | head -1 | tr -d '\r')
is "$resp" "HTTP/1.1 495 SSL Certificate Error" "--status 495"
start_double --raw-response 'SSH-2.0-not-http\r\n'
resp=$(printf 'CONNECT x.test:22 HTTP/1.1\r\nHost: x.test:22\r\n\r\n' | probe "$DOUBLE_PORT" until-close 2>/dev/null | od -An -tx1 | tr -d ' \n')
is "$resp" "$(printf 'SSH-2.0-not-http\r\n' | od -An -tx1 | tr -d ' \n')" "--raw-response sends the bytes given, escapes interpreted"
start_double --silent
printf 'CONNECT x.test:22 HTTP/1.1\r\nHost: x.test:22\r\n\r\n' |
	timeout 2 python3 "$T/probe.py" --ca "$PKI/ca.pem" "$DOUBLE_PORT" until-close >"$T/silent.out" 2>&1
is "$?/$(wc -c <"$T/silent.out")" "124/0" "--silent answers nothing and keeps the connection open"
like "$(cat "$DOUBLE_LOG")" 'CONNECT x.test:22 silent' "--silent logs the CONNECT"

# --- close modes -----------------------------------------------------------
for mode in notify abrupt; do
	start_double --close-after 1 --close-mode $mode --route echo.test:7 127.0.0.1:$ECHO '*'
	printf 'CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\nAuthorization: Pomerium %s\r\n\r\n' "$tok" |
		probe "$DOUBLE_PORT" until-close >"$T/close.out" 2>"$T/close.err"
	want=ragged
	[ $mode = notify ] && want=notify
	is "$(cat "$T/close.err")" "EOF $want" "--close-after --close-mode $mode: the client sees EOF $want"
	like "$(tr -d '\r' <"$T/close.out")" 'HELLO-FROM-UPSTREAM' "--close-mode $mode: the tunnel was open before"
done
# upstream closes first: close_notify by default
start_upstream reply --send "$T/greeting"
start_double --route reply.test:7 127.0.0.1:$UPSTREAM_PORT '*'
printf 'CONNECT reply.test:7 HTTP/1.1\r\nHost: reply.test:7\r\nAuthorization: Pomerium %s\r\n\r\n' "$tok" |
	probe "$DOUBLE_PORT" until-close --close-notify >"$T/half.out" 2>"$T/half.err"
like "$(tr -d '\r' <"$T/half.out")" $'\n\nHELLO-FROM-UPSTREAM$' "client close_notify half-closes upstream; its later answer still arrives"
is "$(cat "$T/half.err")" "EOF notify" "upstream EOF: the double sends close_notify"
like "$(grep '^END' "$DOUBLE_LOG")" 'client_eof=notify' "the log records how the client ended"

# --- client certificates ---------------------------------------------------
start_double --client-ca "$PKI/client-ca.pem" --route echo.test:7 127.0.0.1:$ECHO '*'
P2=$DOUBLE_PORT
resp=$(printf 'CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\nAuthorization: Pomerium %s\r\n\r\n' "$tok" |
	probe "$P2" until-close 2>&1)
unlike "$resp" 'HTTP/1.1 200' "--client-ca: no client certificate, no tunnel"
like "$(cat "$DOUBLE_LOG")" 'HANDSHAKE-FAILED' "--client-ca: the handshake failure is logged"
for k in client-ec client-rsa; do
	resp=$(printf 'CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\nAuthorization: Pomerium %s\r\n\r\n' "$tok" |
		probe "$P2" first-record --cert "$PKI/$k.pem" --key "$PKI/$k.key" | head -1 | tr -d '\r')
	is "$resp" "HTTP/1.1 200 OK" "--client-ca: $k certificate accepted"
done
like "$(grep 200 "$DOUBLE_LOG" | head -1)" 'client_cert=pom-proxy_test_client' "the client certificate's CN is logged"
resp=$(printf 'CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\n\r\n' |
	probe "$P2" first-record --cert "$PKI/client-other.pem" --key "$PKI/client-other.key" 2>&1)
unlike "$resp" 'HTTP/1.1' "--client-ca: a certificate from another CA is refused"
start_double --client-ca "$PKI/client-ca.pem" --mtls-mode policy --route echo.test:7 127.0.0.1:$ECHO '*'
resp=$(printf 'CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\nAuthorization: Pomerium %s\r\n\r\n' "$tok" |
	probe "$DOUBLE_PORT" until-close 2>/dev/null | head -1 | tr -d '\r')
is "$resp" "HTTP/1.1 495 SSL Certificate Error" "--mtls-mode policy: no certificate answers 495"

# --- TLS 1.3 only ----------------------------------------------------------
start_double --tls13-only
printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' | timeout 10 openssl s_client -quiet -ign_eof -tls1_2 \
	-connect "127.0.0.1:$DOUBLE_PORT" -servername localhost -CAfile "$PKI/ca.pem" >"$T/t12.out" 2>"$T/t12.err"
is "$(wc -c <"$T/t12.out")" 0 "--tls13-only refuses TLS 1.2"
like "$(cat "$T/t12.err")" 'alert protocol version' "--tls13-only: TLS 1.2 ends with a protocol_version alert"
printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' | timeout 10 openssl s_client -quiet -ign_eof -tls1_3 \
	-connect "127.0.0.1:$DOUBLE_PORT" -servername localhost -CAfile "$PKI/ca.pem" >"$T/t13.out" 2>/dev/null
like "$(head -1 "$T/t13.out")" '^HTTP/1.1 404' "--tls13-only accepts TLS 1.3"

# --- IPv6 --------------------------------------------------------------------
start_double --listen ::1 --listen 127.0.0.1 --route echo.test:7 127.0.0.1:$ECHO '*'
for addr in ::1 127.0.0.1; do
	resp=$(printf 'CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\nAuthorization: Pomerium %s\r\n\r\n' "$tok" |
		probe "$DOUBLE_PORT" first-record --addr $addr | head -1 | tr -d '\r')
	is "$resp" "HTTP/1.1 200 OK" "listening on $addr (one port for both)"
done

# --- login API ---------------------------------------------------------------
start_double --signin-user carol@example.com
LP=$DOUBLE_PORT
cu() { timeout -k 2 15 curl -sS --cacert "$PKI/ca.pem" "$@"; }
api=https://localhost:$LP/.pomerium/api/v1/login
redir='http://127.0.0.1:5555/callback/n0nce?keep=1'
enc=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$redir")
url=$(cu -o - -w '\n%{http_code} %{content_type}' "$api?pomerium_redirect_uri=$enc")
is "$(tail -1 <<<"$url")" "200 text/plain" "login API: 200 text/plain"
signin=$(head -n -1 <<<"$url")
like "$signin" "^https://localhost:$LP/\\.pomerium/sign_in\\?pomerium_state=[A-Za-z0-9_-]+\$" "login API: the body is a sign-in URL on the double"
body_bytes=$(cu -o - "$api?pomerium_redirect_uri=$enc" | tail -c 1 | od -An -c | tr -d ' ')
unlike "$body_bytes" '\\n' "login API: no trailing newline"
is "$(cu -o /dev/null -w '%{http_code}' -X POST "$api?pomerium_redirect_uri=$enc")" 405 "login API: POST is 405"
is "$(cu -o /dev/null -w '%{http_code}' "$api")" 404 "login API: no pomerium_redirect_uri is 404"
is "$(cu -o /dev/null -w '%{http_code}' "$api?pomerium_redirect_uri=http%3A%2F%2Fevil.example%2Fcb")" 400 \
	"login API: a non-loopback redirect is 400"
is "$(cu -o /dev/null -w '%{http_code}' "$api?pomerium_redirect_uri=http%3A%2F%2Flocalhost%3A9%2Fcb")" 200 "login API: localhost is allowed"
is "$(cu -o /dev/null -w '%{http_code}' "$api?pomerium_redirect_uri=http%3A%2F%2F%5B%3A%3A1%5D%3A9%2Fcb")" 200 "login API: [::1] is allowed"
loc=$(cu -o /dev/null -w '%{http_code} %{redirect_url}' "$signin")
like "$loc" '^302 http://127\.0\.0\.1:5555/callback/n0nce\?keep=1&pomerium_jwt=[A-Za-z0-9_.-]+$' \
	"sign-in URL: 302 to the redirect URI, pomerium_jwt added to its query"
jwt=${loc##*pomerium_jwt=}
claims=$(python3 "$DOUBLE" verify --secret "$SECRET" "$jwt")
like "$claims" '"sub": "carol@example.com"' "sign-in: the fresh token is valid and names the configured user"
is "$(cu -o /dev/null -w '%{http_code}' "https://localhost:$LP/.pomerium/sign_in?pomerium_state=forged")" 400 \
	"sign-in: an unknown state is 400"
start_double --signin-ttl 1
api=https://localhost:$DOUBLE_PORT/.pomerium/api/v1/login
signin=$(cu "$api?pomerium_redirect_uri=$enc")
sleep 2
is "$(cu -o /dev/null -w '%{http_code}' "$signin")" 400 "sign-in: an expired sign-in URL is 400"
is "$(count_log '^GET /.pomerium/api/v1/login 200 token=no')" 1 "the log records login API requests"

done_testing
