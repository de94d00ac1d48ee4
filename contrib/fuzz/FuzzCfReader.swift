// contrib/fuzz/FuzzCfReader.swift
//
// libFuzzer entry point for the sendmail.cf reader.  The whole input is a
// cf; it is read with no files or programs reachable (F lines fail), then
// every ruleset that got rules is applied once to a short fixed address in
// a rewrite engine without maps.  Built by build.sh with the SMBase,
// SMRules and SMConfig sources.
// Promises: traps only on a broken contract (a crash, a rule with more than
// 9 wildcards compiled, a workspace beyond 1000 tokens per call level);
// libFuzzer's
// -timeout catches unbounded work.  Replayed by
// Tests/SMConfigTests/FuzzReplayTests.swift over Tests/Fixtures/fuzz/cfreader.

final class FuzzReporter: CfReporter {
    var count = 0
    func configError(_ message: String) { count += 1 }
    func notice(_ message: String) { count += 1 }
}

struct NoFiles: CfSource {
    func readFile(_ path: [UInt8]) -> Result<[UInt8], CfSourceError> { .failure(CfSourceError("No such file or directory")) }
    func runProgram(_ command: [UInt8]) -> [UInt8]? { nil }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCfReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzCfReaderOne(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

func fuzzCfReaderOne(_ bytes: [UInt8]) {
    let config = Configuration(fileName: "fuzz.cf")
    let reporter = FuzzReporter()
    var reader = CfReader(config: config, source: NoFiles(), reporter: reporter)
    reader.testMode = true
    reader.read(bytes)
    let out = OutputBuffer()
    let rw = RewriteEngine(rulesets: config.rulesets, classes: config.classes, names: config.names,
                           macros: config.macros, tables: config.tables(), out: out)
    rw.testMode = true
    for n in 0..<Limits.maxRulesets where config.rulesets.hasRules(n) {
        for r in config.rulesets.rules[n]! { precondition(r.wildcardCount <= 9 || r.lhs.isEmpty, "too many wildcards kept") }
        var ws: [[UInt8]] = [Array("a".utf8), Array("@".utf8), Array("b".utf8), Array(".".utf8), Array("c".utf8)]
        _ = rw.rewrite(&ws, ruleset: n)
        // Each $> level may add up to MAXATOM tokens in front of its callee's
        // result: sendmail 8.17 itself returns 1010 tokens for nested calls
        // (recorded case "nested calls share the 1000-token workspace"), so
        // the bound is per recursion level, not 1000.
        precondition(ws.count <= Limits.maxAtoms * (Limits.maxRuleRecursion + 2), "workspace unbounded")
    }
    for m in config.mailers.compactMap({ $0 }) { _ = config.describe(m) }
    precondition(out.bytes.count < 50_000_000, "output flood")
}
