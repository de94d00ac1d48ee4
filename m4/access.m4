divert(-1)
#
# access.m4 -- helper rulesets for lookups in the access map.
# Included by rules.m4 when FEATURE(`access_db') is used.
#
# All helpers take and return the same shape:
#   input:   <key> <default> <tag> <passthrough>
#            tag is "+ Tag" (try Tag:key, then the bare key) or
#                   "! Tag" (only Tag:key)
#   output:  <result> <passthrough>, result is the map value or the default
#
divert(0)dnl

#####################################################################
#   Access map helpers
#####################################################################

# D: a host name; strips leading labels (a.b.c, b.c, c) until a match
SD
R<$*> <$+> <$- $-> <$*>		$: < $(access $4:$1 $: ? $) > <$1> <$2> <$3 $4> <$5>
R<?> <$+> <$+> <+ $-> <$*>	$: < $(access $1 $: ? $) > <$1> <$2> <+ $3> <$4>
ifdef(`_SMX_ACCESS_SKIP_', `R<SKIP> <$+> <$+> <$- $-> <$*>	$@ <$2> <$5>			SKIP: use the default
')dnl
ifdef(`_SMX_LOOKUPDOTDOMAIN_', `R<?> <$+.$+> <$+> <$- $-> <$*>	$: < $(access $5:.$2 $: ? $) > <$1.$2> <$3> <$4 $5> <$6>
R<?> <$+.$+> <$+> <+ $-> <$*>	$: < $(access .$2 $: ? $) > <$1.$2> <$3> <+ $4> <$5>
')dnl
R<?> <[$+.$-]> <$+> <$- $-> <$*>	$@ $>D <[$1]> <$3> <$4 $5> <$6>	IPv4 literal: drop an octet
R<?> <[$+::$-]> <$+> <$- $-> <$*>	$: $>D <[$1]> <$3> <$4 $5> <$6>	IPv6 literal
R<?> <[$+:$-]> <$+> <$- $-> <$*>	$: $>D <[$1]> <$3> <$4 $5> <$6>	IPv6 literal
R<?> <$+.$+> <$+> <$- $-> <$*>	$@ $>D <$2> <$3> <$4 $5> <$6>		parent domain
R<?> <$+> <$+> <$- $-> <$*>	$@ <$2> <$5>				nothing: default
R<$* <TMPF>> <$+> <$+> <$- $-> <$*>	$@ <<TMPF>> <$6>			map failure
R<$*> <$+> <$+> <$- $-> <$*>	$@ <$1> <$6>				found

# A: an IP address; strips trailing octets (or IPv6 groups)
SA
R<$+> <$+> <$- $-> <$*>		$: < $(access $4:$1 $: ? $) > <$1> <$2> <$3 $4> <$5>
R<?> <$+> <$+> <+ $-> <$*>	$: < $(access $1 $: ? $) > <$1> <$2> <+ $3> <$4>
ifdef(`_SMX_ACCESS_SKIP_', `R<SKIP> <$+> <$+> <$- $-> <$*>	$@ <$2> <$5>			SKIP: use the default
')dnl
R<?> <$+::$-> <$+> <$- $-> <$*>		$@ $>A <$1> <$3> <$4 $5> <$6>	IPv6: drop a group
R<?> <$+:$-> <$+> <$- $-> <$*>		$@ $>A <$1> <$3> <$4 $5> <$6>	IPv6: drop a group
R<?> <$+.$-> <$+> <$- $-> <$*>		$@ $>A <$1> <$3> <$4 $5> <$6>	IPv4: drop an octet
R<?> <$+> <$+> <$- $-> <$*>	$@ <$2> <$5>				nothing: default
R<$* <TMPF>> <$+> <$+> <$- $-> <$*>	$@ <<TMPF>> <$6>			map failure
R<$*> <$+> <$+> <$- $-> <$*>	$@ <$1> <$6>				found

# F: a full address user@domain; tries user+*@domain and user@domain too
SF
R<$+> <$*> <$- $-> <$*>		$: <$(access $4:$1 $: ? $)> <$1> <$2> <$3 $4> <$5>
R<?> <$+> <$*> <+ $-> <$*>	$: <$(access $1 $: ? $)> <$1> <$2> <+ $3> <$4>
R<?> <$+ + $* @ $+> <$*> <$- $-> <$*>
			$: <$(access $6:$1+*@$3 $: ? $)> <$1+$2@$3> <$4> <$5 $6> <$7>
R<?> <$+ + $* @ $+> <$*> <+ $-> <$*>
			$: <$(access $1+*@$3 $: ? $)> <$1+$2@$3> <$4> <+ $5> <$6>
R<?> <$+ + $* @ $+> <$*> <$- $-> <$*>
			$: <$(access $6:$1@$3 $: ? $)> <$1+$2@$3> <$4> <$5 $6> <$7>
R<?> <$+ + $* @ $+> <$*> <+ $-> <$*>
			$: <$(access $1@$3 $: ? $)> <$1+$2@$3> <$4> <+ $5> <$6>
R<?> <$+> <$*> <$- $-> <$*>	$@ <$2> <$5>				nothing: default
R<$+ <TMPF>> <$*> <$- $-> <$*>	$@ <<TMPF>> <$5>			map failure
R<$+> <$*> <$- $-> <$*>		$@ <$1> <$5>				found

# E: exactly the key (may be empty)
SE
R<$*> <$*> <$- $-> <$*>		$: <$(access $4:$1 $: ? $)> <$1> <$2> <$3 $4> <$5>
R<?> <$+> <$*> <+ $-> <$*>	$: <$(access $1 $: ? $)> <$1> <$2> <+ $3> <$4>
R<?> <$+> <$*> <$- $-> <$*>	$@ <$2> <$5>				nothing: default
R<$+ <TMPF>> <$*> <$- $-> <$*>	$@ <<TMPF>> <$5>			map failure
R<$+> <$*> <$- $-> <$*>		$@ <$1> <$5>				found

# U: a user part "user@"; tries user+*@ and user@ for user+detail@
SU
R<$+> <$*> <$- $-> <$*>		$: <$(access $4:$1 $: ? $)> <$1> <$2> <$3 $4> <$5>
R<?> <$+> <$*> <+ $-> <$*>	$: <$(access $1 $: ? $)> <$1> <$2> <+ $3> <$4>
R<?> <$+ + $* @> <$*> <$- $-> <$*>
			$: <$(access $5:$1+*@ $: ? $)> <$1+$2@> <$3> <$4 $5> <$6>
R<?> <$+ + $* @> <$*> <+ $-> <$*>
			$: <$(access $1+*@ $: ? $)> <$1+$2@> <$3> <+ $4> <$5>
R<?> <$+ + $* @> <$*> <$- $-> <$*>
			$: <$(access $5:$1@ $: ? $)> <$1+$2@> <$3> <$4 $5> <$6>
R<?> <$+ + $* @> <$*> <+ $-> <$*>
			$: <$(access $1@ $: ? $)> <$1+$2@> <$3> <+ $4> <$5>
R<?> <$+> <$*> <$- $-> <$*>	$@ <$2> <$5>				nothing: default
R<$+ <TMPF>> <$*> <$- $-> <$*>	$@ <<TMPF>> <$5>			map failure
R<$+> <$*> <$- $-> <$*>		$@ <$1> <$5>				found

# SearchList: <tag> $| <X:key> <Y:key> ... <>
# runs helper X on key, then Y ..., and returns the first result, or <?>
C{Src}E F D U ifdef(`_SMX_ACCESS_A_IN_SRC_', `A')
SSearchList
R<$+> $| <$={Src}:$*> <$*>	$: <$1> $| <$4> $| $>$2 <$3> <?> <$1> <>
R<$+> $| <> $| <?> <>		$@ <?>					list exhausted
R<$+> $| <$+> $| <?> <>		$@ $>SearchList <$1> $| <$2>		next key
R<$+> $| <$*> $| <$+> <>	$@ <$3>					found
R<$+> $| <$+>			$@ <$2>
