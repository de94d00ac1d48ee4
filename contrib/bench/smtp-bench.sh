#!/usr/bin/env bash
# smtp-bench.sh — SMTP daemon benchmark: our `sendmail -bd` next to the real
# sendmail 8.17 and postfix 3.7, all on loopback, in the same run.
#
# A benchmark, not a test.  postfix's smtp-source sends N messages over SESS
# parallel sessions (one message per connection) into each daemon in turn;
# for each mode the daemons are started, warmed up, and each round runs
# every daemon back to back, so the ratios are taken under the same noise.  For each daemon and mode it
# prints messages per second (accepted: smtp-source's wall time; end to end:
# until the last message is in the mailbox / the queue is empty), CPU time
# per message (user+sys of the daemon and every process it starts: a cpuacct
# cgroup per daemon) and peak memory (summed PSS and RSS of that cgroup's
# processes, sampled every 0.25 s), the median over ROUNDS, and the ratios
# ours/sendmail and ours/postfix (per round, then the median).
#
# Modes (MODES), each run against every daemon:
#   local   bench@localhost, delivered to the mbox /var/mail/bench by
#           `mail.local -l` over LMTP (sendmail: Debian's; ours: our own
#           mail.local, OURS_MAIL_LOCAL, in the same mailbox; postfix: its
#           local(8) into its own spool).  Done when the last message is in
#           the mailbox and the queue is empty
#   queue   queue-only: sendmail and ours run with -odq (accepted = fsync'ed
#           qf/df, nothing delivered; the queue is emptied between runs);
#           postfix, which has no queue-only mode, queues to bench@blackhole.test
#           and drops the messages with discard(8) (done when its queue is
#           empty), so postfix does a little more work in this mode
#   relay   bench@relay.test, relayed by each daemon over SMTP to postfix's
#           smtp-sink on 127.0.0.1:SINK_PORT (the kit's route: the cf's
#           mailertable sends relay.test to esmtp:[127.0.0.1], whose A= is
#           `TCP $h SINK_PORT'; postfix's transport map).  Done when the
#           sink has counted all N messages (its -c output) and the queue is
#           empty; msg/s is from the first send to the last message received
#           by the sink.  The sink runs in a cgroup of its own, so its CPU is
#           not counted as the daemon's
#
# Both sendmail daemons run from the SAME configuration (but for the path of
# ours' local mailer, below): the kit's bench.mc
# (routes, Listen=128, SuperSafe, no throttles, FEATURE(local_lmtp): the
# local mailer is Debian's `mail.local -l`, spoken to over LMTP), with
# DontProbeInterfaces set: every start of our binary would otherwise look
# up the names of the machine's interface addresses, and those reverse
# lookups go to the network's DNS server (the host's nsswitch), which under
# load makes the deliveries wait seconds on it.  Our daemon gets only its
# own port, queue directory, pid file and status file by -O on the command
# line, and its local mailer's P= names our own mail.local (the product's,
# which a site switching over installs in place of Debian's; here it cannot
# replace the file the real sendmail uses).  OURS_MAIL_LOCAL=debian keeps
# Debian's for ours too.  Each accepted message is delivered by our daemon through one of its
# long-lived delivery workers (SENDMAIL_SWIFT_DELIVERY_WORKERS=n sets their
# number, SENDMAIL_SWIFT_WORKER_NICE their nice increment, 10 by default), which keep their sessions between messages (one mail.local -l
# and one connection to the sink per worker), by sendmail through a forked
# child (its own mail.local process or SMTP connection per message).
#
# The peers come from the reference kit, which lives outside this repository
# in the project's shared directory: ../shared/bench next to the checkout
# (peers-env.sh, peers-setup.sh, peer-ctl.sh, bench-run.py).  Get it from
# there (copy the directory, or point KIT= at it); peers-setup.sh downloads
# the postfix (and exim) Debian packages with `apt-get download` and unpacks
# them under /opt/peers without installing them, and writes the peer
# configurations under /tmp/bench.
#
#   contrib/bench/smtp-bench.sh                   quick: N=2000, 3 rounds
#   N=10000 contrib/bench/smtp-bench.sh           the issue's figure
#
# Environment (all optional):
#   N=2000          messages per run               SESS=20   parallel sessions
#   SIZE=2048       bytes per message              ROUNDS=3  rounds (median)
#   WARM=200        warm-up messages per daemon and mode (not recorded)
#   MODES="local queue relay"                      DAEMONS="swift sendmail postfix"
#   SWIFT_PORT=2538, SM_PORT=2535, PF_PORT=2536: the three daemons' ports
#   SINK_PORT=2600  smtp-sink's port (the kit's: postfix's transport map has
#                   it; another value reruns the kit's setup)
#   SETUP=1         run the kit's peers-setup.sh even when its configs exist
#   NO_BUILD=1      skip `swift build -c release --product sendmail`
#   OURS=<root>/.build/release/sendmail            KIT=<root>/../shared/bench
#   OURS_MAIL_LOCAL=<root>/.build/release/mail.local  ours' local mailer
#                   (debian: /usr/libexec/sendmail/mail.local, as sendmail)
#   OUT=<root>/.build/smtp-bench/<date>            results (throughput.jsonl,
#                   summary.md)
#   KEEP=1          leave the daemons running afterwards
#   SETTLE=0        do not sync and drop the clean page cache before each
#                   measured run (see settle() below)
# Needs: root (cgroups, the bench user's mailbox), python3, cgroup v1 cpuacct
# at /sys/fs/cgroup/cpuacct, m4 and makemap (the kit's setup), apt-get.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/contrib/bench"
KIT=${KIT:-$ROOT/../shared/bench}
N=${N:-2000}; SESS=${SESS:-20}; SIZE=${SIZE:-2048}; ROUNDS=${ROUNDS:-3}; WARM=${WARM:-200}
MODES=${MODES:-"local queue relay"}
DAEMONS=${DAEMONS:-"swift sendmail postfix"}
# ports of their own (not the kit's 2525/2526, which other harnesses use too)
export SM_PORT=${SM_PORT:-2535} PF_PORT=${PF_PORT:-2536}
SWIFT_PORT=${SWIFT_PORT:-2538}
# smtp-sink: the kit's port, which the postfix transport map of its setup names
export SINK_PORT=${SINK_PORT:-2600}
OURS=${OURS:-$ROOT/.build/release/sendmail}
OURS_MAIL_LOCAL=${OURS_MAIL_LOCAL:-$ROOT/.build/release/mail.local}
[ "$OURS_MAIL_LOCAL" = debian ] && OURS_MAIL_LOCAL=/usr/libexec/sendmail/mail.local
OUT=${OUT:-$ROOT/.build/smtp-bench/$(date +%Y%m%d-%H%M%S)}
CGROOT=/sys/fs/cgroup/cpuacct
say() { printf '%s\n' "$*" >&2; }
die() { say "smtp-bench: $*"; exit 1; }

