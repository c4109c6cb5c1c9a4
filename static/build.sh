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
# (static/pom.mk). Needs the packages of `tests/deps.sh static` (installed
# first when run as root, named otherwise) and apt reaching a Debian mirror
# on the first run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
S=$ROOT/build/static
export MUSL_CC=${MUSL_CC:-musl-gcc}

# the packages (tests/deps.sh static): installed as root, named otherwise
[ "$MUSL_CC" != musl-gcc ] || sh tests/deps.sh static
command -v "$MUSL_CC" >/dev/null 2>&1 || { echo "static/build.sh: $MUSL_CC not found" >&2; exit 1; }

mkdir -p "$S"
# one build at a time (tests may call this concurrently)
exec 9>"$S/.lock"
flock 9

bash static/deps.sh "$S/deps"

VERSION=$(sed -n 's/^VERSION *:\{0,1\}= *//p' GNUmakefile | head -n 1)
make -s -j"$(nproc)" -f static/pom.mk O="$S/obj" OUT="$S/pom-proxy" DEPS="$S/deps/prefix" \
	VERSION="${VERSION:-dev}" CC="$MUSL_CC" "$S/pom-proxy"
echo "static/build.sh: build/static/pom-proxy ($(stat -c %s "$S/pom-proxy") bytes, stripped; symbols in pom-proxy.full)" >&2
