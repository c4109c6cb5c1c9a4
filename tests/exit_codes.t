#!/bin/bash
# exit_codes.t — every row of the README's exit-code table that can be
# produced here. For each failure: the exit code, exactly one stderr line
# starting "pom-proxy: " that says what failed, and nothing on stdout.
. "$(dirname "$0")/lib/world.sh"
watchdog 300
need setsid python3
pom_built
pki
printf 'HELLO-FROM-UPSTREAM\n' >"$T/greeting"
start_upstream echo --send "$T/greeting"
ECHO=$UPSTREAM_PORT
TOK=$(token_file alice@example.com)
BOB=$(token_file bob@example.com)
CA=(--alternate-ca-path "$PKI/ca.pem")
export PP_TIMEOUT=30

# double_with CERTNAME [ARGS...] — a double serving $PKI/CERTNAME.pem
double_with() {
	local c=$1
	shift
	start_double --cert "$PKI/$c.pem" --key "$PKI/$c.key" --route echo.test:7 127.0.0.1:$ECHO alice@example.com "$@"
}

# --- 2: usage -------------------------------------------------------------
run_pp
expect_failure 2 'destination|usage' "no arguments"
run_pp --no-such-option echo.test:7
expect_failure 2 'no-such-option' "unknown option"
run_pp echo.test
expect_failure 2 'port' "DEST without a port"
run_pp echo.test:99999
expect_failure 2 'port' "DEST port out of range"
run_pp '[::1:22'
expect_failure 2 '\]|ipv6' "unterminated IPv6 literal"
run_pp --pomerium-url ftp://proxy.test echo.test:7
expect_failure 2 'scheme|ftp' "--pomerium-url with an unsupported scheme"
run_pp --pomerium-url https://localhost:0x echo.test:7
expect_failure 2 'port' "--pomerium-url with a bad port"
run_pp --connect-timeout abc echo.test:7
expect_failure 2 'timeout' "--connect-timeout not a number"
run_pp a.test:1 b.test:2
expect_failure 2 'destination' "two destinations"
run_pp --client-cert "$PKI/client-ec.pem" --pomerium-url https://localhost:1 echo.test:7
expect_failure 2 'client-key|key' "--client-cert without --client-key"

# --- 3: local system error ---------------------------------------------------
start_double --route echo.test:7 127.0.0.1:$ECHO '*'
run_pp --pomerium-url "https://localhost:$DOUBLE_PORT" --alternate-ca-path "$T/no-such-ca.pem" \
	--service-account-file "$TOK" echo.test:7
expect_failure 3 'no-such-ca\.pem' "--alternate-ca-path names a missing file"
run_pp --pomerium-url "https://localhost:$DOUBLE_PORT" "${CA[@]}" --client-cert "$T/nope.pem" \
	--client-key "$T/nope.key" --service-account-file "$TOK" echo.test:7
expect_failure 3 'nope' "--client-cert names a missing file"
run_pp --pomerium-url "https://localhost:$DOUBLE_PORT" "${CA[@]}" --service-account-file "$T/no-token" echo.test:7
like "$RC" '^[23]$' "--service-account-file names a missing file: exit 2 or 3 (got $RC)"
like "$ERR" '^pom-proxy: .*no-token' "--service-account-file names a missing file: the message names it"

# --- 4: DNS -------------------------------------------------------------------
# a name under .invalid (RFC 6761) never resolves. So that no query leaves
# this machine, pom-proxy runs in a mount namespace whose resolv.conf
# points at 127.0.0.1 (where no DNS server listens).
need unshare
printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n' >"$T/resolv.conf"
printf '#!/bin/sh\nexec unshare -m sh -c %s "%s" "%s" "$@"\n' \
	"'mount --bind \"\$0\" /etc/resolv.conf && exec \"\$@\"'" "$T/resolv.conf" "$POM_PROXY" \
	>"$T/pp-localdns"
