divert(-1)
#
# OSTYPE(`openbsd'): OpenBSD.
#
_SMX_DEFAULT(`STATUS_FILE', `/var/log/sendmail.st')
_SMX_DEFAULT(`LOCAL_MAILER_PATH', `/usr/libexec/mail.local')
_SMX_DEFAULT(`LOCAL_MAILER_FLAGS', `rmn9S')
_SMX_DEFAULT(`UUCP_MAILER_ARGS', `uux - -r -z -a$g $h!rmail ($u)')
