#!/bin/bash
# local_faults.t — faults on the local side, each ending in a clear outcome:
#   ssh goes away: the reader of pom-proxy's stdout closes it in the middle
#     of a transfer, or while the tunnel is idle; SIGHUP in the middle of a
#     transfer both ways: pom-proxy ends at once, exit 0, nothing said, and
#     the proxy sees its TLS connection closed (close_notify)
#   descriptors: pom-proxy started with stdin, stdout or stderr closed (a
#     careless parent): the proxy socket must not take that number (known
#     bugs, TAP TODO)
#   the cache directory ($XDG_CACHE_HOME, in a private mount namespace):
#     read-only, full (a tiny tmpfs filled up), out of inodes, or a file
#     where a directory should be: the tunnel with a service-account token
#     still works and says nothing; a sign-in that cannot store its token
#     signs in anyway and says the token was not stored (full), or refuses
#     in one line saying why (read-only, no inodes, not a directory), and
#     never leaves a partial or temporary file
#   the token: a cached token file that is a directory is ignored with a
#     warning (garbage and symlinks: signin_cache.t); a service-account
#     file that is garbage, empty, a directory or a device is refused in
#     one line (exit 2), a symlink to a token is followed (Kubernetes
#     secrets are symlinks)
#   no /proc mounted: the tunnel works, ssh-config still names its own
#     absolute path
# (stdin closing early with the answer still to come: session_end.t.)
. "$(dirname "$0")/lib/world.sh"
. "$(dirname "$0")/lib/signin.sh"
watchdog 170
need setsid python3 unshare mount
signin_world
fake_browser web follow
printf 'HELLO-FROM-UPSTREAM\n' >"$T/greeting"
start_upstream echo --send "$T/greeting" --expect 5
GREET=$UPSTREAM_PORT
start_upstream reply --expect 0 --send "$T/greeting"
GREET0=$UPSTREAM_PORT
random_file "$T/big" 8
start_upstream xfer --send "$T/big" --save "$T/xfer-saved"
XFER=$UPSTREAM_PORT
start_upstream hold
HOLD=$UPSTREAM_PORT
start_double --route greet.test:7 "127.0.0.1:$GREET" '*' --route xfer.test:7 "127.0.0.1:$XFER" '*' \
	--route hold.test:7 "127.0.0.1:$HOLD" '*' --route greet0.test:7 "127.0.0.1:$GREET0" '*'
P2=$DOUBLE_PORT
TOK=$(token_file alice@example.com)
printf 'PING\n' >"$T/ping"
SA=(--pomerium-url "https://localhost:$P2" --alternate-ca-path "$PKI/ca.pem" --service-account-file "$TOK")

# ends N — until the double has logged N tunnel ends; prints the last
ends() {
	local i
	for i in $(seq 100); do
		[ "$(grep -c '^END ' "$DOUBLE_LOG")" -ge "$1" ] && break
		sleep 0.1
	done
	grep '^END ' "$DOUBLE_LOG" | tail -n 1
}

# ---------------------------------------------------------------- ssh goes away
setsid -w timeout -k 5 30 "$POM_PROXY" "${SA[@]}" xfer.test:7 </dev/null 2>"$T/gone.err" | head -c 100000 >"$T/gone.out"
st=("${PIPESTATUS[@]}")
is "${st[0]}/$(wc -c <"$T/gone.out")" "0/100000" "stdout's reader goes away mid-transfer: pom-proxy exits 0"
is "$(cat "$T/gone.err")" "" "  and says nothing"
like "$(ends 1)" '^END xfer\.test:7 client_eof=notify ' "  and closes its TLS connection with close_notify"

# idle: the reader closes its end of the pipe after the greeting
idle_stdin
setsid -w timeout -k 5 30 "$POM_PROXY" "${SA[@]}" hold.test:7 <"$IDLE_IN" 2>"$T/idle.err" |
	python3 -c 'import os, time; time.sleep(0.5); os.close(0); time.sleep(15)' &
READER=$!
_PIDS+=("$READER")
wait_log_more '^END ' 1 "$DOUBLE_LOG" 15
like "$(ends 2)" '^END hold\.test:7 client_eof=notify ' \
	"stdout's reader goes away while the tunnel is idle: pom-proxy notices and closes the tunnel"
