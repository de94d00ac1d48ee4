#!/usr/bin/env bash
# rewrite-bench.sh — address-rewriting (-bt) benchmark: our sendmail vs real sendmail 8.17.
#
# A benchmark, not a test: it times both binaries on the same large generated
# configuration and the same 20,000 "3,0 <address>" lines, and checks that the two
# transcripts are byte-identical (a benchmark on wrong output is meaningless).
#
#   contrib/bench/rewrite-bench.sh            build (release), generate, run, report
#
# Environment (all optional):
#   N=20000        number of address lines          RUNS=3   timed runs per binary (median)
#   SCALE=1        multiplies the size of every generated table/class
#   SEED=8170      seed of the address/table generator
#   NO_BUILD=1     skip `swift build -c release --product sendmail`
#   SM=/usr/libexec/sendmail/sendmail     the reference binary
#   OURS=<root>/.build/release/sendmail   the binary under test
#   BENCH_DIR=<root>/.build/bench         generated data and transcripts (must not be world-writable)
#   TIMEOUT=240    per-run timeout, seconds
#   CALLGRIND=1    also count instructions with valgrind on the first 2,000 lines (+2 min)
#
# Both binaries run as `unshare -u -m` with host name vm.example.test and
# -ODontProbeInterfaces=true. DNS is never used: the cf's ServiceSwitchFile says
# `hosts files` and HostsFile points at a generated hosts file; for glibc's own
# lookups (startup host name, [IP] literals) the private mount namespace binds that
# hosts file over /etc/hosts and a resolv.conf naming a dead 127.0.0.1 server.
# Needs: root (unshare -u), m4, sendmail-cf (/usr/share/sendmail/cf), makemap, python3.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
N=${N:-20000}; RUNS=${RUNS:-3}; SCALE=${SCALE:-1}; SEED=${SEED:-8170}
SM=${SM:-/usr/libexec/sendmail/sendmail}
OURS=${OURS:-$ROOT/.build/release/sendmail}
B=${BENCH_DIR:-$ROOT/.build/bench}
TIMEOUT=${TIMEOUT:-240}
CFDIR=${CFDIR:-/usr/share/sendmail/cf}
MAKEMAP=${MAKEMAP:-$(command -v makemap || echo /usr/libexec/sendmail/makemap)}
HOST=vm.example.test

say() { printf '%s\n' "$*" >&2; }
t_start=$(date +%s)

# ---------------------------------------------------------------- 1. build
if [ "${NO_BUILD:-0}" != 1 ]; then
    say "== building (release) in $ROOT"
    (cd "$ROOT" && nice swift build -c release --product sendmail 2>&1 | tail -3) >&2
fi
[ -x "$OURS" ] || { say "no binary at $OURS"; exit 1; }
[ -x "$SM" ] || { say "no reference sendmail at $SM"; exit 1; }

# ---------------------------------------------------------------- 2. generate
umask 022
mkdir -p "$B"; chmod 0755 "$B"
G="$B/data"; rm -rf "$G"; mkdir -m 0755 "$G"
say "== generating configuration and $N addresses in $G (SCALE=$SCALE SEED=$SEED)"

python3 - "$G" "$N" "$SCALE" "$SEED" <<'PY'
import os, random, sys
G, N, SCALE, SEED = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(SEED)
def w(name, lines):
    with open(os.path.join(G, name), "w") as f:
        for l in lines: f.write(l + "\n")

# sizes of the generated tables and classes
NLH   = 2000 * SCALE   # local host names in the Fw file        ($=w)
NCW   = 1000 * SCALE   # more local host names in Cw lines       ($=w)
NBIG  = 5000 * SCALE   # members of class {BenchBig} (F file)
NVD   = 200  * SCALE   # virtual domains                          ($={VirtHost})
NVU   = 25             # virtusertable users per virtual domain
NMT   = 3000 * SCALE   # mailertable entries (half host, half .subdomain)
NGEN  = 2000 * SCALE   # genericstable entries
NACC  = 3000 * SCALE   # access entries
NDOM  = 500  * SCALE   # domaintable entries
NBR   = 3000 * SCALE   # benchroute map entries
NHOST = 300            # hosts file entries (scanned linearly by $[ $])
NREL  = 500  * SCALE   # relay domains
NMASQ = 500  * SCALE   # masquerade domains
NLR0  = 400  * SCALE   # extra LOCAL_RULE_0 rules
NLR3  = 200  * SCALE   # extra LOCAL_RULE_3 rules
NUSR  = 300            # local user names used in addresses

