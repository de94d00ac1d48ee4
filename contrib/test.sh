#!/usr/bin/env bash
# test.sh — one command to install what the test suite needs on a clean
# Debian 12 machine (as root, Swift 6.3 in /opt/swift) and run the whole suite.
#
# Promises: no daemon is started by the package installation (policy-rc.d
# answers 101); the exit status is the one of `swift build` / `swift test`;
# the swift test summary lines are printed at the end.
# Usage: contrib/test.sh            (from anywhere; needs root)
#        SKIP_APT=1 contrib/test.sh (packages already installed)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="/opt/swift/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: must run as root (apt-get, unshare -u -m, mount --bind)" >&2
    exit 1
fi

if [ "${SKIP_APT:-0}" != 1 ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    # sendmail-bin + sendmail-cf: the oracle and its m4 library; m4; the C
    # libraries our package links; util-linux (unshare), mount, hostname,
    # iproute2 (ip, for the private network namespace), coreutils (timeout),
    # python3 (the m4 verdict comparison and the mbox reader in ToolsTests),
    # s-nail, mutt and procmail (end-to-end tests: real user agents and LDA);
    # libsasl2-dev (SMTP AUTH links libsasl2), sasl2-bin (saslpasswd2 makes
    # the test sasldb), libsasl2-modules (PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5),
    # swaks (AUTH and TLS from a real client, an SMTP client against our
    # daemon) with libnet-ssleay-perl (its --tls), libssl-dev (STARTTLS
    # through the system OpenSSL) and openssl (the TLS tests' certificates,
    # s_client), dnsmasq-base (the loopback name server of the DNS tests).
    apt-get install -y sendmail-bin sendmail-cf m4 libdb-dev libssl-dev libmilter-dev \
        util-linux mount hostname iproute2 coreutils python3 s-nail mutt procmail \
        libsasl2-dev sasl2-bin libsasl2-modules swaks libnet-ssleay-perl openssl pkg-config dnsmasq-base
fi

# sendmail (and our map code, which follows it) treats a map file as unsafe
# when any directory above it is group- or world-writable, as /tmp is.  The
# oracle suites keep their maps under the checkout, so a checkout in such a
# place is tested from a copy under /var/lib (root-owned, 0755).
unsafe_dir() {
    local d="$1"
    while :; do
        local mode
        mode=$(stat -c %a "$d")
        if (( (8#$mode & 8#022) != 0 )); then echo "$d"; return 0; fi
        [ "$d" = / ] && return 1
        d=$(dirname "$d")
    done
}
if bad=$(unsafe_dir "$root"); then
    safe=/var/lib/sendmail-swift-ci/checkout
    echo "test.sh: $bad is group/world-writable, so sendmail would call the test maps unsafe;"
    echo "test.sh: testing a copy of $root in $safe"
    install -d -m 0755 /var/lib/sendmail-swift-ci
    rm -rf "$safe"
    mkdir -m 0755 "$safe"
    tar -C "$root" --exclude=./.build -cf - . | tar -C "$safe" -xf -
    chmod 0755 "$safe"
    SKIP_APT=1 exec "$safe/contrib/test.sh"
fi

command -v swift >/dev/null || { echo "test.sh: swift not found in /opt/swift/usr/bin" >&2; exit 1; }
swift --version

swift build
mkdir -p .build
log=.build/swift-test.log
set +e
swift test 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

echo
echo "==== swift test summary (full log: $log) ===="
grep -E '(✔|✘) (Suite|Test run)|Executed [0-9]+ tests?' "$log" | grep -v "'All tests'" | tail -n 30 || true
failed=$(grep -oE '✘ Test .*recorded an issue( with [0-9]+ arguments? [^ ]+ → [^ ]+)?' "$log" \
    | sed -E 's/ recorded an issue( with [0-9]+ arguments? [^ ]+ → )?/ /' | sort -u || true)
if [ -n "$failed" ]; then
    echo "failing tests / cases:"
    printf '%s\n' "$failed" | sed 's/^/  /'
fi
exit "$status"
