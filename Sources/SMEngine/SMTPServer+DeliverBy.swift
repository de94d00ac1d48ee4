// SMEngine/SMTPServer+DeliverBy.swift
//
// DELIVERBY (RFC 2852) on the server side, as sendmail 8.17 answers it:
// the EHLO keyword from DeliverByMin (below 0: not offered and MAIL's BY=
// is an unrecognized parameter; 0: "DELIVERBY"; n: "DELIVERBY n") and
// MAIL's `BY=<seconds>;<R|N>[T]`: the number read as strtol reads it (a
// value without digits counts as 0 and must then start with ';'),
// beyond +-999999999 "out of range", then ';', blanks, the mode letter
// (any case), blanks and an optional trace letter; anything after that
// is ignored (a refused BY= still leaves what it read: see
// deliverByParameter).  R needs a time above 0 and, with DeliverByMin > 0, at
// least DeliverByMin (555).  A later BY= in the same MAIL replaces an
// earlier one.  The envelope's value, when its mode is set, is the qf's
// `!` line (the mode byte:
// 1 N, 2 R, 0x10 more for T; the time as given, relative to the
// message's creation).  What a queue run does with an expired deadline
// is QueueDeliverBy.swift.
// Promises: pure checks on the parameter and the configuration.

import SMBase
import SMQueueFormat

extension SMTPServer {
    /// DeliverByMin (sendmail's default 0); a time value ("1m").
    var deliverByMin: Int {
        guard let v = engine.config.options["DeliverByMin"] else { return 0 }
        let t = v.trimmingASCIISpace
        if t.first == UInt8(ascii: "-") { return -(Engine.convtime(Array(t.dropFirst()), defaultUnit: UInt8(ascii: "s"))) }
        return Engine.convtime(Array(t), defaultUnit: UInt8(ascii: "s"))
    }

    /// The EHLO list's DELIVERBY line, nil when DeliverByMin is below 0.
    var deliverByKeyword: [UInt8]? {
        let min = deliverByMin
        if min < 0 { return nil }
        return Array((min > 0 ? "DELIVERBY \(min)" : "DELIVERBY").utf8)
    }

    /// MAIL's BY= parameter: sets `deliverBy`, or returns the refusal.
    /// As sendmail's, the value read so far stays in the envelope even
    /// when refused (the time once read, the mode once reset or read), so
    /// a later MAIL without BY= can still carry it into the qf.
    func deliverByParameter(_ value: [UInt8]?) -> [UInt8]? {
        guard let v = value else { return error(501, "5.5.2", "BY= requires a value") }
        func blank(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
        // strtol(): blanks, a sign, digits; no digits: 0, the end at the start
        var i = 0
        while i < v.count, blank(v[i]) { i += 1 }
        var negative = false
        if i < v.count, v[i] == UInt8(ascii: "-") || v[i] == UInt8(ascii: "+") { negative = v[i] == UInt8(ascii: "-"); i += 1 }
        let digitsStart = i
        var magnitude: Int64 = 0
        while i < v.count, isASCIIDigit(v[i]) {
            magnitude = magnitude > Int64.max / 20 ? Int64.max / 2 : magnitude * 10 + Int64(v[i] - 0x30)
            i += 1
        }
        let time = negative ? -magnitude : magnitude
        let end = i > digitsStart ? i : 0
        // (each step leaves what it set, refused or not, as sendmail's)
        deliverBy.time = time
        if time > 999_999_999 || time < -999_999_999 {
            return error(501, "5.5.2", "BY=\(v.string) out of range")
        }
        guard end < v.count, v[end] == UInt8(ascii: ";") else {
            return error(501, "5.5.2", "BY= missing ';'")
        }
        deliverBy.flag = 0
        var p = end + 1
        while p < v.count, blank(v[p]) { p += 1 }
        func shown(_ at: Int) -> String { at < v.count ? [v[at]].string : "?" }
        switch p < v.count ? v[p] | 0x20 : 0 {
        case UInt8(ascii: "n"):
            deliverBy.flag = 0x01
        case UInt8(ascii: "r"):
            deliverBy.flag = 0x02
            if time <= 0 { return error(501, "5.5.4", "mode R requires BY time > 0") }
            let min = deliverByMin
            if min > 0 && time < Int64(min) {
                return error(555, "5.5.2", "time \(time) less than \(min)")
            }
        default:
            return error(501, "5.5.2", "illegal by-mode '\(shown(p))'")
        }
        p += 1
        while p < v.count, blank(v[p]) { p += 1 }
        if p < v.count {
            guard v[p] | 0x20 == UInt8(ascii: "t") else {
                return error(501, "5.5.2", "illegal by-trace '\(shown(p))'")
            }
            deliverBy.flag |= 0x10
        }
        return nil
    }
}

/// The envelope's DELIVERBY state (sendmail's e_deliver_by, e_dlvr_flag).
struct DeliverByState {
    var time: Int64 = 0
    /// 1 N, 2 R, | 0x10 T; 0: none (no qf `!` line).
    var flag: UInt8 = 0
    var queueValue: QueueFile.DeliverBy? { flag == 0 ? nil : QueueFile.DeliverBy(flag: flag, time: time) }
}
