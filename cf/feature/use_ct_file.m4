divert(-1)
#
# FEATURE(`use_ct_file'): read trusted users (class t) from confCT_FILE,
# by default MAIL_SETTINGS_DIR/trusted-users.
#
define(`_SMX_USE_CT_FILE_', `1')
