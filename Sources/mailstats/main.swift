// mailstats/main.swift
//
// mailstats: print sendmail's mail statistics, a drop-in for Debian's
// /usr/libexec/sendmail/mailstats 8.17.
//   mailstats [-C cffile] [-c] [-P] [-f stfile] [-o] [-p]
// -C cf (default /etc/mail/sendmail.cf; -c: /etc/mail/submit.cf) names the
// mailers and the StatusFile; -f overrides the file; -o omits mailer names;
// -P prints the program-readable form; -p does too and then empties the
// file.  Exit status and messages as the real one: 64 usage, 66 cannot
// open, 70 too many mailers, 71 bad file, 72 no statistics file, 78
// StatusFile name too long.
#if canImport(Glibc)
import Glibc
#endif
import SMBase

/// An errno value carried in a Result.
struct Errno: Error { let code: Int32 }

let program = CommandLine.arguments.first ?? "mailstats"
let usage = "usage: mailstats [-C cffile] [-c] [-P] [-f stfile] [-o] [-p]\n"

func die(_ msg: String, _ code: SysExit) -> Never {
    Sys.writeAll(2, msg.latin1Bytes)
    exit(code.rawValue)
}

var cfFile = "/etc/mail/sendmail.cf"
var statsFile: String?
var showNames = true
var programMode = false
var truncateAfter = false

// glibc getopt(3) with "cC:f:opP": options may follow operands.
var operands: [String] = []
var argv = Array(CommandLine.arguments.dropFirst())
var ai = 0
parsing: while ai < argv.count {
    let arg = Array(argv[ai].utf8)
    ai += 1
    if arg == Array("--".utf8) { operands += argv[ai...]; break }
    guard arg.count > 1, arg[0] == 0x2D else { operands.append(argv[ai - 1]); continue }
    var j = 1
    while j < arg.count {
        let c = arg[j]; j += 1
        switch c {
        case 0x63: cfFile = "/etc/mail/submit.cf"               // c
        case 0x6F: showNames = false                           // o
        case 0x70: truncateAfter = true; programMode = true    // p
        case 0x50: programMode = true                          // P
        case 0x43, 0x66:                                       // C f
            var value: String
            if j < arg.count { value = String(decoding: arg[j...], as: UTF8.self); j = arg.count }
            else if ai < argv.count { value = argv[ai]; ai += 1 }
            else {
                die("\(program): option requires an argument -- '\(Character(Unicode.Scalar(c)))'\n" + usage, .usage)
            }
            if c == 0x43 { cfFile = value } else { statsFile = value }
        default:
            die("\(program): invalid option -- '\(Character(Unicode.Scalar(c)))'\n" + usage, .usage)
        }
    }
}
if !operands.isEmpty { die(usage, .usage) }

func readAll(_ path: String) -> Result<[UInt8], Errno> {
    let fd = open(path, O_RDONLY)
    if fd < 0 { return .failure(Errno(code: errno)) }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { return .failure(Errno(code: errno)) }
        if n == 0 { return .success(out) }
        out += buf[0..<n]
    }
}

let table: MailerTable
switch readAll(cfFile) {
case .failure(let e):
    die("mailstats: \(cfFile): \(Sys.errorText(e.code))\n", .noInput)
case .success(let cf):
    do {
        table = try MailerTable(cf: cf)
    } catch MailerTable.ReadError.tooManyMailers {
        die("Too many mailers defined, \(StatisticsFile.maxMailers) max.\n", .software)
    } catch MailerTable.ReadError.statusFileTooLong(let v) {
        die("StatusFile filename too long: \(Array(v.prefix(30)).string)...\n", .config)
    } catch {
        die("mailstats: \(error)\n", .software)
    }
}

guard let path = statsFile ?? table.statusFile.map({ $0.string }) else {
    die("mailstats: no statistics file located\n", .osFile)
}

// Read one structure's worth, as read(2) of sizeof(struct statistics).
func readStats(_ fd: Int32) -> Result<[UInt8], Errno> {
    var buf = [UInt8](repeating: 0, count: StatisticsFile.size)
    let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    if n < 0 { return .failure(Errno(code: errno)) }
    return .success(Array(buf[0..<n]))
}

let fd = open(path, O_RDONLY, 0o600)
var got: [UInt8] = []
func openFailure(_ e: Int32) -> Never { die("mailstats: \(path): \(Sys.errorText(e))\n", .noInput) }
if fd < 0 { openFailure(errno) }
switch readStats(fd) {
case .failure(let e): openFailure(e.code)
case .success(let b): got = b
}
var stats: StatisticsFile
if got.isEmpty {
    sleep(1)
    switch readStats(fd) {
    case .failure(let e): openFailure(e.code)
    case .success(let b): got = b
    }
}
if got.isEmpty {
    stats = StatisticsFile()
    stats.initTime = Int64(time(nil))
} else {
    stats = StatisticsFile(bytes: got)
    if stats.magic != StatisticsFile.magic {
        die("mailstats: incorrect magic number in \(path)\n", .osErr)
    } else if stats.version != StatisticsFile.version {
        die("mailstats version (\(StatisticsFile.version)) incompatible with \(path) version (\(stats.version))\n", .osErr)
    } else if got.count != StatisticsFile.size || Int(stats.structSize) != StatisticsFile.size {
        die("mailstats: file size changed.\n", .osErr)
    }
}

let report = Report(stats: stats, mailers: table, showNames: showNames, programMode: programMode)
Sys.writeAll(1, report.render(now: Int64(time(nil))))
close(fd)
if programMode && truncateAfter {
    let t = open(path, O_RDWR | O_TRUNC, 0o600)
    if t >= 0 { close(t) }
}
exit(SysExit.ok.rawValue)
