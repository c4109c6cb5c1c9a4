#!/bin/bash
# docs.t — the manual page and the README stay true to the program:
#   - pom-proxy.1 is clean under `mandoc -Tlint` and under groff
#     (`man --warnings -l`);
#   - `make install DESTDIR=... PREFIX=/usr` installs the binary and the
#     page where they belong;
#   - `pom-proxy ssh-config` output is what ssh reads: `ssh -G` gives the
#     ProxyCommand for a matching host and none for another, and a binary
#     path or option value with blanks and quotes reaches the program as
#     the right argv when the expanded command runs through sh -c;
#   - every long option of --help, every exit code of proxycmd/exitcode.h,
#     every subcommand and every environment variable the code reads
#     appear in the manual page and in the README (so docs cannot drift).
# Needs mandoc and man-db (groff) besides the usual test packages.
. "$(dirname "$0")/lib/world.sh"
watchdog 120
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MAN=$ROOT/pom-proxy.1
README=$ROOT/README

# ---------------------------------------------------------------- helpers

# section FILE TITLE — the lines of a README section ("Title" over "-----")
readme_section() {
	awk -v t="$2" '{ l[NR] = $0 }
	END {
		on = 0
		for (i = 1; i <= NR; i++) {
			if (i < NR && l[i + 1] ~ /^-+$/ && length(l[i + 1]) >= 3) {
				if (on) exit
				if (l[i] == t) { on = 1; i++; continue }
			}
			if (on) print l[i]
		}
	}' "$1"
}

# man_section TITLE — a section of the page rendered as plain text
MAN_TEXT=$T/pom-proxy.txt
man_section() {
	awk -v t="$1" '/^[A-Z][A-Z -]*$/ { on = ($0 == t); next } on' "$MAN_TEXT"
}

# ---------------------------------------------------------------- lint

ok "mandoc is installed (tests/deps.sh lists it)" quiet command -v mandoc
ok "man is installed (tests/deps.sh lists man-db)" quiet command -v man
if command -v mandoc >/dev/null; then
	# STYLE messages count too; only "referenced manual not found" depends
	# on which manuals this machine has, and mandoc.db notes on stderr
	mandoc -Tlint -W style "$MAN" >"$T/lint.out" 2>"$T/lint.err"
	grep -v 'referenced manual not found' "$T/lint.out" >"$T/lint.bad"
	is "$(cat "$T/lint.bad")" "" "mandoc -Tlint: no message for pom-proxy.1"
	grep 'referenced manual not found' "$T/lint.out" | while IFS= read -r l; do note "(ignored) $l"; done
	is "$(grep -v 'mandoc\.db' "$T/lint.err")" "" "mandoc -Tlint: nothing else on stderr"
	mandoc -Tascii -Owidth=100 "$MAN" 2>/dev/null | sed 's/.\x08//g' >"$MAN_TEXT"
else
	# a rendering for the checks below all the same
	MANWIDTH=100 man -l "$MAN" 2>/dev/null | sed 's/.\x08//g' >"$MAN_TEXT"
fi

if command -v man >/dev/null; then
	for w in 80 120; do
		err=$(MANWIDTH=$w man --warnings -l "$MAN" 2>&1 >/dev/null)
		is "$err" "" "man --warnings -l (groff, width $w): nothing on stderr"
	done
fi
ok "the page renders to text" test -s "$MAN_TEXT"

# ---------------------------------------------------------------- make install

STAGE=$T/stage
# -o pom-proxy: install the binary `make check` built; never rebuild it
# here while other tests may be running it
make -s -C "$ROOT" -o pom-proxy install DESTDIR="$STAGE" PREFIX=/usr \
	>"$T/install.out" 2>&1
is "$?" 0 "make install DESTDIR=... PREFIX=/usr succeeds" || diag_file "$T/install.out"
BIN=$STAGE/usr/bin/pom-proxy
ok "usr/bin/pom-proxy is installed and executable" test -x "$BIN"
like "$("$BIN" --version 2>&1)" '^pom-proxy [0-9]' "the installed binary runs: --version"
ok "usr/share/man/man1/pom-proxy.1 is installed" test -f "$STAGE/usr/share/man/man1/pom-proxy.1"
ok "  and is the page from the tree" cmp -s "$MAN" "$STAGE/usr/share/man/man1/pom-proxy.1"
is "$(stat -c %a "$STAGE/usr/share/man/man1/pom-proxy.1" 2>/dev/null)" 644 "  mode 644"

# ---------------------------------------------------------------- ssh-config

"$BIN" ssh-config --pomerium-url https://p.example.com '*.corp.example.com' \
	>"$T/ssh_config" 2>"$T/sshconfig.err"
is "$?" 0 "ssh-config: exit 0"
like "$(cat "$T/sshconfig.err")" '^pom-proxy: ' "ssh-config: the hint goes to stderr"
ABS=$(readlink -f "$BIN")
# as sh would need it: bare when made of safe characters, else in '...'
if [[ $ABS =~ ^[A-Za-z0-9_./:=,+@-]+$ ]]; then QABS=$ABS; else QABS="'${ABS//\'/\'\\\'\'}'"; fi
pc=$(ssh -G -F "$T/ssh_config" db.corp.example.com 2>"$T/ssh-G.err" | sed -n 's/^proxycommand //p')
is "$pc" "$QABS --pomerium-url https://p.example.com %h:%p" \
	"ssh -G: a matching host gets the ProxyCommand with the absolute path" ||
	{ diag_file "$T/ssh_config"; diag_file "$T/ssh-G.err"; }
