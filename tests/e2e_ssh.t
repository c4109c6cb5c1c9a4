#!/bin/bash
# e2e_ssh.t — a real ssh through pom-proxy (ProxyCommand) and the Pomerium
# double to a real sshd: remote commands, scp of 8 MiB both ways, every DEST
# form, IPv6, the token cache; then 32 MiB each way through the bare tunnel.
. "$(dirname "$0")/lib/world.sh"
watchdog 420
need ssh scp sha256sum setsid
pom_built
pki
start_sshd
start_double --route ssh.corp.test:22 127.0.0.1:$SSHD_PORT alice@example.com
P=$DOUBLE_PORT
TOK=$(token_file alice@example.com)
PC=$(pp_cmd --service-account-file "$TOK")

# ssh_ok DESC PROXYCOMMAND [HOST] — a remote command's output comes back
ssh_ok() {
	local out
	out=$(ssh_via "$2" "${3:-ssh.corp.test}" 'echo "hello from $(id -un)"; echo $((6 * 7))' </dev/null 2>"$T/ssh.err")
	if ! is "$out" "hello from $SSH_USER"$'\n42' "$1"; then
		diag_file "$T/ssh.err"
		diag_file "$DOUBLE_LOG" 5
	fi
}

# scp_ok DESC PROXYCOMMAND — 8 MiB up and 8 MiB down, checksums compared
random_file "$T/up.bin" 8
random_file "$T/down.bin" 8
_scps=0
scp_ok() {
	_scps=$((_scps + 1))
	local r=$T/remote$_scps.bin g=$T/got$_scps.bin
	scp_via "$2" "$T/up.bin" "ssh.corp.test:$r" 2>"$T/scp.err"
	is "$(sha "$r" 2>/dev/null)" "$(sha "$T/up.bin")" "$1: scp 8 MiB up, sha256 matches" ||
		diag_file "$T/scp.err"
	scp_via "$2" "ssh.corp.test:$T/down.bin" "$g" 2>"$T/scp.err"
	is "$(sha "$g" 2>/dev/null)" "$(sha "$T/down.bin")" "$1: scp 8 MiB down, sha256 matches" ||
		diag_file "$T/scp.err"
	rm -f "$r" "$g"
}

# --- the basic path ----------------------------------------------------------
ssh_ok "ssh runs a remote command through pom-proxy" "$PC"
is "$(count_log '^CONNECT ssh.corp.test:22 ')" 1 "exactly one CONNECT for one ssh connection"
like "$(grep '^CONNECT' "$DOUBLE_LOG" | head -1)" \
	'^CONNECT ssh.corp.test:22 200 token=yes via=authorization user=alice@example.com sni=localhost alpn=http/1.1 ' \
	"CONNECT carries 'Authorization: Pomerium', SNI localhost, ALPN http/1.1"
is "$(count_log '^GET ')" 0 "no extra request (no HTTP/3 probe, no login)"
scp_ok "service-account file" "$PC"

# --- --coalesce: the banner arrives in the same record as the 200 ----------
start_double --coalesce --route ssh.corp.test:22 127.0.0.1:$SSHD_PORT '*'
PCC="$POM_PROXY --pomerium-url https://localhost:$DOUBLE_PORT --alternate-ca-path $PKI/ca.pem --service-account-file $TOK %h:%p"
ssh_ok "--coalesce: bytes that come with the 200 are kept (ssh works)" "$PCC"
scp_ok "--coalesce" "$PCC"

# --- DEST forms ----------------------------------------------------------------
ssh_ok "DEST https://localhost:PORT/%h:%p (no --pomerium-url)" \
	"$POM_PROXY --alternate-ca-path $PKI/ca.pem --service-account-file $TOK https://localhost:$P/%h:%p"
ssh_ok "pomerium-cli form: tcp --listen - %h:%p" \
	"$POM_PROXY tcp --listen - --pomerium-url https://localhost:$P --alternate-ca-path $PKI/ca.pem --service-account-file $TOK %h:%p"
ssh_ok "the token from POM_PROXY_SERVICE_ACCOUNT_FILE" \
	"env POM_PROXY_SERVICE_ACCOUNT_FILE=$TOK $POM_PROXY --pomerium-url https://localhost:$P --alternate-ca-path $PKI/ca.pem %h:%p"
ssh_ok "the token from --ca-cert (inline base64 CA) and --service-account" \
	"$POM_PROXY --pomerium-url https://localhost:$P --ca-cert $(base64 -w0 "$PKI/ca.pem") --service-account $(cat "$TOK") %h:%p"

# --- IP literals: verified against the certificate's IP SANs -----------------
start_double --listen ::1 --route ssh.corp.test:22 127.0.0.1:$SSHD_PORT '*'
P6=$DOUBLE_PORT
ssh_ok "IPv6: --pomerium-url https://[::1]:PORT (IP SAN ::1)" \
	"$POM_PROXY --pomerium-url https://[::1]:$P6 --alternate-ca-path $PKI/ca.pem --service-account-file $TOK %h:%p"
