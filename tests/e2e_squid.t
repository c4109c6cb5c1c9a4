#!/bin/bash
# e2e_squid.t — pom-proxy through a real TLS CONNECT proxy (squid, an
# https_port with the test certificate) to a real sshd: a remote command,
# scp of 8 MiB both ways, and squid's own refusals mapped to exit codes.
. "$(dirname "$0")/lib/world.sh"
watchdog 300
need ssh scp sha256sum setsid squid
pom_built
pki
start_sshd
start_squid
TOK=$(token_file alice@example.com)
PC="$POM_PROXY --pomerium-url https://localhost:$SQUID_PORT --alternate-ca-path $PKI/ca.pem --service-account-file $TOK %h:%p"
SSH_EXTRA=(-o Port="$SSHD_PORT")

# squid writes its access log when a tunnel ends: wait for N CONNECT lines
connects() {
	local i
	for i in $(seq 50); do
		[ "$(grep -c " CONNECT $1 " "$SQUID_DIR/access.log" 2>/dev/null)" -ge "$2" ] && break
		sleep 0.1
	done
	grep -c " CONNECT $1 " "$SQUID_DIR/access.log"
}

out=$(ssh_via "$PC" 127.0.0.1 'echo "hello from $(id -un)"; echo $((6 * 7))' </dev/null 2>"$T/ssh.err")
is "$out" "hello from $SSH_USER"$'\n42' "ssh through squid runs a remote command" ||
	{ diag_file "$T/ssh.err"; diag_file "$SQUID_DIR/cache.log"; }
is "$(connects "127.0.0.1:$SSHD_PORT" 1)" 1 "squid saw exactly one CONNECT 127.0.0.1:$SSHD_PORT"

out=$(ssh_via "$PC" localhost 'echo via-localhost' </dev/null 2>"$T/ssh.err")
is "$out" "via-localhost" "ssh localhost: squid resolves and connects" || diag_file "$T/ssh.err"

random_file "$T/up.bin" 8
random_file "$T/down.bin" 8
scp_via "$PC" "$T/up.bin" "127.0.0.1:$T/remote.bin" 2>"$T/scp.err"
is "$(sha "$T/remote.bin" 2>/dev/null)" "$(sha "$T/up.bin")" "scp 8 MiB up through squid, sha256 matches" ||
	diag_file "$T/scp.err"
scp_via "$PC" "127.0.0.1:$T/down.bin" "$T/got.bin" 2>"$T/scp.err"
is "$(sha "$T/got.bin" 2>/dev/null)" "$(sha "$T/down.bin")" "scp 8 MiB down through squid, sha256 matches" ||
	diag_file "$T/scp.err"
SSH_EXTRA=()

# squid's refusals, as pom-proxy reports them
pp=(--pomerium-url "https://localhost:$SQUID_PORT" --alternate-ca-path "$PKI/ca.pem" --service-account-file "$TOK")
run_pp "${pp[@]}" "127.0.0.1:$(closed_port)"
expect_failure 11 'unreach|503|destination|connect' "squid cannot connect upstream (503)"
# 192.0.2.1 (TEST-NET-1) is refused by squid's ACL before any connection
run_pp "${pp[@]}" 192.0.2.1:22
expect_failure 9 'denie|403|not allowed|forbidden' "squid's ACL refuses the destination (403)"

done_testing
