divert(-1)
#
# FEATURE(`promiscuous_relay'): relay for everyone.  Never use this on the Internet.
#
define(`_SMX_PROMISCUOUS_', `1')
errprint(`*** WARNING: FEATURE(`promiscuous_relay') makes this host an open relay
')
