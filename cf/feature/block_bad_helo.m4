divert(-1)
#
# FEATURE(`block_bad_helo'): remote clients that are not authenticated and
# not in a relay network may not use our own name or an unqualified name
# in HELO/EHLO.
#
define(`_SMX_BLOCK_BAD_HELO_', `1')
_SMX_CLASS(`{R}', `127.0.0.1')
_SMX_CLASS(`{R}', `IPv6:0:0:0:0:0:0:0:1 IPv6:::1')
_SMX_CLASS(`{w}', `[127.0.0.1]')
_SMX_CLASS(`{w}', `[IPv6:0:0:0:0:0:0:0:1] [IPv6:::1]')
