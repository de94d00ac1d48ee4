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

/// A file put somewhere for a safety check: its mode and owner (or a
/// symbolic link to it), its directory's mode, and the DontBlameSendmail
/// names for the run.  Shared by the suites below.
struct FileSafetyCase: Sendable, CustomStringConvertible {
    var name: String
    var fileMode: Int = 0o644
    var dirMode: Int = 0o755
    var owner: UInt32 = 0
    var symlink = false
    var content = "daemon, bin\n"
    /// -ODontBlameSendmail= for the run (nil: the cf's default, safe).
    var dbs: String? = nil
    /// The file is not made at all.
    var missing = false
    var description: String { name }

    var dontBlameArguments: [String] { dbs.map { ["-ODontBlameSendmail=\($0)"] } ?? [] }

    /// An empty directory at `url` (what was there is removed).
    static func freshDirectory(_ url: URL) throws {
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// `text` at `file` with the case's mode and owner, or (symlink) at
    /// `linkTarget` with `file` a symbolic link to it.
    func place(_ text: String, at file: URL, linkTarget: URL) throws {
        if symlink {
            try Data(text.utf8).write(to: linkTarget)
            try? FileManager.default.removeItem(at: file)
            try FileManager.default.createSymbolicLink(atPath: file.path, withDestinationPath: linkTarget.path)
        } else {
            try Data(text.utf8).write(to: file)
            #expect(chmod(file.path, mode_t(fileMode)) == 0)
            #expect(chown(file.path, owner, owner) == 0)
        }
    }
}

@Suite("root's .forward: sendmail's safety checks and expansion")
struct ForwardTests {
    typealias Case = FileSafetyCase

    static let cases: [Case] = [
        Case(name: "good"),
        Case(name: "group-writable", fileMode: 0o664),
        Case(name: "world-writable", fileMode: 0o666),
        Case(name: "other-owner", owner: 1),
        Case(name: "symlink", symlink: true),
        Case(name: "group-writable-home", dirMode: 0o775),
        Case(name: "world-writable-home", dirMode: 0o777),
        Case(name: "sticky-world-writable-home", dirMode: 0o1777),
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
        Case(name: "dbs-gw-dir", dirMode: 0o775, content: targets, dbs: "ForwardFileInGroupWritableDirPath"),
        Case(name: "dbs-ww-dir", dirMode: 0o777, content: targets, dbs: "ForwardFileInUnsafeDirPath"),
        Case(name: "dbs-ww-dir-safe", dirMode: 0o777, content: targets,
             dbs: "ForwardFileInUnsafeDirPath,ForwardFileInUnsafeDirPathSafe"),
        Case(name: "dbs-gw-dir-unsafe", dirMode: 0o775, content: targets, dbs: "ForwardFileInUnsafeDirPath"),
        Case(name: "dbs-sticky", dirMode: 0o1777, dbs: "TrustStickyBit"),
        Case(name: "dbs-symlink", symlink: true, content: targets, dbs: "LinkedForwardFileInWritableDir"),
        Case(name: "dbs-symlink-ww", dirMode: 0o777, symlink: true, dbs: "ForwardFileInUnsafeDirPath"),
        Case(name: "dbs-symlink-ww-linked", dirMode: 0o777, symlink: true,
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
        try Case.freshDirectory(home)
        try c.place(c.content, at: home.appendingPathComponent(".forward"),
                    linkTarget: home.appendingPathComponent("real-forward"))
        #expect(chmod(home.path, mode_t(c.dirMode)) == 0)
        // an alias file (text only: sendmail reads it and -v says so) that does not name root
        try Data("postmaster: root\n".utf8).write(to: dir.appendingPathComponent("aliases"))
        var options = SandboxOptions()
        options.modeFlag = "-bv"
        options.rootHome = home.path
        options.extraArguments = c.dontBlameArguments + ["-v", "root"]
        let (real, ours) = try Sandbox.runBoth(cf: p.cfPath, options: options, tag: "forward-\(c.name)")
        expectSameRun(ours, real)
    }
}

/// An alias's :include: list under sendmail's file checks and the
/// DontBlameSendmail names for include files, under `sendmail -v -bv`.
@Suite("an alias's :include: list: safety checks and DontBlameSendmail")
struct IncludeSafetyTests {
    typealias Case = FileSafetyCase

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
        let lists = dir.appendingPathComponent("lists")
        try Case.freshDirectory(lists)
        let file = lists.appendingPathComponent("members")
        try c.place("daemon\n\"|/bin/cat\", /tmp/include-file\n", at: file,
                    linkTarget: dir.appendingPathComponent("real-members"))
        #expect(chmod(lists.path, mode_t(c.dirMode)) == 0)
        try Data("postmaster: root\nlist: :include:\(file.path)\n".utf8).write(to: dir.appendingPathComponent("aliases"))
        var options = SandboxOptions()
        options.modeFlag = "-bv"
        options.extraArguments = c.dontBlameArguments + ["-v", "list"]
        let (real, ours) = try Sandbox.runBoth(cf: p.cfPath, options: options, tag: "include-\(c.name)")
        expectSameRun(ours, real)
    }
}

/// Map files in unsafe places, with and without the DontBlameSendmail
/// names for maps (`/map` under -bt shows whether the map opened).
@Suite("map files: sendmail's safety checks and DontBlameSendmail")
struct MapSafetyTests {
    typealias Case = FileSafetyCase

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
        try Case.freshDirectory(maps)
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
        options.extraArguments = c.dontBlameArguments
        let (real, ours) = try Sandbox.runBoth(cf: cfPath, input: Array("/map t key\n/map h key\n".utf8),
                                               options: options, tag: "mapsafe-\(c.name)")
        expectSameRun(ours, real)
    }
}

/// The alias file in unsafe places: newaliases and -bv, with and without
/// the DontBlameSendmail names for alias files.
@Suite("the alias file: sendmail's safety checks and DontBlameSendmail")
struct AliasFileSafetyTests {
    typealias Case = FileSafetyCase

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
        try Case.freshDirectory(sub)
        let file = sub.appendingPathComponent("aliases")
        try c.place("postmaster: root\nstaff: daemon, bin\n", at: file,
                    linkTarget: dir.appendingPathComponent("aliases-real"))
        #expect(chmod(sub.path, mode_t(c.dirMode)) == 0)
        var cf = try String(contentsOfFile: p.cfPath, encoding: .utf8)
        cf = cf.replacingOccurrences(of: "O AliasFile=\(dir.path)/aliases", with: "O AliasFile=\(file.path)")
        let cfPath = dir.appendingPathComponent("aliassafe.cf").path
        try cf.write(toFile: cfPath, atomically: true, encoding: .utf8)
        let dbsArgs = c.dontBlameArguments
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
