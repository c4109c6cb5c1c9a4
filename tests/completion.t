#!/bin/bash
# completion.t — the bash completion (completion/pom-proxy.bash) completes
# what a user types: the commands, options, file names for the options that
# take a file, the cache's proxy URLs for login/logout/--pomerium-url, and
# the words of `cache`. And where `make install` puts it, bash-completion's
# own loader finds it. (docs.t keeps its option list equal to --help.)
. "$(dirname "$0")/lib/world.sh"
watchdog 60
ROOT=$(cd "$(dirname "$0")/.." && pwd)
COMP=$ROOT/completion/pom-proxy.bash
pom_built

# complete WORD... — what the completion offers for the command line
# "pom-proxy WORD...", the last WORD being the one under the cursor (may be
# ""), split as bash splits a line (= is a word of its own); sorted, one line
complete_line() {
	bash --norc --noprofile -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_pom_proxy "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort | paste -sd " "
	' complete_line "$COMP" "$POM_PROXY" "$@"
}

ok "completion/pom-proxy.bash passes bash -n" bash -n "$COMP"
is "$(bash --norc -c ". '$COMP'; complete -p pom-proxy")" "complete -F _pom_proxy pom-proxy" \
	"sourcing it registers _pom_proxy for pom-proxy"

# commands
is "$(complete_line "")" "auth cache login logout routes ssh-config status tcp" "an empty word: the commands"
is "$(complete_line lo)" "login logout" "'lo': login logout"
is "$(complete_line -v st)" "status" "after -v the command word still completes: 'st' -> status"
is "$(complete_line cache "")" "clear location" "cache: location clear"

# options
is "$(complete_line --no)" "--no-browser" "'--no': --no-browser"
is "$(complete_line --service-account)" "--service-account --service-account-file" \
	"'--service-account': both forms"
is "$(complete_line --proxy)" "--proxy --proxy-credentials-file" "'--proxy': both options"
is "$(complete_line tcp --conn)" "--connect-timeout" "after tcp: '--conn' -> --connect-timeout"
is "$(complete_line ssh-config --pom)" "--pomerium-url" "after ssh-config: '--pom' -> --pomerium-url"
is "$(complete_line status --)" "--help --verbose" "status takes only --verbose and --help"

# file names for file options, in both spellings
mkdir -p "$T/files/sub"
touch "$T/files/ca-one.pem" "$T/files/ca-two.pem" "$T/files/key.pem"
is "$(complete_line --alternate-ca-path "$T/files/ca")" "$T/files/ca-one.pem $T/files/ca-two.pem" \
	"--alternate-ca-path FILE: file names"
is "$(complete_line --client-key = "$T/files/k")" "$T/files/key.pem" \
	"--client-key=FILE: file names after ="
is "$(complete_line login --service-account-file "$T/files/s")" "$T/files/sub" \
	"--service-account-file: directories too (a path on the way)"
is "$(complete_line --connect-timeout "")" "" "--connect-timeout takes a number: nothing offered"
is "$(complete_line --proxy-credentials-file "$T/files/ca-o")" "$T/files/ca-one.pem" \
	"--proxy-credentials-file: file names"

# the cache's proxies, as pom-proxy status lists them
is "$(complete_line logout "")" "" "logout with an empty cache: nothing offered"
D=$XDG_CACHE_HOME/pom-proxy/tokens
mkdir -p "$D"
chmod 700 "$XDG_CACHE_HOME/pom-proxy" "$D"
for a in pomerium.corp.example.com:443 proxy.example.org:8443; do
	(umask 077; echo "not-a-jwt-$a" >"$D/$a")
done
like "$("$POM_PROXY" status)" 'pomerium\.corp\.example\.com:443' "status lists the two cached tokens"
is "$(complete_line logout "")" "https://pomerium.corp.example.com https://proxy.example.org:8443" \
	"logout: the cached proxies as URLs (port 443 left out)"
is "$(complete_line login https://prox)" "https://proxy.example.org:8443" "login: 'https://prox' -> the one"
is "$(complete_line --pomerium-url = "")" \
	"https://pomerium.corp.example.com https://proxy.example.org:8443" \
	"--pomerium-url=: the cached proxies"
is "$(complete_line routes "")" "https://pomerium.corp.example.com https://proxy.example.org:8443" \
	"routes: the cached proxies"
is "$(complete_line auth https://pom)" "https://pomerium.corp.example.com" "auth: 'https://pom' -> the one"
is "$(complete_line ssh-config --routes "")" \
	"https://pomerium.corp.example.com https://proxy.example.org:8443" \
	"ssh-config --routes: the cached proxies"
is "$(complete_line routes --js)" "--json" "routes: '--js' -> --json"

# where make install puts it, bash-completion's loader finds it
STAGE=$T/stage
make -s -C "$ROOT" -o pom-proxy install DESTDIR="$STAGE" PREFIX=/usr >"$T/install.out" 2>&1
is "$?" 0 "make install DESTDIR=... PREFIX=/usr" || diag_file "$T/install.out"
INSTALLED=$STAGE/usr/share/bash-completion/completions/pom-proxy
ok "it installs usr/share/bash-completion/completions/pom-proxy" cmp -s "$COMP" "$INSTALLED"
is "$(stat -c %a "$INSTALLED" 2>/dev/null)" 644 "  mode 644"
BC=/usr/share/bash-completion/bash_completion
ok "bash-completion is installed (tests/deps.sh lists it)" test -r "$BC"
got=$(XDG_DATA_DIRS=$STAGE/usr/share bash --norc --noprofile -c "
	. $BC
	__load_completion pom-proxy && complete -p pom-proxy" 2>&1)
is "$got" "complete -F _pom_proxy pom-proxy" \
	"bash-completion's loader finds it through XDG_DATA_DIRS (as in /usr/share)"

done_testing
