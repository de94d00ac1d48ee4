divert(-1)
#
# FEATURE(`loose_relay_check'): do not strip relay hosts from user%host@relay before deciding.
#
define(`_SMX_LOOSE_RELAY_', `1')