pc=$(ssh -G -F "$T/ssh_config" db.example.org 2>/dev/null | sed -n 's/^proxycommand //p')
is "$pc" "" "ssh -G: a host outside the pattern has no ProxyCommand"

# a binary path and option values with a blank and a quote
D="$T/with space/it's"
mkdir -p "$D"
cp "$BIN" "$D/pom-proxy"
DABS=$(readlink -f "$D/pom-proxy")
CA="$T/my ca.pem"
CRED="$T/o'brien cred"
"$D/pom-proxy" ssh-config --alternate-ca-path "$CA" --proxy-credentials-file "$CRED" \
	'h*.example.com' >"$T/ssh_config2" 2>/dev/null
is "$?" 0 "ssh-config from a path with a blank and a quote: exit 0"
pc=$(ssh -G -F "$T/ssh_config2" h1.example.com 2>/dev/null | sed -n 's/^proxycommand //p')
ok "ssh -G reads that ProxyCommand" test -n "$pc" || diag_file "$T/ssh_config2"
# run it as ssh would (%h and %p expanded, then sh -c) with a stand-in
# that prints its argv
cat >"$D/pom-proxy" <<'EOF'
#!/bin/sh
for a in "$0" "$@"; do printf '%s\n' "$a"; done
EOF
chmod 755 "$D/pom-proxy"
cmd=${pc//%h/h1.example.com}
cmd=${cmd//%p/22}
got=$(sh -c "$cmd" 2>&1)
want=$(printf '%s\n' "$DABS" --alternate-ca-path "$CA" --proxy-credentials-file "$CRED" \
	h1.example.com:22)
is "$got" "$want" "sh -c of the expanded ProxyCommand gets the right argv" || diag "command: $cmd"

# ---------------------------------------------------------------- no drift

HELP=$("$POM_PROXY" --help)
mapfile -t LONGOPTS < <(grep -oE -- '--[a-z][a-z-]*' <<<"$HELP" | sort -u)
ok "--help lists long options" test "${#LONGOPTS[@]}" -ge 15
MAN_OPTS=$(man_section OPTIONS)
README_USAGE=$(readme_section "$README" Usage)
for o in "${LONGOPTS[@]}"; do
	re="^ +(-[a-zA-Z], )?$o( |$)"
	ok "man page OPTIONS describes $o" grep -qE -- "$re" <<<"$MAN_OPTS"
	ok "README Usage describes $o" grep -qE -- "$re" <<<"$README_USAGE"
done

mapfile -t CODES < <(grep -oE 'EXIT_[A-Z]+ *= *[0-9]+' "$ROOT/proxycmd/exitcode.h" | grep -oE '[0-9]+$' | sort -n)
is "${CODES[*]}" "0 1 2 3 4 5 6 7 8 9 10 11 12 13" "exitcode.h defines exit codes 0..13"
MAN_EXIT=$(man_section "EXIT STATUS")
README_EXIT=$(readme_section "$README" "Exit codes")
for c in "${CODES[@]}"; do
	ok "man page EXIT STATUS explains exit code $c" grep -qE "^ +$c +[^ ]" <<<"$MAN_EXIT"
	ok "README Exit codes explains exit code $c" grep -qE "^ +$c +[^ ]" <<<"$README_EXIT"
done

MAN_SYN=$(man_section SYNOPSIS)
for c in tcp login logout status cache ssh-config routes auth; do
	like "$HELP" "pom-proxy $c" "--help shows 'pom-proxy $c'"
	ok "man page SYNOPSIS shows 'pom-proxy $c'" grep -qE "^ +pom-proxy $c( |$)" <<<"$MAN_SYN"
	ok "README Usage shows 'pom-proxy $c'" grep -qE "^ +pom-proxy $c( |$)" <<<"$README_USAGE"
done

# the bash completion offers exactly --help's commands and long options
COMP=$ROOT/completion/pom-proxy.bash
is "$(grep -oE -- '--[a-z][a-z-]*' <<<"$(sed -n '/local opts=/,/"$/p' "$COMP")" | sort -u)" \
	"$(printf '%s\n' "${LONGOPTS[@]}")" "completion: its option list is --help's long options"
is "$(sed -n 's/^.*local commands="\(.*\)"$/\1/p' "$COMP" | tr ' ' '\n' | sort | paste -sd ' ')" \
	"$(grep -oE '^ +pom-proxy [a-z-]+' <<<"$(sed -n '1,/^$/p' <<<"$HELP")" | awk '{ print $2 }' |
		sort -u | paste -sd ' ')" "completion: its commands are --help's"

# every environment variable the code reads, directly or through env2()
mapfile -t VARS < <(cd "$ROOT" && grep -ohE '(getenv|env2)\("[A-Za-z_]+"(, "[A-Za-z_]+")?' \
	main.c proxycmd/*.c auth/*.c | grep -oE '"[A-Za-z_]+"' | tr -d '"' | sort -u)
ok "the code reads environment variables" test "${#VARS[@]}" -ge 10
MAN_ENV=$(man_section ENVIRONMENT)
for v in "${VARS[@]}"; do
	ok "man page ENVIRONMENT names $v" grep -qw -- "$v" <<<"$MAN_ENV"
	ok "README Usage (Environment) names $v" grep -qw -- "$v" <<<"$README_USAGE"
done

done_testing
