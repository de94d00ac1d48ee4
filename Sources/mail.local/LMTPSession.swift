// mail.local/LMTPSession.swift
//
// mail.local -l: an LMTP server on stdin/stdout with the real tool's
// command set and replies (LHLO, MAIL, RCPT, DATA, RSET, NOOP, VRFY, QUIT),
// one reply per accepted recipient after DATA, "+detail" and "@domain"
// stripped from recipients, "<>" read as MAILER-DAEMON.  Commands are read
// as fgets(4095) chunks and matched case-insensitively.
// Promises: exits 0 at end of input or after QUIT, as the real one does.
#if canImport(Glibc)
import Glibc
#endif
import SMBase

struct LMTPSession {
    let reporter: Reporter
    let input: InputReader
    let writer: MailboxWriter
    let database: UserDatabase
    let eightBitMIME: Bool

    func run() -> Never {
        let host = Sys.hostName()
        let out = reporter.out
        var returnPath: [UInt8]?
        var recipients: [[UInt8]] = []
        var gotLHLO = false
        out.append("220 \(host) LMTP ready\r\n")
        while true {
            out.flush()
            guard var buf = input.chunk(size: 4095) else { exit(SysExit.ok.rawValue) }
            if buf.last == 0x0A { buf.removeLast() }
            if buf.last == 0x0D { buf.removeLast() }
            // The C code works on a NUL-terminated string.
            if let nul = buf.firstIndex(of: 0) { buf = Array(buf[..<nul]) }
            let lower = buf.asciiLowercased
            func isCmd(_ s: String) -> Bool { lower == Array(s.utf8) }
            func hasCmd(_ s: String) -> Bool { lower.hasPrefix(Array(s.utf8)) }

            if isCmd("data") {
                if recipients.isEmpty {
                    reporter.error("503 5.5.1", "No recipients")
                    continue
                }
                reporter.holdErrors = true
                let spool = MessageSpool(reporter: reporter, input: input, lmtp: true)
                let outcome = spool.store(from: returnPath ?? [])
                reporter.holdErrors = false
                switch outcome {
                case .failed(inBody: false):
                    reporter.flush()
                    continue
                case .failed(inBody: true):
                    for _ in recipients { reporter.flush() }
                case .stored(let msg):
                    for r in recipients {
                        var name = r
                        if let plus = name.firstIndex(of: 0x2B) { name = Array(name[..<plus]) }
                        writer.deliver(msg, to: name)
                    }
                    msg.release()
                }
                recipients = []
                returnPath = nil
            } else if hasCmd("lhlo ") {
                if gotLHLO {
                    reporter.error("503", "\(host) Duplicate LHLO")
                    continue
                }
                gotLHLO = true
                out.append("250-\(host)\r\n")
                if eightBitMIME { out.append("250-8BITMIME\r\n") }
                out.append("250-ENHANCEDSTATUSCODES\r\n")
                out.append("250 PIPELINING\r\n")
            } else if hasCmd("mail ") {
                if returnPath != nil {
                    reporter.error("503 5.5.1", "Nested MAIL command")
                    continue
                }
                guard lower.count >= 10, Array(lower[5..<10]) == Array("from:".utf8),
                      let addr = LMTPSession.parseAddress(Array(buf[10...]), recipient: false) else {
                    reporter.error("501 5.5.4", "Syntax error in parameters")
                    continue
                }
                returnPath = addr
                out.append("250 2.5.0 Ok\r\n")
            } else if isCmd("noop") {
                out.append("250 2.0.0 Ok\r\n")
            } else if isCmd("quit") {
                out.append("221 2.0.0 Bye\r\n")
                out.flush()
                exit(SysExit.ok.rawValue)
            } else if hasCmd("rcpt ") {
                if returnPath == nil {
                    reporter.error("503 5.5.1", "Need MAIL command")
                    continue
                }
                guard lower.count >= 8, Array(lower[5..<8]) == Array("to:".utf8),
                      let addr = LMTPSession.parseAddress(Array(buf[8...]), recipient: true) else {
                    reporter.error("501 5.5.4", "Syntax error in parameters")
                    continue
                }
                switch database.lookup(addr) {
                case .found:
                    recipients.append(addr)
                    out.append("250 2.1.5 Ok\r\n")
                case .noUser:
                    reporter.error(nil, "550 5.1.1 User unknown")
                case .tempFail:
                    reporter.error(nil, "451 4.3.0 User database failure; retry later")
                }
            } else if isCmd("rset") {
                out.append("250 2.0.0 Ok\r\n")
                recipients = []
                returnPath = nil
            } else if hasCmd("vrfy ") {
                out.append("252 2.3.3 Try RCPT to attempt delivery\r\n")
            } else {
                reporter.error("500 5.5.2", "Syntax error")
            }
        }
    }

    /// parseaddr: "<[@route,...:]local[@domain]>" followed by nothing or a
    /// space.  For recipients, "+detail" and "@domain" are cut off.  An
    /// empty address is MAILER-DAEMON.
    static func parseAddress(_ s: [UInt8], recipient: Bool) -> [UInt8]? {
        var p = 0
        func at(_ i: Int) -> UInt8 { i < s.count ? s[i] : 0 }
        guard at(p) == 0x3C else { return nil }
        p += 1
        while at(p) == 0x40 {          // at-domain-list
            p += 1
            while at(p) != 0x2C && at(p) != 0x3A && at(p) != 0 { p += 1 }
            if at(p) == 0 { return nil }
            p += 1
        }
        let start = p
        var cut: Int?                   // where the C code writes its NUL
        while at(p) != 0 && at(p) != 0x40 && at(p) != 0x3E {
            if at(p) == 0x5C {
                p += 1
                if at(p) == 0 { return nil }
            } else if at(p) == 0x22 {
                p += 1
                while at(p) != 0 && at(p) != 0x22 {
                    if at(p) == 0x5C { p += 1; if at(p) == 0 { return nil } }
                    p += 1
                }
                if at(p) == 0 || at(p + 1) == 0 { return nil }
            }
            if at(p) == 0x2B && recipient && cut == nil { cut = p }
            p += 1
        }
        if at(p) == 0x40 {
            if recipient && cut == nil { cut = p }
            while at(p) != 0 && at(p) != 0x3E { p += 1 }
        }
        guard at(p) == 0x3E else { return nil }
        let end = cut ?? p
        p += 1
        guard at(p) == 0 || at(p) == 0x20 else { return nil }
        let local = Array(s[start..<end])
        return local.isEmpty ? Array("MAILER-DAEMON".utf8) : local
    }
}
