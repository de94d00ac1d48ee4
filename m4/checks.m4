divert(-1)
#
# checks.m4 -- the SMTP policy rulesets: check_relay, check_mail,
# check_rcpt and their helpers; greet_pause, connection and rate control.
# Included by rules.m4.
#
# With FEATURE(`delay_checks') the three main checks are written under
# the names checkrelay, checkmail, checkrcpt and a new check_rcpt calls
# them in the order rcpt, mail, relay.
#
define(`_SMX_CK', `ifdef(`_SMX_DELAY_CHECKS_', `check$1', `check_$1')')
divert(0)dnl

#####################################################################
#   check_relay: called with "client_name $| client_addr"
#####################################################################
ifdef(`_SMX_DELAY_CHECKS_', `ifdef(`_SMX_RATE_NODELAY_', `define(`_SMX_CR_WRAP_')')ifdef(`_SMX_CONN_NODELAY_', `define(`_SMX_CR_WRAP_')')')dnl
ifdef(`_SMX_CR_WRAP_', `# with delay_checks the policy checks run at RCPT time; only the
# connection limits are checked when the client connects
Scheck_relay
ifdef(`_SMX_RATE_NODELAY_', `R$*		$: $>"RateControl" dummy
')dnl
ifdef(`_SMX_CONN_NODELAY_', `R$*		$: $>"ConnControl" dummy
')dnl
')dnl
SLocal_check_relay
S`'_SMX_CK(`relay')
R$*			$: $1 $| $>"Local_check_relay" $1	site hook
R$* $| $* $| $`#'$*	$`#'$3					hook decided
R$* $| $* $| $*		$@ $>"Basic_check_relay" $1 $| $2

SBasic_check_relay
# in deferred delivery mode nothing can be looked up
R$*			$: < $&{deliveryMode} > $1
R< d > $*		$@ deferred
R< $* > $*		$: $2
ifdef(`_SMX_ACCESS_', `
# access map: Connect:name, then Connect:address
R$+ $| $+		$: $>D < $1 > <?> <+ Connect> < $2 >
R   $| $+		$: $>A < $1 > <?> <+ Connect> <>	no client name
R<?> <$+>		$: $>A < $1 > <?> <+ Connect> <>	name unknown: the address
R<?> <$*>		$: OK				no entry
R<$={Accept}> <$*>	$@ $1				accept
R<REJECT> <$*>		$`#'error $@ 5.7.1 $: "550 Access denied"
R<DISCARD> <$*>		$`#'discard $: discard
R<QUARANTINE:$+> <$*>	$`#'error $@ quarantine $: $1
R<ERROR:$-.$-.$-:$+> <$*>	$`#'error $@ $1.$2.$3 $: $4
R<ERROR:$+> <$*>		$`#'error $: $1
R<$* <TMPF>> <$*>		$`#'error $@ 4.3.0 $: "451 Temporary system failure. Please try again later."
R<$+> <$*>		$`#'error $: $1
')dnl
undivert(8)dnl

#####################################################################
#   check_mail: called with the MAIL FROM argument
#####################################################################
SLocal_check_mail
S`'_SMX_CK(`mail')
R$*			$: $1 $| $>"Local_check_mail" $1	site hook
R$* $| $`#'$*		$`#'$2					hook decided
R$* $| $*		$@ $>"Basic_check_mail" $1

SBasic_check_mail
R$*			$: < $&{deliveryMode} > $1
R< d > $*		$@ deferred
R< $* > $*		$: $2

# STARTTLS requirements for this client (access map TLS_Clt:)
R$*			$: $1 $| $>"tls_client" $&{verify} $| MAIL
R$* $| $`#'$+		$`#'$2
R$* $| $*		$: $1

# the null sender must be accepted
R<>			$@ <OK>

ifdef(`_SMX_ACCEPT_UNQUALIFIED_', `', `# "user@localhost" and friends are only believed from this host
R$+			$: <?> $1
R<?><$+>		$: <@> <$1>
R<?>$+			$: <@> <$1>
R$*			$: $&{daemon_flags} $| $1
R$* f $* $| <@> < $* @ $- >	$: < ? $&{client_name} > < $3 @ $4 >
R$* u $* $| <@> < $* >	$: <?> < $3 >
R$* $| $*		$: $2
R<@> < $* @ localhost >	$: < ? $&{client_name} > < $1 @ localhost >
R<@> < $* @ [127.0.0.1] >
			$: < ? $&{client_name} > < $1 @ [127.0.0.1] >
R<@> < $* @ [IPv6:0:0:0:0:0:0:0:1] >
			$: < ? $&{client_name} > < $1 @ [IPv6:0:0:0:0:0:0:0:1] >
R<@> < $* @ [IPv6:::1] >
			$: < ? $&{client_name} > < $1 @ [IPv6:::1] >
R<@> < $* @ localhost.$m >
			$: < ? $&{client_name} > < $1 @ localhost.$m >
ifdef(`_SMX_NO_UUCP_', `', `R<@> < $* @ localhost.UUCP >
			$: < ? $&{client_name} > < $1 @ localhost.UUCP >
')dnl
R<@> $*			$: $1				not a localhost form
R<? $=w> $*		$: $2				client is this host: ok
R<? $+> <$+>		$`#'error $@ 5.5.4 $: "553 Real domain name required for sender address"
R<?> $*			$: $1
')dnl

# canonical form; then: does the domain exist?
R$*			$: <?> $>CanonAddr $1
R<?> $* < @ $+ . >	<?> $1 < @ $2 >			no trailing dot
R<?> $* < @ $* $=P >	$: <OKR> $1 < @ $2 $3 >		pseudo domain
R<?> $* < @ $j >	$: <OKR> $1 < @ $j >		this host
ifdef(`_SMX_ACCEPT_UNRESOLVABLE_', `R<?> $* < @ $+ >	$: <OKR> $1 < @ $2 >		any domain is fine
', `R<?> $* < @ $+ >	$: <? $(resolve $2 $: $2 <PERM> $) > $1 < @ $2 >
R<? $* <$->> $* < @ $+ >
			$: <$2> $3 < @ $4 >
')dnl
ifdef(`_SMX_ACCESS_', `
# access map: From:user@domain, From:domain, From:user@
R<$+> $+ < @ $* >	$: @<$1> <$2 < @ $3 >> $| <F:$2@$3> <U:$2@> <D:$3>
R<$+> $+		$: @<$1> <$2> $| <U:$2@>
R@ <$+> <$*> $| <$+>	$: <@> <$1> <$2> $| $>SearchList <+ From> $| <$3> <>
R<@> <$+> <$*> $| <$*>	$: <$3> <$1> <$2>		result first
R<?> <$+> <$*>		$: <$1> $2			no entry: keep the DNS result
R<$+> <$+> <$*>		$: <$1> $3			entry: use it
')dnl
ifdef(`_SMX_ACCEPT_UNQUALIFIED_', `', `
# unqualified senders are only accepted from this host
R<?> $*			$: $&{daemon_flags} $| <?> $1
R$* u $* $| <?> $*	$: <OKR> $3
R$* $| $*		$: $2
R<?> $*			$: < ? $&{client_addr} > $1
R<?> $*			$@ <OKR>			local: ok
R<? $+> $*		$`#'error $@ 5.5.4 $: "553 Domain name required for sender address " $&f
')dnl
R<?> $*			$: @ $1				nothing known
R<$={ResOk}> $*		$: @ $2				domain exists
R<TEMP> $*		$`#'error $@ 4.1.8 $: "451 Domain of sender address " $&f " does not resolve"
R<PERM> $*		$`#'error $@ 5.1.8 $: "553 Domain of sender address " $&f " does not exist"
ifdef(`_SMX_ACCESS_', `# access map result
R<$={Accept}> $*	$`#' $1		accept (access map)
R<DISCARD> $*		$`#'discard $: discard
R<QUARANTINE:$+> $*	$`#'error $@ quarantine $: $1
R<REJECT> $*		$`#'error $@ 5.7.1 $: "550 Access denied"
R<ERROR:$-.$-.$-:$+> $*		$`#'error $@ $1.$2.$3 $: $4
R<ERROR:$+> $*		$`#'error $: $1
R<<TMPF>> $*		$`#'error $@ 4.3.0 $: "451 Temporary system failure. Please try again later."
R<$+> $*		$`#'error $: $1		other access map value: error text
')dnl
ifdef(`_SMX_BADMX_', `
# badmx: the MX hosts of the sender domain must look sane
R@ $*<@$+>$*		$: $1<@$2>$3 $| $>BadMX $2
R$* $| $`#'$*		$`#'$2
')dnl

#####################################################################
#   check_rcpt: called with the RCPT TO argument
#####################################################################
SLocal_check_rcpt
S`'_SMX_CK(`rcpt')
R$*			$: $1 $| $>"Local_check_rcpt" $1	site hook
R$* $| $`#'$*		$`#'$2					hook decided
R$* $| $*		$@ $>"Basic_check_rcpt" $1

SBasic_check_rcpt
# the recipient must not be empty
R<>			$`#'error $@ nouser $: "553 User address required"
R$@			$`#'error $@ nouser $: "553 User address required"
R$*			$: < $&{deliveryMode} > $1
R< d > $*		$@ deferred
R< $* > $*		$: $2
ifdef(`_SMX_PROMISCUOUS_', `
# promiscuous_relay: everything is accepted
R$*			$: $1 $| @ $>"Rcpt_ok" $1
R$* $| @ $`#'TEMP $+	$`#'error $2
R$* $| @ $`#'$*		$`#'$2
R$*			$@ RELAY
', `
# is the recipient ours (or relayable)?  else: is the client allowed?
R$*			$: $1 $| @ $>"Rcpt_ok" $1
R$* $| @ $`#'TEMP $+	$: $1 $| T $2			temporary failure: remember
R$* $| @ $`#'$*		$`#'$2				decided
R$* $| @ RELAY		$@ RELAY			our recipient
R$* $| @ $*		$: O $| $>"Relay_ok" $1		ask about the client
R$* $| T $+		$: T $2 $| $>"Relay_ok" $1
R$* $| $`#'TEMP $+	$`#'error $2
R$* $| $`#'$*		$`#'$2
R$* $| RELAY		$@ RELAY			trusted client
R T $+ $| $*		$`#'error $1
R$*			$`#'error $@ 5.7.1 $: "550 Relaying denied"
')dnl

# Rcpt_ok: RELAY if the recipient may receive mail through us
SRcpt_ok
ifdef(`_SMX_LOOSE_RELAY_', `R$*			$: $>CanonAddr $1
R$* < @ $* . >		$1 < @ $2 >			no trailing dot
', `R$*			$: $>ParseRecipient $1		strip relayable hosts
')dnl
ifdef(`_SMX_BESTMX_LOCAL_', `R$* < @ $* > $*			$: $1 < @ $2 @@ $(bestmx $2 $) > $3
R$* $=O $* < @ $* @@ $=w . > $*	$@ $>"Rcpt_ok" $1 $2 $3
R$* < @ $* @@ $=w . > $*	$: $1 < @ $3 > $4
R$* < @ $* @@ $* > $*		$: $1 < @ $2 > $4
')dnl
ifdef(`_SMX_BLOCKLIST_RCPTS_', `
# blocklist_recipients: To: entries in the access map
R$*			$: <?> $1
R<?> $+ < @ $=w >	$: <> <$1 < @ $2 >> $| <F:$1@$2> <U:$1@> <D:$2>
R<?> $+ < @ $* >	$: <> <$1 < @ $2 >> $| <F:$1@$2> <D:$2>
R<?> $+			$: <> <$1> $| <U:$1@>
R<> <$*> $| <$+>	$: <@> <$1> $| $>SearchList <+ To> $| <$2> <>
R<@> <$*> $| <$*>	$: <$2> <$1>			result first
R<?> <$*>		$: @ $1				no entry
R<$={Accept}> <$*>	$: @ $2				accepted
ifdef(`_SMX_ACCESS_SKIP_', `R<SKIP> <$*>		$: @ $1				SKIP: no decision
')dnl
ifdef(`_SMX_DELAY_CHECKS_', `R<$={SpamTag}> <$*>	$: @ $2				spam friend/hater tag
')dnl
R<REJECT> $*		$`#'error $@ 5.2.1 $: "550 Mailbox disabled for this recipient"
R<DISCARD> $*		$`#'discard $: discard
R<QUARANTINE:$+> $*	$`#'error $@ quarantine $: $1
R<ERROR:$-.$-.$-:$+> $*		$`#'error $@ $1.$2.$3 $: $4
R<ERROR:$+> $*		$`#'error $: $1
R<<TMPF>> $*		$`#'error $@ 4.3.0 $: "451 Temporary system failure. Please try again later."
R<$+> $*		$`#'error $: $1			other access map value: error text
R@ $*			$1				drop the mark
')dnl

# authenticated (STARTTLS certificate or AUTH) clients may relay
R$*			$: $1 $| $>RelayTLS		certificate trusted?
R$* $| $`#' $+		$`#' $2
R$* $| $*		$: $1
R$*			$: $1 $| $>"Local_Relay_Auth" $&{auth_type}
R$* $| $`#' $*		$`#' $2
R$* $| NO		$: $1
R$* $| $*		$: $1 $| $&{auth_type}
R$* $|			$: $1				not authenticated
R$* $| $={TrustAuthMech}	$`#' RELAY			trusted mechanism
R$* $| $*		$: $1
ifdef(`_SMX_NO_UUCP_', `ifelse(_SMX_NO_UUCP_, `reject', `# bang paths need relaying permission
R$* ! $* < @ $* >	$: <REMOTE> $2 < @ BANG_PATH >
R$* ! $*		$: <REMOTE> $2 < @ BANG_PATH >
')')dnl
ifdef(`_SMX_NOPERCENT_', `ifelse(_SMX_NOPERCENT_, `reject', `# percent hacks need relaying permission
R$* % $* < @ $* >	$: <REMOTE> $1 < @ PERCENT_HACK >
R$* % $*		$: <REMOTE> $1 < @ PERCENT_HACK >
')')dnl
# our domains and the relay domains
ifdef(`_SMX_RELAY_ENTIRE_DOMAIN_', `R$+ < @ $* $=m >	$@ RELAY			in our domain
')dnl
R$+ < @ $=w >		$@ RELAY			this host
ifdef(`_SMX_RELAY_HOSTS_ONLY_', `R$+ < @ $=R >		$@ RELAY			relay host
', `R$+ < @ $* $=R >	$@ RELAY			relay domain
')dnl
ifdef(`_SMX_ACCESS_', `ifdef(`_SMX_RELAY_HOSTS_ONLY_', `R$+ < @ $+ >		$: <$(access To:$2 $: ? $)> <$1 < @ $2 >>
R<?> <$+ < @ $+ >>	$: <$(access $2 $: ? $)> <$1 < @ $2 >>
', `R$+ < @ $+ >		$: $>D <$2> <?> <+ To> <$1 < @ $2 >>
')dnl
ifdef(`_SMX_RELAYTOFULLADDR_', `R<?> <$+ < @ $+ >>	$: $>F <$1@$2> <?> <+ To> <$1 < @ $2 >>
')dnl
R<RELAY> $*		$@ RELAY			access map: RELAY
R<$* <TMPF>> $*		$`#'TEMP $@ 4.3.0 $: "451 Temporary system failure. Please try again later."
R<$*> <$*>		$: $2
')dnl
ifdef(`_SMX_RELAY_MX_', `
# relay_based_on_MX: we are an MX host for the domain
R$+ < @ $+ >		$: < : $(mxserved $2 $) : > $1 < @ $2 >
R< : $* <TEMP> : > $*	$`#'TEMP $@ 4.4.0 $: "450 Can not check MX records for recipient host " $1
R<$* : $=w . : $*> $*	$@ RELAY
R< : $* : > $*		$: $2
')dnl

# addresses without a host are local
R$*			$: <?> $1
R<?> $* < @ $+ >	$: <REMOTE> $1 < @ $2 >
R<?> $+			$@ RELAY
R<$+> $*		$: $2

# Relay_ok: RELAY if the client may send mail anywhere
SRelay_ok
R$*			$: $&{client_addr}
R$@			$@ RELAY			submitted on this host
R0			$@ RELAY			submitted on this host
R127.0.0.1		$@ RELAY			loopback
RIPv6:0:0:0:0:0:0:0:1	$@ RELAY			loopback
RIPv6:::1		$@ RELAY			loopback
R$=R $*			$@ RELAY			relay network
ifdef(`_SMX_DRAC_', `# drac: addresses recently authenticated by POP/IMAP
R$*			$: <> $(drac $1 $: <?> $1 $)
R<> <?> $+		$: $1
R<> $+			$@ RELAY
RIPv6:$*		$: <> $(drac $1 $: <?> IPv6:$1 $)
R<> <?> $+		$: $1
R<> $+			$@ RELAY
')dnl
ifdef(`_SMX_ACCESS_', `R$*			$: $>A <$1> <?> <+ Connect> <$1>
R<RELAY> $*		$@ RELAY			access map: RELAY
R<<TMPF>> $*		$`#'TEMP $@ 4.3.0 $: "451 Temporary system failure. Please try again later."
R<$*> <$*>		$: $2
')dnl
R$*			$: [ $1 ]
R$=w			$@ RELAY			an address of this host
ifdef(`_SMX_RELAY_LOCAL_FROM_', `
# relay_local_from: senders in our domains may relay
R$*			$: <?> $>CanonAddr $&f
R<?> $+ < @ $+ . >	<?> $1 < @ $2 >
R<?> $+ < @ $=w >	$@ RELAY
')dnl

ifdef(`_SMX_RELAY_MAIL_FROM_', `
# relay_mail_from: the sender has RELAY in the access map (From:)
R$*			$: <?> $>CanonAddr $&f
R<?> $+ < @ $+ . >	<?> $1 < @ $2 >
R<?> $+ < @ $+ >	$: <@> $>SearchList <! From> $| <F:$1@$2> ifelse(_SMX_RELAY_MAIL_FROM_, `domain', `<D:$2> ')<>
R<@> <RELAY>		$@ RELAY
R<@> <<TMPF>>		$`#'TEMP $@ 4.3.0 $: "451 Temporary system failure. Please try again later."
')dnl
ifdef(`_SMX_USE_CLIENT_PTR_', `R$*			$: < $&{client_ptr} >', `R$*			$: < $&{client_resolve} >')
R<TEMP>			$`#'TEMP $@ 4.4.0 $: "450 Relaying temporarily denied. Cannot resolve PTR record for " $&{client_addr}
R<FORGED>		$`#'error $@ 5.7.1 $: "550 Relaying denied. IP name possibly forged " $&{client_name}
R<FAIL>			$`#'error $@ 5.7.1 $: "550 Relaying denied. IP name lookup failed " $&{client_name}
R$*			$: <@> $&{client_name}
R<@> $* $=P		$:<?>  $1 $2
R<@> $+			$:<?>  $[ $1 $]
R$* .			$1				no trailing dot
ifdef(`_SMX_RELAY_ENTIRE_DOMAIN_', `R<?> $* $=m		$@ RELAY			client in our domain
')dnl
R<?> $=w		$@ RELAY			this host
ifdef(`_SMX_RELAY_HOSTS_ONLY_', `R<?> $=R		$@ RELAY			relay host
', `R<?> $* $=R			$@ RELAY			relay domain
')dnl
ifdef(`_SMX_ACCESS_', `ifdef(`_SMX_RELAY_HOSTS_ONLY_', `R<?> $*			$: <$(access Connect:$1 $: ? $)> <$1>
R<?> <$*>		$: <$(access $1 $: ? $)> <$1>
', `R<?> $*			$: $>D <$1> <?> <+ Connect> <$1>
')dnl
R<RELAY> $*		$@ RELAY			access map: RELAY
R<$* <TMPF>> $*		$`#'TEMP $@ 4.3.0 $: "451 Temporary system failure. Please try again later."
R<$*> <$*>		$: $2
')dnl

ifdef(`_SMX_BLOCK_BAD_HELO_', `ifdef(`_SMX_DELAY_CHECKS_', `', `include(_SMX_M4_DIR_`badhelo.m4')')')dnl

#####################################################################
#   trust_auth: may the authenticated user act for the AUTH= user?
#####################################################################
SLocal_trust_auth
Strust_auth
R$*			$: $&{auth_type} $| $1
R$@ $| $*		$`#'error $@ 5.7.1 $: "550 not authenticated"
R$* $| $&{auth_authen}		$@ identical
R$* $| <$&{auth_authen}>	$@ identical
R$* $| $*		$: $1 $| $>"Local_trust_auth" $2
R$* $| $`#'$*		$`#'$2
R$*			$`#'error $@ 5.7.1 $: "550 " $&{auth_authen} " not allowed to act as " $&{auth_author}

# site hook for relaying decisions on AUTH
SLocal_Relay_Auth

ifdef(`_SMX_DELAY_CHECKS_', `
#####################################################################
#   delay_checks: all checks are made at RCPT time
#####################################################################
# FullAddr: make sure there is a host part
SFullAddr
R$* <@ $+ . >		$1 <@ $2 >
R$* <@ $* >		$@ $1 <@ $2 >
R$+			$@ $1 <@ $j >

# Delay_TLS_Clt, Delay_TLS_Clt2: apply the client TLS requirements
SDelay_TLS_Clt
R$*			$: $1 $| $>"tls_client" $&{verify} $| MAIL
R$* $| $`#'$+		$`#'$2
R$* $| $*		$`#' $1
R$*			$`#' $1

SDelay_TLS_Clt2
R$*			$: $1 $| $>"tls_client" $&{verify} $| MAIL
R$* $| $`#'$+		$`#'$2
R$* $| $*		$@ $1
R$*			$@ $1

Scheck_rcpt
R$+			$: $1 $| $>checkrcpt $1			recipient checks
R$+ $| $`#'error $*	$`#'error $2
R$+ $| $`#'discard $*	$`#'discard $2
R$+ $| $`#'$*		$@ $>"Delay_TLS_Clt" $2
R$+ $| $*		$: <?> $>FullAddr $>CanonAddr $1
ifdef(`_SMX_ACCESS_', `ifelse(_SMX_DELAY_CHECKS_, `friend', `
# spam friends (Spam:addr FRIEND) skip the sender and client checks
R<?> $+ < @ $=w >	$: <> $1 < @ $2 > $| <F: $1@$2 > <D: $2 > <U: $1@>
R<?> $+ < @ $* >	$: <> $1 < @ $2 > $| <F: $1@$2 > <D: $2 >
R<> $* $| <$+>		$: <@> $1 $| $>SearchList <! Spam> $| <$2> <>
R<@> $* $| $*		$: $2 $1			result first
R<FRIEND> $+		$@ $>"Delay_TLS_Clt2" SPAMFRIEND
R<$*> $+		$: $2
', _SMX_DELAY_CHECKS_, `hater', `
# only spam haters (Spam:addr HATER) get the sender and client checks
R<?> $+ < @ $=w >	$: <> $1 < @ $2 > $| <F: $1@$2 > <D: $2 > <U: $1@>
R<?> $+ < @ $* >	$: <> $1 < @ $2 > $| <F: $1@$2 > <D: $2 >
R<> $* $| <$+>		$: <@> $1 $| $>SearchList <! Spam> $| <$2> <>
R<@> $* $| $*		$: $2 $1			result first
R<HATER> $+		$: $1				hater: check on
R<$*> $+		$@ $>"Delay_TLS_Clt2" NOSPAMHATER
')')dnl
R$*			$: $1 $| $>checkmail ifdef(`_FFR_MAIL_MACRO', `$&{mail_from}', `<$&f>')
R$* $| $`#'$*		$`#'$2
R$* $| $*		$: $1 $| $>checkrelay $&{client_name} $| $&{client_addr}
R$* $| $`#'$*		$`#'$2
R$* $| $*		$: $1
ifdef(`_SMX_BLOCK_BAD_HELO_', `include(_SMX_M4_DIR_`badhelo.m4')')dnl
')dnl
ifdef(`_SMX_RATECONTROL_', `
#####################################################################
#   ratecontrol: ClientRate: limits from the access map
#####################################################################
SRateControl
R$*		$: <A:$&{client_addr}> <E:>
R$+		$: $>SearchList <! ClientRate> $| $1 <>
R<?>		$@ OK
R<$* <TMPF>>	$`#'error $@ 4.3.0 $: "451 Temporary system failure. Please try again later."
R<0>		$@ OK				no limit
R<$+>		$: <$1> $| $(arith l $@ $1 $@ $&{client_rate} $)
R<$+> $| TRUE	$`#'error $@ 4.3.2 $: _SMX_RATE_MSG_
')dnl
ifdef(`_SMX_CONNCONTROL_', `
#####################################################################
#   conncontrol: ClientConn: limits from the access map
#####################################################################
SConnControl
R$*		$: <A:$&{client_addr}> <E:>
R$+		$: $>SearchList <! ClientConn> $| $1 <>
R<?>		$@ OK
R<$* <TMPF>>	$`#'error $@ 4.3.0 $: "451 Temporary system failure. Please try again later."
R<0>		$@ OK				no limit
R<$+>		$: <$1> $| $(arith l $@ $1 $@ $&{client_connections} $)
R<$+> $| TRUE	$`#'error $@ 4.3.2 $: _SMX_CONN_MSG_
')dnl
ifdef(`_SMX_GREET_PAUSE_', `
#####################################################################
#   greet_pause: milliseconds to wait before the greeting
#####################################################################
SLocal_greet_pause
Sgreet_pause
R$*			$: <$1><?> $| $>"Local_greet_pause" $1
R<$*><?> $| $`#'$*	$`#'$2
R<$*><?> $| $*		$: $1
ifdef(`_SMX_ACCESS_', `R$+ $| $+		$: $>D < $1 > <?> <! GreetPause> < $2 >
R   $| $+		$: $>A < $1 > <?> <! GreetPause> <>	no client name
R<?> <$+>		$: $>A < $1 > <?> <! GreetPause> <>	try the address
ifelse(_SMX_GREET_PAUSE_, `', `R<?> <$*>		$@
', `R<?> <$*>		$`#' _SMX_GREET_PAUSE_
')dnl
R<$* <TMPF>> <$*>	$@
R<$+> <$*>		$`#' $1
', `ifelse(_SMX_GREET_PAUSE_, `', `', `R$*			$`#' _SMX_GREET_PAUSE_
')')dnl
')dnl
