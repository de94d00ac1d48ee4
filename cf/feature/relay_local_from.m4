divert(-1)
#
# FEATURE(`relay_local_from'): relay when the envelope sender is in our domains\n# (easily forged; AUTH or STARTTLS are better).
#
define(`_SMX_RELAY_LOCAL_FROM_', `1')
errprint(`*** WARNING: FEATURE(`relay_local_from') lets anyone who forges a local sender relay
')
