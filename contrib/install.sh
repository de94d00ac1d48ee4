#!/usr/bin/env bash
# install.sh — install the release build the way a sendmail site expects it:
#   $PREFIX/sbin/sendmail, makemap, praliases, mailstats
#   $PREFIX/sbin/newaliases          -> sendmail   (argv[0] mode -bi)
#   $PREFIX/bin/mailq, hoststat, purgestat -> ../sbin/sendmail (-bp, -bh, -bH)
#   $PREFIX/libexec/sendmail-swift/mail.local, smrsh
# Nothing under /etc is created or changed; configuration stays the site's.
# Usage: [DESTDIR=/stage] [PREFIX=/usr/local] [BUILD_DIR=.build/release] [NO_BUILD=1] contrib/install.sh
# Promises: idempotent (existing links and binaries are replaced); fails
# before copying anything if a binary is missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="/opt/swift/usr/bin:$PATH"
prefix="${PREFIX:-/usr/local}"
dest="${DESTDIR:-}"
build="${BUILD_DIR:-$root/.build/release}"
bins=(sendmail makemap praliases mailstats mail.local smrsh)

if [ "${NO_BUILD:-0}" != 1 ]; then
    for b in "${bins[@]}"; do swift build -c release --product "$b"; done
fi
for b in "${bins[@]}"; do
    [ -x "$build/$b" ] || { echo "install.sh: $build/$b is missing (build first or set BUILD_DIR)" >&2; exit 1; }
done

sbin="$dest$prefix/sbin" bin="$dest$prefix/bin" libexec="$dest$prefix/libexec/sendmail-swift"
install -d -m 0755 "$sbin" "$bin" "$libexec"
for b in sendmail makemap praliases mailstats; do install -m 0755 "$build/$b" "$sbin/$b"; done
for b in mail.local smrsh; do install -m 0755 "$build/$b" "$libexec/$b"; done
ln -sfn sendmail "$sbin/newaliases"
for l in mailq hoststat purgestat; do ln -sfn ../sbin/sendmail "$bin/$l"; done
echo "installed in $dest$prefix: sbin/{sendmail,newaliases,makemap,praliases,mailstats}," \
     "bin/{mailq,hoststat,purgestat}, libexec/sendmail-swift/{mail.local,smrsh}"
