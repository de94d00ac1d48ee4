// SMTPSessionTests.swift — `sendmail -bs` sessions against the real sendmail.
//
// Promises: each case runs the same command script through the SMTP driver
// (Tests/Fixtures/smtp/smtp-driver.py, which waits for the greeting and for
// every complete reply before sending on) against the real sendmail and
// ours, on Fixtures/oracle/cf/smtp.cf, each binary with its own empty queue
// directory and -odq.  The transcripts (every line sent and received, and
// the exit status) must be identical once dates and queue IDs are
// normalised; then, message by message in the order the 250 replies name
// them, the queue files: identical df bytes, identical qf once the queue
// ID, the T line and dates are normalised, the same file modes.  Fails
// (never skips) when python3 or another prerequisite is missing.

import Foundation
import Testing

@Suite("sendmail -bs: SMTP sessions identical to sendmail")
struct SMTPSessionTests {
    static let config = Configuration(name: "smtp", source: .cf("cf/smtp.cf"))
    static let driver = OracleEnvironment.packageRoot.appendingPathComponent("Tests/Fixtures/smtp/smtp-driver.py").path
    static let python = "/usr/bin/python3"

    func prepare(_ config: Configuration = Self.config) throws -> (cf: String, dir: URL) {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw HarnessError("\(Self.python) is missing: the SMTP driver needs it (apt-get install python3)")
        }
        return try SubmitTests.prepareWithAliases(config)
    }

    func freshQueue(_ dir: URL, _ name: String) throws -> URL { try Faults.freshDirectory(dir, name) }

    static let idPattern = #"[0-9A-Za-z]{8}[0-9]{6,}"#

    /// The queue IDs named by "250 2.0.0 <id> Message accepted", in order.
    func acceptedIDs(_ transcript: String) -> [String] {
        let re = try! NSRegularExpression(pattern: #"<<< 250 2\.0\.0 ("# + Self.idPattern + #") Message accepted"#)
        let ns = transcript as NSString
        return re.matches(in: transcript, range: NSRange(location: 0, length: ns.length))
            .map { ns.substring(with: $0.range(at: 1)) }
    }

    func normaliseDates(_ s: String) -> String {
        var t = s.replacingOccurrences(
            of: #"[A-Z][a-z]{2}, [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT"#,
            with: "<date>", options: .regularExpression)
        t = t.replacingOccurrences(of: #"(?m)^T[0-9]+$"#, with: "T<time>", options: .regularExpression)
        t = t.replacingOccurrences(of: #"<[0-9]{12}\.QID"#, with: "<<t>.QID", options: .regularExpression)
        return t
    }

    /// The transcript with dates and the accepted queue IDs normalised.
    func normalised(_ transcript: String) -> String {
        // whether our write meets a closed connection depends on timing
        // alone (the server has already sent its final reply), so the
        // driver's "=== broken pipe" note is not compared
        var t = transcript.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { $0 != "=== broken pipe" }.joined(separator: "\n")
        for (i, id) in acceptedIDs(transcript).enumerated() { t = t.replacingOccurrences(of: id, with: "QID\(i + 1)") }
        // CRAM-MD5 ("<random.time@host>") and DIGEST-MD5 ('realm=...,
        // nonce=...', 'rspauth=...') challenges differ from run to run
        t = t.replacingOccurrences(of: #"(?m)^<<< 334 (PD|cmVhbG|bm9uY2|cnNwYXV0aD)[A-Za-z0-9+/]+=*$"#, with: "<<< 334 <challenge>",
                                   options: .regularExpression)
        return normaliseDates(t)
    }

    /// One message's files: kind + mode -> normalised text.
    func messageFiles(_ q: URL, id: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: q.path) where name.hasSuffix(id) {
            let path = q.appendingPathComponent(name).path
            let attrs = try FileManager.default.attributesOfItem(atPath: path)
            let mode = String((attrs[.posixPermissions] as? Int) ?? 0, radix: 8)
            let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
            out[String(name.prefix(2)) + " " + mode] = normaliseDates(text.replacingOccurrences(of: id, with: "QID"))
        }
        return out
    }

    /// Runs `script` (client lines, "\n"-separated) through both binaries,
    /// on smtp.cf or `config`; `debian`: a configuration from Debian's
    /// sendmail.mc (Debian's own unless `config` names another build of
    /// it), with /etc/mail from the fixtures; `sasl`: a directory to bind
    /// over /usr/lib/sasl2 (the SASL configuration for AUTH).  Returns the
    /// oracle's transcript.
    @discardableResult
    func compare(_ script: String, tag: String, expectMessages: Int? = nil, debian: Bool = false,
                 options extra: [String] = [], config: Configuration? = nil, sasl: String? = nil) throws -> String {
        var (cf, dir) = try prepare(debian ? Self.config : config ?? Self.config)
        var etcMail: String? = nil
        if debian {
            // Debian's own sendmail.cf, /etc/mail from the fixtures with a small aliases file
            let p = try Workspace.shared.prepare(config ?? Configuration.debianSendmail)
            cf = p.cfPath
            dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
            let etc = dir.appendingPathComponent("etc-mail-smtp")
            try? FileManager.default.removeItem(at: etc)
            try FileManager.default.copyItem(atPath: p.etcMail, toPath: etc.path)
            try "postmaster: root\nstaff: root, daemon, bin\nMAILER-DAEMON: postmaster\n"
                .write(to: etc.appendingPathComponent("aliases"), atomically: true, encoding: .utf8)
            etcMail = etc.path
        }
        let realQ = try freshQueue(dir, "q-smtp-\(tag)-real")
        let oursQ = try freshQueue(dir, "q-smtp-\(tag)-ours")
        var options = SandboxOptions()
        options.modeFlag = "-bs"
        options.etcMail = etcMail
        options.launcher = [Self.python, Self.driver]
        options.saslConfig = sasl
        // (Debian's cf offers AUTH with what the SASL library on this
        // machine has: both binaries use the same library)
        let auth = extra
        options.extraArguments = ["-OQueueDirectory=\(realQ.path)", "-odq"] + auth
        let input = Array(script.utf8)
        let runs = Workspace.shared.runs
        let real = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: input, options: options,
                                   runDir: runs, tag: "smtp-\(tag).oracle")
        options.extraArguments = ["-OQueueDirectory=\(oursQ.path)", "-odq"] + auth
        let ours = try Sandbox.run(binary: try OracleEnvironment.binaryUnderTest(), cf: cf, input: input,
                                   options: options, runDir: runs, tag: "smtp-\(tag).ours")
        let rt = String(decoding: real.stdout, as: UTF8.self), ot = String(decoding: ours.stdout, as: UTF8.self)
        #expect(real.status == 0, "\(tag): the driver failed on the oracle: \(String(decoding: real.stderr, as: UTF8.self))")
        #expect(rt.hasPrefix("<<< 220 "), "\(tag): no greeting from the oracle:\n\(rt)")
        #expect(!rt.contains("=== timeout"), "\(tag): the oracle timed out:\n\(rt)")
        #expect(normalised(ot) == normalised(rt), "\(tag): transcripts differ\n--- ours\n\(ot)\n--- real\n\(rt)")
        #expect(String(decoding: ours.stderr, as: UTF8.self) == String(decoding: real.stderr, as: UTF8.self), "\(tag): stderr")
        let rids = acceptedIDs(rt), oids = acceptedIDs(ot)
        if let n = expectMessages { #expect(rids.count == n, "\(tag): the oracle accepted \(rids.count) messages") }
        #expect(rids.count == oids.count, "\(tag): accepted \(oids.count) messages, the oracle \(rids.count)")
        // one process, one sequence: consecutive IDs share the time and pid parts
        func shape(_ ids: [String]) -> [Bool] {
            zip(ids, ids.dropFirst()).map { $0.prefix(6) == $1.prefix(6) && $0.dropFirst(8) == $1.dropFirst(8) }
        }
        #expect(shape(oids) == shape(rids), "\(tag): queue IDs \(oids), the oracle's \(rids)")
        for (rid, oid) in zip(rids, oids) {
            let rf = try messageFiles(realQ, id: rid), of = try messageFiles(oursQ, id: oid)
            #expect(of == rf, "\(tag): queue files differ\n--- ours\n\(of)\n--- real\n\(rf)")
            let rd = try? Data(contentsOf: realQ.appendingPathComponent("df" + rid))
            let od = try? Data(contentsOf: oursQ.appendingPathComponent("df" + oid))
            // (a discarded message was accepted and left no file at all)
            #expect(rd == od && (rd != nil || rf.isEmpty), "\(tag): df bytes differ")
        }
        // nothing else in the queues (no leftover tf/df of refused messages)
        let rn = try Sandbox.queueEntries(realQ.path).count
        let on = try Sandbox.queueEntries(oursQ.path).count
        #expect(on == rn, "\(tag): \(on) queue files, the oracle \(rn)")
        return rt
    }

    @Test("greeting, EHLO and HELO, QUIT")
    func greeting() throws {
        try compare("EHLO client.example\nHELO client.example\nQUIT\n", tag: "ehlo")
        try compare("HELO\nEHLO\nHELO a.example\nNOOP\nQUIT now\n", tag: "helo-args")
        // VERB: only the reply (sendmail is verbose from here on and would
        // deliver a message at once; we are not)
        try compare("EHLO client.example\nVERB\nQUIT\n", tag: "verb")
        // no TLS under -bs without certificates (DaemonTLSTests has the rest)
        try compare("EHLO client.example\nSTARTTLS\nSTARTTLS x\nQUIT\n", tag: "starttls")
    }

    @Test("-d21.2 traces the rewriting of each command in the session, as sendmail prints it")
    func rewriteTraces() throws {
        try compare("""
            EHLO client.example
            MAIL FROM:<a@client.example>
            RCPT TO:<root>
            RCPT TO:<a@relay.example>
            RCPT TO:<nobody@[127.0.0.1]>
            RSET
            MAIL FROM:<>
            RCPT TO:<staff>
            QUIT

            """, tag: "d21", options: ["-d21.2"])
    }

    @Test("a full transaction; two on one session; headers, dots, 8-bit text")
    func transactions() throws {
        try compare("""
            EHLO client.example
            MAIL FROM:<a@client.example>
            RCPT TO:<root>
            RCPT TO:<staff>
            RCPT TO:<a@relay.example>
            DATA
            Subject: one
            To: someone

            body
            ..dot line
            .
            QUIT

            """, tag: "one", expectMessages: 1)
        try compare("""
            HELO client.example
            MAIL FROM:<a@client.example>
            RCPT TO:<root>
            RCPT TO:<bin>
            DATA
            Subject: first

            1
            .
            MAIL FROM:<>
            RCPT TO:<staff>
            DATA
            From: x@y
            Precedence: bulk

            8bit \u{e9}
            .
            QUIT

            """, tag: "two", expectMessages: 2)
    }

    @Test("RSET, NOOP, VERB, unknown commands")
    func rsetNoop() throws {
        try compare("""
            EHLO client.example
            MAIL FROM:<a@client.example>
            RCPT TO:<root>
            RSET
            RCPT TO:<root>
            NOOP
            noop extra
            FOO bar
            XYZZY
            MAIL FROM:<b@client.example>
            RCPT TO:<daemon>
            DATA
            Subject: after rset

            x
            .
            QUIT

            """, tag: "rset", expectMessages: 1)
    }

    @Test("bad sequence: RCPT before MAIL, DATA before RCPT, MAIL twice")
    func badSequence() throws {
        try compare("""
            EHLO client.example
            RCPT TO:<root>
            DATA
            MAIL FROM:<a@client.example>
            DATA
            MAIL FROM:<a@client.example>
            RCPT TO:<root>
            QUIT

            """, tag: "sequence")
    }

    @Test("syntax errors: MAIL without FROM:, bad addresses, unknown users and mailers' errors")
    func syntaxErrors() throws {
        try compare("""
            EHLO client.example
            MAIL
            MAIL TO:<a@b>
            MAIL FROM:
            MAIL FROM:<a@b
            MAIL FROM:<a@client.example>
            RCPT
            RCPT TO:
            RCPT TO:<root
            RCPT TO:<nosuchuser>
            RCPT TO:<x@remote.example>
            RCPT TO:<x@temp.example>
            RCPT TO:<root>
            DATA
            Subject: some errors before

            x
            .
            QUIT

            """, tag: "syntax", expectMessages: 1)
    }

    @Test("ESMTP parameters: SIZE (too big), BODY, RET, ENVID, NOTIFY, ORCPT, unknown ones")
    func parameters() throws {
        try compare("""
            EHLO client.example
            MAIL FROM:<a@b> FOO=bar
            MAIL FROM:<a@b> SIZE=5000
            MAIL FROM:<a@b> BODY=bogus
            MAIL FROM:<a@b> RET=bogus
            RSET
            MAIL FROM:<> RET=HDRS ENVID=abc+2Bdef SIZE=100 BODY=8BITMIME
            RCPT TO:<root> NOTIFY=bogus
            RCPT TO:<root> FOO=bar
            RCPT TO:<root> NOTIFY=NEVER ORCPT=rfc822;x+40y
            RCPT TO:<staff> NOTIFY=SUCCESS,DELAY
            RCPT TO:<a@relay.example> NOTIFY=FAILURE
            RCPT TO:<root>
            DATA
            Subject: dsn

            body
            .
            MAIL FROM:<a@b> RET=FULL BODY=7BIT
            RCPT TO:<bin>
            DATA
            .
            QUIT

            """, tag: "dsn", expectMessages: 2)
    }

    @Test("policy rulesets: check_mail, check_rcpt, check_vrfy, check_expn; the macros set for them")
    func policy() throws {
        try compare("VRFY macros\nEXPN secret\nQUIT\n", tag: "policy-early")
        try compare("""
            EHLO client.example
            MAIL FROM:<a@spam.example>
            MAIL FROM:<a@spam.example> SIZE=5000
            MAIL FROM:<a@spam.example> FOO=bar
            MAIL FROM:<a@spam.example> RET=HDRS
            MAIL FROM:<b@later.example>
            MAIL FROM:<c@ok.example>
            RCPT TO:<x@norelay.example>
            RCPT TO:<x@later.example>
            RCPT TO:<x@client.example>
            RCPT TO:<x@norelay.example> NOTIFY=bogus
            RCPT TO:<root>
            RCPT TO:<nosuchuser>
            RCPT TO:<b@client.example>
            VRFY macros
            EXPN secret
            DATA
            Subject: policy

            x
            .
            QUIT

            """, tag: "policy", expectMessages: 1)
    }

    @Test("Debian's sendmail.cf: greeting from its SmtpGreetingMessage, its policy rulesets, a transaction")
    func debian() throws {
        try compare("""
            EHLO client.example
            MAIL FROM:<someone@client.example>
            RCPT TO:<root>
            RCPT TO:<staff@vm.example.test>
            RCPT TO:<x@elsewhere.example>
            RCPT TO:<nosuchuser>
            DATA
            Subject: debian

            x
            .
            QUIT

            """, tag: "debian", debian: true)
        // PrivacyOptions=needmailhelo,needexpnhelo,needvrfyhelo; a local sender
        try compare("""
            MAIL FROM:<root>
            VRFY root
            EXPN staff
            HELO client.example
            VRFY root
            EXPN staff
            MAIL FROM:<root>
            RCPT TO:<staff>
            RCPT TO:<daemon@vm.example.test>
            RCPT TO:<x@elsewhere.example>
            DATA
            Subject: debian 2
            To: staff

            x
            .
            QUIT

            """, tag: "debian-local", debian: true)
    }

    @Test("HELP from a help file, by topic and prefix; unknown topics; a missing file")
    func helpFile() throws {
        let file = OracleEnvironment.packageRoot.appendingPathComponent("Tests/Fixtures/smtp/helpfile").path
        try compare("HELP\nHELP mail\nHELP MAIL FROM\nhelp RCPT\nHELP bogus\nHELP about\nHELP m\nHELP mixed\nHELP  \nQUIT\n",
                    tag: "helpfile", options: ["-OHelpFile=" + file])
        // a help file that cannot be read
        try compare("HELP\nQUIT\n", tag: "helpfile-missing", options: ["-OHelpFile=/nonexistent/helpfile"])
    }

    @Test("PrivacyOptions (goaway; novrfy,noexpn,noverb,noetrn,noreceipts) and MaxRecipientsPerMessage")
    func privacy() throws {
        let script = """
            EHLO x
            VRFY root
            EXPN staff
            VERB
            ETRN foo
            MAIL FROM:<a@b> RET=HDRS
            MAIL FROM:<a@b> ENVID=x
            MAIL FROM:<a@b>
            RCPT TO:<root> NOTIFY=SUCCESS
            RCPT TO:<root> ORCPT=rfc822;x
            RCPT TO:<>
            RCPT TO:<bin>
            RCPT TO:<daemon>
            RCPT TO:<nobody>
            DATA
            Subject: limited

            x
            .
            QUIT

            """
        try compare(script, tag: "goaway", expectMessages: 1,
                    options: ["-OPrivacyOptions=goaway", "-OMaxRecipientsPerMessage=2"])
        try compare(script, tag: "privacy", expectMessages: 1,
                    options: ["-OPrivacyOptions=novrfy,noexpn,noverb,noetrn,noreceipts", "-OMaxRecipientsPerMessage=2"])
        try compare(script, tag: "noverb", expectMessages: 1, options: ["-OPrivacyOptions=noverb"])
    }

    /// A seeded mix of commands, good and bad: arguments with odd bytes,
    /// case variants, sequence errors, parameters.
    static func randomScript(seed: UInt64, count: Int) -> String {
        var state = seed
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        // (no VERB: sendmail then shows its 050 progress messages; we do not)
        let verbs = ["HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "VRFY", "EXPN", "HELP", "mail", "Rcpt",
                     "XYZ", "MAIL FROM:", "RCPT TO:", "ETRN", "SEND", "TURN", "SAML", "soml"]
        let addrs = ["<root>", "<a@b>", "<>", "root", "<staff>", "<x@remote.example>", "<x@temp.example>",
                     "<a@relay.example>", "<\"q u\"@relay.example>", "<a@b", "a@b>", "<@route:a@b>", "<nosuchuser>",
                     "<a@spam.example>", "<x@norelay.example>", "<daemon>", "<root> SIZE=10", "<bin> NOTIFY=DELAY",
                     "<a@b> BODY=8BITMIME", "<a@b> RET=FULL", "<root> ORCPT=rfc822;root", "<root> FOO", "(c) <bin>"]
        var lines: [String] = []
        var badHellos = 0
        for _ in 0..<count {
            let v = verbs[next(verbs.count)]
            switch v {
            case "MAIL", "mail": lines.append("\(v) FROM:\(addrs[next(addrs.count)])")
            case "RCPT", "Rcpt": lines.append("\(v) TO:\(addrs[next(addrs.count)])")
            case "MAIL FROM:", "RCPT TO:": lines.append(v + addrs[next(addrs.count)])
            case "DATA":
                lines.append("DATA")
                // the text is only sent when the server says 354; the driver
                // reads replies, so a refused DATA sees these as commands
                lines.append("Subject: random \(next(1000))")
                lines.append("")
                lines.append(".")
            case "VRFY", "EXPN": lines.append("\(v) \(["root", "staff", "nobody", "x@relay.example", "team", ""][next(6)])")
            case "HELO", "EHLO":
                // a bad one costs 2^n seconds (sendmail's slow-down): two at most
                var arg = ["c.example", "", "[127.0.0.1]", "a b", "x_y.example ", "a/b"][next(6)]
                if !["c.example", "[127.0.0.1]", "x_y.example "].contains(arg) {
                    if badHellos >= 2 { arg = "c.example" } else { badHellos += 1 }
                }
                lines.append("\(v) \(arg)")
            default: lines.append(v + (next(2) == 0 ? "" : " arg"))
            }
        }
        return lines.joined(separator: "\n") + "\nQUIT\n"
    }

    /// Seeded transactions with generated messages: header fields (folded,
    /// recipient headers, Bcc, Precedence, Message-Id, Date), dot lines,
    /// blank lines, 8-bit bytes, long lines, no header at all.
    static func randomMessages(seed: UInt64, count: Int) -> String {
        var state = seed
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        let headers = ["Subject: s\(seed)", "To: root, staff", "Cc: daemon", "Bcc: bin", "Precedence: bulk",
                       "Precedence: junk", "Message-Id: <given@client.example>", "Date: Mon, 1 Jan 2024 00:00:00 +0000",
                       "From: Some One <one@client.example>", "X-Folded: a\n\tb\n c", "Reply-To: r@client.example",
                       "Resent-To: root", "Received: from elsewhere by there; Mon, 1 Jan 2024 00:00:00 +0000",
                       "Content-Type: text/plain; charset=iso-8859-1", "X-8bit: caf\u{e9}"]
        let bodies = [".", "..", "...leading dots", "", "plain", "caf\u{e9} 8-bit", String(repeating: "w", count: 1200),
                      "From the start", "a\tb", " .space-dot"]
        let rcpts = ["<root>", "<staff>", "<a@relay.example>", "<team>", "<daemon>", "<bin> NOTIFY=SUCCESS"]
        var lines = ["EHLO c\(seed).example"]
        for _ in 0..<count {
            lines.append(["MAIL FROM:<a@client.example>", "MAIL FROM:<>", "MAIL FROM:<root>",
                          "MAIL FROM:<b@relay.example> BODY=8BITMIME"][next(4)])
            for _ in 0...next(3) { lines.append("RCPT TO:" + rcpts[next(rcpts.count)]) }
            lines.append("DATA")
            if next(5) > 0 {
                for _ in 0..<next(5) { lines += headers[next(headers.count)].split(separator: "\n").map(String.init) }
                lines.append("")
            }
            for _ in 0..<next(6) { lines.append(bodies[next(bodies.count)]) }
            lines.append(".")
        }
        return lines.joined(separator: "\n") + "\nQUIT\n"
    }

    @Test("seeded random messages: headers, bodies, envelopes", arguments: [11, 12, 13, 14, 15, 16, 17, 18] as [UInt64])
    func randomMessages(seed: UInt64) throws {
        try compare(Self.randomMessages(seed: seed, count: 4), tag: "messages-\(seed)")
    }

    @Test("seeded random command mixes", arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func randomMix(seed: UInt64) throws {
        try compare(Self.randomScript(seed: seed, count: 40), tag: "random-\(seed)")
    }

    /// The syslog lines both binaries write for `script` (through a
    /// socket over /dev/log), queue IDs numbered in order of appearance.
    func sessionLogs(_ script: String, tag: String, config: Configuration? = nil,
                     options extra: [String] = []) throws -> [String: [String]] {
        if access("/dev/log", F_OK) != 0 {
            let fd = open("/dev/log", O_CREAT | O_WRONLY, 0o644)
            #expect(fd >= 0, "cannot create /dev/log to mount over: \(String(cString: strerror(errno)))")
            if fd >= 0 { close(fd) }
        }
        let (cf, dir) = try prepare(config ?? Self.config)
        var lines: [String: [String]] = [:]
        for (who, binary) in [("real", OracleEnvironment.oraclePath), ("ours", try OracleEnvironment.binaryUnderTest())] {
            let q = try freshQueue(dir, "q-smtp-\(tag)-\(who)")
            let collector = try DatagramCollector(path: dir.appendingPathComponent("smtp-\(tag)-\(who).sock").path)
            collector.startDraining()
            var options = SandboxOptions()
            options.modeFlag = "-bs"
            options.launcher = [Self.python, Self.driver]
            options.devLog = collector.path
            options.extraArguments = ["-OQueueDirectory=\(q.path)", "-odq"] + extra
            _ = try Sandbox.run(binary: binary, cf: cf, input: Array(script.utf8), options: options,
                                runDir: Workspace.shared.runs, tag: "smtp-\(tag).\(who)")
            // queue IDs in order of appearance
            var ids: [String] = []
            lines[who] = collector.drain().map { line in
                var l = LogTests.normalise(line, id: nil)
                let re = try! NSRegularExpression(pattern: Self.idPattern)
                for m in re.matches(in: l, range: NSRange(l.startIndex..., in: l)) {
                    let id = (l as NSString).substring(with: m.range)
                    if !ids.contains(id) { ids.append(id) }
                }
                for (i, id) in ids.enumerated() { l = l.replacingOccurrences(of: id, with: "QID\(i + 1)") }
                return l.replacingOccurrences(of: #"<[0-9]{12}\.QID"#, with: "<T.QID", options: .regularExpression)
            }
        }
        return lines
    }

    /// The session's syslog lines from both binaries, each list passed
    /// through `fixing` (what legitimately differs), compared; the oracle's
    /// must contain a line with `expecting`, so the comparison is not
    /// between two empty logs.
    func compareLogs(_ script: String, tag: String, options extra: [String] = [], expecting: String,
                     fixing: ([String]) -> [String] = { $0 }) throws {
        let lines = try sessionLogs(script, tag: tag, options: extra)
        let real = fixing(lines["real"] ?? []), ours = fixing(lines["ours"] ?? [])
        #expect(real.contains { $0.contains(expecting) }, "\(tag): the oracle logged no \"\(expecting)\": \(real)")
        #expect(ours == real, "\(tag): ours:\n\(ours.joined(separator: "\n"))\nreal:\n\(real.joined(separator: "\n"))")
    }

    @Test("syslog lines of a session: from= (proto=), RCPT refusals, policy rejections, VRFY/EXPN")
    func logLines() throws {
        let script = """
            EHLO c.example
            MAIL FROM:<a@spam.example>
            MAIL FROM:<a@b
            MAIL FROM:<a@client.example> SIZE=20
            RCPT TO:<x@remote.example>
            RCPT TO:<x@later.example>
            RCPT TO:<x@norelay.example>
            RCPT TO:<a@b
            RCPT TO:<root> FOO=bar
            RCPT TO:<nosuchuser>
            RCPT TO:<root>
            RCPT TO:<staff>
            DATA
            Subject: x
            Message-Id: <m1@c>

            body
            .
            VRFY root
            EXPN staff
            MAIL FROM:<b@client.example> BODY=8BITMIME
            RCPT TO:<root>
            DATA
            Subject: y
            Precedence: bulk

            body
            .
            QUIT

            """
        let lines = try sessionLogs(script, tag: "log")
        let real = lines["real"] ?? [], ours = lines["ours"] ?? []
        #expect(real.contains { $0.contains(": from=") }, "the real sendmail logged nothing: \(real)")
        #expect(ours == real, "ours:\n\(ours.joined(separator: "\n"))\nreal:\n\(real.joined(separator: "\n"))")
    }

    @Test("VRFY, EXPN, HELP, ETRN without argument")
    func vrfyExpnHelp() throws {
        try compare("""
            EHLO client.example
            VRFY root
            VRFY staff
            VRFY nosuchuser
            VRFY
            EXPN staff
            EXPN root
            EXPN
            HELP
            HELP MAIL
            ETRN
            QUIT

            """, tag: "vrfy")
        // VRFY and EXPN before a transaction (they count in its priority), and after RSET
        let msg = "MAIL FROM:<a@b>\nRCPT TO:<root>\nDATA\nSubject: v\n\nx\n.\n"
        try compare("EHLO c.example\nVRFY root\nEXPN staff\n" + msg + "QUIT\n", tag: "vrfy-then-mail", expectMessages: 1)
        try compare("EHLO c.example\nVRFY root\nEXPN staff\nRSET\n" + msg + "VRFY daemon\n" + msg + "QUIT\n",
                    tag: "vrfy-rset-mail", expectMessages: 2)
    }

    @Test("message too big after DATA; bare LF and bare CR in DATA (Debian's 421); a bare LF in a command")
    func dataErrors() throws {
        let big = (0..<30).map { _ in String(repeating: "y", count: 99) }.joined(separator: "\n")
        try compare("""
            #RAW NOOP\\n
            EHLO c.example
            MAIL FROM:<a@b>
            RCPT TO:<root>
            DATA
            Subject: big

            \(big)
            .
            MAIL FROM:<a@b>
            RCPT TO:<root>
            DATA
            Subject: fits

            small
            .
            QUIT

            """, tag: "too-big", expectMessages: 1)
        try compare("""
            EHLO c.example
            MAIL FROM:<a@b>
            RCPT TO:<root>
            DATA
            Subject: bare
            #RAW bare lf line\\n
            #WAIT
            after
            .
            QUIT

            """, tag: "bare-lf", expectMessages: 0)
        try compare("""
            EHLO c.example
            MAIL FROM:<a@b>
            RCPT TO:<root>
            DATA
            Subject: cr
            #RAW mid\\rcr\\r\\n
            #WAIT
            .
            QUIT

            """, tag: "bare-cr", expectMessages: 0)
    }

    @Test("HELO/EHLO followed at once by more input: 554, then sendmail's null server")
    func pipelinedGreeting() throws {
        try compare("""
            #PIPE 2
            NOOP
            NOOP
            #PIPE 2
            EHLO x
            NOOP
            MAIL FROM:<a@b>
            VRFY root
            HELP
            FOO
            RSET
            HELO y
            EHLO z
            QUIT

            """, tag: "pipelined-ehlo")
        try compare("""
            EHLO a
            #PIPE 2
            MAIL FROM:<a@b>
            RCPT TO:<root>
            #PIPE 2
            HELO x
            NOOP
            RCPT TO:<bin>
            DATA
            QUIT

            """, tag: "pipelined-helo")
        // EHLO and then end of input: the end counts as more input
        try compare("#PIPE 1\nEHLO x\n", tag: "ehlo-eof")
    }

    /// Debian's sendmail (its fix against SMTP smuggling): DATA with the
    /// message text already behind it gets 554 and the session ends, after
    /// the 503 checks and before check_data; logged as "rejecting server
    /// DATA from localhost [0] due to traffic before response" (EHLO's
    /// likewise, without "did not issue MAIL").
    /// Limits sendmail enforces while reading: a command line of 2047
    /// characters or more ends the session (421, "SMTP violation, input
    /// too long"); a header past MaxHeadersLength (32768 unless set)
    /// refuses the message (552 5.6.0, "headers too large ... during
    /// message collect"), counted to the byte; a duplicate RCPT is
    /// answered with the address the envelope already has.
    @Test("a command too long, headers over MaxHeadersLength, a duplicate recipient; their log lines")
    func readLimits() throws {
        let fits = "NOOP " + String(repeating: "a", count: 2041)
        let tooLong = "NOOP " + String(repeating: "a", count: 2042)
        let commands = "EHLO c.example\n\(fits)\n\(tooLong)\nQUIT\n"
        let rt = try compare(commands, tag: "command-too-long")
        #expect(rt.contains("<<< 250 2.0.0 OK\n>>> NOOP aaa") && rt.contains("Command too long, possible attack"), "\(rt)")
        // a field of 32766 characters and its LF: 32767 bytes, at the limit;
        // one more byte is over it
        func message(_ n: Int) -> String {
            "MAIL FROM:<a@b>\nRCPT TO:<root>\nDATA\nX-A: \(String(repeating: "a", count: n - 5))\n\nbody\n.\n"
        }
        let headers = "EHLO c.example\n" + message(32766) + message(32767) + "QUIT\n"
        let rt2 = try compare(headers, tag: "headers-too-large", expectMessages: 1, options: ["-OMaxMessageSize=100000"])
        #expect(rt2.contains("<<< 552 5.6.0 Headers too large (32768 max)"), "\(rt2.suffix(600))")
        let duplicates = "EHLO c.example\nMAIL FROM:<a@b>\nRCPT TO: root\nRCPT TO:<root>\nRCPT TO:<@route.example:root>\nQUIT\n"
        let rt3 = try compare(duplicates, tag: "duplicate-rcpt")
        #expect(rt3.contains(">>> RCPT TO:<root>\n<<< 250 2.1.5 root... Recipient ok"), "\(rt3)")
        try compareLogs(commands, tag: "log-command-too-long", expecting: "SMTP violation, input too long")
        try compareLogs(headers, tag: "log-headers-too-large", options: ["-OMaxMessageSize=100000"],
                        expecting: "headers too large (32768 max)")
    }

    /// MAIL's and RCPT's parameters checked as sendmail's mail_esmtp_args()
    /// and rcpt_esmtp_args(): NEVER
    /// only alone, each word of a NOTIFY list named when unknown, a value
    /// required, ORCPT as atom ";" xtext and only once.
    @Test("SIZE, BODY, RET, ENVID, NOTIFY and ORCPT values: the syntax errors and their replies")
    func dsnParameterSyntax() throws {
        let rcpts = ["NOTIFY", "NOTIFY=", "NOTIFY=SUCCESS,NEVER", "NOTIFY=never,", "notify=success,foo", "NOTIFY=Never",
                     "NOTIFY=FAILURE,DELAY", "ORCPT", "ORCPT=bad", "ORCPT=;a", "ORCPT=rf@c;a", "ORCPT=rfc822;a+zz",
                     "ORCPT=rfc822;x+2b", "ORCPT=rfc822;", "ORCPT=rfc822;a ORCPT=rfc822;b"]
            .map { "RCPT TO:<root> \($0)" }.joined(separator: "\n")
        // and MAIL's: values required, SIZE as strtol() reads it, ENVID as xtext
        let mails = ["SIZE", "SIZE=", "SIZE=12x", "SIZE=-5", "SIZE=99999999999999999999999", "BODY", "RET", "RET RET=FULL",
                     "ENVID", "ENVID=a+zz", "ENVID=ok ENVID=a+zz", "ENVID="]
            .map { "MAIL FROM:<a@b> \($0)\nRSET" }.joined(separator: "\n")
        let rt = try compare("EHLO c.example\n\(mails)\nMAIL FROM:<a@b>\n\(rcpts)\nQUIT\n", tag: "dsn-syntax",
                             options: ["-OMaxMessageSize=0"])
        for reply in ["501 5.5.2 NOTIFY requires a value", "501 5.5.4 Bad argument \"NEVER\"  to NOTIFY",
                      "501 5.5.4 Bad argument \"foo\"  to NOTIFY", "501 5.5.0 Duplicate ORCPT parameter",
                      "501 5.5.4 Syntax error in ORCPT parameter value", "501 5.5.2 SIZE requires a value",
                      "552 5.2.3 Message size invalid", "552 5.2.3 Message size exceeds maximum value",
                      "501 5.5.4 Syntax error in ENVID parameter value", "501 5.5.2 RET requires a value"] {
            #expect(rt.contains(reply), "\(reply)")
        }
    }

    /// MAIL's SIZE against the queue's free space (sendmail's
    /// enoughdiskspace()): "452 4.4.5 Insufficient disk space; try again
    /// later", logged "low on space (...)".
    @Test("a SIZE larger than the queue's file system has free: 452 4.4.5, logged")
    func sizeOverFreeSpace() throws {
        let script = "EHLO c.example\nMAIL FROM:<a@b> SIZE=1000000000000000\nMAIL FROM:<a@b> SIZE=100\nQUIT\n"
        let rt = try compare(script, tag: "size-disk", options: ["-OMaxMessageSize=0"])
        #expect(rt.contains("<<< 452 4.4.5 Insufficient disk space; try again later\n>>> MAIL FROM:<a@b> SIZE=100\n<<< 250"), "\(rt)")
        // (the queue directories differ, and the free blocks move)
        try compareLogs(script, tag: "log-size-disk", options: ["-OMaxMessageSize=0"], expecting: "low on space (localhost needs ") {
            $0.map { $0.replacingOccurrences(of: #"in [^ )]+\), max avail: [0-9]+"#, with: "in Q), max avail: N", options: .regularExpression) }
        }
    }

    /// Queue-only (-odq, -odd): sendmail logs "to=..., stat=queued" for
    /// each recipient of an envelope whose recipients all use mailers
    /// without F=A, and none when one waits for its alias expansion.
    @Test("queue-only sessions: the stat=queued lines", arguments: ["-odq", "-odd"])
    func queuedLines(_ mode: String) throws {
        let script = """
            EHLO c.example
            MAIL FROM:<a@b>
            RCPT TO:<x@b.example>
            RCPT TO:<y@c.example>
            DATA
            Subject: remote

            x
            .
            MAIL FROM:<a@b>
            RCPT TO:<x@b.example>
            RCPT TO:<root>
            DATA
            Subject: mixed

            y
            .
            QUIT

            """
        try compareLogs(script, tag: "queued\(mode)", options: [mode], expecting: "to=<y@c.example>, delay=")
    }

    /// Delivered by the session (-odi) or its child (-odb): the delivery
    /// line names the sender as controlling address (ctladdr=) only when
    /// the sender is a local user, never with the caller's ids.
    @Test("a session's own deliveries: ctladdr= for a local sender only", arguments: ["-odi", "-odb"])
    func sessionDeliveryControl(_ mode: String) throws {
        let script = """
            EHLO c.example
            MAIL FROM:<a@b>
            RCPT TO:<root>
            DATA
            Subject: remote sender

            x
            .
            MAIL FROM:<daemon>
            RCPT TO:<root>
            DATA
            Subject: local sender

            y
            .
            QUIT

            """
        // (-odb: the two children log in either order, and the oracle's
        // child gives its delivery a priority that moves with the clock)
        try compareLogs(script, tag: "ctladdr\(mode)", options: [mode], expecting: "ctladdr=<daemon> (1/1)") {
            mode == "-odi" ? $0 : $0.map { $0.replacingOccurrences(of: #"pri=[0-9]+"#, with: "pri=P", options: .regularExpression) }.sorted()
        }
    }

    @Test("DATA followed at once by message text: 554, the session ends; the log lines")
    func pipelinedData() throws {
        let script = """
            EHLO c.example
            #PIPE 4
            MAIL FROM:<a@b>
            RCPT TO:<root>
            DATA
            Subject: smuggled
            """
        let rt = try compare(script, tag: "data-too-soon", expectMessages: 0)
        #expect(rt.contains("<<< 250 2.1.5 <root>... Recipient ok\n<<< 554 5.5.0 SMTP protocol error\n=== exit"), "\(rt)")
        // without a recipient the 503 comes first and the text is read as commands
        let rt2 = try compare("EHLO c.example\n#PIPE 3\nMAIL FROM:<a@b>\nDATA\nSubject: x\nQUIT\n", tag: "data-no-rcpt")
        #expect(rt2.contains("<<< 503 5.0.0 Need RCPT (recipient)\n<<< 500 5.5.1 Command unrecognized"), "\(rt2)")
        try compareLogs(script, tag: "log-data-too-soon", expecting: "rejecting server DATA from localhost [")
        try compareLogs("#PIPE 2\nEHLO x\nNOOP\nQUIT\n", tag: "log-ehlo-too-soon", expecting: "rejecting server EHLO from")
    }

    @Test("pipelining: a batch of commands sent at once is answered in order")
    func pipelining() throws {
        try compare("""
            EHLO c.example
            #PIPE 5
            MAIL FROM:<c@d>
            RCPT TO:<root>
            RCPT TO:<nosuchuser>
            RCPT TO:<bin>
            DATA
            Subject: piped

            x
            .
            #PIPE 3
            RSET
            NOOP
            QUIT

            """, tag: "pipelining", expectMessages: 1)
    }

    @Test("end of input without QUIT, in and out of a transaction")
    func eofWithoutQuit() throws {
        try compare("EHLO client.example\nMAIL FROM:<a@b>\nRCPT TO:<root>\n", tag: "eof-rcpt")
        try compare("EHLO client.example\nMAIL FROM:<a@b>\nRCPT TO:<x@remote.example>\n", tag: "eof-error")
        try compare("EHLO client.example\n", tag: "eof-idle")
        try compare("EHLO client.example\nMAIL FROM:<a@b>\nRCPT TO:<root>\nDATA\nSubject: cut\n\nno end\n",
                    tag: "eof-data")
    }
}
