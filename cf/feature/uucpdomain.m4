divert(-1)
#
# FEATURE(`uucpdomain'): rewrite user@host.UUCP to Internet names (uudomain map).
#
define(`_SMX_UUDOMAIN_', `1')
PUSHDIVERT(5)Kuudomain ifelse(_ARG_, `', `hash MAIL_SETTINGS_DIR`'uudomain', _ARG_)
POPDIVERT
