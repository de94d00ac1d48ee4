divert(-1)
#
# OSTYPE(`hpux11'): HP-UX 11.
#
_SMX_DEFAULT(`LOCAL_MAILER_PATH', `/usr/bin/rmail')
_SMX_DEFAULT(`LOCAL_MAILER_FLAGS', `m9')
_SMX_DEFAULT(`LOCAL_MAILER_ARGS', `rmail -d $u')
_SMX_DEFAULT(`LOCAL_SHELL_PATH', `/usr/bin/sh')
_SMX_DEFAULT(`UUCP_MAILER_ARGS', `uux - -r -a$g -gC $h!rmail ($u)')
define(`confTIME_ZONE', `USE_TZ')
