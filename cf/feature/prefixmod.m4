divert(-1)
#
# FEATURE(`prefixmod', prefix, flags): recipients written as
# "prefix user" get the recipient flags set in {rcpt_flags} and the
# prefix removed.
#
ifelse(_ARG_, `', `_SMX_ERR(`FEATURE(`prefixmod') needs two arguments: the prefix and the flags')',
	_ARG2_, `', `_SMX_ERR(`FEATURE(`prefixmod') needs two arguments: the prefix and the flags')')
define(`_SMX_NEED_MACRO_MAP_', `1')
define(`_SMX_PREFIXMOD_', `R '_ARG_` $`'+	$`': $`'1 $(macro {rcpt_flags} $`'@ '_ARG2_` $)
')
