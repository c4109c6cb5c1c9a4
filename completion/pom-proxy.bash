# bash completion for pom-proxy                          -*- shell-script -*-
#
# Installed as .../share/bash-completion/completions/pom-proxy (make install,
# the Debian package), where bash-completion loads it on first use; or
# sourced by hand: . completion/pom-proxy.bash
#
# It completes the commands, every option of `pom-proxy --help` (tests/docs.t
# keeps the two lists equal), file names for the options that take a file,
# and for `login`, `logout`, `routes`, `auth`, --pomerium-url and --routes the
# proxy URLs that already have a token in the cache (read from `pom-proxy status`).

# _pom_proxy_cached_urls PROG — the https:// URL of every proxy with a cached
# token, one per line ("host:443" becomes https://host, others keep the port)
_pom_proxy_cached_urls()
{
	"$1" status 2>/dev/null | awk '
		$1 ~ /:[0-9]+$/ {
			a = $1
			if (a ~ /:443$/) sub(/:443$/, "", a)
			print "https://" a
		}'
}

# _pom_proxy_among WORD LIST — whether WORD is one of LIST's blank-separated words
_pom_proxy_among()
{
	local w
	for w in $2; do
		[ "$w" = "$1" ] && return 0
	done
	return 1
}

_pom_proxy()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= i w
	local commands="tcp login logout status cache ssh-config routes auth"
	local opts="--pomerium-url --listen --alternate-ca-path --ca-cert
		--disable-tls-verification --client-cert --client-key
		--service-account --service-account-file --connect-timeout
		--browser-cmd --no-browser --login-timeout --if-needed --sign-in-first --routes
		--json --proxy --proxy-credentials-file --verbose --help --version"
	local file_opts="--alternate-ca-path --client-cert --client-key
		--service-account-file --proxy-credentials-file"
	local value_opts="--pomerium-url --listen --ca-cert --service-account
		--connect-timeout --browser-cmd --login-timeout --routes --proxy $file_opts"
	COMPREPLY=()

	# the option whose value is being typed: "--opt VALUE", and "--opt=VALUE",
	# which bash splits into "--opt" "=" "VALUE" (= is a word break)
	if [ "$COMP_CWORD" -ge 1 ]; then
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		if [ "$cur" = "=" ]; then
			cur=
		elif [ "$prev" = "=" ] && [ "$COMP_CWORD" -ge 2 ]; then
			prev=${COMP_WORDS[COMP_CWORD - 2]}
		fi
	fi

	# the command word: the first word that is not -v (pom-proxy -v status)
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-v | -vv | -vvv | --verbose) continue ;;
		esac
		_pom_proxy_among "$w" "$commands" && cmd=$w
		break
	done

	if _pom_proxy_among "$prev" "$value_opts"; then
		if _pom_proxy_among "$prev" "$file_opts"; then
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		case $prev in
		--pomerium-url | --routes)
			mapfile -t COMPREPLY < <(compgen -W "$(_pom_proxy_cached_urls "$1")" -- "$cur") ;;
		--browser-cmd)
			mapfile -t COMPREPLY < <(compgen -c -- "$cur") ;;
		--proxy)
			mapfile -t COMPREPLY < <(compgen -W "- http:// https://" -- "$cur") ;;
		--listen)
			mapfile -t COMPREPLY < <(compgen -W ":2202 127.0.0.1: [::1]: -" -- "$cur") ;;
		esac
		return 0
	fi

	case $cmd in
	status)
		mapfile -t COMPREPLY < <(compgen -W "--verbose --help" -- "$cur")
		return 0 ;;
	cache)
		mapfile -t COMPREPLY < <(compgen -W "location clear" -- "$cur")
		return 0 ;;
	logout)
		mapfile -t COMPREPLY < <(compgen -W "$(_pom_proxy_cached_urls "$1")" -- "$cur")
		return 0 ;;
	esac

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
	elif [ "$cmd" = login ] || [ "$cmd" = routes ] || [ "$cmd" = auth ]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_pom_proxy_cached_urls "$1")" -- "$cur")
	elif [ -z "$cmd" ]; then
		mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
	fi
	return 0
}
complete -F _pom_proxy pom-proxy
