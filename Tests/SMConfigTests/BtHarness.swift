// Tests/SMConfigTests/BtHarness.swift
//
// A hermetic, in-process stand-in for `sendmail -bt -C t.cf`: the cf is read
// by CfReader (file "t.cf", host vm.example.test, no files or programs
// reachable), then each input line is run the way sendmail's testmodeline
// runs ruleset lines, `.D`, `.C`, `=S`, `$x` and `$=X`, with the prompt "> "
// before every line and once more at the end of input, as the oracle prints.
// Only what the recorded cases use is supported: 8-bit and over-long -bt
// addresses (rejected by the engine layer before tokenizing) are not.
// Promises: deterministic output; no files, DNS or processes; the exit
// status is sendmail's ExitStat (EX_SOFTWARE after a cf error).

import Testing
import SMBase
import SMRules
@testable import SMConfig

/// One recorded oracle case.
struct BtCase: Sendable, CustomTestStringConvertible {
    var name: String
    var cf: String
    var input: [String]
    var expected: String
    var exitStatus: Int32

    init(_ name: String, cf: String, input: [String], expected: String, exitStatus: Int32) {
        self.name = name
        self.cf = cf
        self.input = input
        self.expected = expected
        self.exitStatus = exitStatus
    }

    var testDescription: String { name }
}

extension String {
    /// The bytes of a recorded literal: one scalar per byte (Latin-1).
    var bytes: [UInt8] { unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } }
}

/// A HostIdentity-like fixed host: vm.example.test, no interfaces.
enum FakeHost {
    static let name = Array("vm.example.test".utf8)
}

struct NoFileSource: CfSource {
    func readFile(_ path: [UInt8]) -> Result<[UInt8], CfSourceError> {
        .failure(CfSourceError("No such file or directory"))
    }
    func runProgram(_ command: [UInt8]) -> [UInt8]? { nil }
}

final class BufferReporter: CfReporter {
    let out: OutputBuffer
    var errors = 0
    init(_ out: OutputBuffer) { self.out = out }
    func configError(_ message: String) { out.writeMessage(message); errors += 1 }
    func notice(_ message: String) { out.write(message); out.write("\n") }
}

/// The loaded configuration plus a rewrite engine over it.
final class BtSession {
    let out = OutputBuffer()
    let config: Configuration
    let rw: RewriteEngine
    let reporter: BufferReporter

    init(cf: [UInt8], fileName: String = "t.cf") {
        config = Configuration(fileName: fileName)
        reporter = BufferReporter(out)
        let c = Int(UInt8(ascii: "w"))
        config.macros[Int(UInt8(ascii: "v"))] = Array("8.17.1.9".utf8)
        config.macros[c] = FakeHost.name
        config.macros[Int(UInt8(ascii: "j"))] = FakeHost.name
        config.macros[Int(UInt8(ascii: "m"))] = Array("example.test".utf8)
        config.macros[Int(UInt8(ascii: "k"))] = FakeHost.name
        config.macros[Int(UInt8(ascii: "b"))] = Array("Mon, 30 Nov 2026 01:22:29 GMT".utf8)
        config.classes.add(FakeHost.name, to: c)
        var reader = CfReader(config: config, source: NoFileSource(), reporter: reporter)
        reader.testMode = true
        reader.knownMapClass = { ["hash", "text", "dequote", "macro", "host"].contains($0.string) }
        reader.read(cf)
        rw = RewriteEngine(rulesets: config.rulesets, classes: config.classes, names: config.names,
                           macros: config.macros, tables: config.tables(), out: out)
        rw.testMode = true
        rw.spaceSub = config.spaceSub
        if reporter.errors > 0 { rw.exitStatus = .software }
        // what sendmail's main() prints after readcf (the Engine's job, not
        // the reader's; repeated here so the transcript is complete)
        if config.configLevel < 10 {
            out.write("Warning: .cf file is out of date: sendmail 8.17.1.9 supports version 10, .cf file is version \(config.configLevel)\n")
        }
    }

    var names: MacroNames { config.names }

    /// Runs a whole transcript the way the oracle prints it.
    func transcript(_ lines: [[UInt8]]) -> [UInt8] {
        out.write("ADDRESS TEST MODE (ruleset 3 NOT automatically invoked)\nEnter <ruleset> <address>\n")
        for l in lines {
            out.write("> ")
            line(l)
        }
        out.write("> ")
        return out.take()
    }

    func line(_ input: [UInt8]) {
        var l = Array(input.prefix { $0 != 0 })
        while l.first == UInt8(ascii: " ") { l.removeFirst() }
        guard let c0 = l.first else { return }
        switch c0 {
        case UInt8(ascii: "#"): return
        case UInt8(ascii: "."): dot(l)
        case UInt8(ascii: "="): equals(l)
        case UInt8(ascii: "$"): dollar(l)
        default: rulesetLine(l)
        }
    }

