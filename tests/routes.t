#!/bin/bash
# routes.t — the proxy's routes list (issue 12): `pom-proxy routes URL`
# with an empty cache signs in through headless Chromium and lists the
# routes the user may use (tcp first, each with its ssh command; --json as
# the server sent it); `ssh-config --routes URL` gives a file `ssh -G`
# accepts, with a Host block for each tcp route of this proxy (a path-style
# one included) and none for http, udp or mcp ones or a path-style route of
# another proxy host, and a real ssh (world.sh's sshd) reaches three routes
# through it on the one sign-in; `auth URL` prints a token the double accepts on
# CONNECT, and signs in again once the double has revoked it. A proxy
# without the routes API (404) or refusing the GET (405) ends in one
# "pom-proxy:" line and exit 10 or 13.
. "$(dirname "$0")/lib/world.sh"
. "$(dirname "$0")/lib/signin.sh"
watchdog 300
need python3 chromium openssl ssh curl
pom_built
pki
start_sshd
cat >"$T/portal.json" <<'EOF2'
[
  {"from": "tcp+https://ssh.corp.test:22", "description": "the jump host"},
  {"from": "https://web.corp.test", "name": "web"},
  {"from": "tcp+https://alt.corp.test:2222", "name": "alt"},
  {"from": "udp+https://dns.corp.test:53", "name": "dns"},
  {"from": "tcp+https://proxy.corp.test/pg:5432", "name": "pg"},
  {"from": "tcp+https://localhost:DOUBLE_PORT/jump.corp.test:22", "name": "jump"},
  {"from": "tcp+https://ssh.corp.test:2200", "name": "ssh2"},
  {"from": "https://tools.corp.test", "name": "tools", "mcp": true},
  {"from": "tcp+https://bob.corp.test:22", "name": "bobs", "users": ["bob@example.com"]}
]
EOF2
: >"$T/revoked"
start_double --route ssh.corp.test:22 "127.0.0.1:$SSHD_PORT" '*' \
	--route alt.corp.test:2222 "127.0.0.1:$SSHD_PORT" '*' \
	--route jump.corp.test:22 "127.0.0.1:$SSHD_PORT" '*' \
	--portal-routes "$T/portal.json" --revoked "$T/revoked"
# the path-style route of this proxy names its port (the double reads the
# file at each request)
sed -i "s/DOUBLE_PORT/$DOUBLE_PORT/" "$T/portal.json"
URL=https://localhost:$DOUBLE_PORT
AUTH=localhost:$DOUBLE_PORT
TOKEN_FILE=$XDG_CACHE_HOME/pom-proxy/tokens/$AUTH
CA=(--alternate-ca-path "$PKI/ca.pem")
chromium_browser chrome
logins() { nlog '^GET /\.pomerium/api/v1/login '; }
# pp NAME ARGS... — pom-proxy ARGS in its own session, no terminal, bounded
pp() {
	local name=$1
	shift
	setsid -w timeout 90 "$POM_PROXY" "$@" </dev/null >"$T/$name.out" 2>"$T/$name.err"
}

# ---------------------------------------------------------------- routes, empty cache
pp routes routes --browser-cmd "$T/chrome.sh" "${CA[@]}" "$URL"
is "$?" 0 "routes with an empty cache: exit 0 after the Chromium sign-in" ||
	{ diag_file "$T/routes.err"; diag_file "$DOUBLE_LOG"; }
is "$(wc -l <"$T/chrome.urls")" 1 "Chromium was started once"
# Chromium writes its DOM after the page loaded: pom-proxy may be done first
ok "Chromium ended on the callback page" wait_grep "$T/chrome.dom" '<h1>Signed in</h1>' 20
order=$(grep -E '^GET' "$DOUBLE_LOG" | awk '{print $2, $3}' | tr '\n' '|')
is "$order" "/.pomerium/api/v1/routes 401|/.pomerium/api/v1/login 200|/.pomerium/sign_in 302|/.pomerium/api/v1/routes 200|" \
	"routes 401 (Accept: application/json, no token), login, sign-in, routes 200"
