divert(-1)
#
# MAILER(`mail11'): DECnet mail through the mail11 program; turns on
# node::user address syntax.  Settings: MAIL11_MAILER_PATH,
# MAIL11_MAILER_FLAGS (nsFx), MAIL11_MAILER_ARGS, MAIL11_MAILER_QGRP.
#
_SMX_DEFAULT(`MAIL11_MAILER_PATH', `/usr/etc/mail11')
_SMX_DEFAULT(`MAIL11_MAILER_FLAGS', `nsFx')
_SMX_DEFAULT(`MAIL11_MAILER_ARGS', `mail11 $g $x $h $u')
define(`_SMX_DECNET_SYNTAX_', `1')
_SMX_CLASS(`P', `DECNET')
# node::user addresses, placed in ParseLocal
PUSHDIVERT(3)dnl
R$* < @ $=w .DECNET. >		_SMX_TO(_SMX_LOCAL_) $: $1			DECnet, this node
R$+ < @ $+ .DECNET. >		$`#'mail11 $@ $2 $: $1		DECnet, other node
POPDIVERT`'dnl
PUSHDIVERT(7)
# Mail11To, Mail11From: addresses in node::user form
SMail11To
R$+ < @ $- .UUCP >	$: $2 ! $1		UUCP: bang form
R$+ < @ $- .DECNET >	$: $2 :: $1		node::user
R$+ < @ $- .LOCAL >	$: $2 :: $1		node::user
R$+ < @ $=w. >		$: $2 :: $1		node::user
R$=w :: $+		$2			our own node: drop it
R$+ :: $+		$@ $1 :: $2		done

SMail11From
R$+			$: $>Mail11To $1
R$w :: $+		$@ $w :: $1

Mmail11,	P=MAIL11_MAILER_PATH, F=_SMX_MFLAGS(`MAIL11', MAIL11_MAILER_FLAGS), S=Mail11From, R=Mail11To,
		T=DNS/X-DECnet/X-Unix,_SMX_IF(`MAIL11_MAILER_QGRP', ` Q=', `,')
		A=MAIL11_MAILER_ARGS
POPDIVERT`'
