// CrashTests.swift — kill -9 at random moments during submissions and
// queue runs; afterwards nothing is lost, nothing is half there.
//
// Promises: 500 operations (4 of 5 a submission `sendmail -odq -oi`, 1 of
// 5 a `sendmail -q -v` queue run; seeded, so every run of the test makes
// the same choices) run our binary with Fixtures/oracle/crash/crash.cf:
// local users through our mail.local into a spool directory (one mailer
// call for all of a message's local users), the alias `filebox` through
// the *file* mailer, CheckpointInterval=1.  Most operations are killed
// with SIGKILL together with their mailers after a random delay.  Then
// queue runs without kills until the queue is empty, and Python's mailbox
// module reads every mailbox.  Required: every message whose submission
// exited 0 is in each of its recipients' mailboxes; every message that is
// in a mailbox at all is in all of its recipients' (a killed submission
// delivers completely or not at all); every message read is complete
// (its body is exactly the lines it was submitted with); a message
// appears more than once in a mailbox only if a killed queue run was
// delivering it (the run's last "Running" line names it): the window
// between a mailer's first write to a mailbox and the qf's update, which
// no design closes (the mailer has written before we can record it).  The
// counts are printed, with where each killed run was by its last -v line
// (in a mailer process; after a mailer's success, which is also during a
// *file* delivery: it prints nothing before it; before any mailer).
// Fails (never skips) when a prerequisite is missing.

import Foundation
import Testing

@Suite("Crashes: kill -9 during submissions and queue runs")
struct CrashTests {
    static let users = ["root", "daemon", "bin", "filebox"]

    /// The body of message `n` with `lines` lines between its markers.
    static func body(_ n: Int, lines: Int) -> String {
        var s = "BEGIN \(n)\n"
        for j in 0..<lines { s += "\(n):\(j): the quick brown fox jumps over the lazy dog\n" }
        return s + "END \(n)\n"
    }

    func medianValue(_ v: [Double], _ otherwise: Double) -> Double {
        v.isEmpty ? otherwise : v.sorted()[v.count / 2]
    }

    func median(_ v: [Double]) -> String {
        v.isEmpty ? "-" : String(format: "%.3f", v.sorted()[v.count / 2])
    }

