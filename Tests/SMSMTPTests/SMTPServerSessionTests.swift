// SMTPServerSessionTests.swift — the pure SMTP module: command parsing,
// MAIL/RCPT path and parameter parsing, reply encoding, and the session
// state machine's sequence rules and DATA phase (fed whole lines and
// byte by byte).
// Promises: no I/O; every expected text is sendmail 8.17's.

import SMBase
import SMSMTP
import Testing

func b(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite("SMTP command grammar")
struct SMTPCommandTests {
    @Test(arguments: [
        ("EHLO client.example", SMTPVerb.ehlo, "client.example"),
        ("ehlo  client.example\r", .ehlo, "client.example"),
        ("MaIl FROM:<a@b>", .mail, "FROM:<a@b>"),
        ("QUIT", .quit, ""),
        ("\tNOOP x", .noop, "x"),
        ("FOO bar", .unknown, "bar"),
        ("", .unknown, ""),
        ("UNKNOWN", .unknown, ""),
    ])
    func verbs(line: String, verb: SMTPVerb, arg: String) {
        let c = SMTPCommand.parse(b(line))
        #expect(c.verb == verb)
        #expect(c.argument == b(arg))
    }

    @Test func paths() {
        let (p, _) = SMTPPathParser.parse(b("FROM:<a@b> SIZE=10 BODY=8BITMIME  RET"), keyword: "from")
        #expect(p?.address == b("<a@b>"))
        #expect(p?.parameters == [ESMTPParameter(keyword: b("SIZE"), value: b("10")),
                                  ESMTPParameter(keyword: b("BODY"), value: b("8BITMIME")),
                                  ESMTPParameter(keyword: b("RET"), value: nil)])
        #expect(SMTPPathParser.parse(b("from: <\"a b\"@c> X=1"), keyword: "from").0?.address == b("<\"a b\"@c>"))
        #expect(SMTPPathParser.parse(b("To:root"), keyword: "to").0?.address == b("root"))
        #expect(SMTPPathParser.parse(b("FROM:<a@b"), keyword: "from").0?.address == b("<a@b"))
        #expect(SMTPPathParser.parse(b("TO:<a@b>"), keyword: "from").scanned == b("TO"))
        #expect(SMTPPathParser.parse(b(""), keyword: "from").scanned == [])
        #expect(SMTPPathParser.parse(b("FROM:"), keyword: "from").scanned == b("FROM"))
        #expect(SMTPPathParser.parse(b("FROM:   "), keyword: "from").0 == nil)
    }

    @Test func replies() {
        #expect(SMTPReply(250, "2.0.0", "OK").encoded == b("250 2.0.0 OK\r\n"))
        #expect(SMTPReply(code: 250, enhanced: nil, lines: [b("host Hello"), b("PIPELINING"), b("HELP")]).encoded
                == b("250-host Hello\r\n250-PIPELINING\r\n250 HELP\r\n"))
        #expect(SMTPReply(code: 250, enhanced: "2.1.5", lines: [b("a"), b("b")]).encoded
                == b("250-2.1.5 a\r\n250 2.1.5 b\r\n"))
        #expect(SMTPReply(220, nil, "x").isError == false)
        #expect(SMTPReply(503, "5.0.0", "x").isError)
    }
}

@Suite("SMTP server session state machine")
struct SMTPServerSessionTests {
    func session() -> SMTPServerSession { SMTPServerSession(hostName: b("vm.example.test"), version: "8.17.1.9") }

    func reply(_ a: SMTPServerSession.Action) -> String? {
        if case .reply(let r) = a { return String(decoding: r.encoded, as: UTF8.self) }
        if case .close(let r) = a { return String(decoding: r.encoded, as: UTF8.self) }
        return nil
    }

