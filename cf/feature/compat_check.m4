divert(-1)
#
# FEATURE(`compat_check'): at delivery time, look up
# "Compat:sender<@>recipient" in the access map: DISCARD, TEMP:text or
# ERROR:text.
#
ifdef(`_ACCESS_TABLE_', `', `_SMX_ERR(`FEATURE(`compat_check') needs FEATURE(`access_db') first')')
PUSHDIVERT(9)
# check_compat: "sender $| recipient" when a message is delivered
Scheck_compat
R< $+ > $| $+		$: $1 $| $2
R$+ $| < $+ >		$: $1 $| $2
R$+ $| $+		$: <$(access Compat:$1<@>$2 $:OK $)>
R$* $| $*		$@ ok
R< DISCARD:$* >	$`#'discard $: $1 " - discarded by check_compat"
R< DISCARD $* >	$`#'discard $: $1 " - discarded by check_compat"
R< TEMP:$* >	$`#'error $@ TEMPFAIL $: $1 " error from check_compat. Try again later"
R< ERROR:$* >	$`#'error $@ UNAVAILABLE $: $1 " error from check_compat"
POPDIVERT`'dnl