w("switch", ["hosts files", "aliases files"])
# glibc lookups (the startup host name, gethostbyaddr for [IP] literals) must not reach a
# real name server: files first, then a dead local one that refuses at once.
w("resolv.conf", ["nameserver 127.0.0.1", "options timeout:1 attempts:1"])
w("hosts", ["127.0.0.1\tlocalhost", "127.0.1.1\tvm.example.test vm"] +
    [f"192.0.{2 + i // 250}.{1 + i % 250}\th{i}.example.com h{i}" for i in range(NHOST)])
w("aliases", ["postmaster: root", "mailer-daemon: postmaster"] +
    [f"alias{i}: user{i}" for i in range(100)])
w("local-host-names", [f"lh{i}.example.test" for i in range(NLH)])
w("bigclass", [f"big{i}.example.info" for i in range(NBIG)])
w("virtuser-domains", [f"virt{i}.example.com" for i in range(NVD)])
w("generics-domains", ["vm.example.test", "example.test"] + [f"gd{i}.example.test" for i in range(NGEN // 10)])
w("relay-domains", [f"rel{i}.example.org" for i in range(NREL)])
w("masquerade-domains", [f"mq{i}.example.test" for i in range(NMASQ)])

vu = []
for d in range(NVD):
    for u in range(NVU):
        k = rnd.randrange(3)
        rhs = (f"user{(d * NVU + u) % NUSR}" if k == 0 else
               f"fwd{u}@remote{d}.example.net" if k == 1 else
               "error:nouser 550 5.1.1 No such user here")
        vu.append(f"v{u}@virt{d}.example.com\t{rhs}")
    if d % 2 == 0:
        vu.append(f"@virt{d}.example.com\t%1@catchall{d}.example.net")
w("virtusertable", vu)
mt = []
for i in range(NMT):
    if i % 2 == 0: mt.append(f"mt{i}.example.net\tesmtp:[relay{i % 97}.example.net]")
    else:          mt.append(f".mtsub{i}.example.org\trelay:hub{i % 53}.example.org")
mt.append(".\tsmtp:smarthost.example.net")  # never reached for local names, but a real default route
w("mailertable", mt)
w("genericstable", [f"user{i}\tUser.Number{i}@example.test" for i in range(NGEN)])
acc = []
for i in range(NACC):
    k = i % 4
    acc.append([f"To:acc{i}.example.org\tRELAY", f"Connect:10.{i // 65536}.{i // 256 % 256}.{i % 256}\tOK",
                f"From:spam{i}.example.com\tREJECT", f"badguy{i}@example.org\tDISCARD"][k])
w("access", acc)
w("domaintable", [f"old{i}.example.com\tnew{i}.example.com" for i in range(NDOM)])
w("benchroute", [f"br{i}.example.biz\tgw{i % 50}.example.net" for i in range(NBR)])

# ------------------------------------------------------------------ .mc
mc = f"""divert(-1)
# generated by contrib/bench/rewrite-bench.sh — large configuration for -bt timing
divert(0)dnl
include(`CFDIR/m4/cf.m4')dnl
VERSIONID(`rewrite-bench')dnl
OSTYPE(`linux')dnl
define(`confSERVICE_SWITCH_FILE', `{G}/switch')dnl
define(`confHOSTS_FILE', `{G}/hosts')dnl
define(`confCW_FILE', `{G}/local-host-names')dnl
define(`ALIAS_FILE', `{G}/aliases')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`confTO_RESOLVER_RETRANS', `1s')dnl
define(`confTO_RESOLVER_RETRY', `1')dnl
define(`confMAX_HOP', `30')dnl
FEATURE(`use_cw_file')dnl
FEATURE(`access_db', `hash -T<TMPF> -o {G}/access')dnl
FEATURE(`blocklist_recipients')dnl
FEATURE(`virtusertable', `hash -o {G}/virtusertable')dnl
VIRTUSER_DOMAIN_FILE(`{G}/virtuser-domains')dnl
FEATURE(`mailertable', `hash -o {G}/mailertable')dnl
FEATURE(`genericstable', `hash -o {G}/genericstable')dnl
GENERICS_DOMAIN_FILE(`{G}/generics-domains')dnl
FEATURE(`domaintable', `hash -o {G}/domaintable')dnl
FEATURE(`relay_entire_domain')dnl
RELAY_DOMAIN_FILE(`{G}/relay-domains')dnl
MASQUERADE_AS(`example.test')dnl
MASQUERADE_DOMAIN_FILE(`{G}/masquerade-domains')dnl
FEATURE(`masquerade_envelope')dnl
FEATURE(`masquerade_entire_domain')dnl
FEATURE(`allmasquerade')dnl
MAILER(`local')dnl
MAILER(`smtp')dnl
MAILER(`uucp')dnl
LOCAL_CONFIG
# bench: more local host names in Cw lines
"""
names = [f"cw{i}.example.test" for i in range(NCW)]
for j in range(0, len(names), 10):
    mc += "Cw " + " ".join(names[j:j + 10]) + "\n"
mc += f"""# bench: a large class from a file, and a hash map used by ParseLocal
F{{BenchBig}}{G}/bigclass
Kbenchroute hash -o {G}/benchroute
C{{BenchDot}}.
LOCAL_RULE_3
# bench: old alias domains folded onto local names
"""
for i in range(NLR3):
    mc += f"R$* < @ alias{i} . example . com > $*\t$1 < @ lh{i % NLH}.example.test > $2\n"
mc += """LOCAL_RULE_0
# bench: + detail stripping via a named ruleset
R$+ + $* < @ $+ > $*\t$: $>BenchPlus $1 + $2 < @ $3 > $4
# bench: members of the big class go to one relay
R$* < @ $={BenchBig} $* > $*\t$#esmtp $@ bigrelay.example.net $: $1 < @ $2 $3 > $4
# bench: route by hash map
R$* < @ $* $~{BenchDot} > $*\t$: $1 < @ $2 $3 > $4 <$(benchroute $2 $3 $: NONE $)>
R$* < @ $+ . > $*\t$: $1 < @ $2 . > $3 <$(benchroute $2 $: NONE $)>
R$* < @ $+ > $* <NONE>\t$: $1 < @ $2 > $3
R$* < @ $+ > $* <$+>\t$#esmtp $@ $4 $: $1 < @ $2 > $3
# bench: per-domain rules
"""
for i in range(NLR0):
    mc += (f"R$* < @ lr{i} . example . com $* > $*\t"
           f"$#esmtp $@ [gw{i % 31}.example.net] $: $1 < @ lr{i}.example.com $2 > $3\n")
mc += """LOCAL_RULESETS
SBenchPlus
R$+ + $* < @ $+ > $*\t$: $1 < @ $3 > $4 <$2>
R$+ < @ $+ > $* < list $* >\t$@ $1 < @ $2 > $3
R$+ < @ $+ > $* < $* >\t$@ $1 < @ $2 > $3
"""
w("bench.mc", [mc.rstrip("\n")])

# ------------------------------------------------------------------ addresses
first = ["John", "Mary", "Jean-Luc", "O'Brien", "Zoë", "Li", "Ana María", "Smith, Jr."]
def dom_any():
    k = rnd.randrange(14)
    if k == 0:  return f"host{rnd.randrange(10**6)}.example.com"            # unknown remote
    if k == 1:  return f"lh{rnd.randrange(NLH)}.example.test"               # local (Fw)
    if k == 2:  return f"cw{rnd.randrange(NCW)}.example.test"               # local (Cw)
    if k == 3:  return f"virt{rnd.randrange(NVD)}.example.com"              # virtual
    if k == 4:  return f"mt{2 * rnd.randrange(NMT // 2)}.example.net"        # mailertable host
    if k == 5:  return f"a{rnd.randrange(9)}.mtsub{2 * rnd.randrange(NMT // 2) + 1}.example.org"  # mailertable .domain
    if k == 6:  return f"h{rnd.randrange(NHOST)}"                           # short name -> hosts file
    if k == 7:  return f"big{rnd.randrange(NBIG)}.example.info"             # big class
    if k == 8:  return f"br{rnd.randrange(NBR)}.example.biz"                # benchroute map
    if k == 9:  return f"lr{rnd.randrange(NLR0)}.example.com"               # LOCAL_RULE_0 rule
    if k == 10: return f"alias{rnd.randrange(NLR3)}.example.com"            # LOCAL_RULE_3 rule
    if k == 11: return f"old{rnd.randrange(NDOM)}.example.com"              # domaintable
    if k == 12: return f"[192.0.2.{rnd.randrange(1, 255)}]"                 # IP literal
    return "vm.example.test"                                                 # $j
def user():
    k = rnd.randrange(6)
    if k == 0: return f"user{rnd.randrange(NUSR)}"
    if k == 1: return f"v{rnd.randrange(NVU + 3)}"
    if k == 2: return f"First.Last{rnd.randrange(1000)}"
    if k == 3: return f"user{rnd.randrange(NUSR)}+tag{rnd.randrange(50)}"
    if k == 4: return rnd.choice(["root", "postmaster", "MAILER-DAEMON", "nobody", f"alias{rnd.randrange(100)}"])
    return f"x_{rnd.randrange(10**5)}-y"
def addr():
    k = rnd.randrange(20)
    u, d = user(), dom_any()
    if k <= 5:  return f"{u}@{d}"                                            # plain
    if k == 6:  return f'"{rnd.choice(first)} {rnd.randrange(99)}" <{u}@{d}>'  # quoted display name
    if k == 7:  return f"{rnd.choice(first).split()[0]} <{u}@{d}>"           # bare display name
    if k == 8:  return f"{u}@{d} ({rnd.choice(first)} comment)"              # trailing comment
    if k == 9:  return f"<@{dom_any()},@{dom_any()}:{u}@{d}>"                # source route
    if k == 10: return f"{u}%{dom_any()}@{d}"                                # % hack
    if k == 11: return f"{u}%{dom_any()}%{dom_any()}@{d}"                    # double % hack
    if k == 12: return f"h{rnd.randrange(NHOST)}!{u}"                        # one-hop ! path
    if k == 13: return f"uu{rnd.randrange(99)}!h{rnd.randrange(NHOST)}!{u}@{d}"  # mixed ! and @
    if k == 14: return f'"{u} quoted"@{d}'                                   # quoted local part
    if k == 15: return f'"{u}@inner.example"@{d}'                            # quoted @ in local part
    if k == 16: return u                                                     # local user, unqualified
    if k == 17: return f"<{u}@{d}>"                                          # angle addr
    if k == 18: return rnd.choice([f"{u}@{d}.", f"{u} @ {d}", f"<>", f"{u}@{d} (a (nested) c)",
                                   f"{u}\\@x@{d}", f"{u}@{d}:25"])
    return f"{u}@{d}"
with open(os.path.join(G, "addrs.txt"), "w") as f:
    for _ in range(N): f.write("3,0 " + addr() + "\n")
PY

sed -i "s|CFDIR|$CFDIR|" "$G/bench.mc"
m4 "$G/bench.mc" > "$G/bench.cf"
for m in access virtusertable mailertable genericstable domaintable benchroute; do
    "$MAKEMAP" hash "$G/$m" < "$G/$m"
done
chmod -R go-w "$G"
head -"$((N < 2000 ? N : 2000))" "$G/addrs.txt" > "$G/addrs-2000.txt"
: > "$G/empty.txt"
say "   cf: $(wc -l < "$G/bench.cf") lines, $(grep -c '^R' "$G/bench.cf") rules; maps: $(cd "$G" && ls *.db | tr '\n' ' ')"

# ---------------------------------------------------------------- 3. run and time
# runner: one process per binary run, wait4() rusage (wall, user+sys, peak RSS),
# stdout+stderr saved for the comparison.
run() {  # run LABEL BIN INPUT OUT  -> prints "wall user sys maxrss_kb rc"
    python3 - "$TIMEOUT" "$HOST" "$@" <<'PY'
import os, subprocess, sys, time
tmo, host, lab, binary, inp, out = sys.argv[1:7]
cf = os.environ["BENCH_CF"]
G = os.path.dirname(cf)
cmd = ["timeout", "-k", "5", tmo, "unshare", "-u", "-m", "--propagation", "private", "/bin/sh", "-c",
       f'hostname {host} && mount --bind {G}/resolv.conf /etc/resolv.conf && '
       f'mount --bind {G}/hosts /etc/hosts && exec "$0" "$@"', binary, "-bt", "-C", cf, "-ODontProbeInterfaces=true"]
env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TZ": "UTC", "LANG": "C", "LC_ALL": "C"}
with open(inp, "rb") as fi, open(out, "wb") as fo:
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=fi, stdout=fo, stderr=subprocess.STDOUT, env=env, cwd="/")
    _, status, ru = os.wait4(p.pid, 0)
    t1 = time.perf_counter()
print(f"{t1 - t0:.4f} {ru.ru_utime:.4f} {ru.ru_stime:.4f} {ru.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
PY
}
export BENCH_CF="$G/bench.cf"
R="$B/results"; rm -rf "$R"; mkdir -m 0755 "$R"

say "== warm-up (page cache, map files)"
run warm "$SM" "$G/addrs-2000.txt" "$R/warm-sm.out" >/dev/null
run warm "$OURS" "$G/addrs-2000.txt" "$R/warm-ours.out" >/dev/null

for r in $(seq "$RUNS"); do
    for who in sendmail ours; do
        bin=$SM; [ $who = ours ] && bin=$OURS
        say "== run $r/$RUNS: $who"
        echo "$who full $r $(run full "$bin" "$G/addrs.txt" "$R/$who-$r.out")" >> "$R/times.txt"
        echo "$who empty $r $(run empty "$bin" "$G/empty.txt" "$R/$who-empty-$r.out")" >> "$R/times.txt"
    done
done

# ---------------------------------------------------------------- 4. compare and report
python3 - "$R" "$G" "$N" "$RUNS" "$SM" "$OURS" <<'PY'
import hashlib, os, statistics, sys
R, G, N, RUNS, SM, OURS = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
rows = {}
for line in open(os.path.join(R, "times.txt")):
    who, kind, r, wall, ut, st, rss, rc = line.split()
    rows.setdefault((who, kind), []).append((float(wall), float(ut) + float(st), int(rss), int(rc), float(ut), float(st)))
def med(who, kind, i): return statistics.median(x[i] for x in rows[(who, kind)])
def mx(who, kind, i): return max(x[i] for x in rows[(who, kind)])
rcs = {k: sorted({x[3] for x in v}) for k, v in rows.items()}

def h(p): return hashlib.sha256(open(p, "rb").read()).hexdigest()
sm_out, our_out = os.path.join(R, "sendmail-1.out"), os.path.join(R, "ours-1.out")
stable = all(h(os.path.join(R, f"{w}-{r}.out")) == h(os.path.join(R, f"{w}-1.out"))
             for w in ("sendmail", "ours") for r in range(1, RUNS + 1))
same = h(sm_out) == h(our_out)
same_empty = h(os.path.join(R, "sendmail-empty-1.out")) == h(os.path.join(R, "ours-empty-1.out"))

print(f"# rewrite-bench: N={N} addresses, runs={RUNS} (median), cf={G}/bench.cf")
print(f"# sendmail: {SM}\n# ours:     {OURS}")
print(f"# cpus={os.cpu_count()} load(1m)={os.getloadavg()[0]:.2f}")
print()
print("| binary | wall s | user+sys s | (user / sys) | addresses/s (wall) | peak RSS MB | startup (empty input) wall s | exit |")
print("|---|---:|---:|---:|---:|---:|---:|---|")
for who in ("sendmail", "ours"):
    wall, cpu, rss = med(who, "full", 0), med(who, "full", 1), mx(who, "full", 2) / 1024
    print(f"| {who} | {wall:.3f} | {cpu:.3f} | {med(who, 'full', 4):.2f} / {med(who, 'full', 5):.2f} | {N / wall:,.0f} | {rss:.1f} | "
          f"{med(who, 'empty', 0):.3f} | {rcs[(who, 'full')]} |")
print()
print("all runs (wall s / user+sys s): " + "; ".join(
    f"{who} " + " ".join(f"{x[0]:.2f}/{x[1]:.2f}" for x in rows[(who, "full")]) for who in ("sendmail", "ours")))
sw, ow = med("sendmail", "full", 0), med("ours", "full", 0)
sc, oc = med("sendmail", "full", 1), med("ours", "full", 1)
print()
print(f"ratio ours/sendmail: wall {ow / sw:.3f}, cpu {oc / sc:.3f}  "
      f"(speedup {sw / ow:.2f}x wall, {sc / oc:.2f}x cpu; >1x means ours is faster)")
print(f"transcript bytes: sendmail {os.path.getsize(sm_out):,}, ours {os.path.getsize(our_out):,}")
print(f"each binary deterministic across runs: {'yes' if stable else 'no'}")
print(f"outputs identical: {'yes' if same and same_empty else 'no'}")
if not (same and same_empty):
    # split transcripts at the echoed prompt so differences can be tied to input lines
    def blocks(p):
        data = open(p, "rb").read().split(b"\n> ")
        return data
    a, b = blocks(sm_out), blocks(our_out)
    inputs = open(os.path.join(G, "addrs.txt"), "rb").read().splitlines()
    bad = [i for i in range(max(len(a), len(b))) if (a[i] if i < len(a) else None) != (b[i] if i < len(b) else None)]
    with open(os.path.join(R, "differences.txt"), "wb") as f:
        for i in bad:
            f.write(b"=== block %d (input line %d: %s)\n--- sendmail\n%s\n+++ ours\n%s\n" % (
                i, i, inputs[i - 1] if 0 < i <= len(inputs) else b"?",
                a[i] if i < len(a) else b"<missing>", b[i] if i < len(b) else b"<missing>"))
    print(f"differing blocks: {len(bad)} of {max(len(a), len(b))}; details in {R}/differences.txt")
    if not same_empty: print("startup transcripts (empty input) differ too")
PY
# ---------------------------------------------------------------- 5. optional: callgrind
# CALLGRIND=1: instruction counts (noise-free, unlike times on a shared machine) for the
# first 2,000 lines, both binaries, and ours' top functions. Valgrind cannot run the
# setgid original, so it runs a plain copy of it. Adds about 2 minutes.
if [ "${CALLGRIND:-0}" = 1 ]; then
    P="$B/prof"; mkdir -p -m 0755 "$P"
    install -m 0755 "$SM" "$P/sendmail-copy"
    for who in sendmail ours; do
        bin="$P/sendmail-copy"; [ $who = ours ] && bin=$OURS
        say "== callgrind: $who ($(wc -l < "$G/addrs-2000.txt") lines)"
        timeout -k 5 900 unshare -u -m --propagation private /bin/sh -c \
            "hostname $HOST && mount --bind $G/resolv.conf /etc/resolv.conf && mount --bind $G/hosts /etc/hosts && exec valgrind --tool=callgrind --callgrind-out-file=$P/callgrind.$who.out \"\$0\" \"\$@\"" \
            "$bin" -bt -C "$G/bench.cf" -ODontProbeInterfaces=true < "$G/addrs-2000.txt" > "$P/$who.out" 2> "$P/$who.valgrind.log" || true
    done
    ir() { sed -n 's/^summary: *//p' "$P/callgrind.$1.out"; }
    n2=$(wc -l < "$G/addrs-2000.txt")
    python3 -c "
s, o, n = $(ir sendmail), $(ir ours), $n2
print(f'instructions (callgrind, {n} lines): sendmail {s:,} ({s // n:,}/address), ours {o:,} ({o // n:,}/address), ours/sendmail {o / s:.2f}')"
    cmp -s "$P/sendmail.out" "$P/ours.out" && echo "callgrind transcripts identical: yes" || echo "callgrind transcripts identical: no"
    { callgrind_annotate "$P/callgrind.ours.out" 2>/dev/null || true; } | sed -n '/^Ir /,$p' | sed 's/ \[\/.*//' > "$P/ours.top.all"
    sed -n '1,30p' "$P/ours.top.all" > "$P/ours.top.txt"
    echo "ours' top functions (self): $P/ours.top.txt"
fi
say "== total time $(( $(date +%s) - t_start )) s"
