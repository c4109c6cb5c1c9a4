#!/bin/bash
# The tunnel through a corporate forward proxy: a real squid, plain http://
# and https://, with and without Basic credentials (from the URL and from a
# file), https_proxy from the environment, and no_proxy bypassing it.
. "$(dirname "$0")/lib/world.sh"
watchdog 180
pom_built
need squid
pki
printf 'through the forward proxy\n' >"$T/payload"
start_upstream xfer --send "$T/payload" --save "$T/saved" --expect 0
start_double --route "svc.corp.test:7000" "127.0.0.1:$UPSTREAM_PORT" '*'
TOK=$(token_file alice@example.com)

# fwd_squid NAME [auth] — a forward squid (http_port and https_port), CONNECT
# to loopback only; with "auth", Basic credentials fwduser:s3cret required.
# Sets FWD_HTTP, FWD_HTTPS, FWD_LOG, FWD_DIR.
fwd_squid() {
	local extra=$T/$1.conf
	: >"$extra"
	if [ "${2:-}" = auth ]; then
		printf 'fwduser:%s\n' "$(openssl passwd -apr1 s3cret)" >"$T/$1.passwd"
		chmod 644 "$T/$1.passwd"
		{
			echo "auth_param basic program /usr/lib/squid/basic_ncsa_auth $T/$1.passwd"
			echo "auth_param basic realm pomtest"
			echo "acl authed proxy_auth REQUIRED"
			echo "http_access deny !authed"
		} >"$extra"
	fi
	start_squid "$1" "$extra"
	FWD_HTTP=$SQUID_HTTP_PORT
	FWD_HTTPS=$SQUID_PORT
	FWD_DIR=$SQUID_DIR
	FWD_LOG=$SQUID_DIR/access.log
}

# through [OPTIONS...] — pom-proxy -v to svc.corp.test:7000 via the double
through() {
	run_pp -v --pomerium-url "https://localhost:$DOUBLE_PORT" --alternate-ca-path "$PKI/ca.pem" \
		--service-account-file "$TOK" "$@" svc.corp.test:7000
}

# explain — after a failed assertion: what pom-proxy and the forward squid said
explain() {
	diag "pom-proxy exit $RC"
	diag "$ERR"
	diag_file "$FWD_LOG" 5
	diag_file "$FWD_DIR/cache.log" 10
}

fwd_squid fwd
through --proxy "http://127.0.0.1:$FWD_HTTP"
is "$RC" 0 "through an http:// forward proxy: exit 0" || explain
is "$OUT" "through the forward proxy" "through an http:// forward proxy: data arrives"
like "$(cat "$FWD_LOG")" "CONNECT localhost:$DOUBLE_PORT" "the forward proxy saw CONNECT to the Pomerium proxy"

through --proxy "https://localhost:$FWD_HTTPS"
is "$RC" 0 "through an https:// forward proxy (TLS in TLS): exit 0" || explain
is "$OUT" "through the forward proxy" "through an https:// forward proxy: data arrives"

https_proxy="http://127.0.0.1:$FWD_HTTP" through
is "$RC" 0 "https_proxy from the environment is used" || explain
like "$ERR" "forward proxy http://127.0.0.1:$FWD_HTTP \\(from https_proxy\\)" "  and said so at -v"

n_before=$(grep -c CONNECT "$FWD_LOG")
https_proxy="http://127.0.0.1:$FWD_HTTP" no_proxy="example.com,localhost" through
is "$RC" 0 "no_proxy matching the proxy host: direct connection works" || explain
is "$(grep -c CONNECT "$FWD_LOG")" "$n_before" "no_proxy: the forward proxy saw nothing"
https_proxy="http://127.0.0.1:$FWD_HTTP" NO_PROXY="*" through
is "$RC" 0 "NO_PROXY=*: direct connection works" || explain
is "$(grep -c CONNECT "$FWD_LOG")" "$n_before" "NO_PROXY=*: the forward proxy saw nothing"
https_proxy="http://127.0.0.1:$FWD_HTTP" through --proxy -
is "$RC" 0 "--proxy -: direct connection works" || explain
is "$(grep -c CONNECT "$FWD_LOG")" "$n_before" "--proxy - overrides https_proxy"

fwd_squid fwdauth auth
through --proxy "http://127.0.0.1:$FWD_HTTP"
is "$RC" 5 "forward proxy wanting credentials: exit 5" || explain
like "$ERR" "answered 407 " "  the message names 407"
through --proxy "http://fwduser:s3cret@127.0.0.1:$FWD_HTTP"
is "$RC" 0 "credentials in the URL: exit 0" || explain
is "$OUT" "through the forward proxy" "credentials in the URL: data arrives"
unlike "$ERR" "s3cret" "  the password never appears on stderr"
printf 'fwduser:s3cret\n' >"$T/creds"
through --proxy "https://localhost:$FWD_HTTPS" --proxy-credentials-file "$T/creds"
is "$RC" 0 "credentials from a file, https:// forward proxy: exit 0" || explain
is "$OUT" "through the forward proxy" "credentials from a file: data arrives"
through --proxy "http://fwduser:Xyzzy42@127.0.0.1:$FWD_HTTP"
is "$RC" 5 "wrong credentials: exit 5" || explain
like "$ERR" "answered 407 " "  the message names 407"
unlike "$ERR" "Xyzzy42" "  the password never appears on stderr"
done_testing
