# signin.sh — helpers for the sign-in tests (tests/signin_*.t), on top of
# world.sh:
#
#   #!/bin/bash
#   . "$(dirname "$0")/lib/world.sh"
#   . "$(dirname "$0")/lib/signin.sh"
#   watchdog 120
#   signin_world                   # PKI, echo upstream, double, PPO=(...)
#   fake_browser web follow        # $T/web.sh: follows the sign-in URL
#   tunnel_echo one --browser-cmd "$T/web.sh" "${PPO[@]}" echo.test:7
#   is "$RC" 0 "..."; is "$ECHO" ok "..."
#
# What it adds:
#   signin_world [DOUBLE ARGS]  test PKI, an echo upstream and the double
#                  with route echo.test:7 -> the upstream for any user, plus
#                  DOUBLE ARGS. Sets PROXY_URL (https://localhost:PORT),
#                  AUTH (localhost:PORT, the cache key), PPO (the options
#                  that point pom-proxy at the double and trust the test
#                  CA), CACHE_DIR ($XDG_CACHE_HOME/pom-proxy), TOKEN_FILE.
#   fake_browser NAME MODE      $T/NAME.sh, a --browser-cmd. Each call
#                  appends its URL to $T/NAME.urls. MODE follow: fetch the
#                  URL following redirects (curl, test CA) like a browser
#                  whose user is signed in at the IdP, page in $T/NAME.page;
#                  record: only record the URL (a sign-in that never
#                  finishes); wait-waiters N DIR: first wait (<= 60 s) until
#                  N files DIR/*.err say another pom-proxy is signing in,
#                  then follow; delay SECS: follow SECS seconds later (a
#                  user slow at the IdP); wait-file FILE: follow once FILE
#                  exists (<= 90 s), when the test says so.
#   chromium_browser NAME       $T/NAME.sh running headless Chromium with
#                  --dump-dom (DOM in $T/NAME.dom, log in $T/NAME.log); it
#                  trusts exactly the double's certificate key.
#   fleet N NAME ARGS...        N pom-proxy processes started at once (each
#                  in its own session, no terminal), stdin/stdout pipes,
#                  each sends its own line through the tunnel and checks
#                  that the same line comes back, then closes stdin and
#                  stdout. Per process: $T/NAME/I.err, .pid, .rc, .echo
#                  ("ok" or "bad ..."). Bounded by FLEET_TIMEOUT (60 s).
#                  fleet_bg: the same in the background (FLEET_PID).
#   fleet_count NAME KIND VALUE how many of NAME's processes have KIND
#                  (rc|echo) equal to VALUE
#   tunnel_echo NAME ARGS...    fleet of one; sets RC, ECHO, ERR ($T/NAME/0.*)
#   paste_drive MODE NAME ARGS... pom-proxy with /dev/tty a pseudo-terminal
#                  whose foreground it is; reads the sign-in URL from its
#                  stderr, gets the final callback address from the double
#                  (no redirect followed) and types it (MODE url), the bare
#                  token (token), a garbage line first (garbage), or ^C
#                  (ctrlc). Results in $T/NAME/: rc, echo, err, tty, location.
#   paste_drive_cmd MODE NAME CMD... the same around another command (an
#                  ssh with ProxyCommand pom-proxy)
#   signin_location URL         the Location the double's sign-in URL
#                  redirects to (the final callback address with
#                  pomerium_jwt); exit 1 unless it answers 302
#   wait_grep FILE REGEX [SECS] until FILE has a line matching REGEX
#   nlog REGEX                  lines of the double's log matching REGEX
#                  (always prints a number)
#   todo_ok / todo_is           like ok / is, but a failure is reported as
#                  TAP "# TODO" (a known bug, see the reason) and does not
#                  fail the test; a pass is reported (prove: "unexpectedly
#                  succeeded") so the TODO can be removed.
#   detached processes (browsers run by pom-proxy are re-parented to init)
#                  record their pid in $T/detached.pids and are ended, with
#                  their descendants, at exit.

