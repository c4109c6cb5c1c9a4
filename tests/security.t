#!/bin/bash
# security.t — the security review items of issue 7, each with a test:
#   1. a token never appears on stdout or stderr: tunnels (-vv, LOG_LEVEL,
#      every token source), failures of every class (the refused token
#      included), a sign-in, login/status, the listener;
#   2. nor in the memory of a running tunnel (it is wiped once CONNECT is
#      sent): a core of pom-proxy waiting in its splice, taken with gcore,
#      holds no copy for a token from a file, the cache, a sign-in, and in
#      a listener's tunnel process; from --service-account or
#      POM_PROXY_SERVICE_ACCOUNT only the process's own argv/environ copy
#      (that is the warned-about cost of those sources); a core dumped by
#      the kernel (SIGQUIT) holds none either;
#   3. the cache refuses other users' files: a TLS session file (resuming
#      it would skip certificate verification) or an anchor cache owned by
#      someone else is not used and is replaced by one of ours (token files:
#      signin_cache.t; the callback's loopback-and-nonce rules:
#      signin_callback.t);
#   4. --disable-tls-verification warns on every run, the listener too, and
#      never stores a TLS session;
#   5. nothing below TLS 1.2: the ClientHello offers TLS 1.2 and only
#      suites that exist from TLS 1.2 on; a server limited to TLS 1.1 or 1.0,
#      and a ServerHello that picks SSL 3.0 / TLS 1.0 / 1.1, end in exit 6
#      with one line, before any CONNECT.
. "$(dirname "$0")/lib/world.sh"
. "$(dirname "$0")/lib/signin.sh"
watchdog 170
need setsid python3 gcore
signin_world
fake_browser web follow
plain_pom_proxy
TOK=$(token_file alice@example.com)
BOB=$(token_file bob@example.com)
BAD=$(token_file alice@example.com)
python3 -c 'import sys; t = open(sys.argv[1]).read().strip(); open(sys.argv[1], "w").write(t[:-4] + ("AAAA" if t[-4:] != "AAAA" else "BBBB"))' "$BAD"
printf 'HELLO-FROM-UPSTREAM\n' >"$T/greeting"
start_upstream reply --expect 0 --send "$T/greeting"
GREET0=$UPSTREAM_PORT
start_upstream hold
HOLD=$UPSTREAM_PORT
start_double --route greet.test:7 "127.0.0.1:$GREET0" alice@example.com --route hold.test:7 "127.0.0.1:$HOLD" '*' \
	--route dead.test:7 "127.0.0.1:$(closed_port)" '*'
P2=$DOUBLE_PORT
CA=(--alternate-ca-path "$PKI/ca.pem")
OUTS=$T/all-output      # every byte pom-proxy wrote anywhere, for part 1
: >"$OUTS"
keep() { cat "$T/pp.out" "$T/pp.err" >>"$OUTS"; }

# ---------------------------------------------------------------- 1. output
# runs that work
for v in "" -v -vv; do
	run_pp --pomerium-url "https://localhost:$P2" "${CA[@]}" --service-account-file "$TOK" $v greet.test:7
	keep
	is "$RC/$OUT" "0/HELLO-FROM-UPSTREAM" "tunnel ${v:-(no -v)}: works"
