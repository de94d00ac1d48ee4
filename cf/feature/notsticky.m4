divert(-1)
#
# FEATURE(`notsticky'): accepted for compatibility; the non-sticky behaviour is the default.
#
define(`_SMX_NOTSTICKY_', `1')
