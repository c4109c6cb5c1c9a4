#!/bin/bash
# load.t — integrity under load; NOT part of `make check` (it takes minutes
# and moves gigabytes): run it with `make load` or
#   POM_PROXY=$PWD/pom-proxy prove -v tests/load/load.t
#
#  0. the checker checks: a relay that flips one byte is caught
#  1. stdio mode, as ssh runs a ProxyCommand: LOAD_MIB (default 256) MiB of
#     seeded random data each way at the same time through pom-proxy and
#     squid (a TLS CONNECT proxy much faster than the Python double), every
#     byte compared and SHA-256 checked at both ends; pom-proxy exits 0 on
#     the SIGHUP that follows, says nothing, and its peak RSS is reported
#  2. the same through the Pomerium double with a service-account token
#     (LOAD_DOUBLE_MIB, default 256)
#  3. listener mode: LOAD_TUNNELS (default 500) connections to one
#     `pom-proxy --listen`, all open at the same time, each moving
#     LOAD_TUNNEL_KIB (default 1024) KiB each way, checked the same way;
#     while all are open: one pom-proxy process per tunnel, their peak
#     memory (VmHWM, and PSS/private from smaps_rollup) per tunnel; then
#     every tunnel process ends, the listener ends on SIGTERM, nothing is
#     left behind
# The figures are printed as "# LOAD ..." lines. No timing threshold: the
# only limits are the ones that stop a hung run (loadpeer -t, watchdog).
# The data ends are tests/lib/loadpeer.c, built here against BearSSL.
. "$(dirname "$0")/../lib/world.sh"
LOAD_MIB=${LOAD_MIB:-256}
LOAD_DOUBLE_MIB=${LOAD_DOUBLE_MIB:-256}
LOAD_TUNNELS=${LOAD_TUNNELS:-500}
LOAD_TUNNEL_KIB=${LOAD_TUNNEL_KIB:-1024}
watchdog 1500
need squid cc python3 setsid
pom_built
pki

# file descriptors: the fan client and the upstream hold one per tunnel,
# squid two (it shares our limit: started from this shell)
want_fd=$((2 * LOAD_TUNNELS + 256))
if [ "$(ulimit -Sn)" -lt "$want_fd" ]; then
	ulimit -Sn "$want_fd" 2>/dev/null || ulimit -Sn "$(ulimit -Hn)"
fi
[ "$(ulimit -Sn)" -ge "$want_fd" ] ||
	bail "ulimit -n is $(ulimit -Sn) (hard $(ulimit -Hn)); $LOAD_TUNNELS tunnels need $want_fd"

LP=$T/loadpeer
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -o "$LP" "$LIB/loadpeer.c" -l:libbearssl.a ||
	bail "cannot build tests/lib/loadpeer.c (gcc, libbearssl-dev)"

SQUID_MAX_FD=$((2 * LOAD_TUNNELS + 256)) start_squid
spawn loadsrv "$LP" -t 0 server "$T/loadsrv.port"
SRV_PID=$LAST_PID
wait_file "$T/loadsrv.port" 15 || bail "loadpeer server did not start"
SRV=$(cat "$T/loadsrv.port")
TOK=$(token_file alice@example.com)

# srv_count WORD — lines of the upstream's log with that verdict
srv_count() { grep -c " $1" "$T/loadsrv.out"; }
# kv KEY LINE — the value of KEY=... in LINE
kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

# --- 0. the checker catches a flipped byte ------------------------------------------
cat >"$T/flip.py" <<'EOF'
# a TCP relay to 127.0.0.1:PORT that flips one byte, at offset AT, of what
# comes back from it
import os, socket, sys, threading
port, at, pf = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(4)
open(pf + ".tmp", "w").write("%d\n" % l.getsockname()[1]); os.rename(pf + ".tmp", pf)
c, _ = l.accept()
u = socket.create_connection(("127.0.0.1", port))
def up():
    while True:
        d = c.recv(65536)
        if not d:
            return
        u.sendall(d)
threading.Thread(target=up, daemon=True).start()
n = 0
while True:
    d = u.recv(65536)
    if not d:
        break
    if n <= at < n + len(d):
        b = bytearray(d); b[at - n] ^= 1; d = bytes(b)
    n += len(d)
    c.sendall(d)
