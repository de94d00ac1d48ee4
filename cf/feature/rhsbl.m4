divert(-1)
#
# FEATURE(`rhsbl', zone [, reject text]): reject senders whose domain is
# listed in a right-hand-side DNS block list; rhs: entries in the access
# map that accept (OK, RELAY) exempt a sender or domain.
#
ifelse(_ARG_, `', `_SMX_ERR(`FEATURE(`rhsbl') needs the DNS zone of the block list as first argument')')
ifdef(`_SMX_RHSBL_MAP_', `', `define(`_SMX_RHSBL_MAP_', `1')PUSHDIVERT(5)Kdnsbl host -T<TMP>
POPDIVERT`'')
define(`_SMX_NEED_MACRO_MAP_', `1')
PUSHDIVERT(8)dnl
# right-hand-side block list _ARG_
R$+			$: <@> $>CanonAddr $&f
R<@> $*<@$+.>		$: <@> <@$2.> $| $>SearchList <+ rhs> $| <F:$1@$2> <D:$2> <>
R<@> $* $| <$={Accept}>	$: OKSOFAR
R<@> $*<@$+.> $| $*	$: <?> $(dnsbl $2._ARG_. $: OK $) $(macro {RHS} $@ $2 $)
R<@> $*			$: OKSOFAR
R<?> OK			$: OKSOFAR
R<?>$+<TMP>		$: TMPOK
R<?>$+			$`#'error $@ 5.7.1 $: ifelse(_ARG2_, `', `"550 Mail from " $&{RHS} " refused by blackhole site _ARG_"', `_ARG2_')
POPDIVERT`'dnl
