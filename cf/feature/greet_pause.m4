divert(-1)
#
# FEATURE(`greet_pause' [, milliseconds]): wait before the SMTP greeting;
# clients that talk first are rejected.  With the access map,
# GreetPause:host/address entries override the default.
#
define(`_SMX_GREET_PAUSE_', _ARG_)
