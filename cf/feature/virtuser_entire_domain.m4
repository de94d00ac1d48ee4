divert(-1)
#
# FEATURE(`virtuser_entire_domain'): VIRTUSER_DOMAIN entries also cover their subdomains.
#
define(`_SMX_VIRTUSER_ENTIRE_', `1')
