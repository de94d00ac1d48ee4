// ForwardTests.swift — root's .forward under `sendmail -v -bv`, against the
// real sendmail: a scratch directory is bind-mounted over /root in the
// sandbox, holding a .forward in each state sendmail's safety checks tell
// apart (good; group- and world-writable; owned by another user; a symbolic
// link; in a group-writable home), with forwarding to users, a program, a
// file and an :include:.
// Promises: stdout, stderr and exit status identical; fails (never skips)
// when a prerequisite is missing.

import Foundation
import Testing

@Suite("root's .forward: sendmail's safety checks and expansion")
struct ForwardTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var fileMode: Int = 0o644
        var homeMode: Int = 0o755
        var owner: UInt32 = 0
        var symlink = false
        var content = "daemon, bin\n"
        /// -ODontBlameSendmail= for the run (nil: the cf's default, safe).
        var dbs: String? = nil
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "good"),
        Case(name: "group-writable", fileMode: 0o664),
        Case(name: "world-writable", fileMode: 0o666),
        Case(name: "other-owner", owner: 1),
        Case(name: "symlink", symlink: true),
        Case(name: "group-writable-home", homeMode: 0o775),
        Case(name: "world-writable-home", homeMode: 0o777),
        Case(name: "sticky-world-writable-home", homeMode: 0o1777),
        Case(name: "executable", fileMode: 0o755),
        Case(name: "targets", content: "# comment\n\nsys\n\"|/bin/cat\", /tmp/fwd-file\n:include:/nonexistent/list\n"),
        Case(name: "self", content: "\\root, daemon\n"),
        Case(name: "empty", content: ""),
    ] + dontBlameCases

    static let targets = "sys\n\"|/bin/cat\", /tmp/fwd-file\n:include:/nonexistent/list\n"
    /// DontBlameSendmail relaxations: each opens a check the cases above
    /// fail, with and without the matching ...Safe name (which decides
    /// whether programs and files named there may be used).
    static let dontBlameCases: [Case] = [
        Case(name: "dbs-gw-file", fileMode: 0o664, content: targets, dbs: "GroupWritableForwardFile"),
        Case(name: "dbs-gw-file-safe", fileMode: 0o664, content: targets,
             dbs: "GroupWritableForwardFile,GroupWritableForwardFileSafe"),
        Case(name: "dbs-ww-file", fileMode: 0o666, content: targets, dbs: "WorldWritableForwardFile"),
        Case(name: "dbs-ww-file-gwonly", fileMode: 0o666, dbs: "GroupWritableForwardFile"),
        Case(name: "dbs-gw-dir", homeMode: 0o775, content: targets, dbs: "ForwardFileInGroupWritableDirPath"),
        Case(name: "dbs-ww-dir", homeMode: 0o777, content: targets, dbs: "ForwardFileInUnsafeDirPath"),
        Case(name: "dbs-ww-dir-safe", homeMode: 0o777, content: targets,
             dbs: "ForwardFileInUnsafeDirPath,ForwardFileInUnsafeDirPathSafe"),
        Case(name: "dbs-gw-dir-unsafe", homeMode: 0o775, content: targets, dbs: "ForwardFileInUnsafeDirPath"),
        Case(name: "dbs-sticky", homeMode: 0o1777, dbs: "TrustStickyBit"),
        Case(name: "dbs-symlink", symlink: true, content: targets, dbs: "LinkedForwardFileInWritableDir"),
        Case(name: "dbs-symlink-ww", homeMode: 0o777, symlink: true, dbs: "ForwardFileInUnsafeDirPath"),
        Case(name: "dbs-symlink-ww-linked", homeMode: 0o777, symlink: true,
             dbs: "ForwardFileInUnsafeDirPath,LinkedForwardFileInWritableDir"),
        Case(name: "dbs-safe-only", fileMode: 0o664, dbs: "GroupWritableForwardFileSafe"),
        Case(name: "dbs-case", fileMode: 0o664, dbs: "groupwritableforwardfile"),
        Case(name: "dbs-unknown", dbs: "NoSuchRelaxation"),
        Case(name: "dbs-safe", fileMode: 0o664, dbs: "Safe"),
        Case(name: "dbs-gw-exec", fileMode: 0o775, content: targets, dbs: "GroupWritableForwardFile"),
    ]

    @Test("sendmail -v -bv root with ~root/.forward", arguments: cases)
    func forward(_ c: Case) throws {
        let p = try Workspace.shared.prepare(Configuration(name: "forward-\(c.name)", source: .cf("cf/aliases.cf")))
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let home = dir.appendingPathComponent("home")
        let fm = FileManager.default
        try? fm.removeItem(at: home)
        try fm.createDirectory(at: home, withIntermediateDirectories: true)
        let fwd = home.appendingPathComponent(".forward")
        if c.symlink {
            let target = home.appendingPathComponent("real-forward")
            try Data(c.content.utf8).write(to: target)
            try fm.createSymbolicLink(atPath: fwd.path, withDestinationPath: target.path)
        } else {
            try Data(c.content.utf8).write(to: fwd)
            #expect(chmod(fwd.path, mode_t(c.fileMode)) == 0)
            #expect(chown(fwd.path, c.owner, c.owner) == 0)
        }
        #expect(chmod(home.path, mode_t(c.homeMode)) == 0)
        // an alias file (text only: sendmail reads it and -v says so) that does not name root
        try Data("postmaster: root\n".utf8).write(to: dir.appendingPathComponent("aliases"))
        var options = SandboxOptions()
        options.modeFlag = "-bv"
        options.rootHome = home.path
        options.extraArguments = (c.dbs.map { ["-ODontBlameSendmail=\($0)"] } ?? []) + ["-v", "root"]
        let (real, ours) = try Sandbox.runBoth(cf: p.cfPath, options: options, tag: "forward-\(c.name)")
        expectSameRun(ours, real)
    }
}

