#!/bin/bash
# bench/run.sh — pom-proxy against proxytunnel, side by side, on loopback.
#
#   bash bench/run.sh [--quick] [--out FILE] [--no-profile]    (make bench)
#
#   --quick        a smaller run (well under a minute): fewer rounds, 256 MiB
#                  bulk transfers, no callgrind; also QUICK=1 in the
#                  environment. Prints the report; writes a file only with --out.
#   --out FILE     where the Markdown report goes (default: BENCHMARKS.md
#                  for a full run; the report is printed on stdout as well)
#   --no-profile   skip the callgrind instruction counts (full run)
#   BENCH_RAW=FILE in the environment keeps the raw results (one line per run)
#
# The world (all on 127.0.0.1, torn down at exit by tests/lib/world.sh):
#   squid (squid-openssl, https_port with the test PKI) as the CONNECT proxy,
#   in five variants: "envoy", the default everything is measured on, set
#   up the way Pomerium sets up Envoy (world.sh's SQUID_SHAPE=envoy: server's
#   order, Envoy's suites, groups X25519 then P-256, the Let's
#   Encrypt-shaped chain le-chain.pem); and squid's own defaults with an EC
#   or RSA certificate signed directly by the P-256 test CA, the ECDHE group
#   chosen by the client's preference (squid's default) or by the server's
#   (tls-options=CIPHER_SERVER_PREFERENCE). Both tools use the same squid.
#   bench/delay.py: relays that delay each direction by 10 ms and by 30 ms,
#   in front of the envoy squid (and of an echo upstream, to calibrate
#   them); the round trips of a case are the slope of its wall time
#   between the two, which cancels the tool's own CPU and start-up.
#   bench/upstream (C): reply (40 bytes then close), source, sink, echo.
#   bench/harness (C): runs one tool with stdin and stdout on pipes, stdin
#   kept open (as ssh does; proxytunnel exits at stdin EOF), times it from
#   fork to wait4 and reads the child's rusage; fails on a wrong byte count.
# Tools: pom-proxy --pomerium-url https://localhost:PORT --alternate-ca-path
#   ca.pem (system store + the test CA and the P-384 LE-shaped root, anchor
#   cache in $XDG_CACHE_HOME); proxytunnel -q -E -C DIR -p localhost:PORT,
#   DIR a hashed directory of the system certificates plus the same two
#   roots (its fastest trust setup).
# pom-proxy's cases: hot (as left: session resumed), full (its TLS session
#   removed, the verified-chain cache kept: a repeat visit), first (the
#   session and the verified-chain cache removed, the anchor cache kept:
#   first contact with this proxy), cold (the whole cache directory
#   removed).
# Runs alternate between the tools (the order rotates every round); the
# report (bench/report.py) gives medians and pom-proxy/proxytunnel ratios.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
QUICK=${QUICK:-0}
OUT=
PROFILE=1
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--out) OUT=$2; shift ;;
	--no-profile) PROFILE=0 ;;
	*) echo "usage: bench/run.sh [--quick] [--out FILE] [--no-profile]" >&2; exit 2 ;;
	esac
	shift
