divert(-1)
#
# OSTYPE(`solaris8'): Solaris 8 to 10 (LMTP delivery to mail.local).
#
_SMX_DEFAULT(`UUCP_MAILER_ARGS', `uux - -r -a$g $h!rmail ($u)')
define(`confEBINDIR', `/usr/lib')
define(`confPID_FILE', `/var/run/sendmail.pid')
define(`_NETINET6_')
FEATURE(`local_lmtp')
