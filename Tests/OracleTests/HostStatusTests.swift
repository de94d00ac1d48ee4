// HostStatusTests.swift — host status files (HostStatusDirectory) against
// the real sendmail: `purgestat` (-bH) removes the same entries (only those
// older than Timeout.hoststatus, empty "x." directories, depth first) and
// `hoststat` (-bh) lists the files sendmail wrote after real connection
// attempts (Tests/Fixtures/oracle/hoststat/written) identically.

import Foundation
import Testing

@Suite("hoststat/purgestat on status files sendmail wrote")
struct HostStatusTests {
    static let config = Configuration(name: "hoststat-files", source: .cf("cf/aliases.cf"))

    /// A copy of the written tree plus an empty directory, everything two
    /// hours old except one status file.
    func makeTree(_ dir: URL) throws {
        let fm = FileManager.default
        try? fm.removeItem(at: dir)
        try fm.copyItem(at: URL(fileURLWithPath: OracleEnvironment.fixture("hoststat/written")), to: dir)
        try fm.createDirectory(at: dir.appendingPathComponent("org./empty."), withIntermediateDirectories: true)
        let old = Date(timeIntervalSinceNow: -7200)
        let paths = (fm.enumerator(atPath: dir.path)?.allObjects as? [String] ?? [])
            .sorted { $0.split(separator: "/").count > $1.split(separator: "/").count }
        for p in paths {
            // (the fresh file a minute ahead: with Timeout.hoststatus=0 a
            // second boundary between the two binaries' runs would otherwise
            // decide whether it is "older than" the timeout)
            let date = p == "4./0./0./127" ? Date(timeIntervalSinceNow: 60) : old
            try fm.setAttributes([.modificationDate: date], ofItemAtPath: dir.appendingPathComponent(p).path)
        }
    }

    func tree(_ dir: URL) -> [String] {
        (FileManager.default.enumerator(atPath: dir.path)?.allObjects as? [String] ?? []).sorted()
    }

    @Test("purgestat removes what sendmail removes", arguments: [[], ["-OTimeout.hoststatus=3h"], ["-OTimeout.hoststatus=0"]])
    func purge(_ extra: [String]) throws {
        let p = try Workspace.shared.prepare(Self.config)
        let base = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let tag = "purgestat" + extra.joined().filter { $0.isLetter || $0.isNumber }
        let realDir = base.appendingPathComponent(tag + "-real"), oursDir = base.appendingPathComponent(tag + "-ours")
        try makeTree(realDir)
        try makeTree(oursDir)
        let before = tree(realDir)
        let runs = Workspace.shared.runs
        var options = SandboxOptions()
        options.modeFlag = "-bH"
        options.extraArguments = ["-OHostStatusDirectory=\(realDir.path)"] + extra
        let real = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: p.cfPath, input: [],
                                   options: options, runDir: runs, tag: tag + ".oracle")
        options.extraArguments = ["-OHostStatusDirectory=\(oursDir.path)"] + extra
        let ours = try Sandbox.run(binary: try OracleEnvironment.binaryUnderTest(), cf: p.cfPath, input: [],
                                   options: options, runDir: runs, tag: tag + ".ours")
        expectSameRun(ours, real)
        let after = tree(realDir)
        #expect(tree(oursDir) == after)
        if extra.isEmpty {
            // the fresh file stays, the old ones and the old empty directory go
            #expect(after.contains("4./0./0./127") && !after.contains("6./0./0./127") && !after.contains("org./empty."),
                    "sendmail left: \(after)")
        } else if extra == ["-OTimeout.hoststatus=3h"] {
            #expect(after == before)
        }
    }

    /// The "How long ago" column moves with the clock: a run is repeated
    /// when a second boundary falls between the two binaries.
    @Test("hoststat lists the files sendmail wrote")
    func listing() throws {
        let p = try Workspace.shared.prepare(Self.config)
        var options = SandboxOptions()
        options.modeFlag = "-bh"
        options.extraArguments = ["-OHostStatusDirectory=" + OracleEnvironment.fixture("hoststat/written")]
        var real: RunResult, ours: RunResult
        var tries = 0
        repeat {
            tries += 1
            (real, ours) = try Sandbox.runBoth(cf: p.cfPath, options: options, tag: "hoststat-written")
        } while ours.stdout != real.stdout && tries < 3
        #expect(String(decoding: real.stdout, as: UTF8.self).contains("554 5.7.1 go away"))
        expectSameRun(ours, real)
    }
}
