divert(-1)
#
# FEATURE(`preserve_local_plus_detail'): hand user+detail to the local mailer unchanged.
#
define(`_SMX_PRESERVE_PLUS_', `1')