chmod +x "$T/pp-localdns"
REAL_POM_PROXY=$POM_PROXY
POM_PROXY=$T/pp-localdns
run_pp --connect-timeout 5 --pomerium-url https://proxy.pom-proxy-test.invalid "${CA[@]}" \
	--service-account-file "$TOK" echo.test:7
POM_PROXY=$REAL_POM_PROXY
expect_failure 4 'resolve|proxy\.pom-proxy-test\.invalid' "the proxy's host name does not resolve"

# --- 5: connect -----------------------------------------------------------------
CLOSED=$(closed_port)
run_pp --pomerium-url "https://127.0.0.1:$CLOSED" "${CA[@]}" --service-account-file "$TOK" echo.test:7
expect_failure 5 'refused' "connection refused (IPv4)"
run_pp --pomerium-url "https://[::1]:$(free_port ::1)" "${CA[@]}" --service-account-file "$TOK" echo.test:7
expect_failure 5 'refused' "connection refused (IPv6)"
# a listener whose accept queue is full drops new SYNs: connect() hangs
cat >"$T/full.py" <<'EOF'
import os, socket, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(0)
port = l.getsockname()[1]
fill = []
for i in range(4):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", port))
    except BlockingIOError: pass
    fill.append(c)
time.sleep(0.3)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % port); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(120)
EOF
spawn full python3 "$T/full.py" "$T/full.port"
wait_file "$T/full.port" 10
run_pp --connect-timeout 2 --pomerium-url "https://127.0.0.1:$(cat "$T/full.port")" "${CA[@]}" \
	--service-account-file "$TOK" echo.test:7
expect_failure 5 'time' "TCP connect times out (--connect-timeout)"
kill "$LAST_PID"

# --- 6 / 7: TLS -------------------------------------------------------------------
tls_case() { # WANT REGEX DESC URL [pom-proxy args]
	local want=$1 re=$2 desc=$3 url=$4
	shift 4
	run_pp --pomerium-url "$url" "${CA[@]}" --service-account-file "$TOK" "$@" echo.test:7
	expect_failure "$want" "$re" "$desc"
}
double_with untrusted
tls_case 7 'unknown authority|not trusted|untrusted|issuer|trust anchor' \
	"certificate from an unknown CA" "https://localhost:$DOUBLE_PORT"
double_with wrongname
tls_case 7 'name|localhost' "certificate for another name" "https://localhost:$DOUBLE_PORT"
double_with expired
tls_case 7 'expired' "expired certificate" "https://localhost:$DOUBLE_PORT"
double_with dnsonly --listen 127.0.0.1 --listen ::1
tls_case 7 'name|127\.0\.0\.1|address|ip' "IPv4 literal not among the certificate's IP SANs" "https://127.0.0.1:$DOUBLE_PORT"
tls_case 7 'name|::1|address|ip' "IPv6 literal not among the certificate's IP SANs" "https://[::1]:$DOUBLE_PORT"
unlike "$ERR" '[^[]::1:[0-9]' "an IPv6 proxy is written [::1]:PORT in messages"
run_pp --pomerium-url "https://localhost:$DOUBLE_PORT" --service-account-file "$TOK" echo.test:7
expect_failure 7 'unknown authority|not trusted|untrusted|issuer|trust anchor' \
	"the test CA is not trusted without --alternate-ca-path"
double_with server --tls13-only
tls_case 6 'version|protocol' "a TLS 1.3-only proxy (BearSSL speaks 1.2)" "https://localhost:$DOUBLE_PORT"

# client certificates
double_with server --client-ca "$PKI/client-ca.pem"
MTLS=$DOUBLE_PORT
run_pp --pomerium-url "https://localhost:$MTLS" "${CA[@]}" --service-account-file "$TOK" echo.test:7
like "$RC" '^(6|12)$' "client certificate required, none given: exit 6 or 12 (got $RC)"
note "exit $RC, stderr: $ERR"
is "$(wc -l <"$T/pp.err")" 1 "client certificate required: exactly one stderr line" || diag "$ERR"
like "${ERR,,}" '^pom-proxy: .*client cert' "client certificate required: the message says a client certificate is needed"
is "$(wc -c <"$T/pp.out")" 0 "client certificate required: nothing on stdout"

