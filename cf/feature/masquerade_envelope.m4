divert(-1)
#
# FEATURE(`masquerade_envelope'): masquerade envelope senders as well as headers.
#
define(`_SMX_MASQ_ENVELOPE_', `1')
