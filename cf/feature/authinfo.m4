divert(-1)
#
# FEATURE(`authinfo' [, map definition]): client AUTH credentials come from
# their own map (default hash MAIL_SETTINGS_DIR/authinfo) instead of
# AuthInfo: entries in the access map.
#
define(`_SMX_AUTHINFO_', `1')
PUSHDIVERT(5)Kauthinfo ifelse(_ARG_, `', `hash MAIL_SETTINGS_DIR`'authinfo', _ARG_)
POPDIVERT`'dnl
