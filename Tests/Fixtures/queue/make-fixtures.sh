#!/bin/sh
# make-fixtures.sh -- how the golden qf files in this folder were made.
# Runs the real sendmail 8.17 (Debian sendmail-bin) with a test cf in queue-only
# mode inside a private UTS namespace (host name vm.example.test), then copies
# each qf (and the size of its df) here.  Run as root.  Timestamps, pids and
# inode numbers differ each run; the tests only need the files to be real.
set -e
S=${S:-/work/wt-queue/.build/qscratch}
OUT=$(cd "$(dirname "$0")" && pwd)
SM="timeout 20 unshare -u sh -c 'hostname vm.example.test; exec \"\$0\" \"\$@\"' /usr/libexec/sendmail/sendmail -C $S/q.cf"
run() { eval "$SM \"\$@\""; }
mkdir -p "$S/mqueue"; chmod 755 "$S"; chmod 700 "$S/mqueue"
rm -f "$S"/mqueue/*
cd "$S"
export TZ=UTC

# 1. -t, several recipients, -f, DSN options on the command line, folded header.
printf 'From: Some One <someone@client.example>\nTo: root, daemon@vm.example.test,\n  "Quoted Name" <nobody@vm.example.test>\nCc: list\nSubject: a long subject line that goes on and on so that it needs\n\tfolding across two lines\nX-Custom: value\n\nbody line\n' \
  | run -odq -t -f someone@client.example -N success,failure -R hdrs -V env-cmdline-1 || true
# 2. 8-bit body, -B8BITMIME, Bcc, include list (controlling user lines).
printf 'To: inc\nBcc: root\nSubject: caf\351\n\nna\357ve body \344\366\374\n' \
  | run -odq -t -B8BITMIME -F 'Sender Name' || true
# 3. argv recipients, NOTIFY=never, RET=full
printf 'Subject: plain\n\nx\n' | run -odq -N never -R full root daemon || true
# 4. SMTP on stdin/stdout with DSN parameters (one command per reply, as a
#    real client would: sendmail rejects input sent before its greeting).
python3 - "$S" <<'PYEOF'
import subprocess, sys
S = sys.argv[1]
p = subprocess.Popen(["timeout", "20", "unshare", "-u", "sh", "-c",
    'hostname vm.example.test; exec "$0" "$@"', "/usr/libexec/sendmail/sendmail",
    "-C", S + "/q.cf", "-bs"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
out = open(S + "/smtp.out", "wb")
def reply():
    while True:
        l = p.stdout.readline(); out.write(l)
        if not l or l[3:4] != b"-": return
reply()
for c in [b"EHLO client.example", b"MAIL FROM:<sender@client.example> RET=HDRS ENVID=env-123 SIZE=300 BODY=8BITMIME BY=86400;N",
          b"RCPT TO:<root@vm.example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;root@vm.example.test",
          b"RCPT TO:<list@vm.example.test> NOTIFY=FAILURE,DELAY", b"RCPT TO:<blocked@vm.example.test>",
          b"RCPT TO:<daemon@vm.example.test> NOTIFY=NEVER ORCPT=rfc822;d+2Bx@vm.example.test", b"DATA",
          b"From: sender@client.example\r\nSubject: smtp\r\n\r\nhello \xe4\r\n.", b"QUIT"]:
    p.stdin.write(c + b"\r\n"); p.stdin.flush(); reply()
p.wait()
PYEOF
# 5. One quarantined message.
printf 'Subject: quarantine me\n\nq\n' | run -odq root || true
QID=$(ls -t mqueue | grep '^qf' | head -1 | cut -c3-)
run -qI"$QID" -Q"held for review" > /dev/null || true
# 6. One deferred entry with an M line: run the queue once for a message whose
#    recipient fails with a temporary error (the bounce of #1..#4 also goes there).
printf 'Subject: deferred\n\nd\n' | run -odq 'user@[127.0.0.1]' || true
run -q -O Timeout.queuereturn=5d > /dev/null 2>&1 || true
sleep 3   # the queue runner forks; let it finish
ls -la mqueue
for f in mqueue/qf* mqueue/hf*; do
  [ -f "$f" ] || continue
  b=$(basename "$f"); cp "$f" "$OUT/$b"
  d="mqueue/df$(echo "$b" | cut -c3-)"; if [ -f "$d" ]; then stat -c %s "$d" > "$OUT/$b.dfsize"; fi
done
