#!/bin/bash
# signin_browser.t — sign-in end to end with a real browser: headless
# Chromium is --browser-cmd; it follows the double's sign-in URL to the
# loopback callback, and a real ssh (ProxyCommand pom-proxy, empty cache)
# completes. A second ssh then uses the cached token with no login traffic
# at all. `status` lists the proxy with the user; `logout` removes it (and
# the next ssh signs in again).
. "$(dirname "$0")/lib/world.sh"
. "$(dirname "$0")/lib/signin.sh"
watchdog 240
need python3 chromium openssl ssh
pom_built
pki
start_sshd
start_double --route ssh.corp.test:22 "127.0.0.1:$SSHD_PORT" '*'
AUTH=localhost:$DOUBLE_PORT
TOKEN_FILE=$XDG_CACHE_HOME/pom-proxy/tokens/$AUTH
chromium_browser chrome
PC=$(pp_cmd --browser-cmd "$T/chrome.sh")

connects_ok() { nlog "^CONNECT ssh\.corp\.test:22 200 token=yes"; }
connects_302() { nlog "^CONNECT ssh\.corp\.test:22 302 token=no"; }
logins() { nlog '^GET /\.pomerium/api/v1/login '; }
signins() { nlog '^GET /\.pomerium/sign_in '; }

# ---------------------------------------------------------------- first ssh: sign in with Chromium
out=$(ssh_via "$PC" ssh.corp.test echo through-the-tunnel 2>"$T/ssh1.err")
rc=$?
is "$rc" 0 "first ssh (no token cached) completes after the Chromium sign-in" ||
	{ diag_file "$T/ssh1.err"; diag_file "$T/chrome.log" 5; diag_file "$DOUBLE_LOG"; }
is "$out" through-the-tunnel "the remote command ran and its output came back"
like "$(cat "$T/ssh1.err")" "pom-proxy: sign in to $AUTH: open https://localhost:$DOUBLE_PORT/\.pomerium/sign_in\?" \
	"pom-proxy said where to sign in, on stderr"
printed=$(grep -o "open https://[^ ]*" "$T/ssh1.err" | head -1 | cut -c6-)
is "$(wc -l <"$T/chrome.urls")" 1 "the browser was started once"
is "$(head -1 "$T/chrome.urls")" "$printed" "the browser got exactly the printed sign-in URL"
like "$(cat "$T/chrome.dom" 2>/dev/null)" '<h1>Signed in</h1>' \
	"Chromium ended on pom-proxy's callback page, which says the sign-in worked"
is "$(logins)" 1 "one login API request"
is "$(signins)" 1 "one sign-in page visit (by Chromium)"
is "$(nlog '^GET /\.pomerium/sign_in 302 .*user=alice@example\.com')" 1 \
	"the sign-in redirected Chromium back with a token for alice"
is "$(connects_302)" 1 "one CONNECT without a token (302)"
is "$(connects_ok)" 1 "one retried CONNECT with the new token (200)"
order=$(grep -E '^(CONNECT|GET)' "$DOUBLE_LOG" | awk '{print $1, $2, $3}' | tr '\n' '|')
is "$order" "CONNECT ssh.corp.test:22 302|GET /.pomerium/api/v1/login 200|GET /.pomerium/sign_in 302|CONNECT ssh.corp.test:22 200|" \
	"in that order: CONNECT 302, login API, sign-in, CONNECT 200"
ok "the token is cached in \$XDG_CACHE_HOME/pom-proxy/tokens/$AUTH" test -f "$TOKEN_FILE"
is "$(stat -c %a "$TOKEN_FILE" 2>/dev/null)" 600 "the token file is 0600"
ok "the cached token is one the double signed" \
	quiet python3 "$DOUBLE" verify --secret "$SECRET" "$(cat "$TOKEN_FILE" 2>/dev/null)"

