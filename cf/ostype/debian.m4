divert(-1)
#
# OSTYPE(`debian'): Debian GNU/Linux (and derivatives), as laid out by the
# Debian sendmail packages: settings in /etc/mail, state in
# /var/lib/sendmail, local delivery through sensible-mda.
#
_SMX_DEFAULT(`MAIL_SETTINGS_DIR', `/etc/mail/')
define(`confCF_VERSION', `Debian-2+deb12u2')
define(`confSMTP_LOGIN_MSG', `$j Sendmail $v/$Z; $b; (No UCE/UBE) $?{client_addr}logging access from: ${client_name}(${client_resolve})-$_$.')
define(`confDEAD_LETTER_DROP', `/var/lib/sendmail/dead.letter')
define(`STATUS_FILE', `/var/lib/sendmail/sendmail.st')
define(`confHOST_STATUS_DIRECTORY', `/var/lib/sendmail/host_status')
# the text files may carry comments
define(`confCR_FILE', `-o MAIL_SETTINGS_DIR`'relay-domains %[^\#]')
define(`confCT_FILE', `MAIL_SETTINGS_DIR`'trusted-users %[^\#]')
define(`confCW_FILE', `MAIL_SETTINGS_DIR`'local-host-names %[^\#]')
define(`confEBINDIR', `/usr/libexec/sendmail')
changequote(`[', `]')
define([confMUST_QUOTE_CHARS], [.'])
changequote([`], ['])
define(`confME_TOO', `True')
define(`confDEF_USER_ID', `mail:mail')
define(`confREJECT_NUL', `true')
define(`confBIND_OPTS', `+WorkAroundBrokenAAAA')
# local delivery
define(`LOCAL_MAILER_PATH', `/usr/sbin/sensible-mda')
define(`LOCAL_MAILER_ARGS', `sensible-mda $g $u $h ${client_addr}')
MODIFY_MAILER_FLAGS(`LOCAL', `+S')
MODIFY_MAILER_FLAGS(`LOCAL', `-r')
MODIFY_MAILER_FLAGS(`LOCAL', `-m')
define(`PROCMAIL_MAILER_PATH', `/usr/bin/procmail')
define(`PROCMAIL_MAILER_ARGS', `procmail -m $h $f $u')
define(`USENET_MAILER_PATH', `/usr/bin/inews')
define(`UUCP_MAILER_ARGS', `uux - -r -z -a$g -gC $h!rmail ($u)')
# Debian builds with milter support and passes ${mail_from} to delay_checks
define(`_FFR_MILTER', `1')
define(`_FFR_MAIL_MACRO', `1')
