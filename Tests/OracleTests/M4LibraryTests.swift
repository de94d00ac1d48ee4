// M4LibraryTests.swift — our m4 library (cf/, m4/) against sendmail's own.
//
// Runs contrib/m4check/compare.sh: every fixture .mc is built once with
// sendmail's library and once with ours, both .cf files are loaded in the
// REAL sendmail's -bt, and the verdicts of ~1,500 commands per .mc (3,0,
// /parse, /try, check_* rulesets with several client addresses) must agree;
// our .cf must load without warnings.  Also checks that a bad .mc fails with
// a message in our own words.
// Promises: fails (never skips) when m4, python3 or the oracle is missing.

import Foundation
import Testing

@Suite("m4 library: verdicts equal sendmail's own library")
struct M4LibraryTests {
    static let root = OracleEnvironment.packageRoot.path

    @Test("every fixture .mc gives the same -bt verdicts with both libraries")
    func differentialVerdicts() throws {
        try OracleEnvironment.checkPrerequisites()
        let r = try run("/bin/sh", [Self.root + "/contrib/m4check/compare.sh"])
        let out = String(decoding: r.out, as: UTF8.self)
        #expect(r.status == 0, "compare.sh failed:\n\(out.suffix(3000))")
        #expect(out.contains("0 of 23 .mc files failing"), "unexpected summary:\n\(out.suffix(2000))")
        #expect(!out.contains("FAIL"))
    }

    @Test("a bad .mc is refused with a clear message", arguments: [
        ("FEATURE(`no_such_feature')dnl\n", "no such feature"),
        ("MAILER(`local')dnl\nFEATURE(`access_db')dnl\n", "MAILER()"),
        ("FEATURE(`delay_checks', `foe')dnl\n", "friend or hater"),
    ])
    func badMC(_ text: String, _ expected: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("m4bad-\(getpid())-\(abs(text.hashValue))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let mc = dir.appendingPathComponent("bad.mc")
        try ("OSTYPE(`linux')dnl\n" + text).write(to: mc, atomically: true, encoding: .utf8)
        let r = try run("/usr/bin/m4", [Self.root + "/cf/m4/cf.m4", mc.path])
        let err = String(decoding: r.err, as: UTF8.self)
        #expect(r.status != 0, "m4 accepted a bad .mc")
        #expect(err.contains(expected), "message was: \(err)")
    }

    func run(_ path: String, _ args: [String]) throws -> (status: Int32, out: Data, err: Data) {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError("\(path) is missing (install it; see contrib/test.sh)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: Self.root)
        let o = Pipe(), e = Pipe()
        p.standardOutput = o
        p.standardError = e
        try p.run()
        let out = o.fileHandleForReading.readDataToEndOfFile()
        let err = e.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, out, err)
    }
}
