// SMMaps/SyslogMap.swift
//
// The syslog class: logs the key at the -L priority (default LOG_NOTICE)
// and answers the empty string.  Promises: priorities by name (emerg ...
// debug, with or without LOG_) or number, as map.c's syslog_map_parseargs.
import SMRules
import Glibc
import SMBase

final class SyslogMapBackend: MapBackend {
    var priority: Int32 = LOG_NOTICE

    func open(_ map: SendmailMap) -> Bool {
        if let l = map.spec.syslogLevel {
            var n = l.asciiUppercased.string
            if n.hasPrefix("LOG_") { n = String(n.dropFirst(4)) }
            let table: [String: Int32] = ["EMERG": LOG_EMERG, "ALERT": LOG_ALERT, "CRIT": LOG_CRIT,
                                          "ERR": LOG_ERR, "WARNING": LOG_WARNING, "NOTICE": LOG_NOTICE,
                                          "INFO": LOG_INFO, "DEBUG": LOG_DEBUG]
            if let p = table[n] { priority = p }
            else if let d = l.first, isASCIIDigit(d) { priority = Int32(MapSpec.atoi(l)) }
        }
        return true
    }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        map.set.environment.syslog(priority, key)
        return MapAnswer([], 0)
    }
}
