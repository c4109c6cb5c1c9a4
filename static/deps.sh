#!/bin/bash
# static/deps.sh DIR — BearSSL, a minimal libcurl and json-c for the static
# pom-proxy, built with musl-gcc from the pinned Debian source packages,
# installed into DIR/prefix (include/, lib/libbearssl.a, lib/libcurl.a,
# lib/libjson-c.a).
#
# Called by static/build.sh. When DIR/prefix/done holds this recipe's key
# (a digest of this file and of the compiler), nothing is fetched or built:
# no network, a few milliseconds.
#
# The sources: `apt-get source` with a private sources list and private
# lists/cache directories under DIR/apt (the system's apt configuration
# and state are only read). The deb-src lines name the Debian mirrors the
# system's own sources use (/etc/apt/sources.list, sources.list.d/*.list and
# *.sources), for bookworm, bookworm-updates and bookworm-security;
# POM_STATIC_SOURCES=FILE replaces them with a sources list of your own.
# apt checks every file against the signed Release files.
#
# Pins: the upstream versions below; the newest Debian revision of each
# that the mirror has (security fixes) is taken, unless POM_STATIC_CURL_DEB,
# POM_STATIC_BEARSSL_DEB or POM_STATIC_JSONC_DEB name an exact Debian
# version. DIR/VERSIONS
# records what was built.
set -euo pipefail

CODENAME=bookworm
CURL_UPSTREAM=7.88.1
BEARSSL_UPSTREAM=0.6
JSONC_UPSTREAM=0.16

# libcurl: HTTP and HTTPS through BearSSL, forward proxies (HTTPS_PROXY,
# CURLOPT_PROXY, Basic proxy credentials) kept, IPv6 and the threaded
# resolver as in Debian's libcurl, verbose error strings kept (pom-proxy
# prints curl_easy_strerror), everything else off.
CURL_CONFIGURE=(
	--disable-shared --enable-static --with-pic=no
	--with-bearssl="@PREFIX@"
	--enable-http --enable-proxy --enable-ipv6 --enable-threaded-resolver
	--enable-http-auth --disable-crypto-auth --disable-ntlm --disable-ntlm-wb
	--disable-tls-srp
	--disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp
	--disable-dict --disable-telnet --disable-tftp --disable-pop3 --disable-imap
	--disable-smb --disable-smtp --disable-gopher --disable-mqtt --disable-websockets
	--disable-cookies --disable-mime --disable-netrc --disable-doh --disable-alt-svc
	--disable-hsts --disable-headers-api --disable-get-easy-options --disable-dateparse
	--disable-progress-meter --disable-unix-sockets --disable-manual
	--disable-libcurl-option --disable-versioned-symbols --disable-ares
	--disable-sspi --disable-dependency-tracking --disable-debug --disable-curldebug
	--without-zlib --without-brotli --without-zstd --without-libpsl --without-libgsasl
	--without-libssh2 --without-libssh --without-wolfssh --without-librtmp
	--without-libidn2 --without-nghttp2 --without-ngtcp2 --without-nghttp3
	--without-quiche --without-msh3 --without-hyper --without-zsh-functions-dir
	--without-fish-functions-dir
	--with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --without-ca-path
	--without-ca-fallback
)
OPT_CFLAGS="-Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables"

