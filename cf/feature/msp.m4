divert(-1)
#
# FEATURE(`msp' [, host [, `MSA']]): configuration for the mail submission
# program (submit.cf): everything is relayed to the MTA on host (default
# [localhost]); with MSA as second argument port 587 is used.
#
define(`_SMX_MSP_', `1')
define(`_SMX_MSP_HOST_', ifelse(_ARG_, `', `[localhost]', _ARG_))
ifelse(_ARG2_, `MSA', `define(`RELAY_MAILER_ARGS', `TCP $h 587')')
define(`_SMX_CLASS_MTAHOST_', `1')
PUSHDIVERT(5)D{MTAHost}_SMX_MSP_HOST_
POPDIVERT
undefine(`ALIAS_FILE')
define(`confDELIVERY_MODE', `i')
define(`confFORWARD_PATH', `')
define(`confQUEUE_FILE_MODE', ifdef(`confQUEUE_FILE_MODE', `confQUEUE_FILE_MODE', `0660'))
define(`QUEUE_DIR', ifdef(`MSP_QUEUE_DIR', `MSP_QUEUE_DIR', `/var/spool/clientmqueue'))
_SMX_DEFAULT(`STATUS_FILE', QUEUE_DIR`/sm-client.st')
_SMX_DEFAULT(`confPID_FILE', QUEUE_DIR`/sm-client.pid')
define(`confUSE_MSP', `True')
define(`confPRIVACY_FLAGS', `goaway,noetrn,restrictqrun')
_SMX_DEFAULT(`confRUN_AS_USER', `smmsp')
_SMX_DEFAULT(`confTRUSTED_USER', `smmsp')
define(`confDONT_PROBE_INTERFACES', `True')
define(`_SMX_NO_DEFAULT_MSA_', `1')
define(`_SMX_DAEMONS_', `O DaemonPortOptions=Name=NoMTA, Addr=127.0.0.1, M=E
')
# the "mailers" all talk SMTP to the MTA
define(`LOCAL_MAILER_PATH', `[IPC]')
define(`LOCAL_MAILER_ARGS', `TCP $h')
define(`LOCAL_MAILER_DSN_DIAGNOSTIC_CODE', `SMTP')
define(`_SMX_LOCAL_FLAGS_BASE_', `lmDFMuXkw5')
define(`LOCAL_MAILER_FLAGS', `')
define(`LOCAL_SHELL_PATH', `[IPC]')
define(`LOCAL_SHELL_ARGS', `TCP $h')
define(`_SMX_SHELL_FLAGS_BASE_', `lmDFMuXk5')
define(`LOCAL_SHELL_FLAGS', `')
define(`SMTP_MAILER_FLAGS', `k5')
define(`RELAY_MAILER_FLAGS', `k')
MAILER(`local')
MAILER(`smtp')
undefine(`_SMX_MAILER_SEEN_')
