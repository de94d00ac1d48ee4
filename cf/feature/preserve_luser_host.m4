divert(-1)
#
# FEATURE(`preserve_luser_host'): keep the recipient host when forwarding to LUSER_RELAY.
#
ifdef(`LUSER_RELAY', `', `_SMX_WARN(`FEATURE(`preserve_luser_host') has no effect without LUSER_RELAY defined before it')')
define(`_SMX_PRESERVE_LUSER_HOST_', `1')
define(`_SMX_NEED_MACRO_MAP_', `1')