    @Test("500 submissions and queue runs killed at random: no loss, no partial message")
    func killedAtRandom() throws {
        guard getuid() == 0 else { throw HarnessError("CrashTests need root (mail.local writes as the users)") }
        let python = "/usr/bin/python3"
        #expect(FileManager.default.isExecutableFile(atPath: python), "\(python) is missing")
        let p = try Workspace.shared.prepare(Configuration(name: "crash", source: .cf("crash/crash.cf")))
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let fm = FileManager.default
        let ours = try OracleEnvironment.binaryUnderTest()
        let mailLocal = URL(fileURLWithPath: ours).deletingLastPathComponent().appendingPathComponent("mail.local").path
        #expect(fm.isExecutableFile(atPath: mailLocal), "\(mailLocal) is missing (swift build)")
        var cf = try String(contentsOfFile: p.cfPath, encoding: .utf8)
        cf = cf.replacingOccurrences(of: "@MAILLOCAL@", with: mailLocal)
        try cf.write(toFile: p.cfPath, atomically: true, encoding: .utf8)
        let queue = try Faults.freshDirectory(dir, "mqueue")
        let spool = try Faults.freshDirectory(dir, "spool")
        let box = try Faults.freshDirectory(dir, "box")
        let work = try Faults.freshDirectory(dir, "work")
        chmod(spool.path, 0o1777)
        try Faults.system(["chown", "mail:mail", box.path])
        try "hosts files\n".write(to: dir.appendingPathComponent("switch"), atomically: true, encoding: .utf8)
        try "filebox: \(box.path)/filebox\n".write(to: dir.appendingPathComponent("aliases"), atomically: true, encoding: .utf8)
        let base = [ours, "-C", p.cfPath]
        #expect(try Faults.runKilled(base + ["-bi"], input: nil, after: nil).status == 0, "newaliases failed")

        var rng = SplitMix64(seed: 0x4C_7A5C)
        var recipients: [Int: [String]] = [:]     // every submission
        var acknowledged: Set<Int> = []           // exited 0
        var inFlight: Set<Int> = []               // being delivered when a run was killed
        // where the killed run was, by its last -v line: "Connecting to"
        // (a mailer process running), "... Sent" (a mailer done, the qf not
        // yet updated, or a *file* delivery, which prints nothing before)
        var phase: [Int: Set<String>] = [:]
        var killedSubmissions = 0, killedRuns = 0, runs = 0
        var submitTimes: [Double] = [], runTimes: [Double] = []
        let start = Date()
        var next = 0
        for op in 0..<500 {
            // mail.local's dot locks and temporary link files of killed
            // deliveries (it breaks them itself only after 5 minutes)
            for f in (try? fm.contentsOfDirectory(atPath: spool.path)) ?? [] where f.hasSuffix(".lock") || f.hasPrefix(".lk") {
                try? fm.removeItem(atPath: spool.path + "/" + f)
            }
            if op % 5 == 4 {
                // a queue run: which message has which queue ID now
                var idToMessage: [String: Int] = [:]
                let names = Set((try? fm.contentsOfDirectory(atPath: queue.path)) ?? [])
                for name in names where name.hasPrefix("df") && names.contains("qf" + name.dropFirst(2)) {
                    if let d = fm.contents(atPath: queue.path + "/" + name),
                       let line = String(decoding: d.prefix(40), as: UTF8.self).split(separator: "\n").first,
                       line.hasPrefix("BEGIN "), let n = Int(line.dropFirst(6)) {
                        idToMessage[String(name.dropFirst(2))] = n
                    }
                }
                let kill = rng.chance(85)
                // uniform over the run's expected length (its messages at
                // the median time per message seen so far, plus a start-up)
                let expected = medianValue(submitTimes, 0.03) + medianValue(runTimes, 0.03) * Double(idToMessage.count)
                let delay = 0.002 + Double(rng.below(1000)) / 1000.0 * expected
                let log = work.appendingPathComponent("run\(op).out")
                let r = try Faults.runKilled(base + ["-q", "-v"], input: nil, output: log, after: kill ? delay : nil)
                runs += 1
                if !kill { runTimes.append(r.seconds / Double(max(idToMessage.count, 1))) }
                if r.status == 137 {
                    killedRuns += 1
                    let text = (try? String(contentsOf: log, encoding: .isoLatin1)) ?? ""
                    if let last = text.components(separatedBy: "\n").last(where: { $0.hasPrefix("Running ") }),
                       let path = last.split(separator: " ").dropFirst().first,
                       let n = idToMessage[String(path.split(separator: "/").last ?? "")] {
                        inFlight.insert(n)
                        let lastLine = text.split(separator: "\n").last.map(String.init) ?? ""
                        phase[n, default: []].insert(lastLine.contains("... Connecting to") ? "in the mailer"
                            : lastLine.hasSuffix("... Sent") ? "after a success" : "before a mailer")
                    }
                } else {
                    #expect(r.status == 0, "queue run \(op) exited \(r.status)")
                }
            } else {
                let n = next
                next += 1
                var rcpts: [String] = []
                for u in Self.users where rng.chance(45) { rcpts.append(u) }
                if rcpts.isEmpty { rcpts = [rng.pick(Self.users)] }
                recipients[n] = rcpts
                let lines = rng.pick([1, 3, 10, 40])
                let input = work.appendingPathComponent("in\(n)")
                try Data(("Subject: crash \(n) \(lines)\n\n" + Self.body(n, lines: lines)).utf8).write(to: input)
                let kill = rng.chance(70)
                let delay = Double(rng.below(1000)) / 1000.0 * 1.2 * medianValue(submitTimes, 0.03)
                let r = try Faults.runKilled(base + ["-odq", "-oi"] + rcpts, input: input, after: kill ? delay : nil)
                if r.status == 0 { acknowledged.insert(n) } else if r.status == 137 { killedSubmissions += 1 } else {
                    Issue.record("submission \(n) exited \(r.status)")
                }
                if !kill { submitTimes.append(r.seconds) }
            }
        }
        // the clean-up: runs without kills until nothing is left
        for f in (try? fm.contentsOfDirectory(atPath: spool.path)) ?? [] where f.hasSuffix(".lock") || f.hasPrefix(".lk") {
            try? fm.removeItem(atPath: spool.path + "/" + f)
        }
        var left: [String] = []
        for i in 0..<3 {
            let r = try Faults.runKilled(base + ["-q", "-v"], input: nil, output: work.appendingPathComponent("final\(i).out"),
                                         after: nil)
            #expect(r.status == 0, "final queue run exited \(r.status)")
            left = ((try? fm.contentsOfDirectory(atPath: queue.path)) ?? []).filter { $0.hasPrefix("qf") }
            if left.isEmpty { break }
        }
        #expect(left.isEmpty, "still queued after the final runs: \(left)")
        let elapsed = Date().timeIntervalSince(start)

        // every mailbox as Python's mailbox module reads it: one line per message
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: python)
        reader.arguments = ["-c", """
            import mailbox, sys
            for path in sys.argv[1:]:
                try:
                    box = mailbox.mbox(path, create=False)
                except Exception:
                    continue
                for m in box:
                    subject = (m['Subject'] or '').split()
                    body = m.get_payload(decode=True).decode('latin-1')
                    print(path.rsplit('/', 1)[1], subject[1] if len(subject) > 1 else '?',
                          subject[2] if len(subject) > 2 else '?', repr(body))
            """] + ["root", "daemon", "bin"].map { spool.path + "/" + $0 } + [box.path + "/filebox"]
        let rout = Pipe()
        reader.standardOutput = rout
        try reader.run()
        let seen = String(decoding: rout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        reader.waitUntilExit()
        #expect(reader.terminationStatus == 0, "reading the mailboxes failed")

        var copies: [Int: [String: Int]] = [:]
        var partial: [String] = []
        for line in seen.split(separator: "\n") {
            let f = line.split(separator: " ", maxSplits: 3).map(String.init)
            guard f.count == 4, let n = Int(f[1]), let lines = Int(f[2]) else { partial.append(String(line)); continue }
            let expected = Self.body(n, lines: lines)
            // repr() of the body: compare through Python's quoting of \n
            if f[3] != "'" + expected.replacingOccurrences(of: "\n", with: "\\n") + "'" {
                partial.append(String(line.prefix(200)))
                continue
            }
            copies[n, default: [:]][f[0], default: 0] += 1
        }
        #expect(partial.isEmpty, "incomplete or damaged messages: \(partial.prefix(5))")
        var lost: [String] = [], incomplete: [String] = [], unexplained: [String] = []
        var duplicates = 0, fileDuplicates = 0
        var byPhase: [String: Int] = [:]
        for (n, rcpts) in recipients.sorted(by: { $0.key < $1.key }) {
            let boxes = Set(rcpts.map { $0 == "filebox" ? "filebox" : $0 })
            let got = copies[n] ?? [:]
            #expect(Set(got.keys).isSubset(of: boxes), "message \(n) delivered to \(got.keys.sorted()), not \(boxes.sorted())")
            if acknowledged.contains(n) && Set(got.keys) != boxes {
                lost.append("\(n): \(got.keys.sorted()) of \(boxes.sorted())")
            } else if !got.isEmpty && Set(got.keys) != boxes {
                incomplete.append("\(n): \(got.keys.sorted()) of \(boxes.sorted())")
            }
            let extra = got.values.reduce(0) { $0 + max($1 - 1, 0) }
            duplicates += extra
            fileDuplicates += max((got["filebox"] ?? 0) - 1, 0)
            if extra > 0 && !inFlight.contains(n) { unexplained.append("\(n): \(got)") }
            if extra > 0 { for p in phase[n] ?? [] { byPhase[p, default: 0] += extra } }
        }
        #expect(lost.isEmpty, "acknowledged messages lost: \(lost)")
        #expect(incomplete.isEmpty, "messages delivered to some of their recipients only: \(incomplete)")
        #expect(unexplained.isEmpty, "duplicates of messages no killed run was delivering: \(unexplained)")
        // (how many kills land depends on the machine's load: these floors
        // only make sure the test tested something)
        #expect(killedSubmissions >= 50 && killedRuns >= 15 && inFlight.count >= 5,
                "too few kills: the test did not test much")
        let delivered = copies.count
        print("CrashTests: \(recipients.count) submissions (\(acknowledged.count) acknowledged, \(killedSubmissions) killed), "
              + "\(runs) queue runs (\(killedRuns) killed, \(inFlight.count) with a message in flight), "
              + "\(delivered) messages delivered, \(duplicates) duplicate copies (\(fileDuplicates) by *file*, \(duplicates - fileDuplicates) by mail.local; killed \(byPhase.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))), "
              + "\(String(format: "%.1f", elapsed)) s; "
              + "median submission \(median(submitTimes)) s, median queue run per message \(median(runTimes)) s")
    }
}
