// SMConfig/CfReader+Groups.swift
//
// Q lines (queue groups, sendmail's makequeue) and X lines (mail filters,
// milter_setup and the parse-only checks of milter_open): fields, their
// checks and sendmail's messages (for Q lines also the two sendmail prints
// on stdout: R= above MaxQueueChildren, cut to it; R= above 1 without
// F=f).
// Promises: a group or filter with a fatal problem is not defined.

import Glibc
import SMBase
import SMRules

extension CfReader {
    /// Splits "name, C=v, C=v" into the name and fields; nil after a
    /// reported error.
    func splitFields(_ s: [UInt8], expectedError: (String) -> String) -> (name: [UInt8], fields: [(UInt8, [UInt8])])? {
        var p = 0
        while p < s.count, s[p] != UInt8(ascii: ","), !isASCIISpace(s[p]) { p += 1 }
        let name = Array(s[0..<p])
        if p < s.count { p += 1 }
        var fields: [(UInt8, [UInt8])] = []
        while p < s.count {
            while p < s.count, s[p] == UInt8(ascii: ",") || isASCIISpace(s[p]) { p += 1 }
            guard p < s.count else { break }
            let code = s[p]
            while p < s.count, s[p] != UInt8(ascii: "="), s[p] != UInt8(ascii: ",") { p += 1 }
            guard p < s.count, s[p] == UInt8(ascii: "=") else {
                err(expectedError(name.string))
                return nil
            }
            p += 1
            while p < s.count, isASCIISpace(s[p]) { p += 1 }
            let (v, end) = munchString(s, from: p, delim: UInt8(ascii: ","))
            fields.append((code, v))
            p = end
        }
        return (name, fields)
    }

    mutating func readQueueGroup(_ s: [UInt8]) {
        guard let (name, fields) = splitFields(s, expectedError: { "queue \($0): `=' expected" }) else { return }
        if name.isEmpty {
            err("name required for queue")
            return
        }
        var path: [UInt8]? = nil
        var kept: [(code: UInt8, value: [UInt8])] = []
        for (code, v) in fields {
            switch code {
            case UInt8(ascii: "P"):
                if v.isEmpty { err("queue \(name.string): empty path name") } else { path = v }
            case UInt8(ascii: "R"):
                // (more runners than MaxQueueChildren allows: cut, as sendmail says on stdout)
                let runners = Self.leadingInt(v)
                let most = Self.leadingInt(config.options["MaxQueueChildren"] ?? [])
                if most > 0 && runners > most {
                    reporter.notice("Q=\(name.string): R=\(runners) exceeds MaxQueueChildren=\(most), set to MaxQueueChildren")
                    kept.append((code, Array(String(most).utf8)))
                } else {
                    kept.append((code, v))
                }
            case UInt8(ascii: "F"), UInt8(ascii: "N"), UInt8(ascii: "n"), UInt8(ascii: "I"),
                 UInt8(ascii: "J"), UInt8(ascii: "j"), UInt8(ascii: "r"):
                kept.append((code, v))
            default:
                err("Q\(name.string): unknown queue equate \(String(UnicodeScalar(code)))=")
            }
        }
        if path == nil {
            guard let qd = config.options["QueueDirectory"], !qd.isEmpty else {
                err("QueueDir must be defined before queue groups")
                return
            }
            path = qd
        }
        kept.append((UInt8(ascii: "P"), path!))
        // several runners that will not fork (no F=f): sendmail warns on stdout
        if let r = kept.last(where: { $0.code == UInt8(ascii: "R") }).map({ Self.leadingInt($0.value) }), r > 1,
           !kept.contains(where: { $0.code == UInt8(ascii: "F") && $0.value.contains(UInt8(ascii: "f")) }) {
            reporter.notice("Warning: Q=\(name.string): R=\(r): multiple queue runners specified\n\tbut flag 'f' is not set")
        }
        config.queueGroups.append(QueueGroupDefinition(name: name, fields: kept))
    }

    /// atoi(): optional blanks and sign, then digits (0 without any).
    public static func leadingInt(_ v: [UInt8]) -> Int {
        var i = 0
        while i < v.count, isASCIISpace(v[i]) { i += 1 }
        var negative = false
        if i < v.count, v[i] == UInt8(ascii: "-") || v[i] == UInt8(ascii: "+") { negative = v[i] == UInt8(ascii: "-"); i += 1 }
        var n = 0
        while i < v.count, isASCIIDigit(v[i]), n < Int(Int32.max) { n = n * 10 + Int(v[i] - 0x30); i += 1 }
        return negative ? -n : n
    }

    mutating func readMilter(_ s: [UInt8]) {
        guard let (name, fields) = splitFields(s, expectedError: { "X\($0): `=' expected" }) else { return }
        if name.isEmpty {
            err("name required for mail filter")
            return
        }
        let nm = name.string
        var socket: [UInt8]? = nil
        for (code, v) in fields {
            switch code {
            case UInt8(ascii: "S"): socket = v
            case UInt8(ascii: "F"): break
            case UInt8(ascii: "T"): checkMilterTimeouts(v, nm)
            default: err("X\(nm): unknown filter equate \(String(UnicodeScalar(code)))=")
            }
        }
        checkMilterSocket(socket, nm)
        if config.milters.contains(where: { $0.name == name }) {
            err("X\(nm): duplicate filter definition")
            return
        }
        config.milters.append(MilterDefinition(name: name, fields: fields.map { (code: $0.0, value: $0.1) }))
    }

    func checkMilterTimeouts(_ v: [UInt8], _ nm: String) {
        for item in v.split(separator: UInt8(ascii: ";")) {
            var t = Array(item)
            while let f = t.first, isASCIISpace(f) { t.removeFirst() }
            guard let key = t.first else { continue }
            if ![UInt8(ascii: "C"), UInt8(ascii: "S"), UInt8(ascii: "R"), UInt8(ascii: "E"), UInt8(ascii: "L")].contains(key) {
                err("X\(nm): unknown filter timeout \(String(UnicodeScalar(key)))")
            }
        }
    }

    /// milter_open's checks when only parsing the cf.
    func checkMilterSocket(_ socket: [UInt8]?, _ nm: String) {
        guard let spec = socket, !spec.isEmpty else {
            err("X\(nm): empty or missing socket information")
            return
        }
        var family = "unix"
        var rest = spec
        if let colon = spec.firstIndex(of: UInt8(ascii: ":")) {
            let proto = Array(spec[..<colon]).asciiLowercased.string
            rest = Array(spec[(colon + 1)...])
            switch proto {
            case "", "unix", "local": family = "unix"
            case "inet": family = "inet"
            case "inet6": family = "inet6"
            default:
                err("X\(nm): unknown socket type \(Array(spec[..<colon]).string): Protocol not supported")
                return
            }
        }
        if family == "unix" {
            if rest.count >= 108 { err("X\(nm): local socket name \(rest.string) too long") }
            return
        }
        guard let at = rest.firstIndex(of: UInt8(ascii: "@")) else {
            err("X\(nm): bad address \(rest.string) (expected port@host)")
            return
        }
        let port = Array(rest[..<at])
        if !(port.first.map(isASCIIDigit) ?? false) {
            if getservbyname(port.string, "tcp") == nil {
                err("X\(nm): unknown port name \(port.string)")
            }
        }
    }
}