done
run_pp --pomerium-url "https://localhost:$P2" "${CA[@]}" --service-account "$(cat "$TOK")" -vv greet.test:7
keep
is "$RC/$OUT" "0/HELLO-FROM-UPSTREAM" "tunnel -vv with --service-account: works"
like "$ERR" 'warning: --service-account puts the token in the process list' "  and warns about the process list"
POM_PROXY_SERVICE_ACCOUNT=$(cat "$TOK") LOG_LEVEL=debug run_pp --pomerium-url "https://localhost:$P2" "${CA[@]}" greet.test:7
keep
is "$RC/$OUT" "0/HELLO-FROM-UPSTREAM" "tunnel with POM_PROXY_SERVICE_ACCOUNT, LOG_LEVEL=debug: works"
like "$ERR" 'token: POM_PROXY_SERVICE_ACCOUNT' "  (at debug level)"
# runs that fail, every class, at -vv
fail_vv() { # WANT_RC DESC ARGS...
	local want=$1 desc=$2
	shift 2
	run_pp -vv --connect-timeout 2 "$@"
	keep
	is "$RC" "$want" "-vv failure: $desc: exit $want" || diag "$ERR"
}
fail_vv 8 "refused token (401)" --pomerium-url "https://localhost:$P2" "${CA[@]}" --service-account-file "$BAD" greet.test:7
fail_vv 9 "403" --pomerium-url "https://localhost:$P2" "${CA[@]}" --service-account-file "$BOB" greet.test:7
fail_vv 10 "404" --pomerium-url "https://localhost:$P2" "${CA[@]}" --service-account-file "$TOK" nowhere.test:7
fail_vv 11 "503" --pomerium-url "https://localhost:$P2" "${CA[@]}" --service-account-file "$TOK" dead.test:7
fail_vv 7 "untrusted certificate" --pomerium-url "https://localhost:$P2" --service-account-file "$TOK" greet.test:7
fail_vv 5 "connection refused" --pomerium-url "https://localhost:$(closed_port)" "${CA[@]}" --service-account-file "$TOK" greet.test:7
start_double --status 500
fail_vv 13 "500" --pomerium-url "https://localhost:$DOUBLE_PORT" "${CA[@]}" --service-account-file "$TOK" greet.test:7
start_double --raw-response 'HTTP/1.1 200 OK\r\nX-Echo: \r\n'
fail_vv 13 "a malformed answer" --pomerium-url "https://localhost:$DOUBLE_PORT" "${CA[@]}" --service-account-file "$TOK" greet.test:7
start_double --silent
fail_vv 13 "no answer (timeout)" --pomerium-url "https://localhost:$DOUBLE_PORT" "${CA[@]}" --service-account-file "$TOK" greet.test:7
start_double --handshake-alert 40
fail_vv 6 "TLS alert" --pomerium-url "https://localhost:$DOUBLE_PORT" "${CA[@]}" --service-account-file "$TOK" greet.test:7
EXPIRED=$(token_file alice@example.com $(($(date +%s) - 60)))
fail_vv 8 "expired token" --pomerium-url "https://localhost:$P2" "${CA[@]}" --service-account-file "$EXPIRED" greet.test:7
# a sign-in, then the cached token, then login/status/logout, all at -vv
tunnel_echo signin -vv "${PPO[@]}" --browser-cmd "$T/web.sh" --login-timeout 30 echo.test:7
cat "$T/signin/0.err" >>"$OUTS"
is "$RC/$ECHO" "0/ok" "-vv sign-in: works" || diag "$ERR"
SIGNED=$(cat "$TOKEN_FILE")
tunnel_echo cached -vv "${PPO[@]}" echo.test:7
cat "$T/cached/0.err" >>"$OUTS"
is "$RC/$ECHO" "0/ok" "-vv with the cached token: works"
setsid -w timeout 30 "$POM_PROXY" login -vv "${PPO[@]}" --browser-cmd "$T/web.sh" "$PROXY_URL" </dev/null >>"$OUTS" 2>&1
is "$?" 0 "login -vv: works"
RELOGGED=$(cat "$TOKEN_FILE")
timeout 10 "$POM_PROXY" status >>"$OUTS" 2>&1
is "$?" 0 "status: works"
# the listener, -vv, one connection
spawn listener "$POM_PROXY" -vv "${PPO[@]}" --listen 127.0.0.1:0 echo.test:7
LPID=$LAST_PID
wait_log_line "$T/listener.err" 'listening on' "$LPID" 15
LPORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/listener.err")
got=$(timeout 20 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
s.sendall(b"ping\n")
print(s.recv(100).decode().strip())' "$LPORT")
is "$got" ping "-vv listener: a connection works"
kill -TERM "$LPID"
wait_gone "$LPID" 15
cat "$T/listener.out" "$T/listener.err" >>"$OUTS"
ok "all that produced diagnostics ($(wc -l <"$OUTS") lines)" test "$(wc -l <"$OUTS")" -gt 100
# no part of any token, anywhere (the header part is the same for every
# token and not secret: the claims and the signature are)
for t in "$(cat "$TOK")" "$(cat "$BOB")" "$(cat "$BAD")" "$(cat "$EXPIRED")" "$SIGNED" "$RELOGGED"; do
	for part in "$(cut -d. -f2 <<<"$t")" "$(cut -d. -f3 <<<"$t")"; do
		nok "no token part in any output (${part:0:10}...)" grep -qaF -- "$part" "$OUTS"
	done
done
nok "  not even a 16-character piece of a signature" grep -qaF -- "$(cut -d. -f3 "$TOK" | cut -c10-25)" "$OUTS"

# ---------------------------------------------------------------- 2. memory
# core_of NAME PID — a core of PID (gcore) in $T/NAME.core
core_of() {
	rm -f "$T/$1.core".*
	timeout 60 gcore -o "$T/$1.core" "$2" >"$T/$1.gcore.log" 2>&1
	mv "$T/$1.core.$2" "$T/$1.core" 2>/dev/null
	test -s "$T/$1.core"
}
# copies FILE TOKEN — how many times the token's signature is in FILE
copies() { grep -aoF -- "$(cut -d. -f3 <<<"$2")" "$1" | wc -l; }

# waiting PIDVAR DEST ARGS... — a pom-proxy (plain build) in its splice,
# stdin an idle fifo; PID in the variable named PIDVAR
idle_stdin
splice_wait() {
	local var=$1 dest=$2 n
	shift 2
	n=$(grep -c "^CONNECT $dest 200" "$P3_LOG")
	"$@" "$dest" <"$IDLE_IN" >"$T/mem.out" 2>"$T/mem.err" &
	printf -v "$var" %s "$!"
	_PIDS+=("$!")
	wait_log_more "^CONNECT $dest 200" "$n" "$P3_LOG"
	sleep 0.2 # past the CONNECT exchange: in the splice
}
start_double --route hold.test:7 "127.0.0.1:$HOLD" '*'
P3=$DOUBLE_PORT
P3_LOG=$DOUBLE_LOG
MEM=(--pomerium-url "https://localhost:$P3" "${CA[@]}")
for how in file env-file cache arg env; do
	case $how in
	file) splice_wait pid hold.test:7 "$PLAIN_POM_PROXY" "${MEM[@]}" --service-account-file "$TOK" ;;
	env-file) POM_PROXY_SERVICE_ACCOUNT_FILE=$TOK splice_wait pid hold.test:7 "$PLAIN_POM_PROXY" "${MEM[@]}" ;;
	cache)
		(umask 077 && mkdir -p "$CACHE_DIR/tokens" && cp "$TOK" "$CACHE_DIR/tokens/localhost:$P3")
		splice_wait pid hold.test:7 "$PLAIN_POM_PROXY" "${MEM[@]}" ;;
	arg) splice_wait pid hold.test:7 "$PLAIN_POM_PROXY" "${MEM[@]}" --service-account "$(cat "$TOK")" ;;
	env) POM_PROXY_SERVICE_ACCOUNT=$(cat "$TOK") splice_wait pid hold.test:7 "$PLAIN_POM_PROXY" "${MEM[@]}" ;;
	esac
	ok "core ($how): gcore of a tunnel in its splice" core_of "$how" "$pid" || diag_file "$T/$how.gcore.log"
	case $how in
	arg | env)
		is "$(copies "$T/$how.core" "$(cat "$TOK")")" 1 "core ($how): only the process's own $how copy of the token" ;;
	*) is "$(copies "$T/$how.core" "$(cat "$TOK")")" 0 "core ($how): no copy of the token in memory" ;;
	esac
	kill -HUP "$pid"
	wait_gone "$pid" 10
	rm -f "$T/$how.core"
