#!/bin/bash
# signin_callback.t — the loopback callback's hardening (protocol.md §4).
# A `pom-proxy login --no-browser` waits for the browser; the test finds
# the callback address the way a browser would (the double's sign-in URL
# redirects to it) and talks raw HTTP to it: wrong path 404, wrong or
# missing Host 400, non-GET 405, no pomerium_jwt 400, oversized 431, a
# client that sends nothing 408 after the read limit while others are
# served, then the right request 200 with a page that says it worked;
# afterwards the port is closed (a second use is refused); and more idle
# connections than the callback serves at once cannot keep the browser's
# request out. It listens on 127.0.0.1 only.
. "$(dirname "$0")/lib/world.sh"
. "$(dirname "$0")/lib/signin.sh"
watchdog 180
signin_world

# cb.py PORT MODE [ARG] — raw HTTP exchanges with the callback
#   req:    send stdin, print the status line (or REFUSED, RESET, EOF,
#           TIMEOUT), then the headers and body
#   during: open a connection that sends nothing (S), then do "req" with
#           stdin on another one and print its status line; then whether S
#           was still open and unanswered at that moment ("S open" / "S
#           answered"), then S's own answer ("S: <status line>") and
#           "S elapsed <seconds>"
#   slow:   connect, send ARG (may be empty), write file $READY, then wait
#           for the answer (30 s); print its status line, then "elapsed S"
#   idle:   hold ARG connections that send nothing until file $STOP exists
#           (or 60 s); write file $READY once all are open
cat >"$T/cb.py" <<'EOF2'
import os, socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else ""
host = os.environ.get("CB_ADDR", "127.0.0.1")
def connect():
    return socket.create_connection((host, port), timeout=30)
def answer(s):
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except socket.timeout:
        return "TIMEOUT", data
    except ConnectionResetError:
        if not data:
            return "RESET", data
    if not data:
        return "EOF", data
    return data.split(b"\r\n", 1)[0].decode("latin-1"), data
