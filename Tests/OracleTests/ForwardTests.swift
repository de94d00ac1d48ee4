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
        options.extraArguments = ["-v", "root"]
        let (real, ours) = try Sandbox.runBoth(cf: p.cfPath, options: options, tag: "forward-\(c.name)")
        expectSameRun(ours, real)
    }
}
