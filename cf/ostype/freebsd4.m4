divert(-1)
#
# OSTYPE(`freebsd4'): FreeBSD 4.
#
_SMX_DEFAULT(`STATUS_FILE', `/var/log/sendmail.st')
MODIFY_MAILER_FLAGS(`LOCAL', `+S')
_SMX_DEFAULT(`LOCAL_MAILER_PATH', `/usr/libexec/mail.local')
_SMX_DEFAULT(`LOCAL_MAILER_ARGS', `mail $u')
_SMX_DEFAULT(`UUCP_MAILER_ARGS', `uux - -r -z -a$g $h!rmail ($u)')
