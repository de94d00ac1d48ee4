divert(-1)
#
# OSTYPE(`solaris11'): Solaris 11 and illumos.
#
_SMX_DEFAULT(`UUCP_MAILER_ARGS', `uux - -r -a$g $h!rmail ($u)')
define(`confEBINDIR', `/usr/lib')
define(`confPID_FILE', `/system/volatile/sendmail.pid')
define(`_NETINET6_')
FEATURE(`local_lmtp')
