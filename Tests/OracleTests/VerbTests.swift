// VerbTests.swift — VERB: verbose SMTP sessions and their interactive
// delivery, against the real sendmail.
//
// Each case plays the same SMTP dialogue with VERB against the real
// sendmail and ours, in `-bs` (Tests/Fixtures/smtp/smtp-driver.py) or in
// the `-bD` daemon on 127.0.0.1:2525 (daemon-harness.py, private network
// namespace), on the deliver fixture (deliver.cf, whose mailers record
// every call; SubmitDeliveryTests.prepareSMTP) or, for relaying, on its
// m4-built variant with the scripted next hops of OutboundTests
// (outbound/sink.py on 127.0.0.2-5).  Identical must be: the transcript
// (every 050 line of RCPT, EXPN and of the delivery before DATA's 250,
// with dates and queue IDs normalised), the exit status, the syslog lines
// (LogTests.normaliseIDs), every mailer call, mailbox, ~/dead.letter and
// the queue left (SubmitDeliveryTests.collect), the -X traffic log (pids
// and dates normalised), and what the next hops received.  Known differences, normalised where they show and listed in
// the README: for a transaction whose recipients were only verified before VERB
// (sendmail's double queueing, delivered by its forked child, ours by a
// background queue run), the pri= and ctladdr= of that delivery's lines.
// Fails (never skips) when root, python3 or another prerequisite is missing.

import Foundation
import Testing

