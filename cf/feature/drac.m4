divert(-1)
#
# FEATURE(`drac' [, map definition]): relay for client addresses that
# recently authenticated by POP/IMAP (dynamic relay authorization
# control; default hash MAIL_SETTINGS_DIR/drac).
#
define(`_SMX_DRAC_', `1')
PUSHDIVERT(5)Kdrac ifelse(_ARG_, `', `hash MAIL_SETTINGS_DIR`'drac', _ARG_)
POPDIVERT`'dnl
