divert(-1)
#
# version.m4 -- version of the configuration library.
#
# _SMX_CF_VERSION_ becomes the value of $Z (shown in Received: headers),
# optionally followed by "/" and confCF_VERSION.  It tracks the sendmail
# release whose .mc vocabulary we implement, so that generated headers
# look the same as with sendmail's own library.
#
define(`_SMX_CF_VERSION_', `8.17.1.9')
define(`_SMX_LIB_VERSION_', `smx-cf 1.0')
divert(0)dnl
