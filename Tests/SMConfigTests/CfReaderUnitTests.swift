// Tests/SMConfigTests/CfReaderUnitTests.swift
//
// Cf reader details that the -bt transcripts cannot show directly: line
// numbers of folded lines and of a last line without a newline, what the
// typed Configuration holds after reading (macros, classes, mailers,
// options, headers, maps), and the Diagnostic records of errors.  Expected
// values recorded from sendmail 8.17.1.9 where a comment says so.
// Promises: hermetic (no files), fast.

import Testing
import SMBase
import SMRules
@testable import SMConfig

@Suite("cf reader")
struct CfReaderUnitTests {
    func read(_ cf: String, file: String = "t.cf") -> (Configuration, [String]) {
        let s = BtSession(cf: cf.bytes, fileName: file)
        let out = s.out.take().string
        return (s.config, out.split(separator: "\n", omittingEmptySubsequences: true).map(String.init))
    }

    /// recorded: "V10\nMlocal…\nZfoo" (no final newline) -> "line 2".
    @Test func lastLineWithoutNewline() {
        let (_, msgs) = read("V10\nMlocal, P=/bin/true, F=lsDFMq, A=local $u\nZfoo")
        #expect(msgs == ["t.cf: line 2: unknown configuration line \"Zfoo\""])
    }

    /// recorded: a one-line cf "Zfoo" without newline -> sendmail prints
    /// "nonl1.cf: line 0: unknown configuration line \"Zfoo\"".
    @Test func singleLineWithoutNewlineSaysLineZero() {
        let (config, msgs) = read("Zfoo", file: "nonl1.cf")
        #expect(config.diagnostics.first?.line == 0)
        #expect(msgs.first == "nonl1.cf: line 0: unknown configuration line \"Zfoo\"")
    }

    /// recorded (a checkout under /var/lib): sendmail shortens a long cf
    /// path in "file: line N: " to 40 bytes, "...", 40 bytes.
    @Test func longFileNameIsShortened() {
        let path = "/var/lib/sendmail-swift-ci/checkout/.build/oracle-scratch/ours-all-mailers/ours-all-mailers.cf"
        let (_, msgs) = read("V10\nZfoo\n", file: path)
        #expect(msgs.first == "/var/lib/sendmail-swift-ci/checkout/.bui...tch/ours-all-mailers/ours-all-mailers.cf: line 2: unknown configuration line \"Zfoo\"")
    }

    /// Folded lines take the number of their last physical line (recorded:
    /// an error in a 3-line folded D line is reported at the third).
    @Test func foldedLineNumbers() {
        let s = BtSession(cf: "V10\nMlocal, P=/bin/true, F=lsDFMq, A=local $u\nZ a\n b\n c\nZ2\n".bytes)
        let want = "t.cf: line 5: unknown configuration line \"Z a\n b\n c\"\nt.cf: line 6: unknown configuration line \"Z2\"\n"
        #expect(s.out.take().string == want)
    }

    @Test func typedConfiguration() {
        let (c, msgs) = read("""
            V10/Berkeley
            Mlocal, P=/bin/true, F=lsDFMq, A=local $u
            Mesmtp, P=[IPC], F=mDFMuXa, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, E=\\r\\n, L=990, T=DNS/RFC822/SMTP, A=TCP $h
            SEnvFromSMTP
            SHdrFromSMTP
            SEnvToSMTP
            DSsmtp
            CwLocalHost other.example
            O OperatorChars=.:%@!^/[]+
            O BlankSub=.
            H?P?Return-Path: <$g>
            H?${client_name}?X-Client: ${client_name}
            Kdq dequote
            Pjunk=-100

            """)
        #expect(msgs.isEmpty)
        #expect(c.configLevel == 10)
        #expect(c.macros[Int(UInt8(ascii: "S"))] == "smtp".bytes)
        #expect(c.classes.contains("localhost".bytes, in: Int(UInt8(ascii: "w"))))
        #expect(c.options["OperatorChars"] == ".:%@!^/[]+".bytes)
        #expect(c.spaceSub == UInt8(ascii: "."))
        #expect(c.headers.map(\.name.string) == ["Return-Path", "X-Client"])
        #expect(c.headers[0].flags == "P".bytes)
        #expect(c.headers[1].macroCondition == "client_name".bytes)
        #expect(c.maps.map(\.name.string) == ["dq"])
        #expect(c.priorities.first?.value == -100)
        let esmtp = c.mailer(named: "ESMTP".bytes)
        #expect(esmtp != nil)
        // recorded `=M` line (the -bt reference transcript, with this cf's flags)
        #expect(esmtp.map { c.describe($0).string } ==
                "mailer 4 (esmtp): P=[IPC] S=EnvFromSMTP/HdrFromSMTP R=EnvToSMTP/EnvToSMTP M=0 U=-1:-1 F=DFMXamu L=990 E=\\r\\n T=DNS/RFC822/SMTP r=100 A=TCP $h\n")
    }
}
