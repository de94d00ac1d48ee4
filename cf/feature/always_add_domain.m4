divert(-1)
#
# FEATURE(`always_add_domain'): qualify unqualified addresses for the local mailer too;\n# an argument gives the domain to add (default: this host).
#
define(`_SMX_ALWAYS_ADD_DOMAIN_', _ARG_)
