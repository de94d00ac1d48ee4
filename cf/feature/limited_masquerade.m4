divert(-1)
#
# FEATURE(`limited_masquerade'): masquerade only MASQUERADE_DOMAIN names, not all of class w.
#
define(`_SMX_LIMITED_MASQ_', `1')
