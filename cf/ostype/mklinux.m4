divert(-1)
#
# OSTYPE(`mklinux'): MkLinux (Linux on Mach).
#
define(`confEBINDIR', `/usr/sbin')
_SMX_DEFAULT(`STATUS_FILE', `/var/log/sendmail.st')
_SMX_DEFAULT(`PROCMAIL_MAILER_PATH', `/usr/bin/procmail')
FEATURE(`local_procmail')