done
[ "$QUICK" = 1 ] || [ -n "$OUT" ] || OUT=$ROOT/BENCHMARKS.md
case $OUT in "" | /*) ;; *) OUT=$ROOT/$OUT ;; esac

. "$ROOT/tests/lib/world.sh"

if [ "$QUICK" = 1 ]; then
	watchdog 150
	OPEN_ROUNDS=10 VAR_ROUNDS=6 COLD_ROUNDS=5 LAT_ROUNDS=3
	BULK_MIB=256 BULK_ROUNDS=1
	RTT_COUNT=300 RTT_ROUNDS=2
	FAN_N=50 FAN_ROUNDS=2
	PROFILE=0
else
	watchdog 900
	OPEN_ROUNDS=40 VAR_ROUNDS=20 COLD_ROUNDS=15 LAT_ROUNDS=10
	BULK_MIB=1024 BULK_ROUNDS=3
	RTT_COUNT=1000 RTT_ROUNDS=9
	FAN_N=50 FAN_ROUNDS=5
fi
BULK=$((BULK_MIB * 1024 * 1024))
REPLY=40
DELAY_MS=10 DELAY2_MS=30
MAIN=envoy
RES=$T/results.txt
: >"$RES"

need squid proxytunnel openssl python3 cc strip
pom_built
POM_PROXY=$(readlink -f "$POM_PROXY")
PT_BIN=$(command -v proxytunnel)
say() { echo "bench: $*" >&2; }
meta() { local k=$1; shift; echo "meta $k $*" >>"$RES"; }

# ------------------------------------------------------------------ build
say "building the harness and the upstream server"
for p in harness upstream; do
	cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -o "$T/$p" "$ROOT/bench/$p.c" ||
		bail "cannot build bench/$p.c"
done
H=$T/harness

# ------------------------------------------------------------------ world
pki

# bench_squid SHAPE NAME CERT KEY [TLS-OPTIONS] — world.sh's start_squid
# (SQUID_SHAPE=SHAPE: envoy or openssl), with a
# log line per tunnel that names the TLS version and cipher and the
# User-Agent (pom-proxy sends one, proxytunnel does not).
# Sets SQ_PORT_<NAME>, SQ_DIR_<NAME>, SQ_PID_<NAME>.
bench_squid() {
	local shape=$1
	shift
	local name=$1 extra=$T/squid-$1.conf
	{
		echo 'logformat bench %ts.%03tu %rm %>Hs %ssl::>negotiated_version %ssl::>negotiated_cipher "%{User-Agent}>h"'
		# squid's default 2 MB shared TLS session cache loses sessions to newer
		# ones (50 proxytunnel handshakes evicted pom-proxy's session about one
		# time in three): a larger one keeps the "hot" cases about resumption
		echo "sslproxy_session_cache_size 32 MB"
	} >"$extra"
	SQUID_SHAPE=$shape SQUID_CERT=$2 SQUID_KEY=$3 SQUID_TLS_OPTIONS=${4:-} SQUID_LOGFORMAT=bench \
		start_squid "squid-$name" "$extra"
	printf -v "SQ_PORT_$name" %s "$SQUID_PORT"
	printf -v "SQ_DIR_$name" %s "$SQUID_DIR"
	printf -v "SQ_PID_$name" %s "$SQUID_PID"
}
VARIANTS="envoy ec ecsrv rsa rsasrv"
say "starting squid x5, the upstreams"
bench_squid envoy envoy "$PKI/le-chain.pem" "$PKI/le-leaf.key"
bench_squid openssl ec "$PKI/server.pem" "$PKI/server.key"
bench_squid openssl ecsrv "$PKI/server.pem" "$PKI/server.key" CIPHER_SERVER_PREFERENCE
bench_squid openssl rsa "$PKI/server-rsa.pem" "$PKI/server-rsa.key"
bench_squid openssl rsasrv "$PKI/server-rsa.pem" "$PKI/server-rsa.key" CIPHER_SERVER_PREFERENCE
meta main_variant $MAIN


# upstream MODE [N] — sets UP_PORT
_ups=0
upstream() {
	_ups=$((_ups + 1))
	spawn "upstream$_ups" "$T/upstream" "$@" "$T/upstream$_ups.port"
	wait_file "$T/upstream$_ups.port" 10 || { diag_file "$T/upstream$_ups.err"; bail "upstream $1 did not start"; }
	UP_PORT=$(cat "$T/upstream$_ups.port")
}
upstream reply $REPLY; P_REPLY=$UP_PORT
upstream source $BULK; P_SOURCE=$UP_PORT
upstream sink $BULK; P_SINK=$UP_PORT
upstream echo; P_ECHO=$UP_PORT

# proxytunnel's best trust setup: a hashed directory (OpenSSL reads only
# the issuer it looks up), the system certificates plus the test CA
PTCA=$T/pt-ca
mkdir -p "$PTCA"
for f in /etc/ssl/certs/*.pem; do ln -s "$(readlink -f "$f")" "$PTCA/$(basename "$f")"; done
# (rehash takes one certificate per file: ca.pem holds two)
cp "$PKI/ca-only.pem" "$PTCA/pom-bench-test-ca.pem"
cp "$PKI/le-root-ec.pem" "$PTCA/pom-bench-le-root-ec.pem"
openssl rehash "$PTCA" 2>/dev/null || bail "openssl rehash failed"

# pp VARIANT / pt VARIANT — the command line of each tool for that squid
pp() { local p=SQ_PORT_$1; PPCMD=("$POM_PROXY" --pomerium-url "https://localhost:${!p}" --alternate-ca-path "$PKI/ca.pem"); }
pt() { local p=SQ_PORT_$1; PTCMD=("$PT_BIN" -q -E -C "$PTCA" -p "localhost:${!p}"); }
POMCACHE=$XDG_CACHE_HOME/pom-proxy

# measure SECTION VARIANT CASE ROUND HARNESS-ARGS... — one run, recorded
measure() {
	local sec=$1 var=$2 case=$3 round=$4 line
	shift 4
	if ! line=$("$H" "$@" 2>>"$T/harness.err"); then
		diag_file "$T/harness.err"
		bail "$sec/$var/$case run $round failed: ${line:-no output}"
	fi
	echo "$sec $var $case $round $line" >>"$RES"
}

# forget CASE — prepare pom-proxy's cache for CASE (pp-cold: empty;
# pp-first: no TLS session, no verified chain; pp-full: no TLS session;
# pp-hot: as left)
forget() {
	case $1 in
	pp-cold) rm -rf "$POMCACHE" ;;
	pp-first) rm -rf "$POMCACHE/sessions" "$POMCACHE/verified-chains" ;;
	pp-full) rm -rf "$POMCACHE/sessions" ;;
	esac
}

# run_case SECTION VARIANT CASE ROUND MODE-ARGS... — prepare the cache for
# CASE (forget), run the tool of CASE through the harness
run_case() {
	local sec=$1 var=$2 case=$3 round=$4
	shift 4
	local mode=("$@") dest
	forget "$case"
	case $sec in
	open | warmup | fanout | lat) dest=127.0.0.1:$P_REPLY ;;
	down) dest=127.0.0.1:$P_SOURCE ;;
	up) dest=127.0.0.1:$P_SINK ;;
	rtt) dest=127.0.0.1:$P_ECHO ;;
	esac
	case $case in
	pp-*) pp "$var"; measure "$sec" "$var" "$case" "$round" "${mode[@]}" -- "${PPCMD[@]}" "$dest" ;;
	pt) pt "$var"; measure "$sec" "$var" "$case" "$round" "${mode[@]}" -- "${PTCMD[@]}" -d "$dest" ;;
	tcp) measure "$sec" "$var" "$case" "$round" tcprtt "${mode[@]:1}" "${TCP_ECHO:-$P_ECHO}" ;; # mode: rtt N SIZE WARMUP
	esac
}

# alternate SECTION VARIANT ROUNDS "CASES" MODE-ARGS... — ROUNDS rounds of
# every case, the order rotated by one each round
alternate() {
	local sec=$1 var=$2 rounds=$3 r i k
	local -a cases
	read -ra cases <<<"$4"
	shift 4
	k=${#cases[@]}
	for ((r = 1; r <= rounds; r++)); do
		for ((i = 0; i < k; i++)); do
			run_case "$sec" "$var" "${cases[$(((r + i) % k))]}" "$r" "$@"
		done
	done
}

squid_cpu() { # PID — user+sys clock ticks of squid so far
	awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# ------------------------------------------------------------------ facts
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta cpu "$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
meta nproc "$(nproc)"
meta kernel "$(uname -r)"
meta aes "$(grep -m1 -o -w -E 'aes' /proc/cpuinfo || echo no)/$(grep -m1 -o -w 'pclmulqdq' /proc/cpuinfo || echo no)/$(grep -m1 -o -w 'avx2' /proc/cpuinfo || echo no)"
meta pom_version "$("$POM_PROXY" --version 2>&1 | head -1)"
meta pom_git "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
meta bearssl "$(dpkg-query -W -f '${Version}' libbearssl-dev 2>/dev/null || echo unknown)"
meta pt_version "$(dpkg-query -W -f '${Version}' proxytunnel 2>/dev/null || "$PT_BIN" -V 2>&1 | head -1)"
meta openssl "$(openssl version | cut -d' ' -f2)"
meta squid "$(squid -v | head -1 | sed 's/.*Version //')"
meta quick "$QUICK"
meta load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
meta rounds "open=$OPEN_ROUNDS var=$VAR_ROUNDS cold=$COLD_ROUNDS bulk=$BULK_ROUNDS rtt=$RTT_ROUNDS fanout=$FAN_ROUNDS"
meta bulk_bytes "$BULK"
meta rtt "count=$RTT_COUNT size=64 warmup=20"
meta fan_n "$FAN_N"

# binary sizes; proxytunnel's shared libraries
strip -o "$T/pom-proxy.stripped" "$POM_PROXY"
meta size_pp "$(stat -c %s "$POM_PROXY") $(stat -c %s "$T/pom-proxy.stripped")"
meta size_pt "$(stat -c %s "$PT_BIN") $(strip -o "$T/pt.stripped" "$PT_BIN" && stat -c %s "$T/pt.stripped")"
for b in "$T/pom-proxy.stripped" "$PT_BIN"; do
	libs=""
	for l in $(ldd "$b" | awk '/=> \//{print $3}'); do
		libs="$libs $(basename "$l"):$(stat -L -c %s "$l")"
	done
	[ "$b" = "$PT_BIN" ] && meta libs_pt "$libs" || meta libs_pp "$libs"
done

# What each tool offers (a ClientHello caught by bench/hello.py), and what
# each squid variant picks for those offers (openssl s_client with the
# same group order: OpenSSL's default for proxytunnel, BearSSL's for
# pom-proxy, which only speaks TLS 1.2)
say "checking the ClientHellos and the negotiated groups"
for tool in pp pt; do
	rm -f "$T/hello.port"
	spawn "hello-$tool" python3 "$ROOT/bench/hello.py" "$T/hello.port"
	hp=$LAST_PID
	wait_file "$T/hello.port" 10 || bail "hello.py did not start"
	hport=$(cat "$T/hello.port")
	if [ $tool = pp ]; then
		timeout -k 2 10 "$POM_PROXY" --connect-timeout 5 --pomerium-url "https://localhost:$hport" 127.0.0.1:9 \
			</dev/null >/dev/null 2>&1
	else
		sleep 3 | timeout -k 2 10 "$PT_BIN" -q -E -p "localhost:$hport" -d 127.0.0.1:9 >/dev/null 2>&1
	fi
	wait_gone "$hp" 10
	meta "hello_$tool" "$(cat "$T/hello-$tool.out")"
done
pp_groups=$(sed -n 's/^meta hello_pp .*groups=\([^ ]*\).*/\1/p' "$RES" | sed 's/x25519/X25519/g; s/,/:/g')
[ -n "$pp_groups" ] || pp_groups=P-256:P-384:P-521:X25519
# temp_key — the group name in s_client's "Server Temp Key: X25519, 253 bits"
# or "Server Temp Key: ECDH, prime256v1, 256 bits"
temp_key() {
	sed -n 's/^\(Server\|Peer\) Temp Key: //p' | head -1 | awk -F', *' '
		$1 == "ECDH" { n = $2; sub(/prime256v1/, "P-256", n); sub(/secp384r1/, "P-384", n);
			sub(/secp521r1/, "P-521", n); print n; next } { print $1 }'
}
for v in $VARIANTS; do
	p=SQ_PORT_$v
	a=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:${!p}" -servername localhost \
		-tls1_2 -groups "$pp_groups" 2>&1 | temp_key)
	b=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:${!p}" -servername localhost \
		2>&1 | temp_key)
	meta "group_$v" "${a:-?} ${b:-?}"