/// An alias's :include: list under sendmail's file checks and the
/// DontBlameSendmail names for include files, under `sendmail -v -bv`.
@Suite("an alias's :include: list: safety checks and DontBlameSendmail")
struct IncludeSafetyTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var fileMode: Int = 0o644
        var dirMode: Int = 0o755
        var owner: UInt32 = 0
        var symlink = false
        var dbs: String? = nil
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "good"),
        Case(name: "gw-file", fileMode: 0o664),
        Case(name: "ww-file", fileMode: 0o666),
        Case(name: "gw-dir", dirMode: 0o775),
        Case(name: "ww-dir", dirMode: 0o777),
        Case(name: "sticky-dir", dirMode: 0o1777),
        Case(name: "other-owner", owner: 1),
        Case(name: "symlink", symlink: true),
        Case(name: "symlink-ww", dirMode: 0o777, symlink: true),
        Case(name: "dbs-gw-file", fileMode: 0o664, dbs: "GroupWritableIncludeFile"),
        Case(name: "dbs-gw-file-safe", fileMode: 0o664, dbs: "GroupWritableIncludeFile,GroupWritableIncludeFileSafe"),
        Case(name: "dbs-ww-file", fileMode: 0o666, dbs: "GroupWritableIncludeFile,WorldWritableIncludeFile"),
        Case(name: "dbs-gw-dir", dirMode: 0o775, dbs: "IncludeFileInGroupWritableDirPath"),
        Case(name: "dbs-ww-dir", dirMode: 0o777, dbs: "IncludeFileInUnsafeDirPath"),
        Case(name: "dbs-ww-dir-safe", dirMode: 0o777, dbs: "IncludeFileInUnsafeDirPath,IncludeFileInUnsafeDirPathSafe"),
        Case(name: "dbs-sticky", dirMode: 0o1777, dbs: "TrustStickyBit"),
        Case(name: "dbs-symlink-ww", dirMode: 0o777, symlink: true,
             dbs: "IncludeFileInUnsafeDirPath,LinkedIncludeFileInWritableDir"),
        Case(name: "dbs-other-owner", owner: 1, dbs: "GroupWritableIncludeFile"),
    ]

    @Test("sendmail -v -bv list (list: :include:file)", arguments: cases)
    func include(_ c: Case) throws {
        let p = try Workspace.shared.prepare(Configuration(name: "include-\(c.name)", source: .cf("cf/aliases.cf")))
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let fm = FileManager.default
        let lists = dir.appendingPathComponent("lists")
        try? fm.removeItem(at: lists)
        try fm.createDirectory(at: lists, withIntermediateDirectories: true)
        let file = lists.appendingPathComponent("members")
        let content = "daemon\n\"|/bin/cat\", /tmp/include-file\n"
        if c.symlink {
            let target = dir.appendingPathComponent("real-members")
            try Data(content.utf8).write(to: target)
            try? fm.removeItem(at: file)
            try fm.createSymbolicLink(atPath: file.path, withDestinationPath: target.path)
        } else {
            try Data(content.utf8).write(to: file)
            #expect(chmod(file.path, mode_t(c.fileMode)) == 0)
            #expect(chown(file.path, c.owner, c.owner) == 0)
        }
        #expect(chmod(lists.path, mode_t(c.dirMode)) == 0)
        try Data("postmaster: root\nlist: :include:\(file.path)\n".utf8).write(to: dir.appendingPathComponent("aliases"))
        var options = SandboxOptions()
        options.modeFlag = "-bv"
        options.extraArguments = (c.dbs.map { ["-ODontBlameSendmail=\($0)"] } ?? []) + ["-v", "list"]
        let (real, ours) = try Sandbox.runBoth(cf: p.cfPath, options: options, tag: "include-\(c.name)")
        expectSameRun(ours, real)
    }
}

