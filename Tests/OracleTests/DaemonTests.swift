// DaemonTests.swift — the listening daemon (`sendmail -bD`) against the
// real sendmail's.
//
// Promises: each differential case starts the real sendmail and ours with
// -bD on Fixtures/oracle/cf/daemon.cf (listeners MTA on 127.0.0.1:2525 and
// MSA M=Ea on :2587), each in its own sandbox with a private network
// namespace (so both own 127.0.0.1:2525), each with its own empty queue
// and -odq; Tests/Fixtures/smtp/daemon-harness.py plays the same client
// sessions over TCP (from 127.0.0.1 and from added addresses 10.9.x.x
// with fixed source ports), stops the daemon with SIGTERM, and the
// transcripts must be identical once dates and queue IDs are normalised;
// so must the syslog lines of both daemons (collected from a socket over
// /dev/log, time, pid and queue IDs normalised); then each accepted
// message's qf/df as in SMTPSessionTests.  The other
// cases run ours alone and check what a user sees: delivery into the
// mailbox in background mode, swaks, 200 concurrent connections, a
// client lost in DATA, SIGTERM in a session, SIGHUP during a session,
// MaxDaemonChildren and ConnectionRateThrottle; -bd detaching with its pid
// file is checked on both (the oracle's pid file is the reference).  STARTTLS's cases are in
// DaemonTLSTests.swift (same suite).  Fails (never skips) when python3, swaks
// or another prerequisite is missing.

import Foundation
import Testing

@Suite("sendmail -bD: the SMTP daemon identical to sendmail's", .serialized)
struct DaemonTests {
    static let config = Configuration(name: "daemon", source: .cf("cf/daemon.cf"))
    static let harness = OracleEnvironment.packageRoot.appendingPathComponent("Tests/Fixtures/smtp/daemon-harness.py").path
    static let python = "/usr/bin/python3"
    let smtp = SMTPSessionTests()

