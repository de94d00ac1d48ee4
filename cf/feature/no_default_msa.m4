divert(-1)
#
# FEATURE(`no_default_msa'): do not add the default submission daemon
# (port 587, M=E); declare it yourself with DAEMON_OPTIONS if wanted.
#
define(`_SMX_NO_DEFAULT_MSA_', `1')
