// SMMaps/DNSMap.swift
//
// The dns class: `-R type` records for the key (with -B, key.base), the
// first one, or with -z all of them joined by the delimiter (at most -Z).
// A addresses print dotted, AAAA ones as "IPv6:" plus the full form.
// An A answer is also noted in InetNtoaBuffer (sendmail formats it with
// inet_ntoa(), whose static buffer other callers still point into).
// Promises: dns_map_parseargs' messages ("dns map M: wrong type T",
// "dns map M: missing -R type"); status 75 when the resolver fails
// temporarily, 68 when nothing matches.
import SMRules
import Glibc
import SMBase

final class DNSMapBackend: MapBackend {
    /// dns_map_parseargs.
    static func parse(_ spec: inout MapSpec, _ args: [UInt8], messages: inout [String]) {
        var c = ArgCursor(args)
        while true {
            c.skipSpace()
            guard c.cur == UInt8(ascii: "-") else { break }
            c.i += 1
            switch c.cur {
            case UInt8(ascii: "A"): spec.appendDuplicates = true
            case UInt8(ascii: "a"): c.i += 1; spec.append = c.word()
            case UInt8(ascii: "B"): c.i += 1; c.skipSpace(); spec.file = c.untilSpace()
            case UInt8(ascii: "d"): c.i += 1; spec.timeout = MapSpec.convtime(c.untilSpace(), defaultUnit: UInt8(ascii: "s"))
            case UInt8(ascii: "f"): spec.noFoldCase = true
            case UInt8(ascii: "m"): spec.matchOnly = true
            case UInt8(ascii: "N"): spec.includeNull = true; spec.tryWithoutNull = false
            case UInt8(ascii: "O"): spec.tryWithNull = false
            case UInt8(ascii: "o"): spec.optional = true
            case UInt8(ascii: "q"): spec.keepQuotes = true
            case UInt8(ascii: "S"): break
            case UInt8(ascii: "r"): c.i += 1; c.skipSpace(); spec.retry = MapSpec.atoi(c.untilSpace())
            case UInt8(ascii: "t"): spec.noDefer = true
            case UInt8(ascii: "T"): c.i += 1; spec.tempFailAppend = c.word()
            case UInt8(ascii: "z"): spec.columnDelimiter = MapSpec.delimiter(&c)
            case UInt8(ascii: "Z"): c.i += 1; c.skipSpace(); spec.sizeLimit = MapSpec.atoi(c.untilSpace())
            case UInt8(ascii: "R"):
                c.i += 1; c.skipSpace()
                let t = c.untilSpace()
                if let v = DNSType.named(t) { spec.dnsType = Int32(v) } else {
                    spec.dnsType = -1
                    messages.append("dns map \(spec.name.string): wrong type \(t.string)")
                }
            default: break
            }
            _ = c.word()
        }
        if spec.dnsType < 0 { messages.append("dns map \(spec.name.string): missing -R type") }
    }

    func open(_ map: SendmailMap) -> Bool { true }

    static func format(_ rr: DNSRecord) -> [UInt8] {
        switch rr.type {
        case DNSType.a where rr.data.count == 4:
            let text = Array("\(rr.data[0]).\(rr.data[1]).\(rr.data[2]).\(rr.data[3])".utf8)
            InetNtoaBuffer.note(text)
            return text
        case DNSType.aaaa where rr.data.count == 16:
            if rr.data[0..<10].allSatisfy({ $0 == 0 }) && rr.data[10] == 0xff && rr.data[11] == 0xff {
                return Array("\(rr.data[12]).\(rr.data[13]).\(rr.data[14]).\(rr.data[15])".utf8)
            }
            var groups: [String] = []
            for i in stride(from: 0, to: 16, by: 2) {
                groups.append(String(Int(rr.data[i]) << 8 | Int(rr.data[i + 1]), radix: 16))
            }
            return Array(("IPv6:" + groups.joined(separator: ":")).utf8)
        default:
            return rr.data.map { ($0 >= 0x20 && $0 < 0x7f) ? $0 : UInt8(ascii: "X") }
        }
    }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        let spec = map.spec
        var qname = key
        if let base = spec.file, !base.isEmpty { qname += [UInt8(ascii: ".")] + base }
        guard spec.dnsType >= 0 else { return MapAnswer(nil, 68) }
        let resp = map.set.environment.resolver.search(qname, type: UInt16(spec.dnsType), noDomainSearch: false)
        guard case .answer(let records, _) = resp else {
            if case .failure(let h, let e) = resp, h == 2 || e == ETIMEDOUT || e == ECONNREFUSED || e == EAGAIN {
                return MapAnswer(nil, 75)
            }
            return MapAnswer(nil, 68)
        }
        var value: [UInt8]? = nil
        var n = 0
        for rr in records where Int32(rr.type) == spec.dnsType {
            let v = Self.format(rr)
            if spec.columnDelimiter == 0 || spec.sizeLimit == 1 || spec.matchOnly {
                value = v; break
            }
            if value == nil { value = v; continue }
            value! += [spec.columnDelimiter] + v
            n += 1
            if spec.sizeLimit > 0 && n >= spec.sizeLimit { break }
        }
        guard let found = value else { return MapAnswer(nil, 68) }
        return MapAnswer(map.result(key: key, value: found, av: av), 0)
    }
}

/// The static buffer of inet_ntoa() that sendmail shares between callers:
/// a dns map's A answer overwrites the text of a client address formatted
/// before it (check_relay's log line then shows the answer as arg2).  Kept
/// per thread (a daemon session's stage runs on one thread).
public enum InetNtoaBuffer {
    nonisolated(unsafe) private static var texts: [UInt: [UInt8]] = [:]
    nonisolated(unsafe) private static var lock = pthread_mutex_t()
    private static let setup: Void = { pthread_mutex_init(&lock, nil) }()

    static func note(_ text: [UInt8]) {
        _ = setup
        pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }
        texts[UInt(pthread_self())] = text
    }

    /// What was formatted on this thread since the last call, if anything.
    public static func take() -> [UInt8]? {
        _ = setup
        pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }
        return texts.removeValue(forKey: UInt(pthread_self()))
    }
}
