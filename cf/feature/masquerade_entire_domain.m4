divert(-1)
#
# FEATURE(`masquerade_entire_domain'): MASQUERADE_DOMAIN entries also cover their subdomains.
#
define(`_SMX_MASQ_ENTIRE_', `1')