def request(raw):
    s = connect()
    try:
        s.sendall(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return answer(s)
def ready():
    with open(os.environ["READY"], "w") as f:
        f.write("ready\n")
try:
    if mode == "req":
        status, data = request(sys.stdin.buffer.read())
        print(status)
        sys.stdout.write(data.decode("latin-1"))
    elif mode == "during":
        raw = sys.stdin.buffer.read()
        slow = connect()
        t0 = time.monotonic()
        time.sleep(0.2)   # let the callback accept it first
        status, data = request(raw)
        print(status)
        slow.setblocking(False)
        try:
            slow.recv(1, socket.MSG_PEEK)
            print("S answered")
        except BlockingIOError:
            print("S open")
        slow.setblocking(True)
        slow.settimeout(30)
        print("S: " + answer(slow)[0])
        print("S elapsed %.1f" % (time.monotonic() - t0))
        sys.stdout.write(data.decode("latin-1"))
    elif mode == "slow":
        s = connect()
        if arg:
            s.sendall(arg.encode())
        ready()
        t0 = time.monotonic()
        status, data = answer(s)
        print(status)
        print("elapsed %.1f" % (time.monotonic() - t0))
    elif mode == "idle":
        conns = [connect() for _ in range(int(arg))]
        ready()
        end = time.monotonic() + 60
        while not os.path.exists(os.environ["STOP"]) and time.monotonic() < end:
            time.sleep(0.05)
except ConnectionRefusedError:
    print("REFUSED")
EOF2

# req LINE HEADERS... — send "LINE\r\nHEADER\r\n...\r\n" to the callback;
# STATUS = the status line, RESP = the whole answer
req() {
	local line=$1 h
	shift
	{
		printf '%s\r\n' "$line"
		for h in "$@"; do printf '%s\r\n' "$h"; done
		printf '\r\n'
	} >"$T/req.bin"
	RESP=$(timeout 40 python3 "$T/cb.py" "$CB_PORT" "${CB_MODE:-req}" <"$T/req.bin")
	STATUS=$(head -n 1 <<<"$RESP" | tr -d '\r')
}

# start_login NAME — a `pom-proxy login --no-browser` waiting for the
# callback; sets LOC (the final address), CB_PORT, CB_PATH, JWT, LOGIN_PID
start_login() {
	spawn "$1" timeout 120 setsid -w "$POM_PROXY" login --no-browser --login-timeout 100 \
		"${PPO[@]}" "$PROXY_URL"
	LOGIN_PID=$LAST_PID
	wait_grep "$T/$1.err" "sign in to $AUTH: open https://" 30 ||
		{ diag_file "$T/$1.err"; bail "the login did not print its sign-in URL"; }
	local url
	url=$(grep -o "open https://[^ ]*" "$T/$1.err" | head -1 | cut -c6-)
	LOC=$(signin_location "$url") || bail "the double's sign-in URL did not redirect"
	CB_PORT=$(sed -E 's,^http://127\.0\.0\.1:([0-9]+)/.*,\1,' <<<"$LOC")
	CB_PATH=$(sed -E 's,^http://127\.0\.0\.1:[0-9]+(/[^?]*)\?.*,\1,' <<<"$LOC")
	JWT=$(sed -n 's/.*[?&]pomerium_jwt=//p' <<<"$LOC")
}

start_login login
like "$LOC" "^http://127\.0\.0\.1:[0-9]+/callback/[0-9a-f]{32}\?pomerium_jwt=" \
	"the redirect URI is http://127.0.0.1:PORT/callback/<32 hex>"
H="Host: 127.0.0.1:$CB_PORT"
GOOD="GET $CB_PATH?pomerium_jwt=$JWT HTTP/1.1"

# ---------------------------------------------------------------- where it listens
hexport=$(printf '%04X' "$CB_PORT")
listeners=$(awk -v p=":$hexport" '$4 == "0A" && substr($2, length($2) - 4) == p {print $2}' \
	/proc/net/tcp /proc/net/tcp6)
is "$listeners" "0100007F:$hexport" "the callback listens on 127.0.0.1 only (one IPv4 loopback socket, no IPv6, no wildcard)"
r=$(CB_ADDR=127.0.0.2 timeout 40 python3 "$T/cb.py" "$CB_PORT" req </dev/null | head -1)
is "$r" REFUSED "another loopback address (127.0.0.2) is refused on that port"

# ---------------------------------------------------------------- slow clients, while others are served
CB_MODE=during req "GET /nowhere HTTP/1.1" "Host: 127.0.0.1:$CB_PORT"
is "$(sed -n 1p <<<"$RESP")" "HTTP/1.1 404 Not Found" "a request is served while a client that sends nothing is connected"
is "$(sed -n 2p <<<"$RESP")" "S open" "  (that client was still connected and unanswered then)"
is "$(sed -n 3p <<<"$RESP")" "S: HTTP/1.1 408 Request Timeout" "the client that sends nothing gets 408 Request Timeout"
note "(after $(sed -n 's/^S elapsed //p' <<<"$RESP") s)"
READY=$T/slow2.ready spawn slow2 timeout 60 python3 "$T/cb.py" "$CB_PORT" slow "GET /callback/"
SLOW2=$LAST_PID
wait_file "$T/slow2.ready" 20

# ---------------------------------------------------------------- wrong requests, each refused
req "GET /callback/0123456789abcdef0123456789abcdef?pomerium_jwt=$JWT HTTP/1.1" "$H"
is "$STATUS" "HTTP/1.1 404 Not Found" "another /callback/<hex> path: 404"
req "GET ${CB_PATH}0?pomerium_jwt=$JWT HTTP/1.1" "$H"
is "$STATUS" "HTTP/1.1 404 Not Found" "the path with a character more: 404"
req "GET ${CB_PATH%?}?pomerium_jwt=$JWT HTTP/1.1" "$H"
is "$STATUS" "HTTP/1.1 404 Not Found" "the path with a character less: 404"
req "GET $CB_PATH/?pomerium_jwt=$JWT HTTP/1.1" "$H"
is "$STATUS" "HTTP/1.1 404 Not Found" "the path with a trailing slash: 404"
req "GET /?pomerium_jwt=$JWT HTTP/1.1" "$H"
is "$STATUS" "HTTP/1.1 404 Not Found" "/: 404"
req "GET http://127.0.0.1:$CB_PORT$CB_PATH?pomerium_jwt=$JWT HTTP/1.1" "$H"
is "$STATUS" "HTTP/1.1 404 Not Found" "absolute-form target: 404"

req "$GOOD" "Host: evil.example:$CB_PORT"
is "$STATUS" "HTTP/1.1 400 Bad Request (Host)" "Host of another name: 400"
req "$GOOD" "Host: 127.0.0.1"
is "$STATUS" "HTTP/1.1 400 Bad Request (Host)" "Host without the port: 400"
req "$GOOD" "Host: 127.0.0.1:$((CB_PORT == 65535 ? 1 : CB_PORT + 1))"
is "$STATUS" "HTTP/1.1 400 Bad Request (Host)" "Host with another port: 400"
req "$GOOD" "User-Agent: test"
is "$STATUS" "HTTP/1.1 400 Bad Request (Host)" "no Host: 400"
req "GET $CB_PATH?pomerium_jwt=$JWT HTTP/1.0"
like "$STATUS" " 400 Bad Request \(Host\)$" "HTTP/1.0 without Host: 400"

req "POST $CB_PATH?pomerium_jwt=$JWT HTTP/1.1" "$H" "Content-Length: 0"
is "$STATUS" "HTTP/1.1 405 Method Not Allowed" "POST: 405"
req "HEAD $CB_PATH?pomerium_jwt=$JWT HTTP/1.1" "$H"
is "$STATUS" "HTTP/1.1 405 Method Not Allowed" "HEAD: 405"
req "get $CB_PATH?pomerium_jwt=$JWT HTTP/1.1" "$H"
is "$STATUS" "HTTP/1.1 405 Method Not Allowed" "lower-case get: 405"

req "GET $CB_PATH HTTP/1.1" "$H"
is "$STATUS" "HTTP/1.1 400 Bad Request (no pomerium_jwt)" "no query: 400"
req "GET $CB_PATH?code=abc&state=x HTTP/1.1" "$H"
is "$STATUS" "HTTP/1.1 400 Bad Request (no pomerium_jwt)" "a query without pomerium_jwt: 400"
req "GET $CB_PATH?pomerium_jwt= HTTP/1.1" "$H"
is "$STATUS" "HTTP/1.1 400 Bad Request (no pomerium_jwt)" "an empty pomerium_jwt: 400"
req "GET $CB_PATH?pomerium_jwt=%3Cscript%3E HTTP/1.1" "$H"
is "$STATUS" "HTTP/1.1 400 Bad Request (no pomerium_jwt)" "a pomerium_jwt that is not a token: 400"
# Host localhost:PORT is allowed too: checked with a request that fails later
req "GET $CB_PATH?nothing HTTP/1.1" "Host: localhost:$CB_PORT"
like "$STATUS" " 400 Bad Request \(no pomerium_jwt\)$" "Host localhost:PORT passes the Host check"
req "NONSENSE" "$H"
is "$STATUS" "HTTP/1.1 400 Bad Request" "a request line without a target: 400"

big=$(head -c 16384 /dev/zero | tr '\0' a)
req "$GOOD" "$H" "X-Big: $big"
is "$STATUS" "HTTP/1.1 431 Request Header Fields Too Large" "a 16 KiB request head: 431"
printf 'GET %s?pomerium_jwt=%s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nX: a\0b\r\n\r\n' "$CB_PATH" "$JWT" "$CB_PORT" >"$T/nul.bin"
r=$(timeout 40 python3 "$T/cb.py" "$CB_PORT" req <"$T/nul.bin" | head -1 | tr -d '\r')
is "$r" "HTTP/1.1 400 Bad Request" "a request with a NUL byte: 400"

# ---------------------------------------------------------------- none of that signed in
ok "after all that the login is still waiting" alive "$LOGIN_PID"
nok "no token was stored" test -e "$TOKEN_FILE"

# ---------------------------------------------------------------- half a request line
ok "a client that sends half a request line gets an answer" wait_gone "$SLOW2" 40
is "$(head -1 "$T/slow2.out")" "HTTP/1.1 408 Request Timeout" "  408 Request Timeout"

# ---------------------------------------------------------------- the right request, while a slow one is open
CB_MODE=during req "$GOOD" "$H" "User-Agent: Mozilla/5.0 (test)" "Accept: text/html"
STATUS=$(sed -n 1p <<<"$RESP")
is "$STATUS" "HTTP/1.1 200 OK" "the right request (a client that sends nothing open meanwhile): 200"
like "$(sed -n 3p <<<"$RESP")" "^S: (EOF|RESET)$" \
	"  that client (still waiting, no 408 yet) is then closed without an answer"
like "$RESP" "<h1>Signed in</h1>" "the answer is a page that says the sign-in worked"
like "$RESP" $'\r\nContent-Type: text/html; charset=utf-8\r\n' "  as HTML"
like "$RESP" $'\r\nCache-Control: no-store\r\n' "  not to be cached"
like "$RESP" $'\r\nReferrer-Policy: no-referrer\r\n' "  with no referrer (the address holds the token)"
ok "the login ends" wait_gone "$LOGIN_PID" 30
wait "$LOGIN_PID"
is "$?" 0 "the login exits 0"
is "$(tail -n 1 "$T/login.err")" "pom-proxy: signed in to $AUTH" "the login says it signed in"
is "$(cat "$TOKEN_FILE" 2>/dev/null)" "$JWT" "the token from the callback is cached"

# ---------------------------------------------------------------- single use
req "$GOOD" "$H"
is "$STATUS" REFUSED "the same request again: connection refused (the port is closed)"

# ---------------------------------------------------------------- idle connections cannot lock the browser out
# The callback serves 16 connections at once; a new one beyond that evicts
# the oldest (auth/callback.h). 24 clients that connect and send nothing
# fill the table; the browser's request still gets through.
start_login login2
H="Host: 127.0.0.1:$CB_PORT"
rm -f "$T/idle.ready" "$T/idle.stop"
READY=$T/idle.ready STOP=$T/idle.stop spawn idle timeout 70 python3 "$T/cb.py" "$CB_PORT" idle 24
wait_file "$T/idle.ready" 20 || bail "idle clients did not connect"
req "GET $CB_PATH?pomerium_jwt=$JWT HTTP/1.1" "$H"
is "$STATUS" "HTTP/1.1 200 OK" "the right request while 24 idle connections are open: 200"
touch "$T/idle.stop"
ok "that login ends" wait_gone "$LOGIN_PID" 30
wait "$LOGIN_PID"
is "$?" 0 "  and exits 0"

done_testing
