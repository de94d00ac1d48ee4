divert(-1)
#
# FEATURE(`bcc' [, map definition]): send a blind copy of messages, as
# chosen by the bcc ruleset from the bcctable map (keys: domain or
# .parent; the value is the copy address).  Sets AddBcc.
#
define(`_SMX_BCC_', `1')
define(`confADD_BCC', `true')
PUSHDIVERT(5)Kbcctable ifelse(_ARG_, `', `hash MAIL_SETTINGS_DIR`'bcctable', _ARG_)
POPDIVERT`'dnl
PUSHDIVERT(9)
# bcc: the copy address for a recipient, or nothing
Sbcc
R< $+ >			$1
R$+ @ $+		$: $1@$2 $| $>BCC $2
R$* $| <?>		$@
R$* $| $*		$: $1

# BCC: bcctable lookup of a domain and its parents
SBCC
R$+		$: $1 < $(bcctable $1 $: ? $) >
R$- . $+ <?>	$: $2 < $(bcctable .$2 $: ? $) >
R$- . $+ <?>	$: $>BCC $2
R$* <$*>	$: <$2>
POPDIVERT`'dnl
