divert(-1)
#
# HACK(`debian_auth'): Debian's SMTP AUTH defaults: client credentials in
# MAIL_SETTINGS_DIR/default-auth-info, and trusted users (class t) may
# submit with AUTH= for anyone.
#
define(`confDEF_AUTH_INFO', MAIL_SETTINGS_DIR`default-auth-info')
ifelse(defn(`confTRUSTED_USERS'), `', `define(`confTRUSTED_USERS', `sendmail')',
	`define(`confTRUSTED_USERS', defn(`confTRUSTED_USERS')`,sendmail')')
PUSHDIVERT(9)
# trusted users may act for anyone
SLocal_trust_auth
R$*	$: $&{auth_authen}
R$=t	$@ $`#'ok
POPDIVERT`'dnl
