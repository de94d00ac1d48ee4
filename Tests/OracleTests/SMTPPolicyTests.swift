// SMTPPolicyTests.swift — sendmail's policy stages in `sendmail -bs`
// sessions, against the real sendmail.
//
// Promises: every case runs the same dialogue through both binaries with
// SMTPSessionTests' driver and comparison (transcripts, exit status, each
// accepted message's queue files, hf files of quarantined ones included,
// and nothing else left in the queue), and, where named, the syslog lines.
//   - Fixtures/oracle/cf/smtp-policy.cf: check_data, header checks
//     ($> and $>+), check_eoh, check_eom, check_etrn, each giving $#error
//     with codes, TEMP, $#discard and quarantine, keyed on the sender.
//   - BadRcptThrottle: the flood log line and the replies.
//   - srv_features: the EHLO list and the commands its letters turn off.
//   - The from= line sendmail logs for every accepted MAIL whose
//     transaction ends without a message, and the lines of a session's end.
//   - Open relay: a client that is not local (-M{client_addr}10.9.8.7, the
//     way sendmail lets a -bs session name its client) tries every classic
//     relay trick on Debian's sendmail.cf, on Debian's sendmail.mc built
//     with our m4 library, and on a plain .mc (with access_db from the real
//     makemap) built with our library and with sendmail's: the oracle
//     refuses each (no 250), and ours answers the same, byte for byte.
//   - SMTP smuggling: `<LF>.<CR><LF>`, `<CR><LF>.<LF>`, `<CR>.<CR>`, NULs
//     and similar inside DATA, on Debian's sendmail.cf: no second message
//     appears (the oracle accepts at most one, never the smuggled one), and
//     ours answers the same.
// Fails (never skips) when a prerequisite is missing.

import Foundation
import Testing

@Suite("sendmail -bs: policy stages, open relay, SMTP smuggling, against sendmail", .serialized)
struct SMTPPolicyTests {
    static let policy = Configuration(name: "smtp-policy", source: .cf("cf/smtp-policy.cf"))
    static let plainOurs = Configuration(name: "relay-plain-ours", source: .ourLibraryMC("Tests/Fixtures/oracle/mc/relay-plain.mc"),
                                         hashMaps: ["access"])
    static let plainReal = Configuration(name: "relay-plain", source: .mc("mc/relay-plain.mc"), hashMaps: ["access"])

    let session = SMTPSessionTests()

    /// One transaction per result of each stage.
    static let stagesScript = """
        EHLO c.example
        MAIL FROM:<data-reject@x>
        RCPT TO:<root>
        RCPT TO:<root>
        RCPT TO:<bad1@x>
        DATA
        RSET
        MAIL FROM:<data-plain@x>
        RCPT TO:<root>
        DATA
        RSET
        MAIL FROM:<data-temp@x>
        RCPT TO:<root>
        DATA
        DATA
        RSET
        MAIL FROM:<data-discard@x>
        RCPT TO:<root>
        DATA
        Subject: discarded

        x
        .
        MAIL FROM:<data-quar@x>
        RCPT TO:<root>
        DATA
        Subject: quar

        x
        .
        MAIL FROM:<eoh-reject@x>
        RCPT TO:<root>
        DATA
        Subject: hi
        X-A: 1
        X-Plus: a (comment) bad b

        body
        .
        MAIL FROM:<eoh-reject@x>
        RCPT TO:<staff>
        DATA
        Message-Id: <m@x>
        X-Folded: a
        \tb

        body
        .
        MAIL FROM:<eoh-reject@x>
        RCPT TO:<root>
        DATA
        No header here
        .
        MAIL FROM:<eoh-temp@x>
        RCPT TO:<root>
        DATA
        Subject: t

        body
        .
        MAIL FROM:<eoh-discard@x>
        RCPT TO:<root>
        DATA
        Subject: t

        body
        .
        MAIL FROM:<eoh-quar@x>
        RCPT TO:<root>
        DATA
        Subject: t

        body
        .
        MAIL FROM:<eom-reject@x>
        RCPT TO:<root>
        DATA
        Subject: hi
        Message-Id: <abc@d>

        body
        .
        MAIL FROM:<eom-size@x>
        RCPT TO:<root>
        DATA
        .
        MAIL FROM:<eom-temp@x>
        RCPT TO:<root>
        DATA
        Subject: t

        body
        .
        MAIL FROM:<eom-discard@x>
        RCPT TO:<root>
        DATA
        Subject: t

        body
        .
        MAIL FROM:<eom-quar@x>
        RCPT TO:<root>
        DATA
        Subject: t

        body
        .
        MAIL FROM:<a@x>
        RCPT TO:<root>
        DATA
        Subject: this is bad yes
        X-A: 1

        body
        .
        MAIL FROM:<a@x>
        RCPT TO:<root>
        DATA
        Subject: discardme now
        X-Plus: (c) bad

        body
        .
        MAIL FROM:<a@x>
        RCPT TO:<root>
        DATA
        Subject: holdme now

        body
        .
        MAIL FROM:<a@x>
        RCPT TO:<root>
        DATA
        Subject: discardme
        Subject: x (bad) y
        X-Plus: fine

        body
        .
        MAIL FROM:<a@x>
        RCPT TO:<root>
        DATA
        Subject: x
         bad y

        .
        MAIL FROM:<a@x>
        RCPT TO:<daemon>
        DATA
        Subject: plain

        kept
        .
        ETRN bad.foo
        ETRN good
        ETRN
        QUIT

        """

