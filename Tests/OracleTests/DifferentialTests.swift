// DifferentialTests.swift — the differential suite: every case in Cases.all is
// run by the real sendmail and by our binary, and the transcripts must match.
//
// Promises: a case passes only if stdout, stderr and exit status are identical.
// A missing oracle, m4, unshare or binary under test is a failure naming what
// is missing — never a skip.  The oracle always runs live; recorded
// transcripts (Tests/Fixtures/oracle/expected) are for humans, see
// GoldenTranscripts.swift.

import Testing

@Suite("Differential: our sendmail -bt vs real sendmail 8.17")
struct DifferentialTests {
    @Test("identical -bt transcript", arguments: Cases.all)
    func identicalTranscript(_ c: OracleCase) throws {
        try OracleEnvironment.checkPrerequisites()
        let ours = try OracleEnvironment.binaryUnderTest()
        if let message = try Comparison.compare(c, oracle: OracleEnvironment.oraclePath, underTest: ours) {
            Issue.record(Comment(rawValue: message))
        }
    }

    @Test("case names are unique and file-safe")
    func caseNames() {
        let names = Cases.all.map(\.name)
        #expect(Set(names).count == names.count)
        for name in names {
            #expect(name.allSatisfy { $0.isLetter || $0.isNumber || "-._".contains($0) }, "bad name \(name)")
        }
    }

    @Test("every configuration is used by some case")
    func everyConfigurationUsed() {
        let used = Set(Cases.all.map(\.config.name))
        for config in Configuration.all { #expect(used.contains(config.name), "\(config.name) unused") }
    }
}
