divert(-1)
#
# FEATURE(`local_procmail' [, path [, argv [, flags]]]): deliver local mail
# through procmail instead of /bin/mail.
#
define(`_SMX_LOCAL_PROCMAIL_', `1')
ifelse(_ARG_, `',
	`_SMX_DEFAULT(`LOCAL_MAILER_PATH', ifdef(`PROCMAIL_MAILER_PATH', `PROCMAIL_MAILER_PATH', `/usr/local/bin/procmail'))',
	`define(`LOCAL_MAILER_PATH', _ARG_)')
ifelse(_ARG2_, `',
	`_SMX_DEFAULT(`LOCAL_MAILER_ARGS', `procmail -a $h -d $u')',
	`define(`LOCAL_MAILER_ARGS', _ARG2_)')
ifelse(_ARG3_, `',
	`_SMX_DEFAULT(`LOCAL_MAILER_FLAGS', `SPfhn9')',
	`define(`LOCAL_MAILER_FLAGS', _ARG3_)')
