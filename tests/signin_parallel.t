#!/bin/bash
# signin_parallel.t — one sign-in for many processes. 50 pom-proxy
# processes start at once with an empty cache, each tunnels to an echo
# upstream and checks its own reply: exactly one sign-in reaches the double
# (one login API request, one sign-in), the others say a sign-in is in
# progress (with its URL), wait, and use the stored token. Then abandoned
# sign-ins: SIGINT to the leader, the leader's --login-timeout, the leader
# killed with SIGKILL: every waiter fails with exit 8 and the leader's
# message, none starts a sign-in of its own, and a process started
# afterwards may sign in again (the lock is never stale).
. "$(dirname "$0")/lib/world.sh"
. "$(dirname "$0")/lib/signin.sh"
watchdog 300
signin_world
N=50
export FLEET_TIMEOUT=90
logins() { nlog '^GET /\.pomerium/api/v1/login '; }
signins() { nlog '^GET /\.pomerium/sign_in '; }
# files in DIR whose stderr has the leader's line (the URL without the
# waiter's "(if no browser appeared)")
leaders() { grep -lE "^pom-proxy: sign in to $AUTH: open https://\S+$" "$T/$1"/*.err 2>/dev/null; }
waiters() { grep -l "a sign-in to $AUTH is in progress in another pom-proxy; waiting for it" "$T/$1"/*.err 2>/dev/null; }
# the last stderr line of each process of DIR, "(in another pom-proxy)" removed
last_lines() {
	local f
	for f in "$T/$1"/*.err; do tail -n 1 "$f"; done | sed 's/ (in another pom-proxy)$//' | sort | uniq -c
}
# wait_count SECS CMD... — until CMD prints a number >= WANT (global WANT)
wait_count() {
	local secs=$1 i=0
	shift
	until [ "$("$@" | wc -l)" -ge "$WANT" ]; do
		[ $i -ge $((secs * 10)) ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

# ---------------------------------------------------------------- 50 at once, one sign-in
# the browser completes the sign-in only once the 49 others are waiting
fake_browser web wait-waiters $((N - 1)) "$T/par"
fleet $N par --browser-cmd "$T/web.sh" --login-timeout 120 "${PPO[@]}" echo.test:7
is "$(fleet_count par rc 0)" $N "$N processes at once: all exit 0" || diag "$(cat "$T"/par/*.rc | sort | uniq -c)"
is "$(fleet_count par echo ok)" $N "$N processes: each got its own line back through its tunnel"
is "$(nlog '^CONNECT echo\.test:7 302 token=no')" $N "$N CONNECTs without a token (302)"
is "$(logins)" 1 "exactly one login API request reached the double"
is "$(signins)" 1 "exactly one sign-in reached the double"
is "$(wc -l <"$T/web.urls")" 1 "one browser started"
is "$(nlog '^CONNECT echo\.test:7 200 token=yes')" $N "$N retried CONNECTs with the token (200)"
is "$(leaders par | wc -l)" 1 "one process signed in"
is "$(waiters par | wc -l)" $((N - 1)) "the $((N - 1)) others said a sign-in is in progress and waited"
url=$(head -1 "$T/web.urls")
is "$(grep -lF "sign in to $AUTH: open $url (if no browser appeared)" "$T"/par/*.err | wc -l)" $((N - 1)) \
	"each waiter showed the leader's sign-in URL"
ok "the token is cached" test -f "$TOKEN_FILE"
ok "the cached token is one the double signed" \
	quiet python3 "$DOUBLE" verify --secret "$SECRET" "$(cat "$TOKEN_FILE" 2>/dev/null)"

# ---------------------------------------------------------------- abandoned: SIGINT to the leader
timeout 10 "$POM_PROXY" cache clear >/dev/null
nok "cache cleared" test -e "$TOKEN_FILE"
fake_browser rec record
l0=$(logins) s0=$(signins)
fleet_bg $N sig --browser-cmd "$T/rec.sh" --login-timeout 120 "${PPO[@]}" echo.test:7
WANT=1 wait_count 60 leaders sig
ok "SIGINT: a leader is signing in" test "$(leaders sig | wc -l)" -eq 1
WANT=$((N - 1)) wait_count 60 waiters sig
is "$(waiters sig | wc -l)" $((N - 1)) "SIGINT: the others are waiting"
lf=$(leaders sig | head -1)
lpid=$(cat "${lf%.err}.pid")
kill -INT "$lpid"
ok "SIGINT: every process ended" wait_gone "$FLEET_PID" 60
is "$(fleet_count sig rc 8)" $N "SIGINT: all $N exit 8" || diag "$(cat "$T"/sig/*.rc | sort | uniq -c)"
is "$(tail -n 1 "$lf")" "pom-proxy: the sign-in to $AUTH was abandoned" "SIGINT: the leader says the sign-in was abandoned"
ll=$(last_lines sig)
like "$ll" "^ *$N pom-proxy: the sign-in to $AUTH was abandoned$" \
	"SIGINT: every waiter ends with the leader's message" || diag "$ll"
is "$(($(logins) - l0))/$(($(signins) - s0))" 1/0 "SIGINT: one login API request, no second sign-in attempt by the waiters"
is "$(wc -l <"$T/rec.urls")" 1 "SIGINT: one browser started"
nok "SIGINT: no token cached" test -e "$TOKEN_FILE"

fake_browser web2 follow
tunnel_echo after-sig --browser-cmd "$T/web2.sh" --login-timeout 60 "${PPO[@]}" echo.test:7
is "$RC/$ECHO" 0/ok "after the abandoned sign-in a new process signs in and tunnels" || diag "$ERR"
unlike "$ERR" "in progress" "  (itself, not waiting for anyone)"
is "$(($(logins) - l0))" 2 "  with a login API request of its own"

# ---------------------------------------------------------------- abandoned: the leader's --login-timeout
# the leader starts first, so every waiter's own limit ends after the leader's
timeout 10 "$POM_PROXY" cache clear >/dev/null
fake_browser rec2 record
l0=$(logins)
fleet_bg 1 tl --browser-cmd "$T/rec2.sh" --login-timeout 5 "${PPO[@]}" echo.test:7
tl_pid=$FLEET_PID
wait_file "$T/rec2.urls" 30
fleet_bg 20 tw --browser-cmd "$T/rec2.sh" --login-timeout 60 "${PPO[@]}" echo.test:7
ok "timeout: the leader ended" wait_gone "$tl_pid" 60
ok "timeout: the waiters ended" wait_gone "$FLEET_PID" 60
is "$(cat "$T/tl/0.rc")" 8 "timeout: the leader exits 8"
is "$(tail -n 1 "$T/tl/0.err")" "pom-proxy: the sign-in to $AUTH did not finish within 5 s" \
	"timeout: the leader says it did not finish in time"
is "$(fleet_count tw rc 8)" 20 "timeout: all 20 waiters exit 8"
ll=$(last_lines tw)
like "$ll" "^ *20 pom-proxy: the sign-in to $AUTH did not finish within 5 s$" \
	"timeout: every waiter ends with the leader's message" || diag "$ll"
is "$(($(logins) - l0))" 1 "timeout: one login API request in all"
is "$(wc -l <"$T/rec2.urls")" 1 "timeout: one browser started"

# ---------------------------------------------------------------- all at once, all with --login-timeout 5
# Every process has the same limit, so the waiters' limits end within
# milliseconds of the leader's; a waiter that looks at the clock before the
# leader has released the lock reports its own "gave up waiting ... (timed
# out)" instead of the leader's message.
timeout 10 "$POM_PROXY" cache clear >/dev/null
l0=$(logins)
fleet $N same --browser-cmd "$T/rec2.sh" --login-timeout 5 "${PPO[@]}" echo.test:7
is "$(fleet_count same rc 8)" $N "same limit: all $N exit 8"
is "$(($(logins) - l0))" 1 "same limit: one login API request in all"
ll=$(last_lines same)
ok "same limit: every process ends with the leader's message" \
	eval '[[ $ll =~ ^\ *$N\ pom-proxy:\ the\ sign-in\ to\ $AUTH\ did\ not\ finish\ within\ 5\ s$ ]]' ||
	diag "$ll"

# ---------------------------------------------------------------- the leader killed (SIGKILL): no stale lock
timeout 10 "$POM_PROXY" cache clear >/dev/null
fake_browser rec3 record
l0=$(logins)
fleet_bg 10 kill --browser-cmd "$T/rec3.sh" --login-timeout 120 "${PPO[@]}" echo.test:7
WANT=1 wait_count 60 leaders kill
WANT=9 wait_count 60 waiters kill
lf=$(leaders kill | head -1)
kill -KILL "$(cat "${lf%.err}.pid")"
ok "SIGKILL: every process ended" wait_gone "$FLEET_PID" 60
is "$(fleet_count kill rc 8)" 9 "SIGKILL: the 9 waiters exit 8"
is "$(fleet_count kill rc -9)" 1 "SIGKILL: (the leader was killed)"
is "$(grep -l "the pom-proxy that was signing in to $AUTH stopped without finishing" "$T"/kill/*.err | wc -l)" 9 \
	"SIGKILL: the waiters say the signing-in process stopped without finishing"
is "$(($(logins) - l0))" 1 "SIGKILL: no sign-in attempt by the waiters"
# 5 new processes at once: one signs in at once (the kernel dropped the
# lock), the others wait for it
dead_url=$(head -1 "$T/rec3.urls")
fake_browser web3 wait-waiters 4 "$T/afterkill"
l0=$(logins)
fleet 5 afterkill --browser-cmd "$T/web3.sh" --login-timeout 60 "${PPO[@]}" echo.test:7
is "$(fleet_count afterkill rc 0)/$(fleet_count afterkill echo ok)" 5/5 \
	"after SIGKILL: 5 new processes all tunnel (the kernel dropped the lock)"
is "$(($(logins) - l0))" 1 "after SIGKILL: with one new sign-in"
is "$(grep -lF "$dead_url" "$T"/afterkill/*.err | wc -l)" 0 \
	"after SIGKILL: no waiter shows the killed process's (dead) sign-in URL"

# ---------------------------------------------------------------- a dead leader's URL is never shown
# The state file still names the URL of a leader that was killed, and the
# lock is held by a new process that has not yet cleared it: a waiter must
# not send the user to the dead URL. With the holder's own pid (alive) in
# the state, the same URL is shown.
timeout 10 "$POM_PROXY" cache clear >/dev/null
mkdir -p "$CACHE_DIR/logins" && chmod 700 "$CACHE_DIR/logins"
STATE=$CACHE_DIR/logins/$AUTH.state
stale_state() { # PID — the state of an attempt in progress by PID
	printf 'finished 0\nresult failed\nmessage \nurl https://%s/dead-url\npid %s\n' "$AUTH" "$1" >"$STATE"
	chmod 600 "$STATE"
}
sh -c 'exit 0' &
dead=$!
wait "$dead"
flock "$CACHE_DIR/logins/$AUTH.lock" sh -c 'echo held >"$0"; exec sleep 60' "$T/held" &
holder=$!
wait_file "$T/held" 10
stale_state "$dead"
run_pp --no-browser --login-timeout 1 "${PPO[@]}" echo.test:7
like "$ERR" "a sign-in to $AUTH is in progress in another pom-proxy; waiting for it" \
	"stale state, lock held: the waiter waits"
unlike "$ERR" "dead-url" "stale state (its pid is gone): the dead URL is not shown"
stale_state "$holder"
run_pp --no-browser --login-timeout 1 "${PPO[@]}" echo.test:7
like "$ERR" "sign in to $AUTH: open https://$AUTH/dead-url \\(if no browser appeared\\)" \
	"the same state with the live holder's pid: its URL is shown"
kill_tree "$holder"
wait "$holder" 2>/dev/null

done_testing