    @Test func sequence() {
        var s = session()
        #expect(reply(s.receive(b("RCPT TO:<a>"))) == "503 5.0.0 Need MAIL before RCPT\r\n")
        #expect(reply(s.receive(b("DATA"))) == "503 5.0.0 Need MAIL command\r\n")
        guard case .mail(let p) = s.receive(b("MAIL FROM:<a@b>")) else { Issue.record("no mail action"); return }
        #expect(p.address == b("<a@b>"))
        // not accepted yet: still no sender
        #expect(reply(s.receive(b("RCPT TO:<a>"))) == "503 5.0.0 Need MAIL before RCPT\r\n")
        s.mailAccepted()
        #expect(reply(s.receive(b("MAIL FROM:<c@d>"))) == "503 5.5.0 Sender already specified\r\n")
        #expect(reply(s.receive(b("DATA"))) == "503 5.0.0 Need RCPT (recipient)\r\n")
        guard case .recipient = s.receive(b("RCPT TO:<root> NOTIFY=NEVER")) else { Issue.record("no rcpt"); return }
        s.recipientAccepted()
        #expect(s.receive(b("DATA")) == .startData)
        s.dataStarted()
        #expect(s.phase == .data)
        #expect(s.receive(b("Subject: x\r")) == .none)
        #expect(s.receive(b("\r")) == .none)
        #expect(s.receive(b("..dot\r")) == .none)
        #expect(s.receive(b("QUIT\r")) == .none)  // text, not a command
        #expect(s.receive(b(".\r")) == .message(b("Subject: x\n\n..dot\nQUIT\n.\n")))
        #expect(s.phase == .command(mail: false, recipients: 0))
    }

    /// Debian: a bare LF or CR in the text ends the session as soon as
    /// the line is read (the oracle answers before any further input).
    @Test(arguments: [("a\n", "linefeed (LF)"), ("a\rb\r", "carriage return (CR)"), ("a", "linefeed (LF)")])
    func bareEndings(line: String, what: String) {
        var s = session()
        s.dataStarted()
        #expect(s.receive(b("ok\r")) == .none)
        guard case .close(let r) = s.receive(b(line)) else { Issue.record("no close"); return }
        #expect(r.encoded == b("421 4.5.0 Bare \(what) not allowed\r\n"))
        #expect(s.phase == .closed)
    }

