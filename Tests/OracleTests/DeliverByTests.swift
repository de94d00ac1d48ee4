// DeliverByTests.swift — DELIVERBY (RFC 2852) in `sendmail -bs` sessions,
// against the real sendmail, with SMTPSessionTests' driver and comparison
// (transcripts, and each accepted message's qf/df byte for byte: the qf
// `!` line with its mode byte and time).
//   - MAIL's BY= parameter: every refusal (no value, no ';', out of range,
//     an unknown mode or trace letter, R with a time <= 0), upper and lower
//     case, the trace letter, a later BY= replacing an earlier one, a
//     value without digits, a plain HELO session.
//   - A refused BY= leaves in the envelope what sendmail had read of it
//     (the time, the mode once reset or read), so the next MAIL without
//     BY= still writes a `!` line (or none, when the mode was never read).
//   - DeliverByMin: 60 (the EHLO keyword's argument, R below it refused
//     with 555, N not), "1m" (a time value), -1 (not offered, BY= an
//     unrecognized parameter), 0 (offered without argument).
//   - A queue run (`queueRun`): after an R deadline nothing is delivered
//     and the sender's bounce (5.4.7, "Delivery time (2s) expired",
//     Deliver-By-Date:) is byte for byte sendmail's (df; the qf but its P
//     line, a known difference of every bounce, and I line), and so is
//     the -v output; in N mode (before or after the deadline, a negative
//     time, with T) the message is delivered and the sender gets
//     sendmail's "relayed (Deliver-By notify mode)" receipt.
// Fails (never skips) when a prerequisite is missing.

import Foundation
import Testing

@Suite("DELIVERBY: MAIL's BY= and the qf ! line, against sendmail", .serialized)
struct DeliverByTests {
    let session = SMTPSessionTests()

    static let refusals = """
        EHLO c.example
        MAIL FROM:<a@b> BY
        MAIL FROM:<a@b> BY=
        MAIL FROM:<a@b> BY=abc
        MAIL FROM:<a@b> BY=10
        MAIL FROM:<a@b> BY=10;
        MAIL FROM:<a@b> BY=10;X
        MAIL FROM:<a@b> BY=-10;R
        MAIL FROM:<a@b> BY=0;R
        MAIL FROM:<a@b> BY=;R
        MAIL FROM:<a@b> BY=10;RX
        MAIL FROM:<a@b> BY=0x10;R
        MAIL FROM:<a@b> BY=9999999999;N
        MAIL FROM:<a@b> BY=1000000000;R
        MAIL FROM:<a@b> BY=99999999999999999999999;N
        MAIL FROM:<a@b> BY=30;R
        RSET
        MAIL FROM:<a@b> BY=100;r ENVID=e1
        RCPT TO:<root>
        DATA
        Subject: r

        .
        MAIL FROM:<a@b> BY=120;RT
        RCPT TO:<root>
        DATA
        Subject: rt

        .
        MAIL FROM:<a@b> by=-5;nt SIZE=10
        RCPT TO:<root>
        DATA
        Subject: nt

        .
        MAIL FROM:<a@b> BY=;N
        RCPT TO:<root>
        DATA
        Subject: empty

        .
        MAIL FROM:<a@b> BY=+999999999;Rtx BY=-999999999;N
        RCPT TO:<root>
        DATA
        Subject: twice

        .
        MAIL FROM:<a@b> BY=20;N FOO=bar
        MAIL FROM:<a@b>
        RCPT TO:<root>
        DATA
        Subject: none after a refusal

        .
        HELO c.example
        MAIL FROM:<a@b> BY=40;N
        RCPT TO:<root>
        DATA
        Subject: helo

        .
        QUIT

        """

    @Test("BY= refusals and accepted values; the qf ! line", arguments: ["", "60", "1m", "0", "-1"])
    func parameter(min: String) throws {
        let options = min.isEmpty ? [] : ["-ODeliverByMin=\(min)"]
        let tag = "deliverby" + (min.isEmpty ? "" : "-min\(min)")
        let real = try session.compare(Self.refusals, tag: tag, options: options)
        // what the oracle showed is what we claim above
        switch min {
        case "-1":
            #expect(!real.contains("DELIVERBY") && real.contains("555 5.5.4 BY parameter unrecognized"), "\(tag): \(real)")
        case "60", "1m":
            #expect(real.contains("250-DELIVERBY 60") && real.contains("555 5.5.2 time 30 less than 60"), "\(tag): \(real)")
        default:
            #expect(real.contains("250-DELIVERBY\n") && real.contains("501 5.5.2 illegal by-mode 'X'"), "\(tag): \(real)")
        }
    }

