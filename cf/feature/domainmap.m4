divert(-1)
#
# FEATURE(`domainmap', domain, map definition): route user@domain by a
# per-domain map of user names (several domainmap lines are allowed).
#
ifelse(_ARG_, `', `_SMX_ERR(`FEATURE(`domainmap') needs a domain and a map definition')')
ifdef(`_SMX_DOMAINMAP_', `', `define(`_SMX_DOMAINMAP_', `1')dnl
PUSHDIVERT(5)K domainmap_regex regex -a.:NOTDONE: -s1,2 -d_ (.*)[-\.]([^-\.]*)$
POPDIVERT`'dnl
PUSHDIVERT(3)dnl
R$* $=O $* <@ $={MappedDomain} .>	$@ $>Recurse $1 $2 $3	drop the routing part
R$+ <@ $={MappedDomain} .>		$>DomainMapLookup $1 <@ $2 .>	mapped domain
POPDIVERT`'dnl
PUSHDIVERT(9)
# DomainMapLookup: user <@ domain .> through the domain map
SDomainMapLookup
R $=L <@ $=w .>		$@ $1 <@ $2 .>		local users stay
R $+ <@ $+>		$: $1 <@ $2 > <$&{addr_type}>
R $+ <@ $+> <e s>	$`#'smtp $@ $2 $: $1 @ $2		senders are not mapped
R $+ <@ $+> <$*>	$: $1 <@ $2> <$2 :NOTDONE:>
R $+ <$+> <$+ . :NOTDONE:>	$1 <$2> < $(domainmap_regex $3 $: $3 $) >
R $+ <$+> <$+>		$: $1 <$2> < $(dequote "domain_" $3 $) >
R $+ <$+> <$+>		$: $1 <$2> <$3> $1
R $+ <$+> <$+> $+ + $*	$: $1 <$2> <$3> $4
R $+ <$+> <$+> $+	$: $1 <$2> $( $3 $4 $: <ERROR> $)
R $+ <$+> <ERROR>	$`#'error $@ 5.1.1 $: "550 email address lookup in domain map failed"
R $+ <@ $+> $* <TEMP> $*	$`#'dsmtp $@ localhost $: $1 @ $2
R $+ + $* <$+> $+ @ $+		$: $1 + $2 <$3> $4 + $2 @ $5
R $+ <$+> $+		$@ $>Recurse $3
POPDIVERT`'dnl
')
_SMX_CLASS(`{MappedDomain}', _ARG_)
PUSHDIVERT(5)K domain_`'translit(_ARG_, `.-', `__') _ARG2_ -T<TEMP>
POPDIVERT`'dnl
