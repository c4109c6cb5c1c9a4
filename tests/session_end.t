#!/bin/bash
# session_end.t — pom-proxy goes away when its session ends, whoever ends
# it: ssh (normally, by SIGTERM, by SIGKILL), the proxy (with or without a
# TLS close_notify), a signal while idle; and a stdin EOF does not cut off
# what the proxy is still sending.
. "$(dirname "$0")/lib/world.sh"
watchdog 300
need ssh setsid python3
pom_built
pki
start_sshd
TOK=$(token_file alice@example.com)
printf 'HELLO-FROM-UPSTREAM\n' >"$T/greeting"
start_upstream echo --send "$T/greeting"
ECHO=$UPSTREAM_PORT
start_double --route ssh.corp.test:22 127.0.0.1:$SSHD_PORT '*' --route echo.test:7 127.0.0.1:$ECHO '*'
P=$DOUBLE_PORT
MAIN_LOG=$DOUBLE_LOG

# A ProxyCommand wrapper that records pom-proxy's pid (exec keeps the pid).
cat >"$T/pp-wrap.sh" <<EOF
#!/bin/sh
echo \$\$ >"$T/pp.pid"
exec "$POM_PROXY" --pomerium-url "https://localhost:\$PP_PORT" --alternate-ca-path "$PKI/ca.pem" \\
	--service-account-file "$TOK" "\$@"
EOF
chmod +x "$T/pp-wrap.sh"
export PP_PORT=$P
PC="$T/pp-wrap.sh %h:%p"

# pp_pid — the pid of the pom-proxy ssh started last
pp_pid() { wait_file "$T/pp.pid" 20 && cat "$T/pp.pid"; }

# gone DESC PID — PID (pom-proxy) ends within 15 s
gone() {
	if wait_gone "$2" 15; then
		_tap 0 "$1"
	else
		_tap 1 "$1"
		diag "$(ps -o pid,stat,args -p "$2")"
		kill -KILL "$2" 2>/dev/null
	fi
}

# --- ssh ends ------------------------------------------------------------------------
rm -f "$T/pp.pid"
out=$(ssh_via "$PC" ssh.corp.test 'echo done' </dev/null 2>"$T/ssh.err")
is "$out" done "ssh ran its command"
pid=$(pp_pid)
gone "ssh exits normally: pom-proxy is gone" "$pid"
ok "the double saw the tunnel end" wait_log_more '^END ssh.corp.test:22 ' 0 "$MAIN_LOG" 15

for sig in TERM KILL; do
	rm -f "$T/pp.pid"
	n=$(count_log '^END ssh.corp.test:22 ' "$MAIN_LOG")
	c=$(count_log '^CONNECT ssh.corp.test:22 200' "$MAIN_LOG")
	_ssh_opts "$PC"
	# an idle session whose remote command ends when the connection does
	idle_stdin
	setsid ssh "${SSH_OPTS[@]}" "$SSH_USER@ssh.corp.test" 'cat >/dev/null' <"$IDLE_IN" >/dev/null 2>&1 &
	spid=$!
	_PIDS+=("$spid")
	pid=$(pp_pid)
	# this session's tunnel is open, and ssh past its handshake
	wait_log_more '^CONNECT ssh.corp.test:22 200' "$c" "$MAIN_LOG" 15
	sleep 1
	kill -s $sig "$spid"
	wait "$spid" 2>/dev/null
	gone "ssh killed by SIG$sig while idle: pom-proxy is gone" "$pid"
	wait_log_more '^END ssh.corp.test:22 ' "$n" "$MAIN_LOG"
	is "$(count_log '^END ssh.corp.test:22 ' "$MAIN_LOG")" $((n + 1)) "ssh killed by SIG$sig: the tunnel to the proxy was closed"
done

