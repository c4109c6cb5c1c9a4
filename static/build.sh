#!/bin/bash
# static/build.sh — `make static`: build/static/pom-proxy, one fully static
# binary (musl, BearSSL, a minimal libcurl for the sign-in) to copy into a
# jump-host or scratch image. Run from anywhere; works in the repository.
#
#   bash static/build.sh           build (a few seconds once the libraries are cached)
#   MUSL_CC=/path/musl-gcc bash static/build.sh
#
# The first run fetches the pinned Debian source packages of BearSSL and
# curl and builds them with musl-gcc (static/deps.sh: about two minutes);
# they are kept in build/static/deps, so later runs only rebuild pom-proxy
# (static/pom.mk). Needs: musl-tools, dpkg-dev, xz-utils, make, and apt
# reaching a Debian mirror on the first run. As root, missing packages are
# installed (as tests/deps.sh does); otherwise the apt-get line is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
S=$ROOT/build/static
export MUSL_CC=${MUSL_CC:-musl-gcc}

missing=
command -v "$MUSL_CC" >/dev/null 2>&1 || missing="$missing musl-tools"
command -v dpkg-source >/dev/null 2>&1 || missing="$missing dpkg-dev"
command -v xz >/dev/null 2>&1 || missing="$missing xz-utils"
command -v make >/dev/null 2>&1 || missing="$missing make"
if [ -n "$missing" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		echo "static/build.sh: installing:$missing" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update >/dev/null
		# shellcheck disable=SC2086
		apt-get install -y $missing >/dev/null
	else
		echo "static/build.sh: missing Debian packages; as root run:" >&2
		echo "apt-get install$missing" >&2
		exit 1
	fi
fi

mkdir -p "$S"
# one build at a time (tests may call this concurrently)
exec 9>"$S/.lock"
flock 9

bash static/deps.sh "$S/deps"

VERSION=$(sed -n 's/^VERSION *:\{0,1\}= *//p' GNUmakefile | head -n 1)
make -s -j"$(nproc)" -f static/pom.mk O="$S/obj" OUT="$S/pom-proxy" DEPS="$S/deps/prefix" \
	VERSION="${VERSION:-dev}" CC="$MUSL_CC" "$S/pom-proxy"
echo "static/build.sh: build/static/pom-proxy ($(stat -c %s "$S/pom-proxy") bytes, stripped; symbols in pom-proxy.full)" >&2
