#!/usr/bin/env python3
"""report.py — the Markdown report of bench/run.sh.

    report.py RESULTS                 print BENCHMARKS.md from run.sh's results
    report.py --callgrind NAME INCL SELF
                                      summarise two callgrind_annotate outputs
                                      (inclusive, self) as "cg NAME ..." lines

RESULTS lines (written by run.sh and by the --callgrind mode):
    meta KEY VALUE...
    SECTION VARIANT CASE ROUND key=value...   (harness output; SECTION is
                                               open, warmup, down, up, rtt, fanout)
    squid DIRECTION VARIANT CASE ROUND ticks=N hz=N
    tls VARIANT TOOL VERSION CIPHER COUNT     (squid's access log)
    cg NAME total|obj|fn|top ...
Python 3 standard library only."""
import re
import sys
from collections import Counter, defaultdict

GiB = 1 << 30
MiB = 1 << 20


# ------------------------------------------------------------------ callgrind

LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)(?:\s+\[(.*)\])?\s*$")

# inclusive figures worth naming: label, function-name regex
LABELS = [
    ("TLS handshake engine", r"br_ssl_hs_client_run"),
    ("ECDSA checks, all (br_ecdsa_i31_vrfy_asn1)", r"br_ecdsa_i31_vrfy_asn1"),
    ("certificate signature in x509_minimal (verify_signature)", r"verify_signature"),
    ("of which generic prime-curve code (ec_prime_i31 run_code)", r"run_code"),
    ("RSA signature check (br_rsa_*_pkcs1_vrfy)", r"br_rsa_\w+_pkcs1_vrfy"),
    ("ECDHE (api_mul + api_mulgen: key pair + shared secret)", r"api_mul|api_mulgen"),
    ("trust anchors, decode or cache (lazy_start_chain)", r"lazy_start_chain"),
    ("X.509 decoding of the bundle (br_x509_decoder_run)", r"br_x509_decoder_run"),
    ("SHA-256 compression (br_sha2small_round)", r"br_sha2small_round"),
]


def parse_annotate(path):
    total, rows = 0, []
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            n = int(m.group(1).replace(",", ""))
            what = m.group(2)
            if what == "PROGRAM TOTALS":
                total = n
                continue
            fn = what.rsplit(":", 1)[-1]
            rows.append((n, fn, m.group(3) or "?"))
    return total, rows


def short_obj(obj):
    b = obj.rsplit("/", 1)[-1]
    for k in ("libcrypto", "libssl", "libc.so", "ld-linux", "vgpreload"):
        if k in b:
            return {"libc.so": "libc", "ld-linux": "ld.so", "vgpreload": "valgrind"}.get(k, k)
    return "program"


def callgrind(name, incl, self_):
    total, irows = parse_annotate(incl)
    _, srows = parse_annotate(self_)
    print("cg %s total %d" % (name, total))
    objs = Counter()
    for n, fn, obj in srows:
        objs[short_obj(obj)] += n
    for o, n in objs.items():
        print("cg %s obj %s %d" % (name, o, n))
    for label, rx in LABELS:
        r = re.compile(r"^(%s)$" % rx)
        # the same name can be listed twice (two files, inlined copies): take
        # the largest entry per name, add up distinct names
        best = {}
        for x, fn, obj in irows:
            if r.match(fn):
                best[fn] = max(best.get(fn, 0), x)
        n = sum(best.values())
        if n:
            print("cg %s fn %d %s" % (name, n, label))
    for n, fn, obj in sorted(srows, reverse=True)[:8]:
        print("cg %s top %d %s %s" % (name, n, fn, short_obj(obj)))


# ------------------------------------------------------------------ stats

def median(xs):
    xs = sorted(xs)
    n = len(xs)
    if n == 0:
        return float("nan")
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100 * (len(xs) - 1)))))
    return xs[k]


def ratio(a, b):
    if not b or b != b or a != a:
        return "–"
    return "%.2f" % (a / b)


def ms(us):
    return "%.2f" % (us / 1000) if us == us else "–"


def mib(kb):
    return "%.1f MiB" % (kb / 1024)


class Results:
    def __init__(self, path):
        self.meta = {}
        self.runs = defaultdict(list)
        self.squid = defaultdict(list)
        self.tls = defaultdict(Counter)
        self.sys = defaultdict(Counter)  # (direction, tool) -> syscall -> calls per MiB
        self.cg = defaultdict(lambda: {"total": 0, "obj": {}, "fn": [], "top": []})
        with open(path) as f:
            for line in f:
                w = line.split()
                if not w:
                    continue
                if w[0] == "meta":
                    self.meta[w[1]] = " ".join(w[2:])
                elif w[0] == "tls":
                    self.tls[(w[1], w[2])][w[3] + " " + w[4]] += int(w[5])
                elif w[0] == "sys":
                    self.sys[(w[1], w[2])][w[3]] += int(w[4]) / int(w[5])
                elif w[0] == "squid":
                    kv = dict(x.split("=", 1) for x in w[5:])
                    self.squid[(w[1], w[2], w[3])].append(int(kv["ticks"]) / int(kv["hz"]))
                elif w[0] == "cg":
                    c = self.cg[w[1]]
                    if w[2] == "total":
                        c["total"] = int(w[3])
                    elif w[2] == "obj":
                        c["obj"][w[3]] = int(w[4])
                    elif w[2] == "fn":
                        c["fn"].append((int(w[3]), " ".join(w[4:])))
                    elif w[2] == "top":
                        c["top"].append((int(w[3]), w[4], w[5]))
                else:
                    kv = {}
                    for x in w[4:]:
                        k, _, v = x.partition("=")
                        try:
                            kv[k] = float(v)
                        except ValueError:
                            pass
                    self.runs[(w[0], w[1], w[2])].append(kv)

    @property
    def main(self):
        """The squid variant sections 1, 2, 4 and 5 measure (older results: ec)."""
        return self.meta.get("main_variant", "ec")

    def vals(self, sec, var, case, key):
        return [r[key] for r in self.runs.get((sec, var, case), []) if key in r]

    def med(self, sec, var, case, key):
        return median(self.vals(sec, var, case, key))

    def negotiated(self, var, tool):
        c = self.tls.get((var, tool))
        if not c:
            return "?"
        v, _ = c.most_common(1)[0]
        return v.replace("TLS/", "TLS ")