# --- the proxy ends the session ----------------------------------------------------------
for mode in notify abrupt; do
	start_double --close-after 2 --close-mode $mode --route ssh.corp.test:22 127.0.0.1:$SSHD_PORT '*'
	export PP_PORT=$DOUBLE_PORT
	rm -f "$T/pp.pid"
	idle_stdin
	ssh_via "$PC" ssh.corp.test 'cat >/dev/null' <"$IDLE_IN" >/dev/null 2>"$T/ssh.err"
	rc=$?
	is "$rc" 255 "the proxy closes ($mode): ssh ends (connection lost) instead of hanging"
	gone "the proxy closes ($mode): pom-proxy is gone" "$(pp_pid)"
	unlike "$(cat "$T/ssh.err")" 'pom-proxy: .*(broke|error)' "the proxy closes ($mode): pom-proxy reports no error"
done
export PP_PORT=$P

# and without ssh: stdin stays open, the proxy ends the tunnel
for mode in notify abrupt; do
	start_double --close-after 1 --close-mode $mode --route echo.test:7 127.0.0.1:$ECHO '*'
	feed_until /dev/null /dev/null 1 60 |
		setsid -w timeout -k 5 30 "$POM_PROXY" --pomerium-url "https://localhost:$DOUBLE_PORT" \
			--alternate-ca-path "$PKI/ca.pem" --service-account-file "$TOK" echo.test:7 \
			>"$T/close.out" 2>"$T/close.err"
	st=("${PIPESTATUS[@]}")
	is "${st[1]}" 0 "the proxy closes ($mode) while stdin is open: pom-proxy exits 0"
	is "$(cat "$T/close.out")" "HELLO-FROM-UPSTREAM" "the proxy closes ($mode): what came before was delivered"
done

# --- signals while idle ---------------------------------------------------------------------
for sig in HUP TERM; do
	n=$(count_log '^END echo.test:7 ' "$MAIN_LOG")
	rm -f "$T/idle.out"
	idle_stdin
	"$POM_PROXY" --pomerium-url "https://localhost:$P" --alternate-ca-path "$PKI/ca.pem" \
		--service-account-file "$TOK" echo.test:7 <"$IDLE_IN" >"$T/idle.out" 2>"$T/idle.err" &
	pid=$!
	_PIDS+=("$pid")
	wait_file "$T/idle.out" 15
	is "$(cat "$T/idle.out")" "HELLO-FROM-UPSTREAM" "SIG$sig: the tunnel is open and idle"
	kill -s $sig "$pid"
	gone "SIG$sig while idle: pom-proxy exits" "$pid"
	wait "$pid"
	rc=$?
	[ $sig = HUP ] && is "$rc" 0 "SIGHUP (ssh going away) is a normal end: exit 0"
	[ $sig = TERM ] && like "$rc" '^(0|143)$' "SIGTERM: exit 0 or 143 (got $rc)"
	[ $sig = HUP ] && is "$(cat "$T/idle.err")" "" "SIGHUP: nothing on stderr"
	wait_log_more '^END echo.test:7 ' "$n" "$MAIN_LOG"
	is "$(count_log '^END echo.test:7 ' "$MAIN_LOG")" $((n + 1)) "SIG$sig: the connection to the proxy was closed"
done

# --- stdin EOF does not drop what the proxy still sends -----------------------------------------
# The upstream reads the 7-byte request, answers 1 MiB a second later and
# closes. pom-proxy's stdin is at EOF long before (pom-proxy does not pass
# the EOF on: see proxycmd/splice.h).
head -c $((1024 * 1024)) /dev/urandom >"$T/reply"
start_upstream reply --expect 7 --delay 1 --send "$T/reply"
start_double --route reply.test:7 127.0.0.1:$UPSTREAM_PORT '*'
printf 'request' >"$T/request"
PP_STDIN=$T/request run_pp --pomerium-url "https://localhost:$DOUBLE_PORT" --alternate-ca-path "$PKI/ca.pem" \
	--service-account-file "$TOK" reply.test:7
is "$RC" 0 "stdin EOF, then a 1 MiB reply: pom-proxy exits 0" || diag "$ERR"
is "$(sha "$T/pp.out")" "$(sha "$T/reply")" "stdin EOF: the whole reply that came after it arrived"
wait_log_more '^END reply.test:7 ' 0 "$DOUBLE_LOG" 15
like "$(grep '^END' "$DOUBLE_LOG")" ' up=7 down=1048576' "the double relayed the 7-byte request and the whole reply"

done_testing
