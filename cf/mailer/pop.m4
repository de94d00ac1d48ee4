divert(-1)
#
# MAILER(`pop'): user@POP goes to the MH spop program.  Settings:
# POP_MAILER_PATH, POP_MAILER_FLAGS (added to lsDFMq, default Penu),
# POP_MAILER_ARGS, POP_MAILER_QGRP.
#
_SMX_DEFAULT(`POP_MAILER_PATH', `/usr/lib/mh/spop')
_SMX_DEFAULT(`POP_MAILER_FLAGS', `Penu')
_SMX_DEFAULT(`POP_MAILER_ARGS', `pop $u')
_SMX_CLASS(`P', `POP')
PUSHDIVERT(7)
Mpop,		P=POP_MAILER_PATH, F=_SMX_MFLAGS(`POP', `lsDFMq'POP_MAILER_FLAGS), S=EnvFromL, R=EnvToL/HdrToL,
		T=DNS/RFC822/X-Unix,_SMX_IF(`POP_MAILER_QGRP', ` Q=', `,')
		A=POP_MAILER_ARGS
POPDIVERT`'
