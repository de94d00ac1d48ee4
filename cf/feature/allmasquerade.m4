divert(-1)
#
# FEATURE(`allmasquerade'): masquerade recipient headers as well as sender headers.
#
define(`_SMX_ALLMASQ_', `1')
