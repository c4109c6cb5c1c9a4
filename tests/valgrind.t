#!/bin/bash
# valgrind.t — memcheck on the end-to-end path: pom-proxy under
#   valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
# for a tunnel from a cold cache (trust store decoded, anchor cache and TLS
# session written), from the cached anchors (full handshake), with a
# resumed session, moving 2 MiB each way, with an answer cut into 1-byte
# records after a 100 Continue, after a sign-in through the browser
# (libcurl loaded), in listener mode (the tunnel processes are forks, which
# valgrind follows), and on the failure paths (404, 401, certificate not
# trusted, connection refused, no answer, a malformed answer, a TLS error in
# the open tunnel, bad arguments). Each run must end with its usual exit
# code and a valgrind log without a single error.
# ASan builds (make check SANITIZE=1) cannot run under valgrind: then a
# plain build of the same sources is used (plain_pom_proxy, world.sh).
. "$(dirname "$0")/lib/world.sh"
. "$(dirname "$0")/lib/signin.sh"
watchdog 170
need valgrind setsid python3
signin_world
fake_browser web follow
plain_pom_proxy
printf 'HELLO-FROM-UPSTREAM\n' >"$T/greeting"
printf 'PING\n' >"$T/ping"
start_upstream echo --send "$T/greeting" --expect 5
ECHO5=$UPSTREAM_PORT
random_file "$T/down" 2
random_file "$T/up" 2
start_upstream xfer --send "$T/down" --save "$T/up-got" --expect $((2 * 1024 * 1024))
XFER=$UPSTREAM_PORT
start_double --route greet.test:7 "127.0.0.1:$ECHO5" alice@example.com --route xfer.test:7 "127.0.0.1:$XFER" '*' \
	--route dead.test:7 "127.0.0.1:$(closed_port)" '*'
P2=$DOUBLE_PORT
TOK=$(token_file alice@example.com)
BAD=$(token_file alice@example.com)
python3 -c 'import sys; t = open(sys.argv[1]).read().strip(); open(sys.argv[1], "w").write(t[:-4] + ("AAAA" if t[-4:] != "AAAA" else "BBBB"))' "$BAD"

# $T/vg: pom-proxy under memcheck, one log per process in $T/vg/
mkdir -p "$T/vg"
cat >"$T/vgpp" <<EOF
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \\
	--show-leak-kinds=definite --num-callers=30 --log-file="$T/vg/%p.log" "$PLAIN_POM_PROXY" "\$@"
EOF
chmod +x "$T/vgpp"
REAL_PP=$POM_PROXY
POM_PROXY=$T/vgpp
export PP_TIMEOUT=90

