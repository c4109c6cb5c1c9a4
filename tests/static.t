#!/bin/bash
# static.t — `make static` (issue 6): build/static/pom-proxy is one fully
# static binary (musl, BearSSL, a minimal libcurl) that works alone in an
# otherwise empty root directory, the way it would in a scratch image.
#
# The test builds it (bash static/build.sh: a no-op but for pom-proxy once
# the libraries are cached in build/static/deps; about 2.5 minutes from
# nothing), so a missing or broken static build fails here. Then, as root,
# it runs the binary under chroot(8) in a root that holds only the binary,
# the test CA, an /etc/hosts and /dev/tty (ssh and the test double stay
# outside):
#   - an ssh session with a service-account token, the proxy named by a
#     host name that only the root's /etc/hosts knows;
#   - trust without /etc/ssl: --alternate-ca-path, --ca-cert, SSL_CERT_FILE,
#     SSL_CERT_DIR suffice, and with none of them the error says so;
#   - an ssh session in which the static binary signs in (the paste path: a
#     pseudo-terminal is the controlling terminal of ssh and so of the
#     ProxyCommand), then a second session on the cached token.
. "$(dirname "$0")/lib/world.sh"
. "$(dirname "$0")/lib/signin.sh"
watchdog 600
REPO=$(cd "$(dirname "$0")/.." && pwd)
STATIC=$REPO/build/static/pom-proxy
need file readelf nm chroot ssh setsid python3 openssl base64

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP runs the static binary under chroot: needs root"
	exit 0
fi
CHROOT=$(command -v chroot)

# ---------------------------------------------------------------- the build
t0=$SECONDS
bash "$REPO/static/build.sh" >"$T/build.log" 2>&1
if ! is "$?" 0 "bash static/build.sh builds build/static/pom-proxy"; then
	diag_file "$T/build.log" 40
	bail "the static build failed"
fi
note "static/build.sh took $((SECONDS - t0)) s"
[ -x "$STATIC" ] || bail "$STATIC missing after static/build.sh"
POM_PROXY=$STATIC

like "$(file -b "$STATIC")" 'ELF 64-bit .*statically linked' "file(1): statically linked"
note "$(file -b "$STATIC")"
unlike "$(readelf -lW "$STATIC")" 'INTERP|Requesting program interpreter' "no program interpreter"
like "$(readelf -d "$STATIC" 2>&1)" 'no dynamic section' "no dynamic section"
size=$(stat -c %s "$STATIC")
ok "stripped size $size bytes <= 600 KiB" test "$size" -le $((600 * 1024))
V=$REPO/build/static/deps/VERSIONS
ok "libcurl: HTTP and HTTPS only" grep -qE '^curl Protocols: +HTTP HTTPS$' "$V"
ok "libcurl: TLS through BearSSL" grep -qE '^curl SSL: +enabled \(BearSSL\)$' "$V"
note "$(cat "$V")"
nm "$REPO/build/static/pom-proxy.full" | awk '{print $NF}' | sort -u >"$T/syms"
ok "BearSSL is linked in" grep -qx br_ssl_client_init_full "$T/syms"
ok "libcurl is linked in" grep -qx curl_easy_perform "$T/syms"
ok "json-c is linked in (the routes list)" grep -qx json_tokener_parse_ex "$T/syms"
ok "libcurl's TLS is BearSSL (one TLS library)" grep -qx Curl_ssl_bearssl "$T/syms"
nok "no other TLS library" grep -qE '^(SSL_CTX_new|SSL_new|gnutls_init|mbedtls_ssl_init|wolfSSL_new|NSS_Init|rustls_.*)$' "$T/syms"
nok "no dlopen" grep -qxE 'dlopen|dlsym' "$T/syms"

# a root with nothing but the binary: it runs
R0=$T/root0
mkdir -p "$R0"
cp "$STATIC" "$R0/pom-proxy"
is "$(env -i "$CHROOT" "$R0" /pom-proxy --version 2>&1)" \
	"$("$STATIC" --version 2>&1)" "--version in a root that holds only the binary"

# ---------------------------------------------------------------- the world
start_sshd
signin_world --route ssh.corp.test:22 "127.0.0.1:$SSHD_PORT" '*'
P=$DOUBLE_PORT

