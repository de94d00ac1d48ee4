// ETRNTests.swift — ETRN in a `sendmail -bs` session, against the real
// sendmail: sendmail answers and also starts a queue run in the
// background (runqueue()), so a message queued for the named host gets
// its delivery attempt after the session.  Both binaries queue a message
// for a@relay.example with -odq, then give ETRN relay.example; the
// transcripts must match and each queue's qf must show one attempt (N1)
// with the same deferral (M line) within 30 seconds.  A session without
// ETRN leaves the message untried (N0), so the attempt is the ETRN's.
// Fails (never skips) when a prerequisite is missing.

import Foundation
import Testing

@Suite("ETRN in sendmail -bs runs the queue, as sendmail's", .serialized)
struct ETRNTests {
    let session = SMTPSessionTests()

    static func script(etrn: Bool) -> String {
        """
        EHLO c.example
        MAIL FROM:<sender@vm.example.test>
        RCPT TO:<a@relay.example>
        DATA
        Subject: etrn

        .
        \(etrn ? "ETRN relay.example" : "NOOP")
        QUIT

        """
    }

    /// The qf's N and M lines once N is no longer 0, or the last seen after `wait` seconds.
    func attempt(_ q: URL, wait: Double) throws -> [String] {
        let deadline = Date().addingTimeInterval(wait)
        var last: [String] = []
        repeat {
            for name in try FileManager.default.contentsOfDirectory(atPath: q.path) where name.hasPrefix("qf") {
                guard let d = FileManager.default.contents(atPath: q.appendingPathComponent(name).path) else { continue }
                last = String(decoding: d, as: UTF8.self).split(separator: "\n").map(String.init)
                    .filter { $0.hasPrefix("N") || $0.hasPrefix("M") }
            }
            if !last.isEmpty && last != ["N0"] { return last }
            Thread.sleep(forTimeInterval: 0.2)
        } while Date() < deadline
        return last
    }

    @Test("ETRN host: answered, then a background queue run tries the message", arguments: [true, false])
    func etrnRunsQueue(etrn: Bool) throws {
        let (cf, dir) = try session.prepare()
        var options = SandboxOptions()
        options.modeFlag = "-bs"
        options.launcher = [SMTPSessionTests.python, SMTPSessionTests.driver]
        var results: [(transcript: String, nm: [String])] = []
        for (who, binary) in [("real", OracleEnvironment.oraclePath), ("ours", try OracleEnvironment.binaryUnderTest())] {
            let q = try session.freshQueue(dir, "q-etrn-\(etrn)-\(who)")
            options.extraArguments = ["-OQueueDirectory=\(q.path)", "-odq"]
            let r = try Sandbox.run(binary: binary, cf: cf, input: Array(Self.script(etrn: etrn).utf8), options: options,
                                    runDir: Workspace.shared.runs, tag: "etrn-\(etrn).\(who)")
            #expect(r.status == 0, "\(who): the driver failed: \(String(decoding: r.stderr, as: UTF8.self))")
            results.append((String(decoding: r.stdout, as: UTF8.self), try attempt(q, wait: etrn ? 30 : 3)))
        }
        let (real, ours) = (results[0], results[1])
        #expect(session.normalised(ours.transcript) == session.normalised(real.transcript),
                "transcripts differ\n--- ours\n\(ours.transcript)\n--- real\n\(real.transcript)")
        if etrn {
            #expect(real.transcript.contains("250 2.0.0 Queuing for node relay.example started"), "\(real.transcript)")
            #expect(real.nm.contains("N1"), "the oracle's queue run did not try the message: \(real.nm)")
        } else {
            #expect(real.nm == ["N0"], "the oracle tried the message without ETRN: \(real.nm)")
        }
        #expect(ours.nm == real.nm, "qf N/M lines: ours \(ours.nm), the oracle's \(real.nm)")
    }
}
