// DaemonQueueTests.swift — the daemon's own queue runs against the real
// sendmail's: `-bD -q<time>` (Debian's init starts `-bd -q15m`) and ETRN.
//
// Promises: each case fills a fresh queue per side with the real
// sendmail's `-odq` submissions, starts both daemons on daemon.cf (or a
// variant) under daemon-harness.py with the same client script, whose
// #WAITFILE/#RUN lines wait for and list the mailboxes the queue runs
// fill; transcripts, syslog lines (normalised as in DaemonTests) and the
// qf files left must be the same for both.  Part of the DaemonTests suite
// (serialised: both daemons own 127.0.0.1:2525 in their own namespaces).

import Foundation
import Testing

extension DaemonTests {
    /// A message from bin to `rcpts`, queued by the real sendmail (-odq).
    func prequeue(cf: String, queue: URL, _ rcpts: [String], subject: String) throws {
        var options = SandboxOptions()
        options.modeFlag = "-odq"
        options.extraArguments = ["-OQueueDirectory=\(queue.path)", "-oi", "-f", "bin"] + rcpts
        let r = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf,
                                input: Array("Subject: \(subject)\n\nqueued before the daemon\n".utf8),
                                options: options, runDir: Workspace.shared.runs, tag: "daemon-prequeue")
        #expect(r.status == 0, "queueing for \(rcpts) failed: \(String(decoding: r.stdout + r.stderr, as: UTF8.self))")
    }

    /// The script against both daemons (started with `extra`), each over a
    /// queue `fill` prepared; transcripts, syslog lines and the qf files
    /// left compared; the oracle's transcript must contain `expect`.
    func compareQueueRuns(_ script: String, tag: String, extra: [String], expect: [String],
                          cf otherCF: ((String, URL) throws -> String)? = nil,
                          fill: (String, URL) throws -> Void) throws {
        var (cf, dir) = try prepare()
        if let make = otherCF { cf = try make(cf, dir) }
        LogTests.ensureDevLog()
        var results: [(transcript: String, log: [String], left: Int)] = []
        for (binary, side) in [(OracleEnvironment.oraclePath, "real"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            let q = try Faults.freshDirectory(dir, "q-daemon-\(tag)-\(side)")
            let mail = dir.appendingPathComponent("mail")
            for f in (try? FileManager.default.contentsOfDirectory(atPath: mail.path)) ?? [] {
                try FileManager.default.removeItem(at: mail.appendingPathComponent(f))
            }
            try fill(cf, q)
            let pump = try LogPump(DatagramCollector(path: dir.appendingPathComponent("log-\(tag)-\(side).sock").path))
            let (t, r) = try run(binary, cf: cf, dir: dir, queue: q, script: script, tag: "\(tag).\(side)", extra: extra,
                                 devLog: pump.collector.path)
            let log = pump.stop().map(Self.normaliseLog)
            #expect(r.status == 0, "\(tag) \(side): the harness failed: \(String(decoding: r.stderr, as: UTF8.self))")
            let left = try FileManager.default.contentsOfDirectory(atPath: q.path).filter { $0.hasPrefix("qf") }.count
            results.append((t, log, left))
        }
        let (real, ours) = (results[0], results[1])
        for e in expect {
            #expect(real.transcript.contains(e), "\(tag): the oracle's transcript lacks \(e):\n\(real.transcript)")
        }
        #expect(!real.transcript.contains("=== timeout") && !real.transcript.contains("=== no file"),
                "\(tag): the oracle did not do its runs:\n\(real.transcript)")
        #expect(smtp.normalised(ours.transcript) == smtp.normalised(real.transcript),
                "\(tag): transcripts differ\n--- ours\n\(ours.transcript)\n--- real\n\(real.transcript)")
        #expect(ours.log == real.log,
                "\(tag): syslog lines differ\n--- ours\n\(ours.log.joined(separator: "\n"))\n--- real\n\(real.log.joined(separator: "\n"))")
        #expect(ours.left == real.left, "\(tag): \(ours.left) qf files left, the oracle \(real.left)")
    }

    @Test("-bD -q3s: the daemon runs the queue at start and every interval; SMTP+queueing@ in its start line")
    func daemonRunsQueue() throws {
        let (_, dir) = try prepare()
        let mail = dir.appendingPathComponent("mail").path
        try compareQueueRuns("""
            #WAITFILE \(mail)/root 10
            #SLEEP 0.5
            #RUN ls \(mail)
            #CONNECT 2525 127.0.0.1 40031
            EHLO client.example
            MAIL FROM:<sender@client.example>
            RCPT TO:<bin>
            DATA
            Subject: for the next run

            queued by the session, delivered by the daemon's next run
            .
            QUIT
            #WAITFILE \(mail)/bin 10
            #SLEEP 1
            #RUN ls \(mail)
            """, tag: "qrun", extra: ["-odq", "-q3s"], expect: ["::: bin"]) { cf, q in
            try prequeue(cf: cf, queue: q, ["root"], subject: "waiting in the queue")
        }
    }

    @Test("ETRN host, ETRN @domain, ETRN #group run the matching entries of the queue, as sendmail's runqueue()")
    func etrnRunsQueue() throws {
        let (_, dir) = try prepare()
        let mail = dir.appendingPathComponent("mail").path
        try compareQueueRuns("""
            #CONNECT 2525 127.0.0.1 40041
            EHLO client.example
            ETRN vm.example.test
            #WAITFILE \(mail)/root 10
            #SLEEP 1
            #RUN ls \(mail)
            ETRN @vm.example.test
            #WAITFILE \(mail)/daemon 10
            #SLEEP 1
            #RUN ls \(mail)
            ETRN #mqueue
            #WAITFILE \(mail)/bin 10
            #SLEEP 1
            #RUN ls \(mail)
            ETRN #nosuch
            QUIT
            """, tag: "etrn", extra: ["-odq"], expect: ["::: root", "::: daemon", "::: bin", "<<< 459 4.5.4 Queue nosuch unknown"],
            cf: { cf, dir in
                // another name of ours that "@vm.example.test" does not match
                let variant = dir.appendingPathComponent("daemon-etrn.cf").path
                let text = try String(contentsOfFile: cf, encoding: .utf8) + "Cwother.vm.example.test\n"
                try text.write(toFile: variant, atomically: true, encoding: .utf8)
                return variant
            }) { cf, q in
            try prequeue(cf: cf, queue: q, ["root@vm.example.test"], subject: "for the host")
            try prequeue(cf: cf, queue: q, ["daemon@other.vm.example.test"], subject: "for the domain")
            try prequeue(cf: cf, queue: q, ["bin"], subject: "for the group")
        }
    }
}
