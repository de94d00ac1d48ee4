// DiskFullTests.swift — a full file system, against the real sendmail:
// submission into a queue on a tiny tmpfs that fills up, and delivery by
// the *file* mailer and by mail.local into a full mail spool.
//
// Promises: for each fill level, the real sendmail and ours each queue two
// messages into their own 1 MB tmpfs queue, the file system is then
// filled to the level, and a third submission runs.  Required of both:
// the two entries already queued stay byte for byte as they were.
// Compared: sendmail's refusal "Insufficient disk space; try again later"
// (no more blocks free than MinFreeBlocks) must be ours word for word;
// what sendmail does next depends on the room left (it tries to return
// the message to the sender: exit 0 with nothing queued and the message
// gone, or 71/74 leaving an empty qf, a Qf or a stray df; with one block
// free it writes the df, leaves an empty qf and exits 71 without a word),
// so that is printed, not compared: ours exits 71 (never 0 for a message
// it did not queue) and leaves no file at all.  Delivery: the real
// sendmail queues a message for a file alias on a full tmpfs and a local
// user; both queue runs on copies of that queue must give the same
// output, mailer calls, queue afterwards (the file recipient deferred)
// and an unchanged mailbox file; the same with our mail.local as the
// local mailer (it cuts the mailbox back and exits EX_TEMPFAIL).  Fails
// (never skips) when a prerequisite is missing; needs root (mount).

import Foundation
import Testing

@Suite("A full file system: sendmail's messages, nothing damaged")
struct DiskFullTests {
    /// Every file's bytes below `dir` except the filler.
    static func contents(_ dir: URL) throws -> [String: Data] {
        var r: [String: Data] = [:]
        for f in try FileManager.default.contentsOfDirectory(atPath: dir.path) where f != "filler" {
            r[f] = try Data(contentsOf: dir.appendingPathComponent(f))
        }
        return r
    }

    /// Fills the file system of `dir` until `free` blocks are available.
    static func fill(_ dir: URL, leaving free: Int) throws {
        var st = statvfs()
        guard statvfs(dir.path, &st) == 0 else { throw HarnessError("statvfs \(dir.path) failed") }
        let blocks = Int(st.f_bavail) - free
        guard blocks > 0 else { throw HarnessError("only \(st.f_bavail) blocks free on \(dir.path)") }
        let fd = open(dir.appendingPathComponent("filler").path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw HarnessError("cannot create the filler") }
        defer { close(fd) }
        let block = [UInt8](repeating: 0x41, count: Int(st.f_bsize))
        for _ in 0..<blocks {
            guard block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == block.count else {
                throw HarnessError("the filler could not be written")
            }
        }
        guard statvfs(dir.path, &st) == 0, Int(st.f_bavail) == free else {
            throw HarnessError("\(st.f_bavail) blocks free, wanted \(free)")
        }
    }

    struct Outcome {
        var run: RunResult
        var added: [String: Int]    // new file -> size
    }