ok "  while the reader is still alive (pom-proxy saw the pipe close, not an exit)" alive "$READER"
kill "$READER" 2>/dev/null
wait "$READER" 2>/dev/null
is "$(cat "$T/idle.err")" "" "  and says nothing"

# SIGHUP while data flows both ways
head -c $((64 * 1024 * 1024)) /dev/zero |
	setsid "$POM_PROXY" "${SA[@]}" xfer.test:7 >"$T/hup.out" 2>"$T/hup.err" &
PID=$!
_PIDS+=("$PID")
for i in $(seq 100); do [ "$(wc -c <"$T/hup.out")" -ge 1000000 ] && break; sleep 0.1; done
ok "SIGHUP mid-transfer: data was flowing" test "$(wc -c <"$T/hup.out")" -ge 1000000
kill -HUP "$PID"
ok "SIGHUP mid-transfer: pom-proxy ends" wait_gone "$PID" 10
wait "$PID"
is "$?" 0 "SIGHUP mid-transfer: exit 0 (ssh's normal way to end a ProxyCommand)"
is "$(cat "$T/hup.err")" "" "SIGHUP mid-transfer: nothing said"
like "$(ends 3)" '^END xfer\.test:7 client_eof=notify ' "SIGHUP mid-transfer: the TLS connection is closed with close_notify"
cmp -s -n "$(wc -c <"$T/hup.out")" "$T/hup.out" "$T/big"
is "$?" 0 "SIGHUP mid-transfer: what arrived is the upstream's data, in order"

# the control: pom-proxy killed outright sends no close_notify, and the
# double tells that apart (so the close_notify lines above mean something)
c=$(grep -c '^CONNECT hold\.test:7 200' "$DOUBLE_LOG")
setsid "$POM_PROXY" "${SA[@]}" hold.test:7 <"$IDLE_IN" >/dev/null 2>&1 &
PID=$!
_PIDS+=("$PID")
wait_log_more '^CONNECT hold\.test:7 200' "$c"
sleep 0.2
kill -KILL "$PID"
like "$(ends 4)" '^END hold\.test:7 client_eof=ragged ' "control: SIGKILL, no close_notify: the double logs a ragged EOF"

# ---------------------------------------------------------------- closed descriptors
# pom-proxy should treat a closed stdin as empty, a closed stdout as gone
# and a closed stderr as silence, not hand the number to its proxy socket.
check() { # DESC GOT WANT
	is "$2" "$3" "$1"
}
n=$(grep -c '^END ' "$DOUBLE_LOG")
setsid -w timeout -k 5 20 "$POM_PROXY" "${SA[@]}" greet0.test:7 <&- >"$T/fd0.out" 2>"$T/fd0.err"
rc=$?
check "started with stdin closed: the greeting arrives, exit 0, nothing said" \
	"$rc/$(tr '\n' ' ' <"$T/fd0.out")/$(cat "$T/fd0.err")" "0/HELLO-FROM-UPSTREAM /"
# with stdout closed, nothing may go to the proxy in clear: the double
# would see it as a TLS error ("error:SSLError")
setsid -w timeout -k 5 20 "$POM_PROXY" "${SA[@]}" greet0.test:7 </dev/null >&- 2>"$T/fd1.err"
ends $((n + 2)) >/dev/null
check "started with stdout closed: nothing is written to the proxy outside TLS" \
	"$(grep '^END greet0' "$DOUBLE_LOG" | tail -n 1 | grep -c 'SSLError')" 0
setsid -w timeout -k 5 20 "$POM_PROXY" -v "${SA[@]}" greet0.test:7 </dev/null >"$T/fd2.out" 2>&-
rc=$?
check "started with stderr closed (-v): the tunnel works" \
	"$rc/$(tr '\n' ' ' <"$T/fd2.out")" "0/HELLO-FROM-UPSTREAM "

