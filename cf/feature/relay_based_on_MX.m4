divert(-1)
#
# FEATURE(`relay_based_on_MX'): relay for domains whose MX records point at us.
#
define(`_SMX_RELAY_MX_', `1')
PUSHDIVERT(5)Kmxserved bestmx -z: -T<TEMP>
POPDIVERT
