divert(-1)
#
# FEATURE(`bestmx_is_local'): hosts whose best MX record points at us are treated as local.
#
define(`_SMX_BESTMX_LOCAL_', `1')
PUSHDIVERT(5)Kbestmx bestmx
POPDIVERT
