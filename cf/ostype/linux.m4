divert(-1)
#
# OSTYPE(`linux'): GNU/Linux.  Local delivery through procmail, as most
# distributions ship it; override with LOCAL_MAILER_PATH etc. or choose
# another local delivery feature.
#
define(`confEBINDIR', `/usr/sbin')
_SMX_DEFAULT(`PROCMAIL_MAILER_PATH', `/usr/bin/procmail')
FEATURE(`local_procmail')