# a client certificate given: the tunnel opens (stdin stays open until the
# greeting arrived; the double ends the tunnel after 2 s)
start_double --client-ca "$PKI/client-ca.pem" --close-after 2 --route echo.test:7 127.0.0.1:$ECHO '*'
for k in client-ec client-rsa; do
	feed_until /dev/null "$T/mtls.out" "$(wc -c <"$T/greeting")" 20 |
		setsid -w timeout -k 5 30 "$POM_PROXY" --pomerium-url "https://localhost:$DOUBLE_PORT" "${CA[@]}" \
			--service-account-file "$TOK" --client-cert "$PKI/$k.pem" --client-key "$PKI/$k.key" \
			echo.test:7 >"$T/mtls.out" 2>"$T/mtls.err"
	rc=${PIPESTATUS[1]}
	is "$rc" 0 "$k: the tunnel opens and ends normally" || diag_file "$T/mtls.err"
	is "$(cat "$T/mtls.out")" "HELLO-FROM-UPSTREAM" "$k: the upstream's bytes arrive"
done
like "$(grep '^CONNECT' "$DOUBLE_LOG" | head -1)" 'client_cert=pom-proxy_test_client_EC' "the double saw the EC client certificate"
like "$(grep '^CONNECT' "$DOUBLE_LOG" | tail -1)" 'client_cert=pom-proxy_test_client_RSA' "the double saw the RSA client certificate"
run_pp --pomerium-url "https://localhost:$MTLS" "${CA[@]}" --service-account-file "$TOK" \
	--client-cert "$PKI/client-other.pem" --client-key "$PKI/client-other.key" echo.test:7
like "$RC" '^(6|12)$' "a client certificate from another CA: exit 6 or 12 (got $RC)"
note "exit $RC, stderr: $ERR"
is "$(wc -l <"$T/pp.err")" 1 "a client certificate from another CA: exactly one stderr line" || diag "$ERR"

# --- 8..13: the CONNECT answer -------------------------------------------------------
start_double --route echo.test:7 127.0.0.1:$ECHO alice@example.com \
	--route dead.test:7 127.0.0.1:$CLOSED '*'
P=$DOUBLE_PORT
answer() { # WANT REGEX DESC DEST [pom-proxy args]
	local want=$1 re=$2 desc=$3 dest=$4
	shift 4
	run_pp --pomerium-url "https://localhost:$P" "${CA[@]}" "$@" "$dest"
	expect_failure "$want" "$re" "$desc"
}
BAD=$(token_file alice@example.com)
python3 -c 'import sys; t = open(sys.argv[1]).read().strip(); open(sys.argv[1], "w").write(t[:-2] + ("AA" if t[-2:] != "AA" else "BB"))' "$BAD"
answer 8 'sign|token|401|refused|invalid' "401: the service-account token is refused" echo.test:7 \
	--service-account-file "$BAD"
is "$(count_log '^CONNECT echo.test:7 401 token=yes')" 1 "the refused token was sent once, no sign-in retry"
EXPIRED=$(token_file alice@example.com $(($(date +%s) - 60)))
answer 8 'expired' "an expired service-account token (sign-in required)" echo.test:7 \
	--service-account-file "$EXPIRED"
answer 9 'denie|not allowed|403|forbidden' "403: bob may not use the route" echo.test:7 --service-account-file "$BOB"
answer 10 'route|404|not exist|no such' "404: no such route" nowhere.test:7 --service-account-file "$TOK"
answer 11 'reach|503|upstream|destination' "503: the upstream refuses" dead.test:7 --service-account-file "$TOK"
is "$(count_log '^CONNECT .* token=yes')" "$(count_log '^CONNECT ')" "every CONNECT carried the token"

