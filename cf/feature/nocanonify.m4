divert(-1)
#
# FEATURE(`nocanonify'): do not look host names up in DNS (canonify_hosts: still\n# complete names with a dot; CANONIFY_DOMAIN names are completed).
#
define(`_SMX_NOCANONIFY_', `1')
ifelse(_ARG_, `canonify_hosts', `define(`_SMX_CANONIFY_HOSTS_', `1')', _ARG_, `', `',
	`_SMX_ERR(`FEATURE(`nocanonify'): unknown argument '_ARG_` (only canonify_hosts is known)')')