_SIGNIN_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: >"$T/detached.pids"

_signin_cleanup() {
	local p
	while read -r p; do
		[ -n "$p" ] && alive "$p" && kill_tree "$p" KILL
	done <"$T/detached.pids"
	return 0
}
# run ours, then world.sh's _cleanup with the original exit status
trap 'rc=$?; _signin_cleanup; (exit $rc); _cleanup' EXIT

# ------------------------------------------------------------------ TAP TODO

_todo_tap() {
	_N=$((_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_N - $2 # TODO $3"
	else
		echo "not ok $_N - $2 # TODO $3"
	fi
}

# todo_ok REASON DESC CMD [ARGS...]
todo_ok() {
	local reason=$1 desc=$2
	shift 2
	"$@"
	_todo_tap $? "$desc" "$reason"
}

# todo_is REASON GOT WANT DESC
todo_is() {
	if [ "$2" = "$3" ]; then
		_todo_tap 0 "$4" "$1"
	else
		_todo_tap 1 "$4" "$1"
		diag "     got: '$2'"
		diag "expected: '$3'"
	fi
}

# ------------------------------------------------------------------ world

signin_world() {
	need python3 curl
	pom_built
	pki
	start_upstream echo
	start_double --route echo.test:7 "127.0.0.1:$UPSTREAM_PORT" '*' "$@"
	PROXY_URL=https://localhost:$DOUBLE_PORT
	AUTH=localhost:$DOUBLE_PORT
	PPO=(--pomerium-url "$PROXY_URL" --alternate-ca-path "$PKI/ca.pem")
	CACHE_DIR=$XDG_CACHE_HOME/pom-proxy
	TOKEN_FILE=$CACHE_DIR/tokens/$AUTH
}

# nlog REGEX — lines of the double's log matching REGEX
nlog() {
	local n
	n=$(grep -cE "$1" "$DOUBLE_LOG")
	echo "${n:-0}"
}

# wait_grep FILE REGEX [SECS]
wait_grep() {
	local i=0 n=$((${3:-15} * 10))
	until grep -qE "$2" "$1" 2>/dev/null; do
		[ $i -ge $n ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

# ------------------------------------------------------------------ browsers

# fake_browser NAME MODE [N DIR]
fake_browser() {
	local name=$1 mode=$2 f=$T/$1.sh
	: >"$T/$name.urls"
	{
		echo '#!/bin/sh'
		echo "echo \$\$ >>'$T/detached.pids'"
		echo "printf '%s\\n' \"\$1\" >>'$T/$name.urls'"
		case $mode in
		record) echo 'exit 0' ;;
		wait-waiters)
			echo "i=0"
			echo "while [ \"\$(grep -l 'in progress in another pom-proxy' '$4'/*.err 2>/dev/null | wc -l)\" -lt $3 ]; do"
			echo "	i=\$((i + 1)); [ \$i -gt 600 ] && break; sleep 0.1"
			echo "done" ;;
		delay) echo "sleep $3" ;;
		wait-file)
			echo "i=0"
			echo "while [ ! -e '$3' ] && [ \$i -lt 900 ]; do sleep 0.1; i=\$((i + 1)); done" ;;
		follow) ;;
		*) bail "fake_browser: unknown mode $mode" ;;
		esac
		[ "$mode" = record ] ||
			echo "exec timeout 30 curl -sS -L --max-redirs 3 --noproxy '*' --cacert '$PKI/ca.pem' -o '$T/$name.page' \"\$1\" 2>>'$T/$name.log'"
	} >"$f"
	chmod +x "$f"
}

