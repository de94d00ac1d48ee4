divert(-1)
#
# FEATURE(`vnet'): IBM VNET addresses (user@host.vnet) go to the VNET
# relay host in macro A (set it with LOCAL_CONFIG).  Historical.
#
PUSHDIVERT(5)CAvnet.ibm.com vnet rscs ipnet
POPDIVERT`'dnl
define(`_SMX_VNET_', `1')
PUSHDIVERT(2)dnl
R$* % ibmus.rscs < @ $+> $*	$: $1 < @ us.ibm.com > $3
R$* % ibmca.rscs < @ $+> $*	$: $1 < @ ca.ibm.com > $3
R$* % ibmuk.rscs < @ $+> $*	$: $1 < @ uk.ibm.com > $3
R$* % $-.rscs    < @ $+> $*	$: $1 < @ $2.rscs > $4
R$* < @ $-.$=A > $*			$: $1 < @ $2.vnet . >
POPDIVERT`'dnl
PUSHDIVERT(3)dnl
R$* < @ $=w . > $*		$@ $1 < @ $2 . > $3	local name
R$* < @ $=w > $*		$@ $1 < @ $2 . > $3	local name
R$* < @ $- . vnet . > $*		$`#'relay $@ $A $: $1 < @$2.VNET. > $3
R$* < @ $+.ibm.com  > $*	$`#'relay $@ $2.ibm.com $: $1 < @$2.ibm.com > $3
R$* < @ $+.ibm.com. > $*	$`#'relay $@ $2.ibm.com $: $1 < @$2.ibm.com > $3
POPDIVERT`'dnl