done

# resumption: does a second pom-proxy run resume, does pp-full really not?
for v in $VARIANTS; do
	pp "$v"
	rm -rf "$POMCACHE/sessions"
	r1=$("$H" -t 20 recv $REPLY -- "${PPCMD[@]}" -v 127.0.0.1:$P_REPLY 2>&1 >/dev/null |
		grep -o -E 'full handshake|resumed' | head -1)
	r2=$("$H" -t 20 recv $REPLY -- "${PPCMD[@]}" -v 127.0.0.1:$P_REPLY 2>&1 >/dev/null |
		grep -o -E 'full handshake|resumed' | head -1)
	[ "$r1" != resumed ] || bail "pom-proxy resumed although its session cache was emptied"
	meta "resume_$v" "${r1:-?} ${r2:-?}"
done

# ------------------------------------------------------------------ 1. open
say "1. tunnel open: warm-up"
for v in $VARIANTS; do
	alternate warmup "$v" 2 "pp-hot pt" recv $REPLY
done
say "1. tunnel open: $OPEN_ROUNDS rounds (hot, repeat, first contact, proxytunnel), $COLD_ROUNDS cold"
alternate open $MAIN "$OPEN_ROUNDS" "pp-hot pp-full pp-first pt" recv $REPLY
alternate open $MAIN "$COLD_ROUNDS" "pp-cold pt" recv $REPLY
# does this build keep a verified-chain cache? (after a repeat run, it is there)
run_case warmup $MAIN pp-full 0 recv $REPLY
[ -e "$POMCACHE/verified-chains" ] && meta chain_cache yes || meta chain_cache no
say "1. tunnel open, other squid setups: $VAR_ROUNDS rounds each"
for v in ec ecsrv rsa rsasrv; do
	alternate open "$v" "$VAR_ROUNDS" "pp-hot pp-full pt" recv $REPLY