@Suite("VERB: verbose sessions delivering interactively, as sendmail's", .serialized)
struct VerbTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var script: String
        /// Command-line flags after the mode.
        var arguments: [String] = []
        /// Texts the oracle's transcript must show (the case does what it says).
        var expects: [String]
        /// The delivery happens after the session, in the background
        /// (double queueing): wait for it.
        var background = false
        var description: String { name }
    }

    static let localScript = """
        EHLO client.example
        VERB
        MAIL From:<root>
        RCPT To:<root>
        RCPT To:<pipe>
        RCPT To:<list>
        RCPT To:<c@nouser>
        RCPT To:<nosuchuser>
        DATA
        Subject: verbose

        hello
        .
        QUIT

        """

    static let cases: [Case] = [
        // local users, an alias to a program, a list, a mailer failing with
        // EX_NOUSER (its bounce delivered in the session too), an unknown user
        Case(name: "local-prog-bounce", script: localScript,
             expects: ["050 <pipe>... aliased to", "050 daemon,<root>... Connecting to local...",
                       "050 <c@nouser>... Connecting to nouser via fail...", "050 <root>... Sent\n<<< 250 2.0.0"]),
        // VERB makes the delivery interactive whatever DeliveryMode says
        Case(name: "queue-only-overridden", script: localScript, arguments: ["-odq"],
             expects: ["050 daemon,<root>... Sent"]),
        Case(name: "defer-overridden", script: localScript, arguments: ["-odd"],
             expects: ["050 daemon,<root>... Sent"]),
        // -v on the command line makes the session verbose from the start
        Case(name: "v-flag", script: localScript.replacingOccurrences(of: "VERB\n", with: ""), arguments: ["-v"],
             expects: ["050 <list>... aliased to root, daemon", "050 daemon,<root>... Sent"]),
        // the *file* mailer, programs failing (exit 3, not found, EX_NOUSER
        // with output), a deferral; then a second message in the session
        Case(name: "file-programs-deferral", script: """
            EHLO client.example
            VERB
            MAIL From:<root>
            RCPT To:<file>
            RCPT To:<shprog>
            RCPT To:<a@tempfail>
            RCPT To:<badprog>
            RCPT To:<readfail>
            DATA
            Subject: one

            hello
            .
            MAIL From:<bin>
            RCPT To:<root>
            DATA
            Subject: two

            hi
            .
            QUIT

            """, expects: ["/box/mbox... Sent", "050 <a@tempfail>... Deferred: fail mailer",
                           "050 \"|exit 3\"... Connecting to prog..."]),
        // HELO, VERB with an argument, EXPN's notice, RSET: still verbose
        Case(name: "helo-expn-rset", script: """
            HELO client.example
            VERB on
            MAIL From:<root>
            RCPT To:<root>
            EXPN list
            RSET
            MAIL From:<root>
            RCPT To:<pipe>
            DATA
            Subject: after rset

            x
            .
            QUIT

            """, expects: ["050 list... aliased to root, daemon", "050 \"|"]),
        // VERB after a recipient was only verified (-odq): the 250 at once,
        // the delivery in the background, nothing shown
        Case(name: "verb-after-rcpt-double-queue", script: """
            EHLO client.example
            MAIL From:<root>
            RCPT To:<pipe>
            VERB
            RCPT To:<list>
            DATA
            Subject: verb after rcpt

            hello
            .
            QUIT

            """, arguments: ["-odq"], expects: ["050 <list>... aliased to root, daemon\n<<< 250 2.1.5"], background: true),
        // -X: the 050 lines in the traffic log as written to the client
        Case(name: "traffic-log", script: """
            EHLO client.example
            VERB
            MAIL From:<root>
            RCPT To:<root>
            RCPT To:<pipe>
            DATA
            Subject: logged

            hello
            .
            QUIT

            """, arguments: ["-X", "@SCRATCH@/home/traffic.log"], expects: ["050 <root>... Sent"]),
        // PrivacyOptions: noverb and noexpn refuse VERB (queued only)
        Case(name: "noverb", script: localScript, arguments: ["-odq", "-OPrivacyOptions=noverb"],
             expects: ["502 5.7.0 Verbose unavailable"]),
        Case(name: "noexpn", script: localScript, arguments: ["-odq", "-OPrivacyOptions=noexpn"],
             expects: ["502 5.7.0 Verbose unavailable"]),
    ]

    /// What one binary's run left: transcript, syslog lines, files.
    struct Outcome {
        var transcript: String
        var log: [String]
        var snapshot: DeliverTests.Snapshot
        var sink = ""
    }

    func requirePrerequisites() throws {
        guard getuid() == 0 else { throw HarnessError("VerbTests need root (mailers run as mail:mail, namespaces)") }
        guard FileManager.default.isExecutableFile(atPath: SMTPSessionTests.python) else {
            throw HarnessError("\(SMTPSessionTests.python) is missing: the SMTP driver needs it (apt-get install python3)")
        }
    }

    /// Runs `script` with each binary: `options` (the mode and launcher
    /// set by the caller), fresh directories, syslog collected.
    func runBoth(_ name: String, cf: String, dir: URL, script: String, options base: SandboxOptions,
                 background: Bool = false, sinkLog: String? = nil) throws -> (real: Outcome, ours: Outcome) {
        LogTests.ensureDevLog()
        let d = dir.path
        var outcomes: [Outcome] = []
        for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try SubmitDeliveryTests.freshDirectories(d)
            if let s = sinkLog { try DeliverTests.shell("rm -f '\(s)'*") }
            let collector = try DatagramCollector(path: dir.appendingPathComponent("log-\(tag).sock").path)
            collector.startDraining()
            var options = base
            options.rootHome = d + "/home"
            options.devLog = collector.path
            let r = try Sandbox.run(binary: binary, cf: cf, input: Array(script.utf8), options: options,
                                    runDir: Workspace.shared.runs, tag: "verb-\(name).\(tag)")
            if background {
                #expect(SubmitDeliveryTests.waitForBackground(d), "\(name) \(tag): the background delivery did not finish")
            }
            var snapshot = try SubmitDeliveryTests.collect(dir, r)
            for (k, v) in snapshot.files where k.hasSuffix("traffic.log") {
                // (each line starts with the pid; the From_ line's date)
                snapshot.files[k] = v.replacingOccurrences(of: #"(?m)^[0-9]{5,} "#, with: "PID ", options: .regularExpression)
                    .replacingOccurrences(of: #"[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [0-9]{4}"#, with: "<ctime>",
                                          options: .regularExpression)
            }
            let sink = sinkLog.map { (try? String(contentsOfFile: $0, encoding: .isoLatin1)) ?? "(no sink log)" } ?? ""
            outcomes.append(Outcome(transcript: SMTPSessionTests().normalised(String(decoding: r.stdout, as: UTF8.self)),
                                    log: LogTests.normaliseIDs(collector.drain()),
                                    snapshot: snapshot,
                                    sink: OutboundTests.normalise(DeliverTests.normalise("sink", sink, bounce: true))))
        }
        return (outcomes[0], outcomes[1])
    }

    /// The log lines as compared: with `doubleQueue`, the to= lines
    /// of the background delivery reduced to to=, mailer=, dsn=, stat=.
    static func comparable(_ lines: [String], doubleQueue: Bool = false) -> [String] {
        lines.map { line in
            var s = line
            if doubleQueue, s.contains(": to=") {
                s = s.replacingOccurrences(of: #", (ctladdr|pri)=[^,]*"#, with: "", options: .regularExpression)
            }
            return s
        }
    }

    func expectSame(_ c: Case, _ real: Outcome, _ ours: Outcome, sink: Bool = false) {
        #expect(ours.transcript == real.transcript, "\(c.name): transcripts differ\n--- ours\n\(ours.transcript)\n--- real\n\(real.transcript)")
        let rl = Self.comparable(real.log, doubleQueue: c.background), ol = Self.comparable(ours.log, doubleQueue: c.background)
        #expect(ol == rl, "\(c.name): syslog lines differ\n--- ours\n\(ol.joined(separator: "\n"))\n--- real\n\(rl.joined(separator: "\n"))")
        ours.snapshot.expectSame(as: real.snapshot, c.name, stdout: false)
        if sink { #expect(ours.sink == real.sink, "\(c.name): what the next hops received differs\n--- ours\n\(ours.sink)\n--- real\n\(real.sink)") }
        for text in c.expects {
            #expect(real.transcript.contains(text), "\(c.name): the oracle's transcript does not show \"\(text)\":\n\(real.transcript)")
        }
    }

    @Test("-bs: VERB's 050 lines and interactive delivery", arguments: VerbTests.cases)
    func session(_ c: Case) throws {
        try requirePrerequisites()
        let (cf, dir) = try SubmitDeliveryTests.prepareSMTP("verb-\(c.name)")
        var options = SandboxOptions()
        options.modeFlag = "-bs"
        options.launcher = [SMTPSessionTests.python, SMTPSessionTests.driver]
        // (the oracle would offer its SASL mechanisms; we offer none)
        options.extraArguments = c.arguments.map { $0.replacingOccurrences(of: "@SCRATCH@", with: dir.path) }
            + ["-OAuthMechanisms=EXTERNAL", "-OLogLevel=9"]
        let (real, ours) = try runBoth(c.name, cf: cf, dir: dir, script: c.script, options: options, background: c.background)
        expectSame(c, real, ours)
        if c.arguments.contains("-X") {
            let log = real.snapshot.files["home/traffic.log"] ?? ""
            #expect(log.contains(">>> 050 <root>... Connecting to local..."), "\(c.name): the oracle's traffic log:\n\(log)")
        }
        // (the cases that deliver did run a mailer)
        #expect(real.snapshot.files.keys.contains { $0.hasPrefix("out/") } == !c.name.hasPrefix("no"),
                "\(c.name): the oracle's mailer calls: \(real.snapshot.files.keys.sorted())")
    }

    static let relayScript = """
        EHLO client.example
        VERB
        MAIL From:<root>
        RCPT To:<a@[127.0.0.2]>
        RCPT To:<r5x@[127.0.0.2]>
        RCPT To:<t4y@[127.0.0.2]>
        RCPT To:<b@[127.0.0.3]>
        RCPT To:<c@[127.0.0.5]>
        RCPT To:<root>
        DATA
        Subject: relayed

        hello
        .
        MAIL From:<root>
        RCPT To:<d@[127.0.0.2]>
        DATA
        Subject: again

        hello again
        .
        QUIT

        """

    static let relayExpects = [
        "050 <t4y@[127.0.0.2]>,<r5x@[127.0.0.2]>,<a@[127.0.0.2]>... Connecting to [127.0.0.2] via esmtp...",
        "050 >>> MAIL From:<root@vm.example.test> SIZE=", "050 250 2.1.0 Sender ok",
        "050 <t4y@[127.0.0.2]>... Deferred: 451 4.2.0", "050 >>> HELO vm.example.test",
        "050 <c@[127.0.0.5]>... Deferred: Connection refused by [127.0.0.5]",
        "050 <d@[127.0.0.2]>... Using cached ESMTP connection to [127.0.0.2] via esmtp...",
    ]

    /// The m4-built deliver configuration (MAILER(smtp)) with aliases built.
    func prepareRelay(_ name: String) throws -> (cf: String, dir: URL) {
        let (cf, d) = try DeliverTests.prepareScratch(name, fromM4: true)
        var options = SandboxOptions()
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options,
                            runDir: Workspace.shared.runs, tag: "\(name).newaliases")
        return (cf, URL(fileURLWithPath: d))
    }

    @Test("-bs: VERB relaying over SMTP shows the next hops' dialogue; the session keeps its connections")
    func relay() throws {
        try requirePrerequisites()
        let c = Case(name: "relay", script: Self.relayScript, expects: Self.relayExpects)
        let (cf, dir) = try prepareRelay("verb-relay")
        let sinkLog = dir.path + "/sink.log"
        var options = SandboxOptions()
        options.modeFlag = "-bs"
        options.privateNetwork = true
        options.launcher = ["/usr/bin/python3", OracleEnvironment.fixture("outbound/sink.py"), sinkLog,
                            SMTPSessionTests.python, SMTPSessionTests.driver]
        options.extraArguments = ["-OAuthMechanisms=EXTERNAL", "-OLogLevel=9"]
        let (real, ours) = try runBoth(c.name, cf: cf, dir: dir, script: c.script, options: options, sinkLog: sinkLog)
        expectSame(c, real, ours, sink: true)
        #expect(real.sink.contains("== connect 127.0.0.3"), "no next hop reached by the oracle:\n\(real.sink)")
    }

    /// `-bD` on 127.0.0.1:2525 under the daemon harness, one session.
    func daemonOptions(_ dir: URL, launcher: [String] = []) -> SandboxOptions {
        var options = SandboxOptions()
        options.modeFlag = "-bD"
        options.privateNetwork = true
        options.timeoutSeconds = 120
        options.launcher = launcher + [DaemonTests.python, DaemonTests.harness, "2525"]
        options.extraArguments = ["-ODaemonPortOptions=Port=2525,Addr=127.0.0.1,Name=MTA", "-OPidFile=\(dir.path)/daemon.pid",
                                  "-OAuthMechanisms=EXTERNAL", "-OLogLevel=9"]
        return options
    }

    @Test("-bD: a VERB session delivers in the session, its 050 lines before the 250")
    func daemon() throws {
        try requirePrerequisites()
        let c = Case(name: "daemon", script: "#CONNECT 2525 127.0.0.1 40001\n" + Self.localScript,
                     expects: ["050 <pipe>... aliased to", "050 daemon,<root>... Connecting to local...",
                               "050 <root>... Sent\n<<< 250 2.0.0"])
        let (cf, dir) = try SubmitDeliveryTests.prepareSMTP("verb-daemon")
        let (real, ours) = try runBoth(c.name, cf: cf, dir: dir, script: c.script, options: daemonOptions(dir))
        expectSame(c, real, ours)
        #expect(real.log.contains { $0.contains("starting daemon") }, "the oracle's daemon logged nothing: \(real.log)")
    }

    @Test("-bD: a VERB session relaying over SMTP, pipelined commands answered after the delivery")
    func daemonRelay() throws {
        try requirePrerequisites()
        // (the second transaction pipelined: its replies follow the first's
        // 050 lines and 250; a remote client's sender needs a domain)
        let script = "#CONNECT 2525 127.0.0.1 40002\n" + Self.relayScript.replacingOccurrences(
            of: "MAIL From:<root>\nRCPT To:<d@[127.0.0.2]>\nDATA\n", with: "#PIPE 3\nMAIL From:<root>\nRCPT To:<d@[127.0.0.2]>\nDATA\n")
            .replacingOccurrences(of: "MAIL From:<root>", with: "MAIL From:<root@vm.example.test>")
            // (time for the session's end to QUIT its next hops before the daemon stops)
            + "#SLEEP 1\n"
        let c = Case(name: "daemon-relay", script: script, expects: Self.relayExpects)
        let (cf, dir) = try prepareRelay("verb-daemon-relay")
        let sinkLog = dir.path + "/sink.log"
        let options = daemonOptions(dir, launcher: ["/usr/bin/python3", OracleEnvironment.fixture("outbound/sink.py"), sinkLog])
        let (real, ours) = try runBoth(c.name, cf: cf, dir: dir, script: c.script, options: options, sinkLog: sinkLog)
        expectSame(c, real, ours, sink: true)
        #expect(real.sink.contains("== connect 127.0.0.3"), "no next hop reached by the oracle:\n\(real.sink)")
    }

    // Without VERB, DeliveryMode i delivers in the session too, before
    // DATA's 250 (sendmail's smtp() calls sendall() first); with it: VRFY's
    // 252 for the deliver cf's local mailer (no F=q) and no full name for an
    // alias (the password entry of the user "list" is not looked up), $f
    // through ruleset 3 (`root`, not MAIL's `<root>`, in local2's argv), the
    // ctladdr= of a *file* delivery as RCPT gave it (`<file>`), and in the -X
    // log the file mailer's lines and the bounce's body as written to its df.
    static let interactiveScript = """
        EHLO client.example
        VRFY list
        VRFY root
        VRFY <file>
        VRFY x@local2
        MAIL From:<root>
        RCPT To:<root>
        RCPT To:<pipe>
        RCPT To:<x@local2>
        RCPT To:<file>
        RCPT To:<c@nouser>
        DATA
        Subject: interactive

        hello
        .
        MAIL From:<bin>
        RCPT To:<list>
        DATA
        Subject: second

        hi
        .
        QUIT

        """

    @Test("-odi without VERB: delivered in the session before DATA's 250; VRFY, $f, ctladdr=, -X as sendmail's",
          arguments: ["-bs", "-bD"])
    func interactiveWithoutVerb(_ mode: String) throws {
        try requirePrerequisites()
        let name = "odi\(mode)"
        let (cf, dir) = try SubmitDeliveryTests.prepareSMTP("verb-\(name)")
        var options: SandboxOptions
        var script = Self.interactiveScript
        if mode == "-bD" {
            options = daemonOptions(dir)
            script = "#CONNECT 2525 127.0.0.1 40003\n" + script
            options.extraArguments += ["-odi"]
        } else {
            options = SandboxOptions()
            options.modeFlag = "-bs"
            options.launcher = [SMTPSessionTests.python, SMTPSessionTests.driver]
            options.extraArguments = ["-odi", "-X", dir.path + "/home/traffic.log", "-OAuthMechanisms=EXTERNAL", "-OLogLevel=9"]
        }
        let c = Case(name: name, script: script, expects: ["252 2.1.5 <list@vm.example.test>", "252 2.1.5 root <root@vm.example.test>"])
        let (real, ours) = try runBoth(name, cf: cf, dir: dir, script: script, options: options)
        expectSame(c, real, ours)
        let log = real.log.joined(separator: "\n")
        #expect(log.contains("mailer=*file*") && log.contains("ctladdr=<file> (8/0)"), "\(name): the oracle's log:\n\(log)")
        // (the first message's deliveries, its bounce's included, are logged
        // before the second message is received)
        let second = real.log.firstIndex { $0.contains("from=<bin") } ?? 0
        #expect(real.log.lastIndex { $0.contains("stat=User unknown") }.map { $0 < second } == true,
                "\(name): the oracle delivered after the session went on:\n\(log)")
        let argv = real.snapshot.files.filter { $0.key.hasSuffix(".info") && $0.value.contains("[-x]") }.map(\.value)
        #expect(argv.count == 1 && argv[0].contains("[-x]\n[root]\n[x]"), "\(name): the oracle's local2 call: \(argv)")
        if mode == "-bs" {
            let traffic = real.snapshot.files["home/traffic.log"] ?? ""
            let exec = traffic.range(of: "=== EXEC dump-mailer.sh -f root root"), accepted = traffic.range(of: ">>> 250 2.0.0")
            #expect(exec != nil && accepted != nil && exec!.lowerBound < accepted!.lowerBound,
                    "\(name): the oracle's traffic log does not deliver before the 250:\n\(traffic)")
            #expect(traffic.contains(">>> This is a MIME-encapsulated message") && traffic.contains(">>> X-Local: /"),
                    "\(name): the oracle's traffic log lacks the bounce's body or the file's lines:\n\(traffic)")
        }
    }
}
