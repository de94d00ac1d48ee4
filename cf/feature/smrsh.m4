divert(-1)
#
# FEATURE(`smrsh'): run programs from .forward and aliases through smrsh.
#
define(`LOCAL_SHELL_PATH', ifelse(_ARG_, `', `confEBINDIR`'/smrsh', _ARG_))
define(`LOCAL_SHELL_ARGS', `smrsh -c $u')
