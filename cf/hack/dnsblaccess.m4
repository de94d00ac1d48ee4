divert(-1)
#
# HACK(`dnsblaccess', zone [, reject text [, `t' [, access tag]]]): a DNS
# block list whose answers are looked up in the access map under the tag
# (default dnsblaccess:), so that each listing value can be OK, REJECT,
# ERROR:... or DISCARD.
#
ifdef(`_ACCESS_TABLE_', `', `_SMX_ERR(`HACK(`dnsblaccess') needs FEATURE(`access_db') first')')
ifdef(`_SMX_EDNSBL_MAP_', `', `define(`_SMX_EDNSBL_MAP_', `1')PUSHDIVERT(5)Kednsbl dns -R A -a. -T<TMP> -r`'ifdef(`EDNSBL_TO', `EDNSBL_TO', `5')
POPDIVERT`'')
define(`_SMX_DBA_ZONE', ifelse(_ARG_, `', `blackholes.mail-abuse.org', _ARG_))
define(`_SMX_DBA_KEY', ifelse(_ARG4_, `', `dnsblaccess', _ARG4_))
PUSHDIVERT(8)dnl
# DNS block list _SMX_DBA_ZONE, answers checked in the access map
R$*			$: $&{client_addr}
R$-.$-.$-.$-		$: <?> $(ednsbl $4.$3.$2.$1._SMX_DBA_ZONE. $: OK $) <>$1.$2.$3.$4
R<?>OK<>$*		$: OKSOFAR
R<?>$+<TMP><>$*		$: <? <TMPF>>
R<?>$* $- .<>$*		<$(access _SMX_DBA_KEY:$1$2 $@$3 $@_SMX_DBA_ZONE $: ? $)> $1 <>$3
R<?>$* <>$*		$:<$(access _SMX_DBA_KEY: $@$2 $@_SMX_DBA_ZONE $: ? $)> <>$2
ifelse(_ARG3_, `', `R<$*<TMPF>>$*		$: TMPOK',
`R<$*<TMPF>>$*		$`#'error $@ 4.4.3 $: ifelse(_ARG3_, `t', `"451 Temporary lookup failure of " $&{client_addr} " at _SMX_DBA_ZONE"', `_ARG3_')')
R<$={Accept}>$*		$: OKSOFAR
R<ERROR:$-.$-.$-:$+> $*	$`#'error $@ $1.$2.$3 $: $4
R<ERROR:$+> $*		$`#'error $: $1
R<DISCARD> $*		$`#'discard $: discard
R<$*> $*		$`#'error $@ 5.7.1 $: ifelse(_ARG2_, `', `"550 Rejected: " $&{client_addr} " listed at _SMX_DBA_ZONE"', `_ARG2_')
POPDIVERT`'dnl
