// SMMapsTests/Support.swift
//
// Test support: a recording MapContext, a fixture directory with mode
// 0755 under .build (sendmail refuses map files in world-writable
// directories such as /tmp), locating our built executables and the real
// sendmail 8.17 binaries, and running programs.  Promises: a missing real
// binary makes the calling test fail with a message naming it.
import Foundation
import SMBase
import SMMaps
import SMRules
import Testing

final class RecordingContext: MapContext {
    var macros: [[UInt8]: [UInt8]] = [:]
    var messages: [String] = []
    func macroValue(_ name: [UInt8]) -> [UInt8]? { macros[name] }
    func defineMacro(_ name: [UInt8], _ value: [UInt8]?) { macros[name] = value }
    func message(_ text: [UInt8]) { messages.append(String(decoding: text, as: UTF8.self)) }
}

enum Paths {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let buildDir = packageRoot.appendingPathComponent(".build")
    static let realMakemap = "/usr/libexec/sendmail/makemap"
    static let realPraliases = "/usr/libexec/sendmail/praliases"
    static let realSendmail = "/usr/libexec/sendmail/sendmail"

    static func ours(_ name: String) -> String {
        for cfg in ["debug", "release"] {
            let p = buildDir.appendingPathComponent(cfg).appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return buildDir.appendingPathComponent("debug").appendingPathComponent(name).path
    }

    /// A fresh 0755 directory for one test.
    static func fixtureDir(_ tag: String) throws -> String {
        let dir = buildDir.appendingPathComponent("maps-fixtures")
            .appendingPathComponent("\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        chmod(dir.deletingLastPathComponent().path, 0o755)
        return dir.path
    }
}

struct RunResult { var stdout: [UInt8]; var stderr: [UInt8]; var status: Int32 }

/// Fails the test (does not skip) when the executable is missing.
func requireExecutable(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    try #require(FileManager.default.isExecutableFile(atPath: path),
                 "required executable \(path) is missing (install Debian sendmail-bin, or build our products with `swift build`)",
                 sourceLocation: sourceLocation)
}

func run(_ exe: String, _ args: [String], stdin: [UInt8] = [], cwd: String? = nil) throws -> RunResult {
    // a child that exits before reading its input must not kill the test run
    signal(SIGPIPE, SIG_IGN)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let i = Pipe(), o = Pipe(), e = Pipe()
    p.standardInput = i; p.standardOutput = o; p.standardError = e
    try p.run()
    try? i.fileHandleForWriting.write(contentsOf: Data(stdin))
    try i.fileHandleForWriting.close()
    let out = o.fileHandleForReading.readDataToEndOfFile()
    let err = e.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return RunResult(stdout: Array(out), stderr: Array(err), status: p.terminationStatus)
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}

func decl(_ name: String, _ cls: String, _ args: String = "") -> MapDeclaration {
    MapDeclaration(name: Array(name.utf8), className: Array(cls.utf8), arguments: Array(args.utf8),
                   file: "test.cf", line: 1)
}