done
rm -rf "$CACHE_DIR"
# the control: while the handshake is still going on (the double stalls it)
# the token from the file is held, and a core shows it
start_double --stall-handshake 0
"$PLAIN_POM_PROXY" --pomerium-url "https://localhost:$DOUBLE_PORT" "${CA[@]}" --service-account-file "$TOK" \
	--connect-timeout 60 hold.test:7 <"$IDLE_IN" >/dev/null 2>&1 &
pid=$!
_PIDS+=("$pid")
wait_log_line "$DOUBLE_LOG" '^HANDSHAKE-STALLED' "$pid" 15
ok "core (control): gcore of a pom-proxy still in its handshake" core_of control "$pid"
ok "core (control): the token is there before the CONNECT is sent (this check can see it)" \
	test "$(copies "$T/control.core" "$(cat "$TOK")")" -ge 1
kill -TERM "$pid"
wait_gone "$pid" 10
rm -f "$T/control.core"
# a sign-in, then the splice: the token from the browser is not kept either
n=$(grep -c "^CONNECT echo.test:7 200" "$T/double1.log")
"$PLAIN_POM_PROXY" "${PPO[@]}" --browser-cmd "$T/web.sh" --login-timeout 30 echo.test:7 <"$IDLE_IN" >/dev/null 2>"$T/mem-si.err" &
pid=$!
_PIDS+=("$pid")
wait_log_more "^CONNECT echo.test:7 200" "$n" "$T/double1.log" 30
sleep 0.2
ok "core (sign-in): gcore of a tunnel in its splice after a sign-in" core_of signin "$pid"
is "$(copies "$T/signin.core" "$(cat "$TOKEN_FILE")")" 0 "core (sign-in): no copy of the fresh token in memory"
kill -HUP "$pid"
wait_gone "$pid" 10
rm -f "$T/signin.core"
# a listener: neither the listener nor a tunnel process holds the token
spawn mem-listener "$PLAIN_POM_PROXY" "${MEM[@]}" --service-account-file "$TOK" --listen 127.0.0.1:0 hold.test:7
LPID=$LAST_PID
wait_log_line "$T/mem-listener.err" 'listening on' "$LPID" 15
LPORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/mem-listener.err")
n=$(grep -c "^CONNECT hold.test:7 200" "$P3_LOG")
python3 -c 'import socket, sys, time; s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); time.sleep(60)' "$LPORT" &
CLIENT=$!
_PIDS+=("$CLIENT")
wait_log_more "^CONNECT hold.test:7 200" "$n" "$P3_LOG"
sleep 0.2
kid=$(ps -o pid= --ppid "$LPID" | tr -d ' ' | head -n 1)
ok "core (listener tunnel): gcore of the tunnel process" core_of lkid "$kid"
is "$(copies "$T/lkid.core" "$(cat "$TOK")")" 0 "core (listener tunnel): no copy of the token"
ok "core (listener): gcore of the listener" core_of lparent "$LPID"
is "$(copies "$T/lparent.core" "$(cat "$TOK")")" 0 "core (listener): no copy of the token"
rm -f "$T/lkid.core" "$T/lparent.core"
kill "$CLIENT"
kill -TERM "$LPID"
wait_gone "$LPID" 15
# a core dumped by the kernel, when core_pattern writes a file we can find
pattern=$(cat /proc/sys/kernel/core_pattern)
if [[ $pattern == core* ]]; then
	mkdir -p "$T/cwd"
	n=$(grep -c "^CONNECT hold.test:7 200" "$P3_LOG")
	(
		ulimit -c unlimited
		cd "$T/cwd" && exec "$PLAIN_POM_PROXY" "${MEM[@]}" --service-account-file "$TOK" hold.test:7 <"$IDLE_IN" >/dev/null 2>&1
	) &
	pid=$!
	_PIDS+=("$pid")
	wait_log_more "^CONNECT hold.test:7 200" "$n" "$P3_LOG"
	sleep 0.2
	kill -QUIT "$pid"
	wait "$pid" 2>/dev/null
	is "$?" 131 "SIGQUIT in the splice: a core dump (exit 131)"
	core=$(ls "$T/cwd"/core* 2>/dev/null | head -n 1)
	ok "  the kernel wrote it (core_pattern '$pattern')" test -s "$core"
	is "$(copies "${core:-/dev/null}" "$(cat "$TOK")")" 0 "  no copy of the token in it"
	rm -f "$T/cwd"/core*
