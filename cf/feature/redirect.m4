divert(-1)
#
# FEATURE(`redirect'): an alias to user@new.host.REDIRECT rejects mail with
# "551 User has moved; please try <user@new.host>".
#
define(`_SMX_REDIRECT_', `1')
_SMX_CLASS(`P', `REDIRECT')
