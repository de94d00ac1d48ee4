// SMEngine/QueueTimeouts.swift
//
// The queue's age limits as a queue run applies them (sendmail's
// dropenvelope()): Timeout.queuewarn and Timeout.queuereturn with their
// .normal/.urgent/.non-urgent/.dsn variants (and the old QueueTimeout `T`
// option, "return/warn"), the message's timeout class (a Priority:
// header, else the sign of its Precedence: class, a bounce's .dsn), and
// sendmail's wording of intervals (pintvl: "4 hours", "1 day, 2 hours").
// Promises: pure computations on the configuration and the qf; no I/O.

import SMBase
import SMQueueFormat

/// The timeout classes of sendmail's Timeout.queuewarn/queuereturn.
public enum TimeoutClass: String, CaseIterable {
    case normal, urgent, nonUrgent = "non-urgent", dsn
}

extension Engine {
    /// convtime(): "4h", "1d12h", "90" with `unit` for bare numbers.
    static func convtime(_ s: [UInt8], defaultUnit unit: UInt8) -> Int {
        var total = 0, cur = 0, pending = false
        func scale(_ c: UInt8) -> Int {
            switch c {
            case UInt8(ascii: "w"): return 604800
            case UInt8(ascii: "d"): return 86400
            case UInt8(ascii: "h"): return 3600
            case UInt8(ascii: "m"): return 60
            default: return 1
            }
        }
        for b in s.asciiLowercased {
            if isASCIIDigit(b) { cur = cur * 10 + Int(b - 0x30); pending = true; continue }
            if isASCIISpace(b) { continue }
            total += cur * scale(b)
            cur = 0
            pending = false
        }
        if pending { total += cur * scale(unit) }
        return total
    }

    /// pintvl(, false): an interval as sendmail words it in messages (the brief form is intervalText in HostStatus.swift).
    static func wordedInterval(_ seconds: Int) -> String {
        if seconds == 0 { return "zero seconds" }
        var v = seconds
        let se = v % 60; v /= 60
        let mi = v % 60; v /= 60
        let hr = v % 24; v /= 24
        let dy = v % 7, wk = v / 7
        var parts: [String] = []
        for (n, unit) in [(wk, "week"), (dy, "day"), (hr, "hour"), (mi, "minute"), (se, "second")] where n > 0 {
            parts.append("\(n) \(unit)\(n == 1 ? "" : "s")")
        }
        return parts.joined(separator: ", ")
    }

    /// The value of a header in the qf (first one, leading blanks cut).
    static func headerValue(_ qf: QueueFile, _ name: String) -> [UInt8]? {
        let n = Array(name.utf8)
        for h in qf.headers {
            let field = Array(h.text.prefix { $0 != UInt8(ascii: ":") })
            guard field.count < h.text.count, field.asciiCaseEquals(n) else { continue }
            var v = Array(h.text.dropFirst(field.count + 1))
            while let f = v.first, isASCIISpace(f) { v.removeFirst() }
            while let l = v.last, isASCIISpace(l) { v.removeLast() }
            return v
        }
        return nil
    }

    /// The precedence class of a queued message (0 when unknown).
    func precedenceClass(_ qf: QueueFile) -> Int {
        guard let v = Self.headerValue(qf, "Precedence") else { return 0 }
        let word = Array(v.prefix { !isASCIISpace($0) })
        return config.priorities.first(where: { $0.name.asciiCaseEquals(word) })?.value ?? 0
    }

    /// The message's timeout class: a bounce's is .dsn, a Priority: header
    /// names one, else a negative precedence is non-urgent and a positive
    /// one urgent.
    func timeoutClass(_ qf: QueueFile) -> TimeoutClass {
        if qf.flags.contains(.response) { return .dsn }
        var c: TimeoutClass = .normal
        let p = precedenceClass(qf)
        if p < 0 { c = .nonUrgent } else if p > 0 { c = .urgent }
        if let v = Self.headerValue(qf, "Priority") {
            switch v.asciiLowercased.string {
            case "urgent": c = .urgent
            case "normal": c = .normal
            case "non-urgent": c = .nonUrgent
            default: break
            }
        }
        return c
    }

    /// (warn, return) in seconds for a class; 0 warn = never.  Defaults:
    /// no warning, return after 5 days.  The plain option sets every
    /// class, a `.class` variant only its own (and wins).
    func queueTimeouts(_ cls: TimeoutClass) -> (warn: Int, ret: Int) {
        var warn = 0, ret = 5 * 86400
        if let t = config.options["QueueTimeout"], !t.isEmpty {
            let parts = t.split(separator: UInt8(ascii: "/"), maxSplits: 1, omittingEmptySubsequences: false).map { Array($0) }
            ret = Self.convtime(parts[0], defaultUnit: UInt8(ascii: "d"))
            if parts.count > 1 { warn = Self.convtime(parts[1], defaultUnit: UInt8(ascii: "h")) }
        }
        let subs = config.options.subValues
        func find(_ key: String) -> [UInt8]? {
            subs.first { $0.key.lowercased() == key.lowercased() }?.value
        }
        if let v = find("Timeout.queuewarn") { warn = Self.convtime(v, defaultUnit: UInt8(ascii: "h")) }
        if let v = find("Timeout.queuewarn.\(cls.rawValue)") { warn = Self.convtime(v, defaultUnit: UInt8(ascii: "h")) }
        if let v = find("Timeout.queuereturn") { ret = Self.convtime(v, defaultUnit: UInt8(ascii: "d")) }
        if let v = find("Timeout.queuereturn.\(cls.rawValue)") { ret = Self.convtime(v, defaultUnit: UInt8(ascii: "d")) }
        return (warn, ret)
    }
}
