// Tests/SMRulesTests/MacroTests.swift
//
// Macro names and values: translateDollars ($$, $x, ${long}, $=X, $~X, $&x,
// $?x and the name errors), expandMacros (conditionals, nesting, the
// 10-level recursion limit) and quoteInternalChars.  Messages and results
// were recorded from sendmail 8.17.1.9 (D lines and R lines read by
// `sendmail -bt`, whose cf reader reports them as "t.cf: line N: msg").
// Promises: pure, fast.

import Testing
import SMBase
import SMRules

@Suite("macros")
struct MacroTests {
    func translate(_ s: String, _ names: MacroNames = MacroNames()) -> (out: [UInt8], msgs: [String]) {
        var msgs: [String] = []
        let out = translateDollars(s.b, names: names, report: { msgs.append($0) })
        return (out, msgs)
    }

    @Test func dollarDollarIsALiteralDollar() {
        // recorded: "Dr$$dollar" displays as "$dollar"
        #expect(translate("$$dollar").out == "$dollar".b)
    }

    @Test func singleLetterAndOperators() {
        #expect(translate("a$xb").out == [0x61, Meta.macroExpand, 0x78, 0x62])
        #expect(translate("$=w").out == [Meta.macroExpand, UInt8(ascii: "="), UInt8(ascii: "w")])
        #expect(translate("$~w").out == [Meta.macroExpand, UInt8(ascii: "~"), UInt8(ascii: "w")])
        #expect(translate("$&w").out == [Meta.macroExpand, UInt8(ascii: "&"), UInt8(ascii: "w")])
        #expect(translate("$?w").out == [Meta.macroExpand, UInt8(ascii: "?"), UInt8(ascii: "w")])
    }

    /// 0240-0242 are taken at start-up by {deliveryMode}, {load_avg} and
    /// {daemon_flags} (recorded: the bytes of `$&{x}` in sendmail's qf).
    @Test func longNamesGetIDsFrom0243InOrderOfUse() {
        let names = MacroNames()
        #expect(names.name(of: 0o240) == "deliveryMode".b)
        #expect(names.name(of: 0o242) == "daemon_flags".b)
        let a = translate("${first}${second}${first}", names)
        #expect(a.msgs.isEmpty)
        #expect(a.out == [Meta.macroExpand, 0o243, Meta.macroExpand, 0o244, Meta.macroExpand, 0o243])
        #expect(names.name(of: 0o244) == "second".b)
        // a one-character long name is the character itself
        #expect(translate("${x}").out == [Meta.macroExpand, UInt8(ascii: "x")])
        // recorded: "x${long}y" displays as "x${long}y"
        let n2 = MacroNames()
        #expect(render(translate("x${long}y", n2).out, n2) == "x${long}y")
    }

    @Test(arguments: [
        // recorded: "D{abc-d}x" -> "Invalid macro/class character -"
        ("${abc-d}", ["Invalid macro/class character -"]),
        // recorded: 26 letters -> too long, then the ID error
        ("${abcdefghijklmnopqrstuvwxyz}", ["Macro/class name ({abcdefghijklmnopqrstuvwxy}) too long (25 chars max)",
                                           "Unable to assign macro/class ID (mid = 0xffffffff)"]),
        // recorded: "D{}x" -> "Name required for macro/class"
        ("${}", ["Name required for macro/class"]),
    ] as [(String, [String])])
    func nameErrors(_ input: String, _ messages: [String]) {
        #expect(translate(input).msgs == messages)
    }

    @Test func twentyFiveCharactersAreAllowed() {
        #expect(translate("${abcdefghijklmnopqrstuvwxy}").msgs.isEmpty)
    }

    /// Tokens of an expanded string (what an R line sees).
    func expandTokens(_ s: String, _ t: MacroTable, names: MacroNames = MacroNames()) -> [String]? {
        let ex = expandMacros(translateDollars(s.b, names: names, report: { _ in }), t)
        return prescan(ex, delim: 0, table: TokenTables(operatorChars: ".:@[]".b).noComment,
                       ignoreUnbalanced: true, report: { _ in }).tokens?.map(\.string)
    }

    /// recorded: with $a = "1" and $b set (sendmail defines $b before
    /// reading the cf), "$?a yes $| no $. $?b B $| notB $. $1" -> "yes B x".
    @Test func conditionals() {
        var t = MacroTable.initial()
        t[Int(UInt8(ascii: "a"))] = "1".b
        #expect(expandTokens("$?a yes $| no $. $?b B $| notB $.", t) == ["yes", "notB"])
        t[Int(UInt8(ascii: "b"))] = "Mon".b
        #expect(expandTokens("$?a yes $| no $. $?b B $| notB $.", t) == ["yes", "B"])
        // an empty value counts as undefined
        t[Int(UInt8(ascii: "a"))] = []
        #expect(expandTokens("$?a yes $| no $.", t) == ["no"])
    }

    /// recorded: "$?a $?b both $| aonly $. $| none $." -> "both".
    @Test(arguments: [(true, true, ["both"]), (true, false, ["aonly"]), (false, true, ["none"]), (false, false, ["none"])])
    func nestedConditionals(_ a: Bool, _ b: Bool, _ want: [String]) {
        var t = MacroTable.initial()
        if a { t[Int(UInt8(ascii: "a"))] = "1".b }
        if b { t[Int(UInt8(ascii: "b"))] = "1".b }
        #expect(expandTokens("$?a $?b both $| aonly $. $| none $.", t) == want)
    }

    /// recorded: Da$b, Db$a, R$* $@ $a $1 -> "expand: recursion too deep
    /// (10 max)" and the rule returns "$ b x".
    @Test func recursionLimit() {
        let names = MacroNames()
        var t = MacroTable.initial()
        t[Int(UInt8(ascii: "a"))] = translateDollars("$b".b, names: names, report: { _ in })
        t[Int(UInt8(ascii: "b"))] = translateDollars("$a".b, names: names, report: { _ in })
        var msgs: [String] = []
        let ex = expandMacros(translateDollars("$a".b, names: names, report: { _ in }), t, report: { msgs.append($0) })
        #expect(msgs == ["expand: recursion too deep (10 max)"])
        #expect(ex.count <= 4)
    }

    @Test func undefinedMacrosExpandToNothing() {
        #expect(expandMacros(translateDollars("<$z>".b, names: MacroNames(), report: { _ in }), MacroTable()) == "<>".b)
    }

    @Test func expansionIsBounded() {
        var t = MacroTable()
        t[Int(UInt8(ascii: "a"))] = Array(repeating: UInt8(ascii: "x"), count: 3000)
        let s = translateDollars("$a$a$a".b, names: MacroNames(), report: { _ in })
        #expect(expandMacros(s, t).count < Limits.macBufSize)
    }

    @Test func quoteInternalCharsMarksMetaBytesOnly() {
        #expect(quoteInternalChars("plain ascii \u{e9}\u{a0}".b) == "plain ascii \u{e9}\u{a0}".b)
        #expect(quoteInternalChars([0x61, 0x80, 0x9f, 0xff]) == [0x61, 0xff, 0x80, 0xff, 0x9f, 0xff, 0xff])
        // translateDollars quotes first, so such bytes never act as syntax
        #expect(translate("a\u{90}".b.string).out == [0x61, 0xff, 0x90])
    }

    @Test func macroNamesPrintAsSendmailDoes() {
        let n = MacroNames()
        #expect(n.name(of: Int(UInt8(ascii: "w"))) == "w".b)
        #expect(n.name(of: 0o202) == "opMode".b)
        #expect(n.name(of: 0o300) == "***UNDEFINED MACRO***".b)
    }
}