    /// The configuration's directory with aliases, deliver.sh and mail/.
    func prepare() throws -> (cf: String, dir: URL) {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw HarnessError("\(Self.python) is missing: the daemon harness needs it (apt-get install python3)")
        }
        let (cf, dir) = try SubmitTests.prepareWithAliases(Self.config)
        let deliver = dir.appendingPathComponent("deliver.sh")
        try "#!/bin/sh\n# appends the message to <dir>/<user>\n{ echo \"From MAILER $(date)\"; cat; echo; } >> \"$1/$2\"\n"
            .write(to: deliver, atomically: true, encoding: .utf8)
        chmod(deliver.path, 0o755)
        let mail = dir.appendingPathComponent("mail")
        try? FileManager.default.removeItem(at: mail)
        try FileManager.default.createDirectory(at: mail, withIntermediateDirectories: true)
        chmod(mail.path, 0o777)
        return (cf, dir)
    }

    /// Runs `binary -bD` in its sandbox under the harness.
    func run(_ binary: String, cf: String, dir: URL, queue: URL, script: String, tag: String,
             extra: [String] = ["-odq"], devLog: String? = nil, dns: DNSFixture? = nil,
             environment: [String: String] = [:]) throws -> (transcript: String, result: RunResult) {
        var options = SandboxOptions()
        options.environment = environment
        options.devLog = devLog
        options.dns = dns
        options.modeFlag = "-bD"
        options.privateNetwork = true
        options.timeoutSeconds = 120
        options.launcher = [Self.python, Self.harness, "2525,2587,2526"]
        options.extraArguments = ["-OQueueDirectory=\(queue.path)", "-OPidFile=\(dir.path)/\(tag).pid"] + extra
        let r = try Sandbox.run(binary: binary, cf: cf, input: Array(script.utf8), options: options,
                                runDir: Workspace.shared.runs, tag: "daemon-\(tag)")
        return (String(decoding: r.stdout, as: UTF8.self), r)
    }

    /// A log line with time, pid, queue IDs (numbered by first use) and
    /// the Message-Id time normalised.
    static func normaliseLog(_ line: String) -> String {
        var s = LogTests.normalise(line, id: nil)
        s = s.replacingOccurrences(of: #"<[0-9]{12}\."#, with: "<TIME.", options: .regularExpression)
        return s.replacingOccurrences(of: SMTPSessionTests.idPattern, with: "QID", options: .regularExpression)
    }

    /// The same script against both daemons; transcripts, syslog lines
    /// and queue files compared (`dns`: the loopback name server).
    /// `sessionsOverlap`: the script's sessions may log in either order
    /// (one's close line and the next one's first line race), so the
    /// syslog lines are compared as a multiset.
    func compare(_ script: String, tag: String, expectMessages: Int, extra: [String] = [],
                 cf otherCF: ((String, URL) throws -> String)? = nil, dns: DNSFixture? = nil,
                 sessionsOverlap: Bool = false, ignoringLogLines ignored: (String) -> Bool = { _ in false }) throws {
        var (cf, dir) = try prepare()
        if let make = otherCF { cf = try make(cf, dir) }
        let realQ = try Faults.freshDirectory(dir, "q-daemon-\(tag)-real")
        let oursQ = try Faults.freshDirectory(dir, "q-daemon-\(tag)-ours")
        if access("/dev/log", F_OK) != 0 {
            // something to bind the collector over (see LogTests)
            let fd = open("/dev/log", O_CREAT | O_WRONLY, 0o644)
            if fd >= 0 { close(fd) }
        }
        // syslog lines, drained while the daemon runs (a full datagram
        // queue would block the daemon's syslog())
        let realLog = try LogPump(DatagramCollector(path: dir.appendingPathComponent("log-\(tag)-real.sock").path))
        let (rt, real) = try run(OracleEnvironment.oraclePath, cf: cf, dir: dir, queue: realQ, script: script,
                                 tag: "\(tag).oracle", extra: ["-odq"] + extra, devLog: realLog.collector.path, dns: dns)
        let oursLog = try LogPump(DatagramCollector(path: dir.appendingPathComponent("log-\(tag)-ours.sock").path))
        let (ot, _) = try run(try OracleEnvironment.binaryUnderTest(), cf: cf, dir: dir, queue: oursQ, script: script,
                              tag: "\(tag).ours", extra: ["-odq"] + extra, devLog: oursLog.collector.path, dns: dns)
        var rl = realLog.stop().map(Self.normaliseLog).filter { !ignored($0) }
        var ol = oursLog.stop().map(Self.normaliseLog).filter { !ignored($0) }
        if sessionsOverlap { rl.sort(); ol.sort() }
        #expect(rl.contains { $0.contains("starting daemon") }, "\(tag): the oracle logged nothing: \(rl)")
        #expect(ol == rl, "\(tag): syslog lines differ\n--- ours\n\(ol.joined(separator: "\n"))\n--- real\n\(rl.joined(separator: "\n"))")
        #expect(real.status == 0, "\(tag): the harness failed on the oracle: \(String(decoding: real.stderr, as: UTF8.self))")
        #expect(rt.contains("<<< 220 "), "\(tag): no greeting from the oracle:\n\(rt)")
        #expect(!rt.contains("=== timeout"), "\(tag): the oracle timed out:\n\(rt)")
        #expect(smtp.normalised(ot) == smtp.normalised(rt), "\(tag): transcripts differ\n--- ours\n\(ot)\n--- real\n\(rt)")
        let rids = smtp.acceptedIDs(rt), oids = smtp.acceptedIDs(ot)
        #expect(rids.count == expectMessages, "\(tag): the oracle accepted \(rids.count) messages")
        #expect(oids.count == rids.count, "\(tag): accepted \(oids.count) messages, the oracle \(rids.count)")
        for (rid, oid) in zip(rids, oids) {
            let rf = try smtp.messageFiles(realQ, id: rid), of = try smtp.messageFiles(oursQ, id: oid)
            #expect(of == rf, "\(tag): queue files differ\n--- ours\n\(of)\n--- real\n\(rf)")
            let rd = try? Data(contentsOf: realQ.appendingPathComponent("df" + rid))
            let od = try? Data(contentsOf: oursQ.appendingPathComponent("df" + oid))
            #expect(rd != nil && rd == od, "\(tag): df bytes differ")
        }
        let rn = try Sandbox.queueEntries(realQ.path).count
        let on = try Sandbox.queueEntries(oursQ.path).count
        #expect(on == rn, "\(tag): \(on) queue files, the oracle \(rn)")
    }

    @Test("greeting, EHLO, local delivery accepted, unknown user, RSET, NOOP, QUIT")
    func dialogue() throws {
        try compare("""
            #CONNECT 2525 127.0.0.1 40001
            EHLO client.example
            VRFY macros
            MAIL FROM:<sender@client.example>
            VRFY macros
            RCPT TO:<root>
            RCPT TO:<nosuchuser>
            RCPT TO:<someone@elsewhere.example>
            DATA
            Subject: over the daemon

            body line
            .
            RSET
            NOOP
            HELO again.example
            QUIT
            """, tag: "dialogue", expectMessages: 1)
    }

    @Test("relaying denied from another address; check_relay refusals; the MSA listener; IPv6")
    func policy() throws {
        try compare("""
            #CONNECT 2525 10.9.8.7 40002
            EHLO outside.example
            VRFY macros
            MAIL FROM:<someone@outside.example>
            RCPT TO:<user@elsewhere.example>
            RCPT TO:<root>
            DATA
            Subject: from outside

            inbound
            .
            QUIT
            #CONNECT 2525 10.9.9.9 40003
            EHLO blocked.example
            MAIL FROM:<a@blocked.example>
            RCPT TO:<root>
            QUIT
            #CONNECT 2525 10.9.9.8 40004
            EHLO later.example
            #CONNECT 2587 127.0.0.1 40005
            EHLO submitter.example
            VRFY macros
            ETRN example.com
            MAIL FROM:<me@client.example>
            RCPT TO:<root>
            QUIT
            #CONNECT6 2526 40007
            EHLO six.example
            VRFY macros
            MAIL FROM:<six@client.example>
            RCPT TO:<root>
            RCPT TO:<user@elsewhere.example>
            DATA
            Subject: over IPv6

            six
            .
            QUIT
            """, tag: "policy", expectMessages: 2)
    }

    @Test("pipelined commands are answered in order")
    func pipelining() throws {
        try compare("""
            #CONNECT 2525 127.0.0.1 40006
            EHLO client.example
            #PIPE 5
            MAIL FROM:<p@client.example>
            RCPT TO:<root>
            RCPT TO:<nosuchuser>
            RCPT TO:<daemon>
            DATA
            Subject: pipelined

            text
            .
            #PIPE 4
            RSET
            MAIL FROM:<q@client.example>
            RCPT TO:<bin>
            NOOP
            QUIT
            """, tag: "pipelining", expectMessages: 1)
    }

    /// RSET runs on the daemon's event loop (SMTPServer.handlesWithoutWaiting):
    /// a burst of them in one write is answered line by line, in order,
    /// without the loop recursing once per line.
    @Test("a burst of 3,000 pipelined commands is answered in order")
    func pipelinedBurst() throws {
        let burst = Array(repeating: "RSET", count: 3000).joined(separator: "\n")
        try compare("""
            #CONNECT 2525 127.0.0.1 40007
            EHLO client.example
            #PIPE 3003
            MAIL FROM:<p@client.example>
            RCPT TO:<root>
            \(burst)
            DATA
            QUIT
            """, tag: "pipelined-burst", expectMessages: 0)
    }

    /// A command line of 2047 characters or more: 421 4.7.0 "<host>
    /// Command too long, possible attack <client>", logged, the session
    /// ends.
    @Test("a command of 2047 characters: 421, the session ends")
    func commandTooLong() throws {
        try compare("""
            #CONNECT 2525 127.0.0.1 40010
            EHLO client.example
            NOOP \(String(repeating: "b", count: 2041))
            NOOP \(String(repeating: "b", count: 2042))
            """, tag: "command-too-long", expectMessages: 0)
    }

    /// Debian's sendmail (its fix against SMTP smuggling) refuses a client
    /// that sends before a reply it must wait for: DATA's 354 (554, the
    /// session ends, the envelope logged as abandoned) and HELO/EHLO's
    /// (554, then the null server); each logged as "rejecting server DATA
    /// from ... due to traffic before response".
    @Test("message text sent before DATA's 354, a command before EHLO's reply: 554")
    func trafficBeforeResponse() throws {
        try compare("""
            #CONNECT 2525 127.0.0.1 40008
            EHLO client.example
            #PIPE 4
            MAIL FROM:<p@client.example>
            RCPT TO:<root>
            DATA
            Subject: sent too soon
            """, tag: "data-too-soon", expectMessages: 0)
        try compare("""
            #CONNECT 2525 127.0.0.1 40009
            #PIPE 2
            EHLO client.example
            NOOP
            MAIL FROM:<p@client.example>
            QUIT
            """, tag: "ehlo-too-soon", expectMessages: 0)
    }
}