    @Test("check_data, header checks, check_eoh, check_eom, check_etrn: every verdict, the macros of each stage")
    func stages() throws {
        let rt = try session.compare(Self.stagesScript, tag: "policy-stages", config: Self.policy)
        // the oracle did refuse, discard and quarantine (the cf works as meant)
        #expect(rt.contains("<<< 550 5.7.1 data refused nr=3 2"), "check_data did not refuse:\n\(rt)")
        #expect(rt.contains("<<< 550 5.7.1 bad header Subject hl=16"), "no header check refusal:\n\(rt)")
        #expect(rt.contains("<<< 451 4.7.1 eom later"), "no check_eom TEMP refusal:\n\(rt)")
        #expect(rt.contains("<<< 550 5.7.1 no etrn for .foo"), "check_etrn did not refuse:\n\(rt)")
    }

    @Test("the log lines of each stage: ruleset=..., reject=/discard/quarantine=, from= and to= of refused messages")
    func stageLogs() throws {
        let lines = try session.sessionLogs(Self.stagesScript, tag: "policy-log", config: Self.policy)
        let real = lines["real"] ?? [], ours = lines["ours"] ?? []
        #expect(real.contains { $0.contains("ruleset=check_eoh, arg1=3, arg2=46") }, "the oracle's lines: \(real)")
        #expect(real.contains { $0.contains(": discarded") }, "the oracle's lines: \(real)")
        #expect(ours == real, "ours:\n\(ours.joined(separator: "\n"))\nreal:\n\(real.joined(separator: "\n"))")
    }

    @Test("BadRcptThrottle: the flood line after N refused recipients, counted per transaction")
    func badRecipientThrottle() throws {
        let script = """
            EHLO c
            MAIL FROM:<a@x>
            RCPT TO:<bad@x>
            RCPT TO:<bad@x>
            RCPT TO:<bad@x>
            RCPT TO:<root>
            RCPT TO:<nosuchuser>
            RCPT TO:<nb@x>
            RSET
            MAIL FROM:<a@x>
            RCPT TO:<root>
            RCPT TO:<bad@x>
            RCPT TO:<nb@x>
            QUIT

            """
        try session.compare(script, tag: "policy-throttle", config: Self.policy)
        let lines = try session.sessionLogs(script, tag: "policy-throttle-log", config: Self.policy)
        let real = lines["real"] ?? [], ours = lines["ours"] ?? []
        #expect(real.contains { $0.contains("Possible SMTP RCPT flood, throttling.") }, "the oracle's lines: \(real)")
        #expect(ours == real, "ours:\n\(ours.joined(separator: "\n"))\nreal:\n\(real.joined(separator: "\n"))")
    }

    @Test("srv_features: upper-case letters turn off ETRN, EXPN (and VERB), VERB, DSN, PIPELINING",
          arguments: ["E", "X", "B", "D P", "e x b d p", "E X B D P"])
    func serverFeatures(letters: String) throws {
        let script = "EHLO c\nETRN foo\nEXPN root\nVERB\nVRFY root\nMAIL FROM:<a@b> RET=HDRS\nRCPT TO:<root> NOTIFY=SUCCESS\nQUIT\n"
        let rt = try session.compare(script, tag: "features-\(letters.replacingOccurrences(of: " ", with: ""))",
                                     options: ["-M{srvf}" + letters], config: Self.policy)
        if letters.contains("E") {
            #expect(!rt.contains("250-ETRN"), "srv_features \(letters): ETRN still offered:\n\(rt)")
        }
    }

