#!/bin/sh
# Differential check of cf/m4 against sendmail's m4 library; see compare.py.
exec python3 "$(dirname "$0")/compare.py" "$@"
