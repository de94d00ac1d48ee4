divert(-1)
#
# FEATURE(`use_cw_file'): read more names for this host (class w) from
# confCW_FILE, by default MAIL_SETTINGS_DIR/local-host-names.
#
define(`_SMX_USE_CW_FILE_', `1')
