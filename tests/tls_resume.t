#!/bin/bash
# TLS session resumption across pom-proxy processes: the second connection
# to a proxy resumes; a corrupt session file or a server that forgot the
# session falls back to a full, verified handshake; nothing is kept with
# --disable-tls-verification or a client certificate.
. "$(dirname "$0")/lib/world.sh"
watchdog 120
pom_built
pki
printf 'resumption test payload\n' >"$T/payload"
start_upstream xfer --send "$T/payload" --save "$T/saved" --expect 0
start_double --route "svc.corp.test:7000" "127.0.0.1:$UPSTREAM_PORT" '*'
TOK=$(token_file alice@example.com)
SESSION=$XDG_CACHE_HOME/pom-proxy/sessions/localhost:$DOUBLE_PORT

open_tunnel() {
	run_pp -v --pomerium-url "https://localhost:$DOUBLE_PORT" --alternate-ca-path "$PKI/ca.pem" \
		--service-account-file "$TOK" "$@" svc.corp.test:7000
}

open_tunnel
is "$RC" 0 "first tunnel works"
is "$OUT" "resumption test payload" "first tunnel delivers the payload"
like "$ERR" "full handshake" "first tunnel: full handshake"
like "$ERR" 'TLS 1.2 [A-Z0-9-]+ over (X25519|P-256|P-384) with' "  which names the group of its key exchange"
ok "the session is kept" [ -f "$SESSION" ]
is "$(stat -c %a "$SESSION")" 600 "session file is 0600"
is "$(stat -c %a "$(dirname "$SESSION")")" 700 "sessions directory is 0700"

open_tunnel
is "$RC" 0 "second tunnel works"
is "$OUT" "resumption test payload" "second tunnel delivers the payload"
like "$ERR" "resumed" "second tunnel resumed the session"
unlike "$ERR" ' over ' "  and names no group: a resumption has no key exchange"
unlike "$ERR" "trust anchors" "a resumed handshake loads no trust store"

head -c 133 /dev/urandom >"$SESSION"
open_tunnel
is "$RC" 0 "tunnel with a corrupt session file works"
like "$ERR" "full handshake" "corrupt session file: full handshake"
open_tunnel
like "$ERR" "resumed" "the corrupt file was replaced by a good one"

printf 'short' >"$SESSION"
open_tunnel
is "$RC" 0 "tunnel with a truncated session file works"
like "$ERR" "full handshake" "truncated session file: full handshake"

# a new double process does not know the session: it declines it
kill_tree "$DOUBLE_PID"
wait_gone "$DOUBLE_PID" 10
start_double --port "$DOUBLE_PORT" --route "svc.corp.test:7000" "127.0.0.1:$UPSTREAM_PORT" '*'
open_tunnel
is "$RC" 0 "tunnel after the server forgot the session works"
like "$ERR" "resumption declined" "a declined session falls back to a full handshake"

# another trust configuration does not reuse the session
cat "$PKI/ca.pem" >"$T/ca-copy.pem"
run_pp -v --pomerium-url "https://localhost:$DOUBLE_PORT" --alternate-ca-path "$T/ca-copy.pem" \
	--service-account-file "$TOK" svc.corp.test:7000
is "$RC" 0 "tunnel with other trust settings works"
like "$ERR" "full handshake" "other trust settings: no resumption"

rm -f "$SESSION"
open_tunnel --disable-tls-verification
is "$RC" 0 "insecure tunnel works"
ok "no session kept without verification" [ ! -e "$SESSION" ]

start_double --route "svc.corp.test:7000" "127.0.0.1:$UPSTREAM_PORT" '*' --client-ca "$PKI/client-ca.pem"
SESSION2=$XDG_CACHE_HOME/pom-proxy/sessions/localhost:$DOUBLE_PORT
open_tunnel --client-cert "$PKI/client-ec.pem" --client-key "$PKI/client-ec.key"
is "$RC" 0 "tunnel with a client certificate works"
ok "no session kept with a client certificate" [ ! -e "$SESSION2" ]
done_testing