    @Test func simpleCommands() {
        var s = session()
        #expect(reply(s.receive(b("HELO"))) == "501 5.0.0 HELO requires domain address\r\n")
        #expect(reply(s.receive(b("ehlo"))) == "501 5.0.0 EHLO requires domain address\r\n")
        #expect(s.receive(b("EHLO x.example")) == .hello(domain: b("x.example"), extended: true))
        #expect(reply(s.receive(b("NOOP"))) == "250 2.0.0 OK\r\n")
        #expect(s.receive(b("HELP MAIL")) == .help(b("MAIL")))
        #expect(reply(s.receive(b("VRFY"))) == "501 5.5.2 Argument required\r\n")
        #expect(s.receive(b("EXPN staff")) == .expand(b("staff")))
        #expect(reply(s.receive(b("ETRN"))) == "500 5.5.2 Parameter required\r\n")
        // an accepted ETRN goes to the caller, which starts the run and answers
        #expect(s.receive(b("ETRN #mqueue")) == .etrn(b("#mqueue")))
        #expect(s.receive(b("ETRN @example.com")) == .etrn(b("@example.com")))
        #expect(reply(s.receive(b("FOO bar"))) == "500 5.5.1 Command unrecognized: \"FOO bar\"\r\n")
        // echoed with the eighth bit cleared
        #expect(s.receive([0x63, 0xC3, 0xA9]) == .reply(SMTPReply(code: 500, enhanced: "5.5.1",
                                                                   lines: [b("Command unrecognized: \"cC)\"")])))
        #expect(reply(s.receive(b("MAIL TO:<a>"))) == "501 5.5.2 Syntax error in parameters scanning \"TO\"\r\n")
        #expect(reply(s.receive(b("MAIL"))) == "501 5.5.2 Syntax error in parameters scanning \"\"\r\n")
        s.mailAccepted()
        guard case .reset(let r) = s.receive(b("RSET")) else { Issue.record("no reset"); return }
        #expect(r.encoded == b("250 2.0.0 Reset state\r\n"))
        #expect(reply(s.receive(b("RCPT TO:<a>"))) == "503 5.0.0 Need MAIL before RCPT\r\n")
        guard case .quit(let q) = s.receive(b("QUIT")) else { Issue.record("no quit"); return }
        #expect(q.encoded == b("221 2.0.0 vm.example.test closing connection\r\n"))
        #expect(s.phase == .closed)
        #expect(s.receive(b("NOOP")) == .none)
    }

    @Test func needHelo() {
        var s = session()
        s.needHelo = [.mail, .vrfy, .expn]
        #expect(reply(s.receive(b("MAIL FROM:<a>"))) == "503 5.0.0 Polite people say HELO first\r\n")
        #expect(reply(s.receive(b("VRFY root"))) == "503 5.0.0 I demand that you introduce yourself first\r\n")
        #expect(reply(s.receive(b("EXPN root"))) == "503 5.0.0 I demand that you introduce yourself first\r\n")
        #expect(reply(s.receive(b("HELO"))) == "501 5.0.0 HELO requires domain address\r\n")
        #expect(!s.greeted)
        #expect(s.receive(b("HELO a")) == .hello(domain: b("a"), extended: false))
        #expect(s.greeted)
        #expect(s.receive(b("VRFY root")) == .verify(b("root")))
        guard case .mail = s.receive(b("MAIL FROM:<a>")) else { Issue.record("no mail"); return }
    }

    @Test func helloChecksAndSlowDown() {
        var s = session()
        // (every HELO/EHLO counts, good or bad: the 3rd waits 1 s, then 2, 4...; measured)
        #expect(reply(s.receive(b("EHLO a b\r"))) == "501 5.0.0 Invalid domain name\r\n")
        #expect(s.replyDelay == 0 && s.attackNote == nil)
        #expect(reply(s.receive(b("HELO\r"))) == "501 5.0.0 HELO requires domain address\r\n")
        #expect(s.replyDelay == 0)
        #expect(s.receive(b("HELO [127.0.0.1]\r")) == .hello(domain: b("[127.0.0.1]"), extended: false))
        #expect(s.replyDelay == 1 && s.attackNote == .init(command: "HELO/EHLO", count: 3))
        #expect(s.receive(b("EHLO x_y.example \r")) == .hello(domain: b("x_y.example "), extended: true))
        #expect(s.replyDelay == 2 && s.attackNote == nil)
        // a greeting drops the transaction
        guard case .mail = s.receive(b("MAIL FROM:<a>\r")) else { Issue.record("no mail"); return }
        s.mailAccepted()
        _ = s.receive(b("HELO c\r"))
        #expect(reply(s.receive(b("RCPT TO:<b>\r"))) == "503 5.0.0 Need MAIL before RCPT\r\n")
        // known, not implemented
        #expect(reply(s.receive(b("TURN\r"))) == "502 5.5.1 Command not implemented: \"TURN\"\r\n")
        #expect(reply(s.receive(b("soml x\r"))) == "502 5.5.1 Command not implemented: \"soml x\"\r\n")
    }

    @Test func attackLimits() {
        var s = session()
        // NOOP and VERB share MaxNOOPCommands (20): the 20th waits 1 s, the 21st 2, the 22nd 4 (measured)
        for _ in 1...19 { _ = s.receive(b("NOOP\r")); #expect(s.replyDelay == 0) }
        #expect(reply(s.receive(b("VERB\r"))) == "250 2.0.0 Verbose mode\r\n")
        #expect(s.replyDelay == 1 && s.attackNote == .init(command: "VERB", count: 20))
        _ = s.receive(b("NOOP\r")); #expect(s.replyDelay == 2 && s.attackNote == nil)
        _ = s.receive(b("NOOP\r")); #expect(s.replyDelay == 4)
        // at 2^8 the wait is 240 s and the session ends after it
        for d in [8, 16, 32, 64, 128] { _ = s.receive(b("NOOP\r")); #expect(s.replyDelay == d) }
        #expect(reply(s.receive(b("NOOP\r"))) == "421 4.7.0 vm.example.test Too many bad commands; closing connection\r\n")
        #expect(s.replyDelay == 240 && s.phase == .closed)
        // VRFY and EXPN share 6
        var v = session()
        for k in 1...5 { #expect(v.receive(b(k % 2 == 0 ? "EXPN a\r" : "VRFY a\r")) != nil); #expect(v.replyDelay == 0) }
        _ = v.receive(b("EXPN a\r")); #expect(v.replyDelay == 1 && v.attackNote == .init(command: "EXPN", count: 6))
        _ = v.receive(b("VRFY a\r")); #expect(v.replyDelay == 2)
        // the 26th unknown command ends the session
        var u = session()
        for _ in 1...25 { #expect(reply(u.receive(b("FOO\r"))) == "500 5.5.1 Command unrecognized: \"FOO\"\r\n") }
        #expect(reply(u.receive(b("FOO\r"))) == "421 4.7.0 vm.example.test Too many bad commands; closing connection\r\n")
        #expect(u.receive(b("NOOP\r")) == SMTPServerSession.Action.none)
    }

    @Test func privacyAndLimits() {
        var s = session()
        s.disabled = [.vrfy, .expn, .verb, .etrn]
        s.maxRecipients = 1
        #expect(reply(s.receive(b("VRFY a\r"))) == "252 2.5.2 Cannot VRFY user; try RCPT to attempt delivery (or try finger)\r\n")
        #expect(reply(s.receive(b("EXPN a\r"))) == "502 5.7.0 Sorry, we do not allow this operation\r\n")
        #expect(reply(s.receive(b("VERB\r"))) == "502 5.7.0 Verbose unavailable\r\n")
        #expect(reply(s.receive(b("ETRN x\r"))) == "502 5.7.0 Sorry, we do not allow this operation\r\n")
        _ = s.receive(b("MAIL FROM:<a>\r"))
        s.mailAccepted()
        _ = s.receive(b("RCPT TO:<b>\r"))
        s.recipientAccepted()
        #expect(reply(s.receive(b("RCPT TO:<c>\r"))) == "452 4.5.3 Too many recipients\r\n")
    }

    @Test func pipelinedHello() {
        var s = session()
        #expect(reply(s.receive(b("EHLO a\r"), inputPending: true)) == "554 5.5.0 SMTP protocol error\r\n")
        #expect(s.nullServer)
        #expect(reply(s.receive(b("MAIL FROM:<a>\r"))) == "550 5.0.0 Command rejected\r\n")
        #expect(reply(s.receive(b("VRFY a\r"))) == "550 5.0.0 Command rejected\r\n")
        #expect(reply(s.receive(b("NOOP\r"))) == "250 2.0.0 OK\r\n")
        #expect(reply(s.receive(b("BOGUS\r"))) == "500 5.5.1 Command unrecognized: \"BOGUS\"\r\n")
        #expect(s.receive(b("HELO b\r")) == .hello(domain: b("b"), extended: false))
    }

    @Test func help() {
        let file = b("#vers\t2\ncpyr\ncpyr\tC $v\nsmtp\tTopics\nsmtp\t\tHELO\nsend\tSEND\nmail\tMAIL From:\n")
        func r(_ arg: String) -> String {
            String(decoding: SMTPHelp.reply(helpFile: file, argument: b(arg), version: "8.17.1.9",
                                            expand: { $0 == b("C $v") ? b("C 8") : $0 }).encoded, as: UTF8.self)
        }
        #expect(r("") == "214-2.0.0 Topics\r\n214-2.0.0 \tHELO\r\n214 2.0.0 End of HELP info\r\n")
        #expect(r("S") == "214-2.0.0 Topics\r\n214-2.0.0 \tHELO\r\n214-2.0.0 SEND\r\n214 2.0.0 End of HELP info\r\n")
        #expect(r("cpyr") == "214-2.0.0 \r\n214-2.0.0 C 8\r\n214 2.0.0 End of HELP info\r\n")
        #expect(r("MAIL FROM") == "504 5.3.0 HELP topic \"mail from\" unknown\r\n")
        #expect(String(decoding: SMTPHelp.reply(helpFile: nil, argument: [], version: "8.17.1.9", expand: { $0 }).encoded,
                       as: UTF8.self) == "502 5.3.0 Sendmail 8.17.1.9 -- HELP not implemented\r\n")
    }

    /// The same script fed whole and byte by byte through a line splitter
    /// gives the same actions.
    @Test func dripFeed() {
        let script = b("EHLO a\r\nMAIL FROM:<x>\r\nRCPT TO:<y>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n")
        // (lines are given with their CR, as the -bs reader passes them)
        func run(_ chunks: [[UInt8]]) -> [SMTPServerSession.Action] {
            var s = session()
            var pending: [UInt8] = []
            var out: [SMTPServerSession.Action] = []
            for c in chunks {
                pending += c
                while let nl = pending.firstIndex(of: 0x0A) {
                    let line = Array(pending[..<nl])
                    pending.removeSubrange(...nl)
                    let a = s.receive(line)
                    switch a {
                    case .mail: s.mailAccepted()
                    case .recipient: s.recipientAccepted()
                    case .startData: s.dataStarted()
                    default: break
                    }
                    out.append(a)
                }
            }
            return out
        }
        let whole = run([script])
        #expect(whole == run(script.map { [$0] }))
        #expect(whole.count == 7)
        #expect(whole[5] == .message(b("hi\n.\n")))
    }
}
