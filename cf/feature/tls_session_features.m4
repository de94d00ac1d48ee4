divert(-1)
#
# FEATURE(`tls_session_features'): per-peer TLS settings from the access
# map (TLS_Srv_Features: and TLS_Clt_Features: entries).  The rulesets
# (tls_srv_features, tls_clt_features and their helpers) are written by
# tls.m4; FEATURE(`sts') shares the client side.
#
ifdef(`_ACCESS_TABLE_', `', `_SMX_ERR(`FEATURE(`tls_session_features') needs FEATURE(`access_db') first')')
define(`_SMX_TLS_SESSION_FEATURES_', `1')
