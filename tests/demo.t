#!/bin/bash
# demo.t — `make demo`, the README's first command, does what the README
# says: the target checks its packages (tests/deps.sh demo) and runs
# tests/demo.sh on the binary; the demo starts the double and an sshd on
# loopback, runs a real ssh through pom-proxy, prints the remote command's
# output and the proxy's view, and leaves no process behind. It runs on the
# binary under test (POM_PROXY), as make demo runs it on ./pom-proxy.
. "$(dirname "$0")/lib/world.sh"
watchdog 180
pom_built
ROOT=$(cd "$(dirname "$0")/.." && pwd)

dry=$(cd "$ROOT" && make -n demo 2>&1 | grep -v '^cc \|^make')
like "$dry" "sh tests/deps.sh demo" "make demo checks (and installs, as root) its packages"
like "$dry" "bash tests/demo.sh $ROOT/pom-proxy" "make demo runs tests/demo.sh on ./pom-proxy"
ok "every package of the demo is installed (tests/deps.sh demo: nothing to do)" sh "$ROOT/tests/deps.sh" demo

# the demo's own temporary directory is named in its output; its processes
# are the ones whose command line names that directory
setsid -w timeout -k 5 120 bash "$ROOT/tests/demo.sh" "$POM_PROXY" >"$T/demo.out" 2>"$T/demo.err" </dev/null
rc=$?
out=$(cat "$T/demo.out")
is "$rc" 0 "the demo exits 0" || { diag_file "$T/demo.out" 40; diag_file "$T/demo.err"; }
like "$out" "  \\| hello from [^ ]+ via pom-proxy" "it prints the remote command's output"
like "$out" "  > pom-proxy: \\[ *[0-9.]+ ms\\] CONNECT ssh\\.demo\\.test:22: 200" \
	"it shows pom-proxy's own account (-v): the CONNECT got 200"
like "$out" "  \\* CONNECT ssh\\.demo\\.test:22 200 token=yes" "it shows the double's log: the route was allowed with the token"
is "$(wc -c <"$T/demo.err")" 0 "nothing on its stderr" || diag_file "$T/demo.err"
dir=$(sed -n 's/^Setting up, on loopback only, in \(.*\):$/\1/p' "$T/demo.out")
ok "it named its temporary directory" test -n "$dir"
ok "the temporary directory is gone" test ! -e "$dir"
sleep 0.5
is "$(pgrep -fc -- "${dir:-/nonexistent}/" || true)" 0 "no process of the demo is left"
done_testing
