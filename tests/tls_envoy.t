#!/bin/bash
# tls_envoy.t — the handshake a stock Pomerium gives: Envoy's TLS 1.2
# parameters (server's order: ECDHE-ECDSA-AES256-GCM-SHA384 over X25519,
# ALPN h2,http/1.1 offered), Envoy's 200 to CONNECT, and a Let's
# Encrypt-shaped chain (P-256 leaf, P-384 intermediate, P-384 root also
# cross-signed by an RSA-4096 root) under each trust a client may have:
# the RSA root only (through the cross-sign), the P-384 root (the chain
# ends at the intermediate), neither. The test CA's own chains (P-256
# leaf, P-256 intermediate, RSA leaf; by name and IP literal) that the
# double no longer serves by default. The double, then squid set up the
# same way (world.sh's SQUID_SHAPE=envoy). Last, a listener that speaks
# only HTTP/2 (codec_type: http2): one line saying so, exit 13.
. "$(dirname "$0")/lib/world.sh"
watchdog 180
need setsid python3 openssl squid
pom_built
pki
printf 'HELLO-FROM-UPSTREAM\n' >"$T/greeting"
start_upstream echo --send "$T/greeting" --expect 0
ECHO=$UPSTREAM_PORT
TOK=$(token_file alice@example.com)
export PP_TIMEOUT=30
UNTRUSTED='unknown authority|not trusted|untrusted|issuer|trust anchor'

# tunnel URL [pom-proxy args] — one tunnel to $DEST (default echo.test:7)
# with -v; fails URL [args] — the same without -v (one stderr line)
tunnel() {
	local url=$1
	shift
	run_pp -v --pomerium-url "$url" --service-account-file "$TOK" "$@" "${DEST:-echo.test:7}"
}
fails() {
	local url=$1
	shift
	run_pp --pomerium-url "$url" --service-account-file "$TOK" "$@" "${DEST:-echo.test:7}"
}

# ---------------------------------------------------------------- 1. Envoy's parameters
start_double --route echo.test:7 "127.0.0.1:$ECHO" '*'
tunnel "https://localhost:$DOUBLE_PORT" --alternate-ca-path "$PKI/ca.pem"
is "$RC/$OUT" 0/HELLO-FROM-UPSTREAM "the double's defaults (Envoy's, Let's Encrypt-shaped chain): tunnel works" ||
	diag "$ERR"
line=$(grep '^CONNECT echo.test:7 200 ' "$DOUBLE_LOG" | tail -1)
like "$line" ' tls=TLSv1\.2 cipher=ECDHE-ECDSA-AES256-GCM-SHA384 group=X25519$' \
	"the server's order wins: TLS 1.2 ECDHE-ECDSA-AES256-GCM-SHA384 over X25519"
like "$line" ' alpn=http/1\.1 ' "  ALPN http/1.1 (the double offers h2,http/1.1)"
like "$ERR" 'TLS 1\.2 ECDHE-ECDSA-AES256-GCM-SHA384 over X25519 with localhost in ' \
	"  pom-proxy -v names the suite and the group it negotiated"

# the client's order, when the double is told to follow it: BearSSL 0.6
# lists AES128-GCM first and offers P-256 first
start_double --route echo.test:7 "127.0.0.1:$ECHO" '*' --client-cipher-order
tunnel "https://localhost:$DOUBLE_PORT" --alternate-ca-path "$PKI/ca.pem"
is "$RC/$OUT" 0/HELLO-FROM-UPSTREAM "--client-cipher-order: tunnel works"
like "$(grep '^CONNECT echo.test:7 200 ' "$DOUBLE_LOG" | tail -1)" ' cipher=ECDHE-ECDSA-AES128-GCM-SHA256 group=P-256$' \
	"  then pom-proxy's own order: ECDHE-ECDSA-AES128-GCM-SHA256 over P-256"

# Envoy's 200: date, server: envoy, x-request-id, no body (seen with openssl)
start_double --route echo.test:7 "127.0.0.1:$ECHO" '*'
printf 'CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\nAuthorization: Pomerium %s\r\n\r\n' "$(cat "$TOK")" |
	timeout -k 2 10 openssl s_client -quiet -connect "127.0.0.1:$DOUBLE_PORT" -servername localhost \
		-CAfile "$PKI/ca.pem" -verify_return_error >"$T/head.out" 2>"$T/head.err"
