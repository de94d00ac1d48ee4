// SMMaps/HostResolution+DNS.swift
//
// The DNS half of host resolution: dns_getcanonname (search list walk,
// AAAA then A then MX, CNAME chasing, DontExpandCnames, WorkAroundBrokenAAAA
// going on after a timed-out query) and getmxrr (MX list, sorted by
// preference with sendmail's tie-break seeded by the time of day, local
// hosts first among equals, duplicates removed, falling back to the host
// itself, FallbackMXhost's hosts appended or alone when the name server
// fails, res_query instead of res_search under HasWildcardMX).  Promises:
// the same answers and temporary-failure decisions as domain.c for the
// same resolver replies (DNSTests compare them through a real server).
import Glibc
import SMBase

extension HostResolution {
    struct DNSCanon { var name: [UInt8]?; var status: Int32; var ttl: Int }

    static let hostNotFound: Int32 = 1, tryAgain: Int32 = 2, noRecovery: Int32 = 3, noData: Int32 = 4

    /// Whether IPv6 sockets work (sendmail then asks for AAAA first).
    public static let inet6: Bool = {
        let s = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        if s >= 0 { close(s); return true }
        return false
    }()

    func dnsCanonicalName(_ hostIn: [UInt8], tryMX: Bool) -> DNSCanon {
        let resolver = environment.resolver
        let cfg = resolver.searchConfig()
        var host = hostIn
        var status: Int32 = 0
        var loops = 0
        var ttl = 0
        let initial = Self.inet6 ? DNSType.aaaa : DNSType.a
        cnameLoop: while true {
            let dots = host.filter { $0 == UInt8(ascii: ".") }.count
            var list: [[UInt8]] = []
            if dots > 0 { list.append([]) }
            if host.last != UInt8(ascii: ".") && cfg.useSearchList {
                list.append(contentsOf: cfg.searchList.prefix(6))
            } else if dots == 0 && cfg.useDefaultDomain {
                list.append(cfg.defaultDomain)
            } else if host.last == UInt8(ascii: ".") {
                host.removeLast()
            }
            var mxMatch: [UInt8]? = nil
            var qtype = initial
            var gotMX = false
            var sli = 0
            searchLoop: while sli < list.count {
                let dp = list[sli]
                if qtype == initial { gotMX = false }
                let resp = resolver.queryDomain(host, domain: dp, type: qtype)
                switch resp {
                case .failure(let herr, let err):
                    var h = herr
                    if err == ECONNREFUSED || herr == Self.tryAgain {
                        h = Self.tryAgain
                        if dp.isEmpty {
                            if status == 0 { status = 75 }
                        } else {
                            status = 75
                            // WorkAroundBrokenAAAA: a server that times out
                            // on one type may still answer the next one
                            if !(environment.workAroundBrokenAAAA && err == ETIMEDOUT) {
                                return DNSCanon(name: nil, status: 75, ttl: ttl)
                            }
                        }
                    }
                    if h != Self.hostNotFound {
                        if qtype == DNSType.aaaa { qtype = DNSType.a; continue }
                        if qtype == DNSType.a && !gotMX && (tryMX || dp.isEmpty) { qtype = DNSType.mx; continue }
                    }
                    sli += 1; qtype = initial
                    continue
                case .answer(let records, _):
                    var amatch = false
                    for rr in records {
                        ttl = Int(rr.ttl)
                        switch rr.type {
                        case DNSType.mx:
                            gotMX = true
                            if !dp.isEmpty && environment.hasWildcardMX {
                                if tryMX && mxMatch == nil { mxMatch = dp }
                                continue
                            }
                            amatch = true
                        case DNSType.a, DNSType.aaaa:
                            amatch = true
                        case DNSType.cname:
                            if environment.dontExpandCnames { amatch = true; break }
                            loops += 1
                            if loops > 11 { return DNSCanon(name: nil, status: 78, ttl: ttl) }
                            host = rr.data
                            continue cnameLoop
                        default:
                            continue
                        }
                        if amatch && rr.type == DNSType.cname { break }
                    }
                    if amatch { mxMatch = dp; break searchLoop }
                    if qtype == DNSType.aaaa { qtype = DNSType.a }
                    else if qtype == DNSType.a && !gotMX && (tryMX || dp.isEmpty) { qtype = DNSType.mx }
                    else { qtype = initial; sli += 1 }
                }
            }
            guard let m = mxMatch else {
                return DNSCanon(name: nil, status: status == 0 ? 68 : status, ttl: ttl)
            }
            var out = host
            if !m.isEmpty { out.append(UInt8(ascii: ".")); out.append(contentsOf: m) }
            return DNSCanon(name: out, status: 0, ttl: ttl)
        }
    }

