#!/usr/bin/env bash
# sandbox-bt.sh — run one sendmail binary in `-bt` mode inside the same sandbox
# the OracleTests use (private UTS + mount namespace, host vm.example.test,
# fixture /etc/hosts, dead-name-server /etc/resolv.conf, optional /etc/mail and
# private network), for debugging a case by hand.
# Usage: sandbox-bt.sh [-m ETC_MAIL_DIR] [-n] [-p] BINARY CF [extra args] < script
#   -m DIR  bind DIR over /etc/mail (the suite uses .build/oracle-scratch/<config>/etc-mail)
#   -n      private network namespace with only lo up
#   -p      let sendmail probe interfaces (default: -ODontProbeInterfaces=true)
#   -r      leave out -bt (give the mode yourself, e.g. -bv, -odq, -q)
#   -d DIR  a DNS fixture written by the DNSTests (e.g. .build/oracle-scratch/
#           dns-fixtures/zones): implies -n, starts its dnsmasq and SERVFAIL
#           upstream in the namespace and binds DIR/resolv.conf over /etc/resolv.conf
# SM_DEVLOG=socket binds that socket over /dev/log (which must exist) to see
# what the binary logs; SM_ROOTHOME=dir binds dir over /root (~/dead.letter).
# Example: contrib/oracle/sandbox-bt.sh -m .build/oracle-scratch/maps/etc-mail \
#   /usr/libexec/sendmail/sendmail .build/oracle-scratch/maps/maps.cf < .build/oracle-scratch/runs/maps.features.oracle.in
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fixtures="$root/Tests/Fixtures/oracle/etc"
etcmail="" net="" probe="" raw="" dns=""
while getopts m:nprd: opt; do
    case $opt in m) etcmail="$(cd "$OPTARG" && pwd)";; n) net=-n;; p) probe=1;; r) raw=1;;
        d) dns="$(cd "$OPTARG" && pwd)"; net=-n;; *) exit 2;; esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { sed -n '7,19p' "$0" >&2; exit 2; }
bin="$1" cf="$(realpath "$2")"; shift 2
case $bin in */*) bin="$(realpath "$bin")";; esac
args=(-C "$cf")
[ -n "$raw" ] || args=(-bt "${args[@]}")
[ -n "$probe" ] || args+=(-ODontProbeInterfaces=true)
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TZ=UTC LANG=C LC_ALL=C \
    SM_RESOLV="$fixtures/resolv.conf" SM_HOSTS="$fixtures/hosts" SM_ETCMAIL="$etcmail" SM_LO="${net:+1}" SM_DEVLOG="${SM_DEVLOG:-}" SM_ROOTHOME="${SM_ROOTHOME:-}" SM_DNS="$dns" \
    timeout -k 5 60 unshare -u -m $net --propagation private /bin/sh -c '
        fail() { echo "oracle-sandbox: $*" >&2; exit 97; }
        hostname vm.example.test || fail "cannot set the host name"
        mount --bind "$SM_RESOLV" /etc/resolv.conf || fail "cannot bind resolv.conf"
        mount --bind "$SM_HOSTS" /etc/hosts || fail "cannot bind hosts"
        if [ -n "$SM_ETCMAIL" ]; then mount --bind "$SM_ETCMAIL" /etc/mail || fail "cannot bind /etc/mail"; fi
        if [ -n "$SM_LO" ]; then ip link set lo up || fail "cannot bring up lo"; fi
        if [ -n "$SM_DEVLOG" ]; then mount --bind "$SM_DEVLOG" /dev/log || fail "cannot bind $SM_DEVLOG over /dev/log"; fi
        if [ -n "$SM_ROOTHOME" ]; then mount --bind "$SM_ROOTHOME" /root || fail "cannot bind $SM_ROOTHOME over /root"; fi
        D="$SM_DNS"
        unset SM_RESOLV SM_HOSTS SM_ETCMAIL SM_LO SM_DEVLOG SM_ROOTHOME SM_DNS
        ulimit -f 65536
        cd /
        [ -n "$D" ] || exec "$@"
        mount --bind "$D/resolv.conf" /etc/resolv.conf || fail "cannot bind $D/resolv.conf"
        python3 "$D/upstream.py" </dev/null >/dev/null 2>&1 & up=$!
        dnsmasq --keep-in-foreground --conf-file="$D/dnsmasq.conf" --pid-file= --user=root </dev/null >/dev/null 2>&1 & dm=$!
        python3 "$D/wait.py" || { kill $up $dm; exit 97; }
        "$@"; rc=$?
        kill $up $dm; wait
        exit $rc' oracle-sandbox "$bin" "${args[@]}" "$@"
