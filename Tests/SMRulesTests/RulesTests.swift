// Tests/SMRulesTests/RulesTests.swift
//
// Rulesets and the rewrite engine driven directly (no cf reader): ruleset
// naming and numbering (strtorwset), compiled patterns, class matching, and
// the engine's limits and messages.  Rules are built by `compile`, which does
// to an R line what sendmail's readcf does (translate $, expand, prescan with
// the no-comment table).  Expected texts recorded from sendmail 8.17.1.9
// (the same rules in a cf, run with -bt) as noted per test.
// Promises: pure, fast (the recursion test is the slowest, ~1 ms).

import Testing
import SMBase
import SMRules

/// A tiny rule set builder: "S name" starts a set, "lhs\trhs" adds a rule.
final class MiniRules {
    let names = MacroNames()
    var macros = MacroTable.initial()
    let classes = ClassTable()
    var table = RulesetTable()
    var current = -1
    let tables = TokenTables(operatorChars: ".:@[]".b)

    func ruleset(_ name: String) {
        current = table.resolve(name.b, enter: true, report: { _ in }).number ?? -1
    }

    func rule(_ line: String) {
        let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
        func toks(_ s: String) -> [[UInt8]] {
            let ex = expandMacros(translateDollars(s.b, names: names, report: { _ in }), macros)
            return prescan(ex, delim: 0, table: tables.noComment, ignoreUnbalanced: true,
                           bufferSize: Limits.maxLine + Limits.maxAtoms, report: { _ in }).tokens ?? []
        }
        table.append(Rule(lhs: toks(parts[0]), rhs: toks(parts.count > 1 ? parts[1] : ""), line: 0), to: current)
    }

    func engine(_ out: OutputBuffer) -> RewriteEngine {
        RewriteEngine(rulesets: table, classes: classes, names: names, macros: macros, tables: tables, out: out)
    }

    /// Runs `input` through ruleset `name`; returns tokens, status, output.
    func run(_ name: String, _ input: String, trace: Bool = false) -> (String, SysExit, String) {
        let out = OutputBuffer()
        let rw = engine(out)
        rw.testMode = trace
        var ws = prescan(input.b, delim: 0, table: tables.noComment, ignoreUnbalanced: false, report: { _ in }).tokens ?? []
        let n = table.find(name.b)!
        let st = rw.rewrite(&ws, ruleset: n)
        var o: [UInt8] = []
        Printing.printav(ws, names: names, into: &o)
        return (String(o.string.dropFirst().dropLast()), st, out.take().string)
    }
}

@Suite("rulesets and the rewrite engine")
struct RulesTests {
    @Test func namedRulesetsCountDownFrom199() {
        var t = RulesetTable()
        #expect(t.resolve("First".b, enter: true, report: { _ in }).number == 199)
        #expect(t.resolve("Second".b, enter: true, report: { _ in }).number == 198)
        #expect(t.resolve("First".b, enter: true, report: { _ in }).number == 199)
        #expect(t.resolve("Named=7".b, enter: true, report: { _ in }).number == 7)
        #expect(t.find("Named".b) == 7)
        #expect(t.find("12".b) == 12)
        #expect(t.find("Nope".b) == nil)
        // names are case-sensitive
        #expect(t.find("first".b) == nil)
    }

    @Test(arguments: [
        // recorded: "S" -> invalid ruleset name: "", "S300" -> bad ruleset 300 (100 max),
        // "SA=500" -> bad ruleset number 500 in "A=500" (100 max)
        ("", "invalid ruleset name: \"\""),
        ("300", "bad ruleset 300 (100 max)"),
        ("A=500", "bad ruleset number 500 in \"A=500\" (100 max)"),
        ("A=", "bad ruleset definition \"A=\" (number required after `=')"),
        ("_x", "invalid ruleset name: \"_x\""),
    ])
    func resolveErrors(_ s: String, _ msg: String) {
        var t = RulesetTable()
        var msgs: [String] = []
        _ = t.resolve(s.b, enter: true, report: { msgs.append($0) })
        #expect(msgs == [msg])
    }

    @Test func changingANamedNumberIsReported() {
        var t = RulesetTable()
        var msgs: [String] = []
        _ = t.resolve("A=5".b, enter: true, report: { msgs.append($0) })
        let r = t.resolve("A=6".b, enter: true, report: { msgs.append($0) })
        #expect(msgs == ["A: ruleset changed value (old 5, new 6)"])
        #expect(r.number == 5)
    }

    /// recorded: "bad ruleset 250 (100 max)" for the -bt line "250 a".
    @Test func findReportsNumbersOutOfRange() {
        var msgs: [String] = []
        #expect(RulesetTable().find("250".b, report: { msgs.append($0) }) == nil)
        #expect(msgs == ["bad ruleset 250 (100 max)"])
    }