fixed() { # STATUS WANT REGEX DESC  — a double that answers STATUS to everything
	start_double --status "$1"
	run_pp --pomerium-url "https://localhost:$DOUBLE_PORT" "${CA[@]}" --service-account-file "$TOK" echo.test:7
	expect_failure "$2" "$3" "$4"
}
fixed 302 8 'sign|302|token' "302 with a service-account token"
fixed 502 11 'reach|502|upstream|destination' "502"
fixed 504 11 'reach|504|upstream|destination' "504"
fixed 495 12 'certificate|495' "495 (client certificate refused)"
fixed 450 12 'device|450' "450 (device policy)"
fixed 500 13 '500' "500: another status, shown"
fixed 418 13 '418' "418: another status, shown"

raw() { # TEXT WANT REGEX DESC — a double that answers TEXT and closes
	start_double --raw-response "$1"
	run_pp --pomerium-url "https://localhost:$DOUBLE_PORT" "${CA[@]}" --service-account-file "$TOK" echo.test:7
	expect_failure "$2" "$3" "$4"
}
raw 'SSH-2.0-OpenSSH_9.2\r\n' 13 '.' "a non-HTTP answer"
raw 'HTTP/1.1 200 OK\r\n' 13 '.' "a status line, then the connection closes"
raw '' 13 '.' "no answer at all (closed)"
raw 'HTTP/1.1 2000 OK\r\n\r\n' 13 '.' "a malformed status code"
long=$(head -c 70000 /dev/zero | tr '\0' 'a')
raw "HTTP/1.1 200 OK\\r\\nX-Long: $long\\r\\n\\r\\n" 13 '.' "an endless header line"

start_double --silent
run_pp --connect-timeout 2 --pomerium-url "https://localhost:$DOUBLE_PORT" "${CA[@]}" --service-account-file "$TOK" echo.test:7
expect_failure 13 'time|answer' "no answer within --connect-timeout"

# --- 1: the tunnel breaks after it opened ----------------------------------------------
start_double --close-after 1 --close-mode garbage --route echo.test:7 127.0.0.1:$ECHO '*'
feed_until /dev/null /dev/null 1 10 |
	setsid -w timeout -k 5 30 "$POM_PROXY" --pomerium-url "https://localhost:$DOUBLE_PORT" "${CA[@]}" \
		--service-account-file "$TOK" echo.test:7 >"$T/broke.out" 2>"$T/broke.err"
RC=${PIPESTATUS[1]}
is "$RC" 1 "a TLS error in the open tunnel: exit 1" || diag_file "$T/broke.err"
is "$(wc -l <"$T/broke.err")" 1 "a TLS error in the open tunnel: one stderr line"
like "$(cat "$T/broke.err")" '^pom-proxy: ' "a TLS error in the open tunnel: the line starts with 'pom-proxy: '"
is "$(cat "$T/broke.out")" "HELLO-FROM-UPSTREAM" "a TLS error in the open tunnel: what came before was delivered"

# --- 0: a proxy that ends the tunnel ---------------------------------------------------
for mode in notify abrupt; do
	start_double --close-after 1 --close-mode $mode --route echo.test:7 127.0.0.1:$ECHO '*'
	feed_until /dev/null /dev/null 1 10 |
		setsid -w timeout -k 5 30 "$POM_PROXY" --pomerium-url "https://localhost:$DOUBLE_PORT" "${CA[@]}" \
			--service-account-file "$TOK" echo.test:7 >"$T/end.out" 2>"$T/end.err"
	RC=${PIPESTATUS[1]}
	is "$RC" 0 "the proxy ends the tunnel ($mode): exit 0" || diag_file "$T/end.err"
	is "$(wc -c <"$T/end.err")" 0 "the proxy ends the tunnel ($mode): nothing on stderr"
done

done_testing
