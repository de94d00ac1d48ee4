divert(-1)
#
# FEATURE(`require_rdns'): refuse clients whose address has no valid
# reverse DNS name (relay networks in class R excepted).
#
PUSHDIVERT(8)dnl
# require_rdns: the client address must resolve back to a name
R$*			$: $&{client_addr} $| $&{client_resolve}
R$=R $*			$@ RELAY		relay network
R$* $| OK		$@ OK			name resolves
R$* $| FAIL		$`#'error $@ 5.7.1 $: 550 Fix reverse DNS for $1
R$* $| TEMP		$`#'error $@ 4.1.8 $: 451 Client IP address $1 does not resolve
R$* $| FORGED		$`#'error $@ 4.1.8 $: 451 Possibly forged hostname for $1
POPDIVERT`'dnl
