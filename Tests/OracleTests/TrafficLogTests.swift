// TrafficLogTests.swift — `-X file`, sendmail's traffic log, against the
// real sendmail.
//
// Promises: the real sendmail and ours run the same `-bs` session (through
// Tests/Fixtures/smtp/smtp-driver.py), the same command-line submission
// and the same queue run (Fixtures/oracle/deliver/deliver.cf: a local
// mailer, a From_ line, E=\r\n, a mailer that prints) each with `-X` into
// its own file, and the two logs must be identical once pids, queue IDs,
// dates and the Message-Id's time are normalised.  Fails (never skips)
// when a prerequisite is missing.

import Foundation
import Testing

@Suite("-X traffic log: identical to sendmail's")
struct TrafficLogTests {
    static func normalised(_ data: Data?) -> String {
        var t = String(decoding: data ?? Data(), as: UTF8.self)
        for (pattern, replacement) in [
            (#"(?m)^[0-9]{5,} "#, "PID "),
            (#"[0-9A-Za-z]{8}[0-9]{6}"#, "QID"),
            (#"[A-Z][a-z]{2}, [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT"#, "DATE"),
            (#"[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [0-9]{4}"#, "CTIME"),
            (#"<[0-9]{12}\."#, "<MSGIDTIME."),
        ] {
            t = t.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return t
    }

    /// Runs both binaries with `-X <dir>/traffic-<who>.log`; returns the
    /// normalised logs and the runs.
    func logs(cf: String, dir: URL, tag: String, input: [UInt8], options base: SandboxOptions,
              between: (() throws -> Void)? = nil) throws -> [String: (log: String, run: RunResult)] {
        var result: [String: (String, RunResult)] = [:]
        for (who, binary) in [("real", OracleEnvironment.oraclePath), ("ours", try OracleEnvironment.binaryUnderTest())] {
            try between?()
            let log = dir.appendingPathComponent("traffic-\(tag)-\(who).log")
            try? FileManager.default.removeItem(at: log)
            var options = base
            options.extraArguments = ["-X", log.path] + options.extraArguments
            // ~/dead.letter, should anything fail, stays in the scratch directory
            options.rootHome = try Faults.freshDirectory(dir, "home-traffic-\(who)").path
            let r = try Sandbox.run(binary: binary, cf: cf, input: input, options: options,
                                    runDir: Workspace.shared.runs, tag: "traffic-\(tag).\(who)")
            result[who] = (Self.normalised(try? Data(contentsOf: log)), r)
        }
        return result
    }

    @Test("a -bs session: commands, replies, DATA lines and pipelining")
    func smtpSession() throws {
        let (cf, dir) = try SubmitTests.prepareWithAliases(SMTPSessionTests.config)
        let q = try Faults.freshDirectory(dir, "q-traffic")
        var options = SandboxOptions()
        options.modeFlag = "-bs"
        options.launcher = [SMTPSessionTests.python, SMTPSessionTests.driver]
        options.extraArguments = ["-OQueueDirectory=\(q.path)", "-odq"]
        let script = """
            EHLO client.example
            MAIL FROM:<a@client.example> SIZE=100
            RCPT TO:<root>
            RCPT TO:<x@remote.example>
            DATA
            Subject: hi
            X-8bit: caf\u{e9}

            body line
            ..dotted
            .
            #PIPE 3
            RSET
            MAIL FROM:<>
            RCPT TO:<nosuchuser>
            VRFY root
            NOOP
            QUIT

            """
        let r = try logs(cf: cf, dir: dir, tag: "bs", input: Array(script.utf8), options: options)
        let real = try #require(r["real"]), ours = try #require(r["ours"])
        #expect(real.log.contains("PID <<< DATA\r\n") && real.log.contains("PID >>> 354 "),
                "the oracle's log lacks the session: \(real.log)")
        #expect(ours.log == real.log, "traffic logs differ\n--- ours\n\(ours.log)\n--- real\n\(real.log)")
    }

    @Test("a command-line submission: the message as read, [EOF], a lone dot")
    func submission() throws {
        let p = try Workspace.shared.prepare(SubmitTests.config)
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        for (i, (args, input)) in [
            (["root"], "Subject: one\n\nbody\nlast line without newline"),
            (["root"], "Subject: two\n\nbody\n.\nafter the dot\n"),
            (["-oi", "root"], "Subject: three\n\n.\nafter the dot\r\n"),
            (["-oi", "root"], "Subject: four\r\n\r\nbare\rCR\nlast\r"),
            (["-oi", "root"], "Subject: five\n\nbody\n"),
        ].enumerated() {
            let q = try Faults.freshDirectory(dir, "q-traffic-submit")
            var options = SandboxOptions()
            options.modeFlag = "-odq"
            options.extraArguments = ["-OQueueDirectory=\(q.path)"] + args
            let r = try logs(cf: p.cfPath, dir: dir, tag: "submit\(i)", input: Array(input.utf8), options: options,
                             between: { _ = try Faults.freshDirectory(dir, "q-traffic-submit") })
            let real = try #require(r["real"]), ours = try #require(r["ours"])
            #expect(real.log.contains("PID <<< Subject: "), "the oracle logged nothing: \(real.log)")
            #expect(ours.log == real.log, "\(i): traffic logs differ\n--- ours\n\(ours.log)\n--- real\n\(real.log)")
            expectSameRun(ours.run, real.run)
        }
    }

    @Test("a queue run: -v lines, === EXEC, the message to each mailer, its output and [EOF]")
    func queueRun() throws {
        guard getuid() == 0 else { throw HarnessError("the queue run needs root (mailers run as DefaultUser)") }
        let (cf, dir) = try DeliverTests().prepareDeliverScratch("traffic-deliver")
        let d = dir.path
        var options = SandboxOptions()
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options,
                            runDir: Workspace.shared.runs, tag: "traffic-deliver.newaliases")
        options.modeFlag = "-odq"
        options.extraArguments = ["-oi", "-f", "root", "-N", "never", "root", "x@local2", "Mixed@crlf", "y@noisy", "pipe"]
        let submitted = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: DeliverTests.basicMessage,
                                        options: options, runDir: Workspace.shared.runs, tag: "traffic-deliver.submit")
        #expect(submitted.status == 0)
        try DeliverTests().shell("rm -rf '\(d)/q.start' && cp -a '\(d)/q' '\(d)/q.start'")
        options.modeFlag = "-q"
        options.extraArguments = ["-v"]
        let r = try logs(cf: cf, dir: dir, tag: "deliver", input: [], options: options, between: {
            try DeliverTests().shell("rm -rf '\(d)/q' '\(d)/out'/* && cp -a '\(d)/q.start' '\(d)/q'")
        })
        let real = try #require(r["real"]), ours = try #require(r["ours"])
        #expect(real.log.contains("PID === EXEC ") && real.log.contains("PID <<< [EOF]"),
                "the oracle's log lacks the mailer dialogue: \(real.log)")
        #expect(ours.log == real.log, "traffic logs differ\n--- ours\n\(ours.log)\n--- real\n\(real.log)")
        expectSameRun(ours.run, real.run)
    }
}
