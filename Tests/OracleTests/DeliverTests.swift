// DeliverTests.swift — queue runs (-q, -q -v, -qR) against the oracle.
//
// Each case lets the REAL sendmail queue one or more messages (`-odq`) with
// Tests/Fixtures/oracle/deliver/deliver.cf, copies the queue, and runs the
// real sendmail's queue run on one copy and ours on the other, in the same
// sandbox and the same scratch directory.  What must be identical: stdout,
// stderr, exit status, every mailer call recorded by dump-mailer.sh (argv,
// working directory, uid/gid, environment, stdin bytes), the files the
// *file* mailer appended to, and the queue afterwards (files present, qf
// contents).  Normalised: the `$d` date of From_ lines (the time of the run)
// and the qf's K (time of the attempt) and I (inode of the df) lines; in
// the bounce cases (no `-N never`: failed recipients are returned to the
// sender in the same run) also queue IDs, RFC 822 dates,
// the boundary's time and the Message-Id's time, so that the bounce as the
// local mailer gets it is compared byte for byte otherwise.
// Fails (never skips) when a prerequisite is missing.

import Foundation
import Testing

@Suite("Queue runs: deliveries identical to sendmail's")
struct DeliverTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        /// One submission per element: (extra arguments, recipients).
        var submissions: [([String], [String])]
        var runArguments: [String]
        var message: [UInt8]
        /// Adds a line sendmail does not know to the first qf (a damaged file).
        var corrupt = false
        /// Holds an exclusive lock on the first qf during both runs.
        var lockFirst = false
        /// Plain `-q`: the run happens in a background process; wait until
        /// the queue is empty.
        var background = false
        /// The queue directory has qf/, df/ and xf/ subdirectories.
        var subdirectories = false
        /// Arguments of a queue run by the oracle before the queue is copied.
        var preRun: [String]? = nil
        /// Whether the oracle must run some mailer (a sanity check of the case).
        var expectsMailer = true
        /// The configuration: the hand-written deliver.cf or the m4-built one.
        var fromM4 = false
        /// A bounce case: nil, or whether the oracle must have
        /// delivered a bounce ("Returned mail") in the run.
        var bounce: Bool? = nil
        /// Seconds by which every queued message is made older (the qf's
        /// T line) before the runs.
        var backdate: Int? = nil
        /// Gives the queued messages different creation times and qf
        /// modification times (DeliverTests.spread), for the sort orders.
        var spread = false
        /// The cf gets a queue group "fast" (q/fast, at most one recipient
        /// per envelope) that the users a to e are queued in (the
        /// queuegroup ruleset), and so are local2's users (its Q=) but mq.
        var queueGroups = false
        /// Texts some mailer of the oracle must have been given (the case
        /// does what it says); new messages (queue IDs, dates) are
        /// normalised as in bounce cases.
        var expects: [String] = []
        var description: String { name }
    }

    static let basicMessage = Array("""
        Subject: test delivery
        From: Joe <joe@x.example>
        To: list, a@local2

        hello
        From me
        .
        a line with \u{e9}t\u{e9}
        .dot

        """.utf8)

    static let foldedMessage = Array("Subject: folded\nX-Long: first part\n\tsecond part\n  third\nTo: a, B <b@x.example>, \"C D\" <c@y.example> (comment), undisclosed: ;\nCc: e@z.example,\n\tf@z.example\nFrom: <joe@x.example>\nReply-To: Joe (the man) joe@x.example\n\nline one\nFrom line\n\u{7f}\u{1}x\r\nlast line without newline".utf8)

    /// Header bytes in sendmail's meta range (quoted in the qf) and a
    /// body with a raw 0x81 'g'.
    static let metaMessage: [UInt8] = Array("Subject: caf".utf8) + [0xC3, 0x81, 0x20, 0x81, 0x67]
        + Array(" test ".utf8) + [0xFF, 0xFE] + Array(" end\nX-Macro: <".utf8) + [0x81, 0x67]
        + Array(">\n\nbody ".utf8) + [0x81, 0x67, 0x0A]

    static let sortSubmissions: [([String], [String])] = [
        (["-f", "root"], ["root", "daemon", "bin"]), (["-f", "root"], ["daemon"]), (["-f", "bin"], ["root", "bin"]),
        (["-f", "root"], ["sys"]),
    ]

    static let cases: [Case] = [
        Case(name: "deliver-order-priority", submissions: sortSubmissions, runArguments: ["-v"], message: basicMessage),
        Case(name: "deliver-order-filename", submissions: sortSubmissions,
             runArguments: ["-v", "-OQueueSortOrder=filename"], message: basicMessage),
        Case(name: "deliver-order-time", submissions: sortSubmissions,
             runArguments: ["-v", "-OQueueSortOrder=time"], message: basicMessage),
        Case(name: "deliver-order-none-max", submissions: sortSubmissions,
             runArguments: ["-v", "-OQueueSortOrder=none", "-OMaxQueueRunSize=3"], message: basicMessage),
        Case(name: "deliver-f-r-flags", submissions: [(["-f", "bin"], ["a@fflag", "b@rflag"])],
             runArguments: ["-v"], message: basicMessage),
        // @ID@: the first queued ID's last six characters
        Case(name: "deliver-select-I", submissions: [(["-f", "root"], ["root"]), (["-f", "bin"], ["daemon"])],
             runArguments: ["-v", "-qI@ID@"], message: basicMessage),
        Case(name: "deliver-select-not-I", submissions: [(["-f", "root"], ["root"]), (["-f", "bin"], ["daemon"])],
             runArguments: ["-v", "-q!I@ID@"], message: basicMessage),
        Case(name: "deliver-uflag-root-sender", submissions: [(["-f", "root"], ["b@uflag", "c@sroot"])],
             runArguments: ["-v"], message: basicMessage),
        Case(name: "deliver-ids-dirs-env", submissions: [(["-f", "bin"], ["a@sroot", "b@uflag", "root"])],
             runArguments: ["-v"], message: basicMessage),
        Case(name: "deliver-m4-local", submissions: [(["-f", "root"], ["root", "Daemon", "list", "pipe", "file", "bin@vm.example.test"])],
             runArguments: ["-v"], message: foldedMessage, fromM4: true),
        Case(name: "deliver-m4-sender", submissions: [(["-f", "Joe Bloggs <bin@elsewhere.example>"], ["root"]), (["-f", "daemon"], ["bin"])],
             runArguments: ["-v"], message: basicMessage, fromM4: true),
        Case(name: "deliver-meta-bytes", submissions: [(["-f", "root"], ["root", "x@local2", "file"])],
             runArguments: ["-v"], message: metaMessage),
        // a body larger than a pipe's buffer: sendmail's write always meets
        // the dead child (with a small one, whether it does is a race)
        Case(name: "deliver-exec-failure", submissions: [(["-f", "root", "-N", "never"], ["a@noexec", "root"])],
             runArguments: ["-v"], message: basicMessage + Array(repeating: Array("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n".utf8), count: 3000).flatMap { $0 }),
        Case(name: "deliver-min-queue-age", submissions: [(["-f", "root"], ["a@tempfail"])],
             runArguments: ["-v", "-OMinQueueAge=1h"], message: basicMessage, preRun: ["-v"], expectsMailer: false),
        Case(name: "deliver-min-queue-age-selected", submissions: [(["-f", "root"], ["a@tempfail"])],
             runArguments: ["-v", "-OMinQueueAge=1h", "-qRtempfail"], message: basicMessage, preRun: ["-v"]),
        Case(name: "deliver-subdirectories", submissions: [(["-f", "root"], ["root", "a@tempfail"])],
             runArguments: ["-v"], message: basicMessage, subdirectories: true),
        Case(name: "deliver-background", submissions: [(["-f", "root"], ["root", "daemon"])],
             runArguments: [], message: basicMessage, background: true),
        Case(name: "deliver-file-prog-errors", submissions: [(["-f", "root", "-N", "never"], ["badfile", "badprog", "shprog", "root"])],
             runArguments: ["-v"], message: basicMessage),
        Case(name: "deliver-null-sender", submissions: [(["-f", "<>"], ["root", "x@local2", "file"])],
             runArguments: ["-v"], message: basicMessage),
        Case(name: "deliver-crlf-folded", submissions: [(["-f", "root"], ["Mixed@crlf", "other@crlf", "root", "x@local2"])],
             runArguments: ["-v"], message: foldedMessage),
        Case(name: "deliver-local-prog-file", submissions: [(["-f", "root"], ["root", "daemon", "bin", "pipe", "file"])],
             runArguments: ["-v"], message: basicMessage),
        Case(name: "deliver-flags-quiet", submissions: [(["-f", "root"], ["x@local2", "y@local2", "root"])],
             runArguments: ["-qf"], message: basicMessage),
        Case(name: "deliver-failures", submissions: [(["-f", "root", "-N", "never"],
                                                      ["root", "a@tempfail", "b@tempfail", "c@nouser", "d@unavail"])],
             runArguments: ["-v"], message: basicMessage),
        Case(name: "deliver-more-codes", submissions: [(["-f", "root", "-N", "never"],
                                                        ["e@nohost", "f@software", "g@tempfail"])],
             runArguments: ["-v"], message: basicMessage),
        Case(name: "deliver-tempfail-only", submissions: [(["-f", "root"], ["a@tempfail", "b@tempfail"])],
             runArguments: ["-v"], message: basicMessage),
        Case(name: "deliver-select-R", submissions: [(["-f", "root"], ["root"]), (["-f", "bin"], ["daemon"])],
             runArguments: ["-v", "-qRdaemon"], message: basicMessage),
        Case(name: "deliver-select-not-R", submissions: [(["-f", "root"], ["root"]), (["-f", "bin"], ["daemon"])],
             runArguments: ["-v", "-q!Rdaemon"], message: basicMessage),
        Case(name: "deliver-select-S", submissions: [(["-f", "root"], ["root"]), (["-f", "bin"], ["daemon", "x@local2"])],
             runArguments: ["-v", "-qSbin", "-qSnobody"], message: basicMessage),
        Case(name: "deliver-damaged-qf", submissions: [(["-f", "root"], ["root"])],
             runArguments: ["-v"], message: basicMessage, corrupt: true, expectsMailer: false),
        Case(name: "deliver-locked-qf", submissions: [(["-f", "root"], ["root"]), (["-f", "bin"], ["daemon"])],
             runArguments: ["-v"], message: basicMessage, lockFirst: true),
    ] + bounceCases

    static let plainMessage = Array("Subject: test\nFrom: Joe <joe@x.example>\n\nhello\nworld\n".utf8)

    /// Failed recipients returned to the sender (no `-N never`).
    static let bounceCases: [Case] = [
        Case(name: "bounce-nouser-one-of-two", submissions: [(["-f", "root"], ["root", "c@nouser"])],
             runArguments: ["-v"], message: plainMessage, bounce: true),
        Case(name: "bounce-grouped", submissions: [(["-f", "bin"], ["a@nouser", "b@nouser", "root"])],
             runArguments: ["-v"], message: plainMessage, bounce: true),
        Case(name: "bounce-mailer-output", submissions: [(["-f", "root"], ["x@noisy", "y@noisy", "root"])],
             runArguments: ["-v"], message: plainMessage, bounce: true),
        Case(name: "bounce-unavailable", submissions: [(["-f", "root"], ["d@unavail", "root"])],
             runArguments: ["-v"], message: basicMessage, bounce: true),
        Case(name: "bounce-ret-hdrs-tempfail", submissions: [(["-f", "root", "-R", "hdrs"], ["root", "c@nouser", "a@tempfail"])],
             runArguments: ["-v"], message: basicMessage, bounce: true),
        Case(name: "bounce-8bit", submissions: [(["-f", "root", "-B8BITMIME"], ["d@unavail"])],
             runArguments: ["-v"], message: basicMessage, bounce: true),
        Case(name: "bounce-8bit-undeclared", submissions: [(["-f", "root"], ["e@nohost"])],
             runArguments: ["-v"], message: metaMessage, bounce: true),
        Case(name: "bounce-notify-never", submissions: [(["-f", "root", "-N", "never"], ["c@nouser", "root"])],
             runArguments: ["-v"], message: plainMessage, bounce: false),
        Case(name: "bounce-envid", submissions: [(["-f", "root", "-V", "my+2Benv+41id"], ["c@nouser"])],
             runArguments: ["-v"], message: plainMessage, bounce: true),
        // a program (it reads all its input, no write race) failing with 67
        // through the m4 cf's prog mailer (T=X-Unix: reason, Diagnostic-Code)
        Case(name: "bounce-m4-prog", submissions: [(["-f", "bin"], ["root", "readfail"])],
             runArguments: ["-v"], message: basicMessage, fromM4: true, bounce: true),
        Case(name: "bounce-notify-failure", submissions: [(["-f", "root", "-N", "failure"], ["c@nouser"])],
             runArguments: ["-v"], message: plainMessage, bounce: true),
        Case(name: "bounce-notify-success-failure", submissions: [(["-f", "bin", "-N", "success,failure"], ["c@nouser", "root", "e@fflag"])],
             runArguments: ["-v"], message: plainMessage, bounce: true),
        Case(name: "bounce-quiet-run", submissions: [(["-f", "daemon"], ["c@nouser", "root"]), (["-f", "bin"], ["d@unavail"])],
             runArguments: ["-qf"], message: plainMessage, bounce: true),
        // x@codeNN: the mailer exits NN
        Case(name: "bounce-exit-codes", submissions: [(["-f", "daemon"], ["a@code64", "b@code65", "c@code66", "d@code77", "root"])],
             runArguments: ["-v"], message: plainMessage, bounce: true),
        Case(name: "bounce-exit-codes-2", submissions: [(["-f", "daemon"], ["a@code72", "b@code73", "c@code76"])],
             runArguments: ["-v"], message: plainMessage, bounce: true),
        // EX_SOFTWARE / EX_CONFIG: a copy to the postmaster (aliased to root)
        Case(name: "bounce-postmaster-copy", submissions: [(["-f", "bin"], ["x@code70"])],
             runArguments: ["-v"], message: plainMessage, bounce: true),
        Case(name: "bounce-postmaster-copy-same-user", submissions: [(["-f", "root"], ["x@code78", "root"])],
             runArguments: ["-v"], message: plainMessage, bounce: true),
        Case(name: "bounce-postmaster-copy-deferred", submissions: [(["-f", "daemon"], ["x@code70", "y@tempfail", "root"])],
             runArguments: ["-v"], message: basicMessage, bounce: true),
        // the bounce fails too: MAILER-DAEMON cannot receive, a double
        // bounce goes to the postmaster (aliased to root)
        Case(name: "bounce-double", submissions: [(["-f", "s@nouser"], ["c@nouser"])],
             runArguments: ["-v"], message: plainMessage, bounce: true),
        Case(name: "bounce-double-mixed", submissions: [(["-f", "s@unavail"], ["c@nouser", "root", "d@tempfail"])],
             runArguments: ["-v"], message: basicMessage, bounce: true),
        // NOTIFY=SUCCESS alone: a return receipt (headers only); relayed
        // by a non-local mailer
        Case(name: "receipt-local", submissions: [(["-f", "bin", "-N", "success"], ["root", "x@local2"])],
             runArguments: ["-v"], message: basicMessage, bounce: false),
        Case(name: "receipt-relayed-and-failure", submissions: [(["-f", "bin", "-N", "success,failure"], ["z@okhost", "c@nouser", "root"])],
             runArguments: ["-v"], message: plainMessage, bounce: true),
        // NOTIFY=SUCCESS to a list (an alias of two): the receipt's
        // entry for the list, the members not reported
        Case(name: "receipt-list", submissions: [(["-f", "bin", "-N", "success"], ["list", "x@local2"])],
             runArguments: ["-v"], message: basicMessage, bounce: false),
        Case(name: "receipt-null-sender", submissions: [(["-f", "<>", "-N", "success"], ["root"])],
             runArguments: ["-v"], message: plainMessage, bounce: false),
        // PostmasterCopy: a separate headers-only notice to that address
        Case(name: "bounce-postmaster-copy-option", submissions: [(["-f", "bin"], ["c@nouser", "root"])],
             runArguments: ["-v", "-OPostmasterCopy=daemon"], message: basicMessage, bounce: true),
        Case(name: "bounce-postmaster-copy-option-null-sender", submissions: [(["-f", "<>"], ["c@nouser"])],
             runArguments: ["-v", "-OPostmasterCopy=daemon"], message: plainMessage, bounce: true),
        // from <>: a "Postmaster notify" to postmaster (aliased to root)
        Case(name: "bounce-null-sender-postmaster", submissions: [(["-f", "<>"], ["c@nouser", "root"])],
             runArguments: ["-v"], message: plainMessage, bounce: true),
        // the bounce to a@tempfail is tried, deferred, and stays queued
        Case(name: "bounce-deferred", submissions: [(["-f", "a@tempfail"], ["c@nouser", "root"])],
             runArguments: ["-v"], message: plainMessage, bounce: true),
        Case(name: "deferral-then-failure-message", submissions: [(["-f", "a@tempfail", "-N", "never"], ["c@nouser", "root"])],
             runArguments: ["-v"], message: plainMessage, bounce: false),
        Case(name: "exit-status-last-job", submissions: [(["-f", "daemon", "-N", "never"], ["c@nouser"]), (["-f", "bin"], ["root", "daemon"])],
             runArguments: ["-v"], message: plainMessage, bounce: false),
        Case(name: "errormode-q-failures", submissions: [(["-f", "daemon"], ["c@nouser", "d@unavail", "a@tempfail", "root"])],
             runArguments: ["-v", "-OErrorMode=q"], message: plainMessage, bounce: true),
        Case(name: "errormode-m-quiet-run", submissions: [(["-f", "daemon"], ["c@nouser", "d@unavail", "root"])],
             runArguments: ["-qf", "-OErrorMode=m"], message: plainMessage, bounce: true),
        Case(name: "quiet-run-failures", submissions: [(["-f", "bin", "-N", "never"], ["a@tempfail", "root", "e@nohost"])],
             runArguments: ["-qf"], message: plainMessage, bounce: false),
    ]

    struct Snapshot: Equatable {
        var stdout: String
        var stderr: String
        var status: Int32
        var files: [String: String]

        /// Expects this run (ours) to match the oracle's: output, exit
        /// status, and every collected file by name and contents.
        func expectSame(as real: Snapshot, _ label: String = "", stdout: Bool = true,
                        sourceLocation: SourceLocation = #_sourceLocation) {
            let prefix = label.isEmpty ? "" : label + ": "
            if stdout { #expect(self.stdout == real.stdout, "\(prefix)stdout", sourceLocation: sourceLocation) }
            #expect(stderr == real.stderr, "\(prefix)stderr", sourceLocation: sourceLocation)
            #expect(status == real.status, "\(prefix)exit status", sourceLocation: sourceLocation)
            #expect(files.keys.sorted() == real.files.keys.sorted(), "\(prefix)files", sourceLocation: sourceLocation)
            for key in real.files.keys.sorted() where files[key] != nil {
                #expect(files[key] == real.files[key], "\(prefix)\(key) differs", sourceLocation: sourceLocation)
            }
        }
    }

    /// Replaces the parts that depend on the time of the run (and, for
    /// bounce cases, on the new queue ID).
    static func normalise(_ name: String, _ text: String, bounce: Bool = false) -> String {
        var text = text
        if bounce {
            for (pattern, replacement) in [
                (#"[0-9A-Za-z]{8}[0-9]{6}"#, "<id>"),
                (#"[A-Z][a-z]{2}, [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT"#, "<date>"),
                (#"\.[0-9]{10}/"#, ".<time>/"),
                (#"<[0-9]{12}\."#, "<msgid-time>."),
            ] {
                text = text.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
            }
        }
        var lines = text.components(separatedBy: "\n")
        for i in lines.indices {
            let l = lines[i]
            let base = (name as NSString).lastPathComponent
            if name.hasPrefix("q/") && (base.hasPrefix("qf") || base.hasPrefix("Qf")) {
                if l.hasPrefix("K") && l != "K0" { lines[i] = "K<time>" }
                if l.hasPrefix("I") { lines[i] = "I<inode>" }
                // a queued bounce's priority: sendmail counts 136 bytes more
                // (not known why): a known difference
                if bounce && l.hasPrefix("P") && text.contains("\nSMAILER-DAEMON\n") { lines[i] = "P<priority>" }
                // and its creation time (the time of the run)
                if bounce && l.hasPrefix("T") && text.contains("\nSMAILER-DAEMON\n") { lines[i] = "T<time>" }
            }
            if l.hasPrefix("From "), let r = l.range(of: #" [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [0-9]{4}$"#,
                                                     options: .regularExpression) {
                lines[i] = l.replacingCharacters(in: r, with: " <date>")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func collect(_ dir: URL, _ r: RunResult, bounce: Bool = false, knownIDs: Set<String> = [],
                        subdirectories: [String] = ["out", "box", "q"]) throws -> Snapshot {
        var files: [String: String] = [:]
        let fm = FileManager.default
        for sub in subdirectories {
            let d = dir.appendingPathComponent(sub)
            for name in (fm.subpaths(atPath: d.path) ?? []).sorted() {
                var isDir: ObjCBool = false
                if fm.fileExists(atPath: d.appendingPathComponent(name).path, isDirectory: &isDir), isDir.boolValue {
                    files[sub + "/" + name + "/"] = "directory"
                    continue
                }
                if sub == "q" && Sandbox.isSpare(name) { continue }
                var key = sub + "/" + name
                // a queue file of a message made in the run (a bounce): its new ID
                let base = (name as NSString).lastPathComponent
                if bounce, sub == "q", base.count > 2, !knownIDs.contains(String(base.dropFirst(2))) {
                    key = "q/" + String(name.dropLast(base.count)) + base.prefix(2) + "<new-id>"
                }
                let data = try Data(contentsOf: d.appendingPathComponent(name))
                let attrs = try fm.attributesOfItem(atPath: d.appendingPathComponent(name).path)
                let mode = String((attrs[.posixPermissions] as? Int) ?? 0, radix: 8)
                let owner = (attrs[.ownerAccountID] as? Int) ?? -1
                files[key] = "mode \(mode) owner \(owner)\n" + normalise(key, String(decoding: data, as: UTF8.self), bounce: bounce)
            }
        }
        return Snapshot(stdout: String(decoding: r.stdout, as: UTF8.self),
                        stderr: String(decoding: r.stderr, as: UTF8.self), status: r.status, files: files)
    }

    /// (the instance form other suites call)
    func shell(_ command: String) throws { try Self.shell(command) }

    static func shell(_ command: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        try p.run()
        p.waitUntilExit()
        if p.terminationStatus != 0 { throw HarnessError("failed: \(command)") }
    }

    @Test("queue run: mailers, files and queue afterwards", arguments: DeliverTests.cases)
    func queueRun(_ c: Case) throws {
        try Self.compareRuns(c)
    }

    /// A scratch directory for a queue-run case: the configuration
    /// (deliver.cf or the m4-built one), its aliases, switch file and
    /// dump-mailer.sh, and empty q/ (qf/, df/, xf/ with `subdirectories`),
    /// out/ and box/.  Returns the cf's path and the directory.
    static func prepareScratch(_ name: String, fromM4: Bool = false, subdirectories: Bool = false,
                               queueGroups: Bool = false, source: Configuration.Source? = nil) throws -> (cf: String, dir: String) {
        // (source: another configuration with the same scratch files, e.g. OutboundRoutingTests')
        let p = try Workspace.shared.prepare(Configuration(
            name: name, source: source ?? (fromM4 ? .mc("deliver/deliver-m4.mc") : .cf("deliver/deliver.cf"))))
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let fixtures = URL(fileURLWithPath: OracleEnvironment.fixture("deliver"))
        for f in ["aliases", "switch", "dump-mailer.sh"] {
            let text = try String(contentsOf: fixtures.appendingPathComponent(f), encoding: .utf8)
                .replacingOccurrences(of: "@SCRATCH@", with: dir.path)
            try text.write(to: dir.appendingPathComponent(f), atomically: false, encoding: .utf8)
        }
        chmod(dir.appendingPathComponent("dump-mailer.sh").path, 0o755)
        let d = dir.path
        // (a directory left immutable by an interrupted bounceNotQueued)
        try? shell("chattr -i '\(d)/q/df' 2>/dev/null")
        try shell("rm -rf '\(d)/q' '\(d)/q.start' '\(d)/out' '\(d)/box' && mkdir -p '\(d)/q' '\(d)/out' '\(d)/box' "
                  + "&& chmod 1777 '\(d)/out' && chown mail:mail '\(d)/box' && chmod 700 '\(d)/q'")
        if subdirectories { try shell("mkdir '\(d)/q/qf' '\(d)/q/df' '\(d)/q/xf'") }
        if queueGroups {
            try shell("mkdir -m 700 '\(d)/q/fast'")
            let cfText = try String(contentsOfFile: p.cfPath, encoding: .isoLatin1)
            if !cfText.contains("\nQfast") {
                // users a-e go to fast by the ruleset, "mq" to the default
                // group; local2 (Q=fast) takes the rest of its users there
                let rules = ["a", "b", "c", "d", "e"].map { "R\($0)\t$# fast\n" }.joined() + "Rmq\t$# mqueue\n"
                // (the Q line before the mailer naming it, after QueueDirectory)
                var lines = cfText.components(separatedBy: "\n")
                _ = insertAfterQueueDirectory(&lines, ["Qfast, P=\(d)/q/fast, F=f, r=1"])
                try (lines.joined(separator: "\n").replacingOccurrences(of: "\nMlocal2, ", with: "\nMlocal2, Q=fast, ")
                     + "Squeuegroup\n" + rules)
                    .write(toFile: p.cfPath, atomically: false, encoding: .isoLatin1)
            }
        }
        return (p.cfPath, d)
    }

    /// Inserts `new` after the cf's `O QueueDirectory=` line (where Q
    /// lines go); false when there is none.
    static func insertAfterQueueDirectory(_ lines: inout [String], _ new: [String]) -> Bool {
        guard let k = lines.firstIndex(where: { $0.hasPrefix("O QueueDirectory=") }) else { return false }
        lines.insert(contentsOf: new, at: k + 1)
        return true
    }

    /// Makes every qf under `qfDir` `seconds` older (its T line).
    static func backdate(_ qfDir: String, by seconds: Int) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: qfDir) where name.hasPrefix("qf") {
            let path = qfDir + "/" + name
            var lines = try String(contentsOfFile: path, encoding: .isoLatin1).components(separatedBy: "\n")
            for i in lines.indices where lines[i].hasPrefix("T") {
                if let t = Int(lines[i].dropFirst()) { lines[i] = "T\(t - seconds)" }
            }
            try lines.joined(separator: "\n").write(toFile: path, atomically: false, encoding: .isoLatin1)
        }
    }

    /// Makes the queued messages' creation times (T) and qf mtimes differ,
    /// deterministically by their place in reverse name order: T goes back
    /// by 0–4 hundred seconds, mtimes take three values (with ties).
    static func spread(_ qfDir: String) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: qfDir).filter { $0.hasPrefix("qf") }.sorted().reversed()
        for (n, name) in names.enumerated() {
            let path = qfDir + "/" + name
            var lines = try String(contentsOfFile: path, encoding: .isoLatin1).components(separatedBy: "\n")
            for i in lines.indices where lines[i].hasPrefix("T") {
                if let t = Int(lines[i].dropFirst()) { lines[i] = "T\(t - (n * 7 % 5) * 100)" }
            }
            try lines.joined(separator: "\n").write(toFile: path, atomically: false, encoding: .isoLatin1)
            var times = [timeval(tv_sec: 1_796_000_000 + (n * 3 % 6) * 50, tv_usec: 0),
                         timeval(tv_sec: 1_796_000_000 + (n * 3 % 6) * 50, tv_usec: 0)]
            utimes(path, &times)
        }
    }

    /// Queues the case's messages with the oracle, then runs the queue
    /// with both binaries on copies of it and compares everything.
    static func compareRuns(_ c: Case) throws {
        guard getuid() == 0 else {
            throw HarnessError("DeliverTests need root (mailers run as DefaultUser mail:mail)")
        }
        let (cf, d) = try prepareScratch(c.name, fromM4: c.fromM4, subdirectories: c.subdirectories,
                                         queueGroups: c.queueGroups)
        let dir = URL(fileURLWithPath: d)
        let runs = Workspace.shared.runs
        var options = SandboxOptions()
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options,
                            runDir: runs, tag: "\(c.name).newaliases")
        for (i, (args, rcpts)) in c.submissions.enumerated() {
            options.modeFlag = "-odq"
            options.extraArguments = ["-oi"] + args + rcpts
            let r = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: c.message,
                                    options: options, runDir: runs, tag: "\(c.name).submit\(i)")
            #expect(r.status == 0, "the oracle did not queue the message: \(String(decoding: r.stdout + r.stderr, as: UTF8.self))")
        }
        let qfDir = d + (c.subdirectories ? "/q/qf" : "/q")
        let queued = try FileManager.default.contentsOfDirectory(atPath: qfDir).filter { $0.hasPrefix("qf") }
        // (queue groups split messages: counted by the cases themselves)
        if !c.queueGroups { #expect(queued.count == c.submissions.count, "queue after submission: \(queued)") }
        let first = qfDir + "/" + (queued.sorted().first ?? "none")
        if c.corrupt {
            var text = try String(contentsOfFile: first, encoding: .isoLatin1)
            text = text.replacingOccurrences(of: "\nS", with: "\nXbogus line\nS")
            try text.write(toFile: first, atomically: false, encoding: .isoLatin1)
        }
        for qd in [qfDir] + (c.queueGroups ? [d + "/q/fast"] : []) {
            if let seconds = c.backdate { try backdate(qd, by: seconds) }
            if c.spread { try spread(qd) }
        }
        if let pre = c.preRun {
            options.modeFlag = "-q"
            options.extraArguments = pre
            _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options,
                                runDir: runs, tag: "\(c.name).prerun")
        }
        try shell("rm -rf '\(d)/out'/* '\(d)/box'/* && cp -a '\(d)/q' '\(d)/q.start'")

        options.modeFlag = "-q"
        let firstID = String((queued.sorted().first ?? "").suffix(6))
        options.extraArguments = c.runArguments.map { $0.replacingOccurrences(of: "@ID@", with: firstID) }
        var snapshots: [Snapshot] = []
        for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try shell("rm -rf '\(d)/q' '\(d)/out'/* '\(d)/box'/* && cp -a '\(d)/q.start' '\(d)/q'")
            var lockFD: Int32 = -1
            if c.lockFirst {
                lockFD = open(first, O_RDONLY)
                #expect(lockFD >= 0 && flock(lockFD, LOCK_EX) == 0, "cannot lock \(first)")
            }
            let r = try Sandbox.run(binary: binary, cf: cf, input: [], options: options,
                                    runDir: runs, tag: "\(c.name).\(tag)")
            if lockFD >= 0 { close(lockFD) }
            if c.background {
                #expect(r.status == 0 && r.stdout.isEmpty, "-q did not return at once: \(r.status)")
                var waited = 0
                while waited < 100, (try? FileManager.default.contentsOfDirectory(atPath: d + "/q"))?
                    .contains(where: { $0.count > 2 && ($0.hasPrefix("qf") || $0.hasPrefix("df") || $0.hasPrefix("xf")) }) ?? false {
                    usleep(100_000)
                    waited += 1
                }
                usleep(200_000)
            }
            let known = Set(((try? FileManager.default.subpathsOfDirectory(atPath: d + "/q.start")) ?? [])
                .map { String(($0 as NSString).lastPathComponent.dropFirst(2)) })
            snapshots.append(try Self.collect(dir, r, bounce: c.bounce != nil || !c.expects.isEmpty, knownIDs: known))
        }
        let (real, ours) = (snapshots[0], snapshots[1])
        ours.expectSame(as: real)
        #expect(real.files.keys.contains { $0.hasPrefix("out/") } || !c.expectsMailer,
                "the oracle ran no mailer: \(real.stdout)")
        if let expected = c.bounce {
            let bounced = real.files.contains { $0.key.hasPrefix("out/") && ($0.value.contains("Returned mail: see transcript") || $0.value.contains("Postmaster notify: see transcript")) }
            if c.name.hasPrefix("receipt-local") {
                #expect(real.files.contains { $0.key.hasPrefix("out/") && $0.value.contains("Subject: Return receipt") },
                        "the oracle sent no return receipt")
            }
            #expect(bounced == expected, "the oracle \(bounced ? "sent" : "did not send") a bounce: \(real.stdout)")
        }
        for text in c.expects {
            #expect(real.files.contains { $0.key.hasPrefix("out/") && $0.value.contains(text) },
                    "no mailer of the oracle got \"\(text)\": \(real.stdout)")
        }
    }

    /// Never lose a message: our run killed while a mailer works leaves the
    /// queue exactly as it was (no half-written qf, the df in place, no tf).
    @Test("a queue run killed during delivery leaves qf and df intact")
    func killedRun() throws {
        guard getuid() == 0 else { throw HarnessError("DeliverTests need root") }
        let name = "deliver-killed"
        let (cf, d) = try Self.prepareScratch(name)
        var options = SandboxOptions()
        options.modeFlag = "-odq"
        options.extraArguments = ["-oi", "-f", "root", "root", "a@tempfail", "z@sleep"]
        let runs = Workspace.shared.runs
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: Self.basicMessage,
                            options: options, runDir: runs, tag: "\(name).submit")
        let fm = FileManager.default
        func contents() throws -> [String: Data] {
            var r: [String: Data] = [:]
            for f in try Sandbox.queueEntries(d + "/q") {
                r[f] = try Data(contentsOf: URL(fileURLWithPath: d + "/q/" + f))
            }
            return r
        }
        let before = try contents()
        #expect(before.keys.contains { $0.hasPrefix("qf") } && before.keys.contains { $0.hasPrefix("df") })
        options.modeFlag = "-q"
        options.extraArguments = ["-v"]
        options.timeoutSeconds = 2
        let r = try Sandbox.run(binary: try OracleEnvironment.binaryUnderTest(), cf: cf, input: [],
                                options: options, runDir: runs, tag: "\(name).ours")
        #expect(r.timedOut, "the run was not killed (status \(r.status))")
        usleep(300_000)
        let after = try contents()
        #expect(after == before, "queue changed: \(before.keys.sorted()) -> \(after.keys.sorted())")
        // the local delivery before the kill did happen (it will be repeated: a
        // duplicate, never a loss)
        #expect(((try? fm.contentsOfDirectory(atPath: d + "/out")) ?? []).contains("call0.stdin"))
    }
}

