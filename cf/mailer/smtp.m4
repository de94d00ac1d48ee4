divert(-1)
#
# MAILER(`smtp'): the SMTP mailers smtp (plain), esmtp (EHLO), smtp8
# (8-bit, no MIME conversion), dsmtp (on-demand: hold for ETRN) and
# relay (to a smart host or hub), and their address rulesets.
#
# Settings: SMTP_MAILER_FLAGS (added to all five), SMTP_MAILER_MAX,
#   SMTP_MAILER_MAXMSGS, SMTP_MAILER_MAXRCPTS, SMTP_MAILER_CHARSET,
#   SMTP_MAILER_LL (990), RELAY_MAILER_LL (2040), RELAY_MAILER_FLAGS,
#   {SMTP,ESMTP,SMTP8,DSMTP,RELAY}_MAILER_ARGS (TCP $h),
#   {SMTP,ESMTP,SMTP8,DSMTP,RELAY}_MAILER_QGRP.
#   MODIFY_MAILER_FLAGS keys: SMTP ESMTP SMTP8 DSMTP RELAY.
#
_SMX_DEFAULT(`SMTP_MAILER_FLAGS', `')
_SMX_DEFAULT(`SMTP_MAILER_LL', `990')
_SMX_DEFAULT(`RELAY_MAILER_LL', `2040')
_SMX_DEFAULT(`RELAY_MAILER_FLAGS', defn(`SMTP_MAILER_FLAGS'))
_SMX_DEFAULT(`SMTP_MAILER_ARGS', `TCP $h')
_SMX_DEFAULT(`ESMTP_MAILER_ARGS', `TCP $h')
_SMX_DEFAULT(`SMTP8_MAILER_ARGS', `TCP $h')
_SMX_DEFAULT(`DSMTP_MAILER_ARGS', `TCP $h')
_SMX_DEFAULT(`RELAY_MAILER_ARGS', `TCP $h')

# the common middle part of the smtp-family M lines
define(`_SMX_SMTP_LIMITS',
`_SMX_IF(`SMTP_MAILER_MAX', `M=', `, ')_SMX_IF(`SMTP_MAILER_MAXMSGS', `m=', `, ')_SMX_IF(`SMTP_MAILER_MAXRCPTS', `r=', `, ')_SMX_IF(`SMTP_MAILER_CHARSET', `C=', `, ')')
define(`_SMX_SMTP_RCPT', `ifdef(`_SMX_ALLMASQ_', `EnvToSMTP/HdrFromSMTP', `EnvToSMTP')')

PUSHDIVERT(7)
#####################################################################
#   SMTP mailers
#####################################################################

# MasqSMTP: make sure there is a host part
SMasqSMTP
R$* < @ $* > $*		$@ $1 < @ $2 > $3		already qualified
R$+			$@ $1 < @ *LOCAL* >		this host

# PseudoToReal: route-addrs and pseudo domains to real hosts
SPseudoToReal
R< @ $+ > $*		$@ < @ $1 > $2			route address: as is
ifdef(`BITNET_RELAY', `R$+ <@ $+ .BITNET. >	$: $1 % $2 .BITNET < @ $B >	via the BITNET relay
R$+.BITNET <@ $~[ $*:$+ >	$: $1 .BITNET < @ $4 >	drop a mailer: prefix
')dnl
ifdef(`_SMX_NO_UUCP_', `', `R$+ < @ $+ .UUCP. >	$: < $2 ! > $1			UUCP host
R$+ < @ $* > $*		$@ $1 < @ $2 > $3		not UUCP: done
R< $&h ! > $- ! $+	$@ $2 < @ $1 .UUCP. >		next hop is the target
R< $&h ! > $-.$+ ! $+	$@ $3 < @ $1.$2 >
R< $&h ! > $+		$@ $1 < @ $&h .UUCP. >
R< $+ ! > $+		$: $1 ! $2 < @ $Y >		via the UUCP relay
R$+ < @ $~[ $* : $+ >	$@ $1 < @ $4 >			drop a mailer: prefix
R$+ < @ >		$: $1 < @ *LOCAL* >		no UUCP relay
')dnl

# envelope sender
SEnvFromSMTP
R$+			$: $>PseudoToReal $1
R$* :; <@>		$@				list:; sender
R$*			$: $>MasqSMTP $1		qualify
R$+			$: $>MasqEnv $1			masquerade

# envelope recipient
SEnvToSMTP
R$+			$: $>PseudoToReal $1
R$+			$: $>MasqSMTP $1		qualify
R$* < @ *LOCAL* > $*	$: $1 < @ $j . > $2

# header sender (and recipients with allmasquerade)
SHdrFromSMTP
R$+			$: $>PseudoToReal $1
R:; <@>			$@				list:;
R$* <@> $*		$@ $1 <@> $2			null host: as is
R< @ $* > $*		$@ < @ $1 > $2			route address: as is
R$*			$: $>MasqSMTP $1		qualify
R$+			$: $>MasqHdr $1			masquerade

# headers for the relay mailer
SMasqRelay
R$+			$: $>MasqSMTP $1
R$+			$: $>MasqHdr $1

Msmtp,		P=[IPC], F=_SMX_MFLAGS(`SMTP', `mDFMuX'SMTP_MAILER_FLAGS), S=EnvFromSMTP/HdrFromSMTP, R=_SMX_SMTP_RCPT, E=\r\n, L=SMTP_MAILER_LL,
		_SMX_SMTP_LIMITS`'T=DNS/RFC822/SMTP,_SMX_IF(`SMTP_MAILER_QGRP', ` Q=', `,')
		A=SMTP_MAILER_ARGS
Mesmtp,		P=[IPC], F=_SMX_MFLAGS(`ESMTP', `mDFMuXa'SMTP_MAILER_FLAGS), S=EnvFromSMTP/HdrFromSMTP, R=_SMX_SMTP_RCPT, E=\r\n, L=SMTP_MAILER_LL,
		_SMX_SMTP_LIMITS`'T=DNS/RFC822/SMTP,_SMX_IF(`ESMTP_MAILER_QGRP', ` Q=', `,')
		A=ESMTP_MAILER_ARGS
Msmtp8,		P=[IPC], F=_SMX_MFLAGS(`SMTP8', `mDFMuX8'SMTP_MAILER_FLAGS), S=EnvFromSMTP/HdrFromSMTP, R=_SMX_SMTP_RCPT, E=\r\n, L=SMTP_MAILER_LL,
		_SMX_SMTP_LIMITS`'T=DNS/RFC822/SMTP,_SMX_IF(`SMTP8_MAILER_QGRP', ` Q=', `,')
		A=SMTP8_MAILER_ARGS
Mdsmtp,		P=[IPC], F=_SMX_MFLAGS(`DSMTP', `mDFMuXa%'SMTP_MAILER_FLAGS), S=EnvFromSMTP/HdrFromSMTP, R=_SMX_SMTP_RCPT, E=\r\n, L=SMTP_MAILER_LL,
		_SMX_SMTP_LIMITS`'T=DNS/RFC822/SMTP,_SMX_IF(`DSMTP_MAILER_QGRP', ` Q=', `,')
		A=DSMTP_MAILER_ARGS
Mrelay,		P=[IPC], F=_SMX_MFLAGS(`RELAY', `mDFMuXa8'RELAY_MAILER_FLAGS), S=EnvFromSMTP/HdrFromSMTP, R=ifdef(`_SMX_ALLMASQ_', `MasqSMTP/MasqRelay', `MasqSMTP'), E=\r\n, L=RELAY_MAILER_LL,
		_SMX_SMTP_LIMITS`'T=DNS/RFC822/SMTP,_SMX_IF(`RELAY_MAILER_QGRP', ` Q=', `,')
		A=RELAY_MAILER_ARGS

POPDIVERT