# chromium_browser NAME
chromium_browser() {
	local name=$1 f=$T/$1.sh spki
	need chromium openssl
	spki=$(openssl x509 -in "${DOUBLE_CERT:-$PKI/le-chain.pem}" -pubkey -noout |
		openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
	: >"$T/$name.urls"
	cat >"$f" <<EOF
#!/bin/sh
echo \$\$ >>'$T/detached.pids'
printf '%s\n' "\$1" >>'$T/$name.urls'
exec timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --disable-quic \\
	--no-first-run --disable-background-networking --disable-component-update \\
	--disable-sync --user-data-dir='$T/$name.profile' \\
	--ignore-certificate-errors-spki-list=$spki \\
	--dump-dom "\$1" >'$T/$name.dom' 2>'$T/$name.log'
EOF
	chmod +x "$f"
}

# ------------------------------------------------------------------ drivers

cat >"$T/fleet.py" <<'EOF'
import os, secrets, subprocess, sys, threading, time
import tunnelio
n, outdir, limit = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
assert sys.argv[4] == "--"
cmd = sys.argv[5:]
os.makedirs(outdir, exist_ok=True)
end = time.monotonic() + limit
procs = []
for i in range(n):
    with open("%s/%d.err" % (outdir, i), "wb") as err:
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=err, start_new_session=True)
    with open("%s/%d.pid" % (outdir, i), "w") as f:
        f.write("%d\n" % p.pid)
    procs.append(p)

def drive(i, p):
    msg = ("hello %d %s\n" % (i, secrets.token_hex(8))).encode()
    echo = tunnelio.echo(p, msg, end)
    rc = tunnelio.close_and_wait(p, end)
    with open("%s/%d.echo" % (outdir, i), "w") as f:
        f.write(echo + "\n")
    with open("%s/%d.rc" % (outdir, i), "w") as f:
        f.write("%s\n" % rc)

threads = [threading.Thread(target=drive, args=(i, p)) for i, p in enumerate(procs)]
for t in threads:
    t.start()
for t in threads:
    t.join()
EOF

cat >"$T/paste.py" <<'EOF'
import fcntl, http.client, os, re, secrets, select, ssl, subprocess, sys
import termios, threading, time, urllib.parse
import tunnelio
mode, outdir, ca, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
assert sys.argv[5] == "--"
cmd = sys.argv[6:]
os.makedirs(outdir, exist_ok=True)
end = time.monotonic() + limit

def put(name, text):
    with open(os.path.join(outdir, name), "w") as f:
        f.write(text)

master, slave = os.openpty()
errr, errw = os.pipe()

def child():
    # start_new_session made us a session leader: this terminal becomes our
    # controlling terminal, and our process group its foreground group
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=errw, start_new_session=True, preexec_fn=child)
os.close(errw)
put("pid", "%d\n" % p.pid)

tty_out = []
def drain_tty():
    while True:
        try:
            d = os.read(master, 4096)
        except OSError:
            return
        if not d:
            return
        tty_out.append(d)
threading.Thread(target=drain_tty, daemon=True).start()

err = b""
def wait_for(regex):
    global err
    while True:
        m = re.search(regex, err.decode("utf-8", "replace"))
        if m:
            return m
        left = end - time.monotonic()
        if left <= 0 or not select.select([errr], [], [], left)[0]:
            return None
        d = os.read(errr, 65536)
        if not d:
            return re.search(regex, err.decode("utf-8", "replace"))
        err += d
        put("err", err.decode("utf-8", "replace"))

def finish(rc_note=""):
    global err
    echo = "-"
    if mode != "ctrlc" and rc_note == "":
        msg = ("hello %s\n" % secrets.token_hex(8)).encode()
        echo = tunnelio.echo(p, msg, end)
    rc = tunnelio.close_and_wait(p, end)
    while select.select([errr], [], [], 0.2)[0]:
        d = os.read(errr, 65536)
        if not d:
            break
        err += d
    put("err", err.decode("utf-8", "replace"))
    put("echo", echo + "\n")
    put("rc", "%s\n" % rc)
    put("tty", b"".join(tty_out).decode("utf-8", "replace"))
    put("note", rc_note + "\n")
    sys.exit(0)

m = wait_for(r"sign in to \S+: open (https://\S+)")
if not m:
    finish("no sign-in URL on stderr")
url = m.group(1)
put("url", url + "\n")
if not wait_for(r"paste the address"):
    finish("no paste prompt (the terminal was not used)")

