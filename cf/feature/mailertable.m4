divert(-1)
#
# FEATURE(`mailertable'): per-domain routing (mailertable map).
#
define(`_SMX_MAILERTABLE_', `1')
PUSHDIVERT(5)Kmailertable ifelse(_ARG_, `', `hash MAIL_SETTINGS_DIR`'mailertable', _ARG_)
POPDIVERT
