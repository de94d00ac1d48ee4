// SMMaps/ArpaMap.swift
//
// The arpa class: an IPv4 address becomes its reversed dotted form
// (1.2.3.4 -> 4.3.2.1), an "IPv6:" address its reversed nibbles.
// Promises: status 65 (EX_DATAERR) for anything else; -m and -a as in
// map_rewrite.
import SMRules
import Glibc
import SMBase

final class ArpaMapBackend: MapBackend {
    func open(_ map: SendmailMap) -> Bool { true }

    static func reverse(_ name: [UInt8]) -> [UInt8]? {
        let s = name.string
        if name.count >= 5, Array(name[0..<5]).asciiCaseEquals(Array("IPv6:".utf8)) {
            var a6 = in6_addr()
            guard inet_pton(AF_INET6, String(s.dropFirst(5)), &a6) == 1 else { return nil }
            let bytes = withUnsafeBytes(of: a6) { Array($0) }
            let hex = Array("0123456789abcdef".utf8)
            var out: [UInt8] = []
            for i in stride(from: 15, through: 0, by: -1) {
                out.append(hex[Int(bytes[i] & 0x0f)]); out.append(UInt8(ascii: "."))
                out.append(hex[Int(bytes[i] >> 4)])
                if i > 0 { out.append(UInt8(ascii: ".")) }
            }
            return out
        }
        var a4 = in_addr()
        guard inet_pton(AF_INET, s, &a4) == 1 else { return nil }
        let b = withUnsafeBytes(of: a4) { Array($0) }
        return Array("\(b[3]).\(b[2]).\(b[1]).\(b[0])".utf8)
    }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        guard let r = Self.reverse(key) else { return MapAnswer(nil, 65) }
        return MapAnswer(map.result(key: key, value: r, av: av), 0)
    }
}