    func dot(_ l: [UInt8]) {
        let sub: UInt8 = l.count > 1 ? l[1] : 0
        switch sub {
        case UInt8(ascii: "D"), UInt8(ascii: "C"):
            if sub == UInt8(ascii: "C") && l.count == 2 { return }
            let (mid, end) = names.parse(l, at: 2, report: { self.rw.systemError($0) })
            if mid == 0 { return }
            var raw = Array(l[min(end, l.count)...])
            if sub == UInt8(ascii: "D") { while let last = raw.last, isASCIISpace(last) { raw.removeLast() } }
            let v = translateDollars(raw, names: names, report: { self.rw.systemError($0) })
            if sub == UInt8(ascii: "D") {
                rw.macros[mid] = v
            } else {
                for w in expandMacros(v, rw.macros, bufferSize: Limits.maxLine).split(whereSeparator: { isASCIISpace($0) }) {
                    config.classes.add(Array(w), to: mid)
                }
            }
        case 0: out.write("Usage: .[DC]macro value(s)\n")
        default: out.write("Unknown \".\" command " + l.string + "\n")
        }
    }

    func equals(_ l: [UInt8]) {
        guard l.count > 1, l[1] == UInt8(ascii: "S") else { return }
        let name = Array(l[2...])
        guard let rs = rw.rulesets.find(name, report: { self.rw.systemError($0) }) else {
            out.write("Undefined ruleset " + name.string + "\n")
            return
        }
        for r in rw.rulesets.rules[rs] ?? [] { out.write(dump(r)) }
    }

    /// One `=S` line: "R<lhs tokens> TAB TAB <rhs tokens>".
    func dump(_ r: Rule) -> [UInt8] {
        var o: [UInt8] = [UInt8(ascii: "R")]
        for t in r.lhs { Printing.xputs(t, names: names, into: &o); o.append(32) }
        o += [9, 9]
        for t in r.rhs { Printing.xputs(t, names: names, into: &o); o.append(32) }
        o.append(10)
        return o
    }

    func dollar(_ l: [UInt8]) {
        let isClass = l.count > 1 && l[1] == UInt8(ascii: "=")
        let s = Array(l[(isClass ? 2 : 1)...])
        if s.isEmpty { rw.systemError("Name required for macro/class"); return }
        let (id, _) = names.parse(s, at: 0, report: { self.rw.systemError($0) })
        if id == 0 { return }
        if isClass {
            for w in config.classes.members(of: id) { out.write(w); out.write("\n") }
        } else if let v = rw.macros[id] {
            var o: [UInt8] = []
            Printing.xputs(v, names: names, into: &o)
            o.append(10)
            out.write(o)
        } else {
            out.write("Undefined\n")
        }
    }

    func rulesetLine(_ l: [UInt8]) {
        var p = 0
        while p < l.count, !isASCIISpace(l[p]) { p += 1 }
        if p >= l.count { out.write("No address!\n"); return }
        let list = Array(l[..<p])
        let rest = Array(l[(p + 1)...])
        let table = config.configLevel >= 9 ? rw.tables.noComment : rw.tables.external
        var pos = 0
        while true {
            rw.currentAddress = Array(rest[pos...])
            let r = prescan(rest, from: pos, delim: UInt8(ascii: ","), table: table, ignoreUnbalanced: false,
                            report: { self.rw.userError($0) })
            rw.currentAddress = nil
            pos = r.end
            if var pvp = r.tokens {
                var lp = 0
                while lp < list.count {
                    let remaining = Array(list[lp...])
                    guard let rs = rw.rulesets.find(remaining, report: { self.rw.systemError($0) }) else {
                        out.write("Undefined ruleset " + remaining.string + "\n")
                        break
                    }
                    let status = rw.rewrite(&pvp, ruleset: rs)
                    if status != .ok { out.write("== Ruleset " + remaining.string + " (\(rs)) status \(status.rawValue)\n") }
                    while lp < list.count {
                        lp += 1
                        if list[lp - 1] == UInt8(ascii: ",") { break }
                    }
                }
            }
            if pos >= rest.count || rest[pos] == 0 { break }
            pos += 1
        }
    }
}

/// Shows the first differing line of two transcripts.
func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
    let la = a.split(separator: 10, omittingEmptySubsequences: false)
    let lb = b.split(separator: 10, omittingEmptySubsequences: false)
    for i in 0..<max(la.count, lb.count) {
        let x = i < la.count ? Array(la[i]) : []
        let y = i < lb.count ? Array(lb[i]) : []
        if x != y { return "line \(i + 1):\n  expected: \(x.string.debugDescription)\n  actual:   \(y.string.debugDescription)" }
    }
    return "identical"
}