    @Test func compiledPatterns() {
        let m = MiniRules()
        m.ruleset("X")
        m.rule("$* $+ $- $=w $~w $@ $&z Lit\t$1")
        let r = m.table.rules[m.table.find("X".b)!]![0]
        #expect(r.pattern == [.zeroOrMore, .oneOrMore, .one, .inClass(Int(UInt8(ascii: "w"))),
                              .notInClass(Int(UInt8(ascii: "w"))), .zero, .deferredMacro(Int(UInt8(ascii: "z"))),
                              .literal(0)])
        #expect(r.literals == ["lit".b])
        #expect(r.wildcardCount == 5)
        // ($+ $- $=w $~w and the literal take a token each; $* $@ $&z none)
        #expect(r.minTokens == 5)
        #expect(r.literalMask == TokenHash.bit(TokenHash.of("LIT".b)))
    }

    @Test func fingerprintsIgnoreASCIICaseOnly() {
        #expect(TokenHash.of("MiXeD.Example".b) == TokenHash.of("mixed.example".b))
        #expect(TokenHash.of("a".b) != TokenHash.of("b".b))
        #expect(TokenHash.of([0xC9]) != TokenHash.of([0xE9]))   // not folded above ASCII
        #expect(TokenHash.of([Meta.metaQuote, UInt8(ascii: "A")]) == TokenHash.of([Meta.metaQuote, UInt8(ascii: "a")]))
    }

    /// The checks made before a pattern is tried: a literal in another
    /// case still counts as present, a rule whose literal is absent or
    /// that needs more tokens than there are is passed over, and the next
    /// rule gets the workspace.
    @Test(arguments: [
        ("Pre", "a LIT b", "< lit > a b"),
        ("Pre", "a b", "< no > a b"),
        ("Pre", "lit", "< lit >"),
        ("Two", "one", "< short > one"),
        ("Two", "one two", "< two > one two"),
        ("Two", "", "< short >"),
    ])
    func rulesPassedOverBeforeMatching(_ set: String, _ input: String, _ want: String) {
        let m = MiniRules()
        m.ruleset("Pre"); m.rule("$* lit $*\t$@ <lit> $1 $2"); m.rule("$*\t$@ <no> $1")
        m.ruleset("Two"); m.rule("$+ $+\t$@ <two> $1 $2"); m.rule("$*\t$@ <short> $1")
        #expect(m.run(set, input).0 == want)
    }

    /// After a rewrite the workspace's fingerprints are carried over from
    /// what made it (the matched tokens, the template's constants, a `$&`
    /// macro's tokens) or, after a subroutine, made again: a later rule
    /// that needs a token from any of them still matches, and a rule
    /// repeating on its own output sees each new workspace.
    @Test(arguments: [
        ("Carry", "x <a> y", "done x < c > tmp y"),
        ("Carry", "x y", "none x y"),
        ("Again", "x x x", "three"),
        ("Again", "x x", "other y y"),
    ])
    func fingerprintsFollowEachRewrite(_ set: String, _ input: String, _ want: String) {
        let m = MiniRules()
        m.macros[Int(UInt8(ascii: "z"))] = "zed".b
        m.ruleset("Sub"); m.rule("$*\t$@ $1 subbed")
        m.ruleset("Carry")
        m.rule("$* <a> $*\t$: $1 <b> tmp $2")          // a template constant
        m.rule("$* <b> $*\t$: $1 <c> $&z $2")          // a run-time macro's token
        m.rule("$* zed $*\t$: $>Sub $1 found $2")       // then a subroutine's
        m.rule("$* found $* subbed\t$@ done $1 $2")
        m.rule("$*\t$@ none $1")
        m.ruleset("Again")
        m.rule("$* x $*\t$1 y $2")                     // repeats while it matches
        m.rule("y y y\t$@ three")
        m.rule("$*\t$@ other $1")
        #expect(m.run(set, input).0 == want)
    }

    @Test func classesMatchCaseInsensitivelyAndCopy() {
        let c = ClassTable()
        let x = Int(UInt8(ascii: "X")), y = Int(UInt8(ascii: "Y"))
        c.add("Foo".b, to: x)
        c.add("baz.qux".b, to: x)
        #expect(c.contains("FOO".b, in: x))
        #expect(!c.contains("foo".b, in: y))
        c.add([Meta.matchClass, UInt8(x)], to: y)   // CY $=X
        #expect(c.contains("BAZ.QUX".b, in: y))
        #expect(c.members(of: x).count == 2)
        #expect(c.longestWord(in: x) == 7)
    }

    /// recorded (SMulti, SBack, SClass cases of the -bt transcripts).
    @Test(arguments: [
        ("Multi", "a baz.qux b", "a < X > baz . qux < > b"),
        ("Multi", "x foo", "x < X > foo < >"),
        ("Back", "a@b@c@d", "< 1 > a < 2 > b < 3 > c @ d"),
        ("Class", "FOO", "< inX > FOO"),
        ("Class", "other x y", "< notX > other ; x y"),
        ("Class", "foo bar", "< neither > foo bar"),
        ("Class", "baz . qux", "< inX > baz . qux"),
    ])
    func matching(_ set: String, _ input: String, _ want: String) {
        let m = MiniRules()
        m.classes.add("foo".b, to: Int(UInt8(ascii: "X")))
        m.classes.add("bar".b, to: Int(UInt8(ascii: "X")))
        m.classes.add("baz.qux".b, to: Int(UInt8(ascii: "X")))
        m.ruleset("Multi"); m.rule("$* $=X $*\t$@ $1 <X> $2 <> $3")
        m.ruleset("Back"); m.rule("$* @ $* @ $*\t$@ <1> $1 <2> $2 <3> $3")
        m.ruleset("Class"); m.rule("$=X\t$@ <inX> $1"); m.rule("$~X $*\t$@ <notX> $1 ; $2"); m.rule("$*\t$@ <neither> $1")
        #expect(m.run(set, input).0 == want)
    }

    /// recorded: "Infinite loop in ruleset Loopy, rule 1", workspace kept.
    @Test func loopGuard() {
        let m = MiniRules()
        m.ruleset("Loopy"); m.rule("$*\t$1")
        let (ws, st, out) = m.run("Loopy", "a")
        #expect(ws == "a")
        #expect(st == .ok)
        #expect(out == "Infinite loop in ruleset Loopy, rule 1\n")
    }

    /// recorded: 51 "input:" lines, "rewrite: excessive recursion (max 50),
    /// ruleset Recur", status 78.
    @Test func recursionLimit() {
        let m = MiniRules()
        m.ruleset("Recur"); m.rule("$*\t$: $>Recur $1")
        let (_, st, out) = m.run("Recur", "a", trace: true)
        #expect(st == .config)
        let lines = out.split(separator: "\n")
        #expect(lines.filter { $0.hasSuffix("input: a") }.count == 52)
        #expect(lines.contains("rewrite: excessive recursion (max 50), ruleset Recur"))
    }

    /// recorded: 100 tokens times 11 -> "rewrite: expansion too long", status 65.
    @Test func expansionLimit() {
        let m = MiniRules()
        m.ruleset("Big"); m.rule("$*\t$1 $1 $1 $1 $1 $1 $1 $1 $1 $1 $1")
        let (_, st, out) = m.run("Big", String(repeating: "x ", count: 100))
        #expect(st == .dataErr)
        #expect(out == "rewrite: expansion too long\n")
    }

    /// Calls run right to left; a call to an empty ruleset is skipped and
    /// not printed (recorded: Several -> "< A > a < B > b z").
    @Test func callsRightToLeftAndEmptySetsSkipped() {
        let m = MiniRules()
        m.ruleset("A"); m.rule("$*\t$@ <A> $1")
        m.ruleset("B"); m.rule("$*\t$@ <B> $1")
        m.ruleset("Empty")
        m.ruleset("Several"); m.rule("$*\t$: $>A a $>B b $1")
        m.ruleset("CallEmpty"); m.rule("$*\t$: $>Empty $1")
        #expect(m.run("Several", "z").0 == "< A > a < B > b z")
        let (ws, _, out) = m.run("CallEmpty", "e", trace: true)
        #expect(ws == "e")
        #expect(!out.split(separator: "\n").contains { $0.hasPrefix("Empty ") })
        #expect(out.contains("CallEmpty          input: e"))
    }

    @Test func unknownRulesetAtRunTime() {
        let m = MiniRules()
        m.ruleset("Call"); m.rule("$*\t$: $>Nope $1")
        let (_, st, out) = m.run("Call", "a")
        #expect(st == .config)
        #expect(out == "Unknown ruleset Nope\n")
    }

    @Test func stripQuotesAndShortenString() {
        #expect(stripQuotes("\"a b\"\\@c".b) == "a b@c".b)
        #expect(stripQuotes("x\\".b) == "x".b)
        let s = String(repeating: "a", count: 150) + String(repeating: "b", count: 150)
        let short = shortenString(s.b, 203).string
        #expect(short == String(repeating: "a", count: 100) + "..." + String(repeating: "b", count: 100))
        #expect(shortenString("short".b, 203) == "short".b)
    }
}
