divert(-1)
#
# HACK(`xconnect'): an x_connect ruleset that asks, from XConnect:
# entries in the access map, whether to send XCONNECT to the next hop.
#
ifdef(`_ACCESS_TABLE_', `', `_SMX_ERR(`HACK(`xconnect') needs FEATURE(`access_db') first')')
PUSHDIVERT(9)
# x_connect: "client name $| client address" -> yes / no
Sx_connect
R$+ $| $+		$: $>D < $1 > <?> <! XConnect> < $2 >
R   $| $+		$: $>A < $1 > <?> <! XConnect> <>	no client name
R<?> <$+>		$: $>A < $1 > <?> <! XConnect> <>	try the address
R<?> <$*>		$`#' no					nothing found
R<$+> <$*>		$@ yes					found
POPDIVERT`'dnl
