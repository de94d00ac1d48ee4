divert(-1)
#
# FEATURE(`check_cert_altnames'): a "+CN" TLS requirement also accepts
# the subjectAltNames of the peer certificate (and a wildcard name).
#
define(`_SMX_CERT_ALTNAMES_', `1')
define(`confSET_CERT_ALTNAMES', `true')