# ---------------------------------------------------------------- the cache directory
# in-ns.sh MODE LISTING CMD... — CMD in a private mount namespace where
# $XDG_CACHE_HOME is MODE: ro (bind-mounted read-only onto itself), full
# (a 64 KiB tmpfs, filled), inodes (a tmpfs without a free inode); when CMD
# ends, the files under $XDG_CACHE_HOME go to LISTING.
cat >"$T/in-ns.sh" <<'EOF'
#!/bin/sh
exec unshare -m sh -c '
C=$XDG_CACHE_HOME mode=$1 listing=$2
shift 2
mkdir -p "$C" || exit 97
case $mode in
ro) mount --bind "$C" "$C" && mount -o remount,bind,ro "$C" || exit 97 ;;
full) mount -t tmpfs -o size=64k,mode=0700 tmpfs "$C" || exit 97
	head -c 1048576 /dev/zero >"$C/filler" 2>/dev/null
	[ "$(df -P "$C" | awk "NR == 2 {print \$4}")" = 0 ] || exit 98 ;;
inodes) mount -t tmpfs -o nr_inodes=2,mode=0700 tmpfs "$C" || exit 97
	: >"$C/filler" ;;
esac
"$@"
rc=$?
(cd "$C" && find . -mindepth 1 -printf "%y %s %p\n" | sort) >"$listing"
exit $rc' sh "$@"
EOF
chmod +x "$T/in-ns.sh"
REAL_PP=$POM_PROXY
# cache_case MODE — a service-account tunnel, then a sign-in, in MODE
cache_case() {
	local mode=$1
	rm -rf "$XDG_CACHE_HOME"
	mkdir -p "$XDG_CACHE_HOME"
	printf '#!/bin/sh\nexec "%s" %s "%s" "%s" "$@"\n' "$T/in-ns.sh" "$mode" "$T/$mode.ls" "$REAL_PP" >"$T/pp-$mode"
	chmod +x "$T/pp-$mode"
	POM_PROXY=$T/pp-$mode
	tunnel_echo "sa-$mode" "${PPO[@]}" --service-account-file "$TOK" echo.test:7
	is "$RC/$ECHO/$ERR" "0/ok/" "cache $mode: a service-account tunnel works and says nothing"
	: >"$T/web.urls"
	tunnel_echo "si-$mode" "${PPO[@]}" --browser-cmd "$T/web.sh" --login-timeout 30 echo.test:7
	POM_PROXY=$REAL_PP
}
cache_case ro
is "$RC" 3 "cache read-only: a sign-in is refused (exit 3)" || diag "$ERR"
is "$ERR" "pom-proxy: sign-in: cannot use the cache directory: Read-only file system" "  in one line that says why"
is "$(wc -l <"$T/web.urls")" 0 "  before any browser is started"

cache_case full
is "$RC/$ECHO" "0/ok" "cache full: the sign-in works and the tunnel opens" || diag "$ERR"
like "$ERR" "warning: signed in, but cannot store the token in the cache: No space left on device" \
	"  saying the token could not be stored"
is "$(grep -c 'No space' <<<"$ERR")" 1 "  once"
is "$(grep -E '^f ' "$T/full.ls" | grep -v ' \./filler$' | grep -E 'tokens/|\.tmp-' | wc -l)" 0 \
	"  no token file, whole or partial, and no temporary file left" || diag_file "$T/full.ls"

cache_case inodes
is "$RC" 3 "cache out of inodes: a sign-in is refused (exit 3)" || diag "$ERR"
is "$ERR" "pom-proxy: sign-in: cannot use the cache directory: No space left on device" "  in one line that says why"

# a file where the cache directory should be
rm -rf "$XDG_CACHE_HOME"
echo "not a directory" >"$XDG_CACHE_HOME"
tunnel_echo sa-file "${PPO[@]}" --service-account-file "$TOK" echo.test:7
is "$RC/$ECHO/$ERR" "0/ok/" "XDG_CACHE_HOME is a file: a service-account tunnel works and says nothing"
tunnel_echo si-file "${PPO[@]}" --browser-cmd "$T/web.sh" --login-timeout 30 echo.test:7
is "$RC" 3 "XDG_CACHE_HOME is a file: a sign-in is refused (exit 3)" || diag "$ERR"
like "$(tail -n 1 <<<"$ERR")" "^pom-proxy: sign-in: cannot use the cache directory: it is not a directory$" "  saying why"
is "$(wc -l <<<"$ERR")" 1 "  in one line"
rm -f "$XDG_CACHE_HOME"

