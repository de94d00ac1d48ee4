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
    struct Entry { var name: [UInt8]?; var status: Int32; var expires: Int; var herrno: Int32 = 0 }

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
        // sendmail's ST_NAMECANON cache: one for all host-class maps,
        // keyed by the exact (case-sensitive) name
        let ckey = key
        let usesDNS = set.serviceSwitch.usesNameServer
        if let e = set.nameCanonCache[ckey], e.expires >= now {
            // a cache hit puts back the h_errno the lookup had left
            __h_errno_location()?.pointee = e.herrno
            // a cached temporary failure is always announced
            return answer(map, key: key, entry: e, av: av, announce: true)
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
            if let n = Self.reverseLookup(inner) {
                entry.name = n
            } else {
                entry.status = Self.statusForHErrno(Self.lastHErrno())
            }
        }
        if entry.name == nil { entry.herrno = Self.lastHErrno() }
        set.nameCanonCache[ckey] = entry
        return answer(map, key: key, entry: entry, av: av, announce: usesDNS)
    }

    func answer(_ map: SendmailMap, key: [UInt8], entry: Entry, av: [[UInt8]], announce: Bool) -> MapAnswer {
        if entry.status == 75 {
            if announce { map.note(Array("851 ".utf8) + Self.shorten(key, 33) + Array(": Name server timeout".utf8)) }
            return MapAnswer(nil, 75)
        }
        guard let name = entry.name else { return MapAnswer(nil, entry.status) }
        return MapAnswer(map.result(key: key, value: name, av: av), 0)
    }

    /// The resolver's h_errno as it stands (sendmail reads the global
    /// after a failed lookup, even when no lookup was made for this key).
    static func lastHErrno() -> Int32 { __h_errno_location()?.pointee ?? 0 }

    /// host_map_lookup's mapping of h_errno to a status.
    static func statusForHErrno(_ h: Int32) -> Int32 {
        switch h {
        case TRY_AGAIN: return 75
        case HOST_NOT_FOUND, NO_DATA: return 68
        case NO_RECOVERY: return 70
        default: return 69
        }
    }

    /// gethostbyaddr for "a.b.c.d" (inet_addr's forms) or an IPv6 literal,
    /// as sendmail's host map does it; nil leaves h_errno set.
    static func reverseLookup(_ addr: [UInt8]) -> [UInt8]? {
        var s = addr.string
        var hp: UnsafeMutablePointer<hostent>? = nil
        var a4 = in_addr()
        a4.s_addr = inet_addr(s)
        if a4.s_addr != in_addr_t(UInt32.max) {
            hp = withUnsafePointer(to: &a4) { gethostbyaddr($0, 4, AF_INET) }
        }
        if hp == nil {
            if s.lowercased().hasPrefix("ipv6:") { s = String(s.dropFirst(5)) }
            var a6 = in6_addr()
            if inet_pton(AF_INET6, s, &a6) == 1 {
                hp = withUnsafePointer(to: &a6) { gethostbyaddr($0, 16, AF_INET6) }
            }
        }
        guard let h = hp, let name = h.pointee.h_name else { return nil }
        return Array(String(cString: name).utf8)
    }
}