ok "the token is cached" test -s "$TOKEN_FILE"
out=$(cat "$T/routes.out")
note "$out"
types=$(awk '/^[a-z]/ {print $1}' "$T/routes.out" | paste -sd ' ')
is "$types" "tcp tcp tcp tcp tcp http udp mcp" "tcp routes first, then the others, in the order sent"
like "$out" '(^|
)tcp +ssh +tcp\+https://ssh\.corp\.test:22 +the jump host' \
	"an empty name is made up as the double (Pomerium) does: 'ssh'"
like "$(grep -A1 'ssh\.corp\.test:22 ' "$T/routes.out" | head -2 | tail -1)" \
	"^ +ssh -o ProxyCommand='[^']*pom-proxy --pomerium-url $URL --alternate-ca-path [^ ]*ca\.pem --browser-cmd [^ ]*chrome\.sh %h:%p' ssh\.corp\.test$" \
	"its ssh command goes through pom-proxy --pomerium-url URL"
like "$(grep -A1 'alt\.corp\.test:2222' "$T/routes.out" | tail -1)" " -p 2222 alt\.corp\.test$" \
	"a route on port 2222: ssh -p 2222"
like "$(grep -A1 '^tcp .*proxy\.corp\.test/pg:5432' "$T/routes.out" | tail -1)" \
	'^ +\(a route of another proxy host' "a path-style route of another proxy host: no command (no token goes there)"
like "$(grep -A1 "localhost:$DOUBLE_PORT/jump" "$T/routes.out" | tail -1)" \
	"pom-proxy --pomerium-url $URL [^']*%h:%p' jump\.corp\.test$" \
	"a path-style route of this proxy: through --pomerium-url URL to its host and port"
like "$out" 'udp +dns +udp\+https://dns\.corp\.test:53' "the udp route is listed as such"
unlike "$out" 'bob' "a route only bob may use is not listed for alice"
is "$(cat "$T/routes.err" | grep -v 'sign in to\|signed in' | grep -c .)" 0 "nothing else on stderr"

# --json: the server's bytes as they came
pp json routes --json "${CA[@]}" "$URL"
is "$?" 0 "routes --json: exit 0 on the cached token"
curl -sS --noproxy '*' --cacert "$PKI/ca.pem" -H 'Accept: application/json' \
	-H "Authorization: Pomerium $(cat "$TOKEN_FILE")" "$URL/.pomerium/api/v1/routes" >"$T/curl.json"
ok "routes --json printed exactly what the routes API answers" cmp "$T/json.out" "$T/curl.json"
ok "  which is JSON with 8 routes" python3 -c 'import json,sys; assert len(json.load(open(sys.argv[1]))["routes"]) == 8' "$T/json.out"
is "$(logins)" 1 "no second sign-in"

# ---------------------------------------------------------------- ssh-config --routes
pp cfg ssh-config --routes "$URL" "${CA[@]}"
is "$?" 0 "ssh-config --routes: exit 0" || diag_file "$T/cfg.err"
cp "$T/cfg.out" "$T/routes.conf"
note "$(cat "$T/routes.conf")"
like "$(head -3 "$T/routes.conf")" "# Regenerate it with.*ssh-config --routes $URL --alternate-ca-path" \
	"the header says how to regenerate it"
is "$(grep -E '^(Host|Match)' "$T/routes.conf" | paste -sd '|')" \
	"Host alt.corp.test|Host jump.corp.test|Host ssh.corp.test|Host ssh.corp.test-2200" \
	"Host blocks for the four tcp routes of this proxy, sorted (a second port as HOST-PORT); none for http, udp, mcp"
like "$(cat "$T/routes.conf")" '# skipped: a path-style route of another proxy host' \
	"the path-style route of another proxy host is skipped with a comment"
