divert(-1)
#
# FEATURE(`ratecontrol' [, `nodelay' [, `terminate']]): limit the rate of
# connections per client (ClientRate: entries in the access map).
# nodelay checks at connection time (needs delay_checks); terminate
# answers 421 and drops the connection instead of 452.
#
ifdef(`_ACCESS_TABLE_', `', `_SMX_ERR(`FEATURE(`ratecontrol') needs FEATURE(`access_db') first')')
define(`_SMX_RATECONTROL_', `1')
define(`_SMX_ACCESS_A_IN_SRC_', `1')
ifelse(_ARG_, `nodelay', `ifdef(`_SMX_DELAY_CHECKS_', `define(`_SMX_RATE_NODELAY_', `1')',
	`_SMX_ERR(`FEATURE(`ratecontrol', `nodelay') needs FEATURE(`delay_checks') first')')',
	_ARG_, `', `',
	`_SMX_ERR(`FEATURE(`ratecontrol'): unknown first argument '_ARG_` (only nodelay is known)')')
define(`_SMX_RATE_MSG_', ifelse(_ARG2_, `terminate', `421', `452')` Connection rate limit exceeded.')
