// SubmitDeliveryTests.swift — delivery at submission time (DeliveryMode
// i and b, the default, -v; `-bs` with -odi/-odb) against the real
// sendmail.
//
// Each case submits one message with the real sendmail and with ours, in
// turn, on Tests/Fixtures/oracle/deliver/deliver.cf (its mailers record
// every call through dump-mailer.sh), with root's home on a scratch
// directory (~/dead.letter).  What must be identical: stdout, stderr, exit
// status, every mailer call (argv, cwd, ids, environment, stdin), the
// files appended to, ~/dead.letter, and the queue left behind; normalised
// as DeliverTests' bounce cases are (queue IDs, dates, boundary and
// Message-Id times, K/I lines); for -bs also the transcript and the
// syslog lines (as LogTests normalises them).  In background modes the test waits
// (bounded) until the queue entry is unlocked and nothing changes any
// more.  Fails (never skips) when a prerequisite is missing.

import Foundation
import Testing

@Suite("Delivery at submission time: identical to sendmail's")
struct SubmitDeliveryTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        /// Flags and recipients after `-bm -oi`.
        var arguments: [String]
        /// The message returns before delivery ends (DeliveryMode b).
        var background = false
        var message: [UInt8] = SubmitDeliveryTests.message
        /// No mailer runs (the message stays queued, nothing is returned).
        var queueOnly = false
        var description: String { name }
    }

    static let message = Array("Subject: t\nFrom: Joe <joe@x.example>\n\nhello\nFrom me\n".utf8)
    /// No From: header: the cf's default (empty $q) is kept in memory
    /// and bound at delivery, as sendmail does, never written to the qf.
    static let bareMessage = Array("Subject: no from\n\nhello\n".utf8)

    static let tMessage = Array("To: nosuchuser, root\nSubject: t\n\nhello\n".utf8)

    /// The same recipients in each mode: a local user, an alias to a
    /// pipe, a mailer failing with EX_NOUSER (returned to the sender), a
    /// local user unknown at submission (F=w).
    static let modeCases: [Case] = [("i", ["-odi"], false), ("b", ["-odb"], true), ("default", [], true),
                                    ("v", ["-v"], false), ("b-v", ["-odb", "-v"], false)].flatMap { mode, flags, bg in
        [
            Case(name: "\(mode)-local-pipe", arguments: flags + ["-f", "root", "root", "pipe"], background: bg),
            Case(name: "\(mode)-mailer-nouser", arguments: flags + ["-f", "root", "root", "c@nouser", "pipe"], background: bg),
            Case(name: "\(mode)-unknown-local", arguments: flags + ["-f", "root", "nosuchuser", "root"], background: bg),
        ]
    }

    static let cases: [Case] = modeCases + [
        Case(name: "i-errormode-m", arguments: ["-odi", "-oem", "-f", "root", "root", "c@nouser"]),
        Case(name: "i-errormode-q", arguments: ["-odi", "-oeq", "-f", "root", "root", "c@nouser"]),
        // a recipient unknown at submission, mailed back with ErrorMode=m
        // (also in the queue-only mode: the message stays queued)
        Case(name: "i-errormode-m-unknown-local", arguments: ["-odi", "-oem", "-f", "root", "nosuchuser", "root"]),
        Case(name: "q-errormode-m-unknown-local", arguments: ["-odq", "-oem", "-f", "root", "nosuchuser", "root"]),
        // e (BERKnet): mailed back, exit status 0; w: mailed back (no terminal)
        Case(name: "i-errormode-e", arguments: ["-odi", "-oee", "-f", "root", "nosuchuser", "root", "c@nouser"]),
        Case(name: "q-errormode-w-unknown-local", arguments: ["-odq", "-oew", "-f", "root", "nosuchuser", "root"]),
        Case(name: "b-unknown-local-and-mailer", arguments: ["-odb", "-f", "root", "nosuchuser", "c@nouser", "root"],
             background: true),
        // a sender that is no local user: the bounce is mailed to it
        Case(name: "i-remote-sender", arguments: ["-odi", "-f", "s@okhost", "root", "c@nouser", "list", "file"]),
        // NOTIFY=SUCCESS on a list expanded at submission, and on a user
        Case(name: "i-receipt-list", arguments: ["-odi", "-N", "success", "-f", "bin", "list", "root"]),
        // deferred: the qf stays, rewritten (N1, the M line, no I line),
        // with the unbound From:/X-Local: defaults bound by the delivery
        Case(name: "i-deferred", arguments: ["-odi", "-f", "root", "root", "a@tempfail", "x@local2"],
             message: bareMessage),
        Case(name: "b-deferred", arguments: ["-odb", "-f", "root", "root", "a@tempfail"], background: true,
             message: bareMessage),
        Case(name: "i-failing-program", arguments: ["-odi", "-f", "root", "shprog", "root"]),
        Case(name: "q-verbose", arguments: ["-odq", "-v", "-f", "root", "root", "list"]),
        Case(name: "q-only", arguments: ["-odq", "-f", "root", "root", "pipe"], queueOnly: true),
        // queued with a recipient unknown at submission: ~/dead.letter
        // (the cf's empty defaults bound into it and into the qf), or a
        // bounce for a sender that is no local user
        Case(name: "q-unknown-local", arguments: ["-odq", "-f", "root", "nosuchuser", "root"], message: bareMessage,
             queueOnly: true),
        Case(name: "q-unknown-local-remote-sender", arguments: ["-odq", "-f", "s@okhost", "nosuchuser", "root"]),
        // ErrorMode=q: nothing returned, but the defaults are bound with
        // the local sender's name into the qf
        Case(name: "q-errormode-q-unknown-local", arguments: ["-odq", "-oeq", "-f", "bin", "nosuchuser", "root"],
             message: bareMessage, queueOnly: true),
        Case(name: "q-errormode-q-all-unknown", arguments: ["-odq", "-oeq", "-f", "root", "nosuchuser"],
             message: bareMessage, queueOnly: true),
        // -t with a header recipient unknown: the message is only queued,
        // the error mailed back (ErrorMode=p too), in every mode
        Case(name: "i-t-header-error", arguments: ["-odi", "-t", "-f", "root"], message: tMessage),
        Case(name: "b-t-header-error", arguments: ["-odb", "-t", "-f", "root"], background: true, message: tMessage),
        Case(name: "q-t-header-error", arguments: ["-odq", "-t", "-f", "root"], message: tMessage),
        Case(name: "i-t", arguments: ["-odi", "-t", "-f", "root"], message: Array("To: root, pipe\nCc: list\nBcc: x@local2\nSubject: t\n\nhello\n".utf8)),
        // no recipient left: nothing queued, the error returned at once
        Case(name: "i-all-unknown", arguments: ["-odi", "-f", "root", "nosuchuser"], message: bareMessage, queueOnly: true),
        Case(name: "q-all-unknown-remote-sender", arguments: ["-odq", "-f", "s@okhost", "nosuchuser"]),
        // -od with no value: interactive
        Case(name: "option-od-alone", arguments: ["-od", "-f", "root", "root", "c@nouser"]),
        Case(name: "option-deliverymode-i", arguments: ["-ODeliveryMode=interactive", "-f", "root", "root", "c@nouser"]),
    ]

    /// The deliver fixture in a scratch directory of its own, aliases built.
    static func prepare(_ name: String) throws -> (cf: String, dir: URL) {
        guard getuid() == 0 else { throw HarnessError("SubmitDeliveryTests need root (mailers run as mail:mail)") }
        let (cf, dirPath) = try DeliverTests.prepareScratch(name)
        let dir = URL(fileURLWithPath: dirPath)
        var options = SandboxOptions()
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options,
                            runDir: Workspace.shared.runs, tag: "\(name).newaliases")
        return (cf, dir)
    }

    static func shell(_ command: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        try p.run()
        p.waitUntilExit()
        if p.terminationStatus != 0 { throw HarnessError("failed: \(command)") }
    }

    /// Empty q/, out/, box/, home/ below `d`.
    static func freshDirectories(_ d: String) throws {
        try shell("rm -rf '\(d)/q' '\(d)/out' '\(d)/box' '\(d)/home' && mkdir -p '\(d)/q' '\(d)/out' '\(d)/box' '\(d)/home' "
                  + "&& chmod 1777 '\(d)/out' && chown mail:mail '\(d)/box' && chmod 700 '\(d)/q'")
    }

    /// Waits (at most 15 s) until no qf in `d`/q is locked and the files
    /// in q/, out/ and box/ have stayed the same for half a second: a
    /// background delivery has finished.  False on timeout.
    static func waitForBackground(_ d: String) -> Bool {
        let fm = FileManager.default
        func state() -> (String, Bool) {
            var listing: [String] = []
            var locked = false
            for sub in ["q", "out", "box"] {
                for name in ((try? Sandbox.queueEntries(d + "/" + sub)) ?? []).sorted() {
                    let path = d + "/" + sub + "/" + name
                    let size = ((try? fm.attributesOfItem(atPath: path))?[.size] as? Int) ?? -1
                    listing.append("\(sub)/\(name) \(size)")
                    if sub == "q" && name.hasPrefix("qf") {
                        let fd = open(path, O_RDONLY)
                        if fd >= 0 {
                            if flock(fd, LOCK_SH | LOCK_NB) != 0 { locked = true }
                            close(fd)
                        }
                    }
                }
            }
            return (listing.joined(separator: "\n"), locked)
        }
        var last = ""
        var quiet = 0
        for _ in 0..<150 {
            usleep(100_000)
            let (now, locked) = state()
            quiet = (now == last && !locked) ? quiet + 1 : 0
            last = now
            if quiet >= 5 { return true }
        }
        return false
    }

    /// DeliverTests' snapshot (bounce normalisation) of out/, box/, q/ and
    /// home/, with the qf's creation time (the time of the submission) too.
    static func collect(_ dir: URL, _ r: RunResult) throws -> DeliverTests.Snapshot {
        var s = try DeliverTests.collect(dir, r, bounce: true, subdirectories: ["out", "box", "q", "home"])
        for (k, v) in s.files where k.hasPrefix("q/qf") {
            s.files[k] = v.replacingOccurrences(of: #"(?m)^T[0-9]+$"#, with: "T<time>", options: .regularExpression)
        }
        return s
    }

    /// Runs the oracle, then ours, each on fresh directories, and returns
    /// both snapshots; `background`: waits for the detached delivery first.
    static func snapshotsOfBoth(cf: String, dir: URL, input: [UInt8], options: SandboxOptions, tag: String,
                                background: Bool = false) throws -> (real: DeliverTests.Snapshot, ours: DeliverTests.Snapshot) {
        var snapshots: [DeliverTests.Snapshot] = []
        for (binary, who) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try freshDirectories(dir.path)
            let r = try Sandbox.run(binary: binary, cf: cf, input: input, options: options,
                                    runDir: Workspace.shared.runs, tag: "\(tag).\(who)")
            if background {
                #expect(waitForBackground(dir.path), "\(who): the background delivery did not finish")
            }
            snapshots.append(try collect(dir, r))
        }
        return (snapshots[0], snapshots[1])
    }

    @Test("command-line submission delivers as sendmail does", arguments: SubmitDeliveryTests.cases)
    func submission(_ c: Case) throws {
        let (cf, dir) = try Self.prepare("subdel-\(c.name)")
        let d = dir.path
        var options = SandboxOptions()
        options.modeFlag = "-bm"
        options.rootHome = d + "/home"
        options.extraArguments = ["-oi"] + c.arguments
        let (real, ours) = try Self.snapshotsOfBoth(cf: cf, dir: dir, input: c.message, options: options,
                                                    tag: "subdel-\(c.name)", background: c.background)
        ours.expectSame(as: real)
        // the oracle did deliver (or, queue-only, did not)
        let delivered = real.files.keys.contains { $0.hasPrefix("out/") }
        #expect(delivered == !c.queueOnly,
                "the oracle \(delivered ? "ran" : "did not run") a mailer: \(real.stdout)")
    }

    /// A submission a header check refuses (SubmitTests.headerChecks on
    /// deliver.cf): what sendmail mails back to its sender, and the rest.
    @Test("a submission refused by a header check is mailed back to its sender", arguments: ["-odi", "-odq"])
    func refusedByHeaderCheck(_ mode: String) throws {
        let (cf0, dir) = try Self.prepare("subdel-hc\(mode)")
        let cf = dir.appendingPathComponent("deliver-hc.cf").path
        try (try String(contentsOfFile: cf0, encoding: .isoLatin1) + SubmitTests.headerChecks)
            .write(toFile: cf, atomically: true, encoding: .isoLatin1)
        let d = dir.path
        var options = SandboxOptions()
        options.modeFlag = "-bm"
        options.rootHome = d + "/home"
        options.extraArguments = ["-oi", mode, "-f", "root", "root"]
        let message = Array("Subject: this is bad stuff\nFrom: Joe <joe@x.example>\n\nhello\n".utf8)
        let (real, ours) = try Self.snapshotsOfBoth(cf: cf, dir: dir, input: message, options: options,
                                                    tag: "subdel-hc\(mode)")
        ours.expectSame(as: real)
        #expect(real.status == 65, "the oracle's exit status: \(real.status)")
        // the DSN went to the sender (a mailer ran), the message stayed queued
        #expect(real.files.keys.contains("out/call0.stdin") && real.files.keys.contains { $0.hasPrefix("q/qf") },
                "the oracle did not return the message: \(real.files.keys.sorted())")
    }

    /// A submission whose header is longer than MaxHeadersLength: sendmail
    /// prints "Headers too large (N max)", queues nothing, exits 0 and mails
    /// the message back to its sender at once (whatever the delivery mode)
    /// with the header fields read before the limit and no body.  A limit
    /// below 16384 is also warned about when the option is set.
    @Test("a submission with headers over MaxHeadersLength is refused and mailed back to its sender",
          arguments: [("-odi", "16384"), ("-odq", "16384"), ("-odq", "2000"), ("-odq", "2000x")])
    func headersTooLarge(_ mode: String, _ setting: String) throws {
        // (a value with trailing garbage counts its leading digits, as atoi does)
        let limit = Int(setting.prefix { $0.isNumber }) ?? 0
        let name = "subdel-hdrlen\(mode)-\(setting)"
        let (cf, dir) = try Self.prepare(name)
        let d = dir.path
        var options = SandboxOptions()
        options.modeFlag = "-bm"
        options.rootHome = d + "/home"
        options.extraArguments = ["-oi", mode, "-OMaxHeadersLength=\(setting)", "-f", "root", "root"]
        var text = "Subject: long\nFrom: Joe <joe@x.example>\n"
        for i in 0..<300 { text += "X-Filler-\(i): " + String(repeating: "z", count: 40) + "\n" }
        let message = Array((text + "\nhello\n").utf8)
        let (real, ours) = try Self.snapshotsOfBoth(cf: cf, dir: dir, input: message, options: options, tag: name)
        ours.expectSame(as: real)
        #expect(real.stdout.contains("Headers too large (\(limit) max)"), "the oracle said: \(real.stdout)")
        #expect(real.stdout.contains("lower than 16384") == (limit < 16384), "the oracle said: \(real.stdout)")
        // the DSN went to the sender (a mailer ran), nothing stayed queued
        #expect(real.files.keys.contains("out/call0.stdin") && !real.files.keys.contains { $0.hasPrefix("q/") },
                "the oracle did not return the message: \(real.files.keys.sorted())")
    }

    /// DeliveryMode b: the caller has its status while the delivery (a
    /// mailer that takes 4 s) still runs; by then the message is durably
    /// queued and its qf locked by the delivering child, so no queue run
    /// can take it; at the end the queue is empty, as with sendmail.
    @Test("-odb: status returned with the qf in place and locked while the child delivers")
    func backgroundHoldsTheLock() throws {
        try checkBackgroundLock("subdel-b-lock", launcher: [])
    }

    /// The same with a pipe the caller reads to its end open in the
    /// submission as descriptors 5 and 6 (stdout stays the run's file): the
    /// background child must close them, or the caller would get its status
    /// only after the 4 s delivery, with the qf already gone.
    @Test("-odb: descriptors the caller left open (5, 6: a pipe it reads to the end) are closed in the delivering child")
    func backgroundClosesInheritedDescriptors() throws {
        try checkBackgroundLock("subdel-b-fds", launcher: [
            "/bin/bash", "-c", "set -o pipefail; exec 3>&1; \"$@\" 5>&1 6>&1 1>&3 3>&- | cat >/dev/null", "launch"])
    }

    func checkBackgroundLock(_ name: String, launcher: [String]) throws {
        let (cf, dir) = try Self.prepare(name)
        let d = dir.path
        var options = SandboxOptions()
        options.modeFlag = "-bm"
        options.rootHome = d + "/home"
        options.launcher = launcher
        options.extraArguments = ["-oi", "-odb", "-f", "root", "z@sleep", "root"]
        var finals: [DeliverTests.Snapshot] = []
        for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try Self.freshDirectories(d)
            let r = try Sandbox.run(binary: binary, cf: cf, input: Self.message, options: options,
                                    runDir: Workspace.shared.runs, tag: "\(name).\(tag)")
            #expect(r.status == 0 && r.stdout.isEmpty, "\(tag): \(r.status) \(String(decoding: r.stdout, as: UTF8.self))")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: d + "/q")) ?? []
            let qf = names.first { $0.hasPrefix("qf") }
            #expect(qf != nil && names.contains { $0.hasPrefix("df") }, "\(tag): not queued when the caller returned: \(names)")
            if let qf {
                let fd = open(d + "/q/" + qf, O_RDONLY)
                #expect(fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) != 0, "\(tag): \(qf) is not locked during the delivery")
                if fd >= 0 { close(fd) }
            }
            #expect(Self.waitForBackground(d), "\(tag): the background delivery did not finish")
            finals.append(try Self.collect(dir, r))
        }
        #expect(finals[1].files == finals[0].files)
        #expect(!finals[1].files.keys.contains { $0.hasPrefix("q/qf") }, "ours left the message queued")
    }

    /// deliver.cf with a ruleset 3 that takes the address out of <...>,
    /// as SMTP gives it.
    static func prepareSMTP(_ name: String) throws -> (cf: String, dir: URL) {
        let (cf, dir) = try prepare(name)
        let smtpCf = dir.appendingPathComponent("smtp-deliver.cf")
        let text = try String(contentsOfFile: cf, encoding: .isoLatin1) + "S3\nR$* < $+ > $*\t$2\n"
        try text.write(to: smtpCf, atomically: true, encoding: .isoLatin1)
        return (smtpCf.path, dir)
    }

    static let smtpScript = """
        EHLO client.example
        MAIL From:<root>
        RCPT To:<root>
        RCPT To:<pipe>
        RCPT To:<list>
        RCPT To:<c@nouser>
        RCPT To:<nosuchuser>
        DATA
        Subject: over smtp

        hello
        .
        QUIT

        """

    @Test("-bs: RCPT expands aliases; DATA's message delivered before its 250 (-odi), after it (-odb), or queued", arguments: ["-odi", "-odb", "-odq"])
    func smtpSession(_ mode: String) throws {
        let (cf, dir) = try Self.prepareSMTP("subdel-smtp\(mode)")
        let d = dir.path
        var options = SandboxOptions()
        options.modeFlag = "-bs"
        options.rootHome = d + "/home"
        options.launcher = [SMTPSessionTests.python, SMTPSessionTests.driver]
        // (the oracle would offer its SASL mechanisms; we offer none)
        options.extraArguments = [mode, "-OAuthMechanisms=EXTERNAL", "-OLogLevel=9"]
        LogTests.ensureDevLog()
        var snapshots: [DeliverTests.Snapshot] = []
        var transcripts: [String] = []
        var logs: [[String]] = []
        for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try Self.freshDirectories(d)
            let collector = try DatagramCollector(path: dir.appendingPathComponent("log-\(tag).sock").path)
            options.devLog = collector.path
            let r = try Sandbox.run(binary: binary, cf: cf, input: Array(Self.smtpScript.utf8), options: options,
                                    runDir: Workspace.shared.runs, tag: "subdel-smtp\(mode).\(tag)")
            if mode == "-odb" {
                #expect(Self.waitForBackground(d), "\(tag): the background delivery did not finish")
            }
            transcripts.append(SMTPSessionTests().normalised(String(decoding: r.stdout, as: UTF8.self)))
            logs.append(LogTests.normaliseIDs(collector.drain()))
            snapshots.append(try Self.collect(dir, r))
        }
        #expect(transcripts[1] == transcripts[0])
        // the syslog lines too (deliveries, the bounce, RCPT refusals);
        // with -odb, sendmail's child shows a slightly higher priority (a
        // known difference, see QueueEntry.swift)
        func shown(_ lines: [String]) -> [String] {
            mode != "-odb" ? lines : lines.map {
                $0.replacingOccurrences(of: #", pri=\d+,"#, with: ", pri=P,", options: .regularExpression)
            }
        }
        #expect(shown(logs[1]) == shown(logs[0]))
        #expect(transcripts[0].contains("Message accepted"), "the oracle accepted nothing: \(transcripts[0])")
        let (real, ours) = (snapshots[0], snapshots[1])
        ours.expectSame(as: real, stdout: false)
        #expect(real.files.keys.contains { $0.hasPrefix("out/") } == (mode != "-odq"))
    }

    /// With DeliveryMode b, sendmail's RCPT only verifies (EF_VRFYONLY):
    /// an alias whose member is unknown is accepted, and the child that
    /// delivers expands it (its User unknown mailed back, "expanded from:");
    /// in the daemon too (ours: the delivery worker, as a queue run).
    @Test("-odb: RCPT does not expand aliases, the delivering child does", arguments: ["-bs", "-bD"])
    func backgroundRcptVerifiesOnly(_ mode: String) throws {
        let name = "odb-verify-\(mode == "-bD" ? "daemon" : "session")"
        let (cf, dir) = try Self.prepareSMTP("subdel-\(name)")
        // (an alias with an unknown member, for this case only)
        let aliases = dir.appendingPathComponent("aliases")
        let text = try String(contentsOf: aliases, encoding: .isoLatin1) + "badlist: nosuchuser\n"
        try text.write(to: aliases, atomically: true, encoding: .isoLatin1)
        var bi = SandboxOptions()
        bi.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: bi,
                            runDir: Workspace.shared.runs, tag: "\(name).newaliases")
        var script = """
            EHLO client.example
            MAIL From:<root>
            RCPT To:<badlist>
            RCPT To:<list>
            RCPT To:<pipe>
            DATA
            Subject: background

            hello
            .
            QUIT

            """
        var options: SandboxOptions
        if mode == "-bD" {
            options = VerbTests().daemonOptions(dir)
            script = "#CONNECT 2525 127.0.0.1 40004\n" + script + "#SLEEP 2\n"
        } else {
            options = SandboxOptions()
            options.modeFlag = "-bs"
            options.launcher = [SMTPSessionTests.python, SMTPSessionTests.driver]
            options.extraArguments = ["-OAuthMechanisms=EXTERNAL", "-OLogLevel=9"]
        }
        options.extraArguments += ["-odb"]
        let c = VerbTests.Case(name: name, script: script, expects: ["250 2.1.5 <badlist>... Recipient ok"], background: true)
        let both = try VerbTests().runBoth(name, cf: cf, dir: dir, script: script, options: options, background: true)
        let real = both.real
        let ours = both.ours
        if mode == "-bD" {
            // (sendmail's child of the session names the client in the
            // bounce's Received-From-MTA; so does our delivery worker)
            #expect(real.snapshot.files.values.contains { $0.contains("Received-From-MTA: dns; localhost\n") },
                    "\(name): the oracle's bounce has no Received-From-MTA")
        }
        VerbTests().expectSame(c, real, ours)
        let log = real.log.joined(separator: "\n")
        #expect(log.contains("to=nosuchuser, ctladdr=<badlist>") && log.contains("DSN: User unknown"),
                "\(name): the oracle's child did not expand the alias:\n\(log)")
    }
}