die() { echo "static/deps.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: static/deps.sh DIR"
mkdir -p "$1"
D=$(cd "$1" && pwd)
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
CC=${MUSL_CC:-musl-gcc}
command -v "$CC" >/dev/null 2>&1 || die "$CC not found (Debian: musl-tools)"
PREFIX=$D/prefix

key=$({ cat "$SELF"; "$CC" -v 2>&1 | tail -n 1; dpkg-query -W -f='${Version}' musl-dev 2>/dev/null;
	echo "${POM_STATIC_CURL_DEB:-} ${POM_STATIC_BEARSSL_DEB:-} ${POM_STATIC_JSONC_DEB:-}"
	echo "${POM_STATIC_SOURCES:-}"; } |
	sha256sum | cut -c1-16)
if [ "$(cat "$PREFIX/done" 2>/dev/null)" = "$key" ] &&
	[ -f "$PREFIX/lib/libcurl.a" ] && [ -f "$PREFIX/lib/libbearssl.a" ] &&
	[ -f "$PREFIX/lib/libjson-c.a" ]; then
	exit 0
fi

log() { echo "static/deps.sh: $*" >&2; }
t0=$SECONDS

# ------------------------------------------------------------------ apt, privately

A=$D/apt
rm -rf "$A"
mkdir -p "$A/lists/partial" "$A/cache/archives/partial"

# "URI SUITE SIGNED-BY" for each Debian archive the system's apt uses
system_debian_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '
		/^[ \t]*deb[ \t]/ {
			sb = "-"; i = 2
			if ($2 ~ /^\[/) {
				while (i <= NF) {
					o = $i; gsub(/[\[\]]/, "", o)
					if (o ~ /^signed-by=/) { sub(/^signed-by=/, "", o); sb = o }
					if ($i ~ /\]$/) { i++; break }
					i++
				}
			}
			print $i, $(i + 1), sb
		}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '
		function flush(   n, u, s, i, j) {
			if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled !~ /^(no|false)$/) {
				n = split(uris, u, /[ \t]+/); m = split(suites, s, /[ \t]+/)
				for (i = 1; i <= n; i++) for (j = 1; j <= m; j++)
					if (u[i] != "" && s[j] != "") print u[i], s[j], (sb == "" ? "-" : sb)
			}
			types = uris = suites = sb = enabled = ""
		}
		/^[ \t]*#/ { next }
		/^[ \t]*$/ { flush(); next }
		/^[ \t]/ { next }   # continuation lines (an inline key): not a path
		{
			k = tolower($1); v = $0; sub(/^[^:]*:[ \t]*/, "", v)
			if (k == "types:") types = v
			else if (k == "uris:") uris = v
			else if (k == "suites:") suites = v
			else if (k == "enabled:") enabled = tolower(v)
			else if (k == "signed-by:" && v ~ /^\//) sb = v
		}
		END { flush() }' "$f"
	done
}

if [ -n "${POM_STATIC_SOURCES:-}" ]; then
	cp "$POM_STATIC_SOURCES" "$A/sources.list"
else
	system_debian_sources | awk -v c="$CODENAME" '
	$1 ~ /^https?:\/\/.*\/debian(-security)?(\/[0-9]+T[0-9]+Z)?\/?$/ {
		src = "deb-src " (($3 == "-") ? "" : "[signed-by=" $3 "] ") $1 " "
		if ($1 ~ /debian-security(\/[0-9]+T[0-9]+Z)?\/?$/)
			n = split(c "-security", want, " ")
		else
			n = split(c " " c "-updates", want, " ")
		for (i = 1; i <= n; i++) {
			l = src want[i] " main"
			if (!(l in seen)) { seen[l] = 1; print l }
		}
	}' >"$A/sources.list"
fi
[ -s "$A/sources.list" ] ||
	die "no Debian mirror found in /etc/apt/sources.list*; give one with POM_STATIC_SOURCES=FILE (deb-src lines)"
log "deb-src lines ($A/sources.list):"
sed 's/^/    /' "$A/sources.list" >&2

APT_OPTS=(-o "Dir::Etc::SourceList=$A/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache"
	-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
	-o APT::Sandbox::User=root -o Acquire::Languages=none)
log "apt-get update (private lists in $A)"
apt-get -q "${APT_OPTS[@]}" update >"$A/update.log" 2>&1 ||
	{ cat "$A/update.log" >&2; die "apt-get update failed"; }

# newest Debian version of source package $1 whose upstream part is $2
pick_version() {
	local pkg=$1 up=$2 v best=
	for v in $(apt-cache "${APT_OPTS[@]}" showsrc --only-source "$pkg" 2>/dev/null |
		sed -n 's/^Version: //p'); do
		case $v in "$up"-* | "$up"+*) ;; *) continue ;; esac
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
	done
	[ -n "$best" ] || die "no source package $pkg $up* in $A/sources.list"
	echo "$best"
}
CURL_DEB=${POM_STATIC_CURL_DEB:-$(pick_version curl "$CURL_UPSTREAM")}
BEARSSL_DEB=${POM_STATIC_BEARSSL_DEB:-$(pick_version bearssl "$BEARSSL_UPSTREAM")}
JSONC_DEB=${POM_STATIC_JSONC_DEB:-$(pick_version json-c "$JSONC_UPSTREAM")}
log "sources: curl $CURL_DEB, bearssl $BEARSSL_DEB, json-c $JSONC_DEB"

S=$D/src
rm -rf "$S"
mkdir -p "$S"
(cd "$S" && apt-get -q "${APT_OPTS[@]}" source --download-only \
	"curl=$CURL_DEB" "bearssl=$BEARSSL_DEB" "json-c=$JSONC_DEB") >"$A/source.log" 2>&1 ||
	{ cat "$A/source.log" >&2; die "apt-get source failed"; }
# apt verified every file against the signed indexes; dpkg-source has no
# keyring for the uploaders' signatures and says so in the log
(cd "$S" && dpkg-source -x "curl_${CURL_DEB#*:}.dsc" curl &&
	dpkg-source -x "bearssl_${BEARSSL_DEB#*:}.dsc" bearssl &&
	dpkg-source -x "json-c_${JSONC_DEB#*:}.dsc" json-c) >"$S/unpack.log" 2>&1 ||
	{ cat "$S/unpack.log" >&2; die "dpkg-source -x failed"; }

