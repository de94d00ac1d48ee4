divert(-1)
#
# HACK(`msp_nullclient', hub): a submission-program configuration that
# sends everything to hub (Debian).
#
ifelse(_ARG_, `', `_SMX_ERR(`HACK(`msp_nullclient') needs the name of the hub as argument')')
ifdef(`DEBIAN_MSP', `', `DOMAIN(`debian-msp')')
undefine(`ALIAS_FILE')
define(`MAIL_HUB', _ARG_)
define(`SMART_HOST', _ARG_)
define(`confFORWARD_PATH', `')
_SMX_DEFAULT(`confFROM_HEADER', `<$g>')
define(`STATUS_FILE', ifdef(`STATUS_FILE', `patsubst(STATUS_FILE, `sendmail\.st', `sm-client.st')', `/var/run/sm-client.st'))
define(`confUSE_MSP', `True')
define(`confPRIVACY_FLAGS', `goaway,noetrn')
define(`confRUN_AS_USER', `smmsp')
define(`confTRUSTED_USER', `smmsp')
define(`QUEUE_DIR', ifdef(`MSP_QUEUE_DIR', `MSP_QUEUE_DIR', `/var/spool/clientmqueue'))
_SMX_DEFAULT(`confPID_FILE', QUEUE_DIR`/sm-client.pid')
define(`confQUEUE_FILE_MODE', `0660')
FEATURE(`no_default_msa')
ifdef(`_SMX_DAEMONS_', `', `DAEMON_OPTIONS(`Name=NoMTA, Addr=127.0.0.1, M=E')')
