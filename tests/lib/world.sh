# world.sh — shared bash functions for pom-proxy's black-box tests.
#
#   #!/bin/bash
#   . "$(dirname "$0")/lib/world.sh"
#   watchdog 120
#   pki; start_sshd; start_double --route ssh.corp.test:22 127.0.0.1:$SSHD_PORT '*'
#   ...
#   done_testing
#
# What it sets up on sourcing:
#   T               a fresh temporary directory (removed at exit unless
#                   POM_KEEP=1 or a test failed: then kept and named)
#   POM_PROXY       the binary under test (default: $PWD/pom-proxy)
#   XDG_CACHE_HOME  $T/cache, so pom-proxy's cache is isolated per test
#   LIB             the directory of this file; DOUBLE the test double
# Every process started through spawn/start_* is recorded and ended, with
# its descendants, at exit (TERM, then KILL), by process id.
# Nothing here listens on anything but 127.0.0.1 or ::1.

set -u
LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DOUBLE=$LIB/pomerium_double.py
: "${POM_PROXY:=$PWD/pom-proxy}"
export POM_PROXY
_TEST_NAME=$(basename "$0" .t)
T=$(mktemp -d "${TMPDIR:-/tmp}/pom-$_TEST_NAME.XXXXXX")
chmod 755 "$T"  # squid drops privileges and must reach its files
export XDG_CACHE_HOME=$T/cache
SECRET=double-shared-secret-$RANDOM$RANDOM
# pom-proxy must not pick up a token or trust from the caller's environment
unset POM_PROXY_SERVICE_ACCOUNT POM_PROXY_SERVICE_ACCOUNT_FILE LOG_LEVEL \
	HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy NO_PROXY no_proxy

_PIDS=()
_SQUID_NAMES=()
_N=0
_FAILED=0
_PLANNED=

# ------------------------------------------------------------------ TAP

plan() { _PLANNED=$1; echo "1..$1"; }

# _tap COND DESC — print one result (COND: 0 = pass)
_tap() {
	_N=$((_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_N - $2"
	else
		echo "not ok $_N - $2"
		_FAILED=$((_FAILED + 1))
		echo "#   failed at ${BASH_SOURCE[2]:-?} line ${BASH_LINENO[1]:-?}" >&2
	fi
	return "$1"
}

# ok DESC CMD [ARGS...] — passes when CMD exits 0
ok() {
	local desc=$1
	shift
	"$@"
	_tap $? "$desc"
}

# nok DESC CMD [ARGS...] — passes when CMD exits non-zero
nok() {
	local desc=$1
	shift
	if "$@"; then _tap 1 "$desc"; else _tap 0 "$desc"; fi
}

# is GOT WANT DESC
is() {
	if [ "$1" = "$2" ]; then
		_tap 0 "$3"
	else
		_tap 1 "$3"
		diag "     got: '$1'"
		diag "expected: '$2'"
		return 1
	fi
}

# like GOT REGEX DESC (bash extended regex)
like() {
	if [[ $1 =~ $2 ]]; then
		_tap 0 "$3"
	else
		_tap 1 "$3"
		diag "     got: '$1'"
		diag "expected to match: $2"
		return 1
	fi
}

# unlike GOT REGEX DESC
unlike() {
	if [[ $1 =~ $2 ]]; then
		_tap 1 "$3"
		diag "     got: '$1'"
		diag "expected not to match: $2"
		return 1
	else
		_tap 0 "$3"
	fi
}

# quiet CMD [ARGS...] — CMD with stdout and stderr discarded
quiet() { "$@" >/dev/null 2>&1; }

# diag MSG — failure diagnostics, on stderr (prove shows them without -v);
# note MSG — information, on stdout as TAP comments (shown with -v).
diag() { local l; while IFS= read -r l; do echo "# $l"; done <<<"$*" >&2; }
note() { local l; while IFS= read -r l; do echo "# $l"; done <<<"$*"; }

# diag_file FILE [LINES] — the tail of FILE as diagnostics
diag_file() {
	[ -e "$1" ] || { diag "($1: missing)"; return 0; }
	diag "--- $1"
	diag "$(tail -n "${2:-20}" "$1")"
}

done_testing() {
	[ -n "$_PLANNED" ] || echo "1..$_N"
	[ "$_FAILED" -eq 0 ]
}

bail() { echo "Bail out! $*"; exit 255; }

# ------------------------------------------------------------------ processes

# spawn NAME CMD [ARGS...] — run CMD in the background, stdout/stderr in
# $T/NAME.out and $T/NAME.err; its pid is in LAST_PID and recorded.
spawn() {
	local name=$1
	shift
	"$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
	LAST_PID=$!
	_PIDS+=("$LAST_PID")
}

# descendants PID — every descendant pid of PID, deepest last
descendants() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}

# kill_tree PID [SIG] — PID and all its descendants, by pid
kill_tree() {
	local sig=${2:-TERM} all
	all="$1 $(descendants "$1")"
	# shellcheck disable=SC2086
	kill -s "$sig" $all 2>/dev/null
	return 0
}

# alive PID — true when PID exists and is not a zombie
alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[ -n "$st" ] && [[ $st != Z* ]]
}