    /// What getmxrr returns: the hosts (count -1 on failure) and the EX_
    /// status it set.
    public struct MXResult: Sendable, Equatable {
        public var hosts: [[UInt8]]
        public var count: Int
        public var status: Int32
        /// Each host's MX preference (empty: not from MX records; a
        /// fallback host: Int.max), for hostsignature()'s separators.
        public var preferences: [Int] = []
    }

    /// getmxrr(host, droplocalhost, tryfallback): `-bt /mx` asks with the
    /// fallback and without dropping; `noDomainSearch` is bestmx's resolver
    /// setting.  FallbackMXhost's own MX list (sendmail's getfallbackmxrr,
    /// which it caches for the TTL) is looked up on each call here.
    public func mxHosts(_ host: [UInt8], dropLocalHost: Bool = false, tryFallback: Bool = false,
                        noDomainSearch: Bool = false, localDomain: [UInt8]?) -> MXResult {
        if host.isEmpty { return MXResult(hosts: [], count: 0, status: 0) }
        var fallback: [[UInt8]] = []
        if tryFallback, let fb = environment.fallbackMX, !fb.isEmpty,
           !(dropLocalHost && environment.isLocalHost(fb)) {
            fallback = fallbackHosts(fb, localDomain: localDomain)
        }
        var r = mxHostList(host, dropLocalHost: dropLocalHost, noDomainSearch: noDomainSearch,
                           localDomain: localDomain)
        if r.count == -3 {
            // the name server failed: the fallback hosts alone, else try again later
            if !fallback.isEmpty { return MXResult(hosts: fallback, count: fallback.count, status: 0) }
            return MXResult(hosts: [], count: -1, status: 75)
        }
        if r.count >= 0 && !r.seenLocal && !fallback.isEmpty {
            r.preferences = Array(r.preferences.prefix(r.count)) + Array(repeating: Int.max, count: fallback.count)
            r.hosts = Array(r.hosts.prefix(r.count)) + fallback
            r.count = r.hosts.count
        }
        return MXResult(hosts: r.hosts, count: r.count, status: r.status, preferences: r.preferences)
    }

    /// getfallbackmxrr: the fallback host itself when it is `[...]`, else
    /// its MX list (a null MX counts as none).
    func fallbackHosts(_ host: [UInt8], localDomain: [UInt8]?) -> [[UInt8]] {
        if host.first == UInt8(ascii: "[") { return [host] }
        let r = mxHostList(host, dropLocalHost: false, noDomainSearch: false, localDomain: localDomain)
        return r.count > 0 ? Array(r.hosts.prefix(r.count)) : []
    }

    /// getmxrr without the fallback: count -3 for "the name server failed"
    /// (TRY_AGAIN), which the caller turns into the fallback or -1.
    func mxHostList(_ host: [UInt8], dropLocalHost: Bool, noDomainSearch: Bool,
                    localDomain: [UInt8]?) -> (hosts: [[UInt8]], count: Int, status: Int32, seenLocal: Bool, preferences: [Int]) {
        let r = mxHostsNoFallback(host, dropLocalHost: dropLocalHost, noDomainSearch: noDomainSearch,
                                  localDomain: localDomain)
        return (r.0.hosts, r.0.count, r.0.status, r.seenLocal, r.0.preferences)
    }

