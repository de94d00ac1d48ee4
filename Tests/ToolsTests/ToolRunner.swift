// ToolsTests/ToolRunner.swift
//
// Runs our tools and the real sendmail 8.17 tools (Debian sendmail-bin,
// /usr/libexec/sendmail) side by side.  Ours are found next to the test
// bundle (.build/<config>/mail.local ...).  A missing real tool makes the
// test fail naming it (never a skip).  Tools that hard-code /var/mail or
// /etc/mail/smrsh run in a private mount namespace (unshare -m, root
// needed) with a scratch directory bind-mounted over that path, so ours
// and the real one see identical paths.
// Promises: every child is killed after `timeout` seconds; the scratch
// directories live under one directory per test process, removed when
// the process exits.
import Foundation
import Testing

struct ToolError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

struct RunResult: Equatable, CustomStringConvertible {
    var status: Int32
    var stdout: [UInt8]
    var stderr: [UInt8]
    var description: String {
        "status \(status)\nstdout: \(String(decoding: stdout, as: UTF8.self))\nstderr: \(String(decoding: stderr, as: UTF8.self))"
    }
}

enum Tools {
    static let realDirectory = "/usr/libexec/sendmail"

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var fixtures: URL { packageRoot.appendingPathComponent("Tests/Fixtures/tools") }

    /// Our executable `name`, next to the running test bundle.
    static func ours(_ name: String) throws -> String {
        let fm = FileManager.default
        var candidates: [String] = []
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent(name).path)
        }
        candidates.append(packageRoot.appendingPathComponent(".build/debug/\(name)").path)
        for c in candidates where fm.isExecutableFile(atPath: c) { return c }
        throw ToolError("our \(name) not found (run `swift build --product \(name)`); looked at \(candidates)")
    }

    /// The real tool; a missing one is a failure naming it.
    static func real(_ name: String) throws -> String {
        let path = "\(realDirectory)/\(name)"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ToolError("real \(path) is missing: install Debian's sendmail-bin 8.17")
        }
        return path
    }

    /// This process's directory of scratch directories, made at first use
    /// and removed (with everything in it) when the process exits.
    static let scratchRoot: URL = {
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("toolstests-\(getpid())")
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        chmod(root.path, 0o755)
        atexit { try? FileManager.default.removeItem(at: Tools.scratchRoot) }
        return root
    }()

    static func scratch(_ tag: String) throws -> URL {
        let u = scratchRoot.appendingPathComponent("\(tag)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        chmod(u.path, 0o1777)
        return u
    }

    /// Runs argv with stdin bytes; env entries are added to a minimal env.
    static func run(_ argv: [String], stdin: [UInt8] = [], env: [String: String] = [:],
                    timeout: Double = 60) throws -> RunResult {
        // a child that exits before reading its input must not kill the test run
        signal(SIGPIPE, SIG_IGN)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        p.arguments = ["-s", "KILL", String(Int(timeout))] + argv
        var e = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TZ": "UTC"]
        for (k, v) in env { e[k] = v }
        p.environment = e
        // Files, not pipes: no reader threads, no deadlock on big outputs.
        let dir = try scratch("io")
        defer { try? FileManager.default.removeItem(at: dir) }
        let inURL = dir.appendingPathComponent("in"), outURL = dir.appendingPathComponent("out"),
            errURL = dir.appendingPathComponent("err")
        try Data(stdin).write(to: inURL)
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let inH = try FileHandle(forReadingFrom: inURL)
        let outH = try FileHandle(forWritingTo: outURL), errH = try FileHandle(forWritingTo: errURL)
        defer { try? inH.close(); try? outH.close(); try? errH.close() }
        p.standardInput = inH
        p.standardOutput = outH
        p.standardError = errH
        try p.run()
        p.waitUntilExit()
        let outData = read(outURL.path), errData = read(errURL.path)
        return RunResult(status: p.terminationStatus, stdout: outData, stderr: errData)
    }

    /// argv run with `source` bind-mounted on `target` in a private mount namespace.
    static func inNamespace(mount source: String, on target: String, _ argv: [String]) -> [String] {
        ["/usr/bin/unshare", "-m", "/bin/sh", "-c", "mount --bind \"$1\" \"$2\" && shift 2 && exec \"$@\"",
         "sh", source, target] + argv
    }

    static func read(_ path: String) -> [UInt8] {
        (try? Array(Data(contentsOf: URL(fileURLWithPath: path)))) ?? []
    }
}
