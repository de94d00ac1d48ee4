divert(-1)
#
# FEATURE(`virtusertable'): virtual users and domains (virtusertable map).
#
define(`_SMX_VIRTUSER_', `1')
PUSHDIVERT(5)Kvirtuser ifelse(_ARG_, `', `hash MAIL_SETTINGS_DIR`'virtusertable', _ARG_)
POPDIVERT