like "$(grep '^CONNECT' "$DOUBLE_LOG" | tail -1)" ' 200 .* sni=- ' "no SNI for an IP literal"
ssh_ok "IPv4 literal: --pomerium-url https://127.0.0.1:PORT (IP SAN 127.0.0.1)" \
	"$POM_PROXY --pomerium-url https://127.0.0.1:$P --alternate-ca-path $PKI/ca.pem --service-account-file $TOK %h:%p"
start_double --listen ::1 --route "[::1]:$SSHD_PORT" "[::1]:$SSHD_PORT" '*'
SSH_EXTRA=(-o Port="$SSHD_PORT")
ssh_ok "IPv6 destination: ssh -p PORT ::1 sends CONNECT [::1]:PORT" \
	"$POM_PROXY --pomerium-url https://[::1]:$DOUBLE_PORT --alternate-ca-path $PKI/ca.pem --service-account-file $TOK %h:%p" \
	::1
SSH_EXTRA=()
is "$(count_log "^CONNECT \\[::1\\]:$SSHD_PORT 200 ")" 1 "the IPv6 destination is bracketed in CONNECT"

# --- the token cache ----------------------------------------------------------
cache=$XDG_CACHE_HOME/pom-proxy/tokens
mkdir -p "$cache"
chmod 700 "$XDG_CACHE_HOME/pom-proxy" "$cache"
(umask 077 && mint_token alice@example.com >"$cache/localhost:$P")
n0=$(count_log '^CONNECT .* token=yes' "$T/double1.log")
ssh_ok "a cached token (tokens/localhost:PORT, 0600 in 0700) is used without any flag" \
	"$POM_PROXY --pomerium-url https://localhost:$P --alternate-ca-path $PKI/ca.pem %h:%p"
is "$(count_log '^CONNECT .* token=yes' "$T/double1.log")" $((n0 + 1)) "the cached token was sent"
(umask 077 && mint_token alice@example.com >"$cache/[::1]:$P6")
ssh_ok "a cached token for an IPv6 proxy (tokens/[::1]:PORT)" \
	"$POM_PROXY --pomerium-url https://[::1]:$P6 --alternate-ca-path $PKI/ca.pem %h:%p"

# an expired cached token is not sent: the double sees no token, answers 302;
# the sign-in that follows cannot finish here (no browser, no terminal)
(umask 077 && mint_token alice@example.com $(($(date +%s) - 3600)) >"$cache/localhost:$P")
before=$(wc -l <"$T/double1.log")
run_pp --pomerium-url "https://localhost:$P" --alternate-ca-path "$PKI/ca.pem" \
	--no-browser --login-timeout 2 ssh.corp.test:22
is "$RC" 8 "expired cached token: exit 8 (sign-in required)" || diag "$ERR"
first=$(tail -n +$((before + 1)) "$T/double1.log" | grep '^CONNECT' | head -1)
like "$first" '^CONNECT ssh.corp.test:22 302 token=no ' "expired cached token: CONNECT went without a token"
is "$(tail -n +$((before + 1)) "$T/double1.log" | grep -c 'token=yes')" 0 "expired cached token: never sent"
is "$(wc -c <"$T/pp.out")" 0 "expired cached token: nothing on stdout"

# --- bulk data through the bare tunnel (no ssh): 32 MiB each way ----------------
# the upstream sends 32 MiB and closes once it has received 32 MiB; stdin
# stays open until all 32 MiB came out of stdout
size=$((32 * 1024 * 1024))
random_file "$T/bulk_up" 32
random_file "$T/bulk_down" 32
start_upstream xfer --send "$T/bulk_down" --save "$T/bulk_got_up" --expect $size
start_double --route bulk.test:9 127.0.0.1:$UPSTREAM_PORT '*'
feed_until "$T/bulk_up" "$T/bulk_got_down" $size 120 |
	setsid -w timeout -k 5 150 "$POM_PROXY" --pomerium-url "https://localhost:$DOUBLE_PORT" \
		--alternate-ca-path "$PKI/ca.pem" --service-account-file "$TOK" bulk.test:9 \
		>"$T/bulk_got_down" 2>"$T/bulk.err"
rc=${PIPESTATUS[1]}
is "$rc" 0 "bulk: pom-proxy exits 0 when the upstream is done" || diag_file "$T/bulk.err"
is "$(sha "$T/bulk_got_down")" "$(sha "$T/bulk_down")" "bulk: 32 MiB proxy -> stdout, sha256 matches"
wait_file "$T/bulk_got_up" 10
is "$(sha "$T/bulk_got_up" 2>/dev/null)" "$(sha "$T/bulk_up")" "bulk: 32 MiB stdin -> proxy, sha256 matches"
is "$(wc -c <"$T/bulk.err")" 0 "bulk: nothing on stderr"

done_testing
