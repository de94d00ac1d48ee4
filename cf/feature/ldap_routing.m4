divert(-1)
#
# FEATURE(`ldap_routing' [, mailHost map [, mailRoutingAddress map
#          [, bounce [, detail [, nodomain [, tempfail]]]]]])
#
# Recipients in the domains of class {LDAPRoute} (LDAPROUTE_DOMAIN,
# LDAPROUTE_DOMAIN_FILE) are looked up in LDAP, first as user@domain and
# then as @domain; names of class {LDAPRouteEquiv} (LDAPROUTE_EQUIVALENT,
# LDAPROUTE_EQUIVALENT_FILE) are looked up as if they were $M.  The two
# attributes decide where the mail goes:
#
#	mailHost	mailRoutingAddress	result
#	local ($=w)	set			the new address, parsed again
#	local or none	not set			the original address
#	none		set			the new address, parsed again
#	remote		set			new address relayed to mailHost
#	remote		not set			original address relayed there
#	none		not set			see "bounce"
#
# Arguments (all optional; an empty one keeps the default):
#   1 mailHost map		default: LDAP attribute mailHost of the
#				inetLocalMailRecipient whose mailLocalAddress
#				is the key
#   2 mailRoutingAddress map	default: the same for mailRoutingAddress
#				(a map given here needs -T<TMPF>)
#   3 bounce			empty or "passthru": unknown addresses are
#				delivered as they are; "sendertoo": envelope
#				recipients and senders not found are rejected
#				as unknown users; any other word: recipients
#   4 detail			"strip": when user+detail@domain is not
#				found, look up user@domain; "preserve": the
#				same, and +detail is added to a new
#				mailRoutingAddress
#   5 nodomain			any word: no @domain lookup
#   6 tempfail			"tempfail": a temporary LDAP failure rejects
#				an SMTP recipient with 451; otherwise
#				(default "queue") the address is kept and the
#				mail is queued
#
define(`_SMX_LDAP_ROUTING_', `1')
define(`LDAPROUTE_DOMAIN', `_SMX_CLASS(`{LDAPRoute}', `$1')')
define(`LDAPROUTE_DOMAIN_FILE', `_SMX_CFILE(`{LDAPRoute}', `$1', `$2')')
define(`LDAPROUTE_EQUIVALENT', `_SMX_CLASS(`{LDAPRouteEquiv}', `$1')')
define(`LDAPROUTE_EQUIVALENT_FILE', `_SMX_CFILE(`{LDAPRouteEquiv}', `$1', `$2')')

# the LDAP search both default maps use
define(`_SMX_LDAPR_FILTER_', `-k (&(objectClass=inetLocalMailRecipient)(mailLocalAddress=%0))')
# with a default map proto.m4 warns unless confLDAP_DEFAULT_SPEC names a
# server (the warning names this FEATURE line)
ifelse(_ARG1_, `', `define(`_SMX_LDAPR_DEFMAP_', _SMX_WHERE)')
ifelse(_ARG2_, `', `define(`_SMX_LDAPR_DEFMAP_', _SMX_WHERE)')

# the choices, as flags for the rules below
define(`_SMX_LDAPR_BOUNCE_', ifelse(_ARG3_, `', `', _ARG3_, `passthru', `', _ARG3_, `sendertoo', `both', `rcpt'))
define(`_SMX_LDAPR_DETAIL_', ifelse(_ARG4_, `strip', `strip', _ARG4_, `preserve', `preserve', `'))
define(`_SMX_LDAPR_NODOMAIN_', ifelse(_ARG5_, `', `', `1'))
define(`_SMX_LDAPR_TEMPFAIL_', ifelse(_ARG6_, `tempfail', `1', `'))

PUSHDIVERT(5)# LDAP routing: the mailHost and mailRoutingAddress lookups
Kldapmh ifelse(_ARG1_, `', `ldap -1 -T<TMPF> -v mailHost '_SMX_LDAPR_FILTER_, `_ARG1_')
Kldapmra ifelse(_ARG2_, `', `ldap -1 -T<TMPF> -v mailRoutingAddress '_SMX_LDAPR_FILTER_, `_ARG2_')
# the values of ${opMode} that mean an SMTP session
C{SMTPOpModes} s d D
POPDIVERT`'dnl

PUSHDIVERT(9)
#####################################################################
#   LDAPExpand: LDAP routing (FEATURE ldap_routing), called from parse
#	<address as parsed: user < @ domain . >>
#	<lookup key: user@domain or @domain>
#	<+detail taken off the key, or empty>
#   -> a mailer triple, or an address in parsed form
#####################################################################
SLDAPExpand
R<$+><$+><$*>	$: <$(ldapmra $2 $: $)> <$(ldapmh $2 $: $)> <$1> <$2> <$3>

# either lookup failed for now
R<$* <TMPF>> <$*> <$+> <$+> <$*>	$: $&{opMode} $| TMPF <$&{addr_type}> $| $3
R<$*> <$* <TMPF>> <$+> <$+> <$*>	$: $&{opMode} $| TMPF <$&{addr_type}> $| $3
ifelse(_SMX_LDAPR_TEMPFAIL_, `1', `# an SMTP recipient gets a temporary error
R$={SMTPOpModes} $| TMPF <e r> $| $+	$`#'error $@ 4.3.0 $: "451 Temporary system failure. Please try again later."
')dnl
# otherwise keep the address: the mail is queued and tried again
R$* $| TMPF <$*> $| $+			$@ $3

# a new address and the mailHost is us or absent: route the new address
ifelse(_SMX_LDAPR_DETAIL_, `preserve', `# (with the +detail of the original)
R<$+@$+> <$=w> <$+> <$+> <$*>	$@ $>Parse0 $>canonify $1 $6 @ $2
R<$+@$+> <> <$+> <$+> <$*>	$@ $>Parse0 $>canonify $1 $5 @ $2
')dnl
R<$+> <$=w> <$+> <$+> <$*>	$@ $>Parse0 $>canonify $1
R<$+> <> <$+> <$+> <$*>		$@ $>Parse0 $>canonify $1

# a new address and another mailHost: relay the new address there
ifelse(_SMX_LDAPR_DETAIL_, `preserve', `R<$+@$+> <$+> <$+> <$+> <$*>	$`#'relay $@ $3 $: $>canonify $1 $6 @ $2
')dnl
R<$+> <$+> <$+> <$+> <$*>	$`#'relay $@ $2 $: $>canonify $1

# no new address, the mailHost is us: the original address
R<> <$=w> <$+> <$+> <$*>	$@ $2

# no new address, another mailHost: relay the original address there
R<> <$+> <$+> <$+> <$*>	$`#'relay $@ $1 $: $2

# nothing found
ifelse(_SMX_LDAPR_DETAIL_, `', `', `# user+detail@domain: try user@domain, remembering +detail
R<> <> <$+> <$+ + $* @ $+> <>	$@ $>LDAPExpand <$1> <$2 @ $4> <+$3>
')dnl
ifelse(_SMX_LDAPR_NODOMAIN_, `1', `# no @domain lookup: go on as if it had found nothing
R<> <> <$+> <$+ @ $+> <$*>	$: <> <> <$1> <@ $3> <$4>
', `# user@domain: try @domain
R<> <> <$+> <$+ @ $+> <$*>	$@ $>LDAPExpand <$1> <@ $3> <$4>
')dnl
ifelse(_SMX_LDAPR_BOUNCE_, `', `# @domain not found either: the original address
R<> <> <$+> <@ $+> <$*>		$@ $1
', `# @domain not found either: an unknown user; rejected only when it is
# the envelope recipient (with "sendertoo" also the envelope sender)
R<> <> <$+> <@ $+> <$*>		$: <?> < $&{addr_type} > < $1 >
R<?> <e r> <$+>			$`#'error $@ nouser $: "550 User unknown"
ifelse(_SMX_LDAPR_BOUNCE_, `both', `R<?> <e s> <$+>			$`#'error $@ nouser $: "550 User unknown"
')dnl
R<?> <$*> <$+>			$@ $2
')dnl
POPDIVERT`'dnl
