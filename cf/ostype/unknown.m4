divert(-1)
#
# OSTYPE(`unknown'): no system chosen (an error: pick the OSTYPE of your system
# so that paths and mailer flags are right).
#
_SMX_ERR(`OSTYPE(`unknown'): no operating system type was chosen; use OSTYPE() with the name of your system (for example linux, debian, freebsd6, solaris11)')
