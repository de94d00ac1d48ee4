divert(-1)
#
# MAILER(`uucp'): UUCP mailers.  uucp-old (also "uucp") sends one
# recipient per uux run with bang-path addresses; uucp-new (also
# "suucp") several recipients; uucp-dom and uucp-uudom speak domain
# addresses to smarter neighbours (they need MAILER(`smtp') first).
# Neighbours are listed in classes U (old), Y (new) and Z (uudom), for
# example with SITECONFIG.
#
# Settings: UUCP_MAILER_PATH (/usr/bin/uux), UUCP_MAILER_ARGS,
#   UUCP_MAILER_FLAGS (added), UUCP_MAILER_MAX (100000; UUCP_MAX_SIZE is
#   the old name), UUCP_MAILER_CHARSET, UUCP_MAILER_QGRP.
#
_SMX_DEFAULT(`UUCP_MAILER_PATH', `/usr/bin/uux')
_SMX_DEFAULT(`UUCP_MAILER_ARGS', `uux - -r -a$g -gC $h!rmail ($u)')
_SMX_DEFAULT(`UUCP_MAILER_FLAGS', `')
_SMX_DEFAULT(`UUCP_MAILER_MAX', ifdef(`UUCP_MAX_SIZE', `UUCP_MAX_SIZE', `100000'))
ifdef(`_MAILER_smtp_', `',
	`_SMX_WARN(`MAILER(`uucp') without MAILER(`smtp') before it: uucp-dom and uucp-uudom are left out')')

# routing for the neighbour classes, placed in ruleset 0
PUSHDIVERT(4)dnl
R$* < @ $=Z . UUCP. > $*	$`#'uucp-uudom $@ $2 $: $1 < @ $2 .UUCP. > $3	domain-aware neighbour
R$* < @ $=Y . UUCP. > $*	$`#'uucp-new $@ $2 $: $1 < @ $2 .UUCP. > $3	batching neighbour
R$* < @ $=U . UUCP. > $*	$`#'uucp-old $@ $2 $: $1 < @ $2 .UUCP. > $3	plain neighbour
POPDIVERT`'dnl

define(`_SMX_UUCP_M',
`M$1,ifelse(len(`$1'), `4', `		', len(`$1'), `5', `		', `	')P=UUCP_MAILER_PATH, F=_SMX_MFLAGS(`UUCP', `$2'UUCP_MAILER_FLAGS), S=$3, R=$4,
		M=UUCP_MAILER_MAX, _SMX_IF(`UUCP_MAILER_CHARSET', `C=', `, ')T=X-UUCP/X-UUCP/X-Unix,_SMX_IF(`UUCP_MAILER_QGRP', ` Q=', `,')
		A=UUCP_MAILER_ARGS
')

PUSHDIVERT(7)
#####################################################################
#   UUCP mailers
#####################################################################

# FromU: sender in bang-path form, relative to this host
SFromU
R<@>				$n			null sender
R:; <@>				$@
R$* < @ $* . > $*		$1 < @ $2 > $3		no trailing dot
R$* < @ $=w >			$1			our own name: drop it
R<@ $- . UUCP > : $+		$1 ! $2			route to bang path
R<@ $+ > : $+			$1 ! $2			route to bang path
R$* < @ $- . UUCP >		$2 ! $1			host!user
R$* < @ $+ >			$2 ! $1			host!user
R$&h ! $+ ! $+			$@ $1 ! $2		the recipient host sees its own name: drop it
R$&h ! $+			$@ $&h ! $1
R$+				$: $U ! $1		prefix our UUCP name
R! $+				$: $k ! $1		(or the UUCP node name)

# EnvToU: envelope recipients in bang-path form
SEnvToU
R:; <@>				$@
R$* < @ $* . > $*		$1 < @ $2 > $3		no trailing dot
R$* < @ $=w >			$1			our own name: drop it
R<@ $- . UUCP > : $+		$1 ! $2			route to bang path
R<@ $+ > : $+			$1 ! $2			route to bang path
R$* < @ $- . UUCP >		$2 ! $1			host!user
R$* < @ $+ >			$2 ! $1			host!user

# HdrToU: header recipients, also relative to this host
SHdrToU
R:; <@>				$@
R$* < @ $* . > $*		$1 < @ $2 > $3		no trailing dot
R$* < @ $=w >			$1			our own name: drop it
R<@ $- . UUCP > : $+		$1 ! $2			route to bang path
R<@ $+ > : $+			$1 ! $2			route to bang path
R$* < @ $- . UUCP >		$2 ! $1			host!user
R$* < @ $+ >			$2 ! $1			host!user
R$&h ! $+ ! $+			$@ $1 ! $2
R$&h ! $+			$@ $&h ! $1
R$+				$: $U ! $1		prefix our UUCP name
R! $+				$: $k ! $1		(or the UUCP node name)
ifdef(`_MAILER_smtp_', `
# EnvFromUD: domain-aware neighbours get SMTP-style senders
SEnvFromUD
R<@>				$n			null sender
R$*				$@ $>EnvFromSMTP $1

# EnvFromUUD: as above, but in bang-path form
SEnvFromUUD
R<@>				$n			null sender
R$*				$: $>EnvFromSMTP $1
R$* < @ $* . > $*		$1 < @ $2 > $3		no trailing dot
R<@ $- . UUCP > : $+		$@ $1 ! $2
R<@ $+ > : $+			$@ $1 ! $2
R$* < @ $- . UUCP >		$@ $2 ! $1
R$* < @ $+ >			$@ $2 ! $1
')dnl

_SMX_UUCP_M(`uucp', `DFMhuUd', `FromU', `EnvToU/HdrToU')dnl
_SMX_UUCP_M(`uucp-old', `DFMhuUd', `FromU', `EnvToU/HdrToU')dnl
_SMX_UUCP_M(`suucp', `mDFMhuUd', `FromU', `EnvToU/HdrToU')dnl
_SMX_UUCP_M(`uucp-new', `mDFMhuUd', `FromU', `EnvToU/HdrToU')dnl
ifdef(`_MAILER_smtp_', `_SMX_UUCP_M(`uucp-dom', `mDFMhud', `EnvFromUD/HdrFromSMTP', `EnvToSMTP')dnl
_SMX_UUCP_M(`uucp-uudom', `mDFMhud', `EnvFromUUD/HdrFromSMTP', `EnvToSMTP')')dnl

POPDIVERT`'
