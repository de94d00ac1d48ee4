divert(-1)
#
# MAILER(`local'): the local delivery agent ("local") and the program
# mailer ("prog"), with the rulesets that rewrite addresses for them.
#
# Settings (define before MAILER(`local')):
#   LOCAL_MAILER_PATH, LOCAL_MAILER_ARGS, LOCAL_MAILER_FLAGS (added to
#   lsDFMAw5:/|@q, default Prmn9), LOCAL_MAILER_MAX, LOCAL_MAILER_MAXMSGS,
#   LOCAL_MAILER_MAXRCPTS, LOCAL_MAILER_CHARSET, LOCAL_MAILER_EOL,
#   LOCAL_MAILER_DSN_DIAGNOSTIC_CODE, LOCAL_MAILER_QGRP,
#   LOCAL_SHELL_PATH, LOCAL_SHELL_ARGS, LOCAL_SHELL_FLAGS (added to
#   lsDFMoq, default eu9), LOCAL_SHELL_DIR, LOCAL_PROG_QGRP.
#   MODIFY_MAILER_FLAGS(`LOCAL', ...) and (`SHELL', ...) edit the flags.
#
_SMX_DEFAULT(`LOCAL_MAILER_PATH', `/bin/mail')
_SMX_DEFAULT(`LOCAL_MAILER_ARGS', `mail -d $u')
_SMX_DEFAULT(`LOCAL_MAILER_FLAGS', `Prmn9')
_SMX_DEFAULT(`LOCAL_MAILER_DSN_DIAGNOSTIC_CODE', `X-Unix')
_SMX_DEFAULT(`LOCAL_SHELL_PATH', `/bin/sh')
_SMX_DEFAULT(`LOCAL_SHELL_ARGS', `sh -c $u')
_SMX_DEFAULT(`LOCAL_SHELL_FLAGS', `eu9')
_SMX_DEFAULT(`LOCAL_SHELL_DIR', `$z:/')

PUSHDIVERT(70)
#####################################################################
#   Local and program mailers
#####################################################################

# EnvFromL, HdrFromL: sender addresses (null sender becomes $n)
SEnvFromL
R<@>			$n			null sender: error sender name
R@ <@ $*>		$n			(broken route form)
R$+			$: $>AddDomain $1	qualify if wanted
ifdef(`_SMX_LOCAL_NO_MASQ_', `', `R$*			$: $>MasqEnv $1		masquerade
')dnl

# EnvToL: envelope recipient is the bare user name
SEnvToL
R$+ < @ $* >		$: $1			drop the host
ifdef(`confUSERDB_SPEC', `', `R$+ + $*		$: < $&{addr_type} > $1 + $2	sender or recipient?
R<e s> $+ + $*		$: $1			envelope sender: no +detail
R< $* > $+		$: $2			else keep it
')dnl

SHdrFromL
R<@>			$n			null sender: error sender name
R@ <@ $*>		$n			(broken route form)
R$+			$: $>AddDomain $1	qualify if wanted
ifdef(`_SMX_LOCAL_NO_MASQ_', `', `R$*			$: $>MasqHdr $1		masquerade
')dnl

SHdrToL
R$+			$: $>AddDomain $1	qualify if wanted
ifdef(`_SMX_ALLMASQ_', `ifdef(`_SMX_LOCAL_NO_MASQ_', `', `R$*			$: $>MasqHdr $1		masquerade recipients too
')', `R$* < @ *LOCAL* > $*	$: $1 < @ $j . > $2
')dnl

# AddDomain: with always_add_domain, unqualified names get a domain
SAddDomain
ifdef(`_SMX_ALWAYS_ADD_DOMAIN_', `R$* < @ $* > $*		$@ $1 < @ $2 > $3	already qualified
ifelse(_SMX_ALWAYS_ADD_DOMAIN_, `', `R$+			$@ $1 < @ *LOCAL* >	this host
', `R$+			$@ $1 < @ _SMX_ALWAYS_ADD_DOMAIN_ >	the given domain
')')dnl

Mlocal,		P=LOCAL_MAILER_PATH, F=_SMX_MFLAGS(`LOCAL', ifdef(`_SMX_LOCAL_FLAGS_BASE_', `_SMX_LOCAL_FLAGS_BASE_', `lsDFMAw5:/|@q')`'LOCAL_MAILER_FLAGS), dnl
ifdef(`_SMX_LOCAL_LMTP_', `S=EnvFromSMTP/HdrFromL', `S=EnvFromL/HdrFromL'), R=EnvToL/HdrToL,dnl
_SMX_IF(`LOCAL_MAILER_EOL', ` E=', `,')
		_SMX_IF(`LOCAL_MAILER_MAX', `M=', `, ')_SMX_IF(`LOCAL_MAILER_MAXMSGS', `m=', `, ')_SMX_IF(`LOCAL_MAILER_MAXRCPTS', `r=', `, ')_SMX_IF(`LOCAL_MAILER_CHARSET', `C=', `, ')T=DNS/RFC822/LOCAL_MAILER_DSN_DIAGNOSTIC_CODE,_SMX_IF(`LOCAL_MAILER_QGRP', ` Q=', `,')
		A=LOCAL_MAILER_ARGS
Mprog,		P=LOCAL_SHELL_PATH, F=_SMX_MFLAGS(`SHELL', ifdef(`_SMX_SHELL_FLAGS_BASE_', `_SMX_SHELL_FLAGS_BASE_', `lsDFMoq')`'LOCAL_SHELL_FLAGS), S=EnvFromL/HdrFromL, R=EnvToL/HdrToL, D=LOCAL_SHELL_DIR,
		_SMX_IF(`LOCAL_MAILER_MAX', `M=', `, ')T=X-Unix/X-Unix/X-Unix,_SMX_IF(`LOCAL_PROG_QGRP', ` Q=', `,')
		A=LOCAL_SHELL_ARGS

POPDIVERT
