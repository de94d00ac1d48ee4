divert(-1)
#
# FEATURE(`relay_hosts_only'): RELAY_DOMAIN and access entries name hosts, not domains.
#
define(`_SMX_RELAY_HOSTS_ONLY_', `1')