/// Drains a DatagramCollector on a thread until stopped.
final class LogPump: @unchecked Sendable {
    let collector: DatagramCollector
    private let lock = NSLock()
    private var lines: [String] = []
    private var running = true
    private let finished = DispatchSemaphore(value: 0)

    init(_ collector: DatagramCollector) {
        self.collector = collector
        Thread.detachNewThread { [self] in
            while lock.withLock({ running }) {
                let got = self.collector.drain()
                lock.withLock { lines += got }
                usleep(10_000)
            }
            finished.signal()
        }
    }

    func stop() -> [String] {
        lock.withLock { running = false }
        finished.wait()
        return lock.withLock { lines } + collector.drain()
    }
}

// MARK: ours alone: what a user sees

extension DaemonTests {
    /// Runs ours under the harness; the transcript and the queue's file names.
    func runOurs(_ script: String, tag: String, extra: [String] = ["-odq"], cf: String? = nil,
                 dir: URL? = nil, environment: [String: String] = [:]) throws -> (transcript: String, queue: [String], dir: URL) {
        var (c, d) = try prepare()
        if let cf { c = cf }
        if let dir { d = dir }
        let q = try Faults.freshDirectory(d, "q-daemon-\(tag)")
        let (t, r) = try run(try OracleEnvironment.binaryUnderTest(), cf: c, dir: d, queue: q, script: script,
                             tag: "\(tag).ours", extra: extra, environment: environment)
        #expect(r.status == 0, "\(tag): the harness failed: \(String(decoding: r.stderr, as: UTF8.self))")
        #expect(t.contains("=== exit 0\n"), "\(tag): the daemon did not exit 0 after SIGTERM:\n\(t)")
        #expect(!t.contains("=== timeout"), "\(tag): a reply never came:\n\(t)")
        let names = try Sandbox.queueEntries(q.path).sorted()
        return (t, names, d)
    }