    /// Both binaries: two messages queued, the queue filled to `free`
    /// blocks, a third submitted with `extra` options.
    func submitIntoFullQueue(free: Int, extra: [String], tag: String) throws -> [String: Outcome] {
        let (cf, dir) = try SubmitTests.prepareWithAliases(SubmitTests.config)
        var outcomes: [String: Outcome] = [:]
        for (who, binary) in [("real", OracleEnvironment.oraclePath), ("ours", try OracleEnvironment.binaryUnderTest())] {
            let home = try Faults.freshDirectory(dir, "home-full-\(tag)-\(who)")
            try Faults.withTmpfs(dir.appendingPathComponent("q-full-\(tag)-\(who)"), options: "size=1m,mode=700") { q in
                var options = SandboxOptions()
                options.modeFlag = "-bm"
                options.rootHome = home.path
                for i in 0..<2 {
                    options.extraArguments = ["-OQueueDirectory=\(q.path)", "-odq", "root"]
                    let r = try Sandbox.run(binary: binary, cf: cf, input: Array("Subject: queued \(i)\n\nbody \(i)\n".utf8),
                                            options: options, runDir: Workspace.shared.runs, tag: "full-\(tag)-\(who)-\(i)")
                    #expect(r.status == 0, "\(who): message \(i) not queued")
                }
                let before = try Self.contents(q)
                #expect(before.keys.filter { $0.hasPrefix("qf") }.count == 2, "\(who): \(before.keys.sorted())")
                try Self.fill(q, leaving: free)
                options.extraArguments = ["-OQueueDirectory=\(q.path)"] + extra + ["-odq", "root"]
                let r = try Sandbox.run(binary: binary, cf: cf,
                                        input: Array("Subject: into a full queue\n\nbody\n".utf8),
                                        options: options, runDir: Workspace.shared.runs, tag: "full-\(tag)-\(who)")
                let after = try Self.contents(q)
                for (name, data) in before {
                    #expect(after[name] == data, "\(who), \(free) blocks free: \(name) changed or vanished")
                }
                var added: [String: Int] = [:]
                for (name, data) in after where before[name] == nil { added[String(name.prefix(2))] = data.count }
                outcomes[who] = Outcome(run: r, added: added)
                #expect(try FileManager.default.contentsOfDirectory(atPath: home.path).isEmpty,
                        "\(who): something went to ~/dead.letter")
            }
        }
        return outcomes
    }

    static let insufficient = "Insufficient disk space; try again later\n"

    static func firstLine(_ b: [UInt8]) -> String {
        String(decoding: b.prefix { $0 != 0x0A }, as: UTF8.self) + (b.contains(0x0A) ? "\n" : "")
    }

    /// sendmail refuses with its message, then returns the message to the
    /// sender as its ErrorMode says, as far as the disk lets it (a bounce
    /// queued, or "savemail: cannot save rejected email anywhere", exit 0,
    /// 71 or 74): what it prints after the first line and its exit status
    /// depend on the room left.  Ours says the same first line, exits 71
    /// (never 0: the message was not queued) and writes nothing.
    func expectRefused(_ o: [String: Outcome], _ label: String) throws {
        let real = try #require(o["real"]), ours = try #require(o["ours"])
        #expect(Self.firstLine(real.run.stdout) == Self.insufficient, "\(label): the oracle changed")
        #expect(String(decoding: ours.run.stdout, as: UTF8.self) == Self.insufficient, "\(label)")
        #expect(ours.run.status == 71, "\(label)")
        #expect(ours.added.isEmpty, "\(label): files left: \(ours.added)")
        print("DiskFullTests \(label): sendmail exit \(real.run.status), added \(real.added), said "
              + String(decoding: real.run.stdout, as: UTF8.self).replacingOccurrences(of: "\n", with: " | "))
    }

    @Test("no block free: sendmail's message, nothing written, never exit 0")
    func noBlockFree() throws {
        try expectRefused(try submitIntoFullQueue(free: 0, extra: [], tag: "zero"), "0 blocks free")
    }

    @Test("no more blocks free than MinFreeBlocks: refused before anything is written")
    func belowMinFreeBlocks() throws {
        // refused when no more than MinFreeBlocks blocks are free
        for free in [50, 100] {
            try expectRefused(try submitIntoFullQueue(free: free, extra: ["-OMinFreeBlocks=100"], tag: "min\(free)"),
                              "\(free) blocks free, MinFreeBlocks=100")
        }
        let o = try submitIntoFullQueue(free: 101, extra: ["-OMinFreeBlocks=100"], tag: "min101")
        let real = try #require(o["real"]), ours = try #require(o["ours"])
        expectSameRun(ours.run, real.run)
        #expect(real.run.status == 0 && real.added.count == 2, "the oracle changed: \(real.added)")
        #expect(ours.added.keys.sorted() == real.added.keys.sorted())
    }

    @Test("one block free: the data file fits, the control file does not")
    func oneBlockFree() throws {
        let o = try submitIntoFullQueue(free: 1, extra: [], tag: "one")
        let real = try #require(o["real"]), ours = try #require(o["ours"])
        // sendmail: exit 71, silent, a df and an empty qf left behind
        #expect(real.run.status == 71 && real.run.stdout.isEmpty, "the oracle changed: \(real.run.status)")
        #expect(real.added["qf"] == 0 && real.added["df"] != nil, "the oracle changed: \(real.added)")
        // ours: the same status, the reason said, nothing left behind
        #expect(ours.run.status == 71)
        #expect(ours.added.isEmpty, "files left: \(ours.added)")
        #expect(String(decoding: ours.run.stdout, as: UTF8.self).contains("No space left on device"))
    }
}

