divert(-1)
#
# FEATURE(`lookupdotdomain'): access map lookups also try .domain for parent domains.
#
define(`_SMX_LOOKUPDOTDOMAIN_', `1')
