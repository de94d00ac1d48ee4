divert(-1)
#
# FEATURE(`dnsbl', zone [, reject text [, `t']]): reject connecting
# clients whose address is listed in the DNS block list "zone".  The
# text (in sendmail quoting, may use $&{client_addr}) replaces the
# standard "550 Rejected: <addr> listed at <zone>".  With t, a failed
# lookup answers 451 instead of being ignored.
#
ifelse(_ARG_, `', `_SMX_ERR(`FEATURE(`dnsbl') needs the DNS zone of the block list as first argument')')
ifdef(`_SMX_DNSBL_MAP_', `', `define(`_SMX_DNSBL_MAP_', `1')PUSHDIVERT(5)Kdnsbl dns -R A -T<TMP>
POPDIVERT`'')
PUSHDIVERT(8)dnl
# DNS block list _ARG_
R$*			$: $&{client_addr}
R$-.$-.$-.$-		$: <?> $(dnsbl $4.$3.$2.$1._ARG_. $: OK $)
R<?>OK			$: OKSOFAR
ifelse(_ARG3_, `t', `R<?>$+<TMP>		$`#'error $@ 4.4.3 $: "451 Temporary lookup failure of " $&{client_addr} " at _ARG_"',
`R<?>$+<TMP>		$: TMPOK')
R<?>$+		$`#'error $@ 5.7.1 $: ifelse(_ARG2_, `', `"550 Rejected: " $&{client_addr} " listed at _ARG_"', `_ARG2_')
POPDIVERT`'dnl
