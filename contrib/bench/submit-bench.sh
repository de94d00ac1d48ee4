#!/usr/bin/env bash
# submit-bench.sh — local submission benchmark: `sendmail -t -oi`, one process
# per message, our sendmail vs real sendmail 8.17 on the same cf in the same run.
#
# A benchmark, not a test.  For each binary and each mode it submits N messages
# one after the other (a Python driver feeds each message to a new
# `sendmail -t -oi` process) and reports messages per second (N / wall time
# until the work is done) and CPU time per message (user+sys of every process
# involved, from a cpuacct cgroup each sendmail process enters before exec, so
# that background deliveries and mailers count and the driver does not), and
# the ratio ours/sendmail.  Modes:
#   queue      -odq: queue only; done when the last submission has exited
#   mbox       the default delivery mode (background): done when all N messages
#              are in the mailbox.  Skipped (reported "queued only") for a binary
#              that leaves them in the queue
#   queue+run  -odq, then one foreground queue run (`-qf`) that delivers all N
#              into the mailbox (the way to a mailbox while our binary still
#              delivers only from the queue)
# Every mode checks its result: N qf files, or N messages in the mailbox and an
# empty queue; a run that does not end so counts as failed, not as a figure.
#
#   contrib/bench/submit-bench.sh          build (release), run, report
#
# Environment (all optional):
#   N=300          messages per run          RUNS=3   runs per binary and mode (median)
#   SIZE=2048      body bytes per message    MODES="queue mbox queue+run"
#   NO_BUILD=1     skip `swift build -c release` (sendmail, mail.local)
#   SM=/usr/libexec/sendmail/sendmail       the reference binary
#   OURS=<root>/.build/release/sendmail     the binary under test
#   MAIL_LOCAL=<dir of OURS>/mail.local     the local delivery agent (both binaries use it)
#   BENCH_DIR=<root>/.build/bench-submit    cf, queue, spool (not world-writable)
# Both binaries run in `unshare -u -m` with host name vm.example.test and a
# hosts file naming it bound over /etc/hosts (sendmail looks its own name up at
# every start); the cf needs no DNS (ServiceSwitchFile: hosts files;
# DontProbeInterfaces).  The queue and
# spool are on the file system of BENCH_DIR: every fsync is real.
# Needs: root (unshare, cgroups), python3, cgroup v1 cpuacct at /sys/fs/cgroup/cpuacct.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
N=${N:-300}; RUNS=${RUNS:-3}; SIZE=${SIZE:-2048}
MODES=${MODES:-"queue mbox queue+run"}
SM=${SM:-/usr/libexec/sendmail/sendmail}
OURS=${OURS:-$ROOT/.build/release/sendmail}
MAIL_LOCAL=${MAIL_LOCAL:-$(dirname "$OURS")/mail.local}
B=${BENCH_DIR:-$ROOT/.build/bench-submit}
CGROOT=/sys/fs/cgroup/cpuacct
say() { printf '%s\n' "$*" >&2; }

if [ "${NO_BUILD:-0}" != 1 ]; then
    say "== building (release) in $ROOT"
    (cd "$ROOT" && nice swift build -c release --product sendmail 2>&1 | tail -1 \
        && nice swift build -c release --product mail.local 2>&1 | tail -1) >&2
fi
for f in "$OURS" "$SM" "$MAIL_LOCAL"; do [ -x "$f" ] || { say "missing: $f"; exit 1; }; done
[ -d "$CGROOT" ] || { say "no cpuacct cgroup hierarchy at $CGROOT"; exit 1; }

umask 022
mkdir -p "$B"; chmod 0755 "$B"
cat > "$B/bench.cf" <<EOF
# submit-bench.sh: local delivery by mail.local into $B/spool
V10/Berkeley
DZ8.17.1.9
DnMAILER-DAEMON
O ServiceSwitchFile=$B/switch
O QueueDirectory=$B/mqueue
O AliasFile=$B/aliases
O DontProbeInterfaces=true
O LogLevel=0
O DeliveryMode=background
O DefaultUser=mail:mail
EMAIL_LOCAL_SPOOL_DIR=$B/spool
Mlocal, P=$MAIL_LOCAL, F=lsDFMAw5:/|@qSPfhmn9, A=mail.local -d \$u
Mprog, P=/bin/sh, F=lsDFMoqeu9, A=sh -c \$u
S0
R\$+ @ \$+	\$#local \$: \$1
R\$*	\$#local \$: \$1
S1
S2
S3
S4
H?P?Return-Path: <\$g>
HReceived: by \$j id \$i; \$b
H?D?Date: \$a
H?M?Message-Id: <\$t.\$i@\$j>
H?F?From: \$q
EOF
echo "hosts files" > "$B/switch"
echo "postmaster: root" > "$B/aliases"
mkdir -p -m 0700 "$B/mqueue"
# glibc's own lookups (the host's name) answered from a hosts file; no DNS
printf '127.0.0.1 localhost\n127.0.1.1 vm.example.test vm\n' > "$B/hosts"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "$B/resolv.conf"
unshare -u sh -c 'hostname vm.example.test; exec "$0" "$@"' "$SM" -C "$B/bench.cf" -bi >/dev/null || { say "newaliases failed (is $B in a safe directory?)"; exit 1; }

