// CommandLineRefusalTests.swift — a program or a file named as a
// recipient on the command line, against the real sendmail.
//
// Promises: both binaries, given the same arguments and message, exit
// with the same status (64: an error and no status of its own), print the
// same lines (the refusal, the dead.letter copy) and log the same lines:
// the refusal, no to= line for it, and a from= line whose nrcpts= leaves
// out a program (refused before it joins the send queue) but counts a
// file (refused after), with the priority that follows.  Fails (never
// skips) when a prerequisite is missing.

import Foundation
import Testing

@Suite("command-line recipients that are programs or files: exit status, output and log, as sendmail's", .serialized)
struct CommandLineRefusalTests {
    @Test("a program or file named on the command line", arguments: [["-odi", "-f", "root", "|/bin/cat"], ["-odi", "-f", "root", "|/bin/cat", "root"], ["-odq", "-f", "root", "|/bin/cat", "root"], ["-odi", "-f", "root", "/tmp/xfile", "root"]])
    func prog(_ arguments: [String]) throws {
        LogTests.ensureDevLog()
        let (cf, dir) = try SubmitDeliveryTests.prepare("log-cmdline-refusal")
        let d = dir.path
        var options = SandboxOptions()
        options.rootHome = d + "/home"
        var res: [String] = []
        for (who, binary) in [("real", OracleEnvironment.oraclePath), ("ours", try OracleEnvironment.binaryUnderTest())] {
            try SubmitDeliveryTests.freshDirectories(d)
            let collector = try DatagramCollector(path: dir.appendingPathComponent("log-\(who).sock").path)
            collector.startDraining()
            options.devLog = collector.path
            options.modeFlag = "-bm"
            options.extraArguments = ["-OLogLevel=9", "-oi"] + arguments
            let r = try Sandbox.run(binary: binary, cf: cf, input: SubmitDeliveryTests.message,
                                    options: options, runDir: Workspace.shared.runs, tag: "log-cmdline-refusal.\(who)")
            let logs = LogTests.normaliseIDs(collector.drain())
            res.append("\(who) status=\(r.status)\nstdout=\(String(decoding: r.stdout, as: UTF8.self))\nstderr=\(String(decoding: r.stderr, as: UTF8.self))\nlogs:\n" + logs.joined(separator: "\n"))
        }
        #expect(res[0].contains("status=64"), "the oracle did not exit 64: \(res[0])")
        #expect(res[0] == res[1].replacingOccurrences(of: "ours", with: "real"), "\n\(res[0])\n=====\n\(res[1])")
    }
}
