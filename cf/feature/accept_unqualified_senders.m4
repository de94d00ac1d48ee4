divert(-1)
#
# FEATURE(`accept_unqualified_senders'): accept MAIL FROM addresses without a domain from any client.
#
define(`_SMX_ACCEPT_UNQUALIFIED_', `1')