EOF
spawn flip python3 "$T/flip.py" "$SRV" 300000 "$T/flip.port"
wait_file "$T/flip.port" 15 || bail "flip relay did not start"
res=$(timeout 60 "$LP" -t 50 fan 1 65536 1048576 "$(cat "$T/flip.port")" 2>"$T/check.err")
is "$?/$(kv bad "$res")" "1/1" "self-check: a flipped byte fails the stream"
like "$(cat "$T/check.err")" 'differs from byte 300000 on' "self-check: the checker names the first bad byte"

# --- 1. stdio, through squid ---------------------------------------------------------
n=$((LOAD_MIB * 1024 * 1024))
ok0=$(srv_count ok)
res=$(timeout -k 5 900 "$LP" -t 880 stdio "$n" "$n" -- "$POM_PROXY" --pomerium-url "https://localhost:$SQUID_PORT" \
	--alternate-ca-path "$PKI/ca.pem" --service-account-file "$TOK" "127.0.0.1:$SRV" 2>"$T/stdio.err")
rc=$?
note "$res"
is "$rc" 0 "stdio via squid: $LOAD_MIB MiB each way arrived whole (loadpeer exit 0)" || diag_file "$T/stdio.err"
is "$(kv ok "$res")/$(kv up "$res")/$(kv down "$res")" "1/$n/$n" "stdio via squid: every byte both ways, checked and hashed"
is "$(kv exit "$res")/$(kv signal "$res")" "0/0" "stdio via squid: pom-proxy exits 0 on ssh's SIGHUP"
is "$(grep -c '^pom-proxy' "$T/stdio.err")" 0 "stdio via squid: pom-proxy said nothing" || diag_file "$T/stdio.err"
for i in $(seq 50); do [ "$(srv_count ok)" -gt "$ok0" ] && break; sleep 0.1; done
is "$(($(srv_count ok) - ok0))" 1 "stdio via squid: the upstream checked the $LOAD_MIB MiB it received"
wall=$(kv data_s "$res")
echo "# LOAD stdio-squid bytes_each_way=$n wall_s=$wall mib_s_each_way=$(python3 -c "print('%.1f' % ($LOAD_MIB / max(float('$wall'), 1e-9)))") pom_proxy_maxrss_kib=$(kv maxrss_kib "$res")"

# --- 2. stdio, through the Pomerium double, with a token --------------------------------
start_double --route "load.test:9" "127.0.0.1:$SRV" alice@example.com
n=$((LOAD_DOUBLE_MIB * 1024 * 1024))
ok0=$(srv_count ok)
res=$(timeout -k 5 600 "$LP" -t 580 stdio "$n" "$n" -- "$POM_PROXY" --pomerium-url "https://localhost:$DOUBLE_PORT" \
	--alternate-ca-path "$PKI/ca.pem" --service-account-file "$TOK" load.test:9 2>"$T/dstdio.err")
rc=$?
note "$res"
is "$rc/$(kv ok "$res")/$(kv up "$res")/$(kv down "$res")" "0/1/$n/$n" \
	"stdio via the double: $LOAD_DOUBLE_MIB MiB each way arrived whole" || diag_file "$T/dstdio.err"
is "$(kv exit "$res")/$(grep -c '^pom-proxy' "$T/dstdio.err")" "0/0" "stdio via the double: exit 0, nothing said"
like "$(grep '^CONNECT load.test:9' "$DOUBLE_LOG")" '^CONNECT load\.test:9 200 token=yes .*user=alice@example\.com' \
	"stdio via the double: the token was sent and accepted"
for i in $(seq 50); do [ "$(srv_count ok)" -gt "$ok0" ] && break; sleep 0.1; done
is "$(($(srv_count ok) - ok0))" 1 "stdio via the double: the upstream checked what it received"
wall=$(kv data_s "$res")
echo "# LOAD stdio-double bytes_each_way=$n wall_s=$wall mib_s_each_way=$(python3 -c "print('%.1f' % ($LOAD_DOUBLE_MIB / max(float('$wall'), 1e-9)))") pom_proxy_maxrss_kib=$(kv maxrss_kib "$res")"

# --- 3. listener: LOAD_TUNNELS tunnels at once ------------------------------------------
spawn listener "$POM_PROXY" --pomerium-url "https://localhost:$SQUID_PORT" --alternate-ca-path "$PKI/ca.pem" \
	--service-account-file "$TOK" --listen 127.0.0.1:0 "127.0.0.1:$SRV"
