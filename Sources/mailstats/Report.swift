// mailstats/Report.swift
//
// Formats a statistics file as the real mailstats prints it: the human
// table ("Statistics from <ctime>", one row per mailer with any traffic,
// sizes in K, totals and connection counts) or, with -p/-P, the program
// form ("<init time> <now>", the same rows without K, " T" and " C" lines).
// Promises: output is byte-for-byte printf's "%2d %8ld %10ldK ..." layout.
#if canImport(Glibc)
import Glibc
#endif
import SMBase

struct Report {
    let stats: StatisticsFile
    let mailers: MailerTable
    let showNames: Bool
    let programMode: Bool

    /// printf("%<width>ld").
    static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }

    func render(now: Int64) -> [UInt8] {
        var out: [UInt8] = []
        func put(_ s: String) { out += Array(s.utf8) }
        let p = Report.pad
        if programMode {
            put("\(stats.initTime) \(now)\n")
        } else {
            out += Array("Statistics from ".utf8) + Sys.ctimeLine(stats.initTime)
            put(" M   msgsfr  bytes_from   msgsto    bytes_to  msgsrej msgsdis msgsqur")
            put(showNames ? "  Mailer\n" : "\n")
        }
        let k = programMode ? "" : "K"
        var t = [Int64](repeating: 0, count: 7)
        for i in 0..<StatisticsFile.maxMailers {
            let s = stats
            guard s.messagesFrom[i] != 0 || s.messagesTo[i] != 0 || s.quarantined[i] != 0
                    || s.rejected[i] != 0 || s.discarded[i] != 0 else { continue }
            put(Report.pad(Int64(i), 2) + " \(p(s.messagesFrom[i], 8)) \(p(s.kbytesFrom[i], 10))\(k) \(p(s.messagesTo[i], 8)) \(p(s.kbytesTo[i], 10))\(k)   \(p(s.rejected[i], 6))  \(p(s.discarded[i], 6))")
            put("  \(p(s.quarantined[i], 6))")
            if showNames { out += Array("  ".utf8) + mailers.name(i) }
            put("\n")
            let row = [s.messagesFrom[i], s.kbytesFrom[i], s.messagesTo[i], s.kbytesTo[i], s.rejected[i], s.discarded[i], s.quarantined[i]]
            for j in 0..<7 { t[j] = t[j] &+ row[j] }
        }
        if !programMode {
            put(String(repeating: "=", count: 69) + "\n")
        }
        put(" T \(p(t[0], 8)) \(p(t[1], 10))\(k) \(p(t[2], 8)) \(p(t[3], 10))\(k)   \(p(t[4], 6))  \(p(t[5], 6))")
        put("  \(p(t[6], 6))\n")
        if programMode {
            put(" C \(p(stats.connectionsFrom, 8)) \(p(stats.connectionsTo, 8)) \(p(stats.connectionsRejected, 6))\n")
        } else {
            put(" C \(p(stats.connectionsFrom, 8)) \(String(repeating: " ", count: 10))  \(p(stats.connectionsTo, 8)) \(String(repeating: " ", count: 10))    \(p(stats.connectionsRejected, 6))\n")
        }
        return out
    }
}

enum Sys {
    /// ctime(3) in the local time zone, newline included.
    static func ctimeLine(_ t: Int64) -> [UInt8] {
        var tt = time_t(t)
        var buf = [CChar](repeating: 0, count: 64)
        guard ctime_r(&tt, &buf) != nil else { return Array("???\n".utf8) }
        return buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    }

    static func errorText(_ e: Int32) -> String { String(cString: strerror(e)) }

    static func writeAll(_ fd: Int32, _ b: [UInt8]) {
        var off = 0
        while off < b.count {
            let n = b.withUnsafeBytes { write(fd, $0.baseAddress! + off, b.count - off) }
            if n < 0 { if errno == EINTR { continue }; return }
            off += n
        }
    }
}
