// SMMaps/BestMXMap.swift
//
// The bestmx class: the most preferred MX host of the key (with a
// trailing dot), or with -z all of them joined by the delimiter.  The
// resolver's domain search is turned off, as sendmail does.  Promises:
// getmxrr's answers and statuses (75 on a temporary failure).
import SMRules
import SMBase

final class BestMXMapBackend: MapBackend {
    func open(_ map: SendmailMap) -> Bool { true }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        let r = map.set.hostResolution.mxHosts(key, noDomainSearch: true,
                                               localDomain: context?.macroValue([UInt8(ascii: "m")]))
        guard r.count > 0 else { return MapAnswer(nil, r.status) }
        if map.spec.matchOnly { return MapAnswer(map.rewrite(key, av: nil), 0) }
        let d = map.spec.columnDelimiter
        if d == 0 || r.hosts.count == 1 { return MapAnswer(map.rewrite(r.hosts[0], av: av), 0) }
        var buf: [UInt8] = []
        for (i, h) in r.hosts.enumerated() {
            if h.contains(d) {
                map.report("bestmx_map_lookup: MX host \(h.string) includes map delimiter character 0x\(hexByte(d))")
                return MapAnswer(nil, 0)
            }
            if buf.count + h.count + 2 > 256 { break }
            if i > 0 { buf.append(d) }
            buf += h
        }
        return MapAnswer(map.rewrite(buf, av: av), 0)
    }
}

/// Two uppercase hex digits.
func hexByte(_ b: UInt8) -> String {
    let hex = Array("0123456789ABCDEF")
    return String(hex[Int(b >> 4)]) + String(hex[Int(b & 15)])
}
