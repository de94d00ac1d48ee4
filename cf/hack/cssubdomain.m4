divert(-1)
#
# HACK(`cssubdomain'): treat user@ourname.CS.Berkeley.EDU and
# user@ourname.Berkeley.EDU as local (an old Berkeley convention).
#
PUSHDIVERT(2)dnl
R$* < @ $=w .CS.Berkeley.EDU > $*	$: $1 < @ $j > $3
R$* < @ $=w .Berkeley.EDU> $*		$: $1 < @ $j > $3
POPDIVERT`'dnl