    @Test("log: the from= line of a transaction dropped by RSET, HELO or QUIT, with or without recipients")
    func abandonedLogs() throws {
        let script = """
            EHLO c
            MAIL FROM:<a@x>
            RSET
            MAIL FROM:<b@x>
            RCPT TO:<bad@x>
            RSET
            MAIL FROM:<c@x>
            RCPT TO:<root>
            RCPT TO:<daemon>
            HELO x
            MAIL FROM:<d@x>
            VRFY root
            RCPT TO:<root>
            QUIT

            """
        let lines = try session.sessionLogs(script, tag: "policy-abandoned-log", config: Self.policy)
        let real = lines["real"] ?? [], ours = lines["ours"] ?? []
        #expect(real.filter { $0.contains(": from=<") }.count == 4, "the oracle's lines: \(real)")
        #expect(ours == real, "ours:\n\(ours.joined(separator: "\n"))\nreal:\n\(real.joined(separator: "\n"))")
    }

    @Test("log: the end of a session (QUIT or end of input): lost input channel, did not issue MAIL/EXPN/VRFY/ETRN",
          arguments: ["EHLO c\nQUIT\n", "NOOP\n", "EHLO c\nMAIL FROM:<a@x>\nRCPT TO:<root>\n",
                      "EHLO c\nMAIL FROM:<a@x>\nNOOP\nFOO\n", "EHLO c\nVRFY root\n", "EHLO c\nETRN good\nQUIT\n",
                      "EHLO c\nMAIL FROM:<a@x>\nRCPT TO:<root>\nRSET\n"])
    func sessionEndLogs(script: String) throws {
        let lines = try session.sessionLogs(script, tag: "policy-end-log", config: Self.policy)
        let real = lines["real"] ?? [], ours = lines["ours"] ?? []
        #expect(!real.isEmpty, "the oracle logged nothing for \(script)")
        #expect(ours == real, "ours:\n\(ours.joined(separator: "\n"))\nreal:\n\(real.joined(separator: "\n"))")
    }

    /// Relay tricks aimed at elsewhere.example through this host.
    static let relayTricks = [
        "<x@elsewhere.example>", "<x%elsewhere.example@vm.example.test>", "<x%elsewhere.example@[127.0.1.1]>",
        "<x%elsewhere.example@[127.0.0.1]>", "<x%elsewhere.example@[IPv6:::1]>",
        "<elsewhere.example!x@vm.example.test>", "<elsewhere.example!x>", "<vm.example.test!elsewhere.example!x>",
        "<@vm.example.test:x@elsewhere.example>", "<@vm.example.test,@relay.example.net:x@elsewhere.example>",
        "<\"x@elsewhere.example\">", "<\"x@elsewhere.example\"@vm.example.test>",
        "<\"x%elsewhere.example\"@vm.example.test>", "<x%elsewhere.example>", "<x@[10.1.2.3]>", "<x@[192.0.2.10]>",
        "<x@elsewhere.example.>", "<x@ELSEWHERE.EXAMPLE>", "<X%ELSEWHERE.EXAMPLE@VM.EXAMPLE.TEST>",
        "<x@elsewhere.example@vm.example.test>", "<x@vm.example.test@elsewhere.example>", "<x\\@elsewhere.example>",
        "<x@vm.example.test.elsewhere.example>", "<x@elsewhere.example (comment)>", "x@elsewhere.example",
        "<x@localhost@elsewhere.example>", "<x%elsewhere.example@localhost>", "<x@mail.example.com>",
        "<x%elsewhere.example@vm.example.test.>", "<x%elsewhere.example%vm.example.test@vm.example.test>",
        "<elsewhere.example!x%vm.example.test@vm.example.test>", "<x@elsewhere.example%vm.example.test>",
        "<\"x\"@elsewhere.example>", "<x@[IPv6:2001:db8::1]>", "<x@elsewhere.example:25>",
        "<@[127.0.0.1]:x@elsewhere.example>",
    ]

    /// One session per sender: sendmail drops the -M macros with the first
    /// transaction's envelope, so a second MAIL would be a local client.
    func relayScript(sender: String, extra: [String]) -> String {
        (["EHLO client.example", "MAIL FROM:\(sender)"] + Self.relayTricks.map { "RCPT TO:\($0)" } + extra + ["QUIT", ""])
            .joined(separator: "\n")
    }

    /// Every trick got a 5xx reply from the oracle (none was accepted).
    func expectRefused(_ transcript: String, _ tag: String) {
        let lines = transcript.split(separator: "\n").map(String.init)
        var refused = 0
        for (i, l) in lines.enumerated() where l.hasPrefix(">>> RCPT TO:") {
            let trick = String(l.dropFirst("RCPT TO:".count + 4))
            guard Self.relayTricks.contains(trick), i + 1 < lines.count else { continue }
            #expect(lines[i + 1].hasPrefix("<<< 5"), "\(tag): \(trick) was not refused: \(lines[i + 1])")
            if lines[i + 1].hasPrefix("<<< 550 5.7.1 ") && lines[i + 1].hasSuffix("... Relaying denied") { refused += 1 }
        }
        // route errors and unknown users aside, the refusal is the relay one
        #expect(refused >= Self.relayTricks.count - 8, "\(tag): only \(refused) 550 5.7.1 Relaying denied:\n\(transcript)")
    }

