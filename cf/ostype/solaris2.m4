divert(-1)
#
# OSTYPE(`solaris2'): Solaris 2 up to 7.
#
_SMX_DEFAULT(`LOCAL_MAILER_PATH', `/usr/lib/mail.local')
_SMX_DEFAULT(`LOCAL_MAILER_FLAGS', `fSmn9')
_SMX_DEFAULT(`LOCAL_MAILER_ARGS', `mail.local -d $u')
_SMX_DEFAULT(`UUCP_MAILER_ARGS', `uux - -r -a$g $h!rmail ($u)')
define(`confEBINDIR', `/usr/lib')
