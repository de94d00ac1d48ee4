#!/bin/sh
# deliver-mbox.sh — local mailer of relay-b.mc: appends the message to
# @SCRATCH@/mail/<user> as an mbox entry ("From " line, ">From " quoting).
# Written for this test suite.
{ echo "From MAILER-DAEMON $(date -u '+%a %b %e %H:%M:%S %Y')"; sed 's/^\(>*From \)/>\1/'; echo; } >> "@SCRATCH@/mail/$1"
