divert(-1)
#
# FEATURE(`sts' [, map definition]): MTA-STS (RFC 8461) for outgoing mail.
#
# The policies come from the map "sts", by default a socket map served on
# inet:5461@127.0.0.1 (postfix-mta-sts-resolver speaks that protocol).  The
# map is looked up with the recipient domain; a value such as
#	secure match=mx1.example.com:.example.net servername=hostname
# marks the domain as requiring a verified TLS connection to one of the
# listed MX names.  Any other value (or no entry) leaves the domain alone.
#
# What it adds (the rulesets are written by tls.m4 when the .cf is made,
# so the order of FEATURE(`sts') and FEATURE(`access_db') does not matter):
#	tls_rcpt	checks the server name against the policy (STS_Check)
#	tls_server	requires VERIFY with at least 128 bits (STS_secure)
#	tls_clt_features  asks for SNI for policy domains (Set_SNI) and
#			turns DANE off when the policy says so
# and the options StrictTransportSecurity and SetCertAltnames.
#
define(`_SMX_STS_', `1')
define(`confSTRICT_TRANSPORT_SECURITY', `true')
define(`confSET_CERT_ALTNAMES', `true')
define(`_SMX_NEED_MACRO_MAP_', `1')
# the map definition: the site's, or the resolver's default socket
define(`_SMX_STS_MAP_', ifelse(_ARG_, `', `socket -d5 -T<TMPF> inet:5461@127.0.0.1', `_ARG_'))
# Regular expression maps that pick the policy value apart:
#   stsxsni	 the text after "servername=" (with a ":" appended)
#   stsxsni2	 "servername=..." itself (with a ":" appended)
#   stsxmatch	 the MX name list after "match=" (with a ":" appended)
#   stsxnodaneflag  "@" when the client flags carry a "d" (no DANE)
PUSHDIVERT(5)# MTA-STS: taking the policy text apart
Kstsxsni regex -a: -s3 (.*)(servername=)(.*)
Kstsxsni2 regex -a: -s2 (.*)(servername=.*)
Kstsxmatch regex -a: -s2 (match=)(.*)
Kstsxnodaneflag regex -a@ -s3 (.*)(flags=)([^;]*d)(.*)
# MTA-STS: the policy map
Ksts _SMX_STS_MAP_
POPDIVERT`'dnl
