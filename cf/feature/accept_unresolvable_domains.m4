divert(-1)
#
# FEATURE(`accept_unresolvable_domains'): accept MAIL FROM domains that do not resolve in DNS.
#
define(`_SMX_ACCEPT_UNRESOLVABLE_', `1')
