divert(-1)
#
# FEATURE(`sts' [, socket map]): MTA-STS (RFC 8461) for outgoing mail
# through a socket map server (default inet:5461@127.0.0.1, for example
# postfix-mta-sts-resolver).  Requires STARTTLS support.
#
define(`_SMX_STS_', `1')
define(`confSTRICT_TRANSPORT_SECURITY', `true')
define(`confSET_CERT_ALTNAMES', `true')
define(`_SMX_CERT_ALTNAMES_', `1')
define(`_SMX_NEED_MACRO_MAP_', `1')
PUSHDIVERT(5)Kstsxsni regex -a: -s3 (.*)(servername=)(.*)
Kstsxsni2 regex -a: -s2 (.*)(servername=.*)
Kstsxmatch regex -a: -s2 (match=)(.*)
Kstsxnodaneflag regex -a@ -s3 (.*)(flags=)([^;]*d)(.*)
Ksts ifelse(_ARG_, `', `socket -d5 -T<TMPF> inet:5461@127.0.0.1', _ARG_)
POPDIVERT`'dnl
FEATURE(`tls_session_features')