    @Test("background delivery: the accepted message reaches the mailboxes (aliases expanded) and leaves the queue")
    func deliversToMailbox() throws {
        let (cf, dir) = try prepare()
        let box = dir.appendingPathComponent("mail/root").path
        let (t, queue, _) = try runOurs("""
            #CONNECT
            EHLO client.example
            MAIL FROM:<sender@client.example>
            RCPT TO:<staff>
            DATA
            Subject: delivered by the daemon

            hello mailbox
            .
            QUIT
            #WAITFILE \(box) 15
            #SLEEP 1
            """, tag: "deliver", extra: ["-odb"], cf: cf, dir: dir)
        #expect(t.contains("=== file root"), "no mailbox:\n\(t)")
        let boxes = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("mail").path).sorted()
        #expect(boxes == ["bin", "daemon", "root"], "mailboxes: \(boxes)")
        let text = (try? String(contentsOfFile: box, encoding: .isoLatin1)) ?? ""
        #expect(text.contains("Subject: delivered by the daemon\n") && text.contains("\nhello mailbox\n"), "mailbox:\n\(text)")
        #expect(text.contains("Received: from client.example (localhost [127.0.0.1])"), "mailbox:\n\(text)")
        #expect(queue.filter { $0.hasPrefix("qf") || $0.hasPrefix("df") }.isEmpty, "still queued: \(queue)")
    }

    @Test("swaks sends a message through our daemon")
    func swaks() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/swaks") else {
            throw HarnessError("/usr/bin/swaks is missing (apt-get install swaks; contrib/test.sh installs it)")
        }
        let (t, queue, _) = try runOurs("""
            #RUN /usr/bin/swaks --server 127.0.0.1:2525 --helo client.example --from sender@client.example --to root --header Subject:via-swaks --body swaks-body --pipeline
            """, tag: "swaks")
        #expect(t.contains("=== run exit 0"), "swaks failed:\n\(t)")
        #expect(t.range(of: #"<-  250 2\.0\.0 [0-9A-Za-z]{14} Message accepted for delivery"#, options: .regularExpression) != nil,
                "no acceptance in swaks' transcript:\n\(t)")
        #expect(queue.filter { $0.hasPrefix("qf") }.count == 1, "queue: \(queue)")
    }

    @Test("200 connections held open at once all get a greeting")
    func concurrentConnections() throws {
        let (t, _, _) = try runOurs("#CONCURRENT 200\n", tag: "concurrent")
        #expect(t.contains("=== concurrent 200: 200 greetings"), "\(t)")
    }

    @Test("a client lost in DATA leaves nothing in the queue")
    func dropInData() throws {
        let (t, queue, _) = try runOurs("""
            #CONNECT
            EHLO client.example
            MAIL FROM:<sender@client.example>
            RCPT TO:<root>
            DATA
            Subject: never finished

            half a message
            #DROP
            #SLEEP 0.5
            #CONNECT
            EHLO client.example
            QUIT
            """, tag: "drop")
        #expect(t.contains("<<< 354 "), "\(t)")
        #expect(queue.isEmpty, "left in the queue: \(queue)")
    }

    @Test("SIGTERM in a session: the daemon ends it and exits; no broken queue file, accepted mail kept")
    func sigtermInSession() throws {
        let (t, queue, _) = try runOurs("""
            #CONNECT
            EHLO client.example
            MAIL FROM:<sender@client.example>
            RCPT TO:<root>
            DATA
            Subject: kept

            accepted before the signal
            .
            MAIL FROM:<sender@client.example>
            RCPT TO:<root>
            DATA
            Subject: cut

            in flight
            #SIGNAL TERM
            #EOF
            """, tag: "sigterm")
        #expect(t.contains("=== closed"), "the session was not closed:\n\(t)")
        #expect(t.contains("Message accepted for delivery"), "\(t)")
        // exactly the accepted message, complete: one qf and its df
        let ids = queue.filter { $0.hasPrefix("qf") }.map { $0.dropFirst(2) }
        #expect(ids.count == 1 && queue.count == 2 && queue.contains("df" + (ids.first ?? "")), "queue: \(queue)")
    }

    @Test("SIGHUP: a live session goes on, new connections get the reloaded configuration")
    func sighupKeepsSession() throws {
        let (cf0, dir) = try prepare()
        let cf = dir.appendingPathComponent("daemon-hup.cf").path
        try? FileManager.default.removeItem(atPath: cf)
        try FileManager.default.copyItem(atPath: cf0, toPath: cf)
        let addition = dir.appendingPathComponent("greeting.line").path
        try "O SmtpGreetingMessage=$j reloaded\n".write(toFile: addition, atomically: true, encoding: .utf8)
        let (t, queue, _) = try runOurs("""
            #CONNECT
            EHLO client.example
            MAIL FROM:<sender@client.example>
            #RUN cat \(addition) >> \(cf)
            #SIGNAL HUP
            #SLEEP 1
            RCPT TO:<root>
            DATA
            Subject: across a reload

            still here
            .
            #CONNECT
            QUIT
            """, tag: "sighup", cf: cf, dir: dir)
        #expect(t.contains("Message accepted for delivery"), "the live session broke:\n\(t)")
        #expect(t.contains("<<< 220 vm.example.test ESMTP reloaded"), "new connections kept the old configuration:\n\(t)")
        #expect(queue.filter { $0.hasPrefix("qf") }.count == 1, "queue: \(queue)")
    }
}