head=$(tr -d '\r' <"$T/head.out")
like "$head" $'^HTTP/1\\.1 200 OK\ndate: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT\nserver: envoy\nx-request-id: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n\nHELLO-FROM-UPSTREAM$' \
	"the 200 carries date, server: envoy, x-request-id and no body" || diag_file "$T/head.err"
unlike "$head" 'content-length' "  and no content-length"

# groups are exactly Envoy's X25519, P-256: the server's order wins over a
# client's P-256 first, and P-384 alone is refused
sc_group() { # PORT GROUPS — the group openssl s_client got (empty when refused)
	echo | timeout -k 2 10 openssl s_client -connect "127.0.0.1:$1" -servername localhost -tls1_2 \
		-groups "$2" 2>&1 | sed -n 's/^Server Temp Key: //p' | head -1 |
		awk -F', *' '$1 == "ECDH" { n = $2; sub(/prime256v1/, "P-256", n); sub(/secp384r1/, "P-384", n)
			print n; next } { print $1 }'
}
is "$(sc_group "$DOUBLE_PORT" P-256:X25519)" X25519 "a client offering P-256 before X25519 gets X25519"
is "$(sc_group "$DOUBLE_PORT" P-384)" "" "a client offering only P-384 is refused (groups: X25519, P-256)"
echo | timeout -k 2 10 openssl s_client -connect "127.0.0.1:$DOUBLE_PORT" -servername localhost \
	-alpn h2 >"$T/h2.out" 2>&1
like "$(cat "$T/h2.out")" 'ALPN protocol: h2' "a client offering only h2 gets h2, as from Envoy"

# ---------------------------------------------------------------- 2. Let's Encrypt-shaped chains
cat "$PKI/le-leaf.pem" "$PKI/le-int.pem" >"$T/le-nocross.pem"
start_double --route echo.test:7 "127.0.0.1:$ECHO" '*'
LE=$DOUBLE_PORT
start_double --route echo.test:7 "127.0.0.1:$ECHO" '*' --cert "$T/le-nocross.pem" --key "$PKI/le-leaf.key"
NOCROSS=$DOUBLE_PORT
start_double --route echo.test:7 "127.0.0.1:$ECHO" '*' --cert "$PKI/le-expired-chain.pem" \
	--key "$PKI/le-expired.key" --listen 127.0.0.1 --listen ::1
EXPIRED=$DOUBLE_PORT

tunnel "https://localhost:$LE" --alternate-ca-path "$PKI/le-root-rsa.pem"
is "$RC/$OUT" 0/HELLO-FROM-UPSTREAM "trust in the RSA-4096 root only: leaf -> P-384 intermediate -> cross-sign -> RSA root" ||
	diag "$ERR"
fails "https://localhost:$NOCROSS" --alternate-ca-path "$PKI/le-root-rsa.pem"
expect_failure 7 "$UNTRUSTED" "trust in the RSA root only, chain without the cross-sign"

tunnel "https://localhost:$LE" --alternate-ca-path "$PKI/le-root-ec.pem"
is "$RC/$OUT" 0/HELLO-FROM-UPSTREAM "trust in the P-384 root: the chain ends at the intermediate" || diag "$ERR"
tunnel "https://localhost:$NOCROSS" --alternate-ca-path "$PKI/le-root-ec.pem"
is "$RC/$OUT" 0/HELLO-FROM-UPSTREAM "trust in the P-384 root, chain without the cross-sign" || diag "$ERR"

fails "https://localhost:$LE" --alternate-ca-path "$PKI/ca-only.pem"
expect_failure 7 "$UNTRUSTED" "trust in neither root"
fails "https://localhost:$LE"
expect_failure 7 "$UNTRUSTED" "no --alternate-ca-path: the system store has neither test root"

fails "https://localhost:$EXPIRED" --alternate-ca-path "$PKI/le-root-rsa.pem"
expect_failure 7 'expired' "an expired leaf under the same intermediate (RSA root trusted)"
fails "https://localhost:$EXPIRED" --alternate-ca-path "$PKI/le-root-ec.pem"
expect_failure 7 'expired' "an expired leaf under the same intermediate (P-384 root trusted)"

# IP literals: the Let's Encrypt-shaped leaf carries the IP SANs too
tunnel "https://127.0.0.1:$LE" --alternate-ca-path "$PKI/le-root-rsa.pem"
is "$RC/$OUT" 0/HELLO-FROM-UPSTREAM "https://127.0.0.1: the leaf's IP SAN, through the cross-sign" || diag "$ERR"

