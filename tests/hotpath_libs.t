#!/bin/bash
# hotpath_libs.t — a connection with a cached token maps no libcurl, no
# json-c and no TLS library but the statically linked BearSSL: checked on the binary
# (readelf), with the dynamic loader's own log (LD_DEBUG=libs, which also
# sees dlopen) and in /proc/PID/maps of an open tunnel, direct and under ssh.
. "$(dirname "$0")/lib/world.sh"
watchdog 180
need readelf setsid ssh curl
pom_built
pki
FORBIDDEN='libcurl|libjson-c|libssl|libcrypto|libgnutls|libnss3|libnssutil3|libsmime3|libbearssl\.so|libwolfssl|libmbedtls|libmbedcrypto|libnettle|libhogweed'

needed=$(readelf -d "$POM_PROXY" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
# a static build (make static) has no shared library at all
STATIC=0
readelf -d "$POM_PROXY" 2>&1 | grep -q 'There is no dynamic section' && STATIC=1
shared() { # GOT DESC — libc listed, or nothing at all for a static binary
	if [ "$STATIC" = 1 ]; then is "$1" "" "$2 (static: none)"; else like "$1" 'libc\.so' "$2"; fi
}
shared "$needed" "readelf sees the binary's NEEDED list ($needed)"
unlike "$needed" "$FORBIDDEN" "no TLS library or libcurl among the NEEDED libraries"


printf 'HELLO-FROM-UPSTREAM\n' >"$T/greeting"
start_upstream echo --send "$T/greeting"
start_sshd
start_double --route echo.test:7 127.0.0.1:$UPSTREAM_PORT '*' --route ssh.corp.test:22 127.0.0.1:$SSHD_PORT '*'
cache=$XDG_CACHE_HOME/pom-proxy/tokens
mkdir -p "$cache"
chmod 700 "$XDG_CACHE_HOME/pom-proxy" "$cache"
(umask 077 && mint_token alice@example.com >"$cache/localhost:$DOUBLE_PORT")

# loaded LOGPREFIX — every library the loader's log says it loaded
# (a library looked for, or initialised — dlopen'd ones included)
loaded() { cat "$1".* 2>/dev/null | sed -n 's/.*calling init: \(.*\)/\1/p; s/.*find library=\([^ ]*\) .*/\1/p' | sort -u | tr '\n' ' '; }

# the detector itself: it sees curl's libcurl, and python's dlopen'd libssl
LD_DEBUG=libs LD_DEBUG_OUTPUT=$T/ld-curl timeout 10 curl --version >/dev/null 2>&1
like "$(loaded "$T/ld-curl")" 'libcurl' "control: LD_DEBUG=libs shows curl loading libcurl"
LD_DEBUG=libs LD_DEBUG_OUTPUT=$T/ld-py timeout 10 python3 -c 'import ssl' >/dev/null 2>&1
like "$(loaded "$T/ld-py")" 'libssl' "control: LD_DEBUG=libs shows a dlopen'd libssl (python's ssl module)"

# 1. a tunnel opened with the cached token, its libraries seen live
idle_stdin
LD_DEBUG=libs LD_DEBUG_OUTPUT=$T/ld-pp "$POM_PROXY" --pomerium-url "https://localhost:$DOUBLE_PORT" \
	--alternate-ca-path "$PKI/ca.pem" echo.test:7 <"$IDLE_IN" >"$T/out" 2>"$T/err" &
pid=$!
_PIDS+=("$pid")
wait_file "$T/out" 20
is "$(cat "$T/out")" "HELLO-FROM-UPSTREAM" "the tunnel opened with the cached token" || diag_file "$T/err"
like "$(grep '^CONNECT echo.test:7' "$DOUBLE_LOG")" ' 200 token=yes ' "the cached token was sent"
maps=$(awk '$6 ~ /\.so/ {print $6}' "/proc/$pid/maps" 2>/dev/null | sort -u | tr '\n' ' ')
shared "$maps" "/proc/PID/maps of the open tunnel lists its libraries ($maps)"
unlike "$maps" "$FORBIDDEN" "no libcurl or other TLS library mapped in the open tunnel"
kill -HUP "$pid"
wait_gone "$pid" 10
libs=$(loaded "$T/ld-pp")
shared "$libs" "LD_DEBUG=libs logged the libraries pom-proxy loaded ($libs)"
unlike "$libs" "$FORBIDDEN" "LD_DEBUG: no libcurl or other TLS library loaded, dlopen included"

# 2. the same under ssh's ProxyCommand
PC="env LD_DEBUG=libs LD_DEBUG_OUTPUT=$T/ld-ssh $POM_PROXY --pomerium-url https://localhost:$DOUBLE_PORT --alternate-ca-path $PKI/ca.pem %h:%p"
out=$(ssh_via "$PC" ssh.corp.test 'echo via-ssh' </dev/null 2>"$T/ssh.err")
is "$out" via-ssh "ssh through pom-proxy with the cached token" || diag_file "$T/ssh.err"
libs=$(loaded "$T/ld-ssh")
shared "$libs" "LD_DEBUG under ssh logged pom-proxy's libraries"
unlike "$libs" "$FORBIDDEN" "under ssh: no libcurl or other TLS library loaded"

done_testing