# ---------------------------------------------------------------- token files
# the cached token file is a directory
mkdir -p -m 700 "$CACHE_DIR" "$CACHE_DIR/tokens"
mkdir "$TOKEN_FILE"
tunnel_echo tokdir "${PPO[@]}" --browser-cmd "$T/web.sh" --login-timeout 30 echo.test:7
is "$RC/$ECHO" "0/ok" "cached token file is a directory: ignored, signed in, the tunnel works" || diag "$ERR"
like "$ERR" "warning: ignoring cached token .*: not a regular file" "  with a warning that says why"
like "$ERR" "warning: signed in, but cannot store the token in the cache: Is a directory" "  and that the new token was not stored"
is "$(grep -c 'ignoring cached token' <<<"$ERR")" 1 "  the warning is printed once"
rm -rf "$CACHE_DIR"

# --service-account-file that is not a token
sa_refused() { # DESC REGEX FILE
	run_pp --pomerium-url "https://localhost:$P2" --alternate-ca-path "$PKI/ca.pem" \
		--service-account-file "$3" greet.test:7
	expect_failure 2 "$2" "$1"
}
printf 'this is not a token\n' >"$T/garbage.tok"
sa_refused "service-account file holds garbage" 'garbage\.tok.*(cannot have|not a token)' "$T/garbage.tok"
: >"$T/empty.tok"
sa_refused "service-account file is empty" 'empty\.tok.*empty' "$T/empty.tok"
mkdir "$T/dir.tok"
sa_refused "service-account file is a directory" 'dir\.tok.*not a regular file' "$T/dir.tok"
sa_refused "service-account file is a device" '/dev/null.*not a regular file' /dev/null
head -c 100000 /dev/zero | tr '\0' a >"$T/huge.tok"
sa_refused "service-account file of 100 kB" 'huge\.tok.*too large' "$T/huge.tok"
ln -s "$T/dir.tok" "$T/link-dir.tok"
sa_refused "service-account file is a symlink to a directory" 'link-dir\.tok.*not a regular file' "$T/link-dir.tok"
ln -s "$TOK" "$T/link.tok"
PP_STDIN=$T/ping run_pp --pomerium-url "https://localhost:$P2" --alternate-ca-path "$PKI/ca.pem" \
	--service-account-file "$T/link.tok" greet.test:7
is "$RC/$OUT/$ERR" "0/HELLO-FROM-UPSTREAM"$'\n'"PING/" \
	"service-account file is a symlink to a token: followed, the tunnel works"
is "$(grep '^CONNECT greet' "$DOUBLE_LOG" | tail -n 1 | grep -c 'token=yes')" 1 "  and the token was sent"

# ---------------------------------------------------------------- no /proc
# a chroot or sandbox that does not mount /proc (here: an empty tmpfs over
# it in a private mount namespace): the tunnel needs none of it, and
# ssh-config still finds the program's own path for its ProxyCommand.
# ASan and LSan read /proc themselves (LSan stops with a fatal error
# without it), so under `make check SANITIZE=1` these cases run a plain
# build of the same sources: what is checked is the program's behaviour.
plain_pom_proxy
noproc() { unshare -m sh -c 'mount -t tmpfs -o size=4k none /proc || exit 97; "$@"' sh "$@"; }
out=$(noproc setsid -w timeout -k 5 20 "$PLAIN_POM_PROXY" "${SA[@]}" greet0.test:7 </dev/null 2>"$T/np.err")
check "without /proc: the tunnel works and says nothing" \
	"$(tr '\n' ' ' <<<"$out")/$(cat "$T/np.err")" "HELLO-FROM-UPSTREAM /"
noproc "$PLAIN_POM_PROXY" ssh-config --pomerium-url https://proxy.example.com db.example.com \
	>"$T/np.conf" 2>"$T/np.err"
is "$?" 0 "without /proc: ssh-config exits 0" || diag_file "$T/np.err"
is "$(sed -n 's/^ *ProxyCommand \([^ ]*\) .*/\1/p' "$T/np.conf")" "$(readlink -f "$PLAIN_POM_PROXY")" \
	"  its ProxyCommand names the program by its absolute path"
(cd "$(dirname "$PLAIN_POM_PROXY")" && noproc "./$(basename "$PLAIN_POM_PROXY")" ssh-config db.example.com) \
	>"$T/np2.conf" 2>"$T/np.err"
is "$(sed -n 's/^ *ProxyCommand \([^ ]*\) .*/\1/p' "$T/np2.conf")" "$(readlink -f "$PLAIN_POM_PROXY")" \
	"  also when it was started by a relative path"

done_testing
