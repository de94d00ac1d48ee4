#!/bin/sh
# Fills box/ with the file targets of MailerFormatTests' aliases: a
# mailbox of DefaultUser (mail), an executable file, set-user-ID and
# set-group-ID files that only their owner (bin) or group (daemon) may
# write, a hard link, a symbolic link, a directory, a world-writable
# file, a read-only directory and a safe environment (safe/) with a
# symbolic link to a file outside it, one to the directory outside it
# and a directory without execute bits.
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
