// OwnerTests.swift — owner- aliases against the real sendmail.
//
// A list alias X with an `owner-X` alias: sendmail's sendall() moves the
// addresses X expanded to into an envelope of their own (a clone: its own
// queue ID and qf, the owner as envelope sender, errors mailed to the
// owner, "clone: owner=" in the log), at submission (-odi, -odb, -odq,
// -v, ErrorMode=q) and in a queue run that expands a list an SMTP session
// queued unexpanded.  Each case runs the real sendmail and ours on the
// deliver fixture (DeliverTests' deliver.cf, its dump-mailer.sh) with the
// aliases below added, and compares stdout, stderr, exit status, every
// mailer call (argv with -f, ids, stdin: From_ line, Return-Path:, the
// bounce to the owner), the files appended to, ~/dead.letter, every qf
// left (their contents, whatever their IDs) and the syslog lines (IDs
// numbered in order of appearance; a bounce's pri= left out, a known
// difference).  Fails (never skips) when a prerequisite is missing.

import Foundation
import Testing

@Suite("owner- aliases: split envelopes as sendmail's")
struct OwnerTests {
    static let aliases = """
        mlist: root, daemon, c@nouser
        owner-mlist: bin
        olist: root, x@local2
        owner-olist: "|/bin/true"
        plain2: daemon, nosuchuser
        two: mlist, olist, c@nouser
        req-request: root, nosuchuser
        owner-req-request: daemon
        owner-owner: mail
        tlist: a@tempfail, root
        owner-tlist: daemon

        """

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var arguments: [String]
        var background = false
        /// The oracle must log a clone (false: the owner is the sender).
        var splits = true
        var description: String { name }
    }

    static let message = Array("Subject: t\nFrom: Joe <joe@x.example>\n\nhello\n".utf8)

    static let submissionCases: [Case] = [
        // all of the list's addresses (the command line's daemon merged in) go to bin
        Case(name: "odi-list", arguments: ["-odi", "-f", "root", "mlist", "daemon"]),
        // two owners, a list without one, a failing address of the original
        Case(name: "odi-mixed", arguments: ["-odi", "-f", "root", "olist", "plain2", "mlist", "x@nohost"]),
        Case(name: "odq-mixed", arguments: ["-odq", "-f", "root", "olist", "plain2", "mlist", "x@nohost"]),
        Case(name: "odb-lists", arguments: ["-odb", "-f", "root", "mlist", "root", "olist"], background: true),
        Case(name: "verbose", arguments: ["-v", "-f", "root", "mlist", "daemon"]),
        // ErrorMode=q: the owner is mailed all the same
        Case(name: "errormode-q", arguments: ["-odi", "-oeq", "-f", "root", "mlist"]),
        // the owner is the sender: no split
        Case(name: "owner-is-sender", arguments: ["-odi", "-f", "bin", "mlist"], splits: false),
        // an owner- alias's own owner is owner-owner
        Case(name: "owner-owner", arguments: ["-odi", "-f", "root", "owner-mlist"]),
        // X-request has owner-X-request; its unknown member is returned to it
        Case(name: "request", arguments: ["-odi", "-f", "root", "req-request"]),
        // a remote sender: the original's failures go back to it, the
        // list's to the owner; nested lists
        Case(name: "remote-sender", arguments: ["-odi", "-f", "s@okhost", "two", "x@nohost"]),
        // a deferred address of a list: its clone stays queued
        Case(name: "odi-deferred", arguments: ["-odi", "-f", "root", "tlist", "bin"]),
        // NOTIFY= (-N): the clone drops SUCCESS only; FAILURE reaches the owner
        Case(name: "odq-notify", arguments: ["-odq", "-N", "failure,delay,success", "-f", "s@okhost", "mlist", "x@nohost"]),
        Case(name: "odi-notify-success", arguments: ["-odi", "-N", "success", "-f", "s@okhost", "mlist", "x@nohost"]),
        Case(name: "odi-notify-failure", arguments: ["-odi", "-N", "failure", "-f", "s@okhost", "mlist", "x@nohost"]),
    ]

    /// deliver.cf (and a copy with a ruleset 3 for SMTP's <...>) in a
    /// scratch directory with the aliases above, the database built.
    static func prepare(_ name: String) throws -> (cf: String, smtpCf: String, dir: String) {
        guard getuid() == 0 else { throw HarnessError("OwnerTests need root (mailers run as their users)") }
        let (cf, d) = try DeliverTests.prepareScratch(name)
        try (String(contentsOfFile: d + "/aliases", encoding: .utf8) + Self.aliases)
            .write(toFile: d + "/aliases", atomically: false, encoding: .utf8)
        let smtpCf = d + "/smtp-deliver.cf"
        try (String(contentsOfFile: cf, encoding: .isoLatin1) + "S3\nR$* < $+ > $*\t$2\n")
            .write(toFile: smtpCf, atomically: true, encoding: .isoLatin1)
        var options = SandboxOptions()
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options,
                            runDir: Workspace.shared.runs, tag: "\(name).newaliases")
        return (cf, smtpCf, d)
    }

    /// What a run left, compared whole: SubmitDeliveryTests' snapshot,
    /// with the queue files compared by content (their IDs are new).
    struct Result: Equatable {
        var snapshot: DeliverTests.Snapshot
        var queued: [String]
        var log: [String]
    }

    static func result(_ d: String, _ r: RunResult, log: [String]) throws -> Result {
        var s = try SubmitDeliveryTests.collect(URL(fileURLWithPath: d), r)
        s.files = s.files.filter { !$0.key.hasPrefix("q/") }
        var queued: [String] = []
        let q = d + "/q"
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: q)) ?? []) where name.hasPrefix("qf") {
            let text = try String(contentsOfFile: q + "/" + name, encoding: .isoLatin1)
            queued.append(DeliverTests.normalise("q/qf", text, bounce: true)
                .replacingOccurrences(of: #"(?m)^T[0-9]+$"#, with: "T<time>", options: .regularExpression)
                .replacingOccurrences(of: #"(?m)^P[0-9]+$"#, with: "P<priority>", options: .regularExpression))
        }
        let dfs = ((try? FileManager.default.contentsOfDirectory(atPath: q)) ?? []).filter { $0.hasPrefix("df") }.count
        queued.append("df files: \(dfs)")
        return Result(snapshot: s, queued: queued.sorted(), log: log)
    }

    static func compare(_ real: Result, _ ours: Result, _ name: String) {
        #expect(ours.snapshot.stdout == real.snapshot.stdout, "\(name): stdout")
        #expect(ours.snapshot.stderr == real.snapshot.stderr, "\(name): stderr")
        #expect(ours.snapshot.status == real.snapshot.status, "\(name): exit status")
        #expect(ours.snapshot.files.keys.sorted() == real.snapshot.files.keys.sorted(), "\(name): files")
        for key in real.snapshot.files.keys.sorted() {
            #expect(ours.snapshot.files[key] == real.snapshot.files[key], "\(name): \(key) differs")
        }
        #expect(ours.queued == real.queued, "\(name): queue")
        #expect(ours.log == real.log, "\(name): syslog lines")
    }

    /// Syslog lines with the bounces' pri= left out.
    static func logLines(_ collector: DatagramCollector) -> [String] {
        LogTests.normaliseIDs(collector.drain()).map {
            $0.replacingOccurrences(of: #", pri=3\d{4},"#, with: ", pri=P,", options: .regularExpression)
        }
    }

    @Test("a command-line submission to lists with owners", arguments: OwnerTests.submissionCases)
    func submission(_ c: Case) throws {
        let (cf, _, d) = try Self.prepare("owner-\(c.name)")
        LogTests.ensureDevLog()
        var options = SandboxOptions()
        options.modeFlag = "-bm"
        options.rootHome = d + "/home"
        options.extraArguments = ["-oi", "-OLogLevel=9"] + c.arguments
        var results: [Result] = []
        for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try SubmitDeliveryTests.freshDirectories(d)
            let collector = try DatagramCollector(path: d + "/log-\(tag).sock")
            collector.startDraining()
            options.devLog = collector.path
            let r = try Sandbox.run(binary: binary, cf: cf, input: Self.message, options: options,
                                    runDir: Workspace.shared.runs, tag: "owner-\(c.name).\(tag)")
            if c.background {
                #expect(SubmitDeliveryTests.waitForBackground(d), "\(tag): the background delivery did not finish")
            }
            results.append(try Self.result(d, r, log: Self.logLines(collector)))
        }
        Self.compare(results[0], results[1], c.name)
        #expect(results[0].log.contains { $0.contains(": clone: owner=") } == c.splits,
                "the oracle's log: \(results[0].log)")
    }

    /// An SMTP session with DeliveryMode i: RCPT expands the lists, the
    /// message is split and delivered before the 250 (errors mailed).
    @Test("an SMTP session (-bs -odi) to lists with owners")
    func session() throws {
        let python = SMTPSessionTests.python
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw HarnessError("\(python) is missing: the SMTP driver needs it")
        }
        let (_, smtpCf, d) = try Self.prepare("owner-session")
        LogTests.ensureDevLog()
        var options = SandboxOptions()
        options.rootHome = d + "/home"
        options.modeFlag = "-bs"
        options.extraArguments = ["-odi", "-OLogLevel=9", "-OAuthMechanisms=EXTERNAL"]
        options.launcher = [python, SMTPSessionTests.driver]
        let script = "HELO client.example\nMAIL FROM:<root>\nRCPT TO:<mlist>\nRCPT TO:<x@nohost>\nRCPT TO:<olist>\n"
            + "DATA\nSubject: over SMTP\n\nhello\n.\nQUIT\n"
        var results: [Result] = []
        for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try SubmitDeliveryTests.freshDirectories(d)
            let collector = try DatagramCollector(path: d + "/log-\(tag).sock")
            collector.startDraining()
            options.devLog = collector.path
            var r = try Sandbox.run(binary: binary, cf: smtpCf, input: Array(script.utf8), options: options,
                                    runDir: Workspace.shared.runs, tag: "owner-session.\(tag)")
            r.stdout = Array(SMTPSessionTests().normalised(String(decoding: r.stdout, as: UTF8.self)).utf8)
            results.append(try Self.result(d, r, log: Self.logLines(collector)))
        }
        Self.compare(results[0], results[1], "session")
        #expect(results[0].log.contains { $0.contains(": clone: owner=bin") }, "the oracle's log: \(results[0].log)")
    }

    /// -bv lists the addresses envelope by envelope: the original's, then
    /// the owners', the last split first.
    @Test("-bv of lists with owners", arguments: [["mlist", "olist", "root"], ["-v", "two", "plain2"]])
    func verify(_ arguments: [String]) throws {
        let name = "owner-bv-" + arguments.joined().filter { $0.isLetter }
        let (cf, _, _) = try Self.prepare(name)
        var options = SandboxOptions()
        options.modeFlag = "-bv"
        options.extraArguments = arguments
        var runs: [RunResult] = []
        for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            runs.append(try Sandbox.run(binary: binary, cf: cf, input: [], options: options, runDir: Workspace.shared.runs,
                                        tag: "\(name).\(tag)"))
        }
        #expect(String(decoding: runs[1].stdout, as: UTF8.self) == String(decoding: runs[0].stdout, as: UTF8.self))
        #expect(runs[1].stderr == runs[0].stderr)
        #expect(runs[1].status == runs[0].status)
        #expect(String(decoding: runs[0].stdout, as: UTF8.self).contains("x@local2... deliverable"), "the oracle's -bv")
    }

    /// Saves the queue in `d`, then runs it (`-q` with `arguments`) with
    /// the oracle and with ours, each from the saved queue and empty
    /// mailboxes, collecting their results and syslog lines.
    static func runQueueBoth(_ d: String, cf: String, options: SandboxOptions, arguments: [String],
                             tag: String) throws -> [Result] {
        try DeliverTests.shell("rm -rf '\(d)/q.start' && cp -a '\(d)/q' '\(d)/q.start'")
        var options = options
        options.modeFlag = "-q"
        options.extraArguments = ["-OLogLevel=9"] + arguments
        var results: [Result] = []
        for (binary, side) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try DeliverTests.shell("rm -rf '\(d)/q' '\(d)/out'/* '\(d)/box'/* '\(d)/home'/* && cp -a '\(d)/q.start' '\(d)/q'")
            let collector = try DatagramCollector(path: d + "/log-\(side).sock")
            collector.startDraining()
            options.devLog = collector.path
            let r = try Sandbox.run(binary: binary, cf: cf, input: [], options: options, runDir: Workspace.shared.runs,
                                    tag: "\(tag).\(side)")
            results.append(try Self.result(d, r, log: Self.logLines(collector)))
        }
        return results
    }

    static let queueRunCases: [(String, [String], [String])] = [
        ("run-lists", ["mlist", "daemon", "olist"], ["-v"]),
        ("run-quiet", ["mlist", "daemon", "olist"], ["-qf"]),
        ("run-deferred", ["tlist", "bin"], ["-v"]),
    ]

    @Test("a queue run expands lists an SMTP session queued and splits them", arguments: OwnerTests.queueRunCases)
    func queueRun(_ name: String, _ recipients: [String], _ runArguments: [String]) throws {
        let python = SMTPSessionTests.python
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw HarnessError("\(python) is missing: the SMTP driver needs it")
        }
        let (_, smtpCf, d) = try Self.prepare("owner-\(name)")
        LogTests.ensureDevLog()
        try SubmitDeliveryTests.freshDirectories(d)
        var options = SandboxOptions()
        options.rootHome = d + "/home"
        options.modeFlag = "-bs"
        options.extraArguments = ["-odq"]
        options.launcher = [python, SMTPSessionTests.driver]
        var script = "HELO client.example\nMAIL FROM:<root>\n"
        for r in recipients { script += "RCPT TO:<\(r)>\n" }
        script += "DATA\nSubject: queued by SMTP\n\nhello\n.\nQUIT\n"
        let s = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: smtpCf, input: Array(script.utf8), options: options,
                                runDir: Workspace.shared.runs, tag: "owner-\(name).queue")
        #expect(String(decoding: s.stdout, as: UTF8.self).contains("Message accepted"), "not queued")
        options.launcher = []
        let results = try Self.runQueueBoth(d, cf: smtpCf, options: options, arguments: runArguments, tag: "owner-\(name)")
        Self.compare(results[0], results[1], name)
        #expect(results[0].log.contains { $0.contains(": clone: owner=") }, "the oracle's log: \(results[0].log)")
    }
}
