// mail.local/Arguments.swift
//
// mail.local's command line, parsed as glibc getopt(3) parses the real
// tool's "7bdD:f:h:r:lUV" (options may follow operands; "--" ends them),
// with its diagnostics ("invalid option -- 'x'", "option requires an
// argument -- 'h'") and the tool's own: "Multiple -f options", the usage
// text, and -V's "compiled with" line.  -U (SMTPUTF8) is not compiled into
// Debian's build, so it is a usage error there and here.
// Promises: parsing stops at the first error, after printing what the
// real tool prints, and reports the exit status to use.
#if canImport(Glibc)
import Glibc
#endif
import SMBase

struct MailLocalArguments {
    var eightBitMIME = true
    var bounceQuota = false
    var mailboxDatabase = "pw"
    var from: [UInt8]?
    var homeMailFile: String?
    var lmtp = false
    var users: [[UInt8]] = []

    static let usageText = "usage: mail.local [-7] [-b] [-d] [-l] [-f from|-r from] [-h filename] user ..."

    enum ParseError: Error { case usage }

    /// Parses argv (without argv[0]); on error the messages are already out.
    static func parse(_ argv: [[UInt8]], program: String, reporter: Reporter) -> MailLocalArguments? {
        var a = MailLocalArguments()
        var operands: [[UInt8]] = []
        var i = 0
        func usage() -> MailLocalArguments? {
            reporter.exitValue = SysExit.usage.rawValue
            reporter.error(nil, usageText)
            return nil
        }
        while i < argv.count {
            let arg = argv[i]
            i += 1
            if arg == Array("--".utf8) { operands += argv[i...]; break }
            guard arg.count > 1, arg[0] == 0x2D else { operands.append(arg); continue }
            var j = 1
            while j < arg.count {
                let c = arg[j]
                j += 1
                let takesArg = c == 0x44 || c == 0x66 || c == 0x68 || c == 0x72   // D f h r
                var optarg: [UInt8] = []
                if takesArg {
                    if j < arg.count {
                        optarg = Array(arg[j...]); j = arg.count
                    } else if i < argv.count {
                        optarg = argv[i]; i += 1
                    } else {
                        _ = Sys.writeAll(2, "\(program): option requires an argument -- '".latin1Bytes + [c] + Array("'\n".utf8))
                        return usage()
                    }
                }
                switch c {
                case 0x37: a.eightBitMIME = false                 // 7
                case 0x62: a.bounceQuota = true                   // b
                case 0x64: break                                  // d
                case 0x44: a.mailboxDatabase = optarg.string      // D
                case 0x66, 0x72:                                  // f r
                    if a.from != nil {
                        reporter.error(nil, "Multiple -f options")
                        return usage()
                    }
                    a.from = optarg
                case 0x68: a.homeMailFile = optarg.string         // h
                case 0x6C: a.lmtp = true                          // l
                case 0x56:                                        // V
                    _ = Sys.writeAll(2, Array("compiled with\n".utf8))
                    return usage()
                case 0x55:                                        // U
                    return usage()
                default:
                    _ = Sys.writeAll(2, "\(program): invalid option -- '".latin1Bytes + [c] + Array("'\n".utf8))
                    return usage()
                }
            }
        }
        a.users = operands
        return a
    }
}