extension DaemonTests {
    @Test("-bd: the parent exits 0 once the daemon listens; pid file with pid and command line; SIGTERM ends it (as sendmail)",
          arguments: [[], ["-q15m"]])
    func detaches(_ queueFlags: [String]) throws {
        let (cf, dir) = try prepare()
        let q = try Faults.freshDirectory(dir, "q-daemon-detach")
        let pidFile = dir.appendingPathComponent("detach.pid").path
        try? FileManager.default.removeItem(atPath: pidFile)
        // run inside the sandbox: start -bd, check, stop the daemon by its pid
        let script = """
            "$@"; echo "status $?"
            # sendmail's parent exits as soon as it has forked: wait for the pid file
            i=0; while [ ! -s \(pidFile) ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
            pid=$(head -1 \(pidFile)); echo "line2 $(sed -n 2p \(pidFile))"
            # (never leave a daemon behind: without a pid file, the listener's pid)
            [ -n "$pid" ] || pid=$(ss -ltnpH 'sport = :2525' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
            kill -0 "$pid" && echo "running"
            /usr/bin/python3 -c 'import socket; s=socket.create_connection(("127.0.0.1",2525)); print(s.makefile().readline()[:4]); s.sendall(b"QUIT\\r\\n")'
            kill -TERM "$pid"; i=0
            while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done
            kill -0 "$pid" 2>/dev/null && { echo "still running"; kill -KILL "$pid"; }
            [ -n "$pid" ] || echo "no pid"
            [ -e \(pidFile) ] && echo "pid file left" || echo "pid file removed"
            """
        var options = SandboxOptions()
        options.modeFlag = "-bd"
        options.privateNetwork = true
        options.launcher = ["/bin/sh", "-c", script, "sh"]
        options.extraArguments = ["-OQueueDirectory=\(q.path)", "-OPidFile=\(pidFile)", "-odq"] + queueFlags
        // the same with the real sendmail: its pid file is the reference
        for binary in [OracleEnvironment.oraclePath, try OracleEnvironment.binaryUnderTest()] {
            try? FileManager.default.removeItem(atPath: pidFile)
            let r = try Sandbox.run(binary: binary, cf: cf, input: [], options: options, runDir: Workspace.shared.runs,
                                    tag: "daemon-detach")
            let out = String(decoding: r.stdout, as: UTF8.self)
            let cmdline = ([binary] + Sandbox.binaryArguments(cf: cf, options: options)).joined(separator: " ")
            #expect(out == "status 0\nline2 \(cmdline)\nrunning\n220 \npid file removed\n",
                    "\(binary):\n\(out)\n\(String(decoding: r.stderr, as: UTF8.self))")
        }
    }
}