# clean DESC — no valgrind log with anything in it since the last call
clean() {
	local f bad=""
	for f in "$T"/vg/*.log; do
		[ -e "$f" ] || continue
		[ -s "$f" ] && bad="$bad $f"
	done
	if [ -z "$bad" ]; then
		_tap 0 "$1: valgrind found nothing"
	else
		_tap 1 "$1: valgrind found nothing"
		for f in $bad; do diag_file "$f" 40; done
	fi
	mkdir -p "$T/vg-seen"
	mv "$T"/vg/*.log "$T/vg-seen/" 2>/dev/null
	return 0
}
SA=(--pomerium-url "https://localhost:$P2" --alternate-ca-path "$PKI/ca.pem" --service-account-file "$TOK")

# ---------------------------------------------------------------- the tunnel
rm -rf "$CACHE_DIR"
PP_STDIN=$T/ping run_pp -v "${SA[@]}" greet.test:7
is "$RC/$OUT" "0/HELLO-FROM-UPSTREAM"$'\n'"PING" "cold cache: the tunnel works"
like "$ERR" 'anchors decoded from the sources' "  (the trust store was decoded)"
like "$ERR" 'full handshake' "  (a full handshake)"
clean "cold cache"
rm -rf "$CACHE_DIR/sessions"
PP_STDIN=$T/ping run_pp -v "${SA[@]}" greet.test:7
is "$RC/$OUT" "0/HELLO-FROM-UPSTREAM"$'\n'"PING" "cached anchors: the tunnel works"
like "$ERR" 'from the anchor cache' "  (the anchors came from the cache)"
clean "cached anchors"
PP_STDIN=$T/ping run_pp -v "${SA[@]}" greet.test:7
is "$RC/$OUT" "0/HELLO-FROM-UPSTREAM"$'\n'"PING" "resumed session: the tunnel works"
like "$ERR" ', resumed' "  (the session was resumed)"
clean "resumed session"
feed_until "$T/up" "$T/xfer.out" $((2 * 1024 * 1024)) 80 |
	setsid -w timeout -k 5 90 "$POM_PROXY" "${SA[@]}" xfer.test:7 >"$T/xfer.out" 2>"$T/xfer.err"
is "${PIPESTATUS[1]}" 0 "2 MiB each way: exit 0" || diag_file "$T/xfer.err"
is "$(sha "$T/xfer.out")" "$(sha "$T/down")" "2 MiB each way: down intact"
wait_file "$T/up-got" 10
is "$(sha "$T/up-got")" "$(sha "$T/up")" "2 MiB each way: up intact"
clean "2 MiB each way"
start_double --route greet.test:7 "127.0.0.1:$ECHO5" '*' --record-size 1 \
	--connect-head 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nXYZ'
PP_STDIN=$T/ping run_pp --pomerium-url "https://localhost:$DOUBLE_PORT" --alternate-ca-path "$PKI/ca.pem" \
	--service-account-file "$TOK" greet.test:7
is "$RC/$OUT" "0/XYZHELLO-FROM-UPSTREAM"$'\n'"PING" "an answer in 1-byte records after a 100 Continue: the tunnel works"
clean "1-byte records"

# ---------------------------------------------------------------- a sign-in
rm -rf "$CACHE_DIR"
FLEET_TIMEOUT=90 tunnel_echo signin "${PPO[@]}" --browser-cmd "$T/web.sh" --login-timeout 80 echo.test:7
is "$RC/$ECHO" "0/ok" "sign-in through the browser, then the tunnel" || diag "$ERR"
clean "sign-in"

# ---------------------------------------------------------------- the listener
spawn listener "$POM_PROXY" "${SA[@]}" --listen 127.0.0.1:0 greet.test:7
LPID=$LAST_PID
wait_log_line "$T/listener.err" 'listening on' "$LPID" 60 || diag_file "$T/listener.err"
LPORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/listener.err")
for i in 1 2 3; do
	got=$(timeout 60 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=50)
s.sendall(b"PING\n")
b = b""
while True:
    d = s.recv(100)
    if not d:
        break
    b += d
print(b.decode().replace("\n", " ").strip())' "$LPORT")
	is "$got" "HELLO-FROM-UPSTREAM PING" "listener connection $i: the tunnel works"
done
kill -TERM "$LPID"
wait_gone "$LPID" 60
wait "$LPID"
is "$?" 0 "listener: exits 0 on SIGTERM"
# the tunnel processes are forks of the listener: they inherit its list of
# children (kids.pid), never free it, and valgrind calls that definitely lost
kids_leak=$(grep -l 'kids_add' "$T"/vg/*.log 2>/dev/null | wc -l)
is "$kids_leak" 0 "listener: no tunnel process leaks the listener's child list"
for f in $(grep -l 'kids_add' "$T"/vg/*.log 2>/dev/null); do
	# the known leak is the only thing in those logs
	if [ "$(grep -c 'definitely lost in loss record' "$f")" = 1 ] && ! grep -q 'Invalid\|uninitialised\|Mismatched' "$f"; then
		rm -f "$f"
	fi
done
clean "listener"

# ---------------------------------------------------------------- failures
fails() { # WANT DESC ARGS...
	local want=$1 desc=$2
	shift 2
	run_pp --connect-timeout 5 "$@"
	is "$RC" "$want" "$desc: exit $want" || diag "$ERR"
	clean "$desc"
}
fails 10 "404" "${SA[@]}" nowhere.test:7
fails 11 "503" "${SA[@]}" dead.test:7
fails 8 "401 for a service-account token" --pomerium-url "https://localhost:$P2" --alternate-ca-path "$PKI/ca.pem" \
	--service-account-file "$BAD" greet.test:7
fails 7 "certificate not trusted" --pomerium-url "https://localhost:$P2" --service-account-file "$TOK" greet.test:7
fails 5 "connection refused" --pomerium-url "https://localhost:$(closed_port)" --service-account-file "$TOK" greet.test:7
fails 2 "bad arguments" --no-such-option greet.test:7
start_double --silent
fails 13 "no answer within --connect-timeout" --pomerium-url "https://localhost:$DOUBLE_PORT" \
	--alternate-ca-path "$PKI/ca.pem" --service-account-file "$TOK" greet.test:7
start_double --endless-header lines
fails 13 "an endless header" --pomerium-url "https://localhost:$DOUBLE_PORT" \
	--alternate-ca-path "$PKI/ca.pem" --service-account-file "$TOK" greet.test:7
start_double --handshake-alert 40
fails 6 "a TLS alert in the handshake" --pomerium-url "https://localhost:$DOUBLE_PORT" \
	--alternate-ca-path "$PKI/ca.pem" --service-account-file "$TOK" greet.test:7
start_double --route xfer.test:7 "127.0.0.1:$XFER" '*' --close-after-bytes 100000 --close-mode garbage
fails 1 "a TLS error in the open tunnel" --pomerium-url "https://localhost:$DOUBLE_PORT" \
	--alternate-ca-path "$PKI/ca.pem" --service-account-file "$TOK" xfer.test:7
POM_PROXY=$REAL_PP

done_testing
