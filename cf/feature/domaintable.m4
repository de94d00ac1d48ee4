divert(-1)
#
# FEATURE(`domaintable'): map old domain names to new ones (domaintable map).
#
define(`_SMX_DOMAINTABLE_', `1')
PUSHDIVERT(5)Kdomaintable ifelse(_ARG_, `', `hash MAIL_SETTINGS_DIR`'domaintable', _ARG_)
POPDIVERT
