// SMTPAttackTests.swift — sendmail's slow-down of a client that repeats
// commands (checksmtpattack), against the real sendmail's daemon.
//
// Promises: one daemon session per kind of repetition, run through both
// binaries (DaemonTests.compare: transcripts and syslog lines byte for
// byte after normalising): the 26th unknown command gets "421 4.7.0 <host>
// Too many bad commands; closing connection" and the session ends; the
// limit of HELO/EHLO (3), NOOP and VERB (MaxNOOPCommands, 20), VRFY and
// EXPN (6) and ETRN (8) is logged once as "possible SMTP attack"; RSET,
// HELP, RCPT without MAIL and MAIL syntax errors count for nothing.  The
// waits themselves (1 s at the limit, doubling after it, as measured with
// the oracle's -bs) are SMSMTPTests' (SMTPServerSessionTests.attackLimits).
// Fails (never skips) when a prerequisite is missing.

import Foundation
import Testing

@Suite("SMTP slow-down of repeated commands (possible SMTP attack), against sendmail", .serialized)
struct SMTPAttackTests {
    let daemon = DaemonTests()

    static func session(_ line: String, _ n: Int) -> String {
        "#CONNECT\nEHLO client.example\n" + Array(repeating: line, count: n).joined(separator: "\n") + "\nQUIT"
    }

    @Test("repeated commands: the 421 after 25 unknown ones, the limits' log lines, the commands that do not count")
    func repeatedCommands() throws {
        let script = [
            Self.session("FOO", 26),
            Self.session("NOOP", 20),
            Self.session("VERB", 20),
            Self.session("VRFY root", 7),
            Self.session("EXPN root", 6),
            Self.session("EHLO client.example", 3),
            Self.session("ETRN client.example", 8),
            Self.session("RSET", 21),
            Self.session("HELP", 21),
            Self.session("RCPT TO:<x@y>", 26),
            Self.session("MAIL FROM", 26),
        ].joined(separator: "\n")
        try daemon.compare(script, tag: "attack", expectMessages: 0)
    }
}
