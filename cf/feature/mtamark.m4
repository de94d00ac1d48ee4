divert(-1)
#
# FEATURE(`mtamark' [, reject text [, `t']]): accept connections only from
# addresses marked as MTAs in the reverse DNS zone (MTAMARK TXT records).
#
PUSHDIVERT(5)Kmtamark dns -R TXT -a. -T<TMP> -r5
POPDIVERT`'dnl
PUSHDIVERT(8)dnl
# mtamark: is the client address marked as a mail server?
R$*		$: $&{client_addr}
R$-.$-.$-.$-	$: <?> $(mtamark _perm._smtp._srv.$4.$3.$2.$1.in-addr.arpa. $: OK $)
R<?>1.		$: OKSOFAR
R<?>0.		$`#'error $@ 5.7.1 $: ifelse(_ARG_, `', `"550 Rejected: " $&{client_addr} " not listed as MTA"', `_ARG_')
ifelse(_ARG2_, `t', `R<?>$+<TMP>	$`#'error $@ 4.4.3 $: "451 Temporary lookup failure of " _perm._smtp._srv.$&{client_addr}',
`R<?>$+<TMP>	$: TMPOK')
POPDIVERT`'dnl