# wait_gone PID SECS — true when PID ends within SECS
wait_gone() {
	local i=0 n=$(($2 * 10))
	while alive "$1"; do
		[ $i -ge $n ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 0
}

_cleanup() {
	local rc=$? p all=""
	trap - EXIT TERM INT HUP ALRM
	for p in "${_PIDS[@]}" ${_WATCHDOG:-}; do
		all="$all $p $(descendants "$p")"
	done
	if [ -n "${all// /}" ]; then
		# shellcheck disable=SC2086
		kill -TERM $all 2>/dev/null
		for p in $all; do
			wait_gone "$p" 3 || kill -KILL "$p" 2>/dev/null
		done
		[ ${#_PIDS[@]} -eq 0 ] || wait "${_PIDS[@]}" 2>/dev/null
	fi
	for p in ${_SQUID_NAMES[@]+"${_SQUID_NAMES[@]}"}; do
		rm -f /dev/shm/"$p"-*
	done
	if [ "$_FAILED" -ne 0 ] || [ $rc -ne 0 ] || [ "${POM_KEEP:-0}" = 1 ]; then
		echo "# kept $T for inspection"
	else
		rm -rf "$T"
	fi
	exit $rc
}
trap _cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

# watchdog SECS — the whole test is ended (and fails) after SECS seconds
watchdog() {
	local me=$$
	(
		trap - EXIT
		sleep "$1"
		echo "not ok - watchdog: $_TEST_NAME ran longer than $1 s"
		kill -ALRM "$me" 2>/dev/null
		sleep 5
		# the shell is stuck in a foreground command: end what it started
		for p in $(descendants "$me"); do
			[ "$p" = "$BASHPID" ] || kill -KILL "$p" 2>/dev/null
		done
	) </dev/null &
	_WATCHDOG=$!
	trap '_FAILED=$((_FAILED + 1)); exit 142' ALRM
}

# ------------------------------------------------------------------ waiting

# wait_file FILE [SECS] — until FILE exists and is non-empty
wait_file() {
	local i=0 n=$((${2:-15} * 10))
	while [ ! -s "$1" ]; do
		[ $i -ge $n ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

# wait_port HOST PORT [SECS] — until a TCP connect to HOST:PORT succeeds
wait_port() {
	python3 - "$1" "$2" "${3:-15}" <<'EOF'
import socket, sys, time
host, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
end = time.time() + secs
while time.time() < end:
    try:
        socket.create_connection((host, port), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

# wait_log_line FILE REGEX PID [SECS] — until FILE has a line matching
# REGEX (grep -E); fails early when PID is gone
wait_log_line() {
	local i=0 n=$((${4:-15} * 10))
	while ! grep -qE "$2" "$1" 2>/dev/null; do
		alive "$3" || { grep -qE "$2" "$1" 2>/dev/null; return; }
		[ $i -ge $n ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

# free_port [ADDR] — a port that was free a moment ago on ADDR (127.0.0.1)
free_port() {
	python3 -c '
import socket, sys
a = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
s.bind((a, 0))
print(s.getsockname()[1])' "${1:-127.0.0.1}"
}

# closed_port — a loopback port with nothing listening (connect: refused)
closed_port() { free_port 127.0.0.1; }

# ------------------------------------------------------------------ fixtures

# need CMD... — a missing tool is an installation bug: fail loudly
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			bail "$c not installed (run: sh tests/deps.sh check)"
	done
}

# pki — the test PKI in $T/pki (tests/lib/mkcerts.sh); sets PKI, and
# DOUBLE_CERT, DOUBLE_KEY (what start_double serves unless set before:
# the Let's Encrypt-shaped $PKI/le-chain.pem, P-256 leaf, P-384
# intermediate, cross-signed root, as Pomerium's autocert serves it).
# $PKI/ca.pem, the trust file tests pass, holds the test root CA (which
# signs server.pem and the other leaves) and le-root-ec.pem: tests that
# must meet the test CA's own leaves say --cert (start_double) or
# SQUID_CERT (start_squid).
pki() {
	PKI=$T/pki
	[ -x "$LIB/mkcerts.sh" ] || [ -f "$LIB/mkcerts.sh" ] || bail "tests/lib/mkcerts.sh missing"
	bash "$LIB/mkcerts.sh" "$PKI" || bail "mkcerts.sh failed"
	chmod 755 "$PKI"
	: "${DOUBLE_CERT:=$PKI/le-chain.pem}" "${DOUBLE_KEY:=$PKI/le-leaf.key}"
}

# mint_token [SUB] [EXP] — an HS256 token the double accepts (SUB default
# alice@example.com; EXP: unix time of the exp claim, none by default)
mint_token() {
	if [ -n "${2:-}" ]; then
		python3 "$DOUBLE" mint --secret "$SECRET" --sub "${1:-alice@example.com}" --exp "$2"
	else
		python3 "$DOUBLE" mint --secret "$SECRET" --sub "${1:-alice@example.com}"
	fi
}

# token_file [SUB] [EXP] — mint a token into a new 0600 file; prints its path
token_file() {
	local f
	f=$(mktemp "$T/token.XXXXXX")
	chmod 600 "$f"
	mint_token "$@" >"$f"
	echo "$f"
}

# start_double [ARGS...] — the Pomerium test double with $DOUBLE_CERT and
# $DOUBLE_KEY (see pki; a --cert/--key in ARGS wins), $SECRET, on
# 127.0.0.1 unless ARGS say --listen, with Envoy's TLS parameters (the
# double's defaults). Sets DOUBLE_PORT, DOUBLE_LOG, DOUBLE_PID (the last
# one started).
_DOUBLES=0
start_double() {
	_DOUBLES=$((_DOUBLES + 1))
	local n=double$_DOUBLES listen=(--listen 127.0.0.1) a
	for a in "$@"; do [ "$a" = --listen ] && listen=(); done
	DOUBLE_LOG=$T/$n.log
	: >"$DOUBLE_LOG"
	spawn "$n" python3 "$DOUBLE" serve --cert "${DOUBLE_CERT:-$PKI/le-chain.pem}" \
		--key "${DOUBLE_KEY:-$PKI/le-leaf.key}" \
		--secret "$SECRET" --port-file "$T/$n.port" --log "$DOUBLE_LOG" "${listen[@]}" "$@"
	DOUBLE_PID=$LAST_PID
	if ! wait_file "$T/$n.port" 15; then
		diag_file "$T/$n.err"
		bail "the Pomerium double did not start"
	fi
	DOUBLE_PORT=$(cat "$T/$n.port")
}

# start_upstream MODE [ARGS...] — a plain TCP test server (see the double's
# "upstream" subcommand). Sets UPSTREAM_PORT, UPSTREAM_PID.
_UPSTREAMS=0
start_upstream() {
	_UPSTREAMS=$((_UPSTREAMS + 1))
	local n=upstream$_UPSTREAMS
	spawn "$n" python3 "$DOUBLE" upstream "$@" --port-file "$T/$n.port"
	UPSTREAM_PID=$LAST_PID
	wait_file "$T/$n.port" 15 || { diag_file "$T/$n.err"; bail "upstream did not start"; }
	UPSTREAM_PORT=$(cat "$T/$n.port")
}

# start_sshd [CONFIG LINES...] — a throw-away sshd on 127.0.0.1 and ::1,
# root (or the current user) by key only. Sets SSHD_PORT, SSHD_PID, SSHD_LOG,
# USER_KEY, KNOWN_HOSTS, SSH_USER.
start_sshd() {
	local d=$T/ssh sshd=/usr/sbin/sshd
	[ -x "$sshd" ] || bail "sshd not installed (openssh-server)"
	need ssh ssh-keygen
	mkdir -p "$d"
	if [ ! -d /run/sshd ]; then
		mkdir -p /run/sshd 2>/dev/null && chmod 755 /run/sshd ||
			bail "/run/sshd is missing and cannot be created (run as root)"
	fi
	ssh-keygen -q -t ed25519 -N '' -C pom-test-host -f "$d/host_key" || bail "ssh-keygen"
	ssh-keygen -q -t ed25519 -N '' -C pom-test-user -f "$d/user_key" || bail "ssh-keygen"
	cp "$d/user_key.pub" "$d/authorized_keys"
	SSH_USER=$(id -un)
	SSHD_LOG=$T/sshd.err
	USER_KEY=$d/user_key
	KNOWN_HOSTS=$d/known_hosts
	local try l
	# a port picked free may be taken before sshd binds it: try again
	for try in 1 2 3 4 5; do
		SSHD_PORT=$(free_port 127.0.0.1)
		cat >"$d/sshd_config" <<EOF
ListenAddress 127.0.0.1:$SSHD_PORT
ListenAddress [::1]:$SSHD_PORT
HostKey $d/host_key
PidFile none
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
PrintLastLog no
AcceptEnv none
X11Forwarding no
Subsystem sftp internal-sftp
LogLevel VERBOSE
EOF
		for l in "$@"; do echo "$l" >>"$d/sshd_config"; done
		"$sshd" -t -f "$d/sshd_config" || bail "sshd config rejected"
		spawn sshd "$sshd" -D -e -f "$d/sshd_config"
		SSHD_PID=$LAST_PID
		# sshd binds in order (127.0.0.1, then ::1) and logs each bind
		wait_log_line "$SSHD_LOG" "Server listening on ::1 port $SSHD_PORT\\.|Bind to port|bind any address" \
			"$SSHD_PID" 15
		if grep -q "Server listening on 127\\.0\\.0\\.1 port $SSHD_PORT\\." "$SSHD_LOG" &&
			grep -q "Server listening on ::1 port $SSHD_PORT\\." "$SSHD_LOG" &&
			! grep -q 'Bind to port' "$SSHD_LOG" && alive "$SSHD_PID"; then
			return 0
		fi
		kill_tree "$SSHD_PID"
		wait_gone "$SSHD_PID" 5
	done
	diag_file "$SSHD_LOG"
	bail "sshd did not start"
}

# squid_base_conf DIR USER — the squid.conf lines every test squid shares:
# CONNECT to loopback only, no cache, its files in DIR, running as USER,
# and nothing that could reach beyond this machine (DNS and UDP on loopback).
# Its own hosts file says localhost is 127.0.0.1, where the doubles listen,
# whatever this machine's /etc/hosts says: squid tries only the first address
# a hosts file gives it, and answers 503 when "::1 localhost" comes first.
squid_base_conf() {
	printf '127.0.0.1 localhost\n::1 ip6-localhost\n' >"$1/hosts"
	cat <<EOF
acl loopback_dst dst 127.0.0.0/8 ::1
acl CONNECT method CONNECT
http_access allow CONNECT loopback_dst
http_access deny all
dns_nameservers 127.0.0.1
udp_incoming_address 127.0.0.1
udp_outgoing_address 127.0.0.1
icp_port 0
htcp_port 0
snmp_port 0
hosts_file $1/hosts
pid_filename $1/squid.pid
cache_log $1/cache.log
cache_store_log none
coredump_dir $1
cache deny all
cache_mem 8 MB
netdb_filename none
pinger_enable off
shutdown_lifetime 1 seconds
cache_effective_user $2
EOF
}

# start_squid [NAME [EXTRA]] — squid (squid-openssl) with an https_port
# and an http_port on 127.0.0.1, CONNECT allowed only to loopback
# addresses, all its files under $T/NAME (default squid), in the
# foreground; EXTRA is a file of squid.conf lines that go before the shared
# ones (access rules there come first). Sets SQUID_PORT (https),
# SQUID_HTTP_PORT, SQUID_PID, SQUID_DIR. Settings: SQUID_MAX_FD (default
# 1024) is its max_filedescriptors (two per tunnel; the soft ulimit -n must
# allow it); SQUID_SHAPE: envoy (the default) sets the https_port up the way
# Pomerium sets up Envoy for TLS 1.2 (server's order, Envoy's suites,
# groups X25519 then P-256 through an OpenSSL configuration file, and the
# Let's Encrypt-shaped chain), openssl leaves squid's (OpenSSL's) defaults
# and $PKI/server.pem; SQUID_CERT and SQUID_KEY, the chain and key
# instead; SQUID_TLS_OPTIONS, the https_port's tls-options (with envoy,
# added to CIPHER_SERVER_PREFERENCE); SQUID_LOGFORMAT, a logformat name
# (defined in EXTRA) for access.log.
ENVOY_CIPHERS=ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305
start_squid() {
	need squid
	local name=${1:-squid} extra=${2:-/dev/null} user=proxy try
	local d=$T/$name shape=${SQUID_SHAPE:-envoy} cert key tlsopt cipher= env=()
	SQUID_DIR=$d
	[ "$(id -u)" = 0 ] || user=$(id -un)
	case $shape in
	envoy)
		cert=${SQUID_CERT:-$PKI/le-chain.pem} key=${SQUID_KEY:-$PKI/le-leaf.key}
		tlsopt=CIPHER_SERVER_PREFERENCE${SQUID_TLS_OPTIONS:+,$SQUID_TLS_OPTIONS}
		cipher=" cipher=$ENVOY_CIPHERS"
		env=(env OPENSSL_CONF="$T/$name.openssl.cnf")
		# OpenSSL's system_default section reaches every SSL_CTX squid makes
		cat >"$T/$name.openssl.cnf" <<EOF
openssl_conf = pom_init
[pom_init]
ssl_conf = pom_ssl
[pom_ssl]
system_default = pom_system_default
[pom_system_default]
Groups = X25519:P-256
MinProtocol = TLSv1.2
CipherString = DEFAULT:@SECLEVEL=2
EOF
		;;
	openssl)
		cert=${SQUID_CERT:-$PKI/server.pem} key=${SQUID_KEY:-$PKI/server.key}
		tlsopt=${SQUID_TLS_OPTIONS:-}
		;;
	*) bail "start_squid: SQUID_SHAPE is envoy or openssl, not $shape" ;;
	esac
	# a port picked free may be taken before squid binds it: try again;
	# squid's own log says which ports it bound, waiting for a connect
	# could be fooled by whoever took the port
	for try in 1 2 3 4 5; do
		rm -rf "$d"
		mkdir -p "$d"
		cp "$cert" "$d/server.pem"
		cp "$key" "$d/server.key"
		SQUID_PORT=$(free_port 127.0.0.1)
		SQUID_HTTP_PORT=$(free_port 127.0.0.1)
		[ "$SQUID_HTTP_PORT" = "$SQUID_PORT" ] && continue
		{
			echo "https_port 127.0.0.1:$SQUID_PORT tls-cert=$d/server.pem tls-key=$d/server.key${tlsopt:+ tls-options=$tlsopt}$cipher"
			echo "http_port 127.0.0.1:$SQUID_HTTP_PORT"
			cat "$extra"
			echo "access_log stdio:$d/access.log${SQUID_LOGFORMAT:+ $SQUID_LOGFORMAT}"
			echo "max_filedescriptors ${SQUID_MAX_FD:-1024}"
			squid_base_conf "$d" "$user"
		} >"$d/squid.conf"
		if [ "$(id -u)" = 0 ]; then
			chown -R "$user" "$d"
			chmod 600 "$d/server.key"
		fi
		# -n: a service name of our own, so concurrent squids do not
		# share shared-memory segments (/dev/shm/NAME-*; removed at exit
		# in case squid could not remove them)
		_SQUID_NAMES+=("pomtest$$x$try$RANDOM")
		spawn "$name" ${env[@]+"${env[@]}"} squid -N -d 1 -n "${_SQUID_NAMES[-1]}" -f "$d/squid.conf"
		SQUID_PID=$LAST_PID
		if wait_log_line "$d/cache.log" "Accepting HTTPS Socket connections at .* local=127\\.0\\.0\\.1:$SQUID_PORT " \
			"$SQUID_PID" 30 &&
			wait_log_line "$d/cache.log" "Accepting HTTP Socket connections at .* local=127\\.0\\.0\\.1:$SQUID_HTTP_PORT " \
				"$SQUID_PID" 5; then
			return 0
		fi
		kill_tree "$SQUID_PID"
		wait_gone "$SQUID_PID" 5
	done
	diag_file "$T/$name.err"
	diag_file "$d/cache.log"
	bail "squid did not start"
}

# ------------------------------------------------------------------ clients

# pp_cmd [OPTIONS...] — a ProxyCommand string for the double on localhost:
# "$POM_PROXY --pomerium-url https://localhost:$DOUBLE_PORT
#  --alternate-ca-path $PKI/ca.pem OPTIONS... %h:%p"
pp_cmd() {
	local s="$POM_PROXY --pomerium-url https://localhost:$DOUBLE_PORT --alternate-ca-path $PKI/ca.pem" a
	for a in "$@"; do s="$s $(printf '%q' "$a")"; done
	echo "$s %h:%p"
}

_ssh_opts() {
	SSH_OPTS=(-F /dev/null -i "$USER_KEY" -o IdentitiesOnly=yes -o IdentityAgent=none
		-o StrictHostKeyChecking=no -o UserKnownHostsFile="$KNOWN_HOSTS"
		-o BatchMode=yes -o ConnectTimeout=15 -o LogLevel=ERROR
		-o ServerAliveInterval=0 -o ProxyCommand="$1" ${SSH_EXTRA[@]+"${SSH_EXTRA[@]}"})
}

# Clients run under `setsid -w`: no controlling terminal, so a pom-proxy
# that wants a sign-in can never sit waiting for a paste on the tester's tty.

# ssh_via PROXYCOMMAND HOST [COMMAND...] — a real ssh through PROXYCOMMAND
# as $SSH_USER@HOST (bounded by SSH_TIMEOUT, default 60 s); more ssh options
# in the array SSH_EXTRA, used by scp_via too (e.g. SSH_EXTRA=(-o Port=2222))
ssh_via() {
	local pc=$1 host=$2
	shift 2
	_ssh_opts "$pc"
	setsid -w timeout -k 5 "${SSH_TIMEOUT:-60}" ssh "${SSH_OPTS[@]}" "$SSH_USER@$host" "$@"
}

# scp_via PROXYCOMMAND SRC DST — scp (SFTP protocol) through PROXYCOMMAND;
# remote paths as HOST:PATH (the user is added)
scp_via() {
	local pc=$1 src=$2 dst=$3
	_ssh_opts "$pc"
	[[ $src == *:* && $src != /* ]] && src=$SSH_USER@$src
	[[ $dst == *:* && $dst != /* ]] && dst=$SSH_USER@$dst
	setsid -w timeout -k 5 "${SCP_TIMEOUT:-120}" scp -q "${SSH_OPTS[@]}" "$src" "$dst" </dev/null
}

# run_pp [ARGS...] — pom-proxy with stdin from /dev/null (or $PP_STDIN),
# bounded by PP_TIMEOUT (default 30 s). Sets RC, OUT (stdout), ERR (stderr).
run_pp() {
	setsid -w timeout -k 5 "${PP_TIMEOUT:-30}" "$POM_PROXY" "$@" <"${PP_STDIN:-/dev/null}" \
		>"$T/pp.out" 2>"$T/pp.err"
	RC=$?
	OUT=$(tr -d '\000' <"$T/pp.out")
	ERR=$(cat "$T/pp.err")
}

# expect_failure WANT_RC ERR_REGEX DESC — after run_pp: exit code WANT_RC,
# exactly one stderr line, starting "pom-proxy: " and matching ERR_REGEX
# (case-insensitive), nothing on stdout.
expect_failure() {
	local want=$1 re=$2 desc=$3 lines
	is "$RC" "$want" "$desc: exit code $want"
	note "exit $RC, stderr: $ERR"
	lines=$(wc -l <"$T/pp.err")
	is "$lines" 1 "$desc: exactly one stderr line" || diag "stderr: $ERR"
	like "$ERR" '^pom-proxy: ' "$desc: message starts with 'pom-proxy: '"
	if [ -n "$re" ]; then
		local lc=${ERR,,}
		like "$lc" "$re" "$desc: message says /$re/"
	fi
	is "$(stat -c %s "$T/pp.out")" 0 "$desc: nothing on stdout"
}

# count_log REGEX [FILE] — lines of the double's log matching REGEX
count_log() { grep -cE "$1" "${2:-$DOUBLE_LOG}"; }

# wait_log_more REGEX N [FILE] [SECS] — until FILE (the double's log) has
# more than N lines matching REGEX; fails after SECS (default 10)
wait_log_more() {
	local i=0 n=$((${4:-10} * 10))
	until [ "$(count_log "$1" "${3:-$DOUBLE_LOG}")" -gt "$2" ]; do
		[ $i -ge $n ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# feed_until SRC WATCH SIZE [SECS] — write SRC to stdout, then keep stdout
# open until file WATCH holds SIZE bytes, or SECS (default 120) pass, or the
# reader goes away: a stdin for pom-proxy that does not end before the
# answer has arrived.
feed_until() {
	python3 - "$@" <<'EOF'
import os, select, sys, time
src, watch, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
secs = float(sys.argv[4]) if len(sys.argv) > 4 else 120
with open(src, "rb") as f:
    while True:
        b = f.read(65536)
        if not b:
            break
        try:
            sys.stdout.buffer.write(b)
        except BrokenPipeError:
            sys.exit(1)
sys.stdout.flush()
end = time.time() + secs
p = select.poll()
p.register(1, select.POLLERR | select.POLLHUP)
while time.time() < end:
    try:
        if os.path.getsize(watch) >= size:
            break
    except OSError:
        pass
    if p.poll(50):  # the reading end is closed
        break
EOF
}

# idle_stdin — IDLE_IN: a new fifo a sleeping writer holds open (an
# endless, silent stdin); the writer is ended at exit
_IDLE=0
idle_stdin() {
	_IDLE=$((_IDLE + 1))
	IDLE_IN=$T/idle$_IDLE.fifo
	mkfifo "$IDLE_IN"
	sleep 200 >"$IDLE_IN" &
	_PIDS+=($!)
}

# random_file PATH MiB
random_file() { head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1"; }

# pom_built — true when $POM_PROXY is an executable file
pom_built() { [ -x "$POM_PROXY" ] || bail "$POM_PROXY not built (run make)"; }

# plain_pom_proxy — PLAIN_POM_PROXY: $POM_PROXY when it is built without
# sanitizers, else a plain build (-O2 -g) of the same sources in $T:
# valgrind and core-file tests need a binary without ASan's shadow memory
# (`make check SANITIZE=1` replaces ./pom-proxy with an instrumented one).
plain_pom_proxy() {
	PLAIN_POM_PROXY=$POM_PROXY
	grep -qa -e __asan_init -e __ubsan_handle "$POM_PROXY" || return 0
	local src
	src=$(cd "$LIB/../.." && pwd)
	need make
	note "$POM_PROXY is built with sanitizers: building a plain one in $T"
	# the project's own build, elsewhere, without the caller's make settings
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$src" B="$T/plain-build" \
		OUT="$T/pom-proxy-plain" SANITIZE= VERSION=plain "$T/pom-proxy-plain" \
		>"$T/plain-build.log" 2>&1 ||
		{ diag_file "$T/plain-build.log"; bail "cannot build a plain pom-proxy from $src"; }
	PLAIN_POM_PROXY=$T/pom-proxy-plain
}
