divert(-1)
#
# FEATURE(`access_db' [, map definition [, options...]]): policy decisions
# from the access map (Connect:, From:, To:, Spam:, ... entries).
#
# The map definition defaults to "hash -T<TMPF> MAIL_SETTINGS_DIR/access".
# A definition without a class gets "hash" put in front, one without
# -T<TMPF> gets it added.  Further arguments:
#   skip               SKIP as a value stops the search for that key type
#   lookupdotdomain    also look up ".domain" for each parent domain
#   relaytofulladdress "To:user@domain RELAY" permits relaying
#
define(`_SMX_ACCESS_',
`ifelse(_ARG_, `',
	`hash -T<TMPF> _SMX_SETTINGS(`access')',
	`ifelse(index(_ARG_, `-T<TMPF>'), `-1',
		`_SMX_ACCESS_ADD_T(_SMX_ACCESS_CLASS(_ARG_))',
		`_SMX_ACCESS_CLASS(_ARG_)')')')
# put "hash" in front of a bare path; LDAP (and other) classes stay
define(`_SMX_ACCESS_CLASS',
`ifelse(substr(`$1', 0, 1), `/', `hash $1',
	substr(`$1', 0, 1), `-', `hash $1',
	`$1')')
# add -T<TMPF> after the class name
define(`_SMX_ACCESS_ADD_T',
`regexp(`$1', `^\([^ ]*\) *\(.*\)$', `\1 -T<TMPF> \2')')
define(`_SMX_ACCESS_', _SMX_ACCESS_)
define(`_ACCESS_TABLE_', `1')
define(`_SMX_ACCESS_OPT', `ifelse(`$1', `skip', `define(`_SMX_ACCESS_SKIP_', `1')',
	`$1', `lookupdotdomain', `define(`_SMX_LOOKUPDOTDOMAIN_', `1')',
	`$1', `relaytofulladdress', `define(`_SMX_RELAYTOFULLADDR_', `1')',
	`$1', `', `',
	`_SMX_ERR(`FEATURE(`access_db'): unknown option `$1' (expected skip, lookupdotdomain or relaytofulladdress)')')')
_SMX_ACCESS_OPT(_ARG2_)_SMX_ACCESS_OPT(_ARG3_)_SMX_ACCESS_OPT(_ARG4_)
