#!/bin/sh
# Build a .cf from every .mc in a directory with this library.
#   contrib/m4check/build-all.sh DIR [m4 options...]
# Each DIR/x.mc becomes DIR/x.cf; exits non-zero if any build fails.
here=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-.}; [ $# -gt 0 ] && shift
status=0
for mc in "$dir"/*.mc; do
	[ -e "$mc" ] || continue
	cf=${mc%.mc}.cf
	if m4 "$@" "$here/cf/m4/cf.m4" "$mc" > "$cf.tmp"; then
		mv "$cf.tmp" "$cf"; echo "built $cf"
	else
		rm -f "$cf.tmp"; echo "FAILED $mc" >&2; status=1
	fi
done
exit $status