extension DeliverTests {
    /// Never lose a failure report: our run killed while the bounce is
    /// being delivered leaves the original message as it was and the
    /// bounce completely queued (qf and df, no tf): a later run repeats
    /// (a duplicate bounce at worst), nothing is lost.
    @Test("a queue run killed during a bounce's delivery leaves original and bounce queued")
    func killedDuringBounce() throws {
        guard getuid() == 0 else { throw HarnessError("DeliverTests need root") }
        let name = "bounce-killed"
        let (cf, d) = try Self.prepareScratch(name)
        var options = SandboxOptions()
        let runs = Workspace.shared.runs
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options,
                            runDir: runs, tag: "\(name).newaliases")
        // the bounce goes to z@sleep, whose mailer takes 4 seconds
        options.modeFlag = "-odq"
        options.extraArguments = ["-oi", "-f", "z@sleep", "c@nouser"]
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: Self.plainMessage,
                            options: options, runDir: runs, tag: "\(name).submit")
        let fm = FileManager.default
        func contents() throws -> [String: Data] {
            var r: [String: Data] = [:]
            for f in try Sandbox.queueEntries(d + "/q") {
                r[f] = try Data(contentsOf: URL(fileURLWithPath: d + "/q/" + f))
            }
            return r
        }
        let before = try contents()
        #expect(before.count == 2, "queue after submission: \(before.keys.sorted())")
        options.modeFlag = "-q"
        options.extraArguments = ["-v"]
        options.timeoutSeconds = 2
        let r = try Sandbox.run(binary: try OracleEnvironment.binaryUnderTest(), cf: cf, input: [],
                                options: options, runDir: runs, tag: "\(name).ours")
        #expect(r.timedOut, "the run was not killed (status \(r.status))")
        usleep(300_000)
        let after = try contents()
        for (k, v) in before { #expect(after[k] == v, "\(k) changed or vanished") }
        let added = after.keys.filter { before[$0] == nil }.sorted()
        #expect(added.count == 2 && added.contains { $0.hasPrefix("qf") } && added.contains { $0.hasPrefix("df") },
                "not exactly a bounce's qf and df added: \(added)")
        if let q = added.first(where: { $0.hasPrefix("qf") }) {
            let text = String(decoding: after[q] ?? Data(), as: UTF8.self)
            #expect(text.contains("\nSMAILER-DAEMON\n") && text.contains("To: z@sleep") && text.hasSuffix("\n.\n"),
                    "the new qf is not the complete bounce: \(text)")
        }
        #expect(String(decoding: r.stdout, as: UTF8.self).contains("z@sleep... Connecting to sleep via fail..."),
                "the bounce was not being delivered: \(String(decoding: r.stdout, as: UTF8.self))")
    }
}

