divert(-1)
#
# MAILER(`xagent'): hand mail to an external agent program (Debian).
# Settings: XAGENT_MAILER_PATH (/usr/lib/xagent), XAGENT_MAILER_FLAGS
# (DFMueXLn), XAGENT_MAILER_ARGS (xagent $h $u).
#
_SMX_DEFAULT(`XAGENT_MAILER_PATH', `/usr/lib/xagent')
_SMX_DEFAULT(`XAGENT_MAILER_FLAGS', `DFMueXLn')
_SMX_DEFAULT(`XAGENT_MAILER_ARGS', `xagent $h $u')
PUSHDIVERT(7)
Mxagent,	P=XAGENT_MAILER_PATH, F=_SMX_MFLAGS(`XAGENT', XAGENT_MAILER_FLAGS), S=11/31, R=21/31,
		T=DNS/RFC822/X-Unix,
		A=XAGENT_MAILER_ARGS, E=\n
POPDIVERT`'
