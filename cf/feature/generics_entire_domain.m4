divert(-1)
#
# FEATURE(`generics_entire_domain'): GENERICS_DOMAIN entries also cover their subdomains.
#
define(`_SMX_GENERICS_ENTIRE_', `1')
