// Tests/SMRulesTests/PrintingTests.swift
//
// Printing.xputs/printav: metasymbols, long macro names, control and 8-bit
// bytes.  Recorded from sendmail 8.17.1.9: `$x` displays of D values
// ("a\001b" -> "ab", "caf\351" -> "cafM-i", "a\\nb" -> "a\nb") and `=S`
// dumps ("R$* $+ $- $=w $~w $# x $@ $&w $| \t\t$@ $1 $2 $[ $] $( $) ...").
// Promises: pure.

import Testing
import SMBase
import SMRules

@Suite("xputs")
struct PrintingTests {
    @Test(arguments: [
        ([Meta.matchZeroOrMore], "$*"), ([Meta.matchOneOrMore], "$+"), ([Meta.matchOne], "$-"),
        ([Meta.matchClass, UInt8(ascii: "w")], "$=w"), ([Meta.matchNotClass, UInt8(ascii: "w")], "$~w"),
        ([Meta.canonNet], "$#"), ([Meta.canonHost], "$@"), ([Meta.canonUser], "$:"), ([Meta.callSubr], "$>"),
        ([Meta.condElse], "$|"), ([Meta.hostBegin], "$["), ([Meta.hostEnd], "$]"),
        ([Meta.lookupBegin], "$("), ([Meta.lookupEnd], "$)"),
        ([Meta.matchReplace, UInt8(ascii: "1")], "$1"),
        ([Meta.macroDeferred, UInt8(ascii: "w")], "$&w"),
        ([Meta.macroExpand, UInt8(ascii: "q")], "$q"),
        ([Meta.macroExpand, UInt8(ascii: "="), UInt8(ascii: "w")], "$=w"),
    ] as [([UInt8], String)])
    func metasymbols(_ bytes: [UInt8], _ want: String) {
        #expect(render(bytes) == want)
    }

    @Test(arguments: [
        ("a\u{1}b", "ab"), ("a\u{1b}b", "ab"), ("a\u{7f}b", "ab"),
        ("a\u{a0}b", "aM- b"), ("caf\u{e9}", "cafM-i"),
        ("a\nb", "a\\nb"), ("a\rb", "a\\rb"), ("a\tb", "a\\tb"),
        // 0377 0200 (a quoted 0200) prints as "M-M-", 0377 0205 as "M-$("
        ("a\u{ff}\u{80}b", "aM-M-b"), ("a\u{ff}\u{85}b", "aM-$(b"), ("a\u{ff}\u{ff}b", "aM-M-b"),
    ])
    func bytes(_ input: String, _ want: String) {
        #expect(render(input.b) == want)
    }

    @Test func longMacroNamesInBraces() {
        let n = MacroNames()
        let id = n.id(forLongName: "long".b)!
        #expect(render([Meta.macroExpand, UInt8(id)], n) == "${long}")
        #expect(render([Meta.matchClass, UInt8(id)], n) == "$={long}")
    }

    @Test func printavPutsASpaceBeforeEachToken() {
        var o: [UInt8] = []
        Printing.printav(["a".b, [Meta.canonHost], "b".b], names: MacroNames(), into: &o)
        #expect(o == " a $@ b\n".b)
    }

    @Test func nulEndsTheString() {
        #expect(render("ab\u{0}cd".b) == "ab")
    }
}
