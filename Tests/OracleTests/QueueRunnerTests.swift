// QueueRunnerTests.swift — the queue runner's age limits (Timeout.queuewarn,
// Timeout.queuereturn) and the periodic/persistent runners (-q<time>, -qp)
// against the oracle.
//
// Each case lets the REAL sendmail queue a message, makes it older by
// rewriting the qf's T line (DeliverTests.backdate), and runs the queue
// with both binaries on copies of that queue (DeliverTests.compareRuns):
// stdout, stderr, exit status, every mailer call (the delay warning or
// the expiry bounce as the local mailer gets it, byte for byte with queue
// IDs and dates normalised) and the qf afterwards (M line, `w` flag) must
// be identical.  `expects` checks that the oracle did send what the case
// is about.
// The runners: each binary is started with -q1s / -qp1s and its own
// PidFile and /dev/log socket; compared are the command's exit status and
// output, the pid file (pid of a detached session leader, then the command
// line), SIGHUP (a restart: the command line executed again, a new runner),
// a message queued afterwards being delivered, SIGTERM stopping the
// runner and removing the pid file, and the runner's own syslog lines.
// Fails (never skips) when a prerequisite is missing.

import Foundation
import Testing

@Suite("Queue runner: age limits and periodic runners identical to sendmail's")
struct QueueRunnerTests {
    typealias Case = DeliverTests.Case
    static let message = DeliverTests.plainMessage
    static let hour = 3600, day = 86400
    static let warned = "Subject: Warning: could not send message for past 4 hours"

