#!/bin/sh
# run.sh SENDMAIL CF SCRATCH -- inside a private UTS + mount namespace with
# host name vm.example.test and the fixture hosts/resolv.conf: s-nail and
# mutt submit through SENDMAIL -C CF, newaliases builds the aliases, a
# message goes to an alias piping into procmail, mutt sends one more over
# SMTP (smtp_url) to SENDMAIL -bd listening on 127.0.0.1:2525 (the
# namespace has its own network: only lo), and one queue run (-q -v)
# delivers everything (mail.local into SCRATCH/spool, procmail into
# SCRATCH/procmail-box).  Used by E2ETests.swift.
set -eu
sm="$1" cf="$2" dir="$3" fix="$(cd "$(dirname "$0")/.." && pwd)/etc"
exec unshare -u -m -n --propagation private /bin/sh -eu -c '
    sm="$1" cf="$2" dir="$3" fix="$4"
    hostname vm.example.test
    ip link set lo up
    mount --bind "$fix/hosts" /etc/hosts
    mount --bind "$fix/resolv.conf" /etc/resolv.conf
    export HOME="$dir/home" TZ=UTC LANG=C
    "$sm" -C "$cf" -bi
    printf "first line\nFrom the body, a From_ look-alike\nlast line\n" |
        s-nail -n -S mta="$sm" -S mta-arguments="-C $cf -odq" -s "via s-nail" root
    printf "mutt body\n" |
        mutt -n -F /dev/null -e "set sendmail=\"$sm -C $cf -odq\"" -s "via mutt" root
    printf "Subject: via alias\n\nto procmail\n" | "$sm" -C "$cf" -odq -oi pm
    rm -f "$dir/daemon.pid"
    "$sm" -C "$cf" -bd -odq -ODaemonPortOptions=Port=2525,Addr=127.0.0.1 -OPidFile="$dir/daemon.pid"
    # (the daemon ends with this script, whatever happens to mutt)
    trap "kill \$(head -1 \"$dir/daemon.pid\")" EXIT
    printf "mutt over SMTP\n" |
        mutt -n -F /dev/null -e "set smtp_url=smtp://127.0.0.1:2525/ from=root@vm.example.test ssl_force_tls=no ssl_starttls=no" -s "via mutt smtp" root
    "$sm" -C "$cf" -q -v
' e2e "$sm" "$cf" "$dir" "$fix"
