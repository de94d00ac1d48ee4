#!/bin/sh
# A mailer for DeliverTests: records argv, working directory, ids,
# environment and stdin of each call, then exits with the status the
# arguments ask for.
d=$(dirname "$0")/out
n=$(ls "$d" | wc -l)
f=$d/call$n
{ echo "argv:"; for a in "$@"; do echo "[$a]"; done; echo "cwd: $(pwd)"; echo "id: $(id -u):$(id -g)"; echo "env:"; env | sort; } > "$f.info"
cat > "$f.stdin"
case "$*" in
*sleep*) sleep 4; exit 0;;
*tempfail*) exit 75;;
*nouser*) exit 67;;
*unavail*) exit 69;;
*nohost*) exit 68;;
*software*) exit 70;;
esac
exit 0
