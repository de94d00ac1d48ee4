divert(-1)
#
# FEATURE(`badmx'): refuse senders whose domain has MX records pointing at
# address literals or at loopback/private addresses.
#
define(`_SMX_BADMX_', `1')
PUSHDIVERT(5)Kmxlist bestmx -z: -T<TEMP>
Kbadmx regex -a<BADMX> ^(([0-9]{1,3}\.){3}[0-9]){0,1}\.$
KdnsA dns -R A -a. -T<TEMP>
KBadMXIP regex -a<BADMXIP> ^(127\.|10\.|0\.0\.0\.0)
POPDIVERT`'dnl
PUSHDIVERT(9)
# BadMX: check the MX hosts of a domain
SBadMX
R$+				$:<MX><$1><:$(mxlist $1$):><:>
R<MX><$+><:$*<TEMP>:><$*>	$`#'error $@ 4.1.2 $: "450 MX lookup failure for "$1
R<MX><$*><:$+:$*><:$*>		<MX><$1><:$3><: $4 $(badmx $2 $):>
R<MX><$*><$*><$*<BADMX>:$*>	$`#'error $@ 5.1.2 $:"550 Illegal MX record for host "$1
R<MX><$*><$*><$*>		$:<MX><$1><$3><$2>
R<MX><$*><:$+:$*><:$*>		<MX><$1><:$3><:$4 $(dnsA $2 $) :>
R<MX><$*><$*><$*>		$:<MX><$1><$3><$2>
R<MX><$*><:$+:$*><:$*>		<MX><$1><:$3><:$4 $(BadMXIP $2 $) :>
R<MX><$*><$*><$*<BADMXIP>:$*>	$`#'error $@ 5.1.2 $:"550 Invalid MX record for host "$1
POPDIVERT`'dnl
