// mailstats/MailerTable.swift
//
// The two things mailstats takes from a sendmail.cf, read as the real
// mailstats reads them (a deliberately tiny reader, not SMConfig): mailer
// names from "M" lines, numbered after the built-in prog, *file* and
// *include* (a repeated name keeps its first number), and the StatusFile
// from "O StatusFile=path" or the old "OSpath" form (the last one wins).
// Lines are read in fgets(2048) chunks, cut at the first "#", and trailing
// white space is dropped.
// Promises: names are at most 20 bytes; at most 25 mailers.
#if canImport(Glibc)
import Glibc
#endif
import SMBase

struct MailerTable {
    var names: [[UInt8]] = [Array("prog".utf8), Array("*file*".utf8), Array("*include*".utf8)]
    var statusFile: [UInt8]?

    enum ReadError: Error {
        case tooManyMailers
        case statusFileTooLong([UInt8])
    }

    static func chunks(_ data: [UInt8], size: Int = 2048) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var cur: [UInt8] = []
        for b in data {
            cur.append(b)
            if b == 0x0A || cur.count == size - 1 { out.append(cur); cur = [] }
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    init(cf: [UInt8]) throws {
        for raw in MailerTable.chunks(cf) {
            var line = raw.prefix { $0 != 0 }.map { $0 }
            if let h = line.firstIndex(of: 0x23) { line = Array(line[..<h]) }
            else if let nl = line.firstIndex(of: 0x0A) { line = Array(line[..<nl]) }
            while let last = line.last, last < 0x80, isASCIISpace(last) { line.removeLast() }
            guard let kind = line.first else { continue }
            let b = Array(line.dropFirst())
            if kind == 0x4D {                                   // M
                if names.count >= StatisticsFile.maxMailers { throw ReadError.tooManyMailers }
                var name: [UInt8] = []
                for c in b {
                    if c == 0x2C || (c < 0x80 && isASCIISpace(c)) || name.count >= 20 { break }
                    name.append(c)
                }
                if !names.contains(name) { names.append(name) }
            } else if kind == 0x4F {                            // O
                var value: [UInt8]
                if b.count >= 11, Array(b[0..<11]).asciiCaseEquals(Array(" StatusFile".utf8)),
                   !(b.count > 11 && b[11] < 0x80 && isASCIIAlnum(b[11])) {
                    guard let eq = b.firstIndex(of: 0x3D) else { continue }
                    var i = eq + 1
                    while i < b.count, b[i] < 0x80, isASCIISpace(b[i]) { i += 1 }
                    value = Array(b[i...])
                } else if b.first == 0x53 {                     // S
                    value = Array(b.dropFirst())
                } else {
                    continue
                }
                if value.count >= Int(PATH_MAX) { throw ReadError.statusFileTooLong(value) }
                statusFile = value
            }
        }
    }

    func name(_ i: Int) -> [UInt8] { i < names.count ? names[i] : [] }
}
