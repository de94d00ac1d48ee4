// OutboundTests.swift — queue runs delivering over SMTP, against the oracle.
//
// The real sendmail queues a message (`-odq`) with the m4-built deliver
// configuration (MAILER(smtp): esmtp to `user@[127.0.0.x]` literals), then
// the real sendmail's queue run and ours each deliver a copy of the queue
// in a private network namespace where Tests/Fixtures/oracle/outbound/
// sink.py plays the next hops on 127.0.0.2-8 (full ESMTP, no ESMTP, no
// extensions, nothing listening, a peer that hangs after the message, a
// busy 421 greeting, LMTP; recipients' local parts script 4xx/5xx).
// Identical must be: the -v dialogue on stdout, stderr, the exit status,
// what every next hop received (commands, envelope parameters and the
// message bytes) and answered, the local mailer's calls (bounces: the DSN
// with Remote-MTA, Diagnostic-Code and the transcript), the queue
// afterwards (qf with its M lines), `mailq` of what is left, and the
// syslog lines (relay=, dsn=, stat=).  Normalised: queue IDs of new
// messages, dates, the time in K lines, pids, delay=/xdelay=.
// Fails (never skips) when a prerequisite (root, python3) is missing.

import Foundation
import Testing

@Suite("Outbound SMTP: queue runs delivering to scripted next hops, as sendmail")
struct OutboundTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var submitArguments: [String] = ["-f", "root"]
        var recipients: [String]
        /// Recipients of further messages queued after the first (one
        /// queue run delivers them all: sessions are reused).
        var more: [[String]] = []
        var runArguments: [String] = []
        /// How many queue runs each binary makes (a deferral, then the
        /// next run).
        var runs = 1
        var message = OutboundTests.message
        /// Texts the oracle's run must show (the case does what it says).
        var expects: [String]
        /// FEATURE(local_lmtp) (outbound/lmtp.mc): local users are
        /// delivered by lmtp-stdio.py over LMTP on a pipe.
        var localLMTP = false
        /// Delivered at submission (`-odi -v`) by each binary instead of
        /// queued by the oracle and run (ErrorMode=p: dead.letter in the
        /// sandbox's /root).
        var atSubmission = false
        /// Ruleset 0 sends user@v6 and user@multi to esmtp with the host
        /// names of the fixture hosts file (v6.ob.test, multi.ob.test).
        var namedHosts = false
        /// A mailer lmtpx (P=[IPC], F=z: LMTP over TCP) that ruleset 0
        /// gives user@lmtphost, to the LMTP next hop 127.0.0.8.
        var lmtpMailer = false
        /// The esmtp mailer's r= (recipients per transaction).
        var esmtpMaxRcpt: Int? = nil
        /// The test certificates (DaemonTests.certificates) in the
        /// scratch's tls/, where sink.py's TLS next hops find theirs.
        var certificates = false
        /// Edits of the cf (OutboundTLSTests): each text replaced by the
        /// other (@SCRATCH@: the scratch directory), unless already done.
        var cfEdits: [(String, String)] = []
        /// A shell command run in the scratch directory before the
        /// message is queued (@SCRATCH@: that directory).
        var setup: String? = nil
        var description: String { name }
    }

    static let message = Array("Subject: outbound\nFrom: Joe <joe@x.example>\nTo: someone@example.org\n\nhello\n.a line with a dot\n..two dots\nlast\n".utf8)
    static let eightBit = Array("Subject: caf\u{e9}\nFrom: joe@x.example\n\nd\u{e9}j\u{e0} vu\n".utf8)

    static let cases: [Case] = [
        Case(name: "ob-accept", recipients: ["a@[127.0.0.2]"],
             expects: ["Sent (sink-id Message accepted for delivery)"]),
        // the esmtp mailer's L=990: a longer body line is broken with "!"
        // at the limit, as sendmail's putline does
        Case(name: "ob-long-line", recipients: ["a@[127.0.0.2]"],
             message: Array(("Subject: long\n\n" + String(repeating: "0123456789", count: 120) + "\nshort\n"
                             + String(repeating: "x", count: 989) + "\n" + String(repeating: "y", count: 990) + "\n").utf8),
             expects: ["Sent"]),
        // forty recipients in one transaction: the to= list of the log
        // line as sendmail shortens it
        Case(name: "ob-many-recipients", recipients: (1...40).map { "recipient\($0)@[127.0.0.2]" },
             expects: ["Sent"]),
        Case(name: "ob-one-transaction", recipients: ["a@[127.0.0.2]", "b@[127.0.0.2]", "c@[127.0.0.2]"],
             expects: ["c@[127.0.0.2],b@[127.0.0.2],a@[127.0.0.2]... Sent"]),
        Case(name: "ob-mixed-replies", recipients: ["a@[127.0.0.2]", "r5x@[127.0.0.2]", "t4y@[127.0.0.2]", "b@[127.0.0.2]"],
             expects: ["r5x@[127.0.0.2]... User unknown", "Deferred: 451 4.2.0"]),
        Case(name: "ob-user-unknown-bounce", submitArguments: ["-f", "bin"], recipients: ["r5a@[127.0.0.2]"],
             expects: ["User unknown"]),
        Case(name: "ob-defer-then-deliver", recipients: ["o4a@[127.0.0.2]", "b@[127.0.0.2]"], runs: 2,
             expects: ["Deferred: 451 4.2.0 <o4a@[127.0.0.2]>... Try again later"]),
        Case(name: "ob-helo-fallback", recipients: ["a@[127.0.0.3]", "b@[127.0.0.3]"],
             expects: [">>> HELO vm.example.test"]),
        Case(name: "ob-no-extensions-dsn", submitArguments: ["-f", "root", "-N", "success,failure", "-V", "env+2Bid", "-R", "hdrs", "-B8BITMIME"],
             recipients: ["a@[127.0.0.4]"], expects: ["Sent ("]),
        Case(name: "ob-dsn-parameters", submitArguments: ["-f", "root", "-N", "delay,failure", "-V", "env+2Bid", "-R", "full", "-B8BITMIME"],
             recipients: ["a@[127.0.0.2]", "b@[127.0.0.2]"], message: eightBit, expects: ["NOTIFY=FAILURE,DELAY", "BODY=8BITMIME"]),
        Case(name: "ob-connection-refused", recipients: ["a@[127.0.0.5]"],
             expects: ["Deferred: Connection refused by [127.0.0.5]"]),
        Case(name: "ob-greeting-421", recipients: ["a@[127.0.0.7]"],
             expects: ["Deferred: 421 4.3.2"]),
        Case(name: "ob-timeout-in-data", recipients: ["a@[127.0.0.6]"], runArguments: ["-OTimeout.datafinal=2s"],
             expects: ["Deferred: Connection timed out with [127.0.0.6]"]),
        Case(name: "ob-data-554", recipients: ["d5a@[127.0.0.2]", "b@[127.0.0.2]"],
             expects: ["554 5.6.0"]),
        Case(name: "ob-data-452", recipients: ["d4a@[127.0.0.2]"],
             expects: ["452 4.3.1"]),
        // a peer without PIPELINING: one RCPT at a time; one nobody accepts: RSET
        Case(name: "ob-no-pipelining", recipients: ["a@[127.0.0.4]", "r5b@[127.0.0.4]", "c@[127.0.0.4]"],
             expects: ["r5b@[127.0.0.4]... User unknown"]),
        Case(name: "ob-nobody-accepted-no-pipelining", recipients: ["r5a@[127.0.0.4]", "t4b@[127.0.0.4]"],
             expects: [">>> RSET"]),
        // three messages in one run: the sessions are kept and probed with RSET
        Case(name: "ob-sessions-reused", recipients: ["a@[127.0.0.2]"],
             more: [["b@[127.0.0.2]", "c@[127.0.0.4]"], ["d@[127.0.0.4]", "e@[127.0.0.2]"]],
             expects: ["Using cached ESMTP connection to [127.0.0.2]"]),
        // a name the (dead) resolver cannot look up: deferred
        Case(name: "ob-name-lookup-failure", recipients: ["a@nowhere.ob.test"],
             expects: ["Deferred: Name server: nowhere.ob.test"]),
        // senders as MAIL gives them: <> and a remote address
        Case(name: "ob-null-sender", submitArguments: ["-f", "<>"], recipients: ["a@[127.0.0.2]"],
             expects: ["MAIL From:<>"]),
        Case(name: "ob-remote-sender", submitArguments: ["-f", "Joe Bloggs <joe@x.example>"], recipients: ["a@[127.0.0.2]", "r5@[127.0.0.2]"],
             expects: ["MAIL From:<joe@x.example>"]),
        // FEATURE(local_lmtp): LMTP on the local mailer's pipe, one reply
        // per recipient after the dot (bin 550, daemon 452, root 250;
        // sys refused at RCPT); the bounce reuses the session after RSET
        Case(name: "ob-local-lmtp", recipients: ["root", "daemon", "bin", "sys"],
             expects: ["Service unavailable (<bin>... Mailbox full)", "Using cached LMTP connection for local"],
             localLMTP: true),
        Case(name: "ob-local-lmtp-and-smtp", recipients: ["root", "a@[127.0.0.2]", "daemon"],
             expects: ["daemon... Deferred: 452 4.2.2"], localLMTP: true),
        Case(name: "ob-submission-odi", recipients: ["a@[127.0.0.2]", "r5@[127.0.0.2]", "root", "b@[127.0.0.3]"],
             expects: ["Saved message in /root/dead.letter"], atSubmission: true),
        // (with -X: the sessions in the traffic log, as sendmail logs them)
        // names from the hosts file: IPv6 addresses first (::1 refused),
        // then IPv4; a name without IPv6 address asks the (dead) resolver
        // for one and is deferred, as Debian's sendmail does
        Case(name: "ob-named-hosts", recipients: ["a@v6", "b@multi", "c@v6"],
             expects: ["Connecting to v6.ob.test via esmtp", "Deferred: Name server: multi.ob.test"], namedHosts: true),
        // MAIL refused: every recipient of the transaction shares the reply
        Case(name: "ob-mail-553", submitArguments: ["-f", "m5joe@x.example"], recipients: ["a@[127.0.0.2]", "b@[127.0.0.2]"],
             expects: ["553 5.1.8"]),
        Case(name: "ob-mail-451", submitArguments: ["-f", "m4joe@x.example"], recipients: ["a@[127.0.0.2]", "b@[127.0.0.3]"],
             expects: ["451 4.1.8"]),
        // the peer goes away at DATA; a 554 greeting; no answer to RCPT
        Case(name: "ob-dropped-at-data", recipients: ["a@[127.0.0.9]", "b@[127.0.0.9]"], expects: ["a@[127.0.0.9]"]),
        Case(name: "ob-greeting-554", recipients: ["a@[127.0.0.10]"], expects: ["554 5.7.1"]),
        Case(name: "ob-rcpt-timeout", recipients: ["a@[127.0.0.11]"], runArguments: ["-OTimeout.rcpt=2s"],
             expects: ["timed out"]),
        // r=2: two transactions on one session, the second after RSET
        Case(name: "ob-max-recipients", recipients: ["a@[127.0.0.2]", "b@[127.0.0.2]", "c@[127.0.0.2]", "r5d@[127.0.0.2]", "e@[127.0.0.2]"],
             expects: ["Using cached ESMTP connection to [127.0.0.2]"], esmtpMaxRcpt: 2),
        // LMTP over TCP: failures at once, the delivered ones together
        Case(name: "ob-lmtp-tcp", recipients: ["a@lmtphost", "m5b@lmtphost", "c@lmtphost", "r5d@lmtphost"],
             expects: [">>> LHLO", "Service unavailable (Mailbox full)"], lmtpMailer: true),
        // a peer that says it is us: mail loops back (config error)
        Case(name: "ob-loops-back", recipients: ["a@[127.0.0.12]", "root"], expects: ["mail loops back to me"]),
        Case(name: "ob-two-hosts", recipients: ["a@[127.0.0.2]", "b@[127.0.0.3]", "c@[127.0.0.5]", "root"],
             runArguments: ["-X", "@SCRATCH@/home/traffic.log"],
             expects: ["Closing connection to [127.0.0.2]"]),
    ]

    struct Run: Equatable {
        var stdout: String
        var stderr: String
        var status: Int32
        var sink: String
        var files: [String: String]
        var mailq: String
        var log: [String]
        /// `hoststat` (-bh) after the runs (with `hostStatus`).
        var hoststat: String = ""
    }

    @Test("a queue run over SMTP: dialogue, what the next hop gets, bounces, queue, mailq and log", arguments: OutboundTests.cases)
    func outbound(_ c: Case) throws {
        guard getuid() == 0 else { throw HarnessError("OutboundTests need root (network namespace, port 25)") }
        guard access("/usr/bin/python3", X_OK) == 0 else { throw HarnessError("OutboundTests need /usr/bin/python3 (the next hops)") }
        let (cf, d) = c.localLMTP ? try Self.prepareLMTP(c.name) : try DeliverTests.prepareScratch(c.name, fromM4: true)
        try Self.check(c, cf: cf, dir: d)
    }

    /// Queues the case's messages with the oracle, runs each binary's
    /// queue run(s) on a copy of that queue (with the sinks, and `dns`'s
    /// name server when given) and expects the same results.  With
    /// `hostStatus`, HostStatusDirectory is <dir>/hs: its files (update
    /// times normalised) and the `hoststat` listing are compared too.
    static func check(_ c: Case, cf: String, dir d: String, dns: DNSFixture? = nil, hostStatus: Bool = false) throws {
        LogTests.ensureDevLog()
        let dir = URL(fileURLWithPath: d)
        let runs = Workspace.shared.runs
        if let r = c.esmtpMaxRcpt {
            let cfText = try String(contentsOfFile: cf, encoding: .isoLatin1)
            if !cfText.contains("L=990, r=") {
                try cfText.replacingOccurrences(of: "\nMesmtp,\t\tP=[IPC], F=mDFMuXa, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, E=\\r\\n, L=990,",
                                                with: "\nMesmtp,\t\tP=[IPC], F=mDFMuXa, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, E=\\r\\n, L=990, r=\(r),")
                    .write(toFile: cf, atomically: false, encoding: .isoLatin1)
            }
            #expect(try String(contentsOfFile: cf, encoding: .isoLatin1).contains("L=990, r=\(r),"), "esmtp's r= not set")
        }
        if c.lmtpMailer {
            var cfText = try String(contentsOfFile: cf, encoding: .isoLatin1)
            if !cfText.contains("Mlmtpx") {
                cfText = cfText.replacingOccurrences(of: "\nSparse=0\n", with: "\nSparse=0\n"
                    + "R$* < @ lmtphost $* > $*\t$#lmtpx $@ [127.0.0.8] $: $1 < @ lmtphost >\n")
                cfText += "Mlmtpx,\t\tP=[IPC], F=mDFMuXz, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, E=\\r\\n, L=990,\n"
                    + "\t\tT=DNS/RFC822/SMTP,\n\t\tA=TCP $h\n"
                try cfText.write(toFile: cf, atomically: false, encoding: .isoLatin1)
            }
            #expect(cfText.contains("lmtphost"), "no Sparse=0 in the cf to route lmtphost")
        }
        if c.namedHosts {
            var cfText = try String(contentsOfFile: cf, encoding: .isoLatin1)
            if !cfText.contains("v6.ob.test") {
                cfText = cfText.replacingOccurrences(of: "\nSparse=0\n", with: "\nSparse=0\n"
                    + "R$* < @ v6 $* > $*\t$#esmtp $@ v6.ob.test $: $1 < @ v6.ob.test >\n"
                    + "R$* < @ multi $* > $*\t$#esmtp $@ multi.ob.test $: $1 < @ multi.ob.test >\n")
                try cfText.write(toFile: cf, atomically: false, encoding: .isoLatin1)
            }
            #expect(cfText.contains("v6.ob.test"), "no Sparse=0 in the cf to route v6 and multi")
        }
        if c.certificates { _ = try DaemonTests.certificates(dir) }
        if !c.cfEdits.isEmpty {
            var cfText = try String(contentsOfFile: cf, encoding: .isoLatin1)
            for (from, to) in c.cfEdits {
                let new = to.replacingOccurrences(of: "@SCRATCH@", with: d)
                if !cfText.contains(new) {
                    #expect(cfText.contains(from), "the cf has no \"\(from)\" to edit")
                    cfText = cfText.replacingOccurrences(of: from, with: new)
                }
            }
            try cfText.write(toFile: cf, atomically: false, encoding: .isoLatin1)
        }
        if let cmd = c.setup { try DeliverTests.shell("cd '\(d)' && " + cmd.replacingOccurrences(of: "@SCRATCH@", with: d)) }
        var options = SandboxOptions()
        options.dns = dns
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options,
                            runDir: runs, tag: "\(c.name).newaliases")
        options.modeFlag = "-odq"
        options.extraArguments = ["-oi"] + c.submitArguments + c.recipients
        if !c.atSubmission {
            let sub = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: c.message,
                                      options: options, runDir: runs, tag: "\(c.name).submit")
            #expect(sub.status == 0, "the oracle did not queue: \(String(decoding: sub.stdout + sub.stderr, as: UTF8.self))")
        }
        for (k, rcpts) in c.more.enumerated() {
            // (a second apart: the run's order is the queue's, by priority and time)
            sleep(1)
            options.extraArguments = ["-oi"] + c.submitArguments + rcpts
            let r = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: c.message,
                                    options: options, runDir: runs, tag: "\(c.name).submit\(k + 1)")
            #expect(r.status == 0, "the oracle did not queue: \(String(decoding: r.stdout + r.stderr, as: UTF8.self))")
        }
        try DeliverTests.shell("rm -rf '\(d)/q.start' && cp -a '\(d)/q' '\(d)/q.start'")
        let known = Set(((try? FileManager.default.contentsOfDirectory(atPath: d + "/q.start")) ?? []).map { String($0.dropFirst(2)) })

        var results: [Run] = []
        for (binary, who) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try DeliverTests.shell("rm -rf '\(d)/q' '\(d)/out'/* '\(d)/box'/* '\(d)/home' '\(d)/hs' '\(d)/sink-\(who).log'* && cp -a '\(d)/q.start' '\(d)/q' && mkdir -m 700 '\(d)/home'")
            let sinkLog = d + "/sink-\(who).log"
            let collector = try DatagramCollector(path: d + "/log-\(who).sock")
            collector.startDraining()
            var o = SandboxOptions()
            o.privateNetwork = true
            o.dns = dns
            o.devLog = collector.path
            o.launcher = ["/usr/bin/python3", OracleEnvironment.fixture("outbound/sink.py"), sinkLog]
            o.modeFlag = "-q"
            o.extraArguments = ["-v", "-OLogLevel=9"] + c.runArguments.map { $0.replacingOccurrences(of: "@SCRATCH@", with: d) }
            o.rootHome = d + "/home"
            if hostStatus {
                // (sendmail does not make the directory itself)
                try DeliverTests.shell("mkdir -m 755 '\(d)/hs'")
                o.extraArguments.append("-OHostStatusDirectory=\(d)/hs")
            }
            if c.atSubmission {
                o.modeFlag = "-odi"
                o.extraArguments = ["-v", "-OLogLevel=9", "-oi"] + c.submitArguments + c.recipients
            }
            var stdout: [UInt8] = [], stderr: [UInt8] = []
            var last: RunResult? = nil
            for k in 0..<c.runs {
                let r = try Sandbox.run(binary: binary, cf: cf, input: c.atSubmission ? c.message : [], options: o,
                                        runDir: runs, tag: "\(c.name).\(who).\(k)")
                stdout += r.stdout; stderr += r.stderr
                last = r
            }
            // what is left, as each binary lists it
            var q = SandboxOptions()
            q.modeFlag = "-bp"
            let listing = try Sandbox.run(binary: binary, cf: cf, input: [], options: q, runDir: runs, tag: "\(c.name).\(who).mailq")
            var hoststat = ""
            if hostStatus {
                q.modeFlag = "-bh"
                q.extraArguments = ["-OHostStatusDirectory=\(d)/hs"]
                let h = try Sandbox.run(binary: binary, cf: cf, input: [], options: q, runDir: runs, tag: "\(c.name).\(who).hoststat")
                // (how long ago: a second or two either way)
                hoststat = String(decoding: h.stdout + h.stderr, as: UTF8.self)
                    .replacingOccurrences(of: #" [0-9]{2}:[0-9]{2}:[0-9]{2} "#, with: " <ago> ", options: .regularExpression)
            }
            var snap = try DeliverTests.collect(dir, last!, bounce: true, knownIDs: known,
                                                subdirectories: ["out", "box", "q", "home"] + (hostStatus ? ["hs"] : []))
            for (k, v) in snap.files where k.hasPrefix("hs/") {
                snap.files[k] = v.replacingOccurrences(of: #"(?m)^U[0-9]+$"#, with: "U<time>", options: .regularExpression)
            }
            for (k, v) in snap.files where k.hasSuffix("traffic.log") {
                // (each line starts with the pid)
                snap.files[k] = v.replacingOccurrences(of: #"(?m)^[0-9]{5,} "#, with: "PID ", options: .regularExpression)
            }
            let sink = (try? String(contentsOfFile: sinkLog, encoding: .isoLatin1)) ?? "(no sink log)"
            let shown = String(decoding: stdout, as: UTF8.self)
            results.append(Run(stdout: Self.normalise(shown),
                               stderr: Self.normalise(String(decoding: stderr, as: UTF8.self)),
                               status: last!.status,
                               sink: Self.normalise(DeliverTests.normalise("sink", sink, bounce: true)),
                               files: snap.files,
                               mailq: Self.normalise(String(decoding: listing.stdout, as: UTF8.self)),
                               log: LogTests.normaliseIDs(collector.drain()), hoststat: hoststat))
        }
        let (real, ours) = (results[0], results[1])
        #expect(ours.stdout == real.stdout)
        #expect(ours.stderr == real.stderr)
        #expect(ours.status == real.status)
        #expect(ours.sink == real.sink, "what the next hops received differs")
        #expect(ours.files.keys.sorted() == real.files.keys.sorted())
        for key in real.files.keys.sorted() {
            #expect(ours.files[key] == real.files[key], "\(key) differs")
        }
        #expect(ours.mailq == real.mailq)
        #expect(ours.log == real.log)
        #expect(ours.hoststat == real.hoststat)
        if hostStatus {
            #expect(real.files.keys.contains { $0.hasPrefix("hs/") }, "the oracle wrote no host status file")
        }
        for text in c.expects {
            #expect(real.stdout.contains(text) || real.sink.contains(text), "the oracle's run does not show \"\(text)\"")
        }
        #expect(real.sink.contains("== connect") || c.recipients.allSatisfy { $0.contains("127.0.0.5") || !$0.contains("[") },
                "no next hop was reached by the oracle")
    }

    /// A scratch directory as DeliverTests.prepareScratch makes it, with
    /// outbound/lmtp.mc and lmtp-stdio.py as the local mailer.
    static func prepareLMTP(_ name: String) throws -> (cf: String, dir: String) {
        let p = try Workspace.shared.prepare(Configuration(name: name, source: .mc("outbound/lmtp.mc")))
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        for (from, to) in [("deliver/aliases", "aliases"), ("deliver/switch", "switch"), ("outbound/lmtp-stdio.py", "lmtp-stdio.py")] {
            let text = try String(contentsOfFile: OracleEnvironment.fixture(from), encoding: .utf8)
                .replacingOccurrences(of: "@SCRATCH@", with: dir.path)
            try text.write(to: dir.appendingPathComponent(to), atomically: false, encoding: .utf8)
        }
        chmod(dir.appendingPathComponent("lmtp-stdio.py").path, 0o755)
        let d = dir.path
        try DeliverTests.shell("rm -rf '\(d)/q' '\(d)/q.start' '\(d)/out' '\(d)/box' && mkdir -p '\(d)/q' '\(d)/out' '\(d)/box' "
                               + "&& chmod 1777 '\(d)/out' && chmod 700 '\(d)/q'")
        return (p.cfPath, d)
    }

    /// The new queue IDs and dates a bounce brings; a -v line's ID.
    static func normalise(_ s: String) -> String {
        var t = s
        for (pattern, replacement) in [
            (#"[0-9A-Za-z]{8}[0-9]{6}"#, "<id>"),
            (#"[A-Z][a-z]{2}, [ 0-9]?[0-9] [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT"#, "<date>"),
            (#"[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}"#, "<time>"),
            // (DELIVERBY's seconds left: the runs are seconds apart)
            (#"BY=[0-9]+;"#, "BY=<n>;"),
        ] {
            t = t.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return t
    }
}
