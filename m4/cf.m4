divert(-1)
#
# cf.m4 -- entry point of the configuration library.
#
# Usage:   m4 cf/m4/cf.m4 site.mc > sendmail.cf
#     or   include(`/path/to/cf/m4/cf.m4') at the top of site.mc
#
# This file only works out where the library lives and loads the macro
# core (cfhead.m4).  The .cf itself is written when the input ends
# (see proto.m4, queued with m4wrap by cfhead.m4).
#
# Written for this project; the .mc vocabulary is the one documented for
# sendmail 8.17 so that existing site files build unchanged.
#

ifdef(`_SMX_CORE_LOADED_', `',
`
# Where are the parts (feature/, mailer/, ostype/ ...)?  A site may set
# _CF_DIR_ itself (with a trailing slash); otherwise derive it from the
# name this file was read under: strip the trailing "m4/cf.m4".
ifdef(`_CF_DIR_', `',
	`ifelse(__file__, `__file__',
		`define(`_CF_DIR_', `../')',
		`define(`_CF_DIR_',
			substr(__file__, 0, eval(len(__file__) - 8)))')')

# The macro core lives next to this file.  When the library is used from
# the repository root (m4 m4/cf.m4), the parts are one level down in cf/.
define(`_SMX_M4_DIR_', _CF_DIR_`m4/')
sinclude(_CF_DIR_`partsdir.m4')
ifdef(`_SMX_PARTS_HERE_', `',
	`sinclude(_CF_DIR_`cf/partsdir.m4')
	ifdef(`_SMX_PARTS_HERE_', `define(`_CF_DIR_', _CF_DIR_`cf/')')')

include(_SMX_M4_DIR_`cfhead.m4')
')

divert(0)dnl
