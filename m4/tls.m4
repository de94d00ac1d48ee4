divert(-1)
#
# tls.m4 -- rulesets for STARTTLS and AUTH decisions: srv_features,
# clt_features, try_tls, tls_rcpt, tls_client, tls_server and helpers.
# Included by rules.m4.  Without the access map they are (almost) empty
# and sendmail uses its defaults.
#
divert(0)dnl

#####################################################################
#   Per-client / per-server feature switches and TLS requirements
#####################################################################
Ssrv_features
ifdef(`_SMX_LOCAL_SRV_FEATURES_', `R$*			$: $1 $| $>"Local_srv_features" $1
R$* $| $`#'$*		$`#'$2
R$* $| $*		$: $1
')dnl
ifdef(`_SMX_ACCESS_', `R$*		$: $>D <$&{client_name}> <?> <! "Srv_Features"> <>
R<?>$*		$: $>A <$&{client_addr}> <?> <! "Srv_Features"> <>
R<?>$*		$: <$(access "Srv_Features": $: ? $)>
R<?>$*		$@ OK
R<$* <TMPF>>$*	$`#'temp
R<$+>$*		$`#' $1
')dnl

Sclt_features
ifdef(`_SMX_LOCAL_CLT_FEATURES_', `R$*			$: $1 $| $>"Local_clt_features" $1
R$* $| $`#'$*		$`#'$2
R$* $| $*		$: $1
')dnl
ifdef(`_SMX_ACCESS_', `# (the name looked up is ${client_name}, as in sendmail 8.17; only the
# address lookup uses the server)
R$*		$: $>D <$&{client_name}> <?> <! "Clt_Features"> <>
R<?>$*		$: $>A <$&{client_addr}> <?> <! "Clt_Features"> <>
R<?>$*		$: <$(access "Clt_Features": $: ? $)>
R<?>$*		$@ OK
R<$* <TMPF>>$*	$`#'temp
R<$+>$*		$`#' $1
')dnl

Stry_tls
ifdef(`_SMX_LOCAL_TRY_TLS_', `R$*			$: $1 $| $>"Local_try_tls" $1
R$* $| $`#'$*		$`#'$2
R$* $| $*		$: $1
')dnl
ifdef(`_SMX_ACCESS_', `R$*		$: $>D <$&{server_name}> <?> <! "Try_TLS"> <>
R<?>$*		$: $>A <$&{server_addr}> <?> <! "Try_TLS"> <>
R<?>$*		$: <$(access "Try_TLS": $: ? $)>
R<?>$*		$@ OK
R<$* <TMPF>>$*	$`#'error $@ 4.3.0 $: "451 Temporary system failure. Please try again later."
R<NO>$*		$`#'error $@ 5.7.1 $: "550 do not try TLS with " $&{server_name} " ["$&{server_addr}"]"
')dnl

ifdef(`_SMX_STS_', `#####################################################################
#   MTA-STS (FEATURE sts): is the server acceptable for the policy of
#   the recipient domain?  The policy value comes from the map "sts".
#####################################################################

# TLS_NameInList: ":name1:name2:...:" -> "ok" if ${TLS_Name} is listed,
# otherwise the list comes back unchanged
STLS_NameInList
R$* :$&{TLS_Name}: $*	$@ ok
R$*			$@ $1

# STS_SAN: the server name must be one of the subjectAltNames of its
# certificate (class {cert_altnames}, filled because SetCertAltnames is
# on).  Only one leading label is dropped for the "*." form, and the
# "*." has to be part of the server name itself to match.
SSTS_SAN
R$*			$: $&{server_name}
R$={cert_altnames}	$@ ok
R$-.$+			$: $2
R *.$={cert_altnames}	$@ ok
R$*			$`#'error $@ 4.7.0 $: 450 $&{server_name} not listed in SANs

# STS_secure (from tls_server, argument ${verify}): a policy domain needs
# a verified connection of at least 128 bits, as a temporary failure;
# otherwise the argument is handed back for the usual checks
SSTS_secure
R$*		$: $&{rcpt_addr} $| $1
R $| $*		$@ ok					no recipient: nothing to check
R$*@$+ $| $*	$2 $| $3				keep the domain only
R$+. $| $*	$1 $| $2				without trailing dots
R$+ $| $*	$: $(sts $1 $: none $) $| $2
R$* <TMPF> $| $*	$`#'error $@ 4.7.0 $: 450 STS lookup temp fail
R$* secure $* $| $*	$@ $>"TLS_connection" $3 $| <TEMP+VERIFY:128>
R$* $| $*	$: $2

# STS_Check (from tls_rcpt, argument the recipient): for a policy domain
# the server name must match an entry of "match=" (exactly, or by its
# parent domain for a ".domain" entry) and the certificate; without a
# "match=" list only the certificate is checked.  ${rcpt_addr} only tells
# whether there is a recipient at all; the domain is taken from the
# argument.
SSTS_Check
R$*		$: $&{rcpt_addr} $| $1
R $| $*		$@ ok					no recipient: nothing to check
R$* $| $*	$: $2 $| $2
R$*@$+ $| $*	$2 $| $3				keep the domain only
R$+. $| $*	$1 $| $2				without trailing dots
R$* $| $*	$: $(sts $1 $: none $) $| mark
R$* <TMPF> $| $*	$`#'error $@ 4.7.0 $: 450 STS lookup temp fail
R$* secure $* $| mark	$: $2 $| trmatch		the rest of the policy
R$* $| mark	$@ ok					not a "secure" domain
R$* servername=hostname $| trmatch	$: $1 $| trmatch
R$+ $| trmatch				$: : $(stsxmatch $1 $: : $)
R$* $| trmatch		$@ $>STS_SAN			no MX list: certificate only
# ":mx1.:mx2:" -> ":mx1:mx2:"
R$*:$+.:$*	$1:$2:$3
# the server name itself in the list?
R:$+:		$: $(macro {TLS_Name} $@ $&{server_name} $) $>TLS_NameInList :$1:
R$* ok		$@ $>STS_SAN
# its parent domain as ".parent"?
R$*		$: $1 $| $&{server_name}
R:$* $| $-.$+	$: $(macro {TLS_Name} $@ .$3 $) $>TLS_NameInList :$1
R$* ok		$@ $>STS_SAN
R:$*:		$`#'error $@ 4.7.0 $: 450 $&{server_name} not found in " "$1
')dnl

# tls_rcpt: before each RCPT sent; requirements from TLS_Rcpt:
Stls_rcpt
ifdef(`_SMX_LOCAL_TLS_RCPT_', `R$*			$: $1 $| $>"Local_tls_rcpt" $1
R$* $| $`#'$*		$`#'$2
R$* $| $*		$: $1
')dnl
ifdef(`_SMX_STS_', `R$*			$: $1 $| $>"STS_Check" $1	MTA-STS policy
R$* $| $`#'$*		$`#'$2
R$* $| $*		$: $1
')dnl
ifdef(`_SMX_ACCESS_', `R$*			$: $(macro {TLS_Name} $@ $&{server_name} $) $1
R$+			$: <?> $>CanonAddr $1
R<?> $+ < @ $+ . >	<?> $1 <@ $2 >
R<?> $+ < @ $+ >	$: $1 <@ $2 > $| <F:$1@$2> <U:$1@> <D:$2> <E:>
R<?> $+			$: $1 $| <U:$1@> <E:>
R$* $| $+	$: $1 $| $>SearchList <! "TLS_Rcpt"> $| $2 <>
R$* $| <?>	$@ OK
R$* $| <$* <TMPF>>	$`#'error $@ 4.3.0 $: "451 Temporary system failure. Please try again later."
R$* $| <$+>	$@ $>"TLS_connection" $&{verify} $| <$2>
')dnl

# tls_client: "verify $| MAIL" or "verify $| STARTTLS"
Stls_client
ifdef(`_SMX_LOCAL_TLS_CLIENT_', `R$*			$: $1 <?> $>"Local_tls_client" $1
R$* <?> $`#'$*		$`#'$2
R$* <?> $*		$: $1
')dnl
ifdef(`_SMX_ACCESS_', `R$*		$: $(macro {TLS_Name} $@ $&{client_name} $) $1
R$* $| $*	$: $1 $| $>D <$&{client_name}> <?> <! "TLS_Clt"> <>
R$* $| <?>$*	$: $1 $| $>A <$&{client_addr}> <?> <! "TLS_Clt"> <>
R$* $| <?>$*	$: $1 $| <$(access "TLS_Clt": $: ? $)>
R$* $| <$* <TMPF>>	$`#'error $@ 4.3.0 $: "451 Temporary system failure. Please try again later."
R$*		$@ $>"TLS_connection" $1
', `R$* $| $*	$@ $>"TLS_connection" $1
')dnl

# tls_server: "verify" after STARTTLS as a client
Stls_server
ifdef(`_SMX_LOCAL_TLS_SERVER_', `R$*			$: $1 $| $>"Local_tls_server" $1
R$* $| $`#'$*		$`#'$2
R$* $| $*		$: $1
')dnl
ifdef(`_SMX_STS_', `R$*			$: $1 $| $>"STS_secure" $1	MTA-STS policy
R$* $| $`#'$*		$`#'$2
R$* $| $*		$: $1
')dnl
ifdef(`_SMX_ACCESS_', `R$*		$: $(macro {TLS_Name} $@ $&{server_name} $) $1
R$*		$: $1 $| $>D <$&{server_name}> <?> <! "TLS_Srv"> <>
R$* $| <?>$*	$: $1 $| $>A <$&{server_addr}> <?> <! "TLS_Srv"> <>
R$* $| <?>$*	$: $1 $| <$(access "TLS_Srv": $: ? $)>
R$* $| <$* <TMPF>>	$`#'error $@ 4.3.0 $: "451 Temporary system failure. Please try again later."
')dnl
R$*		$@ $>"TLS_connection" $1

# TLS_connection: "verify [$| <requirement>]" -> error or OK
STLS_connection
ifdef(`_SMX_TLS_REQ_', `R$* $| <$*>$*			$: $1 $| <$2>
# PERM+/TEMP+ prefixes choose the reply class
R$* $| <PERM + $={Tls} $*>	$: $1 $| <503:5.7.0> <$2 $3>
R$* $| <TEMP + $={Tls} $*>	$: $1 $| <403:4.7.0> <$2 $3>
R$* $| <$={Tls} $*>		$: $1 $| <454:4.7.0> <$2 $3>
RSOFTWARE $| <$-:$+> $*		$`#'error $@ $2 $: $1 " TLS handshake failed."
RSOFTWARE $| $*		$`#'error $@ 4.7.0 $: "454 TLS handshake failed."
RPROTOCOL $| <$-:$+> $*		$`#'error $@ $2 $: $1 " STARTTLS failed."
RPROTOCOL $| $*		$`#'error $@ 4.7.0 $: "454 STARTTLS failed."
RDANE_FAIL $| <$-:$+> $*		$`#'error $@ $2 $: $1 " DANE check failed."
RDANE_FAIL $| $*		$`#'error $@ 4.7.0 $: "454 DANE check failed."
RCONFIG $| <$-:$+> $*		$`#'error $@ $2 $: $1 " STARTTLS temporarily not possible."
RCONFIG $| $*		$`#'error $@ 4.7.0 $: "454 STARTTLS temporarily not possible."
# split the requirement: VERIFY[:bits], ENCR:bits, and +extensions
R$* $| <$*> <VERIFY>		$: <$2> <VERIFY> <> $1
R$* $| <$*> <VERIFY + $+>	$: <$2> <VERIFY> <$3> $1
R$* $| <$*> <$={Tls}:$->$*	$: <$2> <$3:$4> <> $1
R$* $| <$*> <$={Tls}:$- + $+>$*	$: <$2> <$3:$4> <$5> $1
R$* $| $*			$@ OK
R<$*><VERIFY> <> $={TlsVerified}	$@ OK
R<$*><VERIFY> <$+> $={TlsVerified}	$: <$1> <REQ:0> <$2>
R<$*><VERIFY:$-> <$*> $={TlsVerified}	$: <$1> <REQ:$2> <$3>
R<$*><ENCR:$-> <$*> $*		$: <$1> <REQ:$2> <$3>
R<$-:$+><VERIFY $*> <$*>	$`#'error $@ $2 $: $1 " authentication required"
R<$-:$+><VERIFY $*> <$*> FAIL	$`#'error $@ $2 $: $1 " authentication failed"
R<$-:$+><VERIFY $*> <$*> NO	$`#'error $@ $2 $: $1 " not authenticated"
R<$-:$+><VERIFY $*> <$*> NOT	$`#'error $@ $2 $: $1 " no authentication requested"
R<$-:$+><VERIFY $*> <$*> NONE	$`#'error $@ $2 $: $1 " other side does not support STARTTLS"
R<$-:$+><VERIFY $*> <$*> CLEAR	$`#'error $@ $2 $: $1 " STARTTLS disabled locally"
R<$-:$+><VERIFY $*> <$*> $+	$`#'error $@ $2 $: $1 " authentication failure " $4
R<$*><REQ:$-> <$*>		$: <$1> <REQ:$2> <$3> $>max $&{cipher_bits} : $&{auth_ssf}
R<$*><REQ:$-> <$*> $-		$: <$1> <$2:$4> <$3> $(arith l $@ $4 $@ $2 $)
R<$-:$+><$-:$-> <$*> TRUE	$`#'error $@ $2 $: $1 " encryption too weak " $4 " less than " $3
R<$-:$+><$-:$-> <$*> $*		$: <$1:$2 ++ $5>
R<$-:$+ ++ >			$@ OK
R<$-:$+ ++ $+ >			$: <$1:$2> <$3>
R<$-:$+> < $+ ++ $+ >		<$1:$2> <$3> <$4>
R<$-:$+> $+			$@ $>"TLS_req" $3 $| <$1:$2>

# TLS_req: the +CN +CS +CI +CITag extensions of a requirement
STLS_req
R $| $+		$@ OK
R<CN> $* $| <$+>		$: <CN:$&{TLS_Name}> $1 $| <$2>
ifdef(`_SMX_CERT_ALTNAMES_', `R<CN:$={cert_altnames}> $* $| <$+>	$@ $>"TLS_req" $2 $| <$3>
R<CN:$-.$+> $* $| <$+>			$: <CN:*.$2> $3 $| <$4>
R<CN:$={cert_altnames}> $* $| <$+>	$@ $>"TLS_req" $3 $| <$3>
R<CN:$*> $* $| <$+>			$: <CN:$&{TLS_Name}> $2 $| <$3>
')dnl
R<CN:$&{cn_subject}> $* $| <$+>		$@ $>"TLS_req" $1 $| <$2>
R<CN:$+> $* $| <$-:$+>	$`#'error $@ $4 $: $3 " CN " $&{cn_subject} " does not match " $1
R<CS:$&{cert_subject}> $* $| <$+>	$@ $>"TLS_req" $1 $| <$2>
R<CS:$+> $* $| <$-:$+>	$`#'error $@ $4 $: $3 " Cert Subject " $&{cert_subject} " does not match " $1
R<CI:$&{cert_issuer}> $* $| <$+>	$@ $>"TLS_req" $1 $| <$2>
R<CI:$+> $* $| <$-:$+>	$`#'error $@ $4 $: $3 " Cert Issuer " $&{cert_issuer} " does not match " $1
R<CITag:$-> $* $| <$+>	$: <$(access $1:$&{cert_issuer} $: ? $)> $2 $| <$3>
R<?> $* $| <$-:$+>	$`#'error $@ $3 $: $2 " Cert Issuer " $&{cert_issuer} " not acceptable"
R<OK> $* $| <$+>	$@ $>"TLS_req" $1 $| <$2>
ROK			$@ OK

# max: the larger of two numbers "a : b"
Smax
R:		$: 0
R:$-		$: $1
R$-:		$: $1
R$-:$-		$: $(arith l $@ $1 $@ $2 $) : $1 : $2
RTRUE:$-:$-	$: $2
R$-:$-:$-	$: $2
', `RSOFTWARE	$`#'error $@ 4.7.0 $: "454 TLS handshake failed."
RDANE_FAIL	$`#'error $@ 4.7.0 $: "454 DANE check failed."
RPROTOCOL	$`#'error $@ 4.7.0 $: "454 STARTTLS failed."
RCONFIG		$`#'error $@ 4.7.0 $: "454 STARTTLS temporarily not possible."
')dnl

# RelayTLS: a verified client certificate listed in the access map
SRelayTLS
ifdef(`_SMX_ACCESS_', `R$*			$: <?> $&{verify}
R<?> $={TlsVerified}	$: OK			verified: go on
R<?> $*			$@ NO			not verified
R$*			$: $&{cert_issuer}
R$+			$: $(access CERTISSUER:$1 $)
RRELAY			$`#' RELAY
RSUBJECT		$: <@> $&{cert_subject}
R<@> $+			$: <@> $(access CERTSUBJECT:$1 $)
R<@> RELAY		$`#' RELAY
R$*			$: NO
')dnl

# authinfo: credentials for AUTH as a client (AuthInfo: entries)
Sauthinfo
ifdef(`_SMX_AUTHINFO_', `R$*		$: <$(authinfo AuthInfo:$&{server_name} $: ? $)>
R<?>		$: <$(authinfo AuthInfo:$&{server_addr} $: ? $)>
R<?>		$: <$(authinfo AuthInfo: $: ? $)>
R<?>		$@ no				no credentials
R<$*>		$`#' $1
', `ifdef(`_SMX_ACCESS_', `R$*		$: $1 $| $>D <$&{server_name}> <?> <! AuthInfo> <>
R$* $| <?>$*	$: $1 $| $>A <$&{server_addr}> <?> <! AuthInfo> <>
R$* $| <?>$*	$: $1 $| <$(access AuthInfo: $: ? $)> <>
R$* $| <?>$*	$@ no
R$* $| <$*> <>	$`#' $2
')')dnl
ifdef(`_SMX_STS_', `
# Set_SNI (from tls_clt_features): for an MTA-STS policy domain of the
# current recipient, remember the server name in {sts_sni} when the policy
# asks for SNI ("servername=") and return the settings to use:
# "sts=secure; servername=...".  Otherwise "".
SSet_SNI
R$*		$: <$&{rcpt_addr}>
R<>		$@ ""					no recipient
R<$*@$+>	$2					keep the domain only
R$+.		$1					without trailing dots
R$+		$: $(sts $1 $: none $)
R$* <TMPF>	$`#'error $@ 4.7.0 $: 450 STS lookup temp fail
Rnone		$@ ""
R$* secure $*	$: $(stsxsni $2 $: : $) $| sts=secure; $(stsxsni2 $2 $: : $)
R$+: $| $+ :	$: $(macro {sts_sni} $@ $&{server_name} $) set $| $2
R$* $| $*	$@ $2
R$*		$@ ""
')dnl
ifdef(`_SMX_TLS_SESSION_FEATURES_', `
# tls_srv_features: "client name $| client address" -> TLS settings for
# this client from TLS_Srv_Features: entries of the access map
Stls_srv_features
R$* $| $*		$: $>D <$1> <?> <! TLS_Srv_Features> <$2>
R<?> <$*>		$: $>A <$1> <?> <! TLS_Srv_Features> <$1>
R<?> <$*>		$@ ""
R<$+> <$*>		$@ $1
')dnl
ifdef(`_SMX_TLS_CLT_FEATURES_', `ifdef(`_SMX_ACCESS_', `
# tls_clt_feat_acc: "server name $| server address" -> TLS settings for
# this server from TLS_Clt_Features: entries of the access map
Stls_clt_feat_acc
R$* $| $*		$: $>D <$1> <?> <! TLS_Clt_Features> <$2>
R<?> <$*>		$: $>A <$1> <?> <! TLS_Clt_Features> <$1>
R<?> <$*>		$@ ""
R<$+> <$*>		$@ $1
')
# DANE_disabled: the access map settings -> "<>" when they turn DANE off
# ("flags=...d..."), or when no MTA-STS SNI was set; "<DANE>" otherwise
SDANE_disabled
R$+	$: < $(stsxnodaneflag $1 $: NOFLAGS $) >
R<$* @>	$@ <>
R$*	$: < $&{sts_sni} >
R<>	$@ <>
R$*	$@ <DANE>

# STS_disabled: "<>" when the client flags contain MM (no MTA-STS) or
# there is no recipient; "<STS>" otherwise
SSTS_disabled
R$*		$: $&{client_flags}
R$* MM $*	$@ <>
R$*		$: $&{rcpt_addr} $| $1
R $| $*		$@ <>
R$*		$@ <STS>

# tls_clt_features: "server name $| server address" -> TLS settings for
# the connection to that server ("" for none)
Stls_clt_features
R$*			$: $1 $| <>
ifdef(`_SMX_ACCESS_', `R$* $| <>		$: $1 $| $>"tls_clt_feat_acc" $1
R$* $| $* $| $*		$: $1 $| $2 $| <$3>
')dnl
ifdef(`_SMX_STS_', `# MTA-STS: only with a recipient and without the MM client flag
R$* $| $* $| <$*>	$: $1 $| $2 $| <$3> $| $>"STS_disabled" sts
R$* $| $* $| <$*> $| <>	$@ $3
# with DANE still on, the access map settings are all
R$* $| $* $| <$*> $| $*		$: $1 $| $2 $| <$3> $| $>"DANE_disabled" $3
R$* $| $* $| <$+> $| <DANE>		$@ $3
R$* $| $* $| <> $| <DANE>		$@ ""
# otherwise add what the policy asks for (SNI)
R$* $| $* $| <$*> $| <$*>	$: $1 $| $2 $| <$3> $| $>"Set_SNI" $1
R$* $| $* $| <""> $| $+		$@ $3
R$* $| $* $| <$+;> $| $+		$@ $3 ; $4
R$* $| $* $| <$+> $| $+		$@ $3 ; $4
R$* $| $* $| <> $| $+		$@ $3
R$* $| $* $| $* $| $*		$: $1 $| $2 $| $3
')dnl
R$* $| $* $| <"">	$@ ""
R$* $| $* $| <$+>	$@ $3
R$*			$@ ""
')dnl
