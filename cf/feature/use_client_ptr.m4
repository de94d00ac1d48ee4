divert(-1)
#
# FEATURE(`use_client_ptr'): relay decisions use ${client_ptr} instead of ${client_resolve}.
#
define(`_SMX_USE_CLIENT_PTR_', `1')
