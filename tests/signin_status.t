#!/bin/bash
# signin_status.t — which CONNECT answers lead to a sign-in (protocol.md
# §3): 302 (no token) and 401 (a cached token the proxy refuses) each lead
# to exactly one login and one retry, counted in the double's log; a proxy
# that refuses the fresh token too ends with exit 8 after that one retry; a
# 403 after signing in keeps the token and exits 9 saying the policy
# denies it; a service-account token that gets 401 (or 302) never starts a
# login (exit 8, the message names where the token came from); 404 and 503
# do not start one either.
. "$(dirname "$0")/lib/world.sh"
. "$(dirname "$0")/lib/signin.sh"
watchdog 180
signin_world
fake_browser web follow
D1_PORT=$DOUBLE_PORT D1_LOG=$DOUBLE_LOG
start_double --route echo.test:7 "127.0.0.1:$UPSTREAM_PORT" bob@example.com
D2_PORT=$DOUBLE_PORT D2_LOG=$DOUBLE_LOG
start_double --status 401
D3_PORT=$DOUBLE_PORT D3_LOG=$DOUBLE_LOG
start_double --status 302
D4_PORT=$DOUBLE_PORT D4_LOG=$DOUBLE_LOG
start_double --status 503
D5_PORT=$DOUBLE_PORT D5_LOG=$DOUBLE_LOG

# use N — point DOUBLE_LOG, AUTH, PPO, TOKEN_FILE at double N
use() {
	local p=D$1_PORT l=D$1_LOG
	DOUBLE_PORT=${!p} DOUBLE_LOG=${!l}
	PROXY_URL=https://localhost:$DOUBLE_PORT
	AUTH=localhost:$DOUBLE_PORT
	PPO=(--pomerium-url "$PROXY_URL" --alternate-ca-path "$PKI/ca.pem")
	TOKEN_FILE=$CACHE_DIR/tokens/$AUTH
	OPTS=(--browser-cmd "$T/web.sh" --login-timeout 30 "${PPO[@]}")
}
connects() { nlog '^CONNECT '; }
logins() { nlog '^GET /\.pomerium/api/v1/login '; }
signins() { nlog '^GET /\.pomerium/sign_in '; }
browsers() { wc -l <"$T/web.urls"; }
# counts: "CONNECTs/logins/sign-ins/browsers"
counts() { echo "$(connects)/$(logins)/$(signins)/$(browsers)"; }
last_err() { tail -n 1 "$T/$1/0.err" 2>/dev/null; }
bad_token() { python3 "$DOUBLE" mint --secret "not-the-$SECRET" --sub alice@example.com; }

# ---------------------------------------------------------------- 302: no token
use 1
b0=$(browsers)
tunnel_echo s302 "${OPTS[@]}" echo.test:7
is "$RC/$ECHO" 0/ok "302 (no token): signed in, the retried tunnel works" || diag "$ERR"
is "$(counts)" "2/1/1/$((b0 + 1))" "302: exactly 2 CONNECTs, 1 login API request, 1 sign-in, 1 browser"
is "$(grep -E '^CONNECT' "$DOUBLE_LOG" | awk '{print $3, $4}' | tr '\n' ' ')" "302 token=no 200 token=yes " \
	"302: the first CONNECT had no token, the retry had one"

# ---------------------------------------------------------------- 401: a refused cached token
bad=$(bad_token)
(umask 077 && echo "$bad" >"$TOKEN_FILE")
c0=$(counts)
tunnel_echo s401 "${OPTS[@]}" echo.test:7
is "$RC/$ECHO" 0/ok "401 (cached token refused): signed in again, the retried tunnel works" || diag "$ERR"
IFS=/ read -r cc lc sc bc <<<"$c0"
is "$(counts)" "$((cc + 2))/$((lc + 1))/$((sc + 1))/$((bc + 1))" \
	"401: exactly 2 more CONNECTs, 1 login API request, 1 sign-in, 1 browser"
is "$(grep -E '^CONNECT' "$DOUBLE_LOG" | tail -n 2 | awk '{print $3, $4}' | tr '\n' ' ')" "401 token=yes 200 token=yes " \
	"401: the refused token was sent first, then the new one"
new=$(cat "$TOKEN_FILE")
ok "401: the refused token was replaced in the cache" test "$new" != "$bad"
ok "401: by one the double signed" quiet python3 "$DOUBLE" verify --secret "$SECRET" "$new"
unlike "$ERR" "in progress" "401: no wait for another process (the refused token is not taken as fresh)"

# ---------------------------------------------------------------- the proxy refuses the new token too: one retry only
use 3
b0=$(browsers)
tunnel_echo r401 "${OPTS[@]}" echo.test:7
is "$RC" 8 "always 401: exit 8" || diag "$ERR"
is "$(counts)" "2/1/1/$((b0 + 1))" "always 401: exactly 2 CONNECTs (one retry), 1 login, 1 sign-in"
is "$(last_err r401)" "pom-proxy: sign-in required: proxy $AUTH refused the token for echo.test:7 even after signing in (HTTP 401)" \
	"always 401: the message says the token was refused even after signing in"