extension DaemonTests {
    @Test("MaxDaemonChildren=2: a third connection waits until a session ends, then is served")
    func childLimit() throws {
        let (t, _, _) = try runOurs("""
            #CONNECT
            EHLO first.example
            #CONCURRENT 2
            QUIT
            #SLEEP 0.5
            #CONNECT
            EHLO third.example
            QUIT
            """, tag: "children", extra: ["-odq", "-OMaxDaemonChildren=2"])
        // one session open: of two more, one gets in, the other waits (the
        // harness gives up on its greeting after its timeout)
        #expect(t.contains("=== concurrent 2: 1 greetings"), "\(t)")
        #expect(t.contains("<<< 250 vm.example.test Hello localhost [127.0.0.1], pleased to meet you")
                    || t.contains("<<< 250-vm.example.test Hello localhost [127.0.0.1], pleased to meet you"), "\(t)")
        #expect(t.hasSuffix("<<< 221 2.0.0 vm.example.test closing connection\n=== exit 0\n"), "after the first session ended:\n\(t)")
    }
}

extension DaemonTests {
    @Test("ConnectionRateThrottle=1: connections beyond the rate wait their turn and are all served")
    func rateThrottle() throws {
        let (t, _, _) = try runOurs("#CONCURRENT 3\n", tag: "throttle", extra: ["-odq", "-OConnectionRateThrottle=1"])
        #expect(t.contains("=== concurrent 3: 3 greetings"), "\(t)")
    }
}