done

# ------------------------------------------------------------------ 2. bulk
say "2. bulk: $BULK_ROUNDS x $BULK_MIB MiB down and up per tool"
pp $MAIN
"$H" recv $REPLY -- "${PPCMD[@]}" 127.0.0.1:$P_REPLY >/dev/null 2>&1 # a fresh session
SQP=SQ_PID_$MAIN
for ((r = 1; r <= BULK_ROUNDS; r++)); do
	for c in pp-hot pt; do
		[ $((r % 2)) = 0 ] && { [ $c = pt ] && c=pp-hot || c=pt; }
		for sec in down up; do
			s0=$(squid_cpu "${!SQP}")
			if [ $sec = down ]; then
				run_case down $MAIN $c $r -t 300 recv $BULK
			else
				run_case up $MAIN $c $r -t 300 send $BULK
			fi
			echo "squid $sec $MAIN $c $r ticks=$(($(squid_cpu "${!SQP}") - s0)) hz=$(getconf CLK_TCK)" >>"$RES"
		done
	done
done

# system calls per MiB, counted by strace on a smaller transfer (full run)
if [ "$QUICK" != 1 ] && command -v strace >/dev/null; then
	say "2. bulk: system calls (strace -c, 64 MiB each way)"
	SMALL=$((64 * 1024 * 1024))
	upstream source $SMALL; P_SSRC=$UP_PORT
	upstream sink $SMALL; P_SSNK=$UP_PORT
	pp $MAIN
	pt $MAIN
	for c in pp pt; do
		for sec in down up; do
			if [ $sec = down ]; then mode=(recv $SMALL); dport=$P_SSRC; else mode=(send $SMALL); dport=$P_SSNK; fi
			f=$T/strace.$c.$sec
			if [ $c = pp ]; then
				"$H" -t 120 "${mode[@]}" -- strace -c -o "$f" "${PPCMD[@]}" 127.0.0.1:$dport >/dev/null 2>>"$T/harness.err"
			else
				"$H" -t 120 "${mode[@]}" -- strace -c -o "$f" "${PTCMD[@]}" -d 127.0.0.1:$dport >/dev/null 2>>"$T/harness.err"
			fi || bail "strace run $c $sec failed"
			# strace -c columns: % time, seconds, usecs/call, calls, [errors,] syscall
			awk -v c=$c -v s=$sec '$1 ~ /^[0-9.]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" {
				print "sys", s, c, $NF, $4, 64 }' "$f" >>"$RES"
		done
	done
