#!/bin/bash
# signin_detach.t — a sign-in that survives ssh's clock (issue 11). ssh
# counts the ProxyCommand against ConnectTimeout and sends it SIGHUP when
# it gives up; the sign-in then goes on in a detached process until the
# browser comes back or --login-timeout passes:
#   - real ssh with ConnectTimeout=3 and a browser that completes the
#     sign-in 8 s after it was opened: the first ssh fails, a second one
#     started during the sign-in opens no browser, a third one afterwards
#     connects; one sign-in reaches the double, the browser opened once,
#     and its page says the next connection will use it;
#   - SIGINT to the process group abandons at once: no token, the callback
#     closed, nothing left running;
#   - a detached sign-in never lives past --login-timeout;
#   - 50 parallel cold starts whose leader gets SIGHUP mid-sign-in: one
#     browser, one sign-in, every other tunnel succeeds once it returns;
#   - `ssh-config --sign-in-first`: ssh -G accepts it, and a real ssh whose
#     ConnectTimeout is shorter than the sign-in gets through, the sign-in
#     having run while ssh read its configuration.
. "$(dirname "$0")/lib/world.sh"
. "$(dirname "$0")/lib/signin.sh"
watchdog 400
start_sshd
signin_world --route ssh.corp.test:22 "127.0.0.1:$SSHD_PORT" '*'
logins() { nlog '^GET /\.pomerium/api/v1/login '; }
signins() { nlog '^GET /\.pomerium/sign_in '; }

# ssh_ct SECS CONFIG-ARGS... — a real ssh to ssh.corp.test with
# ConnectTimeout=SECS and the rest of its options from the arguments;
# prints the remote "echo ok"
ssh_ct() {
	local secs=$1
	shift
	setsid -w timeout -k 5 60 ssh "$@" -i "$USER_KEY" -o IdentitiesOnly=yes -o IdentityAgent=none \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile="$KNOWN_HOSTS" -o BatchMode=yes \
		-o ConnectTimeout="$secs" -o LogLevel=ERROR "$SSH_USER@ssh.corp.test" 'echo ok' </dev/null
}
# processes with this test's proxy URL in their command line (pom-proxy,
# a detached sign-in, a browser following its URL)
leftovers() { pgrep -f -- "$PROXY_URL" || true; }
# wait_gone_all SECS — until none is left
wait_gone_all() {
	local i=0
	while [ -n "$(leftovers)" ]; do
		if [ $i -ge $(($1 * 10)) ]; then
			diag "left running: $(leftovers | xargs -r ps -o pid=,args= -p)"
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}
idle_stdin
# listen_ports PID — the TCP ports PID listens on (its sockets' inodes
# looked up in /proc/net/tcp and tcp6)
listen_ports() {
	python3 - "$1" <<'EOF'
import os, sys
pid = sys.argv[1]
inodes = set()
for fd in os.listdir("/proc/%s/fd" % pid):
    try:
        t = os.readlink("/proc/%s/fd/%s" % (pid, fd))
    except OSError:
        continue
    if t.startswith("socket:["):
        inodes.add(t[8:-1])
for f in ("/proc/net/tcp", "/proc/net/tcp6"):
    for line in open(f).readlines()[1:]:
        c = line.split()
        if c[3] == "0A" and c[9] in inodes:
            print(int(c[1].rsplit(":", 1)[1], 16))
EOF
}

# ---------------------------------------------------------------- 1. ssh's ConnectTimeout
fake_browser web delay 8
PC="$POM_PROXY ${PPO[*]} --browser-cmd $T/web.sh %h:%p"
l0=$(logins)
s0=$(signins)
t0=$SECONDS
out=$(ssh_ct 3 -F /dev/null -o ProxyCommand="$PC" 2>"$T/ssh1.err")
rc=$?
nok "ssh 1 (ConnectTimeout=3, sign-in needs 8 s): fails" test "$rc" = 0
note "ssh 1: exit $rc after $((SECONDS - t0)) s: $(tr '\n' ' ' <"$T/ssh1.err")"
like "$(cat "$T/ssh1.err")" 'sign-in .* goes on in the background' \
	"  pom-proxy said the sign-in goes on in the background"
is "$(wc -l <"$T/web.urls")" 1 "  the browser was opened once"
out=$(ssh_ct 3 -F /dev/null -o ProxyCommand="$PC" 2>"$T/ssh2.err")
like "$(cat "$T/ssh2.err")" "a sign-in to $AUTH is in progress in another pom-proxy" \
	"ssh 2, during the sign-in: pom-proxy says a sign-in is in progress"
like "$(cat "$T/ssh2.err")" "sign in to $AUTH: open https://" "  with its URL"
is "$(wc -l <"$T/web.urls")" 1 "  and opens no browser"
ok "the detached sign-in stores the token once the browser is back" wait_file "$TOKEN_FILE" 20
out=$(ssh_ct 3 -F /dev/null -o ProxyCommand="$PC" 2>"$T/ssh3.err")
is "$out" ok "ssh 3, afterwards: connects on the stored token" || diag_file "$T/ssh3.err"
is "$(($(logins) - l0))/$(($(signins) - s0))" 1/1 "the double saw one login API request, one sign-in"
is "$(wc -l <"$T/web.urls")" 1 "the browser was opened once in all"
like "$(cat "$T/web.page" 2>/dev/null)" 'the next one will use it' \
	"the browser's page says the next connection will use it"
ok "nothing of the sign-in is left running" wait_gone_all 10

# ---------------------------------------------------------------- 2. SIGINT to the process group
rm -f "$TOKEN_FILE"
fake_browser rec record
setsid "$POM_PROXY" "${PPO[@]}" --browser-cmd "$T/rec.sh" echo.test:7 \
	<"$IDLE_IN" >/dev/null 2>"$T/int.err" &
