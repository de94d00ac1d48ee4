divert(-1)
#
# DOMAIN(`generic'): a reasonable starting point for most sites:
# per-host and +detail .forward files, redirect, local-host-names,
# root shown unmasqueraded.
#
define(`confFORWARD_PATH', `$z/.forward.$w+$h:$z/.forward+$h:$z/.forward.$w:$z/.forward')
define(`confMAX_HEADERS_LENGTH', `32768')
FEATURE(`redirect')
FEATURE(`use_cw_file')
EXPOSED_USER(`root')
