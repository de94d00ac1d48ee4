divert(-1)
#
# FEATURE(`relay_mail_from'): relay when the envelope sender has RELAY in the access map\n# (From: entries; `domain' also checks the domain).
#
ifdef(`_ACCESS_TABLE_', `', `_SMX_ERR(`FEATURE(`relay_mail_from') needs FEATURE(`access_db') first')')
define(`_SMX_RELAY_MAIL_FROM_', ifelse(_ARG_, `domain', `domain', `yes'))
errprint(`*** WARNING: FEATURE(`relay_mail_from') lets anyone who forges such a sender relay
')
