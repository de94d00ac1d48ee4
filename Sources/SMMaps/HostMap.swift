// SMMaps/HostMap.swift
//
// The host class ($[ $]): canonicalises a host name through the service
// switch ("files" = HostsFile, "dns" = the resolver), or turns "[addr]"
// into the name its address maps back to.  Answers are cached per name
// (case-insensitively) for min(TTL, 3600 s), failures too, as sendmail's
// ST_NAMECANON cache.  Promises: on a temporary DNS failure, and when the
// hosts service uses DNS, the message "851 <name>: Name server timeout"
// (name shortened to 33 bytes as shortenstring does) on every lookup, and
// status 75; status 68 when the name does not exist.
import SMRules
import Glibc
import SMBase

final class HostMapBackend: MapBackend {
    struct Entry { var name: [UInt8]?; var status: Int32; var expires: Int }
    var cache: [[UInt8]: Entry] = [:]

    func open(_ map: SendmailMap) -> Bool { true }

    /// shortenstring(s, m): long strings become "head...tail".
    static func shorten(_ s: [UInt8], _ m0: Int) -> [UInt8] {
        var m = max(m0, 3)
        if s.count < m { return s }
        if m > 203 { m = 203 }
        if m < 10 {
            if m < 4 { return Array(s.prefix(m)) }
            return Array(s.prefix(m - 3)) + Array("...".utf8)
        }
        let half = (m - 3) / 2
        return Array(s.prefix(half)) + Array("...".utf8) + Array(s.suffix(half))
    }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        let set = map.set
        let now = set.environment.clock()
        let ckey = key.asciiLowercased
        let usesDNS = set.serviceSwitch.usesNameServer
        if let e = cache[ckey], e.expires >= now {
            return answer(map, key: key, entry: e, av: av, usesDNS: usesDNS)
        }
        var entry = Entry(name: nil, status: 0, expires: now + 3600)
        let localDomain = context?.macroValue([UInt8(ascii: "m")])
        if key.first != UInt8(ascii: "[") {
            let c = set.hostResolution.canonicalName(key, tryMX: !set.environment.hasWildcardMX,
                                                     localDomain: localDomain)
            if c.found {
                entry.name = c.name
                if c.ttl > 0 { entry.expires = now + min(c.ttl, 3600) }
            } else {
                entry.status = c.tempFailure ? 75 : 68
            }
        } else {
            guard let close = key.firstIndex(of: UInt8(ascii: "]")) else { return MapAnswer(nil, 0) }
            let inner = Array(key[1..<close])
            if let n = Self.reverseLookup(inner) { entry.name = n } else { entry.status = 68 }
        }
        cache[ckey] = entry
        return answer(map, key: key, entry: entry, av: av, usesDNS: usesDNS)
    }

    func answer(_ map: SendmailMap, key: [UInt8], entry: Entry, av: [[UInt8]], usesDNS: Bool) -> MapAnswer {
        if entry.status == 75 {
            if usesDNS { map.note(Array("851 ".utf8) + Self.shorten(key, 33) + Array(": Name server timeout".utf8)) }
            return MapAnswer(nil, 75)
        }
        guard let name = entry.name else { return MapAnswer(nil, entry.status) }
        return MapAnswer(map.result(key: key, value: name, av: av), 0)
    }

    /// gethostbyaddr for an IPv4 or IPv6 literal.
    static func reverseLookup(_ addr: [UInt8]) -> [UInt8]? {
        var s = addr.string
        var a4 = in_addr()
        var a6 = in6_addr()
        var host = [CChar](repeating: 0, count: 1025)
        var rc: Int32 = -1
        if inet_aton(s, &a4) != 0 {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_addr = a4
            rc = withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    getnameinfo($0, socklen_t(MemoryLayout<sockaddr_in>.size), &host, 1025, nil, 0, NI_NAMEREQD)
                }
            }
        } else {
            if s.lowercased().hasPrefix("ipv6:") { s = String(s.dropFirst(5)) }
            guard inet_pton(AF_INET6, s, &a6) == 1 else { return nil }
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_addr = a6
            rc = withUnsafePointer(to: &sin6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    getnameinfo($0, socklen_t(MemoryLayout<sockaddr_in6>.size), &host, 1025, nil, 0, NI_NAMEREQD)
                }
            }
        }
        guard rc == 0 else { return nil }
        return Array(host.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) })
    }
}
