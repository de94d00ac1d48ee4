divert(-1)
#
# OSTYPE(`bsd4.4'): 4.4BSD and derivatives without an OSTYPE of their own.
#
_SMX_DEFAULT(`STATUS_FILE', `/var/log/sendmail.st')
_SMX_DEFAULT(`LOCAL_MAILER_PATH', `/usr/libexec/mail.local')
_SMX_DEFAULT(`UUCP_MAILER_ARGS', `uux - -r -z -a$g $h!rmail ($u)')