extension DeliverTests {
    /// A bounce that cannot be queued (no data file can be created in df/)
    /// leaves the original message exactly as it was: its failed
    /// recipients are not dropped without a report.
    @Test("a bounce that cannot be queued leaves the original untouched")
    func bounceNotQueued() throws {
        guard getuid() == 0 else { throw HarnessError("DeliverTests need root") }
        let name = "bounce-not-queued"
        let (cf, d) = try Self.prepareScratch(name, subdirectories: true)
        var options = SandboxOptions()
        let runs = Workspace.shared.runs
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options,
                            runDir: runs, tag: "\(name).newaliases")
        options.modeFlag = "-odq"
        options.extraArguments = ["-oi", "-f", "bin", "c@nouser", "root"]
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: Self.plainMessage,
                            options: options, runDir: runs, tag: "\(name).submit")
        let fm = FileManager.default
        func contents() throws -> [String: Data] {
            var r: [String: Data] = [:]
            for sub in ["qf", "df", "xf"] {
                for f in try Sandbox.queueEntries(d + "/q/" + sub) {
                    r[sub + "/" + f] = try Data(contentsOf: URL(fileURLWithPath: d + "/q/" + sub + "/" + f))
                }
            }
            return r
        }
        let before = try contents()
        #expect(before.count == 2, "queue after submission: \(before.keys.sorted())")
        // no new data file can be made: the bounce cannot be queued, while
        // the original's qf could still be removed or rewritten
        try Self.shell("chattr +i '\(d)/q/df'")
        defer { try? Self.shell("chattr -i '\(d)/q/df'") }
        options.modeFlag = "-q"
        options.extraArguments = ["-v"]
        let r = try Sandbox.run(binary: try OracleEnvironment.binaryUnderTest(), cf: cf, input: [],
                                options: options, runDir: runs, tag: "\(name).ours")
        try Self.shell("chattr -i '\(d)/q/df'")
        let after = try contents()
        #expect(after == before, "queue changed: \(before.keys.sorted()) -> \(after.keys.sorted())")
        let out = String(decoding: r.stdout + r.stderr, as: UTF8.self)
        #expect(out.contains("c@nouser... User unknown") && out.contains("root... Sent"), "run output: \(out)")
        #expect(!out.contains("bin... Connecting"), "a bounce was delivered: \(out)")
    }
}