    private func mxHostsNoFallback(_ host: [UInt8], dropLocalHost: Bool, noDomainSearch: Bool,
                                   localDomain: [UInt8]?) -> (MXResult, seenLocal: Bool) {
        var status: Int32 = 0
        var tryCanon = false
        var seenLocal = false
        var localPref: UInt16 = 256
        var entries: [(host: [UInt8], pref: UInt16, weight: Int)] = []
        punt: do {
            if host.first == UInt8(ascii: "[") || !serviceSwitch.usesNameServer { break punt }
            // HasWildcardMX (from ConfigLevel 6): res_query, no search list
            let resp = environment.resolver.search(host, type: DNSType.mx,
                                                   noDomainSearch: noDomainSearch
                                                       || (environment.hasWildcardMX && environment.configLevel >= 6))
            switch resp {
            case .failure(let herr, _):
                switch herr {
                case Self.noData: tryCanon = true; break punt
                case Self.noRecovery: break punt
                case Self.hostNotFound: tryCanon = true; status = 68; break punt
                case Self.tryAgain, -1: return (MXResult(hosts: [], count: -3, status: 75), false)
                default: return (MXResult(hosts: [], count: -1, status: 71), false)
                }
            case .answer(let records, _):
                var seenNull = false
                for rr in records where rr.type == DNSType.mx && entries.count < 99 {
                    var name = rr.data
                    if rr.preference == 0 && name.isEmpty { seenNull = true }
                    let weight: Int
                    if environment.isLocalHost(name) {
                        if dropLocalHost {
                            if !seenLocal || rr.preference < localPref { localPref = rr.preference }
                            seenLocal = true
                            continue
                        }
                        weight = 0
                    } else {
                        weight = mxrand(name)
                    }
                    if name.isEmpty || name.last != UInt8(ascii: ".") { name.append(UInt8(ascii: ".")) }
                    entries.append((name, rr.preference, weight))
                }
                if seenNull && entries.count == 1 { return (MXResult(hosts: [], count: -2, status: 69), false) }
            }
            // sort: selection sort as sendmail does, truncating at local pref
            var i = 0
            while i < entries.count {
                var j = i + 1
                while j < entries.count {
                    if entries[i].pref > entries[j].pref ||
                        (entries[i].pref == entries[j].pref && entries[i].weight > entries[j].weight) {
                        entries.swapAt(i, j)
                    }
                    j += 1
                }
                if seenLocal && entries[i].pref >= localPref { entries.removeSubrange(i...); break }
                i += 1
            }
            var k = 0
            while k + 1 < entries.count {
                if entries[k].host.asciiCaseEquals(entries[k + 1].host) { entries.remove(at: k + 1) } else { k += 1 }
            }
            if !entries.isEmpty {
                return (MXResult(hosts: entries.map(\.host), count: entries.count, status: status,
                                 preferences: entries.map { Int($0.pref) }), seenLocal)
            }
        }
        // punt: the host itself
        if seenLocal && !environment.tryNullMXList {
            return (MXResult(hosts: [], count: -1, status: 78), seenLocal)
        }
        var name = host
        var count = 0
        if host.first == UInt8(ascii: "[") {
            if let close = name.firstIndex(of: UInt8(ascii: "]")) {
                let inner = String(decoding: name[1..<close], as: UTF8.self)
                if Self.isIPLiteral(inner) { count = 1 } else {
                    tryCanon = true
                    name = Array(name[1..<close])
                }
            }
        }
        if tryCanon {
            let c = canonicalName(name, tryMX: false, localDomain: localDomain)
            if c.found {
                name = c.name
                if name.last != UInt8(ascii: ".") { name.append(UInt8(ascii: ".")) }
                count = 1
            }
        }
        return (MXResult(hosts: count > 0 ? [name] : [], count: count, status: status), seenLocal)
    }

    static func isIPLiteral(_ s: String) -> Bool {
        var a4 = in_addr()
        if inet_aton(s, &a4) != 0 { return true }
        var a6 = in6_addr()
        var t = s
        if t.lowercased().hasPrefix("ipv6:") { t = String(t.dropFirst(5)) }
        return inet_pton(AF_INET6, t, &a6) == 1
    }

    /// mxrand: a repeatable per-process weight for equal preferences.
    func mxrand(_ host: [UInt8]) -> Int {
        var seed = environment.clock() & 0xffff
        if seed == 0 { seed = 1 }
        var h = seed
        for c in host { h = ((h << 1) ^ Int(asciiLower(c))) % 2003 }
        return (h & 0xff) + 1
    }
}
