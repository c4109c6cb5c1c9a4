#!/bin/bash
# The verified-chain cache (proxycmd/chaincache.h), end to end against the
# double: a chain verified in full is kept; the same bytes under the same
# trust store and name skip the signature checks; another chain, name or
# trust store, a certificate that has expired since it was cached, a
# tampered or non-private cache file all mean full verification (a stale
# certificate after the path does not);
# --disable-tls-verification neither reads nor writes it. TLS sessions are
# removed before each tunnel so that every handshake is a full one.
. "$(dirname "$0")/lib/world.sh"
watchdog 180
pom_built
need openssl
pki
printf 'chain cache payload\n' >"$T/payload"
start_upstream xfer --send "$T/payload" --save "$T/saved" --expect 0
TOK=$(token_file alice@example.com)
CACHE=$XDG_CACHE_HOME/pom-proxy
CHAINS=$CACHE/verified-chains
ROUTE=svc.corp.test:7000

start_chain_double() { # CERT KEY
	start_double --cert "$1" --key "$2" --route "$ROUTE" "127.0.0.1:$UPSTREAM_PORT" '*'
}

# tunnel [HOST] [OPTIONS...] — one tunnel with -v and no TLS session to resume
tunnel() {
	local host=${1:-localhost}
	shift || true
	rm -rf "$CACHE/sessions"
	run_pp -v --pomerium-url "https://$host:$DOUBLE_PORT" \
		--alternate-ca-path "${CA_FILE:-$T/trust.pem}" --service-account-file "$TOK" "$@" "$ROUTE"
}

# the trust store: the RSA root of the Let's Encrypt-shaped hierarchy (so
# the whole chain, cross-sign included, is checked) and the test root
cat "$PKI/le-root-rsa.pem" "$PKI/ca-only.pem" >"$T/trust.pem"
kept="verified-chain cache: chain verified in full and kept"
hit="verified-chain cache: hit"

start_chain_double "$PKI/le-chain.pem" "$PKI/le-leaf.key"

tunnel
is "$RC" 0 "first tunnel through the Let's Encrypt-shaped chain works"
is "$OUT" "chain cache payload" "  and carries the bytes"
like "$ERR" "$kept" "  its chain is verified in full and kept"
unlike "$ERR" "$hit" "  (not a hit: nothing was cached)"
ok "the cache file exists" [ -f "$CHAINS" ]
is "$(stat -c %a "$CHAINS")" 600 "  and is private (0600)"

tunnel
is "$RC" 0 "second tunnel, same chain, same trust store, same name"
like "$ERR" "$hit, 3 certificates" "  is a hit: the signatures are not checked again"
like "$ERR" "full handshake" "  in a full TLS handshake (no session resumed)"
is "$OUT" "chain cache payload" "  and carries the bytes"

tunnel 127.0.0.1
is "$RC" 0 "the same proxy by its IP address works"
like "$ERR" "$kept" "  another name: verified in full (IP SAN check included) and kept"
tunnel 127.0.0.1
like "$ERR" "$hit" "  and then a hit for that address"

cp "$T/trust.pem" "$T/ca-copy.pem"
CA_FILE=$T/ca-copy.pem tunnel
is "$RC" 0 "another trust store (a copy of the same anchors elsewhere) works"
like "$ERR" "$kept" "  and verifies in full: another trust store is another key"
touch -d '1 hour ago' "$T/ca-copy.pem"
CA_FILE=$T/ca-copy.pem tunnel
like "$ERR" "$kept" "  a changed trust source (its time) also verifies in full"

# a store that does not trust the cached chain's CA is not fooled
rm -rf "$CACHE/sessions"
SSL_CERT_FILE=$PKI/other-ca.pem run_pp --pomerium-url "https://localhost:$DOUBLE_PORT" \
	--service-account-file "$TOK" "$ROUTE"
expect_failure 7 'certificate|trust|ca' "a cached chain under a store without its CA"

# another chain from the same proxy and name
kill_tree "$DOUBLE_PID"
wait_gone "$DOUBLE_PID" 10
start_double --port "$DOUBLE_PORT" --cert "$PKI/server.pem" --key "$PKI/server.key" \
	--route "$ROUTE" "127.0.0.1:$UPSTREAM_PORT" '*'
tunnel
is "$RC" 0 "the proxy now presents another chain"
like "$ERR" "$kept" "  verified in full and kept"
tunnel
like "$ERR" "$hit, 1 certificates" "  then a hit for the new chain"

