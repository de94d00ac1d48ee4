divert(-1)
#
# FEATURE(`genericstable'): rewrite sender addresses of local users and of\n# GENERICS_DOMAIN domains (genericstable map).
#
define(`_SMX_GENERICS_', `1')
PUSHDIVERT(5)Kgenerics ifelse(_ARG_, `', `hash MAIL_SETTINGS_DIR`'genericstable', _ARG_)
POPDIVERT
