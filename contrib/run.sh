#!/usr/bin/env bash
# run.sh — build and run sendmail-swift on its embedded default configuration.
#
# On a fresh Debian machine (as root it installs m4 and the C libraries the
# build links; as another user it expects them installed): builds the release
# binaries, generates ./var/sendmail.cf from our own m4 library
# (cf/cf/default-local.mc: 127.0.0.1:2525, queue and mailboxes under ./var,
# nothing under /etc), and starts the SMTP daemon on it in the foreground
# (`sendmail -bD`): try `swaks --server 127.0.0.1:2525 --to $USER`.  Mail
# for local users is appended to ./var/mail/<user> (the local mailer writes
# the file itself, no root needed); the queue is ./var/spool/mqueue, the
# pid file ./var/run/sendmail.pid, host status ./var/run/hoststat, aliases
# ./var/conf/aliases.  Stop it
# with Ctrl-C (SIGINT) or SIGTERM; SIGHUP reloads ./var/sendmail.cf.
# Extra arguments go to sendmail (e.g. -odq to only queue, or -bt instead).
# Promises: runs without root once the packages are there; touches nothing
# outside this checkout.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="/opt/swift/usr/bin:$PATH"

if [ "$(id -u)" -eq 0 ] && [ "${SKIP_APT:-0}" != 1 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq m4 libdb-dev libssl-dev libsasl2-dev libsasl2-modules pkg-config >/dev/null
fi

swift build -c release --product sendmail
swift build -c release --product makemap
swift build -c release --product praliases

var="$root/var"
mkdir -p "$var/conf" "$var/spool/mqueue" "$var/mail" "$var/run/hoststat"
# the local mailer (P=[FILE], F=S) writes as DefaultUser when this runs as
# root, never as root itself (sendmail's mailfile()): a sticky, world-writable
# spool, like a classic /var/mail, lets it create each user's mailbox
chmod 1777 "$var/mail"
chmod 755 "$var" "$var/conf"
chmod 700 "$var/spool/mqueue"
[ -f "$var/conf/service.switch" ] || printf 'hosts\tfiles\naliases\tfiles\n' > "$var/conf/service.switch"
[ -f "$var/conf/hosts" ] || printf '127.0.0.1\tlocalhost\n' > "$var/conf/hosts"
[ -f "$var/conf/local-host-names" ] || printf 'localhost\n' > "$var/conf/local-host-names"
[ -f "$var/conf/aliases" ] || printf 'postmaster: %s\nMAILER-DAEMON: postmaster\n' "$(id -un)" > "$var/conf/aliases"
m4 -DSMX_VAR_DIR="$var" cf/m4/cf.m4 cf/cf/default-local.mc > "$var/sendmail.cf"
echo "configuration: $var/sendmail.cf"
"$root/.build/release/sendmail" -bi -C "$var/sendmail.cf"

echo "listening on 127.0.0.1:2525 (Ctrl-C stops)"
exec "$root/.build/release/sendmail" -bD -C "$var/sendmail.cf" "$@"
