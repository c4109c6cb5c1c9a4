#!/bin/sh
# tests/deps.sh TARGET... — the Debian packages that make targets need.
#
#   tests/deps.sh TARGET...     make sure TARGETs' packages are installed
#   tests/deps.sh list TARGET   print TARGET's packages, one line, and exit
#
# TARGET: build (compiling pom-proxy: what plain `make` and `make install`
# need), demo, check, static, fuzz, bench, load, deb, check-deb. The GNUmakefile runs
# this for its goals before it compiles anything.
#
# When every package is installed, exit 0 quietly. When some are missing:
# as root, run `apt-get update` once and `apt-get install -y` them;
# otherwise print the exact apt-get line and exit 1. On a machine without
# dpkg (not Debian), say which packages would be needed and exit 0: the
# build then finds out for itself.
# This file is the one place the package lists live.
set -eu

PKG_BUILD="gcc make libc6-dev libbearssl-dev libcurl4-openssl-dev libjson-c-dev"
# tests/lib/world.sh's own tools: the double, the PKI, sshd, process control
PKG_WORLD="python3 openssl openssh-server openssh-client procps psmisc coreutils util-linux"
PKG_DEMO="$PKG_BUILD $PKG_WORLD"
PKG_STATIC="$PKG_BUILD musl-tools dpkg-dev xz-utils cmake"
PKG_FUZZ="$PKG_BUILD clang libclang-rt-14-dev openssl"
PKG_BENCH="$PKG_BUILD $PKG_WORLD squid-openssl proxytunnel strace valgrind"
PKG_LOAD="$PKG_BUILD $PKG_WORLD perl squid-openssl"
PKG_DEB="$PKG_BUILD git dpkg-dev debhelper lintian"
# the package installed into a fresh root (tests/lib/freshroot.sh), with
# the world around it
PKG_CHECK_DEB="$PKG_DEB $PKG_WORLD curl debootstrap tar gzip"
PKG_CHECK="$PKG_DEMO perl binutils squid-openssl proxytunnel curl chromium mandoc man-db
	$PKG_STATIC valgrind gdb file bash-completion"

usage() {
	echo "usage: tests/deps.sh TARGET... | list TARGET" >&2
	echo "  TARGET: build demo check static fuzz bench load deb check-deb" >&2
	exit 2
}

pkgs_of() {
	case $1 in
	build) echo "$PKG_BUILD" ;;
	demo) echo "$PKG_DEMO" ;;
	check) echo "$PKG_CHECK" ;;
	static) echo "$PKG_STATIC" ;;
	fuzz) echo "$PKG_FUZZ" ;;
	bench) echo "$PKG_BENCH" ;;
	load) echo "$PKG_LOAD" ;;
	deb) echo "$PKG_DEB" ;;
	check-deb) echo "$PKG_CHECK_DEB" ;;
	*) usage ;;
	esac
}

[ $# -ge 1 ] || usage
if [ "$1" = list ]; then
	[ $# -eq 2 ] || usage
	# shellcheck disable=SC2046
	printf '%s\n' $(pkgs_of "$2") | awk '!seen[$0]++' | paste -sd ' '
	exit 0
fi
want=
for t in "$@"; do
	want="$want $(pkgs_of "$t")"
done
# shellcheck disable=SC2086
want=$(printf '%s\n' $want | sort -u)

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "tests/deps.sh: not a Debian system; '$*' needs the equivalents of:" $want >&2
	exit 0
fi

# one dpkg-query for the lot: a package it does not know is not installed
# shellcheck disable=SC2086
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $want 2>/dev/null |
	awk '$2 ~ /^ii/ { print $1 }') || true
missing=
for p in $want; do
	printf '%s\n' "$installed" | grep -qx "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	echo "tests/deps.sh: installing for '$*':$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	# shellcheck disable=SC2086
	apt-get install -y $missing </dev/null
	exit 0
fi
echo "tests/deps.sh: missing Debian packages for '$*'; as root run:" >&2
echo "apt-get install$missing" >&2
exit 1
