divert(-1)
#
# badhelo.m4 -- the rules of FEATURE(`block_bad_helo'), appended to the
# last policy ruleset that runs for a recipient (Relay_ok, or check_rcpt
# with delay_checks).  Included by checks.m4.
#
divert(0)dnl
# block_bad_helo: unauthenticated remote clients must not claim to be us
R$*			$: $1 $| <$&{auth_authen}>	authenticated?
R$* $| <$+>		$: $1				yes: no check
R$* $| <$*>		$: $1 $| <$&{client_addr}> [$&s]	client address and HELO name
R$* $| <$=R $*> [$*]	$: $1				relay network: no check
R$* $| <0> [$*]		$: $1				sendmail -bs: no check
R$* $| <$*> $=w		$#error $@ 5.7.1 $:"550 bogus HELO name used: " $&s
R$* $| <$*> [$=w]	$#error $@ 5.7.1 $:"550 bogus HELO name used: " $&s
R$* $| <$*> [$+.$+]	$: $1				qualified name: fine
R$* $| <$*> [IPv6:$+]	$: $1				IPv6 literal: fine
R$* $| <$*> [$*]	$#error $@ 5.7.1 $:"550 bogus HELO name used: " $&s
R$* $| $*		$: $1
