divert(-1)
#
# OSTYPE(`aix5'): AIX 5 and later.
#
_SMX_DEFAULT(`LOCAL_MAILER_PATH', `/bin/bellmail')
_SMX_DEFAULT(`LOCAL_MAILER_ARGS', `mail -F $g $u')
_SMX_DEFAULT(`LOCAL_MAILER_FLAGS', `mn9')
define(`confEBINDIR', `/usr/lib')
define(`confTIME_ZONE', `USE_TZ')