def hello(line):
    kv = dict(x.split("=", 1) for x in line.split() if "=" in x)
    if not kv:
        return "?"
    vers = kv.get("versions", "-")
    vers = "TLS " + (vers.replace(",", "/") if vers != "-" else kv.get("max_version", "?") + " at most")
    return "%s, groups %s, %s cipher suites" % (
        vers, kv.get("groups", "?").replace(",", ", "), kv.get("suites", "?"))


VARIANT_NAMES = {
    "envoy": "Envoy-shaped (server's order, Envoy's suites, groups X25519, P-256), Let's "
             "Encrypt-shaped chain: P-256 leaf, P-384 intermediate, cross-signed P-384 root",
    "ec": "EC P-256 certificate, client's group order (squid default)",
    "ecsrv": "EC P-256 certificate, server's order (`tls-options=CIPHER_SERVER_PREFERENCE`)",
    "rsa": "RSA-2048 certificate (signed by the EC CA), client's order",
    "rsasrv": "RSA-2048 certificate, server's order",
}


def cgfn(R, name, label_start):
    c = R.cg.get(name)
    if not c:
        return None
    for n, label in c["fn"]:
        if label.startswith(label_start):
            return n / 1e6
    return 0.0


def findings(R):
    """Sentences with this run's numbers; a sentence whose data is missing is left out."""
    out = []
    med = R.med
    M = R.main
    pt_w, pt_c = med("open", M, "pt", "wall_us"), med("open", M, "pt", "cpu_us")
    hot_w, hot_c = med("open", M, "pp-hot", "wall_us"), med("open", M, "pp-hot", "cpu_us")
    full_w, full_c = med("open", M, "pp-full", "wall_us"), med("open", M, "pp-full", "cpu_us")
    first_w, first_c = med("open", M, "pp-first", "wall_us"), med("open", M, "pp-first", "cpu_us")
    cold_w = med("open", M, "pp-cold", "wall_us")
    cg = R.cg
    if hot_w == hot_w and pt_w == pt_w:
        s = ("**Tunnel open, normal case**: pom-proxy %s ms against proxytunnel's %s ms (wall ratio "
             "%s), %s ms of CPU against %s. It resumes the TLS session squid handed out on the "
             "previous run and never reads the trust store; proxytunnel keeps no session, so it "
             "does a full TLS 1.3 handshake every time, after loading and initialising libssl and "
             "libcrypto" % (ms(hot_w), ms(pt_w), ratio(hot_w, pt_w), ms(hot_c), ms(pt_c)))
        if "pt-main" in cg and "pp-hot-main" in cg:
            o = cg["pt-main"]["obj"]
            s += (" (%.1f Mi instructions per run, %.1f Mi of them in ld.so and libc, against "
                  "%.1f Mi for all of a resumed pom-proxy run)" % (
                      cg["pt-main"]["total"] / 1e6, (o.get("ld.so", 0) + o.get("libc", 0)) / 1e6,
                      cg["pp-hot-main"]["total"] / 1e6))
        out.append(s + ".")
    for case, w, c, what in (("pp-first", first_w, first_c,
                              "**First contact** (no TLS session, no verified chain cached)"),
                             ("pp-full", full_w, full_c,
                              "**Repeat visit without a session** (the verified-chain cache kept)")):
        if w != w or pt_w != pt_w:
            continue
        s = ("%s: %s ms (wall ratio %s), %s ms of CPU (ratio %s). The full TLS 1.2 handshake is "
             "elliptic-curve arithmetic in BearSSL's portable constant-time code" % (
                 what, ms(w), ratio(w, pt_w), ms(c), ratio(c, pt_c)))
        k = case + "-main"
        tot = cg[k]["total"] if k in cg else None
        chain = cgfn(R, k, "certificate signature")
        allv = cgfn(R, k, "ECDSA checks")
        ecdhe = cgfn(R, k, "ECDHE")
        if tot and not chain:
            s += (": of %.1f Mi instructions, none checks a certificate's signature (the chain "
                  "is byte for byte one verified before, found in the verified-chain cache; "
                  "validity periods are still checked), %.1f Mi check the ServerKeyExchange "
                  "signature (the leaf's P-256 key still proves the handshake), %.1f Mi the "
                  "ECDHE" % (tot / 1e6, allv or 0, ecdhe or 0))
        elif tot:
            s += (": of %.1f Mi instructions, %.1f Mi verify the chain's signatures in "
                  "x509_minimal (`verify_signature`: the Let's Encrypt-shaped chain's two P-384 "
                  "ECDSA signatures in the generic `br_ec_prime_i31` code, `run_code`/"
                  "`br_i31_montymul` in the profile), %.1f Mi the ServerKeyExchange signature "
                  "(the leaf's P-256 key, the engine's faster `p256_m31`), %.1f Mi the ECDHE" % (
                      tot / 1e6, chain or 0, (allv or 0) - (chain or 0), ecdhe or 0))
        out.append(s + ".")
    g_ec, g_srv = med("open", "ec", "pp-full", "cpu_us"), med("open", "ecsrv", "pp-full", "cpu_us")
    if g_srv == g_srv:
        s = ("**ECDHE group**: squid follows the client's order by default, so pom-proxy (BearSSL "
             "0.6 offers P-256 first) gets P-256 while proxytunnel gets X25519; with "
             "`tls-options=CIPHER_SERVER_PREFERENCE` both get X25519")
        tot = {k: cg[k]["total"] / 1e6 for k in ("pp-full-ec", "pp-full-ecsrv", "pp-full-rsa",
                                                 "pp-full-rsasrv") if k in cg}
        e1, e2 = cgfn(R, "pp-full-ec", "ECDHE"), cgfn(R, "pp-full-ecsrv", "ECDHE")
        if len(tot) == 4 and e1 and e2:
            s += (". That saves less than one might think: ECDHE goes from %.1f to %.1f Mi "
                  "instructions, the full handshake from %.1f to %.1f Mi (%.0f %%). An RSA server "
                  "certificate (still signed by the EC CA) turns the ServerKeyExchange check into "
                  "an RSA one: %.1f Mi, %.1f Mi with X25519 as well. The chain's ECDSA check in "
                  "the generic curve code stays in every setup. Measured CPU for these setups "
                  "(table above: %s, %s, %s and %s ms) differs by less than the run-to-run noise "
                  "of a shared machine; the instruction counts are the reliable comparison" % (
                      e1, e2, tot["pp-full-ec"], tot["pp-full-ecsrv"],
                      100 * (tot["pp-full-ecsrv"] / tot["pp-full-ec"] - 1),
                      tot["pp-full-rsa"], tot["pp-full-rsasrv"], ms(g_ec), ms(g_srv),
                      ms(med("open", "rsa", "pp-full", "cpu_us")),
                      ms(med("open", "rsasrv", "pp-full", "cpu_us"))))
        out.append(s + ".")
    if cold_w == cold_w:
        s = ("**Cold start**: %s ms the first time (empty cache), once per change of the trust "
             "store: the 144-certificate bundle is decoded and the anchor cache written" % ms(cold_w))
        d = cgfn(R, "pp-cold-main", "X.509 decoding")
        if d and "pp-cold-main" in cg:
            s += " (%.1f of %.1f Mi instructions in `br_x509_decoder_run`)" % (d, cg["pp-cold-main"]["total"] / 1e6)
        out.append(s + ".")
    a = R.runs.get(("down", M, "pp-hot"))
    b = R.runs.get(("down", M, "pt"))
    if a and b:
        def per(runs, key, field):
            return median([r[key] / 1e6 / (r[field] / GiB) for r in runs])
        s = ("**Bulk**: pom-proxy's user CPU per GiB is %s (download) and %s (upload) of "
             "proxytunnel's — AES-GCM on AES-NI/PCLMUL in both — but its system time is %s and %s" % (
                 ratio(per(a, "user_us", "bytes"), per(b, "user_us", "bytes")),
                 ratio(per(R.runs.get(("up", M, "pp-hot"), a), "user_us", "sent"),
                       per(R.runs.get(("up", M, "pt"), b), "user_us", "sent")),
                 ratio(per(a, "sys_us", "bytes"), per(b, "sys_us", "bytes")),
                 ratio(per(R.runs.get(("up", M, "pp-hot"), a), "sys_us", "sent"),
                       per(R.runs.get(("up", M, "pt"), b), "sys_us", "sent"))))
        polls = ("poll", "ppoll", "select", "pselect6")
        sd, sdt = R.sys.get(("down", "pp")), R.sys.get(("down", "pt"))
        su, sut = R.sys.get(("up", "pp")), R.sys.get(("up", "pt"))
        if sd and sdt and su and sut:
            s += (": it makes %.0f system calls per MiB downloaded (proxytunnel %.0f) and %.0f "
                  "uploaded (%.0f) — a poll before almost every read and write, two reads per "
                  "record (header, then body), and 16 KiB stdin reads where proxytunnel reads "
                  "64 KiB" % (sum(sd.values()), sum(sdt.values()), sum(su.values()), sum(sut.values())))
        out.append(s + ". Throughput itself is bounded by the shared CPUs (see squid's column).")
    fw, ft = med("fanout", M, "pp-hot", "wall_us"), med("fanout", M, "pt", "wall_us")
    ff = med("fanout", M, "pp-full", "wall_us")
    if fw == fw and ft == ft:
        out.append("**Fan-out**: 50 tunnels at once take %s ms with pom-proxy resuming sessions, "
                   "%s ms when all 50 do full handshakes, %s ms with proxytunnel." % (
                       ms(fw), ms(ff), ms(ft)))
    r1, r2, r0 = med("rtt", M, "pp-hot", "rtt_med_us"), med("rtt", M, "pt", "rtt_med_us"), \
        med("rtt", M, "tcp", "rtt_med_us")
    if r1 == r1 and r2 == r2:
        out.append("**Interactive**: a 64-byte round trip costs %.0f µs through pom-proxy and %.0f "
                   "through proxytunnel, against %.0f µs direct: each tunnel adds two processes "
                   "(the tool and squid) and their wake-ups in each direction; the crypto on 64 "
                   "bytes is negligible. These figures move most with other load on the machine." % (
                       r1, r2, r0))
    return out


