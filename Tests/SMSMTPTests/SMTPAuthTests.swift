// SMTPAuthTests.swift (SMSMTPTests) — the pure AUTH pieces: splitting
// AUTH's argument, the order of sendmail's refusals, its slow-down
// counter, the reply texts; and MAIL parameters whose value holds "=".
// Promises: no I/O; the expected texts are those the differential
// OracleTests.SMTPAuthTests saw from sendmail 8.17.

import SMBase
import SMSMTP
import Testing

@Suite("SMTP AUTH command and state (pure)")
struct SMTPAuthUnitTests {
    @Test(arguments: [
        ("PLAIN", "PLAIN", SMTPAuthInitial.none),
        ("PLAIN =", "PLAIN", .empty),
        ("PLAIN  AGEAYg==\r", "PLAIN", .encoded(Array("AGEAYg==".utf8))),
        ("login dXNlcg== extra", "login", .encoded(Array("dXNlcg== extra".utf8))),
        ("", "", .none),
        ("PLAIN==", "PLAIN==", .none),
    ])
    func parse(arg: String, mechanism: String, initial: SMTPAuthInitial) {
        let a = SMTPAuthArgument.parse(Array(arg.utf8))
        #expect(a.mechanism == Array(mechanism.utf8))
        #expect(a.initial == initial)
    }

    @Test func refusalsInSendmailsOrder() {
        var s = SMTPAuthState()
        #expect(s.refusal(available: false, inTransaction: true)?.encoded == Array("503 5.3.3 AUTH not available\r\n".utf8))
        #expect(s.refusal(available: true, inTransaction: true)?.encoded
                == Array("503 5.5.0 AUTH not permitted during a mail transaction\r\n".utf8))
        #expect(s.refusal(available: true, inTransaction: false) == nil)
        s.phase = .authenticated(mechanism: Array("PLAIN".utf8))
        #expect(s.refusal(available: true, inTransaction: true)?.encoded == Array("503 5.5.0 Already Authenticated\r\n".utf8))
    }

    @Test func slowDownFromTheFifthCommand() {
        var s = SMTPAuthState()
        let got = (1...8).map { _ in s.countAttempt() }
        #expect(got.map(\.delay) == [0, 0, 0, 0, 1, 2, 4, 8])
        #expect(got.map(\.log) == [false, false, false, false, true, false, false, false])
    }

    @Test func replies() {
        #expect(SMTPAuthState.unknownMechanism(Array("FOO".utf8)).encoded == Array("504 5.3.3 AUTH mechanism FOO not available\r\n".utf8))
        #expect(SMTPAuthState.badInitial(Array("!!!".utf8)).encoded == Array("501 5.5.4 cannot BASE64 decode '!!!'\r\n".utf8))
        #expect(SMTPAuthState.challenge([]).encoded == Array("334 \r\n".utf8))
        #expect(SMTPAuthState.isCancel(Array("*".utf8)) && !SMTPAuthState.isCancel(Array("**".utf8)))
    }

    @Test func parameterValuesEndAtEquals() {
        let (p, _) = SMTPPathParser.parse(Array("FROM:<a@b> AUTH=a=b SIZE=1 AUTH=".utf8), keyword: "from")
        #expect(p?.parameters == [
            ESMTPParameter(keyword: Array("AUTH".utf8), value: Array("a".utf8)),
            ESMTPParameter(keyword: Array("b".utf8), value: nil),
            ESMTPParameter(keyword: Array("SIZE".utf8), value: Array("1".utf8)),
            ESMTPParameter(keyword: Array("AUTH".utf8), value: []),
        ])
    }
}