# one run: driver.py BINARY MODE -> "wall_s cpu_s ok"
cat > "$B/driver.py" <<'PY'
import os, subprocess, sys, time
binary, mode, n, size, b, cg = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
cgdir = "/sys/fs/cgroup/cpuacct/" + cg
os.makedirs(cgdir, exist_ok=True)
def enter_cgroup():
    # in the child before exec: it and every process it starts count, the driver does not
    with open(cgdir + "/cgroup.procs", "w") as f:
        f.write(str(os.getpid()))
def usage():
    with open(cgdir + "/cpuacct.usage") as f:
        return int(f.read()) / 1e9
line = "The quick brown fox jumps over the lazy dog, again and again and again.\n"
body = (line * (size // len(line) + 1))[:size]
cf = ["-C", b + "/bench.cf"]
def mbox_count():
    try:
        with open(b + "/spool/root", "rb") as f:
            return sum(1 for l in f if l.startswith(b"From "))
    except FileNotFoundError:
        return 0
def queued():
    return [x for x in os.listdir(b + "/mqueue") if x.startswith("qf")]
extra = ["-odq"] if mode in ("queue", "queue+run") else []
c0, t0 = usage(), time.monotonic()
for i in range(n):
    msg = f"From: root\nTo: root\nSubject: bench {i}\n\n{body}".encode()
    subprocess.run([binary] + cf + ["-t", "-oi"] + extra, input=msg, stdout=subprocess.DEVNULL, check=True,
                   preexec_fn=enter_cgroup)
if mode == "queue+run":
    subprocess.run([binary] + cf + ["-qf"], stdout=subprocess.DEVNULL, check=True, preexec_fn=enter_cgroup)
ok = True
if mode == "queue":
    ok = len(queued()) == n
else:
    deadline = time.monotonic() + 120
    while mbox_count() < n and time.monotonic() < deadline:
        if mode == "mbox" and len(queued()) == n and mbox_count() == 0 and time.monotonic() - t0 > 5:
            break              # submission queues only: nothing is being delivered
        time.sleep(0.005)
    # background deliveries still finishing (their CPU counts too)
    while len(queued()) > 0 and time.monotonic() < deadline and mbox_count() >= n:
        time.sleep(0.005)
    ok = mbox_count() == n and not queued()
wall = time.monotonic() - t0
time.sleep(0.2)
cpu = usage() - c0
print(f"{wall:.3f} {cpu:.3f} {'ok' if ok else 'FAILED'}")
PY

run_one() {  # binary mode tag -> prints "wall cpu ok"
    local bin=$1 mode=$2 tag=$3
    rm -rf "$B/mqueue" "$B/spool"; mkdir -m 0700 "$B/mqueue"; mkdir -m 1777 "$B/spool"
    local cg="sb-$tag-$$"
    local r
    r=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TZ=UTC LANG=C SB="$B" \
        unshare -u -m --propagation private sh -c 'hostname vm.example.test
            mount --bind "$SB/hosts" /etc/hosts && mount --bind "$SB/resolv.conf" /etc/resolv.conf || exit 97
            exec "$0" "$@"' \
        python3 "$B/driver.py" "$bin" "$mode" "$N" "$SIZE" "$B" "$cg")
    # the driver and its children have exited: the cgroup is empty (or soon)
    for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$CGROOT/$cg" 2>/dev/null && break; sleep 0.5; done
    echo "$r"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

say "== N=$N SIZE=$SIZE RUNS=$RUNS, load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
printf '| mode | binary | msgs/s | CPU ms/msg | wall s (median of %s) |\n|---|---|---:|---:|---:|\n' "$RUNS"
for mode in $MODES; do
    declare -A rate=() cpu=() walls=() cpus=() status=()
    # runs alternate between the binaries: load drifts hit both alike
    for r in $(seq 1 "$RUNS"); do
        for who in sendmail ours; do
            bin=$SM; [ $who = ours ] && bin=$OURS
            read -r w c o < <(run_one "$bin" "$mode" "$who")
            [ "$o" = ok ] || status[$who]=$o
            walls[$who]+="$w "; cpus[$who]+="$c "
        done
    done
    for who in sendmail ours; do
        w=$(printf '%s\n' ${walls[$who]} | median); c=$(printf '%s\n' ${cpus[$who]} | median)
        if [ -n "${status[$who]:-}" ]; then
            label="not done"; [ $mode = mbox ] && label="queued only (no delivery at submission)"
            printf '| %s | %s | %s | | |\n' "$mode" "$who" "$label"
            continue
        fi
        rate[$who]=$(awk -v n="$N" -v w="$w" 'BEGIN {printf "%.1f", n / w}')
        cpu[$who]=$(awk -v n="$N" -v c="$c" 'BEGIN {printf "%.2f", 1000 * c / n}')
        printf '| %s | %s | %s | %s | %s |\n' "$mode" "$who" "${rate[$who]}" "${cpu[$who]}" "$w"
    done
    if [ -n "${rate[ours]:-}" ] && [ -n "${rate[sendmail]:-}" ]; then
        printf '| %s | ratio ours/sendmail | %s | %s | |\n' "$mode" \
            "$(awk -v a="${rate[ours]}" -v b="${rate[sendmail]}" 'BEGIN {printf "%.2f", a / b}')" \
            "$(awk -v a="${cpu[ours]}" -v b="${cpu[sendmail]}" 'BEGIN {printf "%.2f", a / b}')"
    fi
    unset rate cpu walls cpus status
done
say "== load afterwards $(cut -d' ' -f1-3 /proc/loadavg)"