LPID=$LAST_PID
wait_log_line "$T/listener.err" 'listening on 127\.0\.0\.1:[0-9]+' "$LPID" 15 || bail "the listener did not start"
LPORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/listener.err")
n=$((LOAD_TUNNEL_KIB * 1024))
ok0=$(srv_count ok)
bad0=$(srv_count BAD)
t0=$(date +%s.%N)
spawn fan timeout -k 5 600 "$LP" -t 580 fan "$LOAD_TUNNELS" "$n" "$n" "$LPORT" "$T/fan.ready" "$T/fan.go"
FAN=$LAST_PID
# wait for every stream to be checked (or the fan client to give up)
while [ ! -e "$T/fan.ready" ] && alive "$FAN"; do sleep 0.2; done
wall=$(python3 -c "import time; print('%.3f' % (time.time() - $t0))")
is "$(cat "$T/fan.ready" 2>/dev/null)" 0 "listener: all $LOAD_TUNNELS streams checked while all were open" ||
	{ diag_file "$T/fan.err"; diag_file "$T/fan.out"; }

# every tunnel process while all are alive
kids=$(ps -o pid= --ppid "$LPID" | tr -d ' ')
nk=$(wc -w <<<"$kids")
is "$nk" "$LOAD_TUNNELS" "listener: $LOAD_TUNNELS tunnel processes alive at once"
python3 - $kids >"$T/mem.txt" <<'EOF'
import sys
hwm = rss = pss = priv = n = 0
for pid in sys.argv[1:]:
    try:
        st = open("/proc/%s/status" % pid).read()
        sm = open("/proc/%s/smaps_rollup" % pid).read()
    except OSError:
        continue
    f = {}
    for line in (st + sm).splitlines():
        k, _, v = line.partition(":")
        if v.strip().endswith("kB"):
            f[k] = f.get(k, 0) + int(v.split()[0])
    n += 1
    hwm += f["VmHWM"]; rss += f["VmRSS"]; pss += f["Pss"]
    priv += f["Private_Clean"] + f["Private_Dirty"]
n = max(n, 1)
print("measured=%d hwm_sum_kib=%d hwm_per_tunnel_kib=%.0f rss_per_tunnel_kib=%.0f "
      "pss_sum_kib=%d pss_per_tunnel_kib=%.0f private_per_tunnel_kib=%.0f"
      % (n, hwm, hwm / n, rss / n, pss, pss / n, priv / n))
EOF
mem=$(cat "$T/mem.txt")
is "$(kv measured "$mem")" "$LOAD_TUNNELS" "listener: memory read for every tunnel process"
lhwm=$(awk '/VmHWM/ {print $2}' "/proc/$LPID/status")
shwm=$(awk '/VmHWM/ {print $2}' "/proc/$SQUID_PID/status")
touch "$T/fan.go"
wait_gone "$FAN" 60
res=$(tail -n 1 "$T/fan.out")
note "$res"
is "$(kv ok "$res")/$(kv bad "$res")" "$LOAD_TUNNELS/0" "listener: every stream arrived whole both ways"
is "$(kv up "$res")/$(kv down "$res")" "$((LOAD_TUNNELS * n))/$((LOAD_TUNNELS * n))" "listener: the byte counts add up"
for i in $(seq 100); do [ "$(($(srv_count ok) - ok0))" -ge "$LOAD_TUNNELS" ] && break; sleep 0.1; done
is "$(($(srv_count ok) - ok0))/$(($(srv_count BAD) - bad0))" "$LOAD_TUNNELS/0" "listener: the upstream checked every stream it received"
echo "# LOAD listener tunnels=$LOAD_TUNNELS bytes_each_way_per_tunnel=$n total_bytes_each_way=$((LOAD_TUNNELS * n)) wall_s=$wall connect_s=$(kv connect_s "$res") $mem listener_hwm_kib=$lhwm squid_hwm_kib=$shwm"

# the tunnels end with their connections; the listener with SIGTERM
gone_all=0
for i in $(seq 300); do
	[ -z "$(ps -o pid= --ppid "$LPID")" ] && { gone_all=1; break; }
	sleep 0.1
done
is "$gone_all" 1 "listener: every tunnel process ended with its connection" ||
	diag "$(ps -o pid,stat,args --ppid "$LPID" | head)"
kill -TERM "$LPID"
wait_gone "$LPID" 15
wait "$LPID"
is "$?" 0 "listener: exits 0 on SIGTERM"
left=0
for p in $kids; do alive "$p" && left=$((left + 1)); done
is "$left" 0 "no tunnel process left behind"
is "$(grep -c 'pom-proxy: warning\|cannot accept' "$T/listener.err")" 0 "the listener never had to back off or warn" ||
	diag_file "$T/listener.err"

done_testing
