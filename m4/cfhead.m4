divert(-1)
#
# cfhead.m4 -- the .mc vocabulary.
#
# Everything a site .mc may call is defined here.  Nothing is written to
# the output while the .mc is read, apart from text the .mc itself places
# in diversion 0; the configuration file is assembled by proto.m4 when the
# input ends (m4wrap below), from the settings collected here and from
# text the parts have filed into these diversions:
#
#	1  LOCAL_NET_CONFIG	rules for the "not local" branch of parse
#	2  LOCAL_RULE_3		site additions to canonify
#	3  LOCAL_RULE_0		site additions to parse (ParseLocal)
#	4  UUCP routing		rules the uucp mailers add to parse
#	5  local info		class, file and map lines from the parts
#	6  LOCAL_CONFIG		site configuration lines
#	7  mailers		M lines and mailer rulesets
#	8  LOCAL_DNSBL		extra DNS black list checks
#	9  LOCAL_RULESETS	site rulesets and LOCAL_RULE_1/2
#	70 the local and prog mailers (always written first)
#

define(`_SMX_CORE_LOADED_')
include(_SMX_M4_DIR_`version.m4')
divert(-1)

######################################################################
#  diagnostics
######################################################################

# _SMX_ERR(text): report a configuration mistake; the build still writes
# a .cf (so all mistakes are listed at once) but m4 exits with status 1.
# Inside a part (feature, mailer ...) the position reported is that of
# the .mc line that asked for the part.
define(`_SMX_WHERE', `ifdef(`_SMX_WHERE_', `_SMX_WHERE_', `__file__:__line__')')
define(`_SMX_ERR',
`errprint(_SMX_WHERE`: *** ERROR: $1
')define(`_SMX_FAILED_', `1')')
define(`_SMX_WARN',
`errprint(_SMX_WHERE`: warning: $1
')')

# Site files such as Debian's sendmail.mc include sendmail's cf.m4 by an
# absolute path.  Our core is loaded already, so such an include is
# dropped; everything else goes to m4's own include.
define(`_SMX_IS_CFM4', `ifelse(regexp(`$1', `\(^\|/\)m4/cf\.m4$'), `-1', `0', `1')')
define(`include',
`ifelse(`$#', `0', ``include'',
	_SMX_IS_CFM4(`$1'), `1', `',
	`builtin(`include', `$1')')')
define(`sinclude',
`ifelse(`$#', `0', ``sinclude'',
	_SMX_IS_CFM4(`$1'), `1', `',
	`builtin(`sinclude', `$1')')')

# _SMX_READABLE(path) -> 1 if the file can be read, else 0
define(`_SMX_READABLE', `syscmd(`test -r "$1"')ifelse(sysval, `0', `1', `0')')

######################################################################
#  diversion stack (also used by parts written for sendmail's library)
######################################################################
define(`PUSHDIVERT', `pushdef(`_SMX_DIVSTACK_', divnum)divert($1)')
define(`POPDIVERT', `divert(_SMX_DIVSTACK_)popdef(`_SMX_DIVSTACK_')')

######################################################################
#  small helpers
######################################################################
# _SMX_DEFAULT(name, value): define name unless the site already did
define(`_SMX_DEFAULT', `ifdef(`$1', `', `define(`$1', `$2')')')
define(`_DEFIFNOT', defn(`_SMX_DEFAULT'))
# CONCAT(a, b, ...): join the (expanded) arguments
define(`CONCAT', `$1$2$3$4$5$6$7$8$9')
# _SMX_IF(name, before, after): "before<value>after" if name is defined
# and not empty, else nothing
define(`_SMX_IF', `ifelse(defn(`$1'), `', `', `$2'defn(`$1')`$3')')
define(`_OPTINS', `ifdef(`$1', `$2$1$3')')
# quote an argument for later use
define(`_SMX_QUOTE', ``$1'')
# list helpers: _SMX_ADD(name, text) appends "text" to macro name
define(`_SMX_ADD', `ifdef(`$1', `define(`$1', defn(`$1')`$2')', `define(`$1', `$2')')')

######################################################################
#  arguments of FEATURE, HACK, OSTYPE, DOMAIN, MAILER
######################################################################
define(`_SMX_PUSHARGS',
`pushdef(`_ARG_', `$1')pushdef(`_ARG1_', `$1')pushdef(`_ARG2_', `$2')dnl
pushdef(`_ARG3_', `$3')pushdef(`_ARG4_', `$4')pushdef(`_ARG5_', `$5')dnl
pushdef(`_ARG6_', `$6')pushdef(`_ARG7_', `$7')pushdef(`_ARG8_', `$8')dnl
pushdef(`_ARG9_', `$9')pushdef(`_NUMARGS_', `$#')')
define(`_SMX_POPARGS',
`popdef(`_ARG_')popdef(`_ARG1_')popdef(`_ARG2_')popdef(`_ARG3_')dnl
popdef(`_ARG4_')popdef(`_ARG5_')popdef(`_ARG6_')popdef(`_ARG7_')dnl
popdef(`_ARG8_')popdef(`_ARG9_')popdef(`_NUMARGS_')')

# _SMX_PART(directory, WHAT, name, args...): read <parts>/directory/name.m4
define(`_SMX_PART',
`ifelse(`$3', `',
	`_SMX_ERR(`$2() was called without a name')',
	index(`$3', `/'), `-1',
	`ifelse(_SMX_READABLE(_CF_DIR_`$1/$3.m4'), `1',
		`PUSHDIVERT(-1)_SMX_PUSHARGS(shift(shift(shift($@))))dnl
pushdef(`_SMX_WHERE_', _SMX_WHERE)dnl
builtin(`include', _CF_DIR_`$1/$3.m4')dnl
popdef(`_SMX_WHERE_')_SMX_POPARGS`'POPDIVERT`'',
		`_SMX_ERR(`$2(`$3'): there is no such $1 in this library (looked for '_CF_DIR_`$1/$3.m4)')')',
	`_SMX_ERR(`$2(`$3'): the name may not contain a slash')')')

######################################################################
#  the .mc vocabulary
######################################################################

define(`VERSIONID', `ifelse(`$#', `0', ``VERSIONID'', `ifelse(divnum, `0', ``#  version: $1'')')')

define(`OSTYPE', `ifelse(`$#', `0', ``OSTYPE'', `ifdef(`_SMX_OSTYPE_',
	`_SMX_WARN(`OSTYPE(`$1') is not the first OSTYPE; both are read')')dnl
define(`_SMX_OSTYPE_', `$1')_SMX_PART(`ostype', `OSTYPE', $@)')')

define(`DOMAIN', `ifelse(`$#', `0', ``DOMAIN'', `_SMX_PART(`domain', `DOMAIN', $@)')')

define(`FEATURE', `ifelse(`$#', `0', ``FEATURE'', `ifdef(`_SMX_MAILER_SEEN_',
	`_SMX_ERR(`FEATURE(`$1') comes after a MAILER(); declare all features before the mailers')')dnl
define(`_SMX_FEATURE_$1_', `1')_SMX_PART(`feature', `FEATURE', $@)')')

define(`HACK', `ifelse(`$#', `0', ``HACK'', `_SMX_PART(`hack', `HACK', $@)')')

define(`MAILER', `ifelse(`$#', `0', ``MAILER'', `ifelse(`$1', `', `_SMX_ERR(`MAILER() was called without a mailer name')',
	`ifdef(`_MAILER_$1_',
		`_SMX_ERR(`MAILER(`$1') appears twice; each mailer may be declared only once')',
		`define(`_MAILER_$1_', `')define(`_SMX_MAILER_SEEN_', `1')dnl
_SMX_PART(`mailer', `MAILER', $@)')')')')

# SITECONFIG(file, this-host, class): UUCP neighbours.  The file lists
# SITE(name) lines; each name joins the given class.
define(`SITECONFIG', `ifelse(`$#', `0', ``SITECONFIG'', `pushdef(`SITE', `PUSHDIVERT(5)C$3 '`$'`1
POPDIVERT`'')dnl
ifelse(`$3', `U', `PUSHDIVERT(5)Cw$2 $2.UUCP
POPDIVERT`'')dnl
_SMX_PART(`siteconfig', `SITECONFIG', `$1')popdef(`SITE')')')

define(`MAILER_DEFINITIONS', `divert(7)')

# Class and file lists
define(`_SMX_CLASS', `PUSHDIVERT(5)C$1 $2
POPDIVERT`'')
define(`_SMX_CFILE', `PUSHDIVERT(5)F$1 ifelse(`$3', `', `', `-o ')$2
POPDIVERT`'')
define(`LOCAL_DOMAIN', `_SMX_CLASS(`w', `$1')')
define(`EXPOSED_USER', `_SMX_CLASS(`E', `$1')')
define(`EXPOSED_USER_FILE', `_SMX_CFILE(`E', `$1', `$2')')
define(`LOCAL_USER', `_SMX_CLASS(`L', `$1')')
define(`LOCAL_USER_FILE', `_SMX_CFILE(`L', `$1', `$2')')
define(`MASQUERADE_AS', `define(`_SMX_MASQ_AS_', `$1')')
define(`MASQUERADE_DOMAIN', `_SMX_CLASS(`M', `$1')')
define(`MASQUERADE_DOMAIN_FILE', `_SMX_CFILE(`M', `$1', `$2')')
define(`MASQUERADE_EXCEPTION', `_SMX_CLASS(`N', `$1')')
define(`MASQUERADE_EXCEPTION_FILE', `_SMX_CFILE(`N', `$1', `$2')')
define(`GENERICS_DOMAIN', `_SMX_CLASS(`G', `$1')')
define(`GENERICS_DOMAIN_FILE', `_SMX_CFILE(`G', `$1', `$2')')
define(`VIRTUSER_DOMAIN', `define(`_SMX_VIRTHOST_', `1')_SMX_CLASS(`{VirtHost}', `$1')')
define(`VIRTUSER_DOMAIN_FILE', `define(`_SMX_VIRTHOST_', `1')_SMX_CFILE(`{VirtHost}', `$1', `$2')')
define(`RELAY_DOMAIN', `_SMX_CLASS(`R', `$1')')
define(`RELAY_DOMAIN_FILE', `_SMX_CFILE(`R', `$1', `$2')')
define(`CANONIFY_DOMAIN', `_SMX_CLASS(`{Canonify}', `$1')')
define(`CANONIFY_DOMAIN_FILE', `_SMX_CFILE(`{Canonify}', `$1', `$2')')
define(`TRUST_AUTH_MECH', `_SMX_CLASS(`{TrustAuthMech}', `$1')')
define(`_SMX_DAEMON_DEFS_', `')

# Daemon, client, milter and queue group declarations
define(`DAEMON_OPTIONS', `_SMX_ADD(`_SMX_DAEMONS_', `O DaemonPortOptions=$1
')')
define(`CLIENT_OPTIONS', `_SMX_ADD(`_SMX_CLIENTS_', `O ClientPortOptions=$1
')')
define(`MAIL_FILTER', `_SMX_ADD(`_SMX_MILTERS_', `X$1, $2
')')
define(`INPUT_MAIL_FILTER',
`MAIL_FILTER(`$1', `$2')dnl
ifdef(`confINPUT_MAIL_FILTERS',
	`define(`confINPUT_MAIL_FILTERS', defn(`confINPUT_MAIL_FILTERS')`, $1')',
	`define(`confINPUT_MAIL_FILTERS', `$1')')')
define(`QUEUE_GROUP', `_SMX_ADD(`_SMX_QGROUPS_', `Q$1, $2
')')

# MODIFY_MAILER_FLAGS(KEY, change): "+xy" adds flags, "-xy" removes them,
# anything else replaces the whole flag set of the mailer(s) using KEY.
define(`MODIFY_MAILER_FLAGS',
`ifelse(substr(`$2', 0, 1), `+',
	`_SMX_ADD(`_SMX_MF_ADD_$1', substr(`$2', 1))',
	substr(`$2', 0, 1), `-',
	`_SMX_ADD(`_SMX_MF_DEL_$1', substr(`$2', 1))',
	`define(`_SMX_MF_SET_$1', `$2')undefine(`_SMX_MF_ADD_$1')undefine(`_SMX_MF_DEL_$1')')')
# _SMX_MFLAGS(KEY, default flags) -> the flags after MODIFY_MAILER_FLAGS
define(`_SMX_MFLAGS',
`ifdef(`_SMX_MF_SET_$1', `defn(`_SMX_MF_SET_$1')',
	`translit(`$2', defn(`_SMX_MF_DEL_$1'))`'defn(`_SMX_MF_ADD_$1')')')
define(`_MODMF_', `_SMX_MFLAGS(`$2', `$1')')

# Site rules and configuration text
define(`LOCAL_CONFIG', `divert(6)')
define(`LOCAL_NET_CONFIG', `define(`_SMX_LOCAL_NET_CONFIG_', `1')divert(1)')
define(`LOCAL_RULE_3', `divert(2)')
define(`LOCAL_RULE_0', `divert(3)')
define(`LOCAL_RULE_1', `divert(9)dnl
#  site rules applied to sender addresses (LOCAL_RULE_1)
Ssender=1
')
define(`LOCAL_RULE_2', `divert(9)dnl
#  site rules applied to recipient addresses (LOCAL_RULE_2)
Srecipient=2
')
define(`LOCAL_RULESETS', `divert(9)
')
define(`LOCAL_DNSBL', `define(`_SMX_LOCAL_DNSBL_', `1')divert(8)')
define(`LOCAL_UUCP', `divert(4)')
# hooks that make the named standard ruleset call a site ruleset
define(`LOCAL_SRV_FEATURES', `define(`_SMX_LOCAL_SRV_FEATURES_', `1')divert(9)
SLocal_srv_features
')
define(`LOCAL_CLT_FEATURES', `define(`_SMX_LOCAL_CLT_FEATURES_', `1')divert(9)
SLocal_clt_features
')
define(`LOCAL_TRY_TLS', `define(`_SMX_LOCAL_TRY_TLS_', `1')divert(9)
SLocal_try_tls
')
define(`LOCAL_TLS_RCPT', `define(`_SMX_LOCAL_TLS_RCPT_', `1')divert(9)
SLocal_tls_rcpt
')
define(`LOCAL_TLS_CLIENT', `define(`_SMX_LOCAL_TLS_CLIENT_', `1')divert(9)
SLocal_tls_client
')
define(`LOCAL_TLS_SERVER', `define(`_SMX_LOCAL_TLS_SERVER_', `1')divert(9)
SLocal_tls_server
')
define(`LOCAL_STARTTLS', `define(`_SMX_LOCAL_STARTTLS_', `1')divert(9)
SLocal_starttls
')

# Header editing
define(`HEADER_CHECK', `_SMX_ADD(`_SMX_HDRCHECKS_', `H$1: $>$2
')')

######################################################################
#  defaults (a site may override any of these before or after)
######################################################################
define(`MAIL_SETTINGS_DIR', `/etc/mail/')
define(`_SMX_SETTINGS', `MAIL_SETTINGS_DIR`'$1')
define(`ALIAS_FILE', `_SMX_SETTINGS(`aliases')')
define(`HELP_FILE', `_SMX_SETTINGS(`helpfile')')
define(`QUEUE_DIR', `/var/spool/mqueue')
define(`confCW_FILE', `_SMX_SETTINGS(`local-host-names')')
define(`confCT_FILE', `_SMX_SETTINGS(`trusted-users')')
define(`confCR_FILE', `-o _SMX_SETTINGS(`relay-domains')')
define(`confTRUSTED_USERS', `')
define(`confUSERDB_SPEC', `')
undefine(`confUSERDB_SPEC')
define(`confSMTP_MAILER', `esmtp')
define(`confLOCAL_MAILER', `local')
define(`confRELAY_MAILER', `relay')
define(`confUUCP_MAILER', `uucp-old')
define(`confMAILER_NAME', `MAILER-DAEMON')
define(`confEBINDIR', `/usr/libexec')
define(`confFROM_HEADER', `$?x$x <$g>$|$g$.')
define(`confMESSAGEID_HEADER', `<$t.$i@$j>')
define(`confRECEIVED_HEADER', `$?sfrom $s $.$?_($?s$|from $.$_)
	$.$?{auth_type}(authenticated$?{auth_ssf} bits=${auth_ssf}$.)
	$.by $j ($v/$Z)$?r with $r$. id $i$?{tls_version}
	(version=${tls_version} cipher=${cipher} bits=${cipher_bits} verify=${verify})$.$?u
	for $u; $|;
	$.$b')
define(`confSEVEN_BIT_INPUT', `False')
define(`confALIAS_WAIT', `10')
define(`confMIN_FREE_BLOCKS', `100')
define(`confBLANK_SUB', `.')
define(`confCON_EXPENSIVE', `False')
define(`confDELIVERY_MODE', `background')
define(`confTEMP_FILE_MODE', `0600')
define(`confMIME_FORMAT_ERRORS', `True')
define(`confFORWARD_PATH', `$z/.forward.$w:$z/.forward')
define(`confMCI_CACHE_SIZE', `2')
define(`confMCI_CACHE_TIMEOUT', `5m')
define(`confUSE_ERRORS_TO', `False')
define(`confLOG_LEVEL', `9')
define(`confCHECK_ALIASES', `False')
define(`confOLD_STYLE_HEADERS', `True')
define(`confPRIVACY_FLAGS', `authwarnings')
define(`confTO_QUEUERETURN', `5d')
define(`confTO_QUEUEWARN', `4h')
define(`confSAFE_QUEUE', `True')
define(`confSMTP_LOGIN_MSG', `$j Sendmail $v/$Z; $b')
define(`confFROM_LINE', `From $g $d')
define(`confOPERATORS', `.:%@!^/[]+')
define(`confCF_LEVEL', `10')
define(`_SMX_VENDOR_', `Berkeley')
define(`confMILTER_MACROS_CONNECT', ``j, _, {daemon_name}, {if_name}, {if_addr}'')
define(`confMILTER_MACROS_HELO', ``{tls_version}, {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}'')
define(`confMILTER_MACROS_ENVFROM', ``i, {auth_type}, {auth_authen}, {auth_ssf}, {auth_author}, {mail_mailer}, {mail_host}, {mail_addr}'')
define(`confMILTER_MACROS_ENVRCPT', ``{rcpt_mailer}, {rcpt_host}, {rcpt_addr}'')
define(`confMILTER_MACROS_EOM', ``{msg_id}'')

# Accepted for compatibility with 8.9-era site files; /etc/mail is the
# settings directory unless MAIL_SETTINGS_DIR says otherwise.
define(`_USE_ETC_MAIL_', `')

# Write the configuration when the input is finished.
m4wrap(`include(_SMX_M4_DIR_`proto.m4')')

divert(0)dnl
