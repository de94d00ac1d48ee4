divert(-1)
#
# FEATURE(`blocklist_recipients'): To: entries in the access map can reject recipients.
#
ifdef(`_ACCESS_TABLE_', `', `_SMX_ERR(`FEATURE(`blocklist_recipients') needs FEATURE(`access_db') first')')
define(`_SMX_BLOCKLIST_RCPTS_', `1')
