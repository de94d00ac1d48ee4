divert(-1)
#
# FEATURE(`tls_session_features'): per-peer TLS settings from the access
# map (TLS_Srv_Features: and TLS_Clt_Features: entries).
#
ifdef(`_ACCESS_TABLE_', `', `_SMX_ERR(`FEATURE(`tls_session_features') needs FEATURE(`access_db') first')')
define(`_SMX_TLS_SESSION_FEATURES_', `1')
PUSHDIVERT(9)
# tls_srv_features: "client name $| client address" -> settings
Stls_srv_features
R$* $| $*		$: $>D <$1> <?> <! TLS_Srv_Features> <$2>
R<?> <$*>		$: $>A <$1> <?> <! TLS_Srv_Features> <$1>
R<?> <$*>		$@ ""
R<$+> <$*>		$@ $1

# tls_clt_feat_acc, tls_clt_features: the same as a client
Stls_clt_feat_acc
R$* $| $*		$: $>D <$1> <?> <! TLS_Clt_Features> <$2>
R<?> <$*>		$: $>A <$1> <?> <! TLS_Clt_Features> <$1>
R<?> <$*>		$@ ""
R<$+> <$*>		$@ $1

SDANE_disabled
R$+	$: < $(stsxnodaneflag $1 $: NOFLAGS $) >
R<$* @>	$@ <>
R$*	$: < $&{sts_sni} >
R<>	$@ <>
R$*	$@ <DANE>

SSTS_disabled
R$*		$: $&{client_flags}
R$* MM $*	$@ <>
R$*		$: $&{rcpt_addr} $| $1
R $| $*		$@ <>
R$*		$@ <STS>

Stls_clt_features
R$*			$: $1 $| <>
R$* $| <>		$: $1 $| $>"tls_clt_feat_acc" $1
R$* $| $* $| $*		$: $1 $| $2 $| <$3>
R$* $| $* $| <"">	$@ ""
R$* $| $* $| <$+>	$@ $3
R$*			$@ ""
POPDIVERT`'dnl
