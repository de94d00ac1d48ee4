// GoldenTranscripts.swift — recorded oracle transcripts for a few key cases,
// kept in Tests/Fixtures/oracle/expected/ to help engine authors debug.
//
// Promises: the differential tests never read these files; the oracle always
// runs live.  This test re-runs the oracle on each key case and checks that
// the recorded transcript is still what the oracle prints (so the files never
// silently rot, and a drift in the installed sendmail is noticed).  With
// ORACLE_RECORD=1 in the environment it rewrites the files instead
// (contrib/oracle/record-expected.sh).  The scratch path is written as @SCRATCH@.

import Foundation
import Testing

@Suite("Recorded oracle transcripts (expected/)")
struct GoldenTranscripts {
    static let keyCases = [
        "operators.all", "errors.paths", "errors.edge-inputs", "generic-linux.commands",
        "generic-linux.interfaces-probed", "debian-sendmail.checks", "maps.features",
        "masquerade.features", "nullclient.features", "uucp.features", "localrules.features", "syntax.load-errors",
    ]

    static func render(_ r: RunResult) -> [UInt8] {
        let scratch = Array(Workspace.shared.root.path.utf8)
        let header = Array("# exit status \(r.status)\n# --- stdout\n".utf8)
        let middle = Array("# --- stderr\n".utf8)
        return replace(scratch, with: Array("@SCRATCH@".utf8), in: header + r.stdout + middle + r.stderr)
    }

    static func replace(_ needle: [UInt8], with replacement: [UInt8], in haystack: [UInt8]) -> [UInt8] {
        guard !needle.isEmpty else { return haystack }
        var out: [UInt8] = []
        out.reserveCapacity(haystack.count)
        var i = 0
        while i < haystack.count {
            if haystack[i] == needle[0], i + needle.count <= haystack.count,
               Array(haystack[i..<i + needle.count]) == needle {
                out += replacement
                i += needle.count
            } else { out.append(haystack[i]); i += 1 }
        }
        return out
    }

    @Test("recorded transcript matches the live oracle", arguments: keyCases)
    func recorded(_ name: String) throws {
        let c = try #require(Cases.all.first { $0.name == name })
        let prepared = try Workspace.shared.prepare(c.config)
        let script = try c.buildScript(prepared: prepared)
        let live = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: prepared.cfPath,
                                   input: script.bytes, options: c.sandboxOptions(prepared: prepared),
                                   runDir: Workspace.shared.runs, tag: name + ".golden")
        let rendered = Self.render(live)
        let file = OracleEnvironment.fixtures.appendingPathComponent("expected/\(name).out")
        if ProcessInfo.processInfo.environment["ORACLE_RECORD"] == "1" {
            try Data(rendered).write(to: file)
            return
        }
        guard let recorded = FileManager.default.contents(atPath: file.path) else {
            Issue.record("missing \(file.path); run contrib/oracle/record-expected.sh")
            return
        }
        if let diff = TranscriptDiff.firstDifferences(expected: [UInt8](recorded), actual: rendered,
                                                      expectedName: "recorded", actualName: "live oracle") {
            Issue.record(Comment(rawValue: "\(name): the oracle no longer prints the recorded transcript "
                + "(installed sendmail changed?). Re-record with contrib/oracle/record-expected.sh\n" + diff))
        }
    }
}
