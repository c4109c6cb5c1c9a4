#!/bin/sh
# tests/deps.sh check|demo|ci|list TARGET — the Debian packages a target needs.
#
#   check  what `make check` needs (build + the whole test suite)
#   demo   what `make demo` needs
#   ci     the same as check; .ci/run installs this list
#   list TARGET  print TARGET's packages, one line, and exit
#
# For check/demo/ci: when every package is installed, exit 0 quietly. When
# some are missing: as root, run `apt-get update` once and `apt-get install
# -y` them; otherwise print the exact apt-get line and exit 1.
# This file is the one place the package lists live.
set -eu

PKG_BUILD="gcc make libbearssl-dev libcurl4-openssl-dev"
PKG_DEMO="$PKG_BUILD python3 openssl openssh-server openssh-client procps coreutils"
PKG_CHECK="$PKG_DEMO perl binutils squid-openssl proxytunnel psmisc curl chromium clang libclang-rt-14-dev mandoc man-db musl-tools dpkg-dev xz-utils valgrind gdb file"
PKG_CI="$PKG_CHECK"

usage() {
	echo "usage: tests/deps.sh check|demo|ci|list TARGET" >&2
	exit 2
}

pkgs_of() {
	case $1 in
	check) echo "$PKG_CHECK" ;;
	demo) echo "$PKG_DEMO" ;;
	ci) echo "$PKG_CI" ;;
	*) usage ;;
	esac
}

[ $# -ge 1 ] || usage
if [ "$1" = list ]; then
	[ $# -eq 2 ] || usage
	pkgs_of "$2"
	exit 0
fi
[ $# -eq 1 ] || usage
want=$(pkgs_of "$1")

missing=
for p in $want; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $st in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	echo "tests/deps.sh: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	# shellcheck disable=SC2086
	apt-get install -y $missing
	exit 0
fi
echo "tests/deps.sh: missing Debian packages for '$1'; as root run:" >&2
echo "apt-get install$missing"
exit 1
