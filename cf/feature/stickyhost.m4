divert(-1)
#
# FEATURE(`stickyhost'): user@thishost is kept apart from plain user when a\n# MAIL_HUB or LOCAL_RELAY is used.
#
define(`_SMX_STICKYHOST_', `1')
