divert(-1)
#
# FEATURE(`check_other'): a check_other ruleset that drops connections
# sending header-like lines ("Name:") as SMTP commands.
#
PUSHDIVERT(5)Kbadcmd regex -m -a<BADCMD> ^[[:print:]]+ *:
POPDIVERT`'dnl
PUSHDIVERT(9)
# check_other: "command $| first digit of the planned reply"
Scheck_other
R$* $| 2	$@ ok
R$+ $| 5	$: $(badcmd $1 $)
R$*<BADCMD>	$`#'error $@ 4.7.0 $: 421 bad command
POPDIVERT`'dnl
