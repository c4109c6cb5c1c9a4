#!/bin/bash
# tests/demo.sh BINARY — show pom-proxy working on this machine: start the
# Pomerium test double and a throw-away sshd on loopback (in a temporary
# directory), mint a token, run a real ssh with
#   ProxyCommand "BINARY --pomerium-url ... %h:%p"
# print what came back and explain what happened. Everything it starts is
# stopped before it returns; nothing listens beyond 127.0.0.1.
# (`make demo` runs it after `tests/deps.sh demo`.)
if [ $# -ne 1 ]; then
	echo "usage: tests/demo.sh BINARY" >&2
	exit 2
fi
POM_PROXY=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$POM_PROXY" ] || { echo "demo: $1 is not an executable (run make)" >&2; exit 1; }
export POM_PROXY
. "$(dirname "$0")/lib/world.sh"
watchdog 120 >/dev/null

say() { printf '%s\n' "$*"; }
step() { printf '  - %s\n' "$*"; }

say "pom-proxy demo ($("$POM_PROXY" --version 2>&1))"
say ""
say "Setting up, on loopback only, in $T:"
pki >/dev/null
step "a test PKI: a root CA, and a server certificate for localhost signed by it"
start_sshd
step "a throw-away sshd on 127.0.0.1:$SSHD_PORT (its own host key; key login for $SSH_USER only)"
start_double --route ssh.demo.test:22 127.0.0.1:$SSHD_PORT alice@example.com
step "the Pomerium test double on https://localhost:$DOUBLE_PORT, one route:"
step "    ssh.demo.test:22 -> 127.0.0.1:$SSHD_PORT, allowed for alice@example.com"
TOK=$(token_file alice@example.com)
step "a token for alice@example.com (an HS256 JWT, as Pomerium issues) in $TOK"
PC="$POM_PROXY -v --pomerium-url https://localhost:$DOUBLE_PORT --alternate-ca-path $PKI/ca.pem --service-account-file $TOK %h:%p"
say ""
say "Running:"
say "  ssh -o ProxyCommand='$PC' \\"
say "      $SSH_USER@ssh.demo.test 'echo hello from \$(hostname) via pom-proxy; uname -a'"
say ""
out=$(ssh_via "$PC" ssh.demo.test 'echo hello from $(hostname) via pom-proxy; uname -a' </dev/null 2>"$T/ssh.err")
rc=$?
say "What the remote shell printed:"
printf '%s\n' "$out" | sed 's/^/  | /'
say ""
if [ $rc -ne 0 ]; then
	say "ssh failed (exit $rc). Its stderr, which includes pom-proxy's:"
	sed 's/^/  ! /' "$T/ssh.err"
	_FAILED=1
	exit 1
fi
say "pom-proxy's own account (-v, on ssh's stderr):"
grep '^pom-proxy:' "$T/ssh.err" | sed 's/^/  > /'
say ""
say "What the proxy (the double) logged:"
sed 's/^/  * /' "$DOUBLE_LOG"
say ""
say "What happened: ssh did not connect to ssh.demo.test itself (there is no"
say "such host); it started pom-proxy with '%h:%p' = ssh.demo.test:22 and spoke"
say "SSH over pom-proxy's stdin/stdout. pom-proxy opened TLS (BearSSL, TLS 1.2)"
say "to the proxy at localhost:$DOUBLE_PORT, verified its certificate against the"
say "demo CA, sent 'CONNECT ssh.demo.test:22' with 'Authorization: Pomerium"
say "<token>', got '200 OK', and from then on copied bytes both ways. The"
say "proxy checked the token and alice's access to the route, then connected"
say "the tunnel to the sshd. When ssh finished, pom-proxy went away with it."
say ""
say "Cleaning up (sshd, the double)."
done_testing >/dev/null