# a stale certificate sent after the path (an expired one after the Let's
# Encrypt-shaped chain, as servers that kept an old cross-sign do): full
# verification stops at the anchor and never uses it, so the record does
# not check its dates and the next handshake is a hit
cat "$PKI/le-chain.pem" "$PKI/expired.pem" >"$T/stale-chain.pem"
kill_tree "$DOUBLE_PID"
wait_gone "$DOUBLE_PID" 10
start_double --port "$DOUBLE_PORT" --cert "$T/stale-chain.pem" --key "$PKI/le-leaf.key" \
	--route "$ROUTE" "127.0.0.1:$UPSTREAM_PORT" '*'
tunnel
is "$RC" 0 "a chain with an expired certificate after the path works"
like "$ERR" "$kept" "  verified in full and kept"
tunnel
like "$ERR" "$hit, 4 certificates" "  then a hit: the unused expired certificate is not checked"

# the cache file's own integrity
cp "$CHAINS" "$T/chains.good"
python3 - "$CHAINS" <<'PYEOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[20] ^= 1
open(p, "wb").write(bytes(b))
PYEOF
tunnel
is "$RC" 0 "a tampered cache file: the tunnel works"
like "$ERR" "verified-chain cache .* is corrupt" "  the file is found corrupt"
like "$ERR" "$kept" "  and the chain verified in full (and the file rewritten)"
tunnel
like "$ERR" "$hit" "  then a hit again"

head -c 10 /dev/urandom >"$CHAINS"
tunnel
like "$ERR" "$kept" "a truncated cache file: full verification"

chmod 644 "$CHAINS"
tunnel
is "$RC" 0 "a cache file readable by others: the tunnel works"
like "$ERR" "verified-chain cache .* unusable" "  the file is refused"
unlike "$ERR" "$hit" "  no hit from it"
chmod 600 "$CHAINS"

ln -sf "$T/chains.good" "$T/chains.link"
rm -f "$CHAINS"
ln -s "$T/chains.good" "$CHAINS"
tunnel
unlike "$ERR" "$hit" "a symlinked cache file is not read"
rm -f "$CHAINS"

# an expired certificate, even a cached one: a leaf that expires 10 s
# from now is cached, then used again once it has expired
mkdir -p "$T/short/newcerts"
: >"$T/short/index.txt"
cat >"$T/short/cnf" <<EOF
[ ca ]
default_ca = short
[ short ]
database = $T/short/index.txt
new_certs_dir = $T/short/newcerts
serial = $T/short/serial
default_md = sha256
policy = any
copy_extensions = none
[ any ]
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
EOF
end=$(($(date +%s) + 10))
mk_short_leaf() {
	openssl req -new -config "$T/short/cnf" -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$T/short/leaf.key" -subj /CN=short -out "$T/short/leaf.csr" &&
	openssl ca -batch -config "$T/short/cnf" -notext -rand_serial -cert "$PKI/ca-only.pem" \
		-keyfile "$PKI/ca.key" -startdate "$(date -u -d '1 hour ago' +%Y%m%d%H%M%SZ)" \
		-enddate "$(date -u -d "@$end" +%Y%m%d%H%M%SZ)" -extensions leaf \
		-in "$T/short/leaf.csr" -out "$T/short/leaf.pem"
} >"$T/short/log" 2>&1
ok "a leaf valid for 10 more seconds is made" mk_short_leaf || diag_file "$T/short/log"
kill_tree "$DOUBLE_PID"
wait_gone "$DOUBLE_PID" 10
start_double --port "$DOUBLE_PORT" --cert "$T/short/leaf.pem" --key "$T/short/leaf.key" \
	--route "$ROUTE" "127.0.0.1:$UPSTREAM_PORT" '*'
tunnel
is "$RC" 0 "the short-lived leaf works while it is valid"
like "$ERR" "$kept" "  and its chain is kept"
while [ "$(date +%s)" -le $((end + 1)) ]; do sleep 0.5; done
sum_before=$(sha "$CHAINS")
tunnel
like "$ERR" "certificate 0 is outside its validity period: full verification" \
	"once it has expired the cached chain is not used"
is "$RC" 7 "  full verification refuses it (exit 7)"
like "$(tail -1 "$T/pp.err")" 'expired' "  and says it has expired"
is "$(sha "$CHAINS")" "$sum_before" "  nothing new is kept"

# --disable-tls-verification neither uses nor writes the cache
tunnel localhost --disable-tls-verification
is "$RC" 0 "an unverified tunnel works"
unlike "$ERR" "verified-chain" "  and does not touch the verified-chain cache"
is "$(sha "$CHAINS")" "$sum_before" "  the file is unchanged"

timeout 10 "$POM_PROXY" cache clear >/dev/null
ok "cache clear removes the verified-chain cache" [ ! -e "$CHAINS" ]
done_testing
