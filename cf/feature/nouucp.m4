divert(-1)
#
# FEATURE(`nouucp', `reject' | `nospecial'): no UUCP address handling;
# "!" is not a routing character.  With reject, addresses containing "!"
# need relaying permission; with nospecial, "!" is an ordinary character.
#
ifelse(_ARG_, `reject', `', _ARG_, `nospecial', `',
	`_SMX_ERR(`FEATURE(`nouucp') needs an argument: reject or nospecial')')
define(`_SMX_NO_UUCP_', ifelse(_ARG_, `', `nospecial', _ARG_))
define(`_NO_UUCP_', `1')
