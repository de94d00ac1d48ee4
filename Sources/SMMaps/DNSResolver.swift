// SMMaps/DNSResolver.swift
//
// The DNS queries the host, dns and bestmx classes (and getcanonname /
// getmxrr) make, behind a protocol so tests can script answers.  The
// system implementation calls glibc's res_nsearch / res_nquery /
// res_nquerydomain with a fresh resolver state per call (so it reads
// /etc/resolv.conf as sendmail does, then applies ResolverOptions) and decodes the answer section with
// dn_expand.  Promises: a failure carries the resolver's h_errno and errno
// unchanged, which is what sendmail's decisions (tempfail or not) use.
import CResolv
import Glibc

/// One resource record of an answer section.
public struct DNSRecord: Sendable, Equatable {
    public var name: [UInt8]
    public var type: UInt16
    public var ttl: Int32
    /// A/AAAA: raw address bytes; CNAME/NS/PTR: the name; MX: the
    /// exchange; SRV: the target; TXT: the strings concatenated.
    public var data: [UInt8]
    /// MX preference or SRV priority.
    public var preference: UInt16
    public init(name: [UInt8], type: UInt16, ttl: Int32, data: [UInt8], preference: UInt16 = 0) {
        self.name = name
        self.type = type
        self.ttl = ttl
        self.data = data
        self.preference = preference
    }
}

public enum DNSResponse: Sendable, Equatable {
    case answer([DNSRecord], authenticated: Bool)
    /// h_errno (HOST_NOT_FOUND 1, TRY_AGAIN 2, NO_RECOVERY 3, NO_DATA 4,
    /// -1 for a local failure) and errno.
    case failure(hErrno: Int32, errno: Int32)
}

/// The resolver's search settings (from resolv.conf).
public struct DNSSearchConfig: Sendable, Equatable {
    public var searchList: [[UInt8]]
    public var defaultDomain: [UInt8]
    public var useSearchList: Bool     // RES_DNSRCH
    public var useDefaultDomain: Bool  // RES_DEFNAMES
    public init(searchList: [[UInt8]], defaultDomain: [UInt8], useSearchList: Bool, useDefaultDomain: Bool) {
        self.searchList = searchList
        self.defaultDomain = defaultDomain
        self.useSearchList = useSearchList
        self.useDefaultDomain = useDefaultDomain
    }
}

public protocol DNSResolving: Sendable {
    /// res_search (with `noDomainSearch`, RES_DNSRCH and RES_DEFNAMES off).
    func search(_ name: [UInt8], type: UInt16, noDomainSearch: Bool) -> DNSResponse
    /// res_querydomain(name, domain); an empty domain queries the name.
    func queryDomain(_ name: [UInt8], domain: [UInt8], type: UInt16) -> DNSResponse
    /// The search list and options.
    func searchConfig() -> DNSSearchConfig
}

public enum DNSType {
    public static let a: UInt16 = 1, ns: UInt16 = 2, cname: UInt16 = 5, ptr: UInt16 = 12
    public static let mx: UInt16 = 15, txt: UInt16 = 16, aaaa: UInt16 = 28, srv: UInt16 = 33
    public static let afsdb: UInt16 = 18, tlsa: UInt16 = 52

