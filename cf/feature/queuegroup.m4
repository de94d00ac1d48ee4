divert(-1)
#
# FEATURE(`queuegroup' [, default group]): choose the queue group of a
# recipient from qgrp: entries in the access map (full address, then
# domain).  The argument is the group when nothing matches.
#
ifdef(`_ACCESS_TABLE_', `', `_SMX_ERR(`FEATURE(`queuegroup') needs FEATURE(`access_db') first')')
PUSHDIVERT(9)
# queuegroup: recipient -> "$# group"
Squeuegroup
R< $+ >		$1
R $+ @ $+	$: $>SearchList <! qgrp> $| <F:$1@$2> <D:$2> <>
ifelse(_ARG_, `', `R<?>		$@', `R<?>		$`#' _ARG_')
R<$+>		$`#' $1
POPDIVERT`'dnl
