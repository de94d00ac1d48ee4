divert(-1)
#
# FEATURE(`enhdnsbl', zone [, reject text [, `t' [, value ...]]]): like
# dnsbl, but the lookup result can be checked: with values (such as
# `127.0.0.2.'), only those answers reject.
#
ifelse(_ARG_, `', `_SMX_ERR(`FEATURE(`enhdnsbl') needs the DNS zone of the block list as first argument')')
ifdef(`_SMX_EDNSBL_MAP_', `', `define(`_SMX_EDNSBL_MAP_', `1')PUSHDIVERT(5)Kednsbl dns -R A -a. -T<TMP> -r5
POPDIVERT`'')
define(`_SMX_EDNSBL_MSG', `ifelse(_ARG2_, `', `"550 Rejected: " $&{client_addr} " listed at _ARG_"', `_ARG2_')')
define(`_SMX_EDNSBL_VALUES',
`ifelse(`$1', `', `',
`R<?>$1		$`#'error $`'@ 5.7.1 $: _SMX_EDNSBL_MSG
_SMX_EDNSBL_VALUES(shift($@))')')
PUSHDIVERT(8)dnl
# DNS block list _ARG_ (checked results)
R$*			$: $&{client_addr}
R$-.$-.$-.$-		$: <?> $(ednsbl $4.$3.$2.$1._ARG_. $: OK $)
R<?>OK			$: OKSOFAR
ifelse(_ARG3_, `t', `R<?>$+<TMP>		$`#'error $@ 4.4.3 $: "451 Temporary lookup failure of " $&{client_addr} " at _ARG_"',
`R<?>$+<TMP>		$: TMPOK')
ifelse(_ARG4_, `', `R<?>$+		$`#'error $@ 5.7.1 $: _SMX_EDNSBL_MSG
', `_SMX_EDNSBL_VALUES(_ARG4_, _ARG5_, _ARG6_, _ARG7_, _ARG8_, _ARG9_)')dnl
POPDIVERT`'dnl
