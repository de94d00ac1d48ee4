divert(-1)
#
# FEATURE(`local_no_masquerade'): do not masquerade mail delivered by the local mailer.
#
define(`_SMX_LOCAL_NO_MASQ_', `1')
