#!/usr/bin/env bash
# run.sh — build and run sendmail-swift on its embedded default configuration.
#
# On a fresh Debian machine (as root it installs m4 and the C libraries the
# build links; as another user it expects them installed): builds the release
# binaries, generates ./var/sendmail.cf from our own m4 library
# (cf/cf/default-local.mc: 127.0.0.1:2525, queue and mailboxes under ./var,
# nothing under /etc), and starts sendmail on it.
#
# The SMTP daemon is not part of this release yet (see README: status), so for
# now this starts the engine in address test mode (`sendmail -bt`), where you
# can type rules and addresses, e.g. `3,0 user@example.com` or `/parse joe`.
# Promises: runs without root once the packages are there; touches nothing
# outside this checkout.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="/opt/swift/usr/bin:$PATH"

if [ "$(id -u)" -eq 0 ] && [ "${SKIP_APT:-0}" != 1 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq m4 libdb-dev libssl-dev >/dev/null
fi

swift build -c release --product sendmail
swift build -c release --product makemap
swift build -c release --product praliases

var="$root/var"
mkdir -p "$var/conf" "$var/spool/mqueue" "$var/mail" "$var/run"
chmod 755 "$var" "$var/conf"
[ -f "$var/conf/service.switch" ] || printf 'hosts\tfiles\naliases\tfiles\n' > "$var/conf/service.switch"
[ -f "$var/conf/hosts" ] || printf '127.0.0.1\tlocalhost\n' > "$var/conf/hosts"
[ -f "$var/conf/local-host-names" ] || printf 'localhost\n' > "$var/conf/local-host-names"
m4 -DSMX_VAR_DIR="$var" cf/m4/cf.m4 cf/cf/default-local.mc > "$var/sendmail.cf"
echo "configuration: $var/sendmail.cf"

exec "$root/.build/release/sendmail" -bt -C "$var/sendmail.cf" "$@"
