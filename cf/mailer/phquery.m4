divert(-1)
#
# MAILER(`phquery'): the "ph" mailer, looking recipients up in a CCSO
# nameserver.  Settings: PH_MAILER_PATH, PH_MAILER_FLAGS (added to nrDFM,
# default ehmu), PH_MAILER_ARGS, PH_MAILER_QGRP.
#
_SMX_DEFAULT(`PH_MAILER_PATH', `/usr/local/etc/phquery')
_SMX_DEFAULT(`PH_MAILER_FLAGS', `ehmu')
_SMX_DEFAULT(`PH_MAILER_ARGS', `phquery -- $u')
PUSHDIVERT(7)
Mph,		P=PH_MAILER_PATH, F=_SMX_MFLAGS(`PH', `nrDFM'PH_MAILER_FLAGS), S=EnvFromL, R=EnvToL/HdrToL,
		T=DNS/RFC822/X-Unix,_SMX_IF(`PH_MAILER_QGRP', ` Q=', `,')
		A=PH_MAILER_ARGS
POPDIVERT`'
