divert(-1)
#
# HACK(`spamtrap'): recipients with "To:addr POISON" in the access map
# poison the message: it is rejected at the end of the header, and
# messages whose To: header is such an address are rejected.
#
define(`_SMX_NEED_MACRO_MAP_', `1')
PUSHDIVERT(9)
# mark a poisoned recipient
SLocal_check_rcpt
R$*				$: $1 $| $1
R$* $| $* <$+> $*		$1 $| $3
R$* $| $+			$: $1 $| $>SearchList <!To> $| <E:$2> <>
R$* $| <POISON>			$: $1 $| $(macro {PoisonRecipient} $@ POISON $)
R$* $| $*			$: $1

# refuse poisoned messages after the header
Scheck_eoh
R$*				$: $&{PoisonRecipient}
RPOISON				$`#'error $@ 5.7.1 $: 550 Mail sent to spam lists is not accepted here

# the To: header must not name a trap address
SCheckTo
R$+ , $+			$@ $1 , $2	lists: no check
R$*				$: $1 $| $>SearchList <!To> $| <E:$1> <>
R$* $| <POISON>			$`#'error $@ 5.7.1 $: 550 Mail sent by spamware is not accepted here
R$* $| $*			$: $1
POPDIVERT`'dnl
HEADER_CHECK(`To', `CheckTo')