# ---------------------------------------------------------------- second ssh: no login traffic
before_lines=$(grep -cE '^(CONNECT|GET)' "$DOUBLE_LOG")
out=$(ssh_via "$PC" ssh.corp.test echo again 2>"$T/ssh2.err")
rc=$?
is "$rc" 0 "second ssh completes" || diag_file "$T/ssh2.err"
is "$out" again "its remote command ran"
is "$(logins)" 1 "second ssh: no new login API request"
is "$(signins)" 1 "second ssh: no new sign-in"
is "$(connects_ok)" 2 "second ssh: exactly one more CONNECT 200"
is "$(connects_302)" 1 "second ssh: no CONNECT without a token"
is "$(grep -cE '^(CONNECT|GET)' "$DOUBLE_LOG")" $((before_lines + 1)) \
	"second ssh: exactly one request reached the double"
is "$(wc -l <"$T/chrome.urls")" 1 "second ssh: no browser started"
unlike "$(cat "$T/ssh2.err")" 'sign in' "second ssh: nothing said about signing in"

# ---------------------------------------------------------------- status and logout
st=$(timeout 10 "$POM_PROXY" status 2>"$T/status.err")
is "$?" 0 "status exits 0"
like "$st" "^$AUTH +alice@example\.com +signed in " "status lists the proxy with the user"
is "$(echo "$st" | wc -l)" 1 "status lists one token"

lo=$(timeout 10 "$POM_PROXY" logout "https://localhost:$DOUBLE_PORT" 2>"$T/logout.err")
is "$?" 0 "logout exits 0"
like "$lo" "signed out of $AUTH" "logout says which proxy it signed out of"
nok "logout removed the token file" test -e "$TOKEN_FILE"
st=$(timeout 10 "$POM_PROXY" status 2>&1)
like "$st" '^no cached tokens' "status then lists no token"

out=$(ssh_via "$PC" ssh.corp.test echo third 2>"$T/ssh3.err")
rc=$?
is "$rc" 0 "after logout, ssh signs in again (Chromium) and completes" || diag_file "$T/ssh3.err"
is "$(logins)/$(signins)/$(wc -l <"$T/chrome.urls")" 2/2/2 \
	"after logout: a second login request, sign-in and browser start"
ok "the token is cached again" test -f "$TOKEN_FILE"

# ---------------------------------------------------------------- which browser
# `pom-proxy login` with fake browsers: each records its arguments in
# $T/NAME.args and completes the sign-in with curl (the URL is the last one)
fake_args_browser() {
	cat >"$T/$1" <<EOF
#!/bin/sh
echo \$\$ >>'$T/detached.pids'
printf '%s\n' "\$*" >>'$T/$1.args'
for url in "\$@"; do :; done
exec timeout 30 curl -sS -L --noproxy '*' --cacert '$PKI/ca.pem' -o /dev/null "\$url"
EOF
	chmod +x "$T/$1"
	: >"$T/$1.args"
}
mkdir -p "$T/bin"
fake_args_browser b1
fake_args_browser b2
fake_args_browser bin/xdg-open
LOGIN=(login --login-timeout 30 --pomerium-url "https://localhost:$DOUBLE_PORT" --alternate-ca-path "$PKI/ca.pem")
URLRE="https://localhost:$DOUBLE_PORT/\\.pomerium/sign_in\\?pomerium_state=[^ ]+"
# signin [ENV...] -- ARGS... : `pom-proxy login ARGS` with ENV, no terminal
signin() {
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env "${envs[@]}" setsid -w timeout 40 "$POM_PROXY" "${LOGIN[@]}" "$@" "https://localhost:$DOUBLE_PORT" \
		</dev/null >"$T/signin.out" 2>"$T/signin.err"
}

signin BROWSER="$T/b2" -- --browser-cmd "$T/b1 --new-window"
is "$?" 0 "--browser-cmd with an argument: signed in" || diag_file "$T/signin.err"
like "$(cat "$T/b1.args")" "^--new-window $URLRE$" "  the command got its own argument, then the URL"
is "$(wc -l <"$T/b2.args")" 0 "  \$BROWSER is not used when --browser-cmd is given"

signin BROWSER="no-such-browser-here:$T/b2" PATH="$T/bin:$PATH" --
is "$?" 0 "\$BROWSER list: signed in" || diag_file "$T/signin.err"
like "$(cat "$T/b2.args")" "^$URLRE$" "  the first command of \$BROWSER that exists got the URL"
is "$(wc -l <"$T/bin/xdg-open.args")" 0 "  xdg-open was not started"

