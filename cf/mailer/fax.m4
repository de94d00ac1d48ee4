divert(-1)
#
# MAILER(`fax'): user@host.FAX goes to a fax gateway program (HylaFAX
# faxmail by default).  Settings: FAX_MAILER_PATH, FAX_MAILER_ARGS,
# FAX_MAILER_MAX (100000), FAX_MAILER_QGRP.
#
_SMX_DEFAULT(`FAX_MAILER_PATH', `/usr/bin/faxmail')
_SMX_DEFAULT(`FAX_MAILER_ARGS', `faxmail -d $u@$h $f')
_SMX_DEFAULT(`FAX_MAILER_MAX', `100000')
_SMX_CLASS(`P', `FAX')
PUSHDIVERT(7)
Mfax,		P=FAX_MAILER_PATH, F=DFMhu, S=14, R=24,
		M=FAX_MAILER_MAX, T=X-Phone/X-FAX/X-Unix,_SMX_IF(`FAX_MAILER_QGRP', ` Q=', `,')
		A=FAX_MAILER_ARGS
POPDIVERT`'