extension DaemonTests {
    @Test("sessions that end early: nothing but EHLO, a client lost in DATA, RSET then QUIT")
    func earlyEnds() throws {
        try compare("""
            #CONNECT 2525 127.0.0.1 40011
            EHLO idle.example
            QUIT
            #CONNECT 2525 127.0.0.1 40012
            EHLO client.example
            MAIL FROM:<sender@client.example>
            RCPT TO:<root>
            DATA
            Subject: never finished

            half
            #DROP
            #SLEEP 0.5
            #CONNECT 2525 127.0.0.1 40013
            EHLO client.example
            MAIL FROM:<sender@client.example>
            RCPT TO:<root>
            RSET
            QUIT
            """, tag: "early", expectMessages: 0)
    }
}

extension DaemonTests {
    @Test("Timeout.command and Timeout.datablock end idle sessions as sendmail does")
    func idleTimeouts() throws {
        try compare("""
            #CONNECT 2525 127.0.0.1 40021
            EHLO slow.example
            #SLEEP 3
            #EOF
            #CONNECT 2525 127.0.0.1 40022
            EHLO slow.example
            MAIL FROM:<sender@client.example>
            RCPT TO:<root>
            DATA
            Subject: stalls

            #SLEEP 3
            #EOF
            """, tag: "timeouts", expectMessages: 0, extra: ["-OTimeout.command=2s", "-OTimeout.datablock=2s"])
    }
}

extension DaemonTests {
    @Test("SIGHUP during load: 20 sessions send 500 messages while the daemon reloads every 20 ms; every acknowledged message is queued whole")
    func sighupUnderLoad() throws {
        let (cf, dir) = try prepare()
        let load = OracleEnvironment.packageRoot.appendingPathComponent("Tests/Fixtures/smtp/hup-load.py").path
        let pidFile = dir.appendingPathComponent("hupload.ours.pid").path
        let (t, queue, _) = try runOurs("""
            #RUN \(Self.python) \(load) \(pidFile) 20 25 0.02
            #CONNECT
            EHLO after.example
            QUIT
            """, tag: "hupload", cf: cf, dir: dir)
        let lines = t.components(separatedBy: "\n")
        let accepted = lines.compactMap { $0.hasPrefix("::: accepted ") ? String($0.dropFirst(13)) : nil }
        let failures = lines.filter { $0.hasPrefix("::: refused") || $0.hasPrefix("::: error") }
        let hups = lines.first { $0.hasPrefix("::: hups ") }.flatMap { Int($0.dropFirst(9)) } ?? 0
        #expect(hups >= 10, "the load was over before the daemon was signalled more than \(hups) times:\n\(t)")
        #expect(accepted.count == 500 && failures.isEmpty, "\(accepted.count) of 500 accepted; failures: \(failures.prefix(10))")
        #expect(t.contains("<<< 221 2.0.0 vm.example.test closing connection"), "the daemon no longer answers after the reloads:\n\(t.suffix(2000))")
        // every acknowledged message has its qf and df, whole; nothing else is left
        let expected = Set(accepted.flatMap { ["qf" + $0, "df" + $0] })
        #expect(Set(queue) == expected,
                "queue: missing \(expected.subtracting(queue).sorted().prefix(10)), extra \(Set(queue).subtracting(expected).sorted().prefix(10))")
        let q = dir.appendingPathComponent("q-daemon-hupload")
        for id in accepted {
            let df = (try? String(contentsOf: q.appendingPathComponent("df" + id), encoding: .isoLatin1)) ?? ""
            #expect(df.range(of: #"^message [0-9]+ of session [0-9]+\n$"#, options: .regularExpression) != nil,
                    "df\(id) is not a whole message: \(df)")
        }
    }
}
