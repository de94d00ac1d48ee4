divert(-1)
#
# FEATURE(`nopercenthack', `reject' | `nospecial'): "%" is not a routing
# character.  With reject, addresses containing "%" need relaying
# permission; with nospecial, "%" is an ordinary character.
#
ifelse(_ARG_, `reject', `', _ARG_, `nospecial', `',
	`_SMX_ERR(`FEATURE(`nopercenthack') needs an argument: reject or nospecial')')
define(`_SMX_NOPERCENT_', ifelse(_ARG_, `', `nospecial', _ARG_))
