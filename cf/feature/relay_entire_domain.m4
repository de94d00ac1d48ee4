divert(-1)
#
# FEATURE(`relay_entire_domain'): relay for every host in our domains (class m).
#
define(`_SMX_RELAY_ENTIRE_DOMAIN_', `1')