extension DiskFullTests {
    @Test("delivery by the *file* mailer into a full spool: deferred as sendmail does, the mailbox unchanged")
    func fileMailerIntoFullSpool() throws {
        guard getuid() == 0 else { throw HarnessError("DiskFullTests need root") }
        let deliver = DeliverTests()
        let name = "deliver-full-spool"
        let (cf, dir) = try deliver.prepareDeliverScratch(name)
        let d = dir.path
        var options = SandboxOptions()
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: [], options: options,
                            runDir: Workspace.shared.runs, tag: "\(name).newaliases")
        options.modeFlag = "-odq"
        options.extraArguments = ["-oi", "-f", "root", "file", "root"]
        let big = DeliverTests.basicMessage + Array(repeating: Array("0123456789abcdef0123456789abcdef\n".utf8), count: 300).flatMap { $0 }
        let r0 = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: big, options: options,
                                 runDir: Workspace.shared.runs, tag: "\(name).submit")
        #expect(r0.status == 0)
        try deliver.shell("rm -rf '\(d)/q.start' && cp -a '\(d)/q' '\(d)/q.start'")
        var snapshots: [(DeliverTests.Snapshot, Data?)] = []
        for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try deliver.shell("rm -rf '\(d)/q' '\(d)/out'/* && cp -a '\(d)/q.start' '\(d)/q'")
            try Faults.withTmpfs(dir.appendingPathComponent("box"), options: "size=64k,mode=755") { box in
                try deliver.shell("chown mail:mail '\(box.path)'")
                // an mbox with one message in it, then (almost) no room
                let old = Data("From someone  Mon Nov 30 00:00:00 2026\nSubject: old\n\nold body\n\n".utf8)
                try old.write(to: box.appendingPathComponent("mbox"))
                try deliver.shell("chown mail:mail '\(box.path)/mbox' && chmod 600 '\(box.path)/mbox'")
                try Self.fill(box, leaving: 0)
                options.modeFlag = "-q"
                options.extraArguments = ["-v"]
                let r = try Sandbox.run(binary: binary, cf: cf, input: [], options: options,
                                        runDir: Workspace.shared.runs, tag: "\(name).\(tag)")
                let mbox = try? Data(contentsOf: box.appendingPathComponent("mbox"))
                try FileManager.default.removeItem(at: box.appendingPathComponent("filler"))
                try FileManager.default.removeItem(at: box.appendingPathComponent("mbox"))
                // collect() reads box/: empty now; the mailbox is compared apart
                snapshots.append((try DeliverTests.collect(dir, r, bounce: true, knownIDs: []), mbox))
                #expect(mbox == old, "\(tag): the mailbox was changed: \(mbox.map { String(decoding: $0, as: UTF8.self) } ?? "gone")")
            }
        }
        let (real, realBox) = snapshots[0], (ours, oursBox) = snapshots[1]
        #expect(real.stdout.contains("root... Sent"), "the oracle did not deliver: \(real.stdout)")
        ours.expectSame(as: real)
        #expect(oursBox == realBox)
    }
}

