#!/bin/sh
# Fills box/ with the file targets of MailerFormatTests' aliases: a
# mailbox of DefaultUser (mail), an executable file, set-user-ID and
# set-group-ID files that only their owner (bin) or group (daemon) may
# write, a hard link, a symbolic link, a directory, a world-writable
# file, a read-only directory and a safe environment (safe/) with a
# symbolic link to a file outside it, one to the directory outside it
# and a directory without execute bits; a chroot for the "jail" mailer
# (dash as /bin/sh, its libraries, a mailer script that records its
# arguments, working directory and input in /out/rec).
set -e
cd "$(dirname "$0")/box"
: > mbox; chown mail:mail mbox; chmod 600 mbox
: > exec; chown mail:mail exec; chmod 700 exec
: > suid; chown bin:bin suid; chmod 4600 suid
: > sgid; chown root:daemon sgid; chmod 2620 sgid
: > target; chown mail:mail target; chmod 600 target; ln target hard
: > symtarget; chown mail:mail symtarget; chmod 600 symtarget; ln -s symtarget sym
mkdir dir; chown mail:mail dir
: > world; chmod 666 world
mkdir -m 755 ro
mkdir -m 755 safe safe/sub
: > safe/inside; chmod 666 safe/inside
: > safe/inside2; chmod 666 safe/inside2
: > safe/sub/file; chmod 666 safe/sub/file
ln -s "$(pwd)/world" safe/sym
ln -s "$(pwd)" safe/link-out
mkdir -m 666 safe/null
mkdir -p jail/bin jail/lib/x86_64-linux-gnu jail/lib64 jail/out jail/jailonly
cp /bin/dash jail/bin/sh
cp /lib/x86_64-linux-gnu/libc.so.6 jail/lib/x86_64-linux-gnu/
cp /lib64/ld-linux-x86-64.so.2 jail/lib64/
chmod 1777 jail/out
printf '%s\n' '#!/bin/sh' '{ echo "args: $*"; echo "pwd: $(pwd)"; while IFS= read -r l; do printf "%s\n" "$l"; done; } >> /out/rec' > jail/rec.sh
chmod 755 jail/rec.sh