fi

# ------------------------------------------------------------------ 4. rtt
say "4. interactive: $RTT_ROUNDS x $RTT_COUNT round trips of 64 bytes"
alternate rtt $MAIN "$RTT_ROUNDS" "pp-hot pt tcp" rtt "$RTT_COUNT" 64 20

# ------------------------------------------------------------------ 5. fan-out
say "5. fan-out: $FAN_ROUNDS x $FAN_N tunnels at once"
alternate fanout $MAIN "$FAN_ROUNDS" "pp-hot pp-full pt" -t 120 fanout "$FAN_N" $REPLY

# did the hot fan-out really resume? one more, untimed, with -v
pp $MAIN
"$H" fanout "$FAN_N" $REPLY -- "${PPCMD[@]}" -v 127.0.0.1:$P_REPLY >/dev/null 2>"$T/fan-v.err" ||
	bail "fan-out check failed"
meta fanout_resumed "$(grep -c 'resumed' "$T/fan-v.err") $FAN_N"

# ------------------------------------------------------------------ 7. latency
# bench/delay.py in front of the envoy squid, DELAY_MS then DELAY2_MS each
# way: a round trip costs 2 x DELAY more than on loopback. Relays of the
# same delays in front of the echo upstream calibrate them (64-byte round
# trips over plain TCP). lat: the 10 ms relay, lat2: the 30 ms one.
say "7. latency: $DELAY_MS and $DELAY2_MS ms each way, $LAT_ROUNDS rounds each"
# relay NAME TO-PORT MS — sets RELAY_PORT
relay() {
	rm -f "$T/$1.port"
	spawn "$1" python3 "$ROOT/bench/delay.py" "$T/$1.port" "$2" "$3"
	wait_file "$T/$1.port" 10 || { diag_file "$T/$1.err"; bail "bench/delay.py did not start"; }
	RELAY_PORT=$(cat "$T/$1.port")
}
meta latency "delay_ms=$DELAY_MS delay2_ms=$DELAY2_MS rounds=$LAT_ROUNDS"
for lv in lat lat2; do
	[ $lv = lat ] && ms=$DELAY_MS || ms=$DELAY2_MS
	relay "relay-squid-$lv" "$SQ_PORT_envoy" "$ms"
	printf -v "SQ_PORT_$lv" %s "$RELAY_PORT"
	relay "relay-echo-$lv" "$P_ECHO" "$ms"
	TCP_ECHO=$RELAY_PORT alternate lat "$lv" "$LAT_ROUNDS" tcp rtt 5 64 1
	alternate lat "$lv" 1 "pp-hot pt" recv $REPLY # warm-up: a session for the relay's port
	alternate lat "$lv" "$LAT_ROUNDS" "pp-hot pp-full pp-first pt" recv $REPLY
