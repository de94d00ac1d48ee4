divert(-1)
#
# FEATURE(`delay_checks' [, `friend' | `hater']): make the connection and
# sender checks at RCPT time, so that recipients can opt out (Spam:addr
# FRIEND) or in (Spam:addr HATER) through the access map.
#
ifelse(_ARG_, `', `', _ARG_, `friend', `', _ARG_, `hater', `',
	`_SMX_ERR(`FEATURE(`delay_checks', '_ARG_`): the argument must be friend or hater')')
define(`_SMX_DELAY_CHECKS_', ifelse(_ARG_, `', `yes', _ARG_))
define(`_DELAY_CHECKS_', `1')