signin BROWSER= PATH="$T/bin:$PATH" --
is "$?" 0 "no --browser-cmd, no \$BROWSER: signed in" || diag_file "$T/signin.err"
like "$(cat "$T/bin/xdg-open.args")" "^$URLRE$" "  through xdg-open"

signin BROWSER="$T/b2" PATH="$T/bin:$PATH" -- --no-browser --login-timeout 2
is "$?" 8 "--no-browser: the sign-in times out with no browser: exit 8"
is "$(wc -l <"$T/b2.args")/$(wc -l <"$T/bin/xdg-open.args")" 1/1 "  no browser was started"
like "$(cat "$T/signin.err")" "pom-proxy: sign in to $AUTH: open $URLRE" "  the URL is printed"
is "$(tail -n 1 "$T/signin.err")" "pom-proxy: the sign-in to $AUTH did not finish within 2 s" "  then the time-out"

signin -- --browser-cmd "no-such-browser-here" --login-timeout 2
is "$?" 8 "a --browser-cmd that does not exist: the sign-in still waits, then times out"
like "$(cat "$T/signin.err")" "pom-proxy: could not start a browser: open the address above by hand" \
	"  pom-proxy says it could not start the browser"

# the browser is an ordinary program: it must not inherit pom-proxy's
# SIG_IGN for SIGPIPE (exec keeps ignored signals ignored)
cat >"$T/b3" <<EOF
#!/bin/sh
echo \$\$ >>'$T/detached.pids'
sed -n 's/^SigIgn:[[:space:]]*//p' /proc/\$\$/status >'$T/b3.sigign'
exec timeout 30 curl -sS -L --noproxy '*' --cacert '$PKI/ca.pem' -o /dev/null "\$1"
EOF
chmod +x "$T/b3"
signin -- --browser-cmd "$T/b3"
is "$?" 0 "a browser that records its ignored signals: signed in"
ign=$(cat "$T/b3.sigign" 2>/dev/null)
is "$(( (0x${ign:-0} >> 12) & 1 ))" 0 "the browser does not start with SIGPIPE ignored"

# ---------------------------------------------------------------- SIGTERM ends a sign-in, SIGHUP detaches it
for sig in TERM HUP; do
	spawn "abandon-$sig" setsid -w timeout 60 "$POM_PROXY" "${LOGIN[@]}" --no-browser \
		"https://localhost:$DOUBLE_PORT"
	pid=$LAST_PID
	wait_grep "$T/abandon-$sig.err" "sign in to $AUTH: open" 20
	# spawn's pid is timeout (setsid execs it); pom-proxy is its child
	pp=$(ps -o pid=,comm= --ppid "$pid" | awk '$2 == "pom-proxy" {print $1}')
	kill -s "$sig" "$pp"
	wait "$pid"
	is "$?" 8 "SIG$sig during a sign-in: exit 8"
	if [ "$sig" = TERM ]; then
		is "$(tail -n 1 "$T/abandon-$sig.err")" "pom-proxy: the sign-in to $AUTH was abandoned" \
			"  the sign-in was abandoned"
		continue
	fi
	# SIGHUP is ssh giving up on its ProxyCommand: the sign-in goes on
	# (signin_detach.t); here it is then ended with SIGTERM
	last=$(tail -n 1 "$T/abandon-$sig.err")
	like "$last" "sign-in to $AUTH went away; the sign-in goes on in the background" \
		"  the sign-in goes on in the background"
	child=$(sed -n 's/.*background (process \([0-9]*\),.*/\1/p' <<<"$last")
	ok "  in a process that is running" alive "${child:-0}"
	# never `kill 0`: without a child that would end the whole suite
	[ -n "$child" ] && kill -TERM "$child"
	ok "  which SIGTERM ends" wait_gone "${child:-0}" 5
	grep -q "the sign-in to $AUTH was abandoned" "$XDG_CACHE_HOME/pom-proxy/logins/$AUTH.state"
	is "$?" 0 "  recording the sign-in as abandoned"
done

done_testing
