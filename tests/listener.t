#!/bin/bash
# Listener mode: many concurrent real ssh sessions through one listener,
# a refused connection that does not stop it, and a clean shutdown on
# SIGTERM (open tunnels end first; a second signal ends them) with no
# process left behind.
. "$(dirname "$0")/lib/world.sh"
watchdog 240
pom_built
pki
start_sshd "MaxStartups 200" "MaxSessions 200"
start_double --route "ssh.corp.test:22" "127.0.0.1:$SSHD_PORT" 'alice@example.com' \
	--route "bob.corp.test:22" "127.0.0.1:$SSHD_PORT" 'bob@example.com'
TOKFILE=$T/token
mint_token alice@example.com >"$TOKFILE"

# start_listener NAME [tcp] ARGS... — pom-proxy listening; sets LPID and LPORT
start_listener() {
	local name=$1 i sub=()
	shift
	[ "$1" = tcp ] && { sub=(tcp); shift; }
	spawn "$name" "$POM_PROXY" "${sub[@]}" --pomerium-url "https://localhost:$DOUBLE_PORT" \
		--alternate-ca-path "$PKI/ca.pem" --service-account-file "$TOKFILE" "$@"
	LPID=$LAST_PID
	LPORT=
	for i in $(seq 100); do
		LPORT=$(sed -n 's/^pom-proxy: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/$name.err")
		[ -n "$LPORT" ] && break
		sleep 0.1
	done
	[ -n "$LPORT" ] || { diag_file "$T/$name.err"; bail "listener did not start"; }
}

# direct_ssh PORT ARGS... — ssh to the listener (no ProxyCommand)
direct_ssh() {
	local port=$1
	shift
	_ssh_opts none
	setsid -w timeout -k 5 60 ssh "${SSH_OPTS[@]}" -p "$port" "$SSH_USER@127.0.0.1" "$@" </dev/null
}

start_listener l1 --listen 127.0.0.1:0 ssh.corp.test:22
ok "listener announces its port" [ -n "$LPORT" ]

N=24
SSHPIDS=()
for i in $(seq $N); do
	direct_ssh "$LPORT" "echo session-$i; sleep 1" >"$T/s$i.out" 2>"$T/s$i.err" &
	SSHPIDS+=($!)
done
wait "${SSHPIDS[@]}"
good=0
for i in $(seq $N); do [ "$(cat "$T/s$i.out")" = "session-$i" ] && good=$((good + 1)); done
is "$good" "$N" "$N concurrent ssh sessions through one listener all ran their command"
is "$(count_log "^CONNECT ssh.corp.test:22 200")" "$N" "one tunnel (CONNECT) per connection"
ok "the listener is still running" alive "$LPID"

# a refused route does not stop the listener; it serves the next connection
start_listener l2 --listen :0 bob.corp.test:22
direct_ssh "$LPORT" "echo never" >"$T/denied.out" 2>"$T/denied.err"
nok "ssh through a route that denies alice fails" [ "$(cat "$T/denied.out")" = never ]
like "$(cat "$T/l2.err")" "access denied: .*bob.corp.test:22 \\(403 Forbidden\\)" \
	"the listener says why (403)"
ok "the listener survives the refused connection" alive "$LPID"
mint_token bob@example.com >"$TOKFILE"
is "$(direct_ssh "$LPORT" "echo welcome bob" 2>/dev/null)" "welcome bob" \
	"the same listener serves the next connection (token file reread)"
mint_token alice@example.com >"$TOKFILE"

# tunnel_up N — until the double has logged more than N tunnels to the sshd
# (a connection is open through the listener), then a moment for ssh to
# start its remote command
tunnel_up() {
	wait_log_more '^CONNECT ssh\.corp\.test:22 200' "$1" "$DOUBLE_LOG" 30 ||
		diag "no tunnel opened within 30 s"
	sleep 0.5
}

# SIGTERM: stop accepting, let the open tunnel finish, then exit
start_listener l3 --listen 127.0.0.1:0 ssh.corp.test:22
n=$(count_log '^CONNECT ssh\.corp\.test:22 200')
direct_ssh "$LPORT" "sleep 2; echo finished" >"$T/long.out" 2>/dev/null &
SSHPID=$!
tunnel_up "$n"
L3KIDS=$(descendants "$LPID")
kill -TERM "$LPID"
wait_log_line "$T/l3.err" 'stopping: waiting' "$LPID" 10
nok "after SIGTERM no new connection is accepted" \
	timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$LPORT" 2>/dev/null
wait "$SSHPID"
is "$(cat "$T/long.out")" "finished" "the open session completed after SIGTERM"
ok "the listener exits once its tunnels ended" wait_gone "$LPID" 10
like "$(cat "$T/l3.err")" "stopping: waiting for 1 open tunnel" "it said it was waiting"
left=0
for c in $L3KIDS; do alive "$c" && left=$((left + 1)); done
is "$left" 0 "no pom-proxy process left"

# a second signal ends open tunnels now
start_listener l4 --listen 127.0.0.1:0 ssh.corp.test:22
# the remote command waits on its stdin, which sshd closes when the
# connection goes (a plain remote sleep would outlive the test)
idle_stdin
_ssh_opts none
n=$(count_log '^CONNECT ssh\.corp\.test:22 200')
setsid -w timeout -k 5 60 ssh "${SSH_OPTS[@]}" -p "$LPORT" "$SSH_USER@127.0.0.1" \
	"cat >/dev/null; echo too-late" <"$IDLE_IN" >"$T/cut.out" 2>/dev/null &
SSHPID=$!
tunnel_up "$n"
CHILDREN=$(descendants "$LPID")
ok "a tunnel process serves the open session" [ -n "$CHILDREN" ]
kill -TERM "$LPID"
# the second signal only after the first was taken (two pending ones are one)
wait_log_line "$T/l4.err" 'stopping: waiting' "$LPID" 10
kill -TERM "$LPID"
ok "a second SIGTERM ends the listener promptly" wait_gone "$LPID" 10
gone=1
for c in $CHILDREN; do alive "$c" && gone=0; done
is "$gone" 1 "no orphaned tunnel process"
ok "the cut ssh session ended too" wait_gone "$SSHPID" 10
nok "  without finishing its command" grep -q too-late "$T/cut.out"

# pom-proxy tcp DEST listens on a free loopback port by itself
start_listener l5 tcp ssh.corp.test:22
like "$(cat "$T/l5.err")" "listening on 127\\.0\\.0\\.1:[0-9]+" "'pom-proxy tcp DEST' picks a free loopback port"
is "$(direct_ssh "$LPORT" "echo via tcp" 2>/dev/null)" "via tcp" "  and serves it"
kill -TERM "$LPID"

# a non-loopback address is warned about (this one cannot be bound here)
run_pp --pomerium-url "https://localhost:$DOUBLE_PORT" --listen 192.0.2.1:0 ssh.corp.test:22
like "$ERR" "reachable from other machines" "a non-loopback --listen is warned about"
is "$RC" 3 "  and failing to bind it is a local error (3)"
run_pp --listen nonsense ssh.corp.test:22
is "$RC" 2 "a malformed --listen is a usage error"
done_testing