u = urllib.parse.urlsplit(url)
ctx = ssl.create_default_context(cafile=ca)
c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)
c.request("GET", u.path + "?" + u.query)
r = c.getresponse()
loc = r.getheader("location") or ""
c.close()
put("location", loc + "\n")
if r.status != 302 or "pomerium_jwt=" not in loc:
    finish("the sign-in URL answered %d" % r.status)

def typed(text):
    os.write(master, text.encode())

if mode == "url":
    typed(loc + "\n")
elif mode == "token":
    jwt = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)["pomerium_jwt"][0]
    typed("  " + jwt + "  \n")
elif mode == "garbage":
    typed("this is not it\n")
    if not wait_for(r"try again"):
        finish("no 'try again' after a garbage line")
    put("after_garbage", "%s\n" % ("running" if p.poll() is None else "exited"))
    typed(loc + "\n")
elif mode == "ctrlc":
    typed("\x03")
finish()
EOF

# fleet N NAME ARGS... (pom-proxy ARGS)
fleet() {
	local n=$1 name=$2
	shift 2
	rm -rf "${T:?}/$name"
	PYTHONPATH="$_SIGNIN_LIB" timeout -k 5 $((${FLEET_TIMEOUT:-60} + 10)) python3 "$T/fleet.py" "$n" "$T/$name" \
		"${FLEET_TIMEOUT:-60}" -- "$POM_PROXY" "$@"
}

# fleet_bg N NAME ARGS... — fleet in the background; FLEET_PID
fleet_bg() {
	local n=$1 name=$2
	shift 2
	rm -rf "${T:?}/$name"
	spawn "fleet-$name" env PYTHONPATH="$_SIGNIN_LIB" timeout -k 5 $((${FLEET_TIMEOUT:-60} + 10)) \
		python3 "$T/fleet.py" "$n" "$T/$name" "${FLEET_TIMEOUT:-60}" -- "$POM_PROXY" "$@"
	FLEET_PID=$LAST_PID
}

# fleet_count NAME rc|echo VALUE
fleet_count() {
	local f n=0
	for f in "$T/$1"/*."$2"; do
		[ -e "$f" ] || continue
		if [ "$3" = ok ] && [ "$2" = echo ]; then
			[ "$(cat "$f")" = ok ] && n=$((n + 1))
		else
			[ "$(cat "$f")" = "$3" ] && n=$((n + 1))
		fi
	done
	echo "$n"
}

# tunnel_echo NAME ARGS... — one pom-proxy; RC, ECHO, ERR
tunnel_echo() {
	local name=$1
	shift
	fleet 1 "$name" "$@"
	RC=$(cat "$T/$name/0.rc" 2>/dev/null || echo none)
	ECHO=$(cat "$T/$name/0.echo" 2>/dev/null || echo none)
	ERR=$(cat "$T/$name/0.err" 2>/dev/null)
}

# paste_drive MODE NAME ARGS... (pom-proxy ARGS)
paste_drive() {
	local mode=$1 name=$2
	shift 2
	paste_drive_cmd "$mode" "$name" "$POM_PROXY" "$@"
}

# paste_drive_cmd MODE NAME CMD... — the same around any command (e.g. an
# ssh whose ProxyCommand is pom-proxy: it shares ssh's terminal)
paste_drive_cmd() {
	local mode=$1 name=$2
	shift 2
	rm -rf "${T:?}/$name"
	PYTHONPATH="$_SIGNIN_LIB" timeout -k 5 70 python3 "$T/paste.py" "$mode" "$T/$name" "$PKI/ca.pem" 60 -- "$@"
}

# signin_location URL
signin_location() {
	timeout 20 python3 - "$1" "$PKI/ca.pem" <<'EOF'
import http.client, ssl, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
ctx = ssl.create_default_context(cafile=sys.argv[2])
c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)
c.request("GET", u.path + ("?" + u.query if u.query else ""))
r = c.getresponse()
if r.status != 302:
    sys.exit("sign-in URL answered %d" % r.status)
print(r.getheader("location"))
EOF
}
