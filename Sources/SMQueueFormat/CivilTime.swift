// SMQueueFormat/CivilTime.swift
//
// Breaks a Unix time into calendar fields (what gmtime/localtime give C)
// and renders C's ctime() text.  Pure arithmetic: no system time-zone
// database is read; a caller that wants local time passes the UTC offset.
// Promises: total for every Int64 within +-10^15 seconds; proleptic
// Gregorian calendar; no leap seconds (as POSIX time has none).

import SMBase

/// Calendar fields of one instant, as C's `struct tm` holds them.
public struct CivilTime: Sendable, Equatable {
    /// Full year, e.g. 2026 (C's tm_year + 1900).
    public var year: Int
    /// 0...11, as tm_mon.
    public var month: Int
    /// 1...31, as tm_mday.
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// 0 = Sunday ... 6 = Saturday, as tm_wday.
    public var weekday: Int

    /// The calendar fields of `unixTime + utcOffset` seconds.
    public init(unixTime: Int64, utcOffset: Int = 0) {
        let t = unixTime + Int64(utcOffset)
        var days = t / 86_400
        var secs = t % 86_400
        if secs < 0 { secs += 86_400; days -= 1 }
        hour = Int(secs / 3600)
        minute = Int(secs % 3600 / 60)
        second = Int(secs % 60)
        // 1970-01-01 was a Thursday (4).
        let wd = (days + 4) % 7
        weekday = Int(wd < 0 ? wd + 7 : wd)
        // Days-to-civil (Howard Hinnant's public-domain algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = mp < 10 ? mp + 3 : mp - 9
        month = Int(m - 1)
        year = Int(yoe + era * 400 + (m <= 2 ? 1 : 0))
    }

    /// The Unix time of the given UTC calendar fields (inverse of init).
    public static func unixTime(year: Int, month: Int, day: Int,
                                hour: Int = 0, minute: Int = 0, second: Int = 0) -> Int64 {
        let y = Int64(month < 2 ? year - 1 : year)
        let m = Int64(month + 1)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = m > 2 ? m - 3 : m + 9
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86_400 + Int64(hour) * 3600 + Int64(minute) * 60 + Int64(second)
    }

    static let weekdayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// C's ctime() text: `"Mon Nov 30 01:46:27 2026\n"` (day space-padded).
    public var ctime: [UInt8] {
        func two(_ v: Int, pad: UInt8) -> [UInt8] {
            v < 10 ? [pad, UInt8(0x30 + v)] : Array(String(v).utf8)
        }
        var out: [UInt8] = []
        out += Array(Self.weekdayNames[weekday].utf8) + [0x20]
        out += Array(Self.monthNames[month].utf8) + [0x20]
        out += two(day, pad: 0x20) + [0x20]
        out += two(hour, pad: 0x30) + [0x3A] + two(minute, pad: 0x30) + [0x3A] + two(second, pad: 0x30)
        out += [0x20] + Array(String(year).utf8) + [0x0A]
        return out
    }
}
