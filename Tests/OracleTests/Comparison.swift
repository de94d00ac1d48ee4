// Comparison.swift — runs one case on the oracle and on a binary under test
// and reports every way the two runs differ.
//
// Promises: `compare` returns nil only if stdout, stderr and exit status are
// byte-for-byte identical.  Otherwise it returns a readable message: the case,
// both command lines, the status of each, a short unified diff per differing
// stream, and where the full transcripts are kept (.build/oracle-scratch/runs/).
// A harness failure (oracle timing out, sandbox setup) throws instead.

import Foundation

struct CaseRun: Sendable {
    let oracle: RunResult
    let underTest: RunResult
    let runDir: URL
    let tag: String
}

enum Comparison {
    /// `tag` names the kept files; cases run concurrently, so two runs of
    /// the same case (a self-test and the real test) need different tags.
    static func run(_ c: OracleCase, oracle: String, underTest: String, tag: String? = nil) throws -> CaseRun {
        let tag = tag ?? c.name
        let prepared = try Workspace.shared.prepare(c.config)
        let script = try c.buildScript(prepared: prepared)
        let options = c.sandboxOptions(prepared: prepared)
        let runDir = Workspace.shared.runs
        let expected = try Sandbox.run(binary: oracle, cf: prepared.cfPath, input: script.bytes,
                                       options: options, runDir: runDir, tag: tag + ".oracle")
        if expected.timedOut {
            throw HarnessError("the oracle timed out on \(c.name) (\(expected.commandLine)); "
                + "a case must be bounded")
        }
        let actual = try Sandbox.run(binary: underTest, cf: prepared.cfPath, input: script.bytes,
                                     options: options, runDir: runDir, tag: tag + ".ours")
        return CaseRun(oracle: expected, underTest: actual, runDir: runDir, tag: tag)
    }

    static func compare(_ c: OracleCase, oracle: String, underTest: String) throws -> String? {
        let r = try run(c, oracle: oracle, underTest: underTest)
        return describeDifferences(name: c.name, r)
    }

    static func describeDifferences(name: String, _ r: CaseRun) -> String? {
        var parts: [String] = []
        if r.oracle.status != r.underTest.status {
            parts.append("exit status: oracle \(r.oracle.status), under test \(r.underTest.status)"
                + (r.underTest.timedOut ? " (timed out)" : ""))
        }
        if let d = TranscriptDiff.firstDifferences(expected: r.oracle.stdout, actual: r.underTest.stdout) {
            parts.append("stdout differs:\n" + d)
        }
        if let d = TranscriptDiff.firstDifferences(expected: r.oracle.stderr, actual: r.underTest.stderr) {
            parts.append("stderr differs:\n" + d)
        }
        if parts.isEmpty { return nil }
        let base = r.runDir.appendingPathComponent(r.tag).path
        return """
            \(name): transcripts differ
              oracle:     \(r.oracle.commandLine)
              under test: \(r.underTest.commandLine)
            \(parts.joined(separator: "\n"))
            full transcripts: \(base).oracle.{out,err} and \(base).ours.{out,err}
            """
    }
}
