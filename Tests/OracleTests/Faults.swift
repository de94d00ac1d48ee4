// Faults.swift — helpers for the failure tests (SubmitTests, CrashTests,
// DiskFullTests): scratch directories, a tiny tmpfs that fills up, and
// runs killed with SIGKILL.
//
// Promises: `runKilled` runs its command in a private UTS namespace with
// the suite's host name under `timeout -s KILL`, which signals its whole
// process group: the binary and every mailer it started die at the same
// instant, as in a power cut seen from the processes.  `withTmpfs` always
// unmounts what it mounted.  Setup failures throw HarnessError.

import Foundation

enum Faults {
    /// An empty directory `name` below `dir`, mode 0700.
    static func freshDirectory(_ dir: URL, _ name: String) throws -> URL {
        let q = dir.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: q)
        try FileManager.default.createDirectory(at: q, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        return q
    }

    /// Runs a program directly (no shell, no sandbox); its exit status.
    @discardableResult
    static func system(_ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0].hasPrefix("/") ? args[0] : "/bin/" + args[0])
        p.arguments = Array(args.dropFirst())
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// A tiny tmpfs mounted (as root) over a fresh directory for `body`.
    static func withTmpfs<T>(_ dir: URL, options: String, _ body: (URL) throws -> T) throws -> T {
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let rc = try system(["mount", "-t", "tmpfs", "-o", options, "tmpfs", dir.path])
        guard rc == 0 else { throw HarnessError("cannot mount a tmpfs on \(dir.path) (needs root)") }
        defer { _ = try? system(["umount", dir.path]) }
        return try body(dir)
    }

    /// Runs `command` (the program first) with `input` on stdin and stdout
    /// and stderr into `output` (nil: discarded), killed with SIGKILL
    /// together with its children after `seconds` (nil: 60 s, a hang).
    /// Returns the exit status (128 + signal when killed) and the time taken.
    static func runKilled(_ command: [String], input: URL?, output: URL? = nil,
                          after seconds: Double?) throws -> (status: Int32, seconds: Double) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        p.arguments = ["-s", "KILL", seconds.map { String(format: "%.3f", max($0, 0.001)) } ?? "60",
                       "/usr/bin/unshare", "-u", "/bin/sh", "-c", "hostname \(Sandbox.hostName); exec \"$0\" \"$@\""]
            + command
        p.environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TZ": "UTC", "LANG": "C"]
        p.standardInput = try input.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
        if let output {
            FileManager.default.createFile(atPath: output.path, contents: nil)
            let h = try FileHandle(forWritingTo: output)
            p.standardOutput = h
            p.standardError = h
        } else {
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
        }
        let start = Date()
        try p.run()
        p.waitUntilExit()
        // timeout signals its whole process group, itself included
        let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
        return (status, Date().timeIntervalSince(start))
    }
}
