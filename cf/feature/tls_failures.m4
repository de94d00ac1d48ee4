divert(-1)
#
# FEATURE(`tls_failures'): replaced by the TLSFallbacktoClear option;
# kept so that old .mc files still build.
#
_SMX_ERR(`FEATURE(`tls_failures') no longer exists; use define(`confTLS_FALLBACK_TO_CLEAR', `true') instead')
define(`confTLS_FALLBACK_TO_CLEAR', `true')