for f in peers-env.sh peers-setup.sh peer-ctl.sh bench-run.py; do
    [ -f "$KIT/$f" ] || die "the peer kit is missing: $KIT/$f not found.
  The kit (peers-env.sh, peers-setup.sh, peer-ctl.sh, bench-run.py) is not part of this
  repository: it is the project's shared reference kit in ../shared/bench next to the
  checkout (/work/shared/bench on the project machine).  Copy that directory there or
  set KIT=/path/to/it."
done
[ "$(id -u)" = 0 ] || die "needs root (cgroups, the bench user's mailbox)"
[ -d "$CGROOT" ] || die "no cgroup v1 cpuacct hierarchy at $CGROOT"
command -v python3 >/dev/null || die "python3 not found"
KIT=$(cd "$KIT" && pwd)
# shellcheck source=/dev/null
. "$KIT/peers-env.sh"

if [ "${NO_BUILD:-0}" != 1 ]; then
    say "== building (release) in $ROOT"
    (cd "$ROOT" && nice swift build -c release --product sendmail 2>&1 | tail -1) >&2
    (cd "$ROOT" && nice swift build -c release --product mail.local 2>&1 | tail -1) >&2
fi
[ -x "$OURS" ] || die "missing: $OURS (build it, or set OURS=)"
[ -x "$OURS_MAIL_LOCAL" ] || die "missing: $OURS_MAIL_LOCAL (build it, or set OURS_MAIL_LOCAL=)"

# the kit's one-time setup (about a minute: its `sendmail -bi` waits 60 s
# when the host name is not qualified); again when postfix's port changed
if [ "${SETUP:-0}" = 1 ] || [ ! -f "$BENCH/sendmail/bench.mc" ] || [ ! -x "$PF_ROOT/usr/sbin/smtp-source" ] \
   || ! grep -q "^127.0.0.1:$PF_PORT " "$BENCH/postfix/etc/master.cf" 2>/dev/null \
   || ! grep -q "^relay\.test.*:$SINK_PORT\$" "$BENCH/postfix/etc/transport" 2>/dev/null; then
    say "== peers: setup ($KIT/peers-setup.sh)"
    "$KIT/peers-setup.sh" >&2
