// InterchangeTests.swift — each side's queue run delivers the other
// side's queue: the real sendmail's `-q -v` runs on a queue our sendmail
// wrote, ours on one the real sendmail wrote.
//
// Promises: the real sendmail and ours each queue (`-odq`) the same
// messages with Fixtures/oracle/deliver/deliver.cf (local users, an alias
// to a pipe, an alias to a file, a list, a second mailer, a recipient
// whose mailer defers); then each of the four (writer, runner) pairs runs
// `-q -v` on a fresh copy of the writer's queue.  Required: all four runs
// give the same stdout, stderr and exit status, the same mailer calls
// (argv, cwd, ids, environment, stdin bytes), the same file-mailer
// mailbox and the same queue afterwards, once queue IDs (numbered in
// submission order), dates, K/I/T lines and the Message-Id's time are
// normalised.  Fails (never skips) when a prerequisite is missing.

import Foundation
import Testing

extension DeliverTests {
    /// The scratch directory of a deliver.cf case with its aliases,
    /// switch file and dump-mailer.sh, and empty q/, out/ and box/.
    func prepareDeliverScratch(_ name: String) throws -> (cf: String, dir: URL) {
        let p = try Workspace.shared.prepare(Configuration(name: name, source: .cf("deliver/deliver.cf")))
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let fixtures = URL(fileURLWithPath: OracleEnvironment.fixture("deliver"))
        for f in ["aliases", "switch", "dump-mailer.sh"] {
            let text = try String(contentsOf: fixtures.appendingPathComponent(f), encoding: .utf8)
                .replacingOccurrences(of: "@SCRATCH@", with: dir.path)
            try text.write(to: dir.appendingPathComponent(f), atomically: false, encoding: .utf8)
        }
        chmod(dir.appendingPathComponent("dump-mailer.sh").path, 0o755)
        let d = dir.path
        try shell("rm -rf '\(d)/q' '\(d)/out' '\(d)/box' && mkdir -p '\(d)/q' '\(d)/out' '\(d)/box' "
                  + "&& chmod 1777 '\(d)/out' && chown mail:mail '\(d)/box' && chmod 700 '\(d)/q'")
        return (p.cfPath, dir)
    }

    @Test("interchange: each side's queue run delivers the queue the other side wrote")
    func crossQueueRuns() throws {
        guard getuid() == 0 else { throw HarnessError("DeliverTests need root (mailers run as DefaultUser mail:mail)") }
        let name = "deliver-interchange"
        let (cf, dir) = try prepareDeliverScratch(name)
        let d = dir.path
        let runs = Workspace.shared.runs
        var options = SandboxOptions()
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options,
                            runDir: runs, tag: "\(name).newaliases")
        let submissions: [([String], [String])] = [
            (["-f", "root"], ["root", "pipe", "file", "x@local2", "a@tempfail"]),
            // different recipient counts: different priorities, one order
            (["-f", "bin"], ["list", "sys", "bin"]),
            (["-f", "daemon", "-N", "never"], ["file", "b@tempfail", "root"]),
        ]
        let binaries = [("real", OracleEnvironment.oraclePath), ("ours", try OracleEnvironment.binaryUnderTest())]
        // each side writes its queue; queue IDs in submission order
        var ids: [String: [String]] = [:]
        for (writer, binary) in binaries {
            try shell("rm -rf '\(d)/q' && mkdir '\(d)/q' && chmod 700 '\(d)/q'")
            var order: [String] = []
            for (i, (args, rcpts)) in submissions.enumerated() {
                options.modeFlag = "-odq"
                options.extraArguments = ["-oi"] + args + rcpts
                let r = try Sandbox.run(binary: binary, cf: cf, input: Self.basicMessage, options: options,
                                        runDir: runs, tag: "\(name).\(writer).submit\(i)")
                #expect(r.status == 0, "\(writer) did not queue message \(i): \(String(decoding: r.stdout + r.stderr, as: UTF8.self))")
                let new = try FileManager.default.contentsOfDirectory(atPath: d + "/q")
                    .filter { $0.hasPrefix("qf") }.map { String($0.dropFirst(2)) }.filter { !order.contains($0) }
                #expect(new.count == 1, "\(writer) message \(i): \(new)")
                order += new
            }
            ids[writer] = order
            try shell("rm -rf '\(d)/q.\(writer)' && cp -a '\(d)/q' '\(d)/q.\(writer)'")
        }
        var snapshots: [String: Snapshot] = [:]
        for (writer, _) in binaries {
            for (runner, binary) in binaries {
                try shell("rm -rf '\(d)/q' '\(d)/out'/* '\(d)/box'/* && cp -a '\(d)/q.\(writer)' '\(d)/q'")
                options.modeFlag = "-q"
                options.extraArguments = ["-v"]
                let r = try Sandbox.run(binary: binary, cf: cf, input: [], options: options,
                                        runDir: runs, tag: "\(name).\(writer)-queue.\(runner)-run")
                var s = try Self.collect(dir, r, bounce: true, knownIDs: Set(ids[writer] ?? []))
                // queue file names: the message's number instead of its ID
                var files: [String: String] = [:]
                for (key, value) in s.files {
                    var k = key
                    for (i, id) in (ids[writer] ?? []).enumerated() { k = k.replacingOccurrences(of: id, with: "<message \(i)>") }
                    var v = value
                    if k.hasPrefix("q/qf") {
                        v = v.replacingOccurrences(of: #"(?m)^T[0-9]+$"#, with: "T<time>", options: .regularExpression)
                    }
                    files[k] = v
                }
                s.files = files
                for (i, id) in (ids[writer] ?? []).enumerated() {
                    s.stdout = s.stdout.replacingOccurrences(of: id, with: "<message \(i)>")
                    s.stderr = s.stderr.replacingOccurrences(of: id, with: "<message \(i)>")
                }
                snapshots["\(writer) queue, \(runner) run"] = s
            }
        }
        let reference = try #require(snapshots["real queue, real run"])
        #expect(reference.files.keys.contains { $0.hasPrefix("out/") }, "the oracle ran no mailer: \(reference.stdout)")
        #expect(reference.files.keys.contains { $0.hasPrefix("box/") }, "the oracle wrote no file: \(reference.files.keys)")
        #expect(reference.files.keys.contains { $0.hasPrefix("q/qf") }, "nothing deferred: \(reference.files.keys)")
        for (label, s) in snapshots.sorted(by: { $0.key < $1.key }) where label != "real queue, real run" {
            #expect(s.stdout == reference.stdout, "\(label): stdout")
            #expect(s.stderr == reference.stderr, "\(label): stderr")
            #expect(s.status == reference.status, "\(label): exit status")
            #expect(s.files.keys.sorted() == reference.files.keys.sorted(), "\(label): files")
            for key in reference.files.keys.sorted() {
                #expect(s.files[key] == reference.files[key], "\(label): \(key) differs")
            }
        }
    }
}
