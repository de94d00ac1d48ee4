divert(-1)
#
# FEATURE(`nullclient', hub): a host that keeps no mail: everything,
# local recipients included, goes to hub, and senders are shown as hub.
# No aliases or .forward files.  Declares the local and smtp mailers.
#
ifelse(_ARG_, `', `_SMX_ERR(`FEATURE(`nullclient') needs the name of the mail hub as argument')')
define(`_SMX_NULLCLIENT_', `1')
define(`SMART_HOST', _ARG_)
define(`MAIL_HUB', _ARG_)
define(`_SMX_MASQ_AS_', _ARG_)
define(`_SMX_ALLMASQ_', `1')
define(`_SMX_MASQ_ENVELOPE_', `1')
undefine(`ALIAS_FILE')
define(`confFORWARD_PATH', `')
MODIFY_MAILER_FLAGS(`LOCAL', `-Aw:/|@')
MAILER(`local')
MAILER(`smtp')
undefine(`_SMX_MAILER_SEEN_')