# the image: binary, CA file, name resolution, a terminal for the paste
R=$T/root
mkdir -p "$R/etc" "$R/dev"
cp "$STATIC" "$R/pom-proxy"
cp "$PKI/ca.pem" "$R/ca.pem"
printf '127.0.0.1 localhost proxy.test\n' >"$R/etc/hosts"
mknod -m 666 "$R/dev/tty" c 5 0
mint_token alice@example.com >"$R/token"
chmod 600 "$R/token"
note "the root: $(cd "$R" && find . -mindepth 1 | sort | tr '\n' ' ')"
getent hosts proxy.test >/dev/null && note "this machine resolves proxy.test itself"
# "pom-proxy ARGS" inside the root, a bare environment plus $INROOT_ENV
cat >"$T/inroot" <<EOF
#!/bin/sh
exec /usr/bin/env -i XDG_CACHE_HOME=/cache \${INROOT_ENV:-} $CHROOT '$R' /pom-proxy "\$@"
EOF
chmod +x "$T/inroot"
IN="env -i XDG_CACHE_HOME=/cache $CHROOT $R /pom-proxy"

# ssh_in DESC PROXYCOMMAND — a remote command through PROXYCOMMAND
ssh_in() {
	local out
	out=$(ssh_via "$2" ssh.corp.test 'echo "hello from $(id -un)"; echo $((6 * 7))' </dev/null 2>"$T/ssh.err")
	if ! is "$out" "hello from $SSH_USER"$'\n42' "$1"; then
		diag_file "$T/ssh.err"
		diag_file "$DOUBLE_LOG" 5
	fi
}

# ---------------------------------------------------------------- service account
n0=$(nlog '^CONNECT ssh\.corp\.test:22 200 ')
ssh_in "chroot: ssh with a service-account token, proxy named in the root's /etc/hosts" \
	"$IN --pomerium-url https://proxy.test:$P --alternate-ca-path /ca.pem --service-account-file /token %h:%p"
is "$(nlog '^CONNECT ssh\.corp\.test:22 200 token=yes via=authorization user=alice@example\.com sni=proxy\.test ')" \
	$((n0 + 1)) "the double saw the CONNECT with the token, SNI proxy.test"
ok "chroot: the TLS session and anchor caches went to XDG_CACHE_HOME in the root" \
	test -d "$R/cache/pom-proxy"
# --json: the answer is parsed (json-c) before it is printed; the listing
# would need /proc (the commands name the binary's own path)
out=$($IN routes --json --alternate-ca-path /ca.pem --service-account-file /token \
	"https://proxy.test:$P" 2>"$T/routes.err" </dev/null)
like "$out" '"from":"tcp\+https://echo\.test:7"' \
	"chroot: routes --json reads the proxy's routes (libcurl and json-c linked in)" || diag_file "$T/routes.err"

# ---------------------------------------------------------------- trust without /etc/ssl
POM_PROXY=$T/inroot
run_pp --pomerium-url "https://localhost:$P" --service-account-file /token echo.test:7
expect_failure 3 'no ca certificate found \(searched /etc/ssl/certs/ca-certificates\.crt, .*\): --alternate-ca-path file or ssl_cert_file can provide trust anchors' \
	"chroot: no trust anchor anywhere"
tunnel_echo t1 --pomerium-url "https://localhost:$P" --alternate-ca-path /ca.pem --service-account-file /token echo.test:7
is "$RC/$ECHO" 0/ok "chroot: --alternate-ca-path FILE suffices" || diag "$ERR"
tunnel_echo t2 --pomerium-url "https://localhost:$P" --ca-cert "$(base64 -w0 "$PKI/ca.pem")" \
	--service-account-file /token echo.test:7
is "$RC/$ECHO" 0/ok "chroot: --ca-cert BASE64PEM suffices" || diag "$ERR"
INROOT_ENV=SSL_CERT_FILE=/ca.pem tunnel_echo t3 --pomerium-url "https://localhost:$P" \
	--service-account-file /token echo.test:7
is "$RC/$ECHO" 0/ok "chroot: SSL_CERT_FILE suffices" || diag "$ERR"
mkdir -p "$R/certs"
# a hashed directory holds one certificate per file (ca.pem holds two)
cp "$PKI/ca-only.pem" "$PKI/le-root-ec.pem" "$R/certs/"
openssl rehash "$R/certs" 2>/dev/null
INROOT_ENV=SSL_CERT_DIR=/certs tunnel_echo t4 --pomerium-url "https://localhost:$P" \
	--service-account-file /token echo.test:7
is "$RC/$ECHO" 0/ok "chroot: SSL_CERT_DIR suffices" || diag "$ERR"
rm -rf "$R/cache"

