divert(-1)
#
# FEATURE(`bitdomain'): rewrite user@host.BITNET to Internet names (bitdomain map).
#
define(`_SMX_BITDOMAIN_', `1')
PUSHDIVERT(5)Kbitdomain ifelse(_ARG_, `', `hash MAIL_SETTINGS_DIR`'bitdomain', _ARG_)
POPDIVERT