# ---------------------------------------------------------------- 3. the test CA's own chains
# what the double served before the Let's Encrypt-shaped chain, still met:
# a P-256 leaf signed by the P-256 root, the same via a P-256
# intermediate, an RSA-2048 leaf; by name and by IP literal
for c in server:server chain:chain server-rsa:server-rsa; do
	start_double --route echo.test:7 "127.0.0.1:$ECHO" '*' --cert "$PKI/${c%%:*}.pem" \
		--key "$PKI/${c##*:}.key" --listen 127.0.0.1 --listen ::1
	for u in localhost 127.0.0.1 '[::1]'; do
		tunnel "https://$u:$DOUBLE_PORT" --alternate-ca-path "$PKI/ca.pem"
		is "$RC/$OUT" 0/HELLO-FROM-UPSTREAM "${c%%:*}.pem (test CA) via https://$u" || diag "$ERR"
	done
	fails "https://localhost:$DOUBLE_PORT" --alternate-ca-path "$PKI/le-root-ec.pem"
	expect_failure 7 "$UNTRUSTED" "${c%%:*}.pem is not trusted through the Let's Encrypt-shaped roots"
done
like "$(grep '^CONNECT echo.test:7 200 ' "$DOUBLE_LOG" | tail -1)" ' cipher=ECDHE-RSA-AES256-GCM-SHA384 group=X25519$' \
	"the RSA leaf: ECDHE-RSA-AES256-GCM-SHA384 over X25519"

# ---------------------------------------------------------------- 4. squid, Envoy-shaped
echo 'logformat envoyt %rm %>Hs %ssl::>negotiated_version %ssl::>negotiated_cipher' >"$T/squid-extra.conf"
SQUID_LOGFORMAT=envoyt start_squid squid "$T/squid-extra.conf"
DEST=127.0.0.1:$ECHO
tunnel "https://localhost:$SQUID_PORT" --alternate-ca-path "$PKI/le-root-rsa.pem"
is "$RC" 0 "squid (SQUID_SHAPE=envoy): tunnel works, RSA root trusted" || diag "$ERR"
like "$ERR" 'TLS 1\.2 ECDHE-ECDSA-AES256-GCM-SHA384 over X25519 with localhost' \
	"  ECDHE-ECDSA-AES256-GCM-SHA384 over X25519"
for i in $(seq 50); do grep -q 'CONNECT' "$SQUID_DIR/access.log" 2>/dev/null && break; sleep 0.1; done
like "$(grep CONNECT "$SQUID_DIR/access.log" | tail -1)" '^CONNECT 200 TLS/1\.2 ECDHE-ECDSA-AES256-GCM-SHA384$' \
	"  squid's log agrees"
is "$(sc_group "$SQUID_PORT" P-256:X25519)" X25519 "  squid: a client offering P-256 first gets X25519"
is "$(sc_group "$SQUID_PORT" P-384)" "" "  squid: P-384 alone is refused (its OpenSSL configuration says X25519:P-256)"

# ---------------------------------------------------------------- 5. codec_type: http2
# a listener that speaks only HTTP/2 (protocol.md section 9): no ALPN for
# pom-proxy's http/1.1, then HTTP/2 frames in answer to the CONNECT
unset DEST
start_double --route echo.test:7 "127.0.0.1:$ECHO" '*' --alpn h2
fails "https://localhost:$DOUBLE_PORT" --alternate-ca-path "$PKI/ca.pem"
expect_failure 13 'answered connect in http/2: .*codec_type: http2.*needs http/1\.1' \
	"an HTTP/2-only listener (codec_type: http2)"
like "$(grep '^HTTP2-ONLY ' "$DOUBLE_LOG" | tail -1)" "^HTTP2-ONLY first=b'CONNECT echo\.test:7 HTTP' alpn=- " \
	"  the double got pom-proxy's CONNECT with no ALPN agreed, and answered in HTTP/2"
# what it sends, seen with openssl: the frames pom-proxy recognised
printf 'CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\n\r\n' |
	timeout -k 2 10 openssl s_client -quiet -connect "127.0.0.1:$DOUBLE_PORT" -servername localhost \
		-alpn http/1.1 -CAfile "$PKI/ca.pem" 2>/dev/null | od -An -tx1 -N9 | tr -d ' \n' >"$T/h2.head"
is "$(cat "$T/h2.head")" 000012040000000000 "  its first bytes: an HTTP/2 SETTINGS frame header on stream 0"

done_testing