fi

# --- the cf both sendmail daemons run: the kit's bench.mc, its local mailer
# unchanged (FEATURE(local_lmtp), `mail.local -l`), with DontProbeInterfaces
# (see the top); the listener is on SM_PORT and the esmtp mailer (relay.test's
# route) connects to SINK_PORT.  (bench-lmtp.cf: not the bench-mbox.cf that
# earlier versions of this script wrote with plain `mail.local -d $u`.)
S=$BENCH/sendmail
SW=$BENCH/swift
mkdir -p "$SW"
CF=$SW/bench-lmtp.cf
sed -e "s|^FEATURE(\`local_lmtp'.*|&\\
define(\`confDONT_PROBE_INTERFACES', \`True')dnl|" \
    -e "/^DAEMON_OPTIONS/s/Port=[0-9]*/Port=$SM_PORT/" \
    -e "/ESMTP_MAILER_ARGS/s/TCP \\\$h [0-9]*/TCP \$h $SINK_PORT/" "$S/bench.mc" > "$SW/bench-lmtp.mc"
grep -q "^FEATURE(\`local_lmtp'" "$SW/bench-lmtp.mc" || die "$S/bench.mc has no FEATURE(local_lmtp)"
m4 "$SW/bench-lmtp.mc" > "$CF"
grep -q '^Mlocal.*P=/usr/libexec/sendmail/mail.local' "$CF" || die "$CF: unexpected local mailer"
sed -n '/^Mlocal,/,/A=/p' "$CF" | grep -q 'A=mail.local -l$' || die "$CF: the local mailer does not speak LMTP"
grep -q '^O DontProbeInterfaces=True' "$CF" || die "$CF: DontProbeInterfaces not set"
sed -n '/^Mesmtp,/,/A=/p' "$CF" | grep -q "A=TCP \$h $SINK_PORT\$" || die "$CF: the esmtp mailer does not go to port $SINK_PORT"
# ours: the same cf with its local mailer's program path set to OURS_MAIL_LOCAL
CF_OURS=$SW/bench-lmtp-ours.cf
sed "/^Mlocal,/s|P=/usr/libexec/sendmail/mail.local|P=$OURS_MAIL_LOCAL|" "$CF" > "$CF_OURS"
grep -q "^Mlocal.*P=$OURS_MAIL_LOCAL," "$CF_OURS" || die "$CF_OURS: the local mailer's path was not set"

# our daemon: the same cf, its own port, queue, pid file and status file
SWIFT_QUEUE=$SW/mqueue
SWIFT_PIDFILE=$SW/sendmail.pid
mkdir -p "$SWIFT_QUEUE"; chmod 700 "$SWIFT_QUEUE"; touch "$SW/sendmail.st"
pid_of() { [ -s "$1" ] && head -1 "$1" | tr -d ' ' || true; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
start_in_cgroup() {   # name cmd...: -bd detaches, the daemon inherits the cgroup
    local cg=$CGROOT/pb-$1; shift
    mkdir -p "$cg"
    ( echo $BASHPID > "$cg/cgroup.procs"; exec "$@" )
}
swift_start() {   # [extra options]
    local p; p=$(pid_of "$SWIFT_PIDFILE")
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null && die "ours already running (pid $p)"
    port_busy "$SWIFT_PORT" && die "port $SWIFT_PORT is in use by another program"
    start_in_cgroup swift "$OURS" -bd -C "$CF_OURS" "$@" \
        -O "DaemonPortOptions=Family=inet, Name=MTA-swift, Port=$SWIFT_PORT, Addr=127.0.0.1, Listen=128" \
        -O "QueueDirectory=$SWIFT_QUEUE" -O "PidFile=$SWIFT_PIDFILE" -O "StatusFile=$SW/sendmail.st"
    wait_port "$SWIFT_PORT" && [ -n "$(pid_of "$SWIFT_PIDFILE")" ] || die "our daemon did not start"
    say "ours started pid $(pid_of "$SWIFT_PIDFILE") port $SWIFT_PORT ${*:-}"
}
swift_stop() {
    local p cg=$CGROOT/pb-swift; p=$(pid_of "$SWIFT_PIDFILE")
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
        kill "$p"
        for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    fi
    # delivery children still running are in the cgroup: end them by pid
    if [ -d "$cg" ]; then
        for i in $(seq 50); do
            [ -s "$cg/cgroup.procs" ] || break
            [ "$i" = 20 ] && for q in $(cat "$cg/cgroup.procs"); do kill "$q" 2>/dev/null || true; done
            [ "$i" = 40 ] && for q in $(cat "$cg/cgroup.procs"); do kill -9 "$q" 2>/dev/null || true; done
            sleep 0.1
        done
        rmdir "$cg" 2>/dev/null || say "warning: $cg not empty"
    fi
    rm -f "$SWIFT_PIDFILE"
}
# the real sendmail: the kit's peer (port, queue, pid file of its cf), from $CF
sm_start() {   # [extra options]
    local p; p=$(pid_of "$S/sendmail.pid")
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null && "$KIT/peer-ctl.sh" sendmail stop >&2
    port_busy "$SM_PORT" && die "port $SM_PORT is in use by another program"
    start_in_cgroup sendmail "$SENDMAIL" -bd -C "$CF" "$@"
    wait_port "$SM_PORT" || die "sendmail did not start"
    say "sendmail started pid $(pid_of "$S/sendmail.pid") port $SM_PORT ${*:-}"
}
# smtp-sink, the relay mode's remote MTA: started here rather than by the
# kit's peer-ctl.sh so that it has its own output file, pid and cgroup
SINK_OUT=$SW/sink.out
SINK_PIDFILE=$SW/sink.pid
SINK_CG=pb-swsink
sink_start() {
    port_busy "$SINK_PORT" && die "port $SINK_PORT (smtp-sink) is in use by another program"
    : > "$SINK_OUT"
    # -c: running counters (mesg=N) on its output, which bench-run.py reads
    mkdir -p "$CGROOT/$SINK_CG"
    # shellcheck disable=SC2086
    ( echo $BASHPID > "$CGROOT/$SINK_CG/cgroup.procs"; echo $BASHPID > "$SINK_PIDFILE"
      exec $SMTP_SINK -u nobody -c "127.0.0.1:$SINK_PORT" 1024 ) > "$SINK_OUT" 2>&1 &
    wait_port "$SINK_PORT" || die "smtp-sink did not start"
    say "smtp-sink started pid $(pid_of "$SINK_PIDFILE") port $SINK_PORT"
}
sink_stop() {
    local p cg=$CGROOT/$SINK_CG; p=$(pid_of "$SINK_PIDFILE")
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
        kill "$p"
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    fi
    rmdir "$cg" 2>/dev/null || say "warning: $cg not removed"
    rm -f "$SINK_PIDFILE"
}
daemon_start() {   # peer mode
    local q=(); [ "$2" = queue ] && q=(-odq)
    case $1 in
        sink) sink_start ;;
        swift) swift_start "${q[@]}" ;;
        sendmail) sm_start "${q[@]}" ;;
        postfix) port_busy "$PF_PORT" && die "port $PF_PORT is in use by another program"
                 "$KIT/peer-ctl.sh" postfix start >&2 ;;
        *) die "unknown daemon $1 (swift, sendmail, postfix)" ;;
    esac
}
daemon_stop() { case $1 in swift) swift_stop ;; sink) sink_stop ;; *) "$KIT/peer-ctl.sh" "$1" stop >&2 || true ;; esac; }
running=""
stop_all() {
    [ "${KEEP:-0}" = 1 ] && { say "KEEP=1: daemons left running: $running"; return; }
    # the daemons first, smtp-sink (started first) last
    for p in $running; do [ "$p" = sink ] || daemon_stop "$p"; done
    case " $running " in *" sink "*) sink_stop ;; esac
    running=""
}
trap stop_all EXIT
# a signal ends the script through exit, so the EXIT trap stops the daemons
trap "exit 143" TERM INT HUP

mkdir -p "$OUT"; say "== results -> $OUT"
{ echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"; echo "host: $(uname -sr), $(nproc) cores"
  echo "ours: $OURS (commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo "N=$N SESS=$SESS SIZE=$SIZE ROUNDS=$ROUNDS MODES=$MODES DAEMONS=$DAEMONS OURS_MAIL_LOCAL=$OURS_MAIL_LOCAL"; } > "$OUT/conditions.txt"

# queue_drained: our queue holds no queue file any more (up to 10 s after
# the last message reached the mailbox or the sink), else a warning
queue_drained() {
    local left
    for _ in $(seq 100); do
        left=$(find "$SWIFT_QUEUE" -name '[qdtx]f*' | wc -l)
        [ "$left" = 0 ] && return 0
        sleep 0.1
    done
    say "  warning: $left queue files left in $SWIFT_QUEUE after the run"
}

# run PEER MODE COUNT [OUT]: one smtp-source run (the kit's bench-run.py)
run() {
    local p=$1 mode=$2 n=$3 o=${4:-} a
    case $p:$mode in
        # ours keeps emptied spare files (.spare<N>) in its queue directory
        # (QueueSpares.swift) and the kit counts every file there: it waits
        # on the mailbox (or the sink) alone, and queue_drained checks after
        # it that no queue file (qf, df, tf, xf) is left
        swift:local)    a="--port $SWIFT_PORT --rcpt bench@localhost --mbox $SM_MBOX" ;;
        sendmail:local) a="--port $SM_PORT --rcpt bench@localhost --mbox $SM_MBOX --queue-dirs $SM_QUEUE" ;;
        postfix:local)  a="--port $PF_PORT --rcpt bench@localhost --mbox $PF_MBOX --queue-dirs $PF_QUEUE" ;;
        # -odq: done when the last message is acknowledged (it is on disk)
        swift:queue)    a="--port $SWIFT_PORT --rcpt bench@localhost" ;;
        sendmail:queue) a="--port $SM_PORT --rcpt bench@localhost" ;;
        # postfix has no queue-only mode: queued, then dropped by discard(8)
        postfix:queue)  a="--port $PF_PORT --rcpt bench@blackhole.test --queue-dirs $PF_QUEUE" ;;
        # done when the sink has counted all of them and the queue is empty
        swift:relay)    a="--port $SWIFT_PORT" ;;
        sendmail:relay) a="--port $SM_PORT --queue-dirs $SM_QUEUE" ;;
        postfix:relay)  a="--port $PF_PORT --queue-dirs $PF_QUEUE" ;;
        *) die "unknown mode $mode (local, queue, relay)" ;;
    esac
    [ "$mode" = relay ] && a="$a --rcpt bench@relay.test --sink-out $SINK_OUT --sink-cgroup $SINK_CG"
    # shellcheck disable=SC2086
    python3 "$KIT/bench-run.py" --name "$p" --mode "$mode" -m "$n" -s "$SESS" -l "$SIZE" \
        --cgroup "pb-$p" $a ${o:+--out "$o"} || say "  $p $mode: run incomplete (timeout or smtp-source error)"
    [ "$p" = swift ] && [ "$mode" != queue ] && queue_drained
    # queue-only runs leave their messages: empty the queue between runs
    if [ "$mode" = queue ]; then
        case $p in swift) rm -f "$SWIFT_QUEUE"/[qdtx]f* ;; sendmail) rm -f "$SM_QUEUE"/[qdtx]f* ;; esac
    fi
}

# settle: before each measured run, write back what the previous runs left
# dirty and drop the clean cached pages, so that no daemon pays for the files
# another one created and deleted.  On an ext4 without a journal (this
# machine's root) the inode allocator passes over every inode freed in the
# last 60 seconds (300 while its inode-table block is still dirty) whose
# block is still in the buffer cache, reading its deletion time, before it
# takes a fresh one; every file a daemon creates in a queue directory that
# shares a block group with the others (they all live under $BENCH) then
# costs in proportion to the files the daemons before it deleted.  A run's
# own files still cost it (SETTLE=0 keeps the old behaviour).
settle() {
    [ "${SETTLE:-1}" = 1 ] || return 0
    sync
    echo 1 > /proc/sys/vm/drop_caches
    sleep 1
}

for mode in $MODES; do
    say "== mode $mode: starting $DAEMONS"
    [ "$mode" = relay ] && { daemon_start sink "$mode"; running="sink"; }
    for p in $DAEMONS; do daemon_start "$p" "$mode"; running="$running $p"; done
    say "warm-up: $WARM messages per daemon (not recorded)"
    for p in $DAEMONS; do run "$p" "$mode" "$WARM" >/dev/null; done
    echo "mode $mode, load before: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/conditions.txt"
    for r in $(seq "$ROUNDS"); do
        for p in $DAEMONS; do
            settle
            say "round $r/$ROUNDS $mode $p (load $(cut -d' ' -f1 /proc/loadavg))"
            run "$p" "$mode" "$N" "$OUT/throughput.jsonl" >&2
            sleep 2
        done
    done
    echo "mode $mode, load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/conditions.txt"
    stop_all
done
python3 "$HERE/smtp-bench-summary.py" "$OUT" | tee "$OUT/summary.md"
