divert(-1)
#
# FEATURE(`ldap_routing' [, mailHost map [, mailRoutingAddress map
#          [, bounce [, detail [, nodomain [, tempfail]]]]]]):
# route recipients of the domains in class {LDAPRoute} (LDAPROUTE_DOMAIN)
# by the LDAP attributes mailHost and mailRoutingAddress.
#
define(`_SMX_LDAP_ROUTING_', `1')
define(`LDAPROUTE_DOMAIN', `_SMX_CLASS(`{LDAPRoute}', `$1')')
define(`LDAPROUTE_DOMAIN_FILE', `_SMX_CFILE(`{LDAPRoute}', `$1', `$2')')
define(`LDAPROUTE_EQUIVALENT', `_SMX_CLASS(`{LDAPRouteEquiv}', `$1')')
define(`LDAPROUTE_EQUIVALENT_FILE', `_SMX_CFILE(`{LDAPRouteEquiv}', `$1', `$2')')
ifelse(_ARG_, `', `_SMX_WARN(`FEATURE(`ldap_routing'): using the default LDAP map definitions')')
PUSHDIVERT(5)Kldapmh ifelse(_ARG_, `', `ldap -1 -T<TMPF> -v mailHost -k (&(objectClass=inetLocalMailRecipient)(mailLocalAddress=%0))', _ARG_)
Kldapmra ifelse(_ARG2_, `', `ldap -1 -T<TMPF> -v mailRoutingAddress -k (&(objectClass=inetLocalMailRecipient)(mailLocalAddress=%0))', _ARG2_)
C{SMTPOpModes} s d D
POPDIVERT`'dnl
PUSHDIVERT(9)
# LDAPExpand: <address> <lookup key> <detail>
SLDAPExpand
R<$+><$+><$*>	$: <$(ldapmra $2 $: $)> <$(ldapmh $2 $: $)> <$1> <$2> <$3>
R<$* <TMPF>> <$*> <$+> <$+> <$*>	$: $&{opMode} $| TMPF <$&{addr_type}> $| $3
R<$*> <$* <TMPF>> <$+> <$+> <$*>	$: $&{opMode} $| TMPF <$&{addr_type}> $| $3
R$* $| TMPF <$*> $| $+			$@ $3
R<$+> <$=w> <$+> <$+> <$*>	$@ $>Parse0 $>canonify $1
R<$+> <> <$+> <$+> <$*>		$@ $>Parse0 $>canonify $1
R<$+> <$+> <$+> <$+> <$*>	$`#'relay $@ $2 $: $>canonify $1
R<> <$=w> <$+> <$+> <$*>	$@ $2
R<> <$+> <$+> <$+> <$*>	$`#'relay $@ $1 $: $2
R<> <> <$+> <$+ @ $+> <$*>	$@ $>LDAPExpand <$1> <@ $3> <$4>
R<> <> <$+> <@ $+> <$*>		$@ $1
POPDIVERT`'dnl
