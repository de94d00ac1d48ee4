divert(-1)
# Marker read by m4/cf.m4: the directory holding this file is the parts
# directory (feature/, mailer/, ostype/, domain/, hack/, siteconfig/).
define(`_SMX_PARTS_HERE_')