INT_PID=$!
_PIDS+=("$INT_PID")
ok "a sign-in starts (the browser got its URL)" wait_file "$T/rec.urls" 15
port=$(listen_ports "$INT_PID")
ok "  its callback listens (port ${port:-none})" test -n "$port"
kill -INT -- "-$INT_PID"
ok "SIGINT to the process group: pom-proxy ends" wait_gone "$INT_PID" 5
wait "$INT_PID"
is "$?" 8 "  with exit 8"
like "$(cat "$T/int.err")" 'was abandoned' "  saying the sign-in was abandoned"
nok "  no token is stored" test -e "$TOKEN_FILE"
nok "  the callback is closed" quiet python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)' "${port:-1}"
ok "  nothing of it is left running" wait_gone_all 5

# ---------------------------------------------------------------- 3. --login-timeout bounds a detached sign-in
: >"$T/rec.urls"
setsid "$POM_PROXY" "${PPO[@]}" --browser-cmd "$T/rec.sh" --login-timeout 4 echo.test:7 \
	<"$IDLE_IN" >/dev/null 2>"$T/to.err" &
TO_PID=$!
_PIDS+=("$TO_PID")
wait_file "$T/rec.urls" 15
t0=$SECONDS
kill -HUP "$TO_PID"
wait_gone "$TO_PID" 5
wait "$TO_PID"
is "$?" 8 "SIGHUP to the leader: it exits 8"
child=$(sed -n 's/.*background (process \([0-9]*\),.*/\1/p' "$T/to.err")
ok "  naming the background process" test -n "$child"
ok "  which is running" alive "${child:-0}"
ok "  and is gone by --login-timeout (4 s) and a second" wait_gone "${child:-0}" 6
note "the detached sign-in ended $((SECONDS - t0)) s after the SIGHUP"
nok "  no token" test -e "$TOKEN_FILE"
grep -q 'did not finish within 4 s' "$CACHE_DIR/logins/$AUTH.state"
is "$?" 0 "  its state says it timed out"
ok "  nothing of it is left running" wait_gone_all 5

# ---------------------------------------------------------------- 4. 50 cold starts, the leader hung up on
N=50
export FLEET_TIMEOUT=90
# the browser follows its URL once the test says so
fake_browser gate wait-file "$T/gate.go"
t0=$SECONDS
l0=$(logins)
s0=$(signins)
fleet_bg $N cold --browser-cmd "$T/gate.sh" "${PPO[@]}" echo.test:7
# the 49 waiters say so as soon as they find the lock; the leader names its
# URL only after the login API answered, which under 50 starting processes
# can come later: wait for both
leaders() { grep -lE "^pom-proxy: sign in to $AUTH: open https://\S+$" "$T/cold"/*.err 2>/dev/null; }
waiters() { grep -l "is in progress in another pom-proxy" "$T/cold"/*.err 2>/dev/null; }
until [ "$(leaders | wc -l)" -ge 1 ] && [ "$(waiters | wc -l)" -ge $((N - 1)) ]; do
	sleep 0.2
	[ $((SECONDS - t0)) -lt 120 ] || break
done
leader=$(leaders | head -n 1)
is "$(leaders | wc -l)/$(waiters | wc -l)" "1/$((N - 1))" "50 at once: one leader, 49 waiting"
lpid=$(cat "${leader%.err}.pid" 2>/dev/null)
# never `kill 0`: without a leader that would hang up on the whole suite
[ -n "$lpid" ] && kill -HUP "$lpid"
ok "  the leader, sent SIGHUP, leaves" wait_gone "${lpid:-0}" 5
touch "$T/gate.go"
wait "$FLEET_PID"
is "$(fleet_count cold echo ok)" $((N - 1)) "  once the browser returns, the 49 others tunnel"
is "$(cat "${leader%.err}.rc")" 8 "  the leader itself exited 8"
is "$(($(logins) - l0))/$(($(signins) - s0))" 1/1 "  one login API request, one sign-in"
is "$(wc -l <"$T/gate.urls")" 1 "  the browser was opened once"

# ---------------------------------------------------------------- 5. ssh-config --sign-in-first
rm -f "$TOKEN_FILE"
fake_browser first delay 5
"$POM_PROXY" ssh-config --sign-in-first "${PPO[@]}" --browser-cmd "$T/first.sh" ssh.corp.test \
	>"$T/first.conf" 2>/dev/null
is "$?" 0 "ssh-config --sign-in-first: exit 0"
like "$(head -n 1 "$T/first.conf")" '^Match host ssh\.corp\.test exec ".* login --if-needed .*https://localhost:[0-9]+"$' \
	"  its first line is a Match ... exec \"pom-proxy login --if-needed ...\"" || diag_file "$T/first.conf"
t0=$SECONDS
out=$(ssh_ct 3 -F "$T/first.conf" 2>"$T/first.err")
is "$out" ok "a real ssh with ConnectTimeout=3, the sign-in taking 5 s: gets through" ||
	diag_file "$T/first.err"
ok "  the sign-in took longer than ssh's ConnectTimeout" test $((SECONDS - t0)) -ge 4
is "$(wc -l <"$T/first.urls")" 1 "  one browser"
t0=$(date +%s%N)
pc=$(ssh -G -F "$T/first.conf" ssh.corp.test 2>"$T/G.err" | sed -n 's/^proxycommand //p')
like "$pc" "--pomerium-url $PROXY_URL" "ssh -G reads the block (with the token cached, at once)" ||
	diag_file "$T/G.err"
note "ssh -G with the exec took $((($(date +%s%N) - t0) / 1000000)) ms"
is "$(wc -l <"$T/first.urls")" 1 "  and opens no browser"

done_testing
