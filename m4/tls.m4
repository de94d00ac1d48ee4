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
ifdef(`_SMX_ACCESS_', `R$*		$: $>D <$&{server_name}> <?> <! "Clt_Features"> <>
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

# tls_rcpt: before each RCPT sent; requirements from TLS_Rcpt:
Stls_rcpt
ifdef(`_SMX_LOCAL_TLS_RCPT_', `R$*			$: $1 $| $>"Local_tls_rcpt" $1
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
ifdef(`_SMX_ACCESS_', `R$*		$: $(macro {TLS_Name} $@ $&{server_name} $) $1
R$*		$: $1 $| $>D <$&{server_name}> <?> <! "TLS_Srv"> <>
R$* $| <?>$*	$: $1 $| $>A <$&{server_addr}> <?> <! "TLS_Srv"> <>
R$* $| <?>$*	$: $1 $| <$(access "TLS_Srv": $: ? $)>
R$* $| <$* <TMPF>>	$`#'error $@ 4.3.0 $: "451 Temporary system failure. Please try again later."
')dnl
R$*		$@ $>"TLS_connection" $1

# TLS_connection: "verify [$| <requirement>]" -> error or OK
STLS_connection
ifdef(`_SMX_ACCESS_', `R$* $| <$*>$*			$: $1 $| <$2>
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
