// QueueExpandTests.swift — a queue run expands what an SMTP session queued.
//
// An SMTP session in queue-only mode (`sendmail -bs -odq`) writes RCPT
// addresses into the qf as given (`RPFD:<postmaster>`); sendmail's queue
// run hands each `R` line to recipient() again (readqf), so aliases,
// .forward files and the password file are applied then.  Each case lets
// one side (the oracle, then ours) queue a message through a paced SMTP
// dialogue (smtp-driver.py) with the m4-built deliver configuration, then
// runs the REAL sendmail's queue run and ours on copies of that queue and
// compares as DeliverTests does (stdout, stderr, exit status, every mailer
// call, the files appended to, the queue afterwards: a rewritten qf holds
// the expanded recipients).  Fails (never skips) when a prerequisite is
// missing.

import Foundation
import Testing

@Suite("Queue runs: recipients queued by -bs -odq expanded as sendmail's")
struct QueueExpandTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var sender = "bin"
        var recipients: [String]
        var runArguments = ["-v"]
        /// newaliases first (else sendmail reads the text file, with a warning).
        var aliasDatabase = true
        /// root's ~/.forward (the sandbox's /root).
        var forward: String? = nil
        /// Whether the oracle's run must deliver a bounce.
        var bounce = false
        /// Texts the oracle's stdout must contain (the case does what it says).
        var expects: [String] = []
        /// Queued by a command-line submission (`-odq`, already expanded)
        /// instead of the SMTP session.
        var commandLine = false
        /// A replacement in the queued qf before the runs (an R line
        /// sendmail's SMTP server would not have accepted).
        var edit: (String, String)? = nil
        var description: String { name }
    }

    static let extraAliases = """
        ghost: nosuchuser
        mixed: root, nosuchuser2, "|cat > /dev/null; exit 75"
        twice: daemon, root

        """

    static let cases: [Case] = [
        // the issue's case: no alias database, the text file is read
        Case(name: "qexpand-postmaster-text-aliases", recipients: ["postmaster"], aliasDatabase: false,
             expects: ["reading text version", "aliased to root"]),
        Case(name: "qexpand-list-pipe-file", recipients: ["postmaster", "list", "pipe", "file", "root"],
             expects: ["<list>... aliased to root, daemon"]),
        // duplicates after expansion, none printed for a one-address alias
        Case(name: "qexpand-duplicates", recipients: ["twice", "list", "daemon", "postmaster"],
             expects: ["aliased to daemon, root"]),
        // unknown users behind aliases bounce; a deferred program stays
        // queued with its controlling user (the alias)
        Case(name: "qexpand-unknown-and-deferred", sender: "daemon", recipients: ["ghost", "deferprog", "mixed"],
             bounce: true, expects: ["nosuchuser... User unknown", "Deferred"]),
        Case(name: "qexpand-forward", sender: "daemon", recipients: ["root", "bin"], forward: "\\root, daemon\n",
             expects: ["forwarding to \\root, daemon"]),
        Case(name: "qexpand-forward-bounce-local-sender", recipients: ["ghost", "deferprog", "root", "mixed"],
             forward: "\\root, daemon\n", bounce: true, expects: ["nosuchuser2... User unknown"]),
        // a qf written at submission is already expanded: the run changes
        // nothing but what it delivers (the C lines stay)
        Case(name: "qexpand-submitted-unchanged", recipients: ["list", "deferprog", "pipe", "file"],
             expects: ["Deferred"], commandLine: true),
        // R lines sendmail's SMTP server would refuse: an unknown user and a
        // program without a controlling user
        Case(name: "qexpand-edited-unknown", sender: "daemon", recipients: ["postmaster", "list"],
             bounce: true, expects: ["User unknown"], edit: ("RPFD:<postmaster>", "RPFD:<nosuchuser3>")),
        Case(name: "qexpand-edited-program", sender: "daemon", recipients: ["postmaster", "list"],
             bounce: true, expects: ["Cannot mail directly to programs"],
             edit: ("RPFD:<postmaster>", "RPFD:\"|/bin/cat > /dev/null\"")),
        // NOTIFY=SUCCESS on a list queued unexpanded: the run's receipt
        Case(name: "qexpand-list-receipt", sender: "daemon", recipients: ["postmaster", "list"],
             expects: ["<list>... aliased to root, daemon"], edit: ("RPFD:<list>", "RPNS:<list>")),
        // a local name the password file matches only by its case: the
        // mailer gets the login name, as recipient() set it (the delivery
        // uses the expansion's parse, not the qf line parsed again)
        Case(name: "qexpand-fuzzy-case", sender: "bin", recipients: ["Daemon"], expects: ["<Daemon>... Sent"]),
        // a quiet run (-qf, no -v): nothing printed, the same bounce
        Case(name: "qexpand-quiet-run", sender: "daemon", recipients: ["ghost", "list"], runArguments: ["-qf"],
             bounce: true),
    ]

    @Test("-bs -odq queue, then -q of each side", arguments: QueueExpandTests.cases)
    func expandedRun(_ c: Case) throws {
        guard getuid() == 0 else { throw HarnessError("QueueExpandTests need root (mailers run as DefaultUser)") }
        let python = SMTPSessionTests.python
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw HarnessError("\(python) is missing: the SMTP driver needs it")
        }
        for queuer in ["oracle", "ours"] {
            let name = c.name + "-" + queuer
            let (cf, d, queued) = try Self.queue(c, by: queuer, name: name)
            let dir = URL(fileURLWithPath: d)
            let runs = Workspace.shared.runs
            var options = queued
            try DeliverTests.shell("rm -rf '\(d)/q.start' && cp -a '\(d)/q' '\(d)/q.start'")

            options.launcher = []
            options.modeFlag = "-q"
            options.extraArguments = c.runArguments
            var snapshots: [DeliverTests.Snapshot] = []
            for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
                try DeliverTests.shell("rm -rf '\(d)/q' '\(d)/out'/* '\(d)/box'/* && cp -a '\(d)/q.start' '\(d)/q'"
                                       + " && rm -f '\(d)/roothome/dead.letter'")
                let r = try Sandbox.run(binary: binary, cf: cf, input: [], options: options, runDir: runs,
                                        tag: "\(name).\(tag)")
                let known = Set(((try? FileManager.default.subpathsOfDirectory(atPath: d + "/q.start")) ?? [])
                    .map { String(($0 as NSString).lastPathComponent.dropFirst(2)) })
                snapshots.append(try DeliverTests.collect(dir, r, bounce: true, knownIDs: known))
            }
            let (real, ours) = (snapshots[0], snapshots[1])
            ours.expectSame(as: real, name)
            // the case does what it says
            let bounced = real.files.contains { $0.key.hasPrefix("out/") && $0.value.contains("Returned mail: see transcript") }
            #expect(bounced == c.bounce, "\(name): the oracle \(bounced ? "sent" : "did not send") a bounce: \(real.stdout)")
            for text in c.expects {
                #expect(real.stdout.contains(text), "\(name): the oracle did not print \"\(text)\": \(real.stdout)")
            }
            #expect(real.files.keys.contains { $0.hasPrefix("out/") }, "\(name): the oracle ran no mailer")
        }
    }

    /// The syslog lines of both runs (LogLevel 9): the deliveries of what
    /// the run expanded, the bounce of what failed in the expansion.
    static let logCases: [Case] = [
        Case(name: "qexpand-log", recipients: ["ghost", "deferprog", "list", "pipe", "file"]),
        // a refused program: no reply= in its line
        Case(name: "qexpand-log-program", sender: "daemon", recipients: ["postmaster", "list"],
             edit: ("RPFD:<postmaster>", "RPFD:\"|/bin/cat > /dev/null\"")),
    ]

    @Test("-bs -odq queue, then the syslog lines of each side's -qf", arguments: QueueExpandTests.logCases)
    func logLines(_ c: Case) throws {
        guard getuid() == 0 else { throw HarnessError("QueueExpandTests need root (mailers run as DefaultUser)") }
        LogTests.ensureDevLog()
        let (cf, d, queued) = try Self.queue(c, by: "oracle", name: c.name)
        try DeliverTests.shell("rm -rf '\(d)/q.start' && cp -a '\(d)/q' '\(d)/q.start'")
        var options = queued
        options.launcher = []
        options.modeFlag = "-qf"
        options.extraArguments = ["-OLogLevel=9"]
        var lines: [String: [String]] = [:]
        for (who, binary) in [("real", OracleEnvironment.oraclePath), ("ours", try OracleEnvironment.binaryUnderTest())] {
            try DeliverTests.shell("rm -rf '\(d)/q' '\(d)/out'/* '\(d)/box'/* && cp -a '\(d)/q.start' '\(d)/q'")
            let collector = try DatagramCollector(path: d + "/log-\(who).sock")
            options.devLog = collector.path
            _ = try Sandbox.run(binary: binary, cf: cf, input: [], options: options, runDir: Workspace.shared.runs,
                                tag: "\(c.name).\(who)")
            lines[who] = LogTests.normaliseIDs(collector.drain())
        }
        let real = lines["real"] ?? [], ours = lines["ours"] ?? []
        #expect(real.contains { $0.contains("to=daemon,root") || $0.contains("to=root,daemon") },
                "the real sendmail logged no delivery to the list: \(real)")
        #expect(ours == real)
    }

    /// A fresh scratch directory (DeliverTests' m4-built configuration,
    /// the extra aliases, root's home) with the case's message queued by
    /// `queuer`'s binary (the SMTP session, or the command line) and the qf
    /// edited as the case says; the sandbox options for the runs.
    static func queue(_ c: Case, by queuer: String, name: String) throws -> (cf: String, d: String, options: SandboxOptions) {
        let python = SMTPSessionTests.python, driver = SMTPSessionTests.driver
        let (cf, d) = try DeliverTests.prepareScratch(name, fromM4: true)
        try (String(contentsOfFile: d + "/aliases", encoding: .utf8) + Self.extraAliases)
            .write(toFile: d + "/aliases", atomically: false, encoding: .utf8)
        try DeliverTests.shell("rm -rf '\(d)/roothome' '\(d)/aliases.db' && mkdir -m 755 '\(d)/roothome'")
        if let f = c.forward {
            try f.write(toFile: d + "/roothome/.forward", atomically: false, encoding: .utf8)
            chmod(d + "/roothome/.forward", 0o644)
        }
        let runs = Workspace.shared.runs
        var options = SandboxOptions()
        options.rootHome = d + "/roothome"
        if c.aliasDatabase {
            options.modeFlag = "-bi"
            _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options,
                        runDir: runs, tag: "\(name).newaliases")
        }
        // the SMTP session, one command at a time
        var script = "HELO client.example\nMAIL FROM:<\(c.sender)>\n"
        for r in c.recipients { script += "RCPT TO:<\(r)>\n" }
        script += "DATA\nSubject: queued by SMTP\nFrom: \(c.sender)\n\nhello\n.\nQUIT\n"
        options.modeFlag = "-bs"
        options.extraArguments = ["-odq"]
        options.launcher = [python, driver]
        let queuerBinary = queuer == "oracle" ? OracleEnvironment.oraclePath : try OracleEnvironment.binaryUnderTest()
        if c.commandLine {
            options.modeFlag = "-odq"
            options.extraArguments = ["-oi", "-f", c.sender] + c.recipients
            options.launcher = []
            let s = try Sandbox.run(binary: queuerBinary, cf: cf, input: Array("Subject: queued\n\nhello\n".utf8),
                            options: options, runDir: runs, tag: "\(name).submit")
            #expect(s.status == 0, "\(name): not queued: \(String(decoding: s.stdout + s.stderr, as: UTF8.self))")
        } else {
            let s = try Sandbox.run(binary: queuerBinary, cf: cf, input: Array(script.utf8), options: options,
                            runDir: runs, tag: "\(name).session")
            let dialogue = String(decoding: s.stdout, as: UTF8.self)
            #expect(dialogue.contains("Message accepted for delivery"), "\(name): not queued:\n\(dialogue)")
        }
        let queued = try FileManager.default.contentsOfDirectory(atPath: d + "/q").filter { $0.hasPrefix("qf") }
        #expect(queued.count == 1, "\(name): queue after the session: \(queued)")
        if let q = queued.first {
            var text = try String(contentsOfFile: d + "/q/" + q, encoding: .isoLatin1)
            if c.commandLine {
                #expect(text.contains("\nC"), "\(name): the qf has no expanded R line:\n\(text)")
            } else {
                #expect(text.contains("RPFD:<\(c.recipients[0])>"), "\(name): the qf has no unexpanded R line:\n\(text)")
            }
            if let (from, to) = c.edit {
                #expect(text.contains(from), "\(name): no \(from) in the qf")
                text = text.replacingOccurrences(of: from, with: to)
                try text.write(toFile: d + "/q/" + q, atomically: false, encoding: .isoLatin1)
            }
        }
        return (cf, d, options)
    }
}