# ---------------------------------------------------------------- sign-in in an ssh session
# paste_drive runs "$POM_PROXY ARGS" with a pty as its controlling terminal:
# here that is ssh, whose ProxyCommand (the static binary in the root)
# finds the terminal through the root's /dev/tty, prints the sign-in URL on
# ssh's stderr and reads the pasted address; the remote command is cat, so
# the driver's echo line goes through the whole ssh session.
_ssh_opts "$IN --no-browser --login-timeout 60 --pomerium-url https://localhost:$P --alternate-ca-path /ca.pem %h:%p"
POM_PROXY=$(command -v ssh)
s0=$(nlog '^GET /\.pomerium/sign_in ')
paste_drive url s1 "${SSH_OPTS[@]}" "$SSH_USER@ssh.corp.test" cat
is "$(cat "$T/s1/note")" "" "sign-in in the root: the sign-in URL and the paste prompt came through ssh" ||
	diag_file "$T/s1/err"
is "$(cat "$T/s1/rc")" 0 "sign-in in the root: ssh exits 0" || diag_file "$T/s1/err"
is "$(cat "$T/s1/echo")" ok "sign-in in the root: the ssh session carried the line both ways"
TOKEN_IN_ROOT=$R/cache/pom-proxy/tokens/localhost:$P
jwt=$(sed -n 's/.*pomerium_jwt=//p' "$T/s1/location" 2>/dev/null)
is "$(cat "$TOKEN_IN_ROOT" 2>/dev/null)" "$jwt" "sign-in in the root: the token is cached inside the root"
like "$(grep '^GET /\.pomerium/api/v1/login' "$DOUBLE_LOG" | tail -n 1)" '^GET /\.pomerium/api/v1/login 200 ' \
	"sign-in in the root: the static binary's libcurl asked the login API"
is "$(nlog '^GET /\.pomerium/sign_in ')" $((s0 + 1)) "sign-in in the root: one sign-in"
ssh_in "chroot: the next ssh session uses the cached token" \
	"$IN --no-browser --pomerium-url https://localhost:$P --alternate-ca-path /ca.pem %h:%p"
is "$(nlog '^GET /\.pomerium/sign_in ')" $((s0 + 1)) "no second sign-in"

# ---------------------------------------------------------------- sign-in trust without /etc/ssl
POM_PROXY=$T/inroot
rm -rf "$R/cache"
INROOT_ENV=SSL_CERT_FILE=/ca.pem paste_drive url s2 --no-browser --login-timeout 60 \
	--pomerium-url "https://localhost:$P" echo.test:7
is "$(cat "$T/s2/rc" 2>/dev/null)/$(cat "$T/s2/echo" 2>/dev/null)" 0/ok \
	"sign-in in the root with SSL_CERT_FILE as the only trust" || diag_file "$T/s2/err"
rm -rf "$R/cache"
INROOT_ENV=SSL_CERT_DIR=/certs paste_drive url s3 --no-browser --login-timeout 60 \
	--pomerium-url "https://localhost:$P" echo.test:7
is "$(cat "$T/s3/rc" 2>/dev/null)/$(cat "$T/s3/echo" 2>/dev/null)" 0/ok \
	"sign-in in the root with SSL_CERT_DIR as the only trust" || diag_file "$T/s3/err"

# ---------------------------------------------------------------- sign-in with a client certificate
# the double in policy mode: the handshake accepts no certificate, and the
# log says whether the login API request presented one
start_double --client-ca "$PKI/client-ca.pem" --mtls-mode policy --route echo.test:7 "127.0.0.1:$UPSTREAM_PORT" '*'
cp "$PKI/client-ec.pem" "$PKI/client-ec.key" "$R/"
rm -rf "$R/cache"
paste_drive url s4 --no-browser --login-timeout 60 --pomerium-url "https://localhost:$DOUBLE_PORT" \
	--alternate-ca-path /ca.pem --client-cert /client-ec.pem --client-key /client-ec.key echo.test:7
is "$(cat "$T/s4/rc" 2>/dev/null)/$(cat "$T/s4/echo" 2>/dev/null)" 0/ok \
	"sign-in in the root with --client-cert: the tunnel opens" || diag_file "$T/s4/err"
like "$(grep '^CONNECT echo\.test:7 200' "$DOUBLE_LOG" | tail -n 1)" 'client_cert=pom-proxy_test_client_EC' \
	"the tunnel presented the client certificate"
ok "the login API request presented the client certificate" \
	grep -q '^GET /\.pomerium/api/v1/login 200 .*client_cert=pom-proxy_test_client_EC' "$DOUBLE_LOG"

done_testing
