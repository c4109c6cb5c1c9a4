#!/bin/bash
# install.t — make check-deb: the Debian package as a user meets it. POM_DEB
# is the .deb (make deb). As root:
#   - its control fields and contents: Depends on libc only, libcurl and
#     ca-certificates recommended, the binary, man page, completion, docs
#     and a machine-readable copyright;
#   - `dpkg -i` into a fresh Debian bookworm root (tests/lib/freshroot.sh)
#     made a minimal image (git and its libcurl3-gnutls purged: no libcurl
#     at all), where it runs on libc alone;
#   - a real ssh session (ssh, sshd and the Pomerium double stay outside
#     the root) through the installed /usr/bin/pom-proxy run in the root,
#     trusting the proxy through the root's own ca-certificates store, with
#     random data both ways checked;
#   - a sign-in there says in one line that it needs libcurl; after
#     `apt-get install libcurl4` (the Recommends) it signs in and the next
#     ssh session uses the cached token;
#   - `dpkg -r` removes every file it installed.
# The test's directory $T is bind-mounted at the same path in the root, so
# the paths of the PKI, tokens and cache are the same in and out.
. "$(dirname "$0")/../lib/world.sh"
. "$(dirname "$0")/../lib/signin.sh"
watchdog 600
REPO=$(cd "$(dirname "$0")/../.." && pwd)
DEB=${POM_DEB:-}
need dpkg-deb chroot mount ssh setsid python3 curl sha256sum
[ "$(id -u)" = 0 ] || bail "make check-deb installs into a fresh root: it needs root"
[ -f "$DEB" ] || bail "POM_DEB='$DEB' is not a file (run: make check-deb)"
note "package: $(basename "$DEB"), $(stat -c %s "$DEB") bytes"

# ---------------------------------------------------------------- the package

field() { dpkg-deb -f "$DEB" "$1"; }
is "$(field Package)" pom-proxy "Package: pom-proxy"
like "$(field Depends)" '^libc6 \(>= [0-9.]+\)$' "Depends: libc6 only (the tunnel needs nothing else)"
note "Depends: $(field Depends)"
like "$(field Recommends)" '(^|, )libcurl4( |,|$)' "Recommends: libcurl4 (the sign-in)"
like "$(field Recommends)" '(^|, )ca-certificates(,|$)' "Recommends: ca-certificates"
like "$(field Built-Using)" '^bearssl \(= ' "Built-Using names BearSSL, linked statically"
dpkg-deb -c "$DEB" | awk '{ print $NF }' | sed 's|^\./|/|' >"$T/contents"
for f in /usr/bin/pom-proxy /usr/share/man/man1/pom-proxy.1.gz \
	/usr/share/bash-completion/completions/pom-proxy /usr/share/doc/pom-proxy/README.gz \
	/usr/share/doc/pom-proxy/ssh_config.example /usr/share/doc/pom-proxy/copyright; do
	ok "the package has $f" grep -qx "$f" "$T/contents"
done
dpkg-deb -x "$DEB" "$T/unpacked"
is "$(head -n 1 "$T/unpacked/usr/share/doc/pom-proxy/copyright")" \
	"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" \
	"copyright is machine-readable (DEP-5)"
ok "its ssh_config.example is the tree's" cmp -s "$REPO/ssh_config.example" \
	"$T/unpacked/usr/share/doc/pom-proxy/ssh_config.example"

# ---------------------------------------------------------------- a fresh root

ROOT=$REPO/build/deb/root
# unmount and remove the root; never across a file system (its /dev is
# the host's until unmounted)
drop_root() {
	[ -d "$ROOT" ] || return 0
	bash "$REPO/tests/lib/freshroot.sh" umount "$ROOT"
	if awk -v d="$ROOT" '$2 == d || index($2, d "/") == 1 { f = 1 } END { exit !f }' \
		/proc/self/mounts; then
		echo "# $ROOT still has mounts; left in place" >&2
		return 0
	fi
	rm -rf --one-file-system "$ROOT"
}
# ours first (the processes in the root end with the test's), then
# signin.sh's and world.sh's, with the original exit status
trap 'rc=$?; _signin_cleanup; drop_root; (exit $rc); _cleanup' EXIT
drop_root
bash "$REPO/tests/lib/freshroot.sh" make "$ROOT" >"$T/freshroot.log" 2>&1 ||
	{ diag_file "$T/freshroot.log"; bail "no fresh root"; }
mkdir -p "$ROOT$T"
mount --bind "$T" "$ROOT$T" || bail "cannot bind-mount $T into the root"
# in_root CMD... — CMD in the root, with this test's environment
in_root() { chroot "$ROOT" "$@"; }

# a jump-host image has no git: its libcurl3-gnutls is the libcurl the
# sign-in would find, so both go
in_root dpkg --purge git libcurl3-gnutls >"$T/purge.log" 2>&1
is "$?" 0 "dpkg --purge git libcurl3-gnutls (a minimal image)" || diag_file "$T/purge.log"
nok "the root has no libcurl" quiet sh -c "chroot '$ROOT' ldconfig -p | grep -q libcurl"
cp "$DEB" "$T/pom-proxy.deb"
in_root dpkg -i "$T/pom-proxy.deb" >"$T/dpkg-i.log" 2>&1
is "$?" 0 "dpkg -i installs it into the fresh root" || diag_file "$T/dpkg-i.log"
is "$(in_root dpkg-query -W -f '${db:Status-Abbrev}' pom-proxy 2>&1)" "ii " \
	"dpkg-query: installed, nothing missing"