else
	note "core_pattern is '$pattern' (not a file in the cwd): the gcore cores above stand for it"
fi

# ---------------------------------------------------------------- 3. other users' files
V=(-v --pomerium-url "https://localhost:$P2" "${CA[@]}" --service-account-file "$TOK")
rm -rf "$CACHE_DIR"
run_pp "${V[@]}" greet.test:7
run_pp "${V[@]}" greet.test:7
like "$ERR" 'resumed' "a TLS session is resumed from our own session file"
SESS=$CACHE_DIR/sessions/localhost:$P2
chown nobody "$SESS" || bail "cannot chown (run as root)"
run_pp "${V[@]}" greet.test:7
is "$RC/$OUT" "0/HELLO-FROM-UPSTREAM" "a session file owned by nobody: the tunnel works"
like "$ERR" 'full handshake' "  with a full, verified handshake: the foreign session is not resumed"
is "$(stat -c %U "$SESS")/$(stat -c %a "$SESS")" "$(id -un)/600" "  and the file is replaced by one of ours"
rm -rf "$CACHE_DIR/sessions"
ANCH=$(ls "$CACHE_DIR"/anchors-* | head -n 1)
chown nobody "$ANCH"
run_pp "${V[@]}" greet.test:7
is "$RC/$OUT" "0/HELLO-FROM-UPSTREAM" "an anchor cache owned by nobody: the tunnel works"
like "$ERR" 'anchors decoded from the sources' "  with anchors decoded from the sources, not from that file"
is "$(stat -c %U "$ANCH")/$(stat -c %a "$ANCH")" "$(id -un)/600" "  and the file is replaced by one of ours"
rm -rf "$CACHE_DIR/sessions"
chmod 644 "$ANCH"
run_pp "${V[@]}" greet.test:7
like "$ERR" 'anchors decoded from the sources' "an anchor cache others can read or write (0644): not used"

