// SMQueueFormatTests/Support.swift
//
// Shared test helpers: the golden fixtures in Tests/Fixtures/queue, a
// scratch queue directory under .build, and the oracle (real sendmail
// 8.17) run inside a private UTS namespace with host name
// vm.example.test and TZ=UTC.  A missing oracle is a test failure with a
// message naming what is missing, never a skip.

import Foundation
import Testing
import SMBase
@testable import SMQueueFormat

enum Paths {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repo.appendingPathComponent("Tests/Fixtures/queue")
    static let oracle = "/usr/libexec/sendmail/sendmail"
}

/// One real control file written by sendmail 8.17 (see make-fixtures.sh).
struct Golden: CustomStringConvertible, Sendable {
    let name: String          // qf<ID> or hf<ID>
    let bytes: [UInt8]
    let dfSize: Int64
    var id: [UInt8] { Array(name.utf8.dropFirst(2)) }
    var description: String { name }

    static let all: [Golden] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Paths.fixtures.path)) ?? []
        return names.filter { ($0.hasPrefix("qf") || $0.hasPrefix("hf")) && !$0.contains(".") }.sorted().map { n in
            let data = (try? Data(contentsOf: Paths.fixtures.appendingPathComponent(n))) ?? Data()
            let sz = (try? String(contentsOf: Paths.fixtures.appendingPathComponent(n + ".dfsize"), encoding: .utf8))
                .flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? -1
            return Golden(name: n, bytes: [UInt8](data), dfSize: sz)
        }
    }()
}

/// A fresh queue directory (mode 700) under .build/smqf-tests (mode 755),
/// with a minimal cf pointing at it.
struct ScratchQueue {
    let root: URL
    let queue: URL
    let cf: URL

    init(_ tag: String) throws {
        let base = Paths.repo.appendingPathComponent(".build/smqf-tests")
        let fm = FileManager.default
        try fm.createDirectory(at: base, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        root = base.appendingPathComponent("\(tag)-\(UUID().uuidString.prefix(8))")
        queue = root.appendingPathComponent("q")
        try fm.createDirectory(at: queue, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root.path)
        cf = root.appendingPathComponent("m.cf")
        let text = "V10/Berkeley\nO QueueDirectory=\(queue.path)\nO ServiceSwitchFile=/dev/null\nO QueueLA=1000\nO RefuseLA=1000\n"
            + "O DontProbeInterfaces=true\nMlocal, P=/bin/true, F=lsDFM, A=true\nMprog, P=/bin/sh, F=lsD, A=sh -c $u\n"
        try text.write(to: cf, atomically: true, encoding: .utf8)
    }

    func put(_ name: String, _ bytes: [UInt8]) throws {
        let u = queue.appendingPathComponent(name)
        try Data(bytes).write(to: u)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: u.path)
    }

    /// Writes qf<id> (or hf) and a df of `dfSize` bytes (none if < 0).
    func add(kind: QueueFileKind = .control, id: [UInt8], qf: [UInt8], dfSize: Int64) throws {
        try put(kind.fileName(for: id).string, qf)
        if dfSize >= 0 { try put(QueueFileKind.data.fileName(for: id).string, [UInt8](repeating: 0x78, count: Int(dfSize))) }
    }

    var directoryBytes: [UInt8] { Array(queue.path.utf8) }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

enum Oracle {
    /// Runs the real sendmail with `args`; nil (and a recorded failure)
    /// when it cannot be run.
    static func run(_ args: [String], stdin: [UInt8] = [], sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8]? {
        guard FileManager.default.isExecutableFile(atPath: Paths.oracle) else {
            Issue.record("oracle missing: \(Paths.oracle) (Debian package sendmail-bin) is needed for this test", sourceLocation: sourceLocation)
            return nil
        }
        for tool in ["/usr/bin/unshare", "/usr/bin/timeout"] where !FileManager.default.isExecutableFile(atPath: tool) {
            Issue.record("oracle harness missing: \(tool) (util-linux/coreutils)", sourceLocation: sourceLocation)
            return nil
        }
        // a child that exits before reading its input must not kill the test run
        signal(SIGPIPE, SIG_IGN)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        p.arguments = ["20", "/usr/bin/unshare", "-u", "sh", "-c", "hostname vm.example.test; exec \"$0\" \"$@\"", Paths.oracle] + args
        var env = ProcessInfo.processInfo.environment
        env["TZ"] = "UTC"
        p.environment = env
        let out = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardInput = inp
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch {
            Issue.record("oracle could not start: \(error)", sourceLocation: sourceLocation)
            return nil
        }
        try? inp.fileHandleForWriting.write(contentsOf: Data(stdin))
        try? inp.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus == 124 {
            Issue.record("oracle timed out: sendmail \(args)", sourceLocation: sourceLocation)
            return nil
        }
        return [UInt8](data)
    }

    /// `sendmail -C cf -bp [extra]` on a scratch queue.
    static func mailq(_ q: ScratchQueue, _ extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8]? {
        run(["-C", q.cf.path, "-bp"] + extra, sourceLocation: sourceLocation)
    }
}

/// Shows both sides of a byte mismatch readably.
func expectSameBytes(_ ours: [UInt8], _ theirs: [UInt8], _ what: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    let same = ours == theirs
    #expect(same, "\(what) differs\n--- ours ---\n\(ours.string)\n--- sendmail ---\n\(theirs.string)",
            sourceLocation: sourceLocation)
}