/// Map files in unsafe places, with and without the DontBlameSendmail
/// names for maps (`/map` under -bt shows whether the map opened).
@Suite("map files: sendmail's safety checks and DontBlameSendmail")
struct MapSafetyTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var dirMode: Int = 0o755
        var fileMode: Int = 0o644
        var symlink = false
        var dbs: String? = nil
        /// The maps are not made at all.
        var missing = false
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "good"),
        Case(name: "missing", missing: true),
        Case(name: "gw-dir", dirMode: 0o775),
        Case(name: "ww-dir", dirMode: 0o777),
        Case(name: "sticky-dir", dirMode: 0o1777),
        Case(name: "gw-file", fileMode: 0o664),
        Case(name: "ww-file", fileMode: 0o666),
        Case(name: "symlink", symlink: true),
        Case(name: "symlink-gw", dirMode: 0o775, symlink: true),
        Case(name: "dbs-gw-dir", dirMode: 0o775, dbs: "GroupWritableDirPathSafe"),
        Case(name: "dbs-ww-dir", dirMode: 0o777, dbs: "MapInUnsafeDirPath"),
        Case(name: "dbs-gw-dir-unsafe", dirMode: 0o775, dbs: "MapInUnsafeDirPath"),
        Case(name: "dbs-sticky", dirMode: 0o1777, dbs: "TrustStickyBit"),
        Case(name: "dbs-symlink-gw", dirMode: 0o775, symlink: true, dbs: "GroupWritableDirPathSafe"),
        Case(name: "dbs-symlink-gw-linked", dirMode: 0o775, symlink: true,
             dbs: "GroupWritableDirPathSafe,LinkedMapInWritableDir"),
        Case(name: "dbs-forward-only", dirMode: 0o777, dbs: "ForwardFileInUnsafeDirPath"),
        Case(name: "dbs-symlink-ww-unsafe", dirMode: 0o777, symlink: true, dbs: "MapInUnsafeDirPath"),
        Case(name: "dbs-symlink-ww-unsafe-linked", dirMode: 0o777, symlink: true,
             dbs: "MapInUnsafeDirPath,LinkedMapInWritableDir"),
        Case(name: "dbs-ww-file", fileMode: 0o666, dbs: "MapInUnsafeDirPath"),
    ]

    @Test("-bt /map on a text map and a hash map", arguments: cases)
    func map(_ c: Case) throws {
        let p = try Workspace.shared.prepare(Configuration(name: "mapsafe-\(c.name)", source: .cf("cf/aliases.cf")))
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let fm = FileManager.default
        let maps = dir.appendingPathComponent("maps")
        try? fm.removeItem(at: maps)
        try fm.createDirectory(at: maps, withIntermediateDirectories: true)
        let text = maps.appendingPathComponent("t.txt")
        let hashSource = dir.appendingPathComponent("h-source")
        try Data("key value\n".utf8).write(to: hashSource)
        let made = Process()
        made.executableURL = URL(fileURLWithPath: OracleEnvironment.makemapPath)
        made.arguments = ["hash", dir.appendingPathComponent("h").path]
        made.standardInput = try FileHandle(forReadingFrom: hashSource)
        try made.run()
        made.waitUntilExit()
        #expect(made.terminationStatus == 0)
        if c.missing {
            // nothing in maps/
        } else if c.symlink {
            try Data("key value\n".utf8).write(to: dir.appendingPathComponent("t-real.txt"))
            try fm.createSymbolicLink(atPath: text.path, withDestinationPath: dir.appendingPathComponent("t-real.txt").path)
            try fm.createSymbolicLink(atPath: maps.appendingPathComponent("h.db").path,
                                      withDestinationPath: dir.appendingPathComponent("h.db").path)
        } else {
            try Data("key value\n".utf8).write(to: text)
            try fm.moveItem(at: dir.appendingPathComponent("h.db"), to: maps.appendingPathComponent("h.db"))
            #expect(chmod(text.path, mode_t(c.fileMode)) == 0)
            #expect(chmod(maps.appendingPathComponent("h.db").path, mode_t(c.fileMode)) == 0)
        }
        #expect(chmod(maps.path, mode_t(c.dirMode)) == 0)
        var cf = try String(contentsOfFile: p.cfPath, encoding: .utf8)
        cf += "Kt text \(text.path)\nKh hash \(maps.appendingPathComponent("h").path)\n"
        let cfPath = dir.appendingPathComponent("mapsafe.cf").path
        try cf.write(toFile: cfPath, atomically: true, encoding: .utf8)
        var options = SandboxOptions()
        options.extraArguments = c.dbs.map { ["-ODontBlameSendmail=\($0)"] } ?? []
        let (real, ours) = try Sandbox.runBoth(cf: cfPath, input: Array("/map t key\n/map h key\n".utf8),
                                               options: options, tag: "mapsafe-\(c.name)")
        expectSameRun(ours, real)
    }
}

