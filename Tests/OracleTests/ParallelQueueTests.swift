// ParallelQueueTests.swift — queue runs with several runners at once,
// against the oracle.
//
// The real sendmail queues messages (`-odq`) to next hops on 127.0.0.2-7
// with the m4-built deliver configuration, and a Q line (or two) makes
// queue groups with F=f and R=; then the real sendmail's `-qf` run and
// ours each deliver a copy of that queue in a private network namespace
// where Tests/Fixtures/oracle/parallel/gate-sink.py plays the next hops:
// it holds each greeting back until `gate` sessions are open at once (or
// `wait` seconds passed) and reports the most sessions it saw open at
// once.  Identical must be: stdout (the Q line warnings sendmail prints),
// stderr, the exit status, the messages each next hop received (sorted:
// runners work in any order), that most, the queue afterwards (`mailq`)
// and the syslog lines (sorted, IDs and delays normalised).  Each message
// must arrive exactly once, and the queue must be empty.
// Fails (never skips) when a prerequisite (root, python3) is missing.

import Foundation
import Testing

@Suite("Parallel queue runs: runners per queue group and MaxQueueChildren, as sendmail")
struct ParallelQueueTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        /// Q lines put after QueueDirectory (@SCRATCH@: the scratch directory).
        var queueLines: [String]
        /// One message per next hop (127.0.0.2 and on), in this order.
        var messages: Int
        /// Messages (by number, from 0) moved into q/g2 after queueing.
        var inSecondGroup: [Int] = []
        var runArguments: [String] = []
        var gate: Int
        var wait = 2.0
        /// The most sessions at once the oracle must show.
        var expectSessions: Int
        /// Every message to 127.0.0.2 (else one next hop each).
        var sameHost = false
        /// HostStatusDirectory (<scratch>/hs) and SingleThreadDelivery.
        var singleThread = false
        /// A host whose status file the test holds locked during the runs
        /// (another process talking to it).
        var lockedHost: String? = nil
        /// How many messages must arrive (nil: all, each once).
        var expectDelivered: Int? = nil
        var description: String { name }
    }

    static let cases: [Case] = [
        // the default group with three forked runners: three hosts at once
        Case(name: "par-mqueue-r3", queueLines: ["Qmqueue, P=@SCRATCH@/q, F=f, R=3"], messages: 6,
             gate: 3, wait: 5.0, expectSessions: 3),
        // no R=: MaxRunnersPerQueue runners
        Case(name: "par-max-runners-per-queue", queueLines: ["Qmqueue, P=@SCRATCH@/q, F=f"], messages: 4,
             runArguments: ["-OMaxRunnersPerQueue=2"], gate: 2, wait: 5.0, expectSessions: 2),
        // MaxQueueChildren=1 cuts R=3 to 1 (and says so): one at a time
        Case(name: "par-max-children-1", queueLines: ["Qmqueue, P=@SCRATCH@/q, F=f, R=3"], messages: 3,
             runArguments: ["-OMaxQueueChildren=1"], gate: 3, wait: 1.0, expectSessions: 1),
        // R=3 without F=f: sendmail warns and runs the jobs one by one
        Case(name: "par-no-fork-flag", queueLines: ["Qmqueue, P=@SCRATCH@/q, R=3"], messages: 3,
             gate: 3, wait: 1.0, expectSessions: 1),
        // two groups, two runners each: two work groups at once, four sessions
        Case(name: "par-two-groups", queueLines: ["Qmqueue, P=@SCRATCH@/q, F=f, R=2", "Qg2, P=@SCRATCH@/q/g2, F=f, R=2"],
             messages: 6, inSecondGroup: [1, 3, 5], gate: 4, wait: 5.0, expectSessions: 4),
        // ... and with MaxQueueChildren=2: one work group, the groups in turn
        Case(name: "par-two-groups-max-2", queueLines: ["Qmqueue, P=@SCRATCH@/q, F=f, R=2", "Qg2, P=@SCRATCH@/q/g2, F=f, R=2"],
             messages: 4, inSecondGroup: [1, 3], runArguments: ["-OMaxQueueChildren=2"], gate: 2, wait: 5.0,
             expectSessions: 2),
        // -v: no runners are forked; the dialogue in order, one at a time
        Case(name: "par-verbose", queueLines: ["Qmqueue, P=@SCRATCH@/q, F=f, R=3"], messages: 2,
             runArguments: ["-v"], gate: 3, wait: 1.0, expectSessions: 1),
        // SingleThreadDelivery: a host another process is talking to (its
        // status file locked) is not connected to; the message waits
        Case(name: "par-single-thread-locked", queueLines: ["Qmqueue, P=@SCRATCH@/q, F=f, R=3"], messages: 2,
             runArguments: ["-v"], gate: 3, wait: 0.5, expectSessions: 1, singleThread: true,
             lockedHost: "2./0./0./127", expectDelivered: 1),
        // ... and three runners with one next hop: one talks to it, the
        // others leave their message queued
        Case(name: "par-single-thread-runners", queueLines: ["Qmqueue, P=@SCRATCH@/q, F=f, R=3"], messages: 3,
             gate: 3, wait: 1.5, expectSessions: 1, sameHost: true, singleThread: true, expectDelivered: 1),
        // without it, the three runners talk to the one next hop at once
        Case(name: "par-one-host-runners", queueLines: ["Qmqueue, P=@SCRATCH@/q, F=f, R=3"], messages: 3,
             gate: 3, wait: 5.0, expectSessions: 3, sameHost: true),
    ]

    struct Outcome: Equatable {
        var stdout: String
        var stderr: String
        var status: Int32
        var delivered: [String]
        var maxSessions: Int
        var mailq: String
        var log: [String]
    }

    static func message(_ k: Int) -> [UInt8] {
        Array("Subject: parallel \(k)\nFrom: Joe <joe@x.example>\n\nmessage \(k)\n".utf8)
    }

    @Test("a queue run with parallel runners: what the next hops got, how many at once, queue and log", arguments: ParallelQueueTests.cases)
    func parallel(_ c: Case) throws {
        guard getuid() == 0 else { throw HarnessError("ParallelQueueTests need root (network namespace, port 25)") }
        guard access("/usr/bin/python3", X_OK) == 0 else { throw HarnessError("ParallelQueueTests need /usr/bin/python3 (the next hops)") }
        let (cf, d) = try DeliverTests.prepareScratch(c.name, fromM4: true)
        var cfText = try String(contentsOfFile: cf, encoding: .isoLatin1)
        if !cfText.contains("\nQmqueue") {
            var lines = cfText.components(separatedBy: "\n")
            guard DeliverTests.insertAfterQueueDirectory(&lines, c.queueLines.map { $0.replacingOccurrences(of: "@SCRATCH@", with: d) }) else {
                throw HarnessError("no QueueDirectory line in \(cf)")
            }
            cfText = lines.joined(separator: "\n")
            try cfText.write(toFile: cf, atomically: false, encoding: .isoLatin1)
        }
        try DeliverTests.shell("mkdir -p -m 700 '\(d)/q/g2'")
        LogTests.ensureDevLog()
        let runs = Workspace.shared.runs
        var options = SandboxOptions()
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options,
                            runDir: runs, tag: "\(c.name).newaliases")
        options.modeFlag = "-odq"
        func hop(_ k: Int) -> String { "127.0.0.\(c.sameHost ? 2 : 2 + k % 6)" }
        for k in 0..<c.messages {
            options.extraArguments = ["-oi", "-f", "root", "u\(k)@[\(hop(k))]"]
            let r = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: Self.message(k),
                                    options: options, runDir: runs, tag: "\(c.name).submit\(k)")
            #expect(r.status == 0, "the oracle did not queue: \(String(decoding: r.stdout + r.stderr, as: UTF8.self))")
        }
        // the chosen messages into the second group's directory
        for k in c.inSecondGroup {
            try DeliverTests.shell("cd '\(d)/q' && f=$(grep -l 'Subject: parallel \(k)$' qf* | sed 's/^qf//') && mv qf$f df$f g2/")
        }
        try DeliverTests.shell("rm -rf '\(d)/q.start' && cp -a '\(d)/q' '\(d)/q.start'")

        var results: [Outcome] = []
        for (binary, who) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try DeliverTests.shell("rm -rf '\(d)/q' '\(d)/home' '\(d)/hs' '\(d)/sink-\(who).log' && cp -a '\(d)/q.start' '\(d)/q' && mkdir -m 700 '\(d)/home'")
            var extra: [String] = []
            var lockFD: Int32 = -1
            if c.singleThread {
                try DeliverTests.shell("mkdir -m 755 '\(d)/hs'")
                // each next hop's status file made beforehand: sendmail's
                // runners create it with O_EXCL, and when two start at once
                // one fails ("mci_lock_host: cannot create host lock file
                // ...: File exists", SYSERR) and delivers without the lock
                for hop in Set((0..<c.messages).map(hop)) {
                    let parts = hop.split(separator: ".").reversed().map { "\($0)." }
                    let dir = "\(d)/hs/" + parts.dropLast().joined(separator: "/")
                    try DeliverTests.shell("mkdir -p -m 755 '\(dir)' && : > '\(dir)/127'")
                }
                extra = ["-OHostStatusDirectory=\(d)/hs", "-OSingleThreadDelivery=True"]
            }
            if let h = c.lockedHost {
                let path = d + "/hs/" + h
                try DeliverTests.shell("mkdir -p \"$(dirname '\(path)')\" && : > '\(path)'")
                lockFD = open(path, O_RDWR)
                #expect(lockFD >= 0 && flock(lockFD, LOCK_EX | LOCK_NB) == 0, "cannot lock \(path)")
            }
            defer { if lockFD >= 0 { close(lockFD) } }
            let sinkLog = d + "/sink-\(who).log"
            let collector = try DatagramCollector(path: d + "/log-\(who).sock")
            collector.startDraining()
            var o = SandboxOptions()
            o.privateNetwork = true
            o.devLog = collector.path
            o.launcher = ["/usr/bin/python3", OracleEnvironment.fixture("parallel/gate-sink.py"), sinkLog,
                          String(c.gate), String(c.wait)]
            o.modeFlag = "-qf"
            o.extraArguments = ["-OLogLevel=9", "-OConnectionCacheSize=1"] + extra + c.runArguments
            o.rootHome = d + "/home"
            o.timeoutSeconds = 60
            let r = try Sandbox.run(binary: binary, cf: cf, input: [], options: o, runDir: runs, tag: "\(c.name).\(who)")
            var q = SandboxOptions()
            q.modeFlag = "-bp"
            let listing = try Sandbox.run(binary: binary, cf: cf, input: [], options: q, runDir: runs, tag: "\(c.name).\(who).mailq")
            let sink = (try? String(contentsOfFile: sinkLog, encoding: .isoLatin1)) ?? ""
            // (one next hop: which runner's message got through varies)
            let sinkLines = sink.split(separator: "\n").map { c.sameHost ? Self.anyMessage(String($0)) : String($0) }
            let most = sinkLines.first { $0.hasPrefix("max-sessions ") }.flatMap { Int($0.dropFirst(13)) } ?? -1
            results.append(Outcome(
                stdout: Self.normalise(String(decoding: r.stdout, as: UTF8.self)),
                stderr: Self.normalise(String(decoding: r.stderr, as: UTF8.self)),
                status: r.status,
                delivered: sinkLines.filter { $0.hasPrefix("delivered ") }.sorted(),
                maxSessions: most,
                mailq: Self.normalise(String(decoding: listing.stdout + listing.stderr, as: UTF8.self), anyMessage: c.sameHost),
                log: collector.drain().map { Self.normalise($0, anyMessage: c.sameHost) }.sorted()))
        }
        let (real, ours) = (results[0], results[1])
        #expect(ours.stdout == real.stdout)
        #expect(ours.stderr == real.stderr)
        #expect(ours.status == real.status)
        #expect(ours.delivered == real.delivered, "what the next hops received differs")
        #expect(ours.maxSessions == real.maxSessions, "sessions open at once differ")
        #expect(ours.mailq == real.mailq)
        #expect(ours.log == real.log)
        // the case shows what it says: every message once, all at the
        // number of sessions expected, nothing left
        if let n = c.expectDelivered {
            #expect(real.delivered.count == n, "the oracle's next hops got \(real.delivered.count) messages")
            #expect(!ours.mailq.contains("is empty"), "our queue is empty afterwards")
        } else {
            let wanted = (0..<c.messages).map { "delivered \(hop($0)) u\($0)@[\(hop($0))] Subject: parallel \($0)" }
                .map { c.sameHost ? Self.anyMessage($0) : $0 }.sorted()
            #expect(real.delivered == wanted, "the oracle's next hops did not get each message once")
            #expect(ours.delivered == wanted, "our next hops did not get each message once")
            #expect(ours.mailq.contains("is empty"), "our queue is not empty afterwards: \(ours.mailq)")
        }
        #expect(real.maxSessions == c.expectSessions, "the oracle had \(real.maxSessions) sessions at once")
        #expect(ours.maxSessions == c.expectSessions, "we had \(ours.maxSessions) sessions at once")
    }

    /// The work list's log lines: grown past 1000 entries (1001 queued
    /// here: copies of one the oracle queued), cut at MaxQueueRunSize.
    /// (Each to a next hop that refuses: deferred, quickly.)
    @Test("the work list's log lines: grew WorkList, maxed out", arguments: [[], ["-OMaxQueueRunSize=2"]])
    func workList(_ extra: [String]) throws {
        guard getuid() == 0 else { throw HarnessError("ParallelQueueTests need root") }
        LogTests.ensureDevLog()
        let tag = "par-worklist-\(extra.count)"
        let (cf, d) = try DeliverTests.prepareScratch(tag, fromM4: true)
        let runs = Workspace.shared.runs
        var options = SandboxOptions()
        options.modeFlag = "-odq"
        options.extraArguments = ["-oi", "-f", "root", "u@[127.0.0.9]"]
        let r = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: Self.message(0),
                                options: options, runDir: runs, tag: "\(tag).submit")
        #expect(r.status == 0, "the oracle did not queue: \(String(decoding: r.stdout + r.stderr, as: UTF8.self))")
        try DeliverTests.shell("cd '\(d)/q' && id=$(ls qf* | head -1 | sed 's/^qf//') && i=1 && while [ $i -le 1000 ]; do "
                               + "n=$(printf 'zzzzzzzz%06d' $i); cp qf$id qf$n; cp df$id df$n; i=$((i+1)); done")
        try DeliverTests.shell("rm -rf '\(d)/q.start' && cp -a '\(d)/q' '\(d)/q.start'")
        var logs: [[String]] = []
        for (binary, who) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try DeliverTests.shell("rm -rf '\(d)/q' && cp -a '\(d)/q.start' '\(d)/q'")
            let collector = try DatagramCollector(path: d + "/log-\(who).sock")
            collector.startDraining()
            var o = SandboxOptions()
            o.devLog = collector.path
            o.modeFlag = "-qf"
            o.privateNetwork = true
            o.extraArguments = ["-OLogLevel=9"] + extra
            o.timeoutSeconds = 120
            let run = try Sandbox.run(binary: binary, cf: cf, input: [], options: o, runDir: runs, tag: "\(tag).\(who)")
            #expect(run.status == 0, "\(who): \(String(decoding: run.stdout + run.stderr, as: UTF8.self))")
            logs.append(collector.drain().map { Self.normalise($0) }.filter { $0.contains("WorkList") })
        }
        #expect(logs[1] == logs[0])
        let wanted = extra.isEmpty ? "grew WorkList for \(d)/q to 2000" : "WorkList for \(d)/q maxed out at 2"
        #expect(logs[0].contains { $0.hasSuffix(wanted) }, "the oracle did not log \"\(wanted)\": \(logs[0])")
    }

    /// A queue group's own interval under a `-q<time>` runner: with
    /// `-q1h` and the fast group's I=1s, a message queued into the fast
    /// group after the start is delivered within seconds, one queued into
    /// the default group waits for the hour.
    @Test("-q1h with a group's I=1s: that group is run every second, the others not (a runner, and the SMTP daemon's runs)",
          arguments: [false, true])
    func groupInterval(_ daemon: Bool) throws {
        guard getuid() == 0 else { throw HarnessError("ParallelQueueTests need root") }
        LogTests.ensureDevLog()
        let name = "par-interval-\(daemon)"
        let (cf, d) = try DeliverTests.prepareScratch(name, queueGroups: true)
        let cfText = try String(contentsOfFile: cf, encoding: .isoLatin1)
        if !cfText.contains("F=f, r=1, I=1s") {
            try cfText.replacingOccurrences(of: "F=f, r=1", with: "F=f, r=1, I=1s").write(toFile: cf, atomically: false, encoding: .isoLatin1)
        }
        #expect(try String(contentsOfFile: cf, encoding: .isoLatin1).contains("I=1s"), "no I= in the fast group's Q line")
        let runs = Workspace.shared.runs
        var options = SandboxOptions()
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options,
                            runDir: runs, tag: "\(name).newaliases")
        var results: [(fastDelivered: Bool, defaultWaiting: Bool)] = []
        for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try DeliverTests.shell("rm -rf '\(d)/q'/qf* '\(d)/q'/df* '\(d)/q/fast'/* '\(d)/out'/* '\(d)/box'/* '\(d)/pid'")
            options.modeFlag = daemon ? "-bd" : "-q1h"
            options.extraArguments = ["-OPidFile=\(d)/pid"] + (daemon ? ["-q1h", "-ODaemonPortOptions=Port=2599,Addr=127.0.0.1"] : [])
            // (the daemon listens in a network of its own)
            options.privateNetwork = daemon
            _ = try Sandbox.run(binary: binary, cf: cf, input: [], options: options, runDir: runs, tag: "\(name).\(tag)")
            options.privateNetwork = false
            usleep(1_500_000)
            let pid = pid_t(((try? String(contentsOfFile: d + "/pid", encoding: .utf8)) ?? "").components(separatedBy: "\n")[0]) ?? 0
            #expect(pid > 0, "\(tag): no runner pid")
            defer { if pid > 0 { kill(pid, SIGTERM); usleep(300_000); kill(pid, SIGKILL) } }
            options.modeFlag = "-odq"
            for rcpt in ["a@fast.example", "root"] {
                options.extraArguments = ["-oi", "-f", "bin", rcpt]
                _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: DeliverTests.plainMessage, options: options,
                                    runDir: runs, tag: "\(name).\(tag).submit-\(rcpt)")
            }
            let fm = FileManager.default
            func queued(_ dir: String) -> Bool { ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).contains { $0.hasPrefix("qf") } }
            #expect(queued(d + "/q/fast") || fm.fileExists(atPath: d + "/out/call0.stdin"), "\(tag): nothing went to the fast group")
            var waited = 0
            while waited < 60 && queued(d + "/q/fast") { usleep(100_000); waited += 1 }
            usleep(1_500_000)
            results.append((!queued(d + "/q/fast"), queued(d + "/q")))
        }
        #expect(results[0].fastDelivered && results[0].defaultWaiting, "the oracle did not run only the fast group: \(results[0])")
        #expect(results[1].fastDelivered == results[0].fastDelivered && results[1].defaultWaiting == results[0].defaultWaiting,
                "ours: \(results[1]), the oracle: \(results[0])")
    }

    /// Above LogLevel 69, each group's run: "runqueue <dir>, pid=,
    /// forkflag=" (1 in a forked work group), one group and two.
    @Test("LogLevel 70: the runqueue lines of each group's run", arguments: [false, true])
    func runqueueLines(_ twoGroups: Bool) throws {
        guard getuid() == 0 else { throw HarnessError("ParallelQueueTests need root") }
        LogTests.ensureDevLog()
        let name = "par-runqueue-\(twoGroups)"
        let (cf, d) = try DeliverTests.prepareScratch(name, queueGroups: twoGroups)
        let runs = Workspace.shared.runs
        var logs: [[String]] = []
        for (binary, who) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            let collector = try DatagramCollector(path: d + "/log-\(who).sock")
            collector.startDraining()
            var o = SandboxOptions()
            o.devLog = collector.path
            o.modeFlag = "-qf"
            o.extraArguments = ["-OLogLevel=70"]
            let r = try Sandbox.run(binary: binary, cf: cf, input: [], options: o, runDir: runs, tag: "\(name).\(who)")
            #expect(r.status == 0, "\(who): \(String(decoding: r.stdout + r.stderr, as: UTF8.self))")
            logs.append(collector.drain().filter { $0.contains(": runqueue ") }
                .map { Self.normalise($0).replacingOccurrences(of: #"pid=[0-9]+"#, with: "pid=P", options: .regularExpression) }
                .sorted())
        }
        #expect(logs[1] == logs[0])
        #expect(logs[0].count == (twoGroups ? 2 : 1), "the oracle's runqueue lines: \(logs[0])")
    }

    /// A queue group's niceness (N=, else NiceQueueRun): the local mailer
    /// the run starts prints the niceness it inherits.
    @Test("a group's N= and NiceQueueRun: the niceness the run's mailers get",
          arguments: [("Qmqueue, P=@SCRATCH@/q, N=7", [String]()), ("", ["-ONiceQueueRun=3"]),
                      ("Qmqueue, P=@SCRATCH@/q, N=5", ["-ONiceQueueRun=3"])])
    func groupNice(_ queueLine: String, _ extra: [String]) throws {
        guard getuid() == 0 else { throw HarnessError("ParallelQueueTests need root") }
        let name = "par-nice-\(queueLine.count)-\(extra.count)"
        let (cf, d) = try DeliverTests.prepareScratch(name)
        var cfText = try String(contentsOfFile: cf, encoding: .isoLatin1)
        if !cfText.contains("nice-mailer.sh") {
            var lines = cfText.components(separatedBy: "\n")
            if !queueLine.isEmpty {
                _ = DeliverTests.insertAfterQueueDirectory(&lines, [queueLine.replacingOccurrences(of: "@SCRATCH@", with: d)])
            }
            for (i, l) in lines.enumerated() where l.hasPrefix("Mlocal, ") {
                lines[i] = "Mlocal, P=\(d)/nice-mailer.sh, F=lsDFMAw5|/:@mn, S=10, R=20, A=nice-mailer.sh \(d)/out $u"
            }
            cfText = lines.joined(separator: "\n")
            try cfText.write(toFile: cf, atomically: false, encoding: .isoLatin1)
        }
        #expect(cfText.contains("nice-mailer.sh"), "no local mailer line to replace")
        try "#!/bin/sh\ncat > /dev/null\nnice >> \"$1/nice\"\nexit 0\n".write(toFile: d + "/nice-mailer.sh", atomically: false, encoding: .utf8)
        chmod(d + "/nice-mailer.sh", 0o755)
        let runs = Workspace.shared.runs
        var options = SandboxOptions()
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options,
                            runDir: runs, tag: "\(name).newaliases")
        options.modeFlag = "-odq"
        options.extraArguments = ["-oi", "-f", "bin", "root"]
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: DeliverTests.plainMessage, options: options,
                            runDir: runs, tag: "\(name).submit")
        try DeliverTests.shell("rm -rf '\(d)/q.start' && cp -a '\(d)/q' '\(d)/q.start'")
        var seen: [String] = []
        for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try DeliverTests.shell("rm -rf '\(d)/q' '\(d)/out/nice' && cp -a '\(d)/q.start' '\(d)/q'")
            var o = SandboxOptions()
            o.modeFlag = "-qf"
            o.extraArguments = extra
            let r = try Sandbox.run(binary: binary, cf: cf, input: [], options: o, runDir: runs, tag: "\(name).\(tag)")
            #expect(r.status == 0, "\(tag): \(String(decoding: r.stdout + r.stderr, as: UTF8.self))")
            seen.append((try? String(contentsOfFile: d + "/out/nice", encoding: .utf8)) ?? "(no mailer call)")
        }
        #expect(seen[1] == seen[0])
        #expect(seen[0] != "0\n" && seen[0].hasSuffix("\n"), "the oracle's mailer ran at niceness \(seen[0])")
    }

    /// The warnings sendmail prints on stdout for option combinations it
    /// turns off, in any mode (here `mailq`).
    @Test("warnings for host status without a connection cache and SingleThreadDelivery without host status",
          arguments: [["-OSingleThreadDelivery=True"],
                      ["-OSingleThreadDelivery=True", "-OHostStatusDirectory=hs", "-OConnectionCacheSize=0"],
                      ["-OHostStatusDirectory=hs", "-OConnectionCacheSize=0"],
                      ["-OSingleThreadDelivery=True", "-OHostStatusDirectory=hs"]])
    func optionWarnings(_ arguments: [String]) throws {
        guard getuid() == 0 else { throw HarnessError("ParallelQueueTests need root") }
        let tag = "par-warnings-\(arguments.count)-\(arguments.last!.count)"
        let (cf, _) = try DeliverTests.prepareScratch(tag, fromM4: true)
        var o = SandboxOptions()
        o.modeFlag = "-bp"
        o.extraArguments = arguments
        let (real, ours) = try Sandbox.runBoth(cf: cf, options: o, tag: tag)
        expectSameRun(ours, real)
        let shown = String(decoding: real.stdout, as: UTF8.self)
        #expect(shown.contains("Warning: HostStatusDirectory") || shown.contains("Warning: Cannot use HostStatusDirectory"),
                "the oracle printed no warning: \(shown)")
    }

    /// u<k> and "parallel <k>" without the message's number; a host
    /// found busy: whether its status file was locked when it was read
    /// (4.0.0) or only when it was to be locked (4.4.5) is a race.
    static func anyMessage(_ s: String) -> String {
        s.replacingOccurrences(of: #"\bu[0-9]+@"#, with: "uN@", options: .regularExpression)
            .replacingOccurrences(of: "parallel [0-9]+", with: "parallel N", options: .regularExpression)
            .replacingOccurrences(of: "dsn=4.4.5, stat=Deferred", with: "dsn=4.0.0, stat=Deferred")
    }

    /// Queue IDs, dates, pids, delays and priorities (`anyMessage`: and
    /// which message it is).
    static func normalise(_ s: String, anyMessage: Bool = false) -> String {
        if anyMessage { return Self.normalise(Self.anyMessage(s)) }
        var t = OutboundTests.normalise(s)
        for (pattern, replacement) in [
            (#"^<([0-9]+)>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} "#, "<$1><syslog time> "),
            (#"[0-9A-Za-z]{8}[0-9]{6,}"#, "<id>"),
            (#"delay=[0-9+:]+"#, "delay=D"),
            (#"pri=[0-9]+"#, "pri=P"),
            (#"\[[0-9]+\]"#, "[PID]"),
        ] {
            t = t.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return t
    }
}