def report(path):
    R = Results(path)
    m = R.meta
    out = []
    p = out.append
    quick = m.get("quick") == "1"
    M = R.main
    groups = {v: (m.get("group_" + v, "? ?").split() + ["?", "?"])[:2] for v in VARIANT_NAMES}
    pp_size = [int(x) for x in m.get("size_pp", "0 0").split()]
    pt_size = [int(x) for x in m.get("size_pt", "0 0").split()]

    def libs(key):
        items = [x.split(":") for x in m.get(key, "").split()]
        return [(n, int(s)) for n, s in items]

    p("# Benchmarks: pom-proxy against proxytunnel")
    p("")
    p("Generated by `make bench%s` (bench/run.sh) on %s." % (" BENCH_FLAGS=--quick" if quick else "", m.get("date", "?")))
    p("")
    p("- Machine: %s, %s vCPU (aes/pclmulqdq/avx2: %s), Linux %s" % (
        m.get("cpu", "?"), m.get("nproc", "?"), m.get("aes", "?"), m.get("kernel", "?")))
    p("- pom-proxy: %s (git %s), BearSSL %s linked statically" % (
        re.sub(r"^pom-proxy ", "", m.get("pom_version", "?")), m.get("pom_git", "?"),
        m.get("bearssl", "?")))
    p("- proxytunnel: %s (Debian package), OpenSSL %s; proxy: squid %s" % (
        m.get("pt_version", "?"), m.get("openssl", "?"), m.get("squid", "?")))
    p("- Load average (1, 5, 15 min) just before the run: %s. Other work on the machine makes "
      "wall times noisier (see the p10–p90 spreads); the CPU figures are the steadier ones" % (
          m.get("load_start", "?")))
    p("- Rounds: %s%s" % (m.get("rounds", "?"), " — **quick run: fewer rounds, smaller transfers; "
                          "use the full run for figures to quote**" if quick else ""))
    p("")
    p("Everything runs on 127.0.0.1: squid (an `https_port` with the test PKI) is the "
      "CONNECT proxy for **both** tools, a small C server (bench/upstream.c) is the far end. "
      "A C harness (bench/harness.c) runs each tool as ssh runs a ProxyCommand: stdin and "
      "stdout are pipes and stdin stays open until the tool has exited. The tools alternate, "
      "the order rotating every round; figures are medians. **ratio = pom-proxy / proxytunnel** "
      "(below 1: pom-proxy is faster, cheaper or smaller).")
    p("")
    p("pom-proxy: `pom-proxy --pomerium-url https://localhost:PORT --alternate-ca-path ca.pem DEST` "
      "(the system trust store plus the test CA and the test P-384 root, as a system store holds "
      "ISRG Root X2; its anchor, verified-chain and session caches in a private "
      "`$XDG_CACHE_HOME`). proxytunnel, in its fastest trust setup: `proxytunnel -q -E -C DIR "
      "-p localhost:PORT -d DEST`, DIR a hashed directory (`openssl rehash`) of the system "
      "certificates plus the same two test roots.")
    p("")

    # ---------------------------------------------------------- 1
    p("## 1. Tunnel open: exec → TLS → CONNECT → 40 bytes from the upstream → exit")
    p("")
    gp, gt = groups[M]
    p("Squid set up as %s. pom-proxy negotiates %s with %s; proxytunnel %s with %s." % (
        VARIANT_NAMES.get(M, M) if M != "envoy" else
        "Pomerium sets up Envoy for TLS 1.2 (the server's order, Envoy's TLS 1.2 suites, groups "
        "X25519 then P-256; TLS 1.3 allowed) with a chain shaped like the Let's Encrypt ones "
        "Pomerium's autocert obtains (P-256 leaf, P-384 intermediate, P-384 root also "
        "cross-signed by an RSA-4096 root; the client trusts the P-384 root, so its path ends "
        "at the intermediate)", R.negotiated(M, "pp"), gp, R.negotiated(M, "pt"), gt))
    p("")
    p("| case | wall ms, median | p10–p90 | CPU ms (user+sys) | peak RSS | wall ratio | CPU ratio | runs |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|")
    ptw = R.med("open", M, "pt", "wall_us")
    ptc = R.med("open", M, "pt", "cpu_us")
    rows = [("proxytunnel", "pt"),
            ("**pom-proxy, hot** (anchor cache + TLS session resumed: the normal case)", "pp-hot"),
            ("pom-proxy, **repeat**: full handshake, no session; anchor and verified-chain caches kept", "pp-full"),
            ("pom-proxy, **first contact**: full handshake, anchors cached (no session, no verified chain)", "pp-first"),
            ("pom-proxy, **cold** (first run: empty cache, the 144-certificate bundle decoded)", "pp-cold")]
    for label, case in rows:
        w = R.vals("open", M, case, "wall_us")
        c = R.vals("open", M, case, "cpu_us")
        rss = R.med("open", M, case, "maxrss_kb")
        if not w:
            continue
        p("| %s | %s | %s–%s | %s | %s | %s | %s | %d |" % (
            label, ms(median(w)), ms(pct(w, 10)), ms(pct(w, 90)), ms(median(c)), mib(rss),
            "1" if case == "pt" else ratio(median(w), ptw),
            "1" if case == "pt" else ratio(median(c), ptc), len(w)))
    p("")
    res = m.get("resume_" + M, "?")
    p("pom-proxy's own `-v` said, after its session file was removed: *%s*; on the next run: *%s*. "
      "Squid resumes TLS 1.2 sessions by ID, so the hot case skips the key exchange and the "
      "certificate checks; proxytunnel keeps no session between processes." % (
          res.rsplit(" ", 1)[0], res.rsplit(" ", 1)[-1]))
    p("")
    if R.vals("open", M, "pp-first", "cpu_us"):
        p("### Full handshakes against proxytunnel")
        p("")
        p("Every TLS 1.2 handshake without a session is a full one: the first connection, after "
          "the session's hour, and whenever Pomerium runs as several replicas behind a load "
          "balancer (their session caches are not shared). *First contact*: pom-proxy's TLS "
          "session and verified-chain cache (`verified-chains`) removed before each run, the "
          "anchor cache kept; *repeat*: only the TLS session removed. proxytunnel does the same "
          "full handshake (TLS 1.3) every time. Goal for repeat: at most 0.6× proxytunnel's CPU.%s" % {
              "no": " **This build keeps no verified-chain cache** (no `verified-chains` file "
                    "appeared in its cache directory during the run): both states do the same work.",
              "yes": " This build keeps a verified-chain cache (its `verified-chains` file was "
                     "there after the repeat runs)."}.get(m.get("chain_cache"), ""))
        p("")
        p("| full handshake | pom-proxy CPU ms | proxytunnel CPU ms | CPU ratio | pom-proxy wall ms | proxytunnel wall ms | wall ratio |")
        p("|---|---:|---:|---:|---:|---:|---:|")
        for case, name in (("pp-first", "first contact"), ("pp-full", "repeat")):
            c, w = R.med("open", M, case, "cpu_us"), R.med("open", M, case, "wall_us")
            p("| %s | %s | %s | **%s** | %s | %s | %s |" % (
                name, ms(c), ms(ptc), ratio(c, ptc), ms(w), ms(ptw), ratio(w, ptw)))
        p("")

    p("### The same with other squid setups")
    p("")
    p("What the ClientHellos offer (caught by bench/hello.py): pom-proxy %s; proxytunnel %s. "
      "Squid (OpenSSL) picks the ECDHE group in the client's order unless told to prefer its own "
      "(OpenSSL's server order starts with X25519). The group each tool gets is what "
      "`openssl s_client` reports with the same offer; version and cipher come from squid's "
      "access log." % (hello(m.get("hello_pp", "")), hello(m.get("hello_pt", ""))))
    p("")
    p("| squid setup | pom-proxy gets | proxytunnel gets | pom hot ms | pom full-handshake ms | proxytunnel ms | full/pt wall | pom full CPU ms | pt CPU ms | full/pt CPU |")
    p("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for v, name in VARIANT_NAMES.items():
        if not R.vals("open", v, "pt", "wall_us"):
            continue
        gpp, gpt = groups[v]
        fw, tw = R.med("open", v, "pp-full", "wall_us"), R.med("open", v, "pt", "wall_us")
        fc, tc = R.med("open", v, "pp-full", "cpu_us"), R.med("open", v, "pt", "cpu_us")
        p("| %s | %s, %s | %s, %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, R.negotiated(v, "pp"), gpp, R.negotiated(v, "pt"), gpt,
            ms(R.med("open", v, "pp-hot", "wall_us")), ms(fw), ms(tw), ratio(fw, tw),
            ms(fc), ms(tc), ratio(fc, tc)))
    p("")

    # ---------------------------------------------------------- 2
    bulk = int(m.get("bulk_bytes", "0") or 0)
    p("## 2. Bulk transfer: %d MiB through the tunnel (%s)" % (bulk // MiB, "the Envoy-shaped squid" if M == "envoy" else "squid default setup"))
    p("")
    p("Download: the upstream sends the bytes and closes; upload: the harness writes them into "
      "the tool's stdin and the upstream confirms the count. CPU is the tool process's own "
      "(wait4 rusage), per GiB moved; squid's CPU for the same transfer is shown for scale.")
    p("")
    p("| direction | tool | MiB/s | user s/GiB | sys s/GiB | CPU s/GiB | peak RSS | squid CPU s/GiB | runs |")
    p("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    bulk_cmp = {}
    for sec, dname in (("down", "download"), ("up", "upload")):
        for case, tname in (("pp-hot", "pom-proxy"), ("pt", "proxytunnel")):
            runs = R.runs.get((sec, M, case), [])
            if not runs:
                continue
            nbytes = [r.get("bytes") if sec == "down" else r.get("sent") for r in runs]
            thr = median([b / MiB / (r["wall_us"] / 1e6) for b, r in zip(nbytes, runs)])
            gib = [b / GiB for b in nbytes]
            u = median([r["user_us"] / 1e6 / g for r, g in zip(runs, gib)])
            s = median([r["sys_us"] / 1e6 / g for r, g in zip(runs, gib)])
            c = median([r["cpu_us"] / 1e6 / g for r, g in zip(runs, gib)])
            sq = median([t / g for t, g in zip(R.squid.get((sec, M, case), []), gib)])
            rss = median([r["maxrss_kb"] for r in runs])
            bulk_cmp[(sec, case)] = (thr, u, s, c)
            p("| %s | %s | %.0f | %.3f | %.3f | %.3f | %s | %.2f | %d |" % (
                dname, tname, thr, u, s, c, mib(rss), sq, len(runs)))
        a, b = bulk_cmp.get((sec, "pp-hot")), bulk_cmp.get((sec, "pt"))
        if a and b:
            p("| %s | *ratio* | %s | %s | %s | %s | | | |" % (
                dname, ratio(a[0], b[0]), ratio(a[1], b[1]), ratio(a[2], b[2]), ratio(a[3], b[3])))
    p("")

    if R.sys:
        p("System calls per MiB moved, counted with `strace -c` on a separate 64 MiB transfer "
          "each way (a 16 KiB TLS record is 1/64 MiB):")
        p("")
        p("| direction | tool | read | write | poll/select | all |")
        p("|---|---|---:|---:|---:|---:|")
        polls = ("poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait")
        for sec, dname in (("down", "download"), ("up", "upload")):
            for tool, tname in (("pp", "pom-proxy"), ("pt", "proxytunnel")):
                c = R.sys.get((sec, tool))
                if not c:
                    continue
                p("| %s | %s | %.0f | %.0f | %.0f | %.0f |" % (
                    dname, tname, c["read"], c["write"], sum(c[x] for x in polls), sum(c.values())))
        p("")

    # ---------------------------------------------------------- 3
    p("## 3. Size and memory")
    p("")
    ptl = libs("libs_pt")
    ppl = libs("libs_pp")
    p("| | pom-proxy | proxytunnel | ratio |")
    p("|---|---:|---:|---:|")
    p("| executable, as built | %d KiB | %d KiB | |" % (pp_size[0] // 1024, pt_size[0] // 1024))
    p("| executable, stripped | **%d KiB** (BearSSL inside) | **%d KiB** | %s |" % (
        pp_size[1] // 1024, pt_size[1] // 1024, ratio(pp_size[1], pt_size[1])))
    p("| shared libraries | %s | %s | |" % (
        ", ".join("%s %d KiB" % (n, s // 1024) for n, s in ppl),
        ", ".join("%s %d KiB" % (n, s // 1024) for n, s in ptl)))
    nolibc = lambda L: sum(s for n, s in L if not n.startswith("libc.so"))
    p("| code outside libc (stripped executable + its own libraries) | %d KiB | %d KiB | %s |" % (
        (pp_size[1] + nolibc(ppl)) // 1024, (pt_size[1] + nolibc(ptl)) // 1024,
        ratio(pp_size[1] + nolibc(ppl), pt_size[1] + nolibc(ptl))))
    for label, sec, case in (("peak RSS, tunnel open (hot)", "open", "pp-hot"),
                             ("peak RSS, tunnel open (cold)", "open", "pp-cold"),
                             ("peak RSS, bulk download", "down", "pp-hot"),
                             ("peak RSS, bulk upload", "up", "pp-hot")):
        a = R.med(sec, M, case, "maxrss_kb")
        b = R.med(sec, M, "pt", "maxrss_kb")
        if a == a:
            p("| %s | %s | %s | %s |" % (label, mib(a), mib(b), ratio(a, b)))
    p("")
    p("Peak RSS (ru_maxrss) counts every resident page, including the shared pages of "
      "libssl/libcrypto/libc that other processes share.")
    p("")

    # ---------------------------------------------------------- 4
    rc = m.get("rtt", "")
    p("## 4. Interactive latency: 64-byte round trips to an echo upstream")
    p("")
    p("%s. Each run: one tunnel (or one direct TCP connection to the same echo server), "
      "warm-up round trips discarded, then each round trip timed (write 64 bytes into the "
      "tool's stdin, read 64 bytes back from its stdout). Figures are medians over runs of each "
      "run's percentile." % rc.replace("count=", "round trips per run: ").replace(" size=", ", bytes: ").replace(" warmup=", ", warm-up: "))
    p("")
    p("| path | median µs | p90 µs | p99 µs | mean µs | median over direct TCP | runs |")
    p("|---|---:|---:|---:|---:|---:|---:|")
    direct = R.med("rtt", M, "tcp", "rtt_med_us")
    rt = {}
    for case, name in (("tcp", "direct TCP (no tunnel)"), ("pp-hot", "pom-proxy tunnel"),
                       ("pt", "proxytunnel tunnel")):
        if not R.vals("rtt", M, case, "rtt_med_us"):
            continue
        md = R.med("rtt", M, case, "rtt_med_us")
        rt[case] = md
        p("| %s | %.1f | %.1f | %.1f | %.1f | %s | %d |" % (
            name, md, R.med("rtt", M, case, "rtt_p90_us"), R.med("rtt", M, case, "rtt_p99_us"),
            R.med("rtt", M, case, "rtt_mean_us"),
            "–" if case == "tcp" else "+%.1f µs" % (md - direct),
            len(R.vals("rtt", M, case, "rtt_med_us"))))
    if "pp-hot" in rt and "pt" in rt:
        p("| *ratio pom-proxy / proxytunnel* | %s | | | | %s | |" % (
            ratio(rt["pp-hot"], rt["pt"]), ratio(rt["pp-hot"] - direct, rt["pt"] - direct)))
    p("")

    # ---------------------------------------------------------- 5
    n = m.get("fan_n", "50")
    p("## 5. Fan-out: %s tunnels opened at once (each exec → 40 bytes → exit)" % n)
    p("")
    p("| case | total wall ms, median | slowest tunnel ms | median tunnel ms | CPU of all %s, ms | wall ratio | CPU ratio | runs |" % n)
    p("|---|---:|---:|---:|---:|---:|---:|---:|")
    tw = R.med("fanout", M, "pt", "wall_us")
    tc = R.med("fanout", M, "pt", "cpu_us")
    for case, name in (("pt", "proxytunnel"), ("pp-hot", "pom-proxy, hot (sessions resumed)"),
                       ("pp-full", "pom-proxy, no session cached (%s full handshakes)" % n)):
        if not R.vals("fanout", M, case, "wall_us"):
            continue
        w = R.med("fanout", M, case, "wall_us")
        c = R.med("fanout", M, case, "cpu_us")
        p("| %s | %s | %s | %s | %s | %s | %s | %d |" % (
            name, ms(w), ms(R.med("fanout", M, case, "each_max_us")),
            ms(R.med("fanout", M, case, "each_med_us")), ms(c),
            "1" if case == "pt" else ratio(w, tw), "1" if case == "pt" else ratio(c, tc),
            len(R.vals("fanout", M, case, "wall_us"))))
    p("")
    fr = m.get("fanout_resumed", "? ?").split()
    p("With %s vCPU, squid's 50 handshakes and the tools compete for the same cores: the total "
      "wall time is mostly CPU, squid's included. Check after the timed rounds: %s of %s "
      "pom-proxy processes of a hot fan-out run with `-v` said they resumed. (Squid runs with "
      "`sslproxy_session_cache_size 32 MB`: with its default 2 MB, the 50 sessions of a "
      "proxytunnel fan-out sometimes evicted pom-proxy's, and then all 50 did full handshakes.)" % (
          m.get("nproc", "?"), fr[0], fr[-1]))
    p("")

    # ---------------------------------------------------------- 6
    if R.cg:
        p("## 6. Instructions per tunnel open (callgrind, one run each)")
        p("")
        p("Deterministic counts (`valgrind --tool=callgrind`, instructions executed in user space by "
          "the tool process, dynamic loading included; system calls and page faults are not "
          "counted, so wall time does not follow these figures one to one).")
        p("")
        p("| run | total Mi | program (pom-proxy incl. BearSSL / proxytunnel) | libcrypto + libssl | libc | ld.so |")
        p("|---|---:|---:|---:|---:|---:|")
        names = {"pp-hot-main": "pom-proxy hot (resumed), Envoy-shaped squid",
                 "pp-full-main": "pom-proxy repeat (no session, verified-chain cache kept), Envoy-shaped squid",
                 "pp-first-main": "pom-proxy first contact (no session, no verified chain), Envoy-shaped squid",
                 "pp-cold-main": "pom-proxy cold, Envoy-shaped squid",
                 "pt-main": "proxytunnel, Envoy-shaped squid",
                 "pp-hot-ec": "pom-proxy hot (resumed), default squid",
                 "pp-full-ec": "pom-proxy full handshake, default squid (P-256)",
                 "pp-cold-ec": "pom-proxy cold, default squid",
                 "pt-ec": "proxytunnel, default squid",
                 "pp-full-ecsrv": "pom-proxy full handshake, server's order (X25519)",
                 "pt-ecsrv": "proxytunnel, server's order",
                 "pp-full-rsa": "pom-proxy full handshake, RSA cert (P-256)",
                 "pp-full-rsasrv": "pom-proxy full handshake, RSA cert, server's order (X25519)"}
        for k, name in names.items():
            c = R.cg.get(k)
            if not c:
                continue
            o = c["obj"]
            f = lambda x: "%.1f" % (x / 1e6)
            p("| %s | **%s** | %s | %s | %s | %s |" % (
                name, f(c["total"]), f(o.get("program", 0)),
                f(o.get("libcrypto", 0) + o.get("libssl", 0)), f(o.get("libc", 0)), f(o.get("ld.so", 0))))
        p("")
        for k in ("pp-first-main", "pp-full-main", "pp-cold-main", "pp-full-ec", "pp-full-ecsrv",
                  "pp-full-rsa", "pp-cold-ec"):
            c = R.cg.get(k)
            if not c or not c["fn"]:
                continue
            p("Where pom-proxy's instructions go — %s (inclusive, Mi of %.1f):" % (
                names[k], c["total"] / 1e6))
            p("")
            p("| part | Mi | share |")
            p("|---|---:|---:|")
            for n_, label in c["fn"]:
                p("| %s | %.1f | %.0f %% |" % (label, n_ / 1e6, 100 * n_ / c["total"]))
            p("")
        c = R.cg.get("pp-first-main")
        if c and c["top"]:
            p("Top functions by own cost, pom-proxy first contact (Envoy-shaped squid): " + ", ".join(
                "`%s` %.1f Mi" % (fn, n_ / 1e6) for n_, fn, obj in c["top"]) + ".")
            p("")

    # ---------------------------------------------------------- 7
    lat = dict(x.split("=", 1) for x in m.get("latency", "").split() if "=" in x)
    if lat and R.vals("lat", "lat", "pt", "wall_us") and R.vals("lat", "lat2", "pt", "wall_us"):
        d1, d2 = float(lat.get("delay_ms", "10")), float(lat.get("delay2_ms", "30"))
        c1 = R.med("lat", "lat", "tcp", "rtt_med_us") / 1000
        c2 = R.med("lat", "lat2", "tcp", "rtt_med_us") / 1000
        p("## 7. Round trips: the tunnel open over a slow link")
        p("")
        p("bench/delay.py, a relay on loopback, holds each chunk it reads for a fixed time in each "
          "direction before passing it on (in order, per read, not per byte), in front of the "
          "Envoy-shaped squid: %g ms each way, then %g ms (a 64-byte echo through relays of the "
          "same delays measured %.2f and %.2f ms per round trip). **Round trips** = the growth of "
          "the median wall time between the two relays / the growth of the round trip (%.2f ms): "
          "the tool's CPU and start-up cancel out. The relay cannot delay TCP's own handshake "
          "(the kernel answers the SYN), so what it counts is the TLS handshake and the CONNECT "
          "exchange; TCP adds 1. Counting for a client that sends CONNECT as soon as its "
          "handshake allows: TLS 1.2 resumed 1 round trip (ServerHello and Finished come back; "
          "the client's Finished and the CONNECT leave together), TLS 1.2 full 2 (without False "
          "Start the client waits for the server's Finished), TLS 1.3 full 1; then CONNECT "
          "request → 200 1. *At 100 ms*: the wall time at the first relay, plus "
          "(round trips measured) × (100 − %.1f) ms, plus 100 ms for TCP's connect." % (
              d1, d2, c1, c2, c2 - c1, c1))
        p("")
        p("| client, case | wall ms at %.1f ms RTT | wall ms at %.1f ms RTT | round trips measured | floor after TCP | total with TCP | at 100 ms RTT | runs |" % (c1, c2))
        p("|---|---:|---:|---:|---:|---:|---:|---:|")
        rows = [("pom-proxy, TLS 1.2 resumed (hot)", "pp-hot", 2),
                ("pom-proxy, TLS 1.2 full, repeat (verified-chain cache kept)", "pp-full", 3),
                ("pom-proxy, TLS 1.2 full, first contact", "pp-first", 3),
                ("proxytunnel, TLS 1.3 full (it keeps no session)", "pt", 2)]
        for name, case, floor in rows:
            w1 = R.med("lat", "lat", case, "wall_us") / 1000
            w2 = R.med("lat", "lat2", case, "wall_us") / 1000
            if w1 != w1 or w2 != w2:
                continue
            nrt = (w2 - w1) / (c2 - c1)
            p("| %s | %.1f | %.1f | **%.2f** | %d | %d | %.0f ms | %d |" % (
                name, w1, w2, nrt, floor, floor + 1, w1 + nrt * (100 - c1) + 100,
                len(R.vals("lat", "lat", case, "wall_us")) + len(R.vals("lat", "lat2", case, "wall_us"))))
        p("| pomerium-cli (computed from its source, not measured) | | | | 5 | 6 | 600 ms + its CPU | |")
        p("")
        p("pomerium-cli (`tunnel/tunnel_tcp.go`, `pickTCPTunneler`) sends a probe `GET "
          "https://proxy/` with its own `http.Client` before the first tunnel of each process "
          "(ssh starts one process per connection), looking for `h3` in Alt-Svc: TCP 1 + TLS "
          "1.3 1 + GET 1; then `tunnel_http1.go` dials a second TLS connection for the CONNECT "
          "(no `ClientSessionCache`, so no resumption): TCP 1 + TLS 1.3 1 + CONNECT 1 — 6 round "
          "trips in all, against pom-proxy's 3 when it resumes and 4 when it cannot. pom-proxy's "
          "own `-v` through the relay, after a run that left a session: *%s*." % m.get("lat_resume", "?"))
        p("")

    # ---------------------------------------------------------- reading
    f = findings(R)
    if f:
        p("## Reading the figures")
        p("")
        for x in f:
            p("- " + x)
        p("")

    # ---------------------------------------------------------- notes
    p("## How each figure is measured")
    p("")
    p("- **Wall time** runs from just before `fork()` to the return of `wait4()` for the tool; "
      "the harness checks every run (exactly 40 bytes delivered, every downloaded byte counted, "
      "the uploaded byte count confirmed by the upstream, every echo identical) and fails the "
      "benchmark otherwise.")
    p("- **CPU** and **peak RSS** are the tool process's own `wait4` rusage (user + sys; the "
      "split is shown only for bulk, where the tick-based split means something).")
    p("- **Cold**: pom-proxy's cache directory emptied before each run (the CA bundle file stays "
      "in the page cache). **First contact**: its TLS session and its verified-chain cache "
      "removed (anchors from the cache). **Repeat** (full handshake): only its TLS session "
      "removed. **Hot**: as left by the previous run (session resumed, anchors from the cache).")
    p("- **Bulk**: one tunnel moves the whole payload; throughput is bytes / wall time, "
      "handshake included. Pipes are Linux's default 64 KiB, like ssh's.")
    p("- **Interactive**: the session ends like ssh ends a ProxyCommand (stdin closed, SIGHUP).")
    p("- **Fan-out**: %s tools forked back to back; total wall from the first fork to the last "
      "exit; CPU is the sum over the tools." % n)
    p("- squid, the upstream server and the harness share the machine's %s vCPU with the tool: "
      "bulk throughput is bounded by the CPU of all four (squid spends about as much per GiB as "
      "the tool), so the CPU per GiB says more about a tool than the MiB/s." % m.get("nproc", "?"))
    p("")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--callgrind":
        callgrind(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    if len(sys.argv) != 2:
        sys.exit("usage: report.py RESULTS | report.py --callgrind NAME INCL SELF")
    sys.stdout.write(report(sys.argv[1]))


main()