    /// dns_string_to_type: the -R names sendmail knows.
    public static func named(_ s: [UInt8]) -> UInt16? {
        switch s.asciiUppercasedForDNS {
        case "A": return a
        case "AAAA": return aaaa
        case "AFSDB": return afsdb
        case "CNAME": return cname
        case "MX": return mx
        case "NS": return ns
        case "PTR": return ptr
        case "SRV": return srv
        case "TXT": return txt
        case "TLSA": return tlsa
        default: return nil
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate var asciiUppercasedForDNS: String {
        String(decoding: map { ($0 >= 0x61 && $0 <= 0x7A) ? $0 - 0x20 : $0 }, as: UTF8.self)
    }
}

public struct SystemResolver: DNSResolving {
    /// ResolverOptions, applied over resolv.conf's settings on every query.
    public var settings: ResolverSettings
    public init(settings: ResolverSettings = ResolverSettings()) { self.settings = settings }

    private func withState<T>(_ body: (res_state) -> T) -> T {
        let st = UnsafeMutablePointer<__res_state>.allocate(capacity: 1)
        memset(st, 0, MemoryLayout<__res_state>.size)
        defer { sm_res_nclose(st); st.deallocate() }
        _ = sm_res_ninit(st)
        if !settings.flagOperations.isEmpty {
            sm_res_set_options(st, settings.apply(to: sm_res_options(st)))
        }
        return body(st)
    }

    public func search(_ name: [UInt8], type: UInt16, noDomainSearch: Bool) -> DNSResponse {
        withState { st in
            if noDomainSearch {
                sm_res_set_options(st, sm_res_options(st) & ~UInt(RES_DNSRCH | RES_DEFNAMES))
            }
            return run(st) { buf, len in
                String(decoding: name, as: UTF8.self).withCString {
                    sm_res_nsearch(st, $0, 1, Int32(type), buf, len)
                }
            }
        }
    }

    public func queryDomain(_ name: [UInt8], domain: [UInt8], type: UInt16) -> DNSResponse {
        withState { st in
            run(st) { buf, len in
                String(decoding: name, as: UTF8.self).withCString { n in
                    if domain.isEmpty {
                        return sm_res_nquerydomain(st, n, nil, 1, Int32(type), buf, len)
                    }
                    return String(decoding: domain, as: UTF8.self).withCString { d in
                        sm_res_nquerydomain(st, n, d, 1, Int32(type), buf, len)
                    }
                }
            }
        }
    }

    public func searchConfig() -> DNSSearchConfig {
        withState { st in
            var list: [[UInt8]] = []
            for i in 0..<Int32(MAXDNSRCH) {
                guard let p = sm_res_dnsrch(st, i) else { break }
                list.append(Array(String(cString: p).utf8))
            }
            let opts = sm_res_options(st)
            return DNSSearchConfig(searchList: list,
                                   defaultDomain: Array(String(cString: sm_res_defdname(st)).utf8),
                                   useSearchList: opts & UInt(RES_DNSRCH) != 0,
                                   useDefaultDomain: opts & UInt(RES_DEFNAMES) != 0)
        }
    }

    private func run(_ st: res_state,
                     _ q: (UnsafeMutablePointer<UInt8>, Int32) -> Int32) -> DNSResponse {
        let size = 65536
        let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        defer { buf.deallocate() }
        errno = 0
        let n = q(buf, Int32(size))
        if n < 0 { return .failure(hErrno: sm_res_herrno(st), errno: errno) }
        return DNSMessageParser.parse(UnsafeBufferPointer(start: buf, count: min(Int(n), size)))
    }
}

/// Decodes the answer section of a DNS reply.
enum DNSMessageParser {
    static func parse(_ msg: UnsafeBufferPointer<UInt8>) -> DNSResponse {
        guard msg.count >= 12, let base = msg.baseAddress else {
            return .failure(hErrno: 3, errno: 0)
        }
        let ad = msg[3] & 0x20 != 0
        let qd = Int(msg[4]) << 8 | Int(msg[5])
        let an = Int(msg[6]) << 8 | Int(msg[7])
        let eom = base + msg.count
        var cp = base + 12
        var nameBuf = [CChar](repeating: 0, count: 1025)
        for _ in 0..<qd {
            let n = sm_dn_skipname(cp, eom)
            if n < 0 { return .answer([], authenticated: ad) }
            cp += Int(n) + 4
        }
        func expand(_ at: UnsafePointer<UInt8>) -> (name: [UInt8], len: Int)? {
            let n = sm_dn_expand(base, eom, at, &nameBuf, Int32(nameBuf.count))
            if n < 0 { return nil }
            let s = nameBuf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            return (Array(s.utf8), Int(n))
        }
        var records: [DNSRecord] = []
        for _ in 0..<an {
            guard cp < eom, let owner = expand(cp) else { break }
            cp += owner.len
            guard cp + 10 <= eom else { break }
            let type = UInt16(cp[0]) << 8 | UInt16(cp[1])
            let ttl = Int32(bitPattern: UInt32(cp[4]) << 24 | UInt32(cp[5]) << 16 | UInt32(cp[6]) << 8 | UInt32(cp[7]))
            let rdlen = Int(cp[8]) << 8 | Int(cp[9])
            cp += 10
            guard cp + rdlen <= eom else { break }
            var rec = DNSRecord(name: owner.name, type: type, ttl: ttl, data: [])
            switch type {
            case DNSType.a, DNSType.aaaa:
                rec.data = Array(UnsafeBufferPointer(start: cp, count: rdlen))
            case DNSType.cname, DNSType.ns, DNSType.ptr:
                rec.data = expand(cp)?.name ?? []
            case DNSType.mx, DNSType.afsdb:
                if rdlen >= 2 {
                    rec.preference = UInt16(cp[0]) << 8 | UInt16(cp[1])
                    rec.data = expand(cp + 2)?.name ?? []
                }
            case DNSType.srv:
                if rdlen >= 6 {
                    rec.preference = UInt16(cp[0]) << 8 | UInt16(cp[1])
                    rec.data = expand(cp + 6)?.name ?? []
                }
            case DNSType.txt:
                var i = 0
                while i < rdlen {
                    let l = Int(cp[i]); i += 1
                    let e = min(i + l, rdlen)
                    rec.data.append(contentsOf: UnsafeBufferPointer(start: cp + i, count: e - i))
                    i = e
                }
            default:
                rec.data = Array(UnsafeBufferPointer(start: cp, count: rdlen))
            }
            records.append(rec)
            cp += rdlen
        }
        return .answer(records, authenticated: ad)
    }
}