# ---------------------------------------------------------------- 4. --disable-tls-verification
start_double --cert "$PKI/untrusted.pem" --key "$PKI/untrusted.key" --route greet.test:7 "127.0.0.1:$GREET0" '*'
rm -rf "$CACHE_DIR"
for i in 1 2 3; do
	run_pp --pomerium-url "https://localhost:$DOUBLE_PORT" --disable-tls-verification --service-account-file "$TOK" greet.test:7
	is "$RC/$OUT" "0/HELLO-FROM-UPSTREAM" "--disable-tls-verification run $i: an untrusted certificate is accepted"
	is "$(grep -c 'disable-tls-verification.*NOT verified' <<<"$ERR")" 1 "--disable-tls-verification run $i: the warning, once"
done
nok "--disable-tls-verification: no TLS session was stored" test -e "$CACHE_DIR/sessions/localhost:$DOUBLE_PORT"
run_pp --pomerium-url "https://localhost:$DOUBLE_PORT" --disable-tls-verification --service-account-file "$TOK" nowhere.test:7
is "$RC/$(grep -c 'NOT verified' <<<"$ERR")" "10/1" "--disable-tls-verification, a failing run: warned too"
spawn insecure-listener "$POM_PROXY" --pomerium-url "https://localhost:$DOUBLE_PORT" --disable-tls-verification \
	--service-account-file "$TOK" --listen 127.0.0.1:0 greet.test:7
wait_log_line "$T/insecure-listener.err" 'listening on' "$LAST_PID" 15
like "$(cat "$T/insecure-listener.err")" 'disable-tls-verification.*NOT verified' "--disable-tls-verification: the listener warns too"
kill -TERM "$LAST_PID"

# ---------------------------------------------------------------- 5. nothing below TLS 1.2
start_double --hello-version 1.1
run_pp --pomerium-url "https://localhost:$DOUBLE_PORT" "${CA[@]}" --service-account-file "$TOK" greet.test:7
hello=$(grep '^CLIENT-HELLO' "$DOUBLE_LOG")
like "$hello" ' version=0x0303 ' "the ClientHello offers TLS 1.2 at most ($hello)"
like "$hello" ' supported_versions=(-|0x0303) ?$' "  and no other version in supported_versions"
like "$hello" ' suites=((c02b|c02c|c02f|c030|cca8|cca9|009c|009d|009e|009f|c09c|c09d|c0ac|c0ad),?)+ ' \
	"  and only AEAD suites, which no TLS below 1.2 can use"
for v in ssl3 1.0 1.1; do
	start_double --hello-version "$v"
	run_pp --pomerium-url "https://localhost:$DOUBLE_PORT" "${CA[@]}" --service-account-file "$TOK" greet.test:7
	expect_failure 6 'tls 1\.2' "a ServerHello that picks $v"
	is "$(grep -c '1\.3-only' <<<"$ERR")" 0 "  the message does not blame TLS 1.3 for a server that picked $v"
done
for v in 1.0 1.1; do
	start_double --tls-max "$v" --route greet.test:7 "127.0.0.1:$GREET0" '*'
	run_pp --pomerium-url "https://localhost:$DOUBLE_PORT" "${CA[@]}" --service-account-file "$TOK" greet.test:7
	expect_failure 6 'handshake_failure' "a proxy that speaks at most TLS $v"
	is "$(grep -c '^CONNECT' "$DOUBLE_LOG")/$(grep -c '^HANDSHAKE-FAILED' "$DOUBLE_LOG")" "0/1" "  no CONNECT: the handshake failed"
	is "$(grep -ciE 'tls (version|1\.[01])|older than tls 1\.2|below tls 1\.2' <<<"$ERR")" 1 \
		"  the message says the proxy may speak only an old TLS version"
done

done_testing