    static let ageCases: [Case] = [
        // older than queuewarn: one warning, the qf gets `F w` and its M line
        Case(name: "warn-tempfail", submissions: [(["-f", "bin"], ["a@tempfail", "root"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour, expects: [warned]),
        // a failure and a delay in the same run: one DSN, the warning's subject
        Case(name: "warn-with-failure", submissions: [(["-f", "bin"], ["a@tempfail", "b@nouser", "root"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour, expects: [warned]),
        // NOTIFY=SUCCESS deliveries are reported in the warning, no receipt of their own
        Case(name: "warn-notify-success", submissions: [(["-f", "bin", "-N", "delay,failure,success"], ["a@tempfail", "root"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour, expects: [warned]),
        Case(name: "warn-notify-delay", submissions: [(["-f", "bin", "-N", "delay"], ["a@tempfail", "b@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour, expects: [warned]),
        // no NOTIFY=DELAY: no warning, the M line stays the deferral's
        Case(name: "warn-notify-failure-only", submissions: [(["-f", "bin", "-N", "failure"], ["a@tempfail", "root"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour),
        Case(name: "warn-notify-never", submissions: [(["-f", "bin", "-N", "never"], ["a@tempfail", "root"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour),
        // not old enough
        Case(name: "warn-too-young", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 3 * hour),
        // already warned (the oracle's first run set `F w`): not again
        Case(name: "warn-only-once", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, preRun: ["-v", "-OTimeout.queuewarn=4h"],
             backdate: 5 * hour),
        // nobody to warn: <> and owner- senders
        Case(name: "warn-null-sender", submissions: [(["-f", "<>"], ["a@tempfail", "root"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour),
        Case(name: "warn-owner-sender", submissions: [(["-f", "owner-list"], ["a@tempfail", "root"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour),
        // a quiet run (-qf) warns too, without printing
        Case(name: "warn-quiet-run", submissions: [(["-f", "daemon"], ["a@tempfail", "b@tempfail"])],
             runArguments: ["-qf", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour, expects: [warned]),
        // the interval's wording and the default unit (hours)
        Case(name: "warn-interval-words", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn=90m", "-OTimeout.queuereturn=1d2h3m4s"], message: message,
             backdate: 2 * hour, expects: ["Subject: Warning: could not send message for past 1 hour, 30 minutes",
                                            "Will keep trying until message is 1 day, 2 hours, 3 minutes, 4 seconds old"]),
        Case(name: "warn-unit-hours", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4"], message: message, backdate: 5 * hour, expects: [warned]),
        // per-class values: a Priority: header picks the class
        Case(name: "warn-class-non-urgent", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn.normal=1d", "-OTimeout.queuewarn.non-urgent=4h"],
             message: Array("Priority: non-urgent\n".utf8) + message, backdate: 5 * hour, expects: [warned]),
        Case(name: "warn-class-normal", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn.normal=1d", "-OTimeout.queuewarn.non-urgent=4h"],
             message: message, backdate: 5 * hour),
        // precedences (deliver.cf's P lines): bulk (class -60) is non-urgent and never warned
        Case(name: "warn-precedence-bulk", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"],
             message: Array("Precedence: bulk\n".utf8) + message, backdate: 5 * hour),
        Case(name: "warn-precedence-urgent", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn.normal=1d", "-OTimeout.queuewarn.urgent=4h"],
             message: Array("Precedence: special-delivery\n".utf8) + message, backdate: 5 * hour, expects: [warned]),
        Case(name: "warn-precedence-list", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn.normal=1d", "-OTimeout.queuewarn.non-urgent=4h"],
             message: Array("Precedence: list\n".utf8) + message, backdate: 5 * hour),

        // the m4-built cf: a program deferring (prog mailer, T=X-Unix)
        Case(name: "warn-m4-prog", submissions: [(["-f", "bin"], ["deferprog", "root"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, fromM4: true, backdate: 5 * hour,
             expects: [warned]),
        Case(name: "return-m4-prog", submissions: [(["-f", "bin"], ["deferprog", "readfail"])],
             runArguments: ["-v"], message: message, fromM4: true, backdate: 6 * day,
             expects: ["Message could not be delivered for 5 days"]),
        // older than queuereturn (default 5 days): returned, 4.4.7, removed
        Case(name: "return-expired", submissions: [(["-f", "bin"], ["a@tempfail", "b@nouser", "root"])],
             runArguments: ["-v"], message: message, backdate: 6 * day,
             expects: ["Message could not be delivered for 5 days", "Status: 4.4.7"]),
        Case(name: "return-expired-quiet", submissions: [(["-f", "bin"], ["a@tempfail", "b@tempfail"])],
             runArguments: ["-qf"], message: message, backdate: 6 * day, expects: ["Status: 4.4.7"]),
        Case(name: "return-expired-option", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuereturn=2h", "-OTimeout.queuewarn=1h"], message: message,
             backdate: 3 * hour, expects: ["Message could not be delivered for 2 hours"]),
        // NOTIFY=NEVER: dropped without a report, the emptied qf written back
        Case(name: "return-expired-notify-never", submissions: [(["-f", "bin", "-N", "never"], ["a@tempfail", "c@nouser", "root"])],
             runArguments: ["-v"], message: message, backdate: 6 * day),
        // an emptied qf is removed by the next run
        Case(name: "return-expired-empty-qf", submissions: [(["-f", "bin", "-N", "never"], ["a@tempfail"])],
             runArguments: ["-v"], message: message, preRun: ["-v"], expectsMailer: false, backdate: 6 * day),
        // from <>: the expiry goes to the postmaster
        Case(name: "return-expired-null-sender", submissions: [(["-f", "<>"], ["a@tempfail"])],
             runArguments: ["-v"], message: message, backdate: 6 * day, expects: ["Postmaster notify"]),
        Case(name: "return-class-urgent", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuereturn.urgent=1d"], message: Array("Priority: urgent\n".utf8) + message,
             backdate: 2 * day, expects: ["Message could not be delivered for 1 day"]),
    ]

    /// Messages to several hosts (one with a local first recipient), of
    /// different sizes: priority, host, time and modification orders differ.
    static let orderSubmissions: [([String], [String])] = [
        (["-f", "root"], ["a@zeta.example"]), (["-f", "bin"], ["b@alpha.example", "c@tempfail"]),
        (["-f", "daemon"], ["x@beta.example"]), (["-f", "root"], ["y@alpha.example"]),
        (["-f", "sys"], ["root", "z@Alpha.example"]), (["-f", "bin"], ["q@www.zeta.example"]),
        (["-f", "root"], ["root"]),
    ]
    static let orders = ["priority", "host", "filename", "time", "modification", "none"]

    static let orderCases: [Case] = orders.map { o in
        Case(name: "order-\(o)", submissions: orderSubmissions, runArguments: ["-v", "-OQueueSortOrder=\(o)"],
             message: message, spread: true)
    } + [
        // only the first letter counts
        Case(name: "order-abbreviated", submissions: orderSubmissions, runArguments: ["-v", "-OQueueSortOrder=Mod"],
             message: message, spread: true),
        Case(name: "order-host-max-run", submissions: orderSubmissions,
             runArguments: ["-v", "-OQueueSortOrder=host", "-OMaxQueueRunSize=4"], message: message, spread: true),
    ]

    /// The load average (QueueLA 0, QueueFactor 1: any load holds all
    /// work back): the run is skipped, with sendmail's words.
    static let loadCases: [Case] = [
        Case(name: "load-skips-run", submissions: [(["-f", "root"], ["root"])],
             runArguments: ["-v", "-OQueueLA=0", "-OQueueFactor=1"], message: message, expectsMailer: false),
        Case(name: "load-skips-quiet-run", submissions: [(["-f", "root"], ["root"])],
             runArguments: ["-qf", "-OQueueLA=0", "-OQueueFactor=1"], message: message, expectsMailer: false),
        Case(name: "load-skips-selected-run", submissions: [(["-f", "root"], ["root"])],
             runArguments: ["-v", "-qRroot", "-OQueueLA=0", "-OQueueFactor=1"], message: message, expectsMailer: false),
    ]

    @Test("queue run: QueueLA and QueueFactor", arguments: QueueRunnerTests.loadCases)
    func loadLimits(_ c: Case) throws {
        try DeliverTests.compareRuns(c)
    }

    /// mailq's status marks: `-` (tried less than MinQueueAge ago) and
    /// `X` (the load average holds it back), on a queue with a deferred
    /// message (tried once by the oracle) and a new one.
    @Test("mailq: MinQueueAge and load marks", arguments: [
        // (no 1s case: whether the entry is a second old would depend on timing)
        ["-OMinQueueAge=1h"], ["-OMinQueueAge=1h", "-v"], ["-OMinQueueAge=0"],
        ["-OQueueLA=0", "-OQueueFactor=1"], ["-OQueueLA=0", "-OQueueFactor=1", "-OMinQueueAge=1h", "-v"],
    ])
    func mailqMarks(_ extra: [String]) throws {
        guard getuid() == 0 else { throw HarnessError("QueueRunnerTests need root") }
        let name = "mailq-marks" + extra.joined().filter { $0.isLetter || $0.isNumber }
        let (cf, _) = try DeliverTests.prepareScratch(name)
        var options = SandboxOptions()
        let runs = Workspace.shared.runs
        options.modeFlag = "-odq"
        options.extraArguments = ["-oi", "-f", "root", "a@tempfail"]
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: Self.message, options: options, runDir: runs, tag: "\(name).submit0")
        options.modeFlag = "-qf"
        options.extraArguments = []
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options, runDir: runs, tag: "\(name).prerun")
        options.modeFlag = "-odq"
        options.extraArguments = ["-oi", "-f", "bin", "b@tempfail"]
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: Self.message, options: options, runDir: runs, tag: "\(name).submit1")
        options.modeFlag = "-bp"
        options.extraArguments = extra
        let (real, ours) = try Sandbox.runBoth(cf: cf, input: [], options: options, tag: name)
        #expect(String(decoding: real.stdout, as: UTF8.self).contains("Total requests: 2"),
                "the oracle's listing: \(String(decoding: real.stdout, as: UTF8.self))")
        // the marks the case is about are there
        let text = String(decoding: real.stdout, as: UTF8.self)
        if extra.contains("-OMinQueueAge=1h") {
            #expect(text.range(of: #"\n[0-9A-Za-z]{14}-"#, options: .regularExpression) != nil, "no '-' mark: \(text)")
        }
        if extra.contains("-OQueueFactor=1") {
            #expect(text.range(of: #"\n[0-9A-Za-z]{14}X"#, options: .regularExpression) != nil, "no 'X' mark: \(text)")
        }
        expectSameRun(ours, real)
    }

    @Test("queue run: the order of QueueSortOrder", arguments: QueueRunnerTests.orderCases)
    func runOrder(_ c: Case) throws {
        try DeliverTests.compareRuns(c)
    }

    /// mailq lists the queue in the same order a run takes (ties in
    /// directory order).
    /// ("-max4": with MaxQueueRunSize=4, the first four in directory order
    /// are sorted and listed)
    @Test("mailq: the order of QueueSortOrder", arguments: QueueRunnerTests.orders + ["random-count", "host-max4", "time-max4"])
    func mailqOrder(_ order: String) throws {
        guard getuid() == 0 else { throw HarnessError("QueueRunnerTests need root") }
        let name = "mailq-order-" + order
        let (cf, d) = try DeliverTests.prepareScratch(name)
        var options = SandboxOptions()
        let runs = Workspace.shared.runs
        for (i, (args, rcpts)) in Self.orderSubmissions.enumerated() {
            options.modeFlag = "-odq"
            options.extraArguments = ["-oi"] + args + rcpts
            let r = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: Self.message + Array(repeating: UInt8(ascii: "x"), count: i * 37 % 100),
                                    options: options, runDir: runs, tag: "\(name).submit\(i)")
            #expect(r.status == 0, "the oracle did not queue the message")
        }
        try DeliverTests.spread(d + "/q")
        options.modeFlag = "-bp"
        let random = order.hasPrefix("random")
        let base = order.components(separatedBy: "-").first ?? order
        options.extraArguments = ["-OQueueSortOrder=\(base)"] + (order.hasSuffix("-max4") ? ["-OMaxQueueRunSize=4"] : [])
        let (real, ours) = try Sandbox.runBoth(cf: cf, input: [], options: options, tag: name)
        #expect(real.status == 0 && String(decoding: real.stdout, as: UTF8.self).contains("Total requests: \(Self.orderSubmissions.count)"),
                "the oracle's listing: \(String(decoding: real.stdout, as: UTF8.self))")
        if random {
            // the same entries, in some order
            let lines = { (r: RunResult) in String(decoding: r.stdout, as: UTF8.self).components(separatedBy: "\n").sorted() }
            #expect(lines(ours) == lines(real))
        } else {
            #expect(String(decoding: ours.stdout, as: UTF8.self) == String(decoding: real.stdout, as: UTF8.self))
        }
        #expect(ours.status == real.status)
    }

    /// Queue groups: the oracle queues (and splits) the messages into the
    /// default group and "fast"; runs go through both, or the -qG one.
    static let groupSubmissions: [([String], [String])] = [
        (["-f", "bin"], ["a@fast.example", "root", "b@tempfail"]), (["-f", "daemon"], ["c@tempfail"]),
        (["-f", "root"], ["root"]),
    ]
    static let groupCases: [Case] = [
        Case(name: "groups-run-all", submissions: groupSubmissions, runArguments: ["-v"], message: message, queueGroups: true),
        Case(name: "groups-run-fast", submissions: groupSubmissions, runArguments: ["-v", "-qGfast"], message: message,
             queueGroups: true),
        Case(name: "groups-run-mqueue", submissions: groupSubmissions, runArguments: ["-v", "-qGmqueue"], message: message,
             queueGroups: true),
        Case(name: "groups-run-unknown", submissions: groupSubmissions, runArguments: ["-v", "-qGnone"], message: message,
             expectsMailer: false, queueGroups: true),
        // (not compared: a run without -v, where sendmail runs the groups
        // in parallel processes and the mailers' order varies)
        Case(name: "groups-run-selected", submissions: groupSubmissions, runArguments: ["-v", "-qRtempfail"], message: message,
             queueGroups: true),
        // a failure in the fast group: the bounce is queued in the default group
        Case(name: "groups-bounce", submissions: [(["-f", "bin"], ["c@nouser", "root"])], runArguments: ["-v"],
             message: message, bounce: true, queueGroups: true),
    ]

    @Test("queue run: queue groups", arguments: QueueRunnerTests.groupCases)
    func groupRuns(_ c: Case) throws {
        try DeliverTests.compareRuns(c)
        // the case is about groups: the oracle did put something in q/fast
        let fast = (try? FileManager.default.subpathsOfDirectory(
            atPath: Workspace.shared.runs.deletingLastPathComponent().appendingPathComponent(c.name + "/q.start/fast").path)) ?? []
        #expect(fast.contains { $0.hasPrefix("qf") }, "the oracle queued nothing in the fast group")
    }

    @Test("mailq: queue groups", arguments: ["", "-qGfast", "-qGmqueue", "-qGnone", "-v"])
    func groupListing(_ flag: String) throws {
        guard getuid() == 0 else { throw HarnessError("QueueRunnerTests need root") }
        let name = "mailq-groups" + flag
        let (cf, d) = try DeliverTests.prepareScratch(name, queueGroups: true)
        var options = SandboxOptions()
        for (i, (args, rcpts)) in Self.groupSubmissions.enumerated() {
            options.modeFlag = "-odq"
            options.extraArguments = ["-oi"] + args + rcpts
            let r = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: Self.message, options: options,
                                    runDir: Workspace.shared.runs, tag: "\(name).submit\(i)")
            #expect(r.status == 0, "the oracle did not queue the message")
        }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: d + "/q/fast")) ?? []).contains { $0.hasPrefix("qf") },
                "the oracle queued nothing in the fast group")
        options.modeFlag = "-bp"
        options.extraArguments = flag.isEmpty ? [] : [flag]
        let (real, ours) = try Sandbox.runBoth(cf: cf, input: [], options: options, tag: name)
        expectSameRun(ours, real)
    }

    @Test("queue run: delay warnings and expiry", arguments: QueueRunnerTests.ageCases)
    func ageLimits(_ c: Case) throws {
        try DeliverTests.compareRuns(c)
    }
}

extension QueueRunnerTests {
    /// What a periodic (`-q1s`) or persistent (`-qp1s`) runner did, as a
    /// user sees it.
    struct DaemonRun: Equatable {
        var status: Int32
        var output: String
        /// The pid file's second line (the command line, binary path normalised).
        var pidFileCommand: String
        /// The pid file named a live process leading its own session, not the command's.
        var detached: Bool
        /// After SIGHUP the pid file names the process it named before.
        var samePidAfterHUP: Bool
        var delivered: Bool
        var queueEmptied: Bool
        var stoppedBySIGTERM: Bool
        var pidFileRemoved: Bool
        /// The daemon's own syslog lines (starting/started as/stopping), normalised.
        var log: [String]
    }

    @Test("-q<time> and -qp: detached runner, pid file, deliveries, SIGHUP (a restart), SIGTERM",
          arguments: [("-q1s", false), ("-qp1s", false), ("-q1s", true), ("-qp1s", true)])
    func periodicRunner(_ flag: String, _ hup: Bool) throws {
        guard getuid() == 0 else { throw HarnessError("QueueRunnerTests need root") }
        if access("/dev/log", F_OK) != 0 {
            let fd = open("/dev/log", O_CREAT | O_WRONLY, 0o644)
            #expect(fd >= 0, "cannot create /dev/log to mount over: \(String(cString: strerror(errno)))")
            if fd >= 0 { close(fd) }
        }
        let name = "daemon" + flag + (hup ? "-hup" : "")
        let (cf, d) = try DeliverTests.prepareScratch(name)
        var options = SandboxOptions()
        let runs = Workspace.shared.runs
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options,
                            runDir: runs, tag: "\(name).newaliases")
        var results: [DaemonRun] = []
        for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try DeliverTests.shell("rm -rf '\(d)/q'/* '\(d)/out'/* '\(d)/box'/* '\(d)/pid'")
            let collector = try DatagramCollector(path: d + "/log-\(tag).sock")
            // (read while the binary runs: only 10 datagrams wait in the socket)
            collector.startDraining()
            options.modeFlag = flag
            options.devLog = collector.path
            options.extraArguments = ["-OPidFile=\(d)/pid", "-OLogLevel=10"]
            let r = try Sandbox.run(binary: binary, cf: cf, input: [], options: options, runDir: runs, tag: "\(name).\(tag)")
            usleep(300_000)
            var pidText = (try? String(contentsOfFile: d + "/pid", encoding: .utf8)) ?? ""
            var pidLines = pidText.components(separatedBy: "\n")
            var pid = pid_t(pidLines.first ?? "") ?? 0
            var detached = pid > 0 && kill(pid, 0) == 0 && getsid(pid) == pid
            var samePid = true
            if hup && pid > 0 {
                // sendmail re-executes itself: the same command line again
                kill(pid, SIGHUP)
                usleep(1_500_000)
                pidText = (try? String(contentsOfFile: d + "/pid", encoding: .utf8)) ?? ""
                pidLines = pidText.components(separatedBy: "\n")
                let again = pid_t(pidLines.first ?? "") ?? 0
                samePid = again == pid
                if again > 0 { pid = again }
                detached = detached && pid > 0 && kill(pid, 0) == 0 && getsid(pid) == pid
            }
            // a message queued after the start is delivered by a later run
            options.modeFlag = "-odq"
            options.devLog = nil
            options.extraArguments = ["-oi", "-f", "bin", "root"]
            _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: Self.message, options: options,
                                runDir: runs, tag: "\(name).\(tag).submit")
            let fm = FileManager.default
            var waited = 0, delivered = false, emptied = false
            while waited < 120 {
                delivered = fm.fileExists(atPath: d + "/out/call0.stdin")
                emptied = !((try? fm.contentsOfDirectory(atPath: d + "/q")) ?? []).contains { $0.hasPrefix("qf") }
                if delivered && emptied { break }
                usleep(100_000)
                waited += 1
            }
            var stopped = false
            if pid > 0 && kill(pid, SIGTERM) == 0 {
                for _ in 0..<50 where !stopped {
                    usleep(100_000)
                    stopped = kill(pid, 0) != 0
                }
            }
            if pid > 0 && !stopped { kill(pid, SIGKILL) }
            usleep(200_000)
            let binaryPath = URL(fileURLWithPath: binary).resolvingSymlinksInPath().path
            let log = collector.drain()
                .filter { $0.contains("daemon") || $0.contains("started as:") || $0.contains("restart") }
                .map { LogTests.normalise($0, id: nil)
                    .replacingOccurrences(of: #"[0-9A-Za-z]{8}[0-9]{6}: "#, with: "QID: ", options: .regularExpression)
                    .replacingOccurrences(of: binaryPath, with: "BIN") }
            results.append(DaemonRun(status: r.status, output: String(decoding: r.stdout + r.stderr, as: UTF8.self),
                                     pidFileCommand: (pidLines.count > 1 ? pidLines[1] : "").replacingOccurrences(of: binaryPath, with: "BIN"),
                                     detached: detached, samePidAfterHUP: samePid,
                                     delivered: delivered, queueEmptied: emptied, stoppedBySIGTERM: stopped,
                                     pidFileRemoved: !fm.fileExists(atPath: d + "/pid"), log: log))
        }
        let (real, ours) = (results[0], results[1])
        #expect(real.status == 0 && real.detached && real.delivered && real.stoppedBySIGTERM,
                "the oracle's runner did not behave as expected: \(real)")
        #expect(real.log.contains { $0.contains("starting daemon") }, "the oracle logged no start: \(real.log)")
        if hup { #expect(real.log.contains { $0.contains("restarting BIN due to signal") }, "the oracle did not restart: \(real.log)") }
        #expect(ours == real)
    }
}

extension QueueRunnerTests {
    final class ResultBox: @unchecked Sendable {
        var result: Result<RunResult, Error>? = nil
    }

    /// The xf file while a job is being delivered: after c@nouser failed
    /// and while z@sleep's mailer sleeps, the queue directory (names and
    /// bytes, the xf's hole included) must be the same for both binaries,
    /// and so must it be after the run (no xf left).
    @Test("xf: the transcript file during a job", arguments: [("10", false), ("4096", false), ("10", true)])
    func transcriptFile(_ bufferSize: String, _ subdirectories: Bool) throws {
        guard getuid() == 0 else { throw HarnessError("QueueRunnerTests need root") }
        let name = "xf-\(bufferSize)\(subdirectories ? "-subdirs" : "")"
        let (cf, d) = try DeliverTests.prepareScratch(name, subdirectories: subdirectories)
        var options = SandboxOptions()
        let runs = Workspace.shared.runs
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options, runDir: runs, tag: "\(name).newaliases")
        options.modeFlag = "-odq"
        options.extraArguments = ["-oi", "-f", "root", "-N", "never", "c@nouser", "z@sleep"]
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: Self.message, options: options, runDir: runs, tag: "\(name).submit")
        try DeliverTests.shell("cp -a '\(d)/q' '\(d)/q.start'")
        let fm = FileManager.default
        func queue() -> [String: String] {
            var files: [String: String] = [:]
            for p in (fm.subpaths(atPath: d + "/q") ?? []) {
                var isDir: ObjCBool = false
                guard fm.fileExists(atPath: d + "/q/" + p, isDirectory: &isDir), !isDir.boolValue, !Sandbox.isSpare(p) else { continue }
                let base = (p as NSString).lastPathComponent
                // qf and df are DeliverTests' business; the xf's bytes matter here
                files[p] = base.hasPrefix("xf") ? ((try? Data(contentsOf: URL(fileURLWithPath: d + "/q/" + p)))?.map { String($0) }.joined(separator: ",") ?? "?") : "present"
            }
            return files
        }
        var during: [[String: String]] = [], after: [[String: String]] = []
        for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try DeliverTests.shell("rm -rf '\(d)/q' '\(d)/out'/* && cp -a '\(d)/q.start' '\(d)/q'")
            options.modeFlag = "-qf"
            options.extraArguments = ["-OXscriptFileBufferSize=\(bufferSize)"]
            let box = ResultBox(), done = DispatchSemaphore(value: 0)
            let opts = options
            Thread.detachNewThread {
                box.result = Result { try Sandbox.run(binary: binary, cf: cf, input: [], options: opts, runDir: runs, tag: "\(name).\(tag)") }
                done.signal()
            }
            // z@sleep's mailer has started (it sleeps 4 seconds)
            var waited = 0
            while waited < 60, !(((try? fm.contentsOfDirectory(atPath: d + "/out")) ?? []).contains("call2.info")) {
                usleep(50_000)
                waited += 1
            }
            usleep(300_000)
            during.append(queue())
            done.wait()
            _ = try box.result?.get()
            after.append(queue())
        }
        #expect(during[1] == during[0])
        #expect(after[1] == after[0])
        if bufferSize == "10" {
            #expect(during[0].keys.contains { $0.hasPrefix(subdirectories ? "xf/xf" : "xf") }, "the oracle wrote no xf: \(during[0])")
        }
    }
}

extension QueueRunnerTests {
    /// The files under `q`, with each queue ID replaced by its place in
    /// the ID sequence relative to the lowest one (`<id+0>`, `<id+1>`...;
    /// the two sequence characters are base 60) and dates by `<date>`.
    static func queueFiles(_ q: String) throws -> [String: String] {
        let fm = FileManager.default
        let paths = (fm.subpaths(atPath: q) ?? []).filter {
            var isDir: ObjCBool = false
            return fm.fileExists(atPath: q + "/" + $0, isDirectory: &isDir) && !isDir.boolValue
        }
        let idPattern = #"[0-9A-Za-z]{8}[0-9]{6}"#
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx")
        func seq(_ id: String) -> Int {
            let c = Array(id)
            return (alphabet.firstIndex(of: c[6]) ?? 0) * 60 + (alphabet.firstIndex(of: c[7]) ?? 0)
        }
        let ids = Set(paths.map { String(($0 as NSString).lastPathComponent.dropFirst(2)) })
        // the base: the ID from which all others are the fewest steps on
        let base = ids.min { a, b in
            ids.map { (seq($0) - seq(a) + 3600) % 3600 }.max()! < ids.map { (seq($0) - seq(b) + 3600) % 3600 }.max()!
        }.map(seq) ?? 0
        func norm(_ s: String) -> String {
            var out = s
            for id in ids { out = out.replacingOccurrences(of: id, with: "<id+\((seq(id) - base + 3600) % 3600)>") }
            out = out.replacingOccurrences(of: #"[A-Z][a-z]{2}, [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT"#, with: "<date>",
                                           options: .regularExpression)
            out = out.replacingOccurrences(of: #"<[0-9]{12}\."#, with: "<msgid-time>.", options: .regularExpression)
            out = out.replacingOccurrences(of: #"\nT[0-9]+\n"#, with: "\nT<time>\n", options: .regularExpression)
            return out.replacingOccurrences(of: idPattern, with: "<other-id>", options: .regularExpression)
        }
        var files: [String: String] = [:]
        for p in paths {
            let text = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: q + "/" + p))) ?? Data(), as: UTF8.self)
            files[norm(p)] = norm(text)
        }
        return files
    }

    /// Our submission places (and splits) messages in queue groups as
    /// sendmail does: the same envelopes, in the same directories, with
    /// the same recipients and IDs in the same sequence.
    @Test("submission: messages placed and split across queue groups", arguments: [
        ["b@tempfail", "root"], ["b@x.example", "d@y.example", "e@z.example", "root", "a@w.example"],
        ["b@x.example", "d@y.example"], ["root", "a@b.example"], ["root"],
        // local2's Q=fast, overridden by the ruleset for mq
        ["mq@local2", "y@local2", "root", "z@local2"],
    ])
    func groupPlacement(_ rcpts: [String]) throws {
        guard getuid() == 0 else { throw HarnessError("QueueRunnerTests need root") }
        let name = "groups-submit-\(rcpts.count)-\(rcpts[0].prefix(2))"
        var snapshots: [[String: String]] = []
        for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            let (cf, d) = try DeliverTests.prepareScratch(name, queueGroups: true)
            var options = SandboxOptions()
            options.modeFlag = "-odq"
            options.extraArguments = ["-oi", "-f", "bin"] + rcpts
            let r = try Sandbox.run(binary: binary, cf: cf, input: Self.message, options: options,
                                    runDir: Workspace.shared.runs, tag: "\(name).\(tag)")
            #expect(r.status == 0, "\(tag): \(String(decoding: r.stdout + r.stderr, as: UTF8.self))")
            snapshots.append(try Self.queueFiles(d + "/q"))
        }
        #expect(snapshots[0].keys.contains { $0.hasPrefix("fast/qf") } || rcpts == ["root"],
                "the oracle placed nothing in the fast group: \(snapshots[0].keys.sorted())")
        #expect(snapshots[1].keys.sorted() == snapshots[0].keys.sorted())
        for k in snapshots[0].keys.sorted() { #expect(snapshots[1][k] == snapshots[0][k], "\(k) differs") }
    }
}
