// ToolsTests/SmrshTests.swift
//
// Our smrsh against the real one on a table of commands, both with the
// same scratch command directory bind-mounted over /etc/mail/smrsh: same
// exit status, stdout and stderr (argv[0] normalised), including what the
// allowed commands print when run through /bin/sh with PATH=/usr/bin:/bin.
import Foundation
import Testing

let smrshCommands: [String] = [
    "show a b", "/usr/bin/show a b", "show a;b", "show a | cat", "show a && show b", "show a || show b",
    "exec show x", "exec", "exec   ", "exit 3", "echo hi there", "echo a > f", "nosuch", "noexec", "adir",
    "show $HOME", "show `id`", "show a & ", "show (x)", "show a^b", "  show   lead", "show\ttab",
    "exec exec show", "vacation -t", "cat|x", "show 'quoted arg'", "show \"dq\"", "show a &&", "&& show",
    "echo a && nosuch", "show a\rb", "show a\nb", "show caf\u{E9}", "", "   ", "show <in", "linked arg",
    "show " + String(repeating: "x", count: 990), "true && true && true && show ok",
]

enum Smrsh {
    /// A command directory: show (prints its args and PATH), symlinks, a non-executable, a directory.
    static func commandDirectory() throws -> URL {
        let d = try Tools.scratch("smrsh")
        let fm = FileManager.default
        try Data("#!/bin/sh\necho \"args:$*\" PATH=$PATH\n".utf8).write(to: d.appendingPathComponent("show"))
        chmod(d.appendingPathComponent("show").path, 0o755)
        try fm.createSymbolicLink(atPath: d.appendingPathComponent("cat").path, withDestinationPath: "/bin/cat")
        try fm.createSymbolicLink(atPath: d.appendingPathComponent("true").path, withDestinationPath: "/bin/true")
        try fm.createSymbolicLink(atPath: d.appendingPathComponent("linked").path, withDestinationPath: d.appendingPathComponent("show").path)
        fm.createFile(atPath: d.appendingPathComponent("noexec").path, contents: nil)
        try fm.createDirectory(at: d.appendingPathComponent("adir"), withIntermediateDirectories: false)
        return d
    }

    static func run(_ binary: String, _ args: [String], dir: URL) throws -> RunResult {
        var r = try Tools.run(Tools.inNamespace(mount: dir.path, on: "/etc/mail/smrsh", [binary] + args))
        r.stderr = Array(String(decoding: r.stderr, as: UTF8.self).replacingOccurrences(of: binary, with: "SMRSH").utf8)
        return r
    }
}

@Suite struct SmrshTests {
    @Test(arguments: smrshCommands)
    func sameAsRealSmrsh(_ command: String) throws {
        let dir = try Smrsh.commandDirectory()
        let real = try Smrsh.run(try Tools.real("smrsh"), ["-c", command], dir: dir)
        let ours = try Smrsh.run(try Tools.ours("smrsh"), ["-c", command], dir: dir)
        #expect(ours == real)
    }

    @Test(arguments: [[String](), ["-c"], ["-x", "show"], ["-c", "show", "extra"]])
    func usageAsRealSmrsh(_ args: [String]) throws {
        let dir = try Smrsh.commandDirectory()
        let real = try Smrsh.run(try Tools.real("smrsh"), args, dir: dir)
        let ours = try Smrsh.run(try Tools.ours("smrsh"), args, dir: dir)
        #expect(ours == real)
        #expect(ours.status == 64)
    }

    @Test func commandDirectoryOverride() throws {
        let dir = try Smrsh.commandDirectory()
        let r = try Tools.run([try Tools.ours("smrsh"), "-c", "show via env"], env: ["SMRSH_CMDDIR": dir.path])
        #expect(r.status == 0)
        #expect(String(decoding: r.stdout, as: UTF8.self) == "args:via env PATH=/usr/bin:/bin\n")
    }
}
