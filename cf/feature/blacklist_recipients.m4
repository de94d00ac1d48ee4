divert(-1)
#
# FEATURE(`blacklist_recipients'): old name of blocklist_recipients.
#
_SMX_WARN(`FEATURE(`blacklist_recipients') is an old name; use FEATURE(`blocklist_recipients')')
FEATURE(`blocklist_recipients')