like "$(in_root /usr/bin/pom-proxy --version 2>&1)" '^pom-proxy [0-9]' "/usr/bin/pom-proxy runs there"
in_root ldd /usr/bin/pom-proxy >"$T/ldd" 2>&1
is "$(grep -vE '^\s*(linux-vdso\.so|libc\.so\.6|/lib64/ld-linux)' "$T/ldd")" "" \
	"ldd: libc and the loader only" || diag_file "$T/ldd"
is "$(zcat "$ROOT/usr/share/man/man1/pom-proxy.1.gz" | grep -m1 '^\.Dt')" ".Dt POM-PROXY 1" \
	"the man page is installed"
ok "the completion is installed and parses" bash -n "$ROOT/usr/share/bash-completion/completions/pom-proxy"

# ---------------------------------------------------------------- the world, outside
start_sshd
signin_world --route ssh.corp.test:22 "127.0.0.1:$SSHD_PORT" '*'
# trust the test CA the way a machine does: in its ca-certificates store
cp "$PKI/ca.pem" "$ROOT/usr/local/share/ca-certificates/pom-test-ca.crt"
in_root update-ca-certificates >"$T/update-ca.log" 2>&1
is "$?" 0 "update-ca-certificates in the root" || diag_file "$T/update-ca.log"
# the installed binary, in the root
INROOT=$T/inroot
printf '#!/bin/sh\nexec %s %s /usr/bin/pom-proxy "$@"\n' "$(command -v chroot)" "$ROOT" >"$INROOT"
chmod 755 "$INROOT"
PC="$INROOT --pomerium-url $PROXY_URL --service-account-file $(token_file) %h:%p"

random_file "$T/up" 2
random_file "$T/down" 1
n0=$(nlog '^CONNECT ssh\.corp\.test:22 200 ')
out=$(ssh_via "$PC" ssh.corp.test 'sha256sum | cut -d" " -f1' <"$T/up" 2>"$T/ssh.err")
is "$out" "$(sha "$T/up")" "ssh through the installed pom-proxy: 2 MiB up arrive intact" ||
	{ diag_file "$T/ssh.err"; diag_file "$DOUBLE_LOG" 5; }
is "$(nlog '^CONNECT ssh\.corp\.test:22 200 ')" $((n0 + 1)) "the double saw that one CONNECT"
# (sshd runs outside the root, on this machine: it reads $T/down itself)
out=$(ssh_via "$PC" ssh.corp.test "cat '$T/down'" </dev/null 2>"$T/ssh.err" | sha256sum | cut -d' ' -f1)
is "$out" "$(sha "$T/down")" "  and 1 MiB down arrives intact" || diag_file "$T/ssh.err"
ok "its TLS session was cached in the root's view of the cache" test -s "$CACHE_DIR/sessions/$AUTH"

# ---------------------------------------------------------------- sign-in, without and with libcurl
POM_PROXY=$INROOT run_pp login --browser-cmd /bin/true "$PROXY_URL"
expect_failure 3 'needs libcurl.*apt-get install libcurl4' "login without the Recommends"

in_root sh -c 'apt-get update && apt-get install -y --no-install-recommends libcurl4' \
	</dev/null >"$T/apt.log" 2>&1
is "$?" 0 "apt-get install libcurl4 in the root" || diag_file "$T/apt.log" 20
fake_browser web record
spawn login "$INROOT" login --browser-cmd "$T/web.sh" --login-timeout 60 "$PROXY_URL"
LOGIN_PID=$LAST_PID
if wait_file "$T/web.urls" 30; then
	curl -sS -L --max-redirs 3 --noproxy '*' --cacert "$PKI/ca.pem" -o "$T/web.page" \
		"$(head -n 1 "$T/web.urls")" 2>"$T/curl.err"
	is "$?" 0 "the browser (curl, outside the root) follows the sign-in URL" || diag_file "$T/curl.err"
else
	_tap 1 "the installed pom-proxy opened the browser"
	diag_file "$T/login.err"
fi
wait_gone "$LOGIN_PID" 30
wait "$LOGIN_PID"
is "$?" 0 "login in the root, with libcurl4 installed: exit 0" || diag_file "$T/login.err"
ok "the token is cached" test -s "$TOKEN_FILE"
n0=$(nlog '^CONNECT ssh\.corp\.test:22 200 ')
out=$(ssh_via "$INROOT --pomerium-url $PROXY_URL %h:%p" ssh.corp.test 'echo $((6 * 7))' </dev/null 2>"$T/ssh2.err")
is "$out" 42 "the next ssh session uses the cached token" || diag_file "$T/ssh2.err"
is "$(nlog '^CONNECT ssh\.corp\.test:22 200 ')" $((n0 + 1)) "one CONNECT, with the cached token"

# ---------------------------------------------------------------- removal
in_root dpkg -r pom-proxy >"$T/dpkg-r.log" 2>&1
is "$?" 0 "dpkg -r pom-proxy" || diag_file "$T/dpkg-r.log"
left=
while read -r f; do
	[ -d "$ROOT$f" ] || [ ! -e "$ROOT$f" ] || left="$left $f"
done <"$T/contents"
is "${left# }" "" "every file it installed is gone"

done_testing