like "$(cat "$T/cfg.err")" '^pom-proxy: 4 Host blocks' "a hint on stderr"
pp cfg2 ssh-config --routes "$URL" "${CA[@]}"
ok "the same output a second time (deterministic)" cmp "$T/cfg.out" "$T/cfg2.out"
ABS=$(readlink -f "$POM_PROXY")
for h in ssh.corp.test:22 alt.corp.test:2222 jump.corp.test:22 ssh.corp.test-2200:2200; do
	host=${h%:*} port=${h#*:}
	g=$(ssh -G -F "$T/routes.conf" "$host" 2>"$T/G.err")
	is "$?" 0 "ssh -G accepts the file for $host" || diag_file "$T/G.err"
	is "$(sed -n 's/^port //p' <<<"$g")" "$port" "  port $port"
	is "$(sed -n 's/^proxycommand //p' <<<"$g")" \
		"$ABS --pomerium-url $URL --alternate-ca-path $(readlink -f "$PKI/ca.pem") %h:%p" "  ProxyCommand through --pomerium-url"
done
for h in web.corp.test dns.corp.test tools.corp.test pg; do
	is "$(ssh -G -F "$T/routes.conf" "$h" 2>/dev/null | sed -n 's/^proxycommand //p')" "" "no ProxyCommand for $h"
done

# a real ssh, Include'd from a configuration of its own
cat >"$T/ssh_config" <<EOF2
Include $T/routes.conf
Host *
    User $SSH_USER
    IdentityFile $USER_KEY
    IdentitiesOnly yes
    IdentityAgent none
    StrictHostKeyChecking no
    UserKnownHostsFile $KNOWN_HOSTS
    BatchMode yes
    ConnectTimeout 15
    LogLevel ERROR
EOF2
for host in ssh.corp.test alt.corp.test jump.corp.test; do
	out=$(setsid -w timeout -k 5 60 ssh -F "$T/ssh_config" "$host" echo "via-$host" </dev/null 2>"$T/ssh.err")
	is "$out" "via-$host" "ssh $host through the generated file" || diag_file "$T/ssh.err"
done
is "$(nlog '^CONNECT ssh\.corp\.test:22 200 token=yes')/$(nlog '^CONNECT alt\.corp\.test:2222 200 token=yes')/$(nlog '^CONNECT jump\.corp\.test:22 200 token=yes')" 1/1/1 \
	"each CONNECT carried the token"
is "$(logins)" 1 "one sign-in served all three"

# --sign-in-first: one Match line naming every Host of the file
pp sif ssh-config --routes "$URL" --sign-in-first "${CA[@]}"
is "$(grep '^Match' "$T/sif.out" | cut -d' ' -f1-3)" \
	"Match host alt.corp.test,jump.corp.test,ssh.corp.test,ssh.corp.test-2200" \
	"--sign-in-first: the Match line names every Host, the HOST-PORT one too"

# a bare host:port names the proxy as https://host:port in the file
pp bare ssh-config --routes "localhost:$DOUBLE_PORT" "${CA[@]}"
is "$?" 0 "ssh-config --routes with a bare host:port: exit 0" || diag_file "$T/bare.err"
is "$(ssh -G -F "$T/bare.out" ssh.corp.test 2>/dev/null | sed -n 's/^proxycommand //p')" \
	"$ABS --pomerium-url $URL --alternate-ca-path $(readlink -f "$PKI/ca.pem") %h:%p" \
	"  its ProxyCommand names --pomerium-url $URL, which the tunnel accepts"

# ---------------------------------------------------------------- auth
before=$(nlog '^GET /\.pomerium/api/v1/routes')
pp auth auth "${CA[@]}" "$URL"
is "$?" 0 "auth: exit 0"
tok=$(cat "$T/auth.out")
is "$tok" "$(cat "$TOKEN_FILE")" "auth prints the cached token"
is "$(nlog '^GET /\.pomerium/api/v1/routes')" $((before + 1)) "checked with one routes request"
is "$(logins)" 1 "no sign-in for an accepted token"
is "$(cat "$T/auth.err")" "" "nothing on stderr"
printf '%s\n' "$tok" >"$T/tok"
chmod 600 "$T/tok"
out=$(XDG_CACHE_HOME=$T/empty ssh_via "$(pp_cmd --service-account-file "$T/tok")" ssh.corp.test echo with-auth </dev/null 2>"$T/ssh-auth.err")
is "$out" with-auth "the printed token opens a CONNECT (as --service-account-file, no cache)" || diag_file "$T/ssh-auth.err"

# the double revokes it: refused on CONNECT and by the routes API
python3 "$DOUBLE" verify --secret "$SECRET" "$tok" | python3 -c 'import json,sys; print(json.load(sys.stdin)["jti"])' >>"$T/revoked"
out=$(XDG_CACHE_HOME=$T/empty ssh_via "$(pp_cmd --service-account-file "$T/tok")" ssh.corp.test echo x </dev/null 2>/dev/null)
is "$(nlog '^CONNECT ssh\.corp\.test:22 401 token=yes .*user=\(revoked\)')" 1 "after the revocation CONNECT refuses it (401)"
pp auth2 auth --browser-cmd "$T/chrome.sh" "${CA[@]}" "$URL"
is "$?" 0 "auth with the revoked token cached: exit 0 after a new sign-in" || diag_file "$T/auth2.err"
tok2=$(cat "$T/auth2.out")
ok "  a new token" test -n "$tok2" -a "$tok2" != "$tok"
is "$tok2" "$(cat "$TOKEN_FILE")" "  the one now cached"
is "$(logins)/$(wc -l <"$T/chrome.urls")" 2/2 "  through a second sign-in in Chromium"
is "$(nlog '^GET /\.pomerium/api/v1/routes 401 token=yes .*user=\(revoked\)')" 1 "  after the routes API refused the old one"
printf '%s\n' "$tok2" >"$T/tok"
out=$(XDG_CACHE_HOME=$T/empty ssh_via "$(pp_cmd --service-account-file "$T/tok")" ssh.corp.test echo again </dev/null 2>"$T/ssh-auth2.err")
is "$out" again "the new token opens a CONNECT" || diag_file "$T/ssh-auth2.err"

# ---------------------------------------------------------------- 405, 404, and the double's own 405
code=$(curl -sS -o /dev/null -w '%{http_code}' --noproxy '*' --cacert "$PKI/ca.pem" -X POST \
	-H "Authorization: Pomerium $tok2" "$URL/.pomerium/api/v1/routes")
is "$code" 405 "the double answers 405 to a POST of the routes API"
code=$(curl -sS -o /dev/null -w '%{http_code}' --noproxy '*' --cacert "$PKI/ca.pem" "$URL/.pomerium/api/v1/routes")
is "$code" 302 "and redirects a GET without token or Accept: application/json to sign-in"

# refused CODE EXIT MESSAGE DOUBLE-OPTION... — routes and ssh-config
# --routes against a double whose routes API answers CODE
refused() {
	local code=$1 want=$2 msg=$3 cmd
	shift 3
	start_double --route ssh.corp.test:22 "127.0.0.1:$SSHD_PORT" '*' "$@"
	for cmd in routes "ssh-config --routes"; do
		# shellcheck disable=SC2086
		pp refused $cmd "https://localhost:$DOUBLE_PORT" "${CA[@]}"
		is "$?" "$want" "$cmd: $code is exit $want"
		is "$(cat "$T/refused.err")" "pom-proxy: proxy localhost:$DOUBLE_PORT $msg" "  in one line"
		is "$(cat "$T/refused.out")" "" "  nothing on stdout"
	done
}
refused 405 13 "does not allow GET /.pomerium/api/v1/routes (HTTP 405 Method Not Allowed: is it a Pomerium proxy?)" \
	--routes-status 405
refused "the portal switched off (404)" 10 \
	"serves no routes list (HTTP 404: its routes portal is switched off, or it is not a Pomerium proxy)" \
	--no-routes-portal

done_testing