# ------------------------------------------------------------------ BearSSL

# built beside and moved into place when complete: a failed build keeps the
# previous libraries
FINAL=$PREFIX
PREFIX=$D/prefix.new
rm -rf "$PREFIX"
mkdir -p "$PREFIX/include" "$PREFIX/lib"
log "building BearSSL $BEARSSL_DEB with $CC"
cat >"$S/bearssl/conf/pomstatic.mk" <<EOF
include conf/Unix.mk
BUILD = build
CC = $CC
CFLAGS = -W -Wall $OPT_CFLAGS
LD = $CC
EOF
make -C "$S/bearssl" -j"$(nproc)" CONF=pomstatic lib >"$S/bearssl.log" 2>&1 ||
	{ tail -n 30 "$S/bearssl.log" >&2; die "BearSSL build failed (log: $S/bearssl.log)"; }
cp "$S/bearssl/build/libbearssl.a" "$PREFIX/lib/"
cp "$S"/bearssl/inc/*.h "$PREFIX/include/"

# ------------------------------------------------------------------ libcurl

log "configuring libcurl $CURL_DEB (HTTP/HTTPS, proxy, BearSSL)"
args=("${CURL_CONFIGURE[@]/@PREFIX@/$PREFIX}")
(cd "$S/curl" && CC=$CC CFLAGS="$OPT_CFLAGS" CPPFLAGS="-I$PREFIX/include" \
	LDFLAGS="-static -L$PREFIX/lib" PKG_CONFIG=false \
	./configure --prefix="$PREFIX" "${args[@]}") >"$S/curl-configure.log" 2>&1 ||
	{ tail -n 40 "$S/curl-configure.log" >&2; die "curl configure failed (log: $S/curl-configure.log)"; }
grep -q '^#define USE_BEARSSL 1' "$S/curl/lib/curl_config.h" || die "curl configured without BearSSL"
log "building libcurl"
make -C "$S/curl/lib" -j"$(nproc)" >"$S/curl-make.log" 2>&1 ||
	{ tail -n 30 "$S/curl-make.log" >&2; die "libcurl build failed (log: $S/curl-make.log)"; }
cp "$S/curl/lib/.libs/libcurl.a" "$PREFIX/lib/"
mkdir -p "$PREFIX/include/curl"
cp "$S"/curl/include/curl/*.h "$PREFIX/include/curl/"
sed -n '/^  Protocols:/p; /^  SSL:/p; /^  Features:/p' "$S/curl-configure.log" |
	sed 's/^ */curl /' >"$D/features"

# ------------------------------------------------------------------ json-c

# the library alone (no apps, tests or libbsd), through its CMake build
log "building json-c $JSONC_DEB with $CC"
cmake -S "$S/json-c" -B "$S/json-c/build" -DCMAKE_C_COMPILER="$CC" \
	-DCMAKE_C_FLAGS="$OPT_CFLAGS" -DCMAKE_BUILD_TYPE=None -DCMAKE_INSTALL_PREFIX="$PREFIX" \
	-DCMAKE_INSTALL_LIBDIR=lib -DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIBS=ON \
	-DBUILD_TESTING=OFF -DBUILD_APPS=OFF -DDISABLE_EXTRA_LIBS=ON -DDISABLE_WERROR=ON \
	>"$S/json-c-cmake.log" 2>&1 ||
	{ tail -n 40 "$S/json-c-cmake.log" >&2; die "json-c cmake failed (log: $S/json-c-cmake.log)"; }
make -C "$S/json-c/build" -j"$(nproc)" install >"$S/json-c-make.log" 2>&1 ||
	{ tail -n 30 "$S/json-c-make.log" >&2; die "json-c build failed (log: $S/json-c-make.log)"; }

{
	echo "curl $CURL_DEB"
	echo "bearssl $BEARSSL_DEB"
	echo "json-c $JSONC_DEB"
	echo "musl $(dpkg-query -W -f='${Version}' musl-dev 2>/dev/null || echo '?')"
	echo "cc $("$CC" -v 2>&1 | tail -n 1)"
	cat "$D/features"
} >"$D/VERSIONS"
# the sources are not needed any more; the lists are kept for inspection
rm -rf "$S/curl" "$S/bearssl" "$S/json-c"
echo "$key" >"$PREFIX/done"
rm -rf "$FINAL"
mv "$PREFIX" "$FINAL"
log "done in $((SECONDS - t0)) s:"
sed 's/^/    /' "$D/VERSIONS" >&2