use 4
b0=$(browsers)
tunnel_echo r302 "${OPTS[@]}" echo.test:7
is "$RC" 8 "always 302: exit 8" || diag "$ERR"
is "$(counts)" "2/1/1/$((b0 + 1))" "always 302: exactly 2 CONNECTs (one retry), 1 login, 1 sign-in"
like "$(last_err r302)" "refused the token for echo\.test:7 even after signing in \(HTTP 302\)$" \
	"always 302: the message says so"

# ---------------------------------------------------------------- 403 after signing in
use 2
b0=$(browsers)
tunnel_echo s403 "${OPTS[@]}" echo.test:7
is "$RC" 9 "403 after signing in: exit 9" || diag "$ERR"
is "$(counts)" "2/1/1/$((b0 + 1))" "403: 2 CONNECTs, 1 login, 1 sign-in"
is "$(grep -E '^CONNECT' "$DOUBLE_LOG" | awk '{print $3, $4}' | tr '\n' ' ')" "302 token=no 403 token=yes " \
	"403: the retry with the new token got 403"
is "$(last_err s403)" "pom-proxy: access denied: proxy $AUTH's policy does not allow you to reach echo.test:7 (403 Forbidden)" \
	"403: the message says the proxy's policy denies it"
ok "403: the token is kept" test -s "$TOKEN_FILE"
kept=$(cat "$TOKEN_FILE" 2>/dev/null)
tunnel_echo s403b "${OPTS[@]}" echo.test:7
is "$RC" 9 "403 again (token cached): exit 9"
is "$(counts)" "3/1/1/$((b0 + 1))" "403 again: one CONNECT with the kept token, no login"
is "$(cat "$TOKEN_FILE" 2>/dev/null)" "$kept" "403 again: still the same token"
unlike "$(cat "$T/s403b/0.err")" "sign in" "403 again: nothing about signing in"
is "$(wc -l <"$T/s403b/0.err")" 1 "403 again: one line on stderr"

# ---------------------------------------------------------------- service accounts never start a login
use 1
(umask 077 && bad_token >"$T/sa.jwt")
c0=$(counts)
PP_TIMEOUT=30 run_pp --service-account-file "$T/sa.jwt" "${OPTS[@]}" echo.test:7
expect_failure 8 "refused the service account token from --service-account-file for echo\.test:7 \(http 401\)" \
	"service account file, 401"
IFS=/ read -r cc lc sc bc <<<"$c0"
is "$(counts)" "$((cc + 1))/$lc/$sc/$bc" "service account file, 401: one CONNECT, no login, no browser"

export POM_PROXY_SERVICE_ACCOUNT_FILE=$T/sa.jwt
run_pp "${OPTS[@]}" echo.test:7
expect_failure 8 "refused the service account token from pom_proxy_service_account_file for" \
	"POM_PROXY_SERVICE_ACCOUNT_FILE, 401"
unset POM_PROXY_SERVICE_ACCOUNT_FILE
export POM_PROXY_SERVICE_ACCOUNT
POM_PROXY_SERVICE_ACCOUNT=$(cat "$T/sa.jwt")
run_pp "${OPTS[@]}" echo.test:7
expect_failure 8 "refused the service account token from pom_proxy_service_account for" \
	"POM_PROXY_SERVICE_ACCOUNT, 401"
unset POM_PROXY_SERVICE_ACCOUNT
run_pp --service-account "$(cat "$T/sa.jwt")" "${OPTS[@]}" echo.test:7
is "$RC" 8 "--service-account, 401: exit 8"
like "$(tail -n 1 "$T/pp.err")" "^pom-proxy: proxy $AUTH refused the service account token from --service-account for echo\.test:7 \(HTTP 401\)" \
	"--service-account, 401: the message names --service-account"
is "$(counts)" "$((cc + 4))/$lc/$sc/$bc" "service accounts, 401: 4 CONNECTs in all, no login, no browser"

# a cached user token does not change that
(umask 077 && mint_token >"$TOKEN_FILE")
cached=$(cat "$TOKEN_FILE")
run_pp --service-account-file "$T/sa.jwt" "${OPTS[@]}" echo.test:7
expect_failure 8 "from --service-account-file" "service account file with a cached token, 401"
is "$(nlog '^GET /\.pomerium/api/v1/login ')" "$lc" "  no login"
is "$(cat "$TOKEN_FILE")" "$cached" "  the cached token is left alone"

use 4
c0=$(counts)
run_pp --service-account-file "$T/sa.jwt" "${OPTS[@]}" echo.test:7
expect_failure 8 "refused the service account token from --service-account-file for echo\.test:7 \(http 302\)" \
	"service account file, 302"
IFS=/ read -r cc lc sc bc <<<"$c0"
is "$(counts)" "$((cc + 1))/$lc/$sc/$bc" "service account file, 302: one CONNECT, no login"

# ---------------------------------------------------------------- 404 and 503 are not sign-in matters
use 1
c0=$(counts)
tunnel_echo n404 "${OPTS[@]}" no-such-route.test:22
is "$RC" 10 "no route (404): exit 10"
IFS=/ read -r cc lc sc bc <<<"$c0"
is "$(counts)" "$((cc + 1))/$lc/$sc/$bc" "404: one CONNECT, no login"
use 5
tunnel_echo n503 "${OPTS[@]}" echo.test:7
is "$RC" 11 "503: exit 11"
is "$(counts)" "1/0/0/$bc" "503: one CONNECT, no login"

done_testing