    /// The remote client; BadRcptThrottle off (Debian's cf sets 3: a second
    /// per refused RCPT after the third would only slow the test down).
    static let client = ["-M{client_addr}10.9.8.7", "-OBadRcptThrottle=0"]

    @Test("open relay: Debian's sendmail.cf refuses every relay trick from a remote client, with or without a sender",
          arguments: ["<someone@mail.example.com>", "<>"])
    func openRelayDebian(sender: String) throws {
        let tag = "relay-debian-\(sender == "<>" ? "null" : "sender")"
        let rt = try session.compare(relayScript(sender: sender, extra: ["RCPT TO:<root>"]), tag: tag, debian: true,
                                     options: Self.client)
        expectRefused(rt, tag)
        #expect(rt.contains("<<< 250 2.1.5 <root>... Recipient ok"), "\(tag): a local recipient was refused:\n\(rt)")
    }

    @Test("open relay: Debian's sendmail.mc built with our m4 library", arguments: ["<someone@mail.example.com>", "<>"])
    func openRelayOursDebian(sender: String) throws {
        let tag = "relay-oursdebian-\(sender == "<>" ? "null" : "sender")"
        let rt = try session.compare(relayScript(sender: sender, extra: ["RCPT TO:<root>"]), tag: tag, debian: true,
                                     options: Self.client, config: .oursDebian)
        expectRefused(rt, tag)
    }

    @Test("open relay: a plain .mc with access_db, built with our m4 library and with sendmail's",
          arguments: ["ours", "real"], ["<someone@mail.example.com>", "<>"])
    func openRelayPlain(library: String, sender: String) throws {
        let tag = "relay-plain-\(library)-\(sender == "<>" ? "null" : "sender")"
        // To:relayme.example RELAY in the access map: the one place relaying is allowed
        let rt = try session.compare(relayScript(sender: sender, extra: ["RCPT TO:<x@relayme.example>", "RCPT TO:<root>"]),
                                     tag: tag, options: Self.client + ["-OAuthMechanisms=EXTERNAL"],
                                     config: library == "ours" ? Self.plainOurs : Self.plainReal)
        expectRefused(rt, tag)
        #expect(rt.contains("<<< 250 2.1.5 <x@relayme.example>... Recipient ok"), "\(tag): the access map's RELAY:\n\(rt)")
    }

    /// Raw DATA payloads that would hide a second message behind a
    /// non-standard end of data.
    static let smugglingPayloads: [(String, String)] = [
        ("lf-dot-crlf", #"#RAW body\n.\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<root>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n"#),
        ("crlf-dot-lf", #"#RAW body\r\n.\nMAIL FROM:<evil@x>\r\nRCPT TO:<root>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n"#),
        ("cr-dot-cr", #"#RAW body\r.\rMAIL FROM:<evil@x>\r\nRCPT TO:<root>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n"#),
        ("crlf-dot-cr", #"#RAW body\r\n.\rMAIL FROM:<evil@x>\r\nRCPT TO:<root>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n"#),
        ("lf-dot-lf", #"#RAW body\n.\nMAIL FROM:<evil@x>\nRCPT TO:<root>\nDATA\nSubject: smuggled\n\nevil\n"#),
        ("cr-dot-crlf", #"#RAW body\r.\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<root>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n"#),
        ("nul-dot", #"#RAW body\r\n\x00.\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<root>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n"#),
        ("dot-nul", #"#RAW body\r\n.\x00\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<root>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n"#),
        ("nul-line", #"#RAW a\x00b\r\n"#),
        ("dot-space", #"#RAW body\r\n. \r\nMAIL FROM:<evil@x>\r\nRCPT TO:<root>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n"#),
    ]

    @Test("SMTP smuggling on Debian's sendmail.cf: no second message", arguments: Array(0..<smugglingPayloads.count))
    func smuggling(index: Int) throws {
        let (name, payload) = Self.smugglingPayloads[index]
        let script = ["EHLO c.example", "MAIL FROM:<a@mail.example.com>", "RCPT TO:<root>", "DATA", "Subject: first", "",
                      payload, ".", "NOOP", "QUIT", ""].joined(separator: "\n")
        let tag = "smuggle-\(name)"
        let rt = try session.compare(script, tag: tag, debian: true)
        #expect(session.acceptedIDs(rt).count <= 1, "\(tag): the oracle accepted two messages:\n\(rt)")
        #expect(!rt.contains("<<< 250 2.1.0 <evil@x>"), "\(tag): the oracle took the smuggled MAIL:\n\(rt)")
    }
}
