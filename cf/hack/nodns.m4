divert(-1)
#
# HACK(`nodns'): a host without DNS: host lookups through the nodns
# service switch file, no interface probing, no canonification.
#
undefine(`confBIND_OPTS')
define(`confSERVICE_SWITCH_FILE', MAIL_SETTINGS_DIR`service.switch-nodns')
define(`confDONT_PROBE_INTERFACES', `True')
FEATURE(`nocanonify')