extension DiskFullTests {
    /// Our mail.local (the local mailer of Fixtures/oracle/crash/crash.cf)
    /// writing into a full spool: it cuts the mailbox back and exits
    /// EX_TEMPFAIL; both queue runs must defer the same way.
    @Test("delivery by mail.local into a full spool: deferred as sendmail does, the mailbox unchanged")
    func mailLocalIntoFullSpool() throws {
        guard getuid() == 0 else { throw HarnessError("DiskFullTests need root") }
        let p = try Workspace.shared.prepare(Configuration(name: "full-spool-local", source: .cf("crash/crash.cf")))
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let ours = try OracleEnvironment.binaryUnderTest()
        let mailLocal = URL(fileURLWithPath: ours).deletingLastPathComponent().appendingPathComponent("mail.local").path
        #expect(FileManager.default.isExecutableFile(atPath: mailLocal), "\(mailLocal) is missing (swift build)")
        let cf = try String(contentsOfFile: p.cfPath, encoding: .utf8).replacingOccurrences(of: "@MAILLOCAL@", with: mailLocal)
        try cf.write(toFile: p.cfPath, atomically: true, encoding: .utf8)
        try "hosts files\n".write(to: dir.appendingPathComponent("switch"), atomically: true, encoding: .utf8)
        try "postmaster: root\n".write(to: dir.appendingPathComponent("aliases"), atomically: true, encoding: .utf8)
        let queue = try Faults.freshDirectory(dir, "mqueue")
        let start = try Faults.freshDirectory(dir, "mqueue.start")
        var options = SandboxOptions()
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: p.cfPath, input: [], options: options,
                            runDir: Workspace.shared.runs, tag: "full-spool-local.newaliases")
        options.modeFlag = "-odq"
        options.extraArguments = ["-oi", "-f", "daemon", "root", "bin"]
        let body = Array(repeating: "0123456789abcdef0123456789abcdef0123456789abcdef\n", count: 200).joined()
        let r0 = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: p.cfPath,
                                 input: Array(("Subject: to a full spool\n\n" + body).utf8), options: options,
                                 runDir: Workspace.shared.runs, tag: "full-spool-local.submit")
        #expect(r0.status == 0)
        try DeliverTests().shell("rm -rf '\(start.path)' && cp -a '\(queue.path)' '\(start.path)'")
        var results: [(RunResult, [String: String], Data?)] = []
        for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (ours, "ours")] {
            try DeliverTests().shell("rm -rf '\(queue.path)' && cp -a '\(start.path)' '\(queue.path)'")
            try Faults.withTmpfs(dir.appendingPathComponent("spool"), options: "size=64k,mode=1777") { spool in
                let old = Data("From someone  Mon Nov 30 00:00:00 2026\nSubject: old\n\nold body\n\n".utf8)
                try old.write(to: spool.appendingPathComponent("root"))
                try Faults.system(["chmod", "600", spool.appendingPathComponent("root").path])
                try Self.fill(spool, leaving: 0)
                options.modeFlag = "-q"
                options.extraArguments = ["-v"]
                let r = try Sandbox.run(binary: binary, cf: p.cfPath, input: [], options: options,
                                        runDir: Workspace.shared.runs, tag: "full-spool-local.\(tag)")
                let mbox = try? Data(contentsOf: spool.appendingPathComponent("root"))
                #expect(mbox == old, "\(tag): root's mailbox changed")
                var files: [String: String] = [:]
                for f in try Sandbox.queueEntries(queue.path) {
                    let text = String(decoding: try Data(contentsOf: queue.appendingPathComponent(f)), as: UTF8.self)
                    files[f] = DeliverTests.normalise("q/" + f, text)
                }
                results.append((r, files, mbox))
            }
        }
        let (real, realFiles, _) = results[0], (mine, ourFiles, _) = results[1]
        #expect(String(decoding: real.stdout, as: UTF8.self).contains("Deferred"),
                "the oracle did not defer: \(String(decoding: real.stdout, as: UTF8.self))")
        expectSameRun(mine, real)
        #expect(ourFiles == realFiles, "queue afterwards differs:\n--- ours\n\(ourFiles)\n--- real\n\(realFiles)")
    }
}
