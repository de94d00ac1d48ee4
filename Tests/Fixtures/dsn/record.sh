#!/usr/bin/env bash
# record.sh — records bounces made by the real sendmail 8.17 for the
# SMDSNTests golden cases: a message to two recipients whose local mailer
# fails them with exit 67 (grouped delivery), returned to root, once with the
# whole message (RET=FULL), once with -R hdrs, once with an 8-bit body.
# Run as root from the repository root: Tests/Fixtures/dsn/record.sh
set -euo pipefail
root="$(pwd)"
out="$root/Tests/Fixtures/dsn"
work="$root/.build/oracle-scratch/dsn-record"
rm -rf "$work"; mkdir -p "$work/q" "$work/mb"; chmod 700 "$work/q"; chmod 777 "$work/mb"
cat > "$work/mailer.sh" <<EOS
#!/bin/sh
case "\$2" in fail*) echo "no such user here: \$2" >&2; exit 67;; esac
cat >> "$work/mb/\$2"
EOS
chmod 755 "$work/mailer.sh"
printf 'hosts files\n' > "$work/switch"
cat > "$work/dsn.cf" <<EOS
V10
Cwlocalhost vm vm.example.test
Dj\$w.example.test
O QueueDirectory=$work/q
O ServiceSwitchFile=$work/switch
O DontProbeInterfaces=true
O ErrorMode=m
Mlocal, P=$work/mailer.sh, F=lsDFMA5:/|@qmn9, S=10, R=20, A=mailer.sh \$f \$u
S0
R\$+ < @ \$* >	\$#error \$@ 5.1.2 \$: "550 not local"
R\$+	\$#local \$: \$1
S1
S2
S3
R\$*<\$*>\$*	\$2
S4
S10
S20
EOS
run() { "$root/contrib/oracle/sandbox-bt.sh" -r /usr/libexec/sendmail/sendmail "$work/dsn.cf" "$@"; }
for case in full hdrs 8bit; do
    rm -f "$work/mb/root"
    case $case in
        full) printf 'Subject: test\nFrom: root\n\nhello\nworld\n' | run -odq -oi failuser okuser;;
        hdrs) printf 'Subject: test\nFrom: root\n\nhello\nworld\n' | run -odq -oi -R hdrs failuser okuser;;
        8bit) printf 'Subject: caf\351\nFrom: root\n\ncaf\351 au lait\n' | run -odq -oi -B8BITMIME failuser;;
    esac
    sleep 1
    run -q -v >/dev/null 2>&1 || true   # -v: the run stays in the foreground
    cp "$work/mb/root" "$out/bounce-$case.txt"
done
echo "recorded: $(ls "$out"/bounce-*.txt)"