/// The alias file in unsafe places: newaliases and -bv, with and without
/// the DontBlameSendmail names for alias files.
@Suite("the alias file: sendmail's safety checks and DontBlameSendmail")
struct AliasFileSafetyTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var dirMode: Int = 0o755
        var fileMode: Int = 0o644
        var symlink = false
        var dbs: String? = nil
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "good"),
        Case(name: "gw-file", fileMode: 0o664),
        Case(name: "ww-file", fileMode: 0o666),
        Case(name: "gw-dir", dirMode: 0o775),
        Case(name: "ww-dir", dirMode: 0o777),
        Case(name: "symlink", symlink: true),
        Case(name: "symlink-gw", dirMode: 0o775, symlink: true),
        Case(name: "dbs-gw-file", fileMode: 0o664, dbs: "GroupWritableAliasFile"),
        Case(name: "dbs-ww-file", fileMode: 0o666, dbs: "WorldWritableAliasFile"),
        Case(name: "dbs-ww-file-both", fileMode: 0o666, dbs: "GroupWritableAliasFile,WorldWritableAliasFile"),
        Case(name: "dbs-gw-dir", dirMode: 0o775, dbs: "GroupWritableDirPathSafe"),
        Case(name: "dbs-ww-dir", dirMode: 0o777, dbs: "MapInUnsafeDirPath"),
        Case(name: "dbs-symlink-gw", dirMode: 0o775, symlink: true, dbs: "GroupWritableDirPathSafe"),
        Case(name: "dbs-symlink-gw-linked", dirMode: 0o775, symlink: true,
             dbs: "GroupWritableDirPathSafe,LinkedAliasFileInWritableDir"),
    ]

    @Test("newaliases, then -bv, on an alias file in each state", arguments: cases)
    func aliasFile(_ c: Case) throws {
        let p = try Workspace.shared.prepare(Configuration(name: "aliassafe-\(c.name)", source: .cf("cf/aliases.cf")))
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let fm = FileManager.default
        let sub = dir.appendingPathComponent("etc")
        try? fm.removeItem(at: sub)
        try fm.createDirectory(at: sub, withIntermediateDirectories: true)
        let file = sub.appendingPathComponent("aliases")
        let content = "postmaster: root\nstaff: daemon, bin\n"
        if c.symlink {
            let real = dir.appendingPathComponent("aliases-real")
            try Data(content.utf8).write(to: real)
            try fm.createSymbolicLink(atPath: file.path, withDestinationPath: real.path)
        } else {
            try Data(content.utf8).write(to: file)
            #expect(chmod(file.path, mode_t(c.fileMode)) == 0)
        }
        #expect(chmod(sub.path, mode_t(c.dirMode)) == 0)
        var cf = try String(contentsOfFile: p.cfPath, encoding: .utf8)
        cf = cf.replacingOccurrences(of: "O AliasFile=\(dir.path)/aliases", with: "O AliasFile=\(file.path)")
        let cfPath = dir.appendingPathComponent("aliassafe.cf").path
        try cf.write(toFile: cfPath, atomically: true, encoding: .utf8)
        let dbsArgs = c.dbs.map { ["-ODontBlameSendmail=\($0)"] } ?? []
        // each side makes its own database, then -bv reads it
        var results: [String: [RunResult]] = [:]
        for (who, binary) in [("oracle", OracleEnvironment.oraclePath), ("ours", try OracleEnvironment.binaryUnderTest())] {
            try? fm.removeItem(at: sub.appendingPathComponent("aliases.db"))
            try? fm.removeItem(at: dir.appendingPathComponent("aliases-real.db"))
            var bi = SandboxOptions()
            bi.modeFlag = "-bi"
            bi.extraArguments = dbsArgs
            let r1 = try Sandbox.run(binary: binary, cf: cfPath, input: [], options: bi,
                                     runDir: Workspace.shared.runs, tag: "aliassafe-\(c.name)-bi.\(who)")
            var bv = SandboxOptions()
            bv.modeFlag = "-bv"
            bv.extraArguments = dbsArgs + ["staff"]
            let r2 = try Sandbox.run(binary: binary, cf: cfPath, input: [], options: bv,
                                     runDir: Workspace.shared.runs, tag: "aliassafe-\(c.name)-bv.\(who)")
            results[who] = [r1, r2]
        }
        let real = try #require(results["oracle"]), ours = try #require(results["ours"])
        for i in 0..<2 { expectSameRun(ours[i], real[i]) }
    }
}