    @Test("a refused BY= leaves what was read of it for the envelope's next MAIL")
    func leftovers() throws {
        let firsts = ["BY=30;R", "BY=10;X", "BY=10", "BY=-10;R", "BY=10;RX", "BY=9999999999;N", "BY=20;N FOO=bar",
                      "BY=20;N BY=5"]
        let script = "EHLO c.example\n" + firsts.map {
            "MAIL FROM:<a@b> \($0)\nMAIL FROM:<a@b>\nRCPT TO:<root>\nDATA\nSubject: after \($0)\n\n.\n"
        }.joined() + "QUIT\n"
        let real = try session.compare(script, tag: "deliverby-leftovers", expectMessages: firsts.count,
                                       options: ["-ODeliverByMin=60"])
        #expect(real.contains("555 5.5.2 time 10 less than 60"), "\(real)")
    }

    /// `text` with queue IDs, dates, times and the queue paths normalised.
    func normalisedRun(_ text: String, queue: String) -> String {
        var t = text.replacingOccurrences(of: queue, with: "<q>")
        t = t.replacingOccurrences(of: SMTPSessionTests.idPattern, with: "QID", options: .regularExpression)
        t = t.replacingOccurrences(of: #"\.[0-9]{9,}/"#, with: ".<t>/", options: .regularExpression)
        t = t.replacingOccurrences(of: #"(?m)^(K|I|P)[0-9/]+$"#, with: "$1<n>", options: .regularExpression)
        return session.normaliseDates(t)
    }

    @Test("a queue run: an R message past its deadline returned (5.4.7), an N one delivered with a receipt",
          arguments: [("2;R", ["root"]), ("2;RT", ["root", "a@relay.example"]), ("3600;N", ["root"]),
                      ("-5;N", ["root"]), ("2;NT", ["root"])])
    func queueRun(by: String, recipients: [String]) throws {
        let (cf, dir) = try session.prepare()
        let returnMode = by.contains("R")
        var results: [(run: String, files: [String: String])] = []
        for (who, binary) in [("real", OracleEnvironment.oraclePath), ("ours", try OracleEnvironment.binaryUnderTest())] {
            let tag = "deliverby-run-\(by.filter { $0.isLetter || $0.isNumber })-\(recipients.count)-\(who)"
            let q = try session.freshQueue(dir, "q-" + tag)
            var options = SandboxOptions()
            options.modeFlag = "-bs"
            options.launcher = [SMTPSessionTests.python, SMTPSessionTests.driver]
            options.extraArguments = ["-OQueueDirectory=\(q.path)", "-odq"]
            let script = "EHLO c.example\nMAIL FROM:<sender@vm.example.test> BY=\(by)\n"
                + recipients.map { "RCPT TO:<\($0)>\n" }.joined() + "DATA\nSubject: by\n\nbody\n.\nQUIT\n"
            let s = try Sandbox.run(binary: binary, cf: cf, input: Array(script.utf8), options: options,
                                    runDir: Workspace.shared.runs, tag: tag + ".bs")
            #expect(String(decoding: s.stdout, as: UTF8.self).contains("Message accepted"), "\(who): not queued")
            // (past a 2-second deadline)
            if by.hasPrefix("2;") { Thread.sleep(forTimeInterval: 3) }
            options = SandboxOptions()
            options.modeFlag = "-q"
            options.extraArguments = ["-OQueueDirectory=\(q.path)", "-v"]
            let r = try Sandbox.run(binary: binary, cf: cf, input: [], options: options,
                                    runDir: Workspace.shared.runs, tag: tag + ".q")
            var files: [String: String] = [:]
            for name in try Sandbox.queueEntries(q.path) {
                let d = try Data(contentsOf: q.appendingPathComponent(name))
                files[String(name.prefix(2))] = normalisedRun(String(decoding: d, as: UTF8.self), queue: q.path)
            }
            results.append((normalisedRun(String(decoding: r.stdout + r.stderr, as: UTF8.self), queue: q.path), files))
        }
        let (real, ours) = (results[0], results[1])
        // the sender's notice waits in the queue (its host does not resolve)
        let df = real.files["df"] ?? ""
        if returnMode {
            #expect(df.contains("Status: 5.4.7") && df.contains("Deliver-By-Date: "), "the oracle's bounce: \(real.files)")
            #expect(real.run.contains("delivery time expired 2s"), "the oracle's -v output: \(real.run)")
        } else {
            #expect(df.contains("Action: relayed (Deliver-By notify mode)") && real.run.contains("<root>... Sent"),
                    "the oracle's receipt: \(real.files)")
        }
        #expect(ours.run == real.run, "-v output\n--- ours\n\(ours.run)\n--- real\n\(real.run)")
        #expect(ours.files == real.files, "queue files\n--- ours\n\(ours.files)\n--- real\n\(real.files)")
    }
}
