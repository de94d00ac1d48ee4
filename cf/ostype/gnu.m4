divert(-1)
#
# OSTYPE(`gnu'): the GNU system (Hurd).
#
_SMX_DEFAULT(`STATUS_FILE', `/var/log/sendmail.st')
_SMX_DEFAULT(`LOCAL_MAILER_PATH', `/libexec/mail.local')
_SMX_DEFAULT(`LOCAL_MAILER_ARGS', `mail $u')
define(`confEBINDIR', `/libexec')
