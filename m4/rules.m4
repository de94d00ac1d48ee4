divert(-1)
#
# rules.m4 -- the rulesets of the generated configuration.  Included by
# proto.m4 while it writes the .cf; every block below is copied to the
# output, with the ifdef() switches set by the FEATUREs deciding which
# rules are present.
#
# Markers used inside the workspace (all are plain tokens to sendmail):
#   <@>        an address with no host part, or the null sender
#   < @ host >  the "focused" host part of an address
#   *LOCAL*    "this host", replaced by $j when leaving the rulesets
#   <?> <OK> <NO> <RELAY> <TMPF> ...  intermediate results
#
ifdef(`DECNET_RELAY', `define(`_SMX_DECNET_SYNTAX_', `1')')
divert(0)dnl

#####################################################################
#   Ruleset 3 (canonify): put the address into internal form
#   user < @ host . domain . >
#####################################################################
Scanonify=3

# empty address and the null sender
R$@			$@ <@>

# drop a group prefix ("phrase: addr;") but keep list:; and special forms
R$*			$: $1 <@>				tag the input
R$* < $* > $* <@>	$: $1 < $2 > $3				bracketed: untag
R@ $* <@>		$: @ $1					route address: untag
R$* [ IPv6 : $+ ] <@>	$: $1 [ IPv6 : $2 ]			IPv6 literal: untag
R$* :: $* <@>		$: $1 :: $2				DECnet node::user: untag
R:include: $* <@>	$: :include: $1				include file: untag
R$* : $* [ $* ]		$: $1 : $2 [ $3 ] <@>			literal after colon: tag again
R$* : $* <@>		$: $2					drop the group name
R$* <@>			$: $1					untag
R$* ;			   $1					drop a trailing semicolon
R$* < $+ :; > $*	$@ $2 :; <@>				bracketed list:;
R$* < $* ; >		   $1 < $2 >				semicolon inside brackets
R$@			$@ :; <@>

# keep only what is inside the angle brackets
R$*			$: < $1 >				wrap
R$+ < $* >		   < $2 >				drop text on the left
R< $* > $+		   < $1 >				drop text on the right
R<>			$@ < @ >				the null sender
R< $+ >			$: $1					unwrap

# source routes: @a,@b:user@c is handled as user@c
R@ $+ , $+		$2
R@ [ $* ] : $+		$2
R@ $+ : $+		$2

# list:addr; syntax
R $+ : $* ; @ $+	$@ $>Canonify2 $1 : $2 ; < @ $3 >	list with host
R $+ : $* ;		$@ $1 : $2;				list

# user@host: focus on the last host
R$+ @ $+		$: $1 < @ $2 >				focus
R$+ < $+ @ $+ >		$1 $2 < @ $3 >				move focus right
R$+ < @ $+ >		$@ $>Canonify2 $1 < @ $2 >		done
ifdef(`_SMX_NO_UUCP_', `', `
# UUCP paths: host!user and host.domain!user
R$- ! $+		$@ $>Canonify2 $2 < @ $1 .UUCP >		uucp host
R$+ . $- ! $+		$@ $>Canonify2 $3 < @ $1 . $2 >		domain name with bang
R$+ ! $+		$@ $>Canonify2 $2 < @ $1 .UUCP >		uucp path
')dnl
ifdef(`_SMX_DECNET_SYNTAX_', `
# DECnet node::user
R$- :: $+		$@ $>Canonify2 $2 < @ $1 .DECNET >		DECnet node
R$- . $- :: $+		$@ $>Canonify2 $3 < @ $1.$2 .DECNET >	numeric DECnet node
')dnl
ifdef(`_SMX_NOPERCENT_', `', `
# the percent hack: user%host is user@host (only the last one counts)
R$* % $*		$1 @ $2					turn all % into @
R$* @ $* @ $*		$1 % $2 @ $3				keep only the last @
')dnl
R$* @ $*		$@ $>Canonify2 $1 < @ $2 >		focus and finish

# no host at all
R$*			$@ $>Canonify2 $1

#####################################################################
#   Canonify2: make the host part canonical (ends in a dot)
#####################################################################
SCanonify2=96

# names for this host
R$* < @ localhost > $*		$: $1 < @ $j . > $2		localhost
R$* < @ localhost . $m > $*	$: $1 < @ $j . > $2		localhost in our domain
ifdef(`_SMX_NO_UUCP_', `', `R$* < @ localhost . UUCP > $*	$: $1 < @ $j . > $2		localhost.UUCP
')dnl

# address literals: our own addresses become $j, others are kept
R$* < @ [ $+ ] > $*		$: $1 < @@ [ $2 ] > $3		mark the literal
R$* < @@ $=w > $*		$: $1 < @ $j . > $3		one of ours
R$* < @@ $+ > $*		$@ $1 < @ $2 > $3		someone else
ifdef(`_SMX_DOMAINTABLE_', `
# domaintable: rewrite old domain names
R$* < @ $+ > $*		$: $1 < @ $(domaintable $2 $) > $3
')dnl
undivert(2)dnl
ifdef(`_SMX_BITDOMAIN_', `
# bitdomain: BITNET hosts with Internet names
R$* < @ $+ .BITNET > $*		$: $1 < @ $(bitdomain $2 $: $2.BITNET $) > $3
')dnl
ifdef(`_SMX_UUDOMAIN_', `
# uucpdomain: UUCP hosts with Internet names
R$* < @ $+ .UUCP > $*		$: $1 < @ $(uudomain $2 $: $2.UUCP $) > $3
')dnl
ifdef(`_SMX_NO_UUCP_', `', `
# UUCP names: with a UUCP_RELAY they stay pseudo domains, else look them up
ifdef(`UUCP_RELAY', `R$* < @ $+ . UUCP > $*		$@ $1 < @ $2 . UUCP . > $3
', `R$* < @ $+ . UUCP > $*		$: $1 < @ $[ $2 $] . UUCP . > $3
R$* < @ $+ . . UUCP . > $*		$@ $1 < @ $2 . > $3
')')dnl

# pseudo domains are canonical as they are
R$* < @ $* $=P > $*		$: $1 < @ $2 $3 . > $4

ifdef(`_SMX_NOCANONIFY_', `# nocanonify: only names in class {Canonify} are looked up (all names
# for daemons with M=c); names with a dot just get the trailing dot
R$* < @ $* $~P > $*		$: $&{daemon_flags} $| $1 < @ $2 $3 > $4
R$* $| $* < @ $* $={Canonify} > $*	$: $2 < @ $[ $3 $4 $] > $5
R$* c $* $| $* < @ $* > $*	$: $3 < @ $[ $4 $] > $5
R$* $| $* < @ $+ . > $*		$: $2 < @ $3 . > $4
R$* $| $* < @ $+.$+ > $*	$: $2 < @ $3.$4 . > $5
ifdef(`_SMX_CANONIFY_HOSTS_', `R$* $| $* < @ $* > $*		$: $2 < @ $[ $3 $] > $4
')dnl
R$* $| $*			$: $2
', `# look the host up (no lookup for daemons with M=CC)
R$* < @ $* $~P > $*		$: $&{daemon_flags} $| $1 < @ $2 $3 > $4
R$* CC $* $| $* < @ $+.$+ > $*	$: $3 < @ $4.$5 . > $6
R$* CC $* $| $*			$: $3
R$* $| $* < @ $* > $*		$: $2 < @ $[ $3 $] > $4
R$* $| $*			$: $2
')dnl

# names we know to be ours get a trailing dot even unresolved
R$* < @ $=w > $*		$: $1 < @ $2 . > $3
ifdef(`_SMX_MASQ_ENTIRE_', `R$* < @ $* $=M > $*		$: $1 < @ $2 $3 . > $4
', `R$* < @ $=M > $*		$: $1 < @ $2 . > $3
')dnl
ifdef(`_SMX_VIRTUSER_', `ifdef(`_SMX_VIRTHOST_', `ifdef(`_SMX_VIRTUSER_ENTIRE_', `R$* < @ $* $={VirtHost} > $*	$: $1 < @ $2 $3 . > $4
', `R$* < @ $={VirtHost} > $*	$: $1 < @ $2 . > $3
')')')dnl
ifdef(`_SMX_GENERICS_', `ifdef(`_SMX_GENERICS_ENTIRE_', `R$* < @ $* $=G > $*	$: $1 < @ $2 $3 . > $4
', `R$* < @ $=G > $*	$: $1 < @ $2 . > $3
')')dnl
R$* < @ $* . . > $*		$1 < @ $2 . > $3		one dot is enough

#####################################################################
#   Ruleset 4 (final): back to external form
#####################################################################
Sfinal=4

R$+ :; <@>		$@ $1 :					list:;
R$* <@>			$@					null address
R$* < @ $+ . > $*	$1 < @ $2 > $3				drop the trailing dot
R$* < @ *LOCAL* > $*	$1 < @ $j > $2				this host
R$* < $+ > $*		$1 $2 $3				unfocus
R@ $+ : @ $+ : $+	@ $1 , @ $2 : $3			route address syntax
R@ $*			$@ @ $1					done with routes
ifdef(`_SMX_NO_UUCP_', `', `R$+ @ $- . UUCP		$2!$1					UUCP back to bang form
')dnl
ifdef(`_SMX_DECNET_SYNTAX_', `R$+ @ $+ . DECNET	$2 :: $1				DECnet back to node::user
')dnl
R$+ % $=w @ $=w		$1 @ $2					drop a percent hop via us

#####################################################################
#   Recurse: run canonify and parse again (after a rewrite)
#####################################################################
SRecurse=97
R$*			$: $>canonify $1
R$*			$@ $>parse $1

#####################################################################
#   Ruleset 0 (parse): choose mailer, host and user
#####################################################################
Sparse=0

R$*			$: $>Parse0 $1				syntax checks
R<@>			_SMX_TO(_SMX_LOCAL_) $: <@>			null address: local, for error texts
R$*			$: $>ParseLocal $1			site rules, ruleset 98
R$*			$: $>Parse1 $1				routing

# Parse0: reject broken syntax, strip our own name from route addresses
SParse0
R<@>			$@ <@>					null address
R$* : $* ; <@>		$#error $@ 5.1.3 $: "553 List:; syntax illegal for recipient addresses"
R@ <@ $* >		< @ $1 >				@@host
R<@ $+>			$#error $@ 5.1.3 $: "553 User address required"
R$+ <@>			$#error $@ 5.1.3 $: "553 Hostname required"
R$*			$: <> $1
R<> $* < @ [ $* ] : $+ > $*	$1 < @ [ $2 ] : $3 > $4
R<> $* < @ [ $* ] , $+ > $*	$1 < @ [ $2 ] , $3 > $4
R<> $* < @ [ $* ] $+ > $*	$#error $@ 5.1.2 $: "553 Invalid address"
R<> $* < @ [ $+ ] > $*		$1 < @ [ $2 ] > $3
R<> $* <$* : $* > $*	$#error $@ 5.1.3 $: "553 Colon illegal in host name part"
R<> $*			$1
R$* < @ . $* > $*	$#error $@ 5.1.2 $: "553 Invalid host name"
R$* < @ $* .. $* > $*	$#error $@ 5.1.2 $: "553 Invalid host name"
R$* < @ $* @ > $*	$#error $@ 5.1.2 $: "553 Invalid route address"
R$* @ $* < @ $* > $*	$#error $@ 5.1.3 $: "553 Invalid route address"
R$* , $~O $*		$#error $@ 5.1.3 $: "553 Invalid route address"

# user@ is user; our own name in front of a route is dropped
R$* < @ > $*		$@ $>Parse0 $>canonify $1		empty host part
R< @ $=w . > : $*	$@ $>Parse0 $>canonify $2		route through us
R$- < @ $=w . >		$: $(dequote $1 $) < @ $2 . >		unquote a local user
R< @ $+ >		$#error $@ 5.1.3 $: "553 User address required"
R$* $=O $* < @ $=w . >	$@ $>Parse0 $>canonify $1 $2 $3	user%host@us: try again
R$-			$: $(dequote $1 $) < @ *LOCAL* >	unqualified: unquote
R< @ *LOCAL* >		$#error $@ 5.1.3 $: "553 User address required"
R$* $=O $* < @ *LOCAL* >
			$@ $>Parse0 $>canonify $1 $2 $3	user%host: try again
R$* < @ *LOCAL* >	$: $1
ifdef(`_SMX_BCC_', `R$+			$: $>ParseBcc $1			bcc copies
')dnl
ifdef(`_SMX_PREFIXMOD_', `_SMX_PREFIXMOD_`'')dnl


# Parse1: the routing decision
SParse1
ifdef(`_SMX_LDAP_ROUTING_', `# ldap_routing: addresses in LDAP-routed domains
R$+ < @ $={LDAPRoute} . >	$: $>LDAPExpand <$1 < @ $2 . >> <$1 @ $2> <>
R$+ < @ $={LDAPRouteEquiv} . >	$: $>LDAPExpand <$1 < @ $2 . >> <$1 @ $M> <>
')dnl

# address literals: hand to the smart host if there is one
R$* < @ [ $+ ] > $*	$: $>ParseLocal $1 < @ [ $2 ] > $3	site rules first
R$* < @ [ $+ ] > $*	$: $1 < @ [ $2 ] : $S > $3		append smart host
R$* < @ [ $+ ] : > $*		_SMX_TO(_SMX_SMTP_) $@ [$2] $: $1 < @ [$2] > $3	no smart host
R$* < @ [ $+ ] : $- : $*> $*	$`#'$3 $@ $4 $: $1 < @ [$2] > $5	smart host with a mailer
R$* < @ [ $+ ] : $+ > $*	_SMX_TO(_SMX_SMTP_) $@ $3 $: $1 < @ [$2] > $4	smart host
ifdef(`_SMX_VIRTUSER_', `
# virtusertable: addresses in our domains (and virtual domains)
R$+			$: <!> $1				mark for lookup
ifdef(`_SMX_VIRTHOST_', `ifdef(`_SMX_VIRTUSER_ENTIRE_', `R<!> $+ < @ $* $={VirtHost} . > 	$: < $(virtuser $1 @ $2 $3 $@ $1 $: @ $) > $1 < @ $2 $3 . >
', `R<!> $+ < @ $={VirtHost} . > 	$: < $(virtuser $1 @ $2 $@ $1 $: @ $) > $1 < @ $2 . >
')')dnl
R<!> $+ < @ $=w . > 	$: < $(virtuser $1 @ $2 $@ $1 $: @ $) > $1 < @ $2 . >
R<@> $+ + $+ < @ $* . >
			$: < $(virtuser $1 + + @ $3 $@ $1 $@ $2 $@ +$2 $: @ $) > $1 + $2 < @ $3 . >
R<@> $+ + $* < @ $* . >
			$: < $(virtuser $1 + * @ $3 $@ $1 $@ $2 $@ +$2 $: @ $) > $1 + $2 < @ $3 . >
R<@> $+ + $* < @ $* . >
			$: < $(virtuser $1 @ $3 $@ $1 $@ $2 $@ +$2 $: @ $) > $1 + $2 < @ $3 . >
R<@> $+ + $+ < @ $+ . >	$: < $(virtuser + + @ $3 $@ $1 $@ $2 $@ +$2 $: @ $) > $1 + $2 < @ $3 . >
R<@> $+ + $* < @ $+ . >	$: < $(virtuser + * @ $3 $@ $1 $@ $2 $@ +$2 $: @ $) > $1 + $2 < @ $3 . >
R<@> $+ + $* < @ $+ . >	$: < $(virtuser @ $3 $@ $1 $@ $2 $@ +$2 $: ! $) > $1 + $2 < @ $3 . >
R<@> $+ < @ $+ . >	$: < $(virtuser @ $2 $@ $1 $: @ $) > $1 < @ $2 . >
R<@> $+			$: $1					no match
R<!> $+			$: $1					not ours
R< error : $-.$-.$- : $+ > $* 	$#error $@ $1.$2.$3 $: $4
R< error : $- $+ > $* 	$#error $@ $(dequote $1 $) $: $2
ifdef(`_SMX_VIRTUSER_STOP_ONE_LEVEL_RECURSION_', `R< $+ > $+ < @ $+ > 	$: $>Recurse $1
', `R< $+ > $+ < @ $+ > 	$: $>Recurse $1				found: parse the new address
')')dnl
ifdef(`_MAILER_usenet_', `
# news
R$+ . USENET < @ $=w . >	$`#'usenet $@ usenet $: $1
')dnl
ifdef(`_SMX_STICKYHOST_', `
# stickyhost: user@ourhost goes to the hub as user@ourhost
R$=L < @ $=w . >	_SMX_TO(_SMX_LOCAL_) $: @ $1				class L users stay here
R$+ < @ $=w . >		$: < $H > $1 < @ $2 . >			try the hub
R< $+ > $+ < $+ >	$>MailerToTriple < $1 > $2 < $3 >	use it
R< > $+ + $* < $+ >	_SMX_TO(_SMX_LOCAL_) $: $1 + $2				no hub: local with detail
R< > $+ < $+ >		_SMX_TO(_SMX_LOCAL_) $: @ $1				no hub: local
', `
# local names
R$=L < @ $=w . >	_SMX_TO(_SMX_LOCAL_) $: @ $1				class L users
R$+ < @ $=w . >		_SMX_TO(_SMX_LOCAL_) $: $1				plain local user
')dnl
ifdef(`_SMX_MAILERTABLE_', `
# mailertable: domain (and parent domain) routes
R$* <@ $+ > $*		$: < $2 > $1 < @ $2 > $3		copy the host
R< $+ . > $*		$: < $1 > $2				no trailing dot
R< $+ > $*		$: < $(mailertable $1 $) > $2		exact lookup
R< $~[ : $* > $*	$>MailerToTriple < $1 : $2 > $3		found
R< $+ > $*		$: $>Mailertable <$1> $2		try parent domains
')dnl
undivert(4)dnl
ifdef(`BITNET_RELAY', `R$*<@$+.BITNET.>$*	$: $>MailerToTriple < $B > $1 <@$2.BITNET.> $3	BITNET host
')dnl
ifdef(`DECNET_RELAY', `R$*<@$+.DECNET.>$*	$: $>MailerToTriple < $C > $1 <@$2.DECNET.> $3	DECnet host
')dnl
ifdef(`_MAILER_pop_', `R$+ < @ POP. >		$`#'pop $: $1				user@POP
')dnl
ifdef(`_MAILER_fax_', `R$+ < @ $+ .FAX. >	$`#'fax $@ $2 $: $1				fax
', `ifdef(`FAX_RELAY', `R$*<@$+.FAX.>$*		$: $>MailerToTriple < $F > $1 <@$2.FAX.> $3	fax
')')dnl
ifdef(`UUCP_RELAY', `R$*<@$*.UUCP.>$*		$: $>MailerToTriple < $Y > $1 <@$2.UUCP.> $3	UUCP host
', `ifdef(`_MAILER_uucp_', `R$* < @ $+ .UUCP. > $*		$`#'confUUCP_MAILER $@ $2 $: $1 < @ $2 .UUCP. > $3	UUCP host
')')dnl
ifdef(`_MAILER_usenet_', `R$+ . USENET		$`#'usenet $@ usenet $: $1
')dnl
ifdef(`_SMX_BESTMX_LOCAL_', `
# bestmx_is_local: hosts whose best MX is us are local
R$* < @ $* > $*			$: $1 < @ $2 @@ $(bestmx $2 $) > $3
R$* $=O $* < @ $* @@ $=w . > $*	$@ $>Recurse $1 $2 $3
R< @ $* @@ $=w . > : $*		$@ $>Recurse $3
R$* < @ $* @@ $=w . > $*	$@ $>CanonLocal < $1 >
R$* < @ $* @@ $* > $*		$: $1 < @ $2 > $4
')dnl
ifdef(`_SMX_LOCAL_NET_CONFIG_', `
# site rules for remote addresses (LOCAL_NET_CONFIG)
undivert(1)')dnl

# everything else: smart host, or straight to the host
R$* < @ $* > $*		$: $>MailerToTriple < $S > $1 < @ $2 > $3	try the smart host
R$* < @$* > $*		_SMX_TO(_SMX_SMTP_) $@ $2 $: $1 < @ $2 > $3		plain SMTP

# unqualified names are local
R$=L			_SMX_TO(_SMX_LOCAL_) $: @ $1				class L users
R$+			_SMX_TO(_SMX_LOCAL_) $: $1				local user

ifdef(`_SMX_BCC_', `
# ParseBcc: for a bcc copy (envelope, addr_type "e b") use the mailer
# named in macro A
SParseBcc
R$+			$: $&{addr_type} $| $&A $| $1
Re b $| $+ $| $+	$>MailerToTriple < $1 > $2	bcc copy
R$* $| $* $| $+		$@ $3				ordinary address
')dnl

#####################################################################
#   Ruleset 5 (localaddr): local users after alias expansion
#####################################################################
SLocal_localaddr
ifdef(`_SMX_MSP_', `# submission program: every local address goes to the MTA
R$+			$: $>ParseRecipient $1
R$* < @ $+ > $*		$`#'relay $@ ${MTAHost} $: $1 < @ $2 > $3
R$*			$`#'relay $@ ${MTAHost} $: $1 < @ $j >
')dnl
Slocaladdr=5
R$+			$: $1 $| $>"Local_localaddr" $1		site hook
R$+ $| $`#'ok		$@ $1					hook: keep it
R$+ $| $`#'$*		$`#'$2					hook: resolved
R$+ $| $*		$: $1

ifdef(`_SMX_PRESERVE_LUSER_HOST_', `# preserve_luser_host: remember the host for the luser relay
R$+			$: $1 $| $&h $| $&{Host}		h and {Host}
R$+ $| $|		$: $(macro {Host} $@ $) $1		neither
R$+ $| $| $+		$: $1					only {Host}
R$+ $| +$* $| $*	$: $1					h is a detail
R$+ $| $* @ $+ $| $*	$: $(macro {Host} $@ @$3 $) $1		host from h
R$+ $| $+ $| $*		$: $(macro {Host} $@ @$2 $) $1		h itself
')dnl
ifdef(`_SMX_PRESERVE_PLUS_', `', `# user+detail: deliver to user, keep the detail in $h
R$+ + *			_SMX_TO(_SMX_LOCAL_) $@ $&h $: $1			detail from earlier pass
R$+ + $*		_SMX_TO(_SMX_LOCAL_) $@ + $2 $: $1 + *			strip the detail
')dnl

# is there somewhere else to send it (LUSER_RELAY, MAIL_HUB, LOCAL_RELAY)?
R$+			$: <> $1
ifdef(`LUSER_RELAY', `R< > $+ + $*		$: < ? $L > <+ $2> $(user $1 $)	user+detail known?
R< > $+			$: < ? $L > < > $(user $1 $)		user known?
R< ? $* > < $* > $+ <>	$: < > $3 $2				yes: stay local
R< ? $* > < $* > $+	$: < $1 > $3 $2				no: to the luser relay
')dnl
ifdef(`_SMX_PRESERVE_LUSER_HOST_', `R< $+ > $+		$: < $1 > $2 $&{Host}
')dnl
ifdef(`MAIL_HUB', `R< > $+			$: < $H > $1				try the hub
')dnl
ifdef(`LOCAL_RELAY', `R< > $+			$: < $R > $1				try the local relay
')dnl
R< > $+			$: < > < $1 <> $&h >			put the detail back
R< > < $+ <> + $* >	$: < > < $1 + $2 >			there was one
R< > < $+ <> $* >	$: < > < $1 >				there was none
R< > < $+ + $* > $*	   < > < $1 > + $2 $3			split user and detail
R< > < $+ > + $*	_SMX_TO(_SMX_LOCAL_) $@ $2 $: @ $1			local, with detail
R< > < $+ >		$@ $1					local, unchanged
R$+			$: $1 <> $&h				relayed: detail back
R$+ <> + $*		$: $1 + $2
R$+ <> $*		$: $1
R< local : $* > $*	$: $>MailerToTriple < local : $1 > $2	local: mailer
R< error : $* > $*	$: $>MailerToTriple < error : $1 > $2	error: mailer
ifdef(`_SMX_PRESERVE_LUSER_HOST_', `R< $~[ : $+ > $+ @ $+	$: $>MailerToTriple < $1 : $2 > $3 < @ $4 >
')dnl
R< $~[ : $+ > $+	$: $>MailerToTriple < $1 : $2 > $3 < @ $2 >
ifdef(`_SMX_PRESERVE_LUSER_HOST_', `R< $+ > $+ @ $+		$@ $>MailerToTriple < $1 > $2 < @ $3 >
')dnl
R< $+ > $+		$@ $>MailerToTriple < $1 > $2 < @ $1 >

ifdef(`_SMX_MAILERTABLE_', `
#####################################################################
#   Mailertable: look up parent domains, then "."
#####################################################################
SMailertable=90
R$* <$- . $+ > $*	$: $1$2 < $(mailertable .$3 $@ $1$2 $@ $2 $) > $4	.parent
R$* <$~[ : $* > $*	$>MailerToTriple < $2 : $3 > $4			found
R$* < . $+ > $*		$@ $>Mailertable $1 . <$2> $3			strip one label
R$* < $* > $*		$: < $(mailertable . $@ $1$2 $) > $3		the "." entry
R< $~[ : $* > $*	$>MailerToTriple < $1 : $2 > $3			found
R< $* > $*		$@ $2						no route
')dnl

#####################################################################
#   MailerToTriple: turn <mailer:host> user into $# $@ $:
#####################################################################
SMailerToTriple=95
R< > $*				$@ $1				no relay given
R< error : $-.$-.$- : $+ > $*	$#error $@ $1.$2.$3 $: $4	error:x.y.z:text
R< error : $- : $+ > $*		$#error $@ $(dequote $1 $) $: $2	error:code:text
R< error : $+ > $*		$#error $: $1			error:text
R< local : $* > $*		$>CanonLocal < $1 > $2		local:user
R< $~[ : $+ @ $+ > $*<$*>$*	$`#' $1 $@ $3 $: $2<@$3>	mailer:user@host
R< $~[ : $+ > $*		$`#' $1 $@ $2 $: $3		mailer:host
R< $=w > $*			$@ $2				relay is us
R< $+ > $*			_SMX_TO(_SMX_RELAY_) $@ $1 $: $2	relay host

#####################################################################
#   CanonLocal: resolve to the local mailer
#####################################################################
SCanonLocal
R< $* > < @ $+ > : $+		$@ $>Recurse $3			route through us
R< $* > $+ $=O $+ < @ $+ >	$@ $>Recurse $2 $3 $4		user%host@us
R< $* > $* < @ $* . >		$: < $1 > $2 < @ $3 >		drop the dot
R< > $* < @ $* > $*		_SMX_TO(_SMX_LOCAL_) $@ $1@$2 $: $1	no user given
R< > $+				_SMX_TO(_SMX_LOCAL_) $@ $1    $: $1
R< $+ @ $+ > $* < @ $* >	$: < $1 > $3 < @ $4 >		local:user@host
R< $+ > $* <@ $* > $*		_SMX_TO(_SMX_LOCAL_) $@ $2@$3 $: $1	local:user
R< $+ > $*			_SMX_TO(_SMX_LOCAL_) $@ $2    $: $1

#####################################################################
#   Masquerading of header (MasqHdr) and envelope (MasqEnv) senders
#####################################################################
SMasqHdr=93
ifdef(`_SMX_GENERICS_', `
# genericstable
ifdef(`_SMX_GENERICS_ENTIRE_', `R$+ < @ $* $=G . >	$: < $1@$2$3 > $1 < @ $2$3 . > @	mark
', `R$+ < @ $=G . >	$: < $1@$2 > $1 < @ $2 . > @	mark
')dnl
R$+ < @ *LOCAL* >	$: < $1@$j > $1 < @ *LOCAL* > @	mark
R< $+ > $+ < $* > @	$: < $(generics $1 $: @ $1 $) > $2 < $3 >
R<@$+ + $* @ $+> $+ < @ $+ >
		$: < $(generics $1+*@$3 $@ $2 $:@$1 + $2@$3 $) >  $4 < @ $5 >
R<@$+ + $* @ $+> $+ < @ $+ >
		$: < $(generics $1@$3 $: $) > $4 < @ $5 >
R<@$+ > $+ < @ $+ >	$: < > $2 < @ $3 >
R< > $+ < @ $+ . >	$: < $(generics @$2 $@ $1 $: $) > $1 < @ $2 . >
R< > $+ < @ $+ >	$: < $(generics $1 $: $) > $1 < @ $2 >
R< > $+ + $* < @ $+ >	$: < $(generics $1+* $@ $2 $: $) > $1 + $2 < @ $3 >
R< > $+ + $* < @ $+ >	$: < $(generics $1 $: $) > $1 + $2 < @ $3 >
R< $* @ $* > $* < $* >	$@ $>canonify $1 @ $2		found, qualified
R< $+ > $* < $* >	$: $>canonify $1 @ *LOCAL*	found, unqualified
R< > $*			$: $1				not found
')dnl

# domains in class N are never masqueraded
R$* < @ $* $=N . >	$@ $1 < @ $2 $3 . >
ifdef(`_SMX_MASQ_AS_', `
# class E users keep our name
R$=E < @ *LOCAL* >	$@ $1 < @ $j . >		exposed user
ifdef(`_SMX_MASQ_ENTIRE_', `R$=E < @ $* $=M . >	$@ $1 < @ $2 $3 . >
', `R$=E < @ $=M . >	$@ $1 < @ $2 . >
')dnl
ifdef(`_SMX_LIMITED_MASQ_', `', `R$=E < @ $=w . >	$@ $1 < @ $2 . >
')dnl
# everything of ours becomes $M
ifdef(`_SMX_MASQ_ENTIRE_', `R$* < @ $* $=M . > $*	$: $1 < @ $2 $3 . @ $M > $4	masquerade (sub)domain
', `R$* < @ $=M . > $*	$: $1 < @ $2 . @ $M > $3	masquerade domain
')dnl
ifdef(`_SMX_LIMITED_MASQ_', `', `R$* < @ $=w . > $*	$: $1 < @ $2 . @ $M > $3	our name
')dnl
R$* < @ *LOCAL* > $*	$: $1 < @ $j . @ $M > $2	unqualified
R$* < @ $+ @ > $*	$: $1 < @ $2 > $3		$M empty: keep
R$* < @ $+ @ $+ > $*	$: $1 < @ $3 . > $4		use $M
', `R$* < @ *LOCAL* >	$@ $1 < @ $j . >		unqualified: our name
')dnl

SMasqEnv=94
ifdef(`_SMX_MASQ_ENVELOPE_', `R$+			$@ $>MasqHdr $1			masquerade the envelope too
', `R$* < @ *LOCAL* > $*	$: $1 < @ $j . > $2		just qualify
')dnl

#####################################################################
#   ParseLocal (ruleset 98): site rules for ruleset 0
#####################################################################
SParseLocal=98
ifdef(`_SMX_REDIRECT_', `
# redirect: user@host.REDIRECT means "moved"
R$* < @ $+ .REDIRECT. >		$: $1 < @ $2 . REDIRECT . > < ${opMode} >
R$* < @ $+ .REDIRECT. > <i>	$: $1 < @ $2 . REDIRECT. >
R$* < @ $+ .REDIRECT. > < $- >	$#error $@ 5.1.1 $: "551 User has moved; please try " <$1@$2>
')dnl
undivert(3)dnl
ifdef(`_SMX_PARSELOCAL_EXTRA_', `_SMX_PARSELOCAL_EXTRA_`'')dnl

ifdef(`_SMX_ACCESS_', `include(_SMX_M4_DIR_`access.m4')')dnl

#####################################################################
#   CanonAddr and ParseRecipient: helpers for the check rulesets
#####################################################################
SCanonAddr
R$*			$: $>Parse0 $>canonify $1		canonical form

SParseRecipient
R$*				$: <?> $>CanonAddr $1
R<?> $* < @ $* . >		<?> $1 < @ $2 >			no trailing dot
R<?> $- < @ $* >		$: <?> $(dequote $1 $) < @ $2 >	unquote the user
R<?> $* $=O $* < @ $* >		$: <NO> $1 $2 $3 < @ $4>	a route inside
R<?> $*				$@ $1				plain address
ifdef(`_SMX_RELAY_ENTIRE_DOMAIN_', `R<NO> $* < @ $* $=m >		$: <RELAY> $1 < @ $2 $3 >
')dnl
ifdef(`_SMX_RELAY_HOSTS_ONLY_', `R<NO> $* < @ $=R >		$: <RELAY> $1 < @ $2 >
ifdef(`_SMX_ACCESS_', `R<NO> $* < @ $+ >		$: <$(access To:$2 $: NO $)> $1 < @ $2 >
R<NO> $* < @ $+ >		$: <$(access $2 $: NO $)> $1 < @ $2 >
')', `R<NO> $* < @ $* $=R >		$: <RELAY> $1 < @ $2 $3 >
ifdef(`_SMX_ACCESS_', `R<NO> $* < @ $+ >		$: $>D <$2> <NO> <+ To> <$1 < @ $2 >>
R<$+> <$+>			$: <$1> $2
')')dnl
ifdef(`_SMX_RELAY_MX_', `R<NO> $* < @ $+ >		$: <MX> < : $(mxserved $2 $) : > < $1 < @$2 > >
R<MX> < : $* <TEMP> : > $*	$#TEMP $@ 4.4.0 $: "450 Can not check MX records for recipient host " $1
R<MX> < $* : $=w. : $* > < $+ >	$: <RELAY> $4
R<MX> < : $* : > < $+ >		$: <NO> $2
')dnl
R<RELAY> $* < @ $* >		$@ $>ParseRecipient $1		relayable: look further
R<$+> $*			$@ $2

include(_SMX_M4_DIR_`checks.m4')dnl
include(_SMX_M4_DIR_`tls.m4')dnl

#####################################################################
#   Site rulesets (LOCAL_RULESETS, LOCAL_RULE_1/2, LOCAL_DNSBL...)
#####################################################################
undivert(9)dnl
ifdef(`_SMX_EXTRA_RULESETS_', `_SMX_EXTRA_RULESETS_`'')dnl

#####################################################################
#   Mailers
#####################################################################
undivert(70)dnl
