#!/bin/bash
# signin_paste.t — the paste-back sign-in through a pseudo-terminal:
# pom-proxy runs in its own session whose controlling terminal (/dev/tty)
# is a pty, in the foreground, with --no-browser; the tunnel is on
# stdin/stdout pipes. The test reads the printed sign-in URL, fetches it
# itself without following the redirect (the final address
# http://127.0.0.1:PORT/callback/...?pomerium_jwt=...), types that into
# the pty plus Enter, and the tunnel opens (an echo upstream). Also: a bare
# token works; a garbage line gets "try again" and the wait goes on; ^C on
# the terminal abandons; without a terminal no paste prompt is shown.
. "$(dirname "$0")/lib/world.sh"
. "$(dirname "$0")/lib/signin.sh"
watchdog 180
signin_world
OPTS=(--no-browser --login-timeout 60 "${PPO[@]}" echo.test:7)
res() { cat "$T/$1/$2" 2>/dev/null; }

# ---------------------------------------------------------------- the final address
paste_drive url p1 "${OPTS[@]}"
note=$(res p1 note)
is "$note" "" "paste (address): the driver saw the URL and the prompt" || diag_file "$T/p1/err"
like "$(res p1 err)" "pom-proxy: sign in to $AUTH: open https://localhost:$DOUBLE_PORT/\.pomerium/sign_in\?pomerium_state=" \
	"paste (address): the sign-in URL is printed on stderr"
like "$(res p1 err)" "paste the address it ends on \(or the token\) here and press Enter" \
	"paste (address): pom-proxy offers paste-back on the terminal"
like "$(res p1 location)" "^http://127\.0\.0\.1:[0-9]+/callback/[0-9a-f]{32}\?pomerium_jwt=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$" \
	"paste (address): the redirect URI is http://127.0.0.1:PORT/callback/<32 hex>"
is "$(res p1 rc)" 0 "paste (address): pom-proxy exits 0 after the tunnel" || diag_file "$T/p1/err"
is "$(res p1 echo)" ok "paste (address): the tunnel opened and the echo came back"
jwt=$(sed -n 's/.*pomerium_jwt=//p' "$T/p1/location")
is "$(cat "$TOKEN_FILE" 2>/dev/null)" "$jwt" "paste (address): the pasted token is cached"
is "$(stat -c %a "$TOKEN_FILE" 2>/dev/null)" 600 "paste (address): token file 0600"
is "$(nlog '^CONNECT echo\.test:7 200 token=yes')" 1 "paste (address): one CONNECT 200 with the token"
is "$(nlog '^GET /\.pomerium/sign_in ')" 1 "paste (address): one sign-in (ours)"
# the typed line was never sent anywhere else: the callback saw nothing
unlike "$(res p1 err)" "that is neither" "paste (address): accepted at the first try"

# ---------------------------------------------------------------- the bare token
rm -f "$TOKEN_FILE"
paste_drive token p2 "${OPTS[@]}"
is "$(res p2 note)" "" "paste (token): the driver saw the URL and the prompt" || diag_file "$T/p2/err"
is "$(res p2 rc)" 0 "paste (token): pom-proxy exits 0" || diag_file "$T/p2/err"
is "$(res p2 echo)" ok "paste (token): the tunnel opened (bare token, with spaces around it)"
jwt=$(sed -n 's/.*pomerium_jwt=//p' "$T/p2/location")
is "$(cat "$TOKEN_FILE" 2>/dev/null)" "$jwt" "paste (token): that token is cached"

# ---------------------------------------------------------------- garbage first
rm -f "$TOKEN_FILE"
paste_drive garbage p3 "${OPTS[@]}"
is "$(res p3 note)" "" "paste (garbage): 'try again' after the garbage line" || diag_file "$T/p3/err"
like "$(res p3 err)" "pom-proxy: that is neither the address the browser ended on nor a token; try again" \
	"paste (garbage): the message says what is expected"
is "$(res p3 after_garbage)" running "paste (garbage): pom-proxy kept waiting"
is "$(res p3 rc)" 0 "paste (garbage): the address pasted next is accepted" || diag_file "$T/p3/err"
is "$(res p3 echo)" ok "paste (garbage): the tunnel opened"
is "$(grep -c 'try again' "$T/p3/err")" 1 "paste (garbage): one complaint, for the one bad line"

# ---------------------------------------------------------------- ^C on the terminal
rm -f "$TOKEN_FILE"
paste_drive ctrlc p4 "${OPTS[@]}"
is "$(res p4 note)" "" "paste (^C): the driver saw the URL and the prompt" || diag_file "$T/p4/err"
is "$(res p4 rc)" 8 "paste (^C): Ctrl-C on the terminal abandons the sign-in: exit 8" ||
	diag_file "$T/p4/err"
like "$(res p4 err)" "pom-proxy: the sign-in to $AUTH was abandoned" "paste (^C): says it was abandoned"
nok "paste (^C): no token cached" test -e "$TOKEN_FILE"

# ---------------------------------------------------------------- under a real ssh
# ssh runs its ProxyCommand in its own process group, the terminal's
# foreground: pom-proxy offers the paste there too. The tunnel carries the
# ssh session; the remote command `cat` echoes the driver's line.
need ssh
start_sshd
start_double --route ssh.corp.test:22 "127.0.0.1:$SSHD_PORT" '*'
AUTH2=localhost:$DOUBLE_PORT
_ssh_opts "$(pp_cmd --no-browser --login-timeout 60)"
paste_drive_cmd url p5 ssh "${SSH_OPTS[@]}" "$SSH_USER@ssh.corp.test" cat
is "$(res p5 note)" "" "ssh: pom-proxy (the ProxyCommand) offered the paste on ssh's terminal" ||
	diag_file "$T/p5/err"
like "$(res p5 err)" "pom-proxy: sign in to $AUTH2: open https://" "ssh: the sign-in URL reached ssh's stderr"
is "$(res p5 rc)" 0 "ssh: exits 0" || diag_file "$T/p5/err"
is "$(res p5 echo)" ok "ssh: the session ran through the tunnel (remote cat echoed the line)"
ok "ssh: the token is cached" test -s "$XDG_CACHE_HOME/pom-proxy/tokens/$AUTH2"
DOUBLE_LOG=$T/double1.log

# ---------------------------------------------------------------- no terminal: no prompt
# (the fleet driver runs pom-proxy in a new session without a terminal)
fake_browser web follow
tunnel_echo noterm --browser-cmd "$T/web.sh" --login-timeout 60 "${PPO[@]}" echo.test:7
is "$RC/$ECHO" 0/ok "no terminal: the browser sign-in works" || diag "$ERR"
unlike "$ERR" "paste" "no terminal: no paste prompt"

# ---------------------------------------------------------------- the token stays off the terminal's screen
tty_all=$(cat "$T"/p*/tty 2>/dev/null)
jwt1=$(sed -n 's/.*pomerium_jwt=//p' "$T/p1/location")
sig=${jwt1##*.}
# the pty echoes what the test typed; pom-proxy itself prints nothing with the token
is "$(grep -c -- "$sig" "$T"/p*/err | awk -F: '{s+=$2} END {print s}')" 0 \
	"the pasted token never appears in pom-proxy's stderr"
like "$tty_all" "callback/[0-9a-f]{32}\\?pomerium_jwt=" \
	"the typed address went through the pty (the terminal was really used)"

done_testing