done
# what pom-proxy does through the relay after a run that left a session
pp lat
"$H" -t 20 recv $REPLY -- "${PPCMD[@]}" 127.0.0.1:$P_REPLY >/dev/null 2>&1
r1=$("$H" -t 20 recv $REPLY -- "${PPCMD[@]}" -v 127.0.0.1:$P_REPLY 2>&1 >/dev/null | grep -o -E 'full handshake|resumed' | head -1)
meta lat_resume "${r1:-?}"

# ------------------------------------------------------------------ squid's view
for v in $VARIANTS; do
	d=SQ_DIR_$v
	awk -v v="$v" '$2 == "CONNECT" && $3 == 200 {
		ua = ($6 ~ /pom-proxy/) ? "pp" : "pt"; n[ua " " $4 " " $5]++ }
		END { for (k in n) print "tls", v, k, n[k] }' "${!d}/access.log" >>"$RES"
done

# ------------------------------------------------------------------ 6. profile
if [ "$PROFILE" = 1 ] && command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
	say "6. callgrind: one tunnel open per case"
	cg() { # NAME VARIANT CASE
		local name=$1 v=$2 case=$3 f=$T/cg.$1
		forget "$case"
		local vg=(valgrind --tool=callgrind --callgrind-out-file="$f")
		if [ "$case" = pt ]; then
			pt "$v"
			"$H" -t 60 recv $REPLY -- "${vg[@]}" "${PTCMD[@]}" -d 127.0.0.1:$P_REPLY >/dev/null 2>>"$T/cg.err"
		else
			pp "$v"
			"$H" -t 60 recv $REPLY -- "${vg[@]}" "${PPCMD[@]}" 127.0.0.1:$P_REPLY >/dev/null 2>>"$T/cg.err"
		fi || bail "callgrind run $name failed"
		callgrind_annotate --auto=no --threshold=100 --inclusive=yes "$f" >"$T/cg.$name.incl" 2>/dev/null
		callgrind_annotate --auto=no --threshold=100 "$f" >"$T/cg.$name.self" 2>/dev/null
		python3 "$ROOT/bench/report.py" --callgrind "$name" "$T/cg.$name.incl" "$T/cg.$name.self" >>"$RES"
	}
	pp $MAIN
	"$H" recv $REPLY -- "${PPCMD[@]}" 127.0.0.1:$P_REPLY >/dev/null 2>&1
	cg pp-hot-main $MAIN pp-hot
	cg pp-full-main $MAIN pp-full
	cg pp-first-main $MAIN pp-first
	cg pp-cold-main $MAIN pp-cold
	cg pt-main $MAIN pt
	cg pp-full-ec ec pp-full
	cg pt-ec ec pt
	cg pp-full-ecsrv ecsrv pp-full
	cg pt-ecsrv ecsrv pt
	cg pp-full-rsa rsa pp-full
	cg pp-full-rsasrv rsasrv pp-full
fi

# ------------------------------------------------------------------ report
say "report"
if [ -n "$OUT" ]; then
	python3 "$ROOT/bench/report.py" "$RES" >"$OUT.tmp" && mv "$OUT.tmp" "$OUT" || bail "report failed"
	cat "$OUT"
	say "written to $OUT"
else
	python3 "$ROOT/bench/report.py" "$RES" || bail "report failed"
fi
[ -n "${BENCH_RAW:-}" ] && cp "$RES" "$BENCH_RAW"
exit 0
