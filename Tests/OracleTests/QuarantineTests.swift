// QuarantineTests.swift — `sendmail -Q[reason] -q[Q]I/R/S…` against the
// real sendmail: a queue written by the real sendmail is copied twice, the
// same sequence of quarantine commands runs on each copy with one binary,
// and after every step the output, the exit status and the queue files
// (names and bytes) must be the same: quarantine commands, mailq -qQ and
// -qL, and queue runs over quarantined (-qQ) and lost (-qL) entries.
// Promises: fails (never skips) when a prerequisite is missing.

import Foundation
import Testing

@Suite("quarantine (-Q) against the real sendmail")
struct QuarantineTests {
    @Test("set, change, keep, release, select by recipient and sender; mailq -qQ and selections; -qQ and -qL runs")
    func quarantineSequence() throws {
        let p = try Workspace.shared.prepare(Configuration(name: "quarantine", source: .cf("cf/submit.cf")))
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let fm = FileManager.default
        try "".write(to: dir.appendingPathComponent("submit-aliases"), atomically: true, encoding: .utf8)
        let real = dir.appendingPathComponent("q-real"), ours = dir.appendingPathComponent("q-ours")
        for q in [real, ours] { try? fm.removeItem(at: q) }
        try fm.createDirectory(at: real, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let runs = Workspace.shared.runs
        for (i, rcpt) in ["root", "daemon"].enumerated() {
            var o = SandboxOptions()
            o.modeFlag = "-odq"
            o.extraArguments = ["-OQueueDirectory=\(real.path)", "-oi", rcpt]
            let r = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: p.cfPath,
                                    input: Array("Subject: m\(i)\n\nbody\n".utf8), options: o, runDir: runs, tag: "quarantine-submit\(i)")
            #expect(r.status == 0)
        }
        try fm.copyItem(at: real, to: ours)
        let ids = try fm.contentsOfDirectory(atPath: real.path).filter { $0.hasPrefix("qf") }.map { String($0.dropFirst(2)) }.sorted()
        #expect(ids.count == 2, "the real sendmail queued \(ids)")
        guard ids.count == 2 else { return }
        let steps: [[String]] = [
            ["-v", "-Qlooks odd", "-qI\(ids[0])"],
            ["-v", "-Qagain", "-qQ", "-qI\(ids[0])"],
            ["-v", "-Qagain", "-qQ", "-qI\(ids[0])"],
            ["-v", "-Qx", "-qInomatch"],
            // a -qQ run delivers a quarantined entry
            ["-bp", "-qQ"], ["-v", "-qQ", "-qI\(ids[0])"], ["-bp", "-qQ"], ["-bp"], ["-bp", "-qRdaemon"], ["-bp", "-v", "-qQ", "-qI\(ids[0])"], ["-bp", "-q!I\(ids[0])"],
            ["-Qquiet", "-qI\(ids[1])"],
            ["-v", "-Q", "-qQ", "-qI\(ids[1])"],
            ["-v", "-Qall", "-qRdaemon"],
            ["-v", "-Q", "-qRroot"],
            ["-v", "-Q", "-qQ", "-q!Rnobody"],
        ]
        func run(_ n: Int, _ step: [String]) throws {
            var outputs: [String] = []
            var statuses: [Int32] = []
            for (binary, q) in [(OracleEnvironment.oraclePath, real), (try OracleEnvironment.binaryUnderTest(), ours)] {
                var o = SandboxOptions()
                o.modeFlag = "-OQueueDirectory=\(q.path)"
                o.extraArguments = step
                let r = try Sandbox.run(binary: binary, cf: p.cfPath, input: [], options: o, runDir: runs,
                                        tag: "quarantine-\(n).\(q.lastPathComponent)")
                outputs.append(String(decoding: r.stdout + r.stderr, as: UTF8.self).replacingOccurrences(of: q.path, with: "QDIR"))
                statuses.append(r.status)
            }
            #expect(outputs[0] == outputs[1], "step \(n) \(step)")
            #expect(statuses[0] == statuses[1], "step \(n) \(step)")
            let names = try Sandbox.queueEntries(real.path).sorted()
            #expect(names == (try Sandbox.queueEntries(ours.path).sorted()), "step \(n): files differ")
            for name in names where name.hasPrefix("qf") || name.hasPrefix("hf") {
                let a = try Data(contentsOf: real.appendingPathComponent(name))
                let b = try? Data(contentsOf: ours.appendingPathComponent(name))
                #expect(a == b, "step \(n): \(name) differs:\n\(String(decoding: a, as: UTF8.self))\n---\n\(String(decoding: b ?? Data(), as: UTF8.self))")
            }
        }
        for (n, step) in steps.enumerated() { try run(n, step) }
        // a lost entry (a qf renamed Qf, as a queue run does with one it
        // cannot read): listed by mailq -qL, delivered by a -qL run
        let left = try fm.contentsOfDirectory(atPath: real.path).filter { $0.hasPrefix("qf") }.sorted()
        #expect(!left.isEmpty, "no qf left to lose")
        if let qf = left.first {
            for q in [real, ours] {
                try fm.moveItem(at: q.appendingPathComponent(qf), to: q.appendingPathComponent("Q" + qf.dropFirst()))
            }
            for (n, step) in [["-bp", "-qL"], ["-bp"], ["-v", "-qL"], ["-bp", "-qL"]].enumerated() { try run(steps.count + n, step) }
        }
    }
}
