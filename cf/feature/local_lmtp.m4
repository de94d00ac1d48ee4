divert(-1)
#
# FEATURE(`local_lmtp' [, path [, argv]]): deliver locally with LMTP to
# mail.local (default /usr/sbin/mail.local, "mail.local -l").
#
define(`_SMX_LOCAL_LMTP_', `1')
define(`_LOCAL_LMTP_', `1')
define(`LOCAL_MAILER_PATH', ifelse(_ARG_, `', `/usr/sbin/mail.local', _ARG_))
define(`LOCAL_MAILER_ARGS', ifelse(_ARG2_, `', `mail.local -l', _ARG2_))
define(`LOCAL_MAILER_FLAGS', ifelse(_ARG3_, `', `PSXmnz9', _ARG3_))
define(`LOCAL_MAILER_DSN_DIAGNOSTIC_CODE', `SMTP')
