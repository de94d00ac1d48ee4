// Tests/SMRulesTests/PrescanTests.swift
//
// sendmail's tokenizer: operators, atoms, quoted strings, comments,
// backslashes, repairs of unbalanced " ( ) < > with their messages, comma
// lists, the token/address/atom limits, NUL and 8-bit bytes, OperatorChars
// and the three tables.  Expected tokens and messages were recorded from
// sendmail 8.17.1.9 (`-bt`, a pass-through ruleset; V10 input uses the
// no-comment table, V8 the external one; `$&z` values use the external
// table) unless a comment says the value follows from sendmail's C source.
// Promises: every case is a few microseconds; no oracle needed.

import Testing
import SMBase
import SMRules

struct PrescanCase: Sendable, CustomTestStringConvertible {
    var input: String
    var table: TableKind
    var tokens: [String]?
    var messages: [String] = []
    var ops = ".:@[]"
    var testDescription: String { "\(table) \(input.debugDescription)" }
}

let prescanCases: [PrescanCase] = [
    // operators and atoms
    .init(input: "a.b@c:d[e]f", table: .noComment, tokens: ["a", ".", "b", "@", "c", ":", "d", "[", "e", "]", "f"]),
    .init(input: "   spaced   out  atoms ", table: .noComment, tokens: ["spaced", "out", "atoms"]),
    .init(input: "a%b!c^d/e+f=g", table: .noComment, tokens: ["a%b!c^d/e+f=g"]),
    // quoted strings stay one token, quotes included
    .init(input: "\"quoted string\"@host", table: .noComment, tokens: ["\"quoted string\"", "@", "host"]),
    .init(input: "\"a\\\"b\"@c", table: .noComment, tokens: ["\"a\\\"b\"", "@", "c"]),
    .init(input: "\"\"@x", table: .noComment, tokens: ["\"\"", "@", "x"]),
    .init(input: "a\"b c\"d", table: .noComment, tokens: ["a", "\"b c\"", "d"]),
    // parentheses: tokens in the no-comment table, comments in the external one
    .init(input: "a(comment)b", table: .noComment, tokens: ["a", "(", "comment", ")", "b"]),
    .init(input: "a(comment)b", table: .external, tokens: ["a", "b"]),
    .init(input: "a(nested (c) x)b", table: .external, tokens: ["a", "b"]),
    .init(input: "(only)", table: .external, tokens: nil),
    // backslashes: \! loses it, \@ keeps it, a trailing one goes
    .init(input: "\\!foo\\@bar", table: .noComment, tokens: ["!foo\\@bar"]),
    .init(input: "a\\@b", table: .noComment, tokens: ["a\\@b"]),
    .init(input: "trailing\\", table: .noComment, tokens: ["trailing"]),
    .init(input: "\"q\\!x\"", table: .noComment, tokens: ["\"q\\!x\""]),
    .init(input: "\\\\x", table: .noComment, tokens: ["\\\\x"]),
    // repairs
    .init(input: "\"abc", table: .noComment, tokens: ["\"abc\""], messages: ["553 Unbalanced '\"'"]),
    .init(input: "<abc", table: .noComment, tokens: ["<", "abc", ">"], messages: ["553 Unbalanced '<'"]),
    .init(input: "abc>", table: .noComment, tokens: ["abc"], messages: ["553 Unbalanced '>'"]),
    .init(input: "a>b<c", table: .noComment, tokens: ["ab", "<", "c", ">"],
          messages: ["553 Unbalanced '>'", "553 Unbalanced '<'"]),
    .init(input: "(abc", table: .external, tokens: nil, messages: ["553 Unbalanced '('"]),
    .init(input: "abc)", table: .external, tokens: ["abc"], messages: ["553 Unbalanced ')'"]),
    .init(input: "(a \"b) c", table: .external, tokens: ["c"]),
    // OperatorChars
    .init(input: "a%b!c^d/e+f", table: .noComment, tokens: ["a", "%", "b", "!", "c", "^", "d", "/", "e", "+", "f"],
          ops: ".:%@!^/[]+"),
    .init(input: "a=b&c", table: .noComment, tokens: ["a=b&c"], ops: ".:%@!^/[]+"),
    .init(input: "a.b@c", table: .noComment, tokens: ["a.b@c"], ops: ""),
    // 8-bit data is atom material in addresses ($&z value "caf\351@x")
    .init(input: "caf\u{e9}@x", table: .external, tokens: ["caf\u{e9}", "@", "x"]),
]

@Suite("prescan")
struct PrescanTests {
    @Test(arguments: prescanCases)
    func tokens(_ c: PrescanCase) {
        let r = scan(c.input.b, c.table, ops: c.ops)
        #expect(r.tokens == c.tokens)
        #expect(r.messages == c.messages)
    }

    /// `-bt` splits its input at commas; `<a, b>` is repaired at the comma.
    @Test(arguments: [
        ("a,b,c", ["a", "b", "c"], [String]()),
        ("a, , b", ["a", "b"], []),
        ("\"a,b\",c", ["\"a,b\"", "c"], []),
        ("<a, b>", ["< a >", "b"], ["553 Unbalanced '<'", "553 Unbalanced '>'"]),
        ("<a,b>,c", ["< a >", "b", "c"], ["553 Unbalanced '<'", "553 Unbalanced '>'"]),
    ] as [(String, [String], [String])])
    func commaLists(_ input: String, _ lists: [String], _ messages: [String]) {
        // an empty element (", ,") prescans to nothing and -bt skips it
        let r = scanList(input.b, .noComment)
        #expect(r.lists.compactMap { $0 } == lists)
        #expect(r.messages == messages)
    }

    @Test func emptyOperatorCharsStillSplitsFixedDelimiters() {
        let r = scanList("a,b;c<d>".b, .noComment, ops: "")
        #expect(r.lists.compactMap { $0 } == ["a", "b ; c < d >"])
    }

    /// 256-byte tokens pass, 257 fail (recorded: `.Dz a…a` then `$&z`).
    @Test func tokenLengthLimit() {
        let ok = scan(String(repeating: "a", count: 256).b, .external)
        #expect(ok.tokens?.first?.count == 256)
        #expect(ok.messages.isEmpty)
        let long = scan((String(repeating: "a", count: 257) + " b").b, .external)
        #expect(long.tokens == nil)
        #expect(long.messages == ["553 5.1.0 prescan: token too long"])
    }

    /// "a." x 600 overflows PSBUFSIZE: "Address too long", input cut at 256.
    @Test func addressTooLong() {
        let r = scan(String(repeating: "a.", count: 600).b, .external)
        #expect(r.tokens == nil)
        #expect(r.messages == ["553 5.1.1 Address too long"])
        #expect(r.truncatedAt == 256)
        // one 1250-byte word fits the buffer: it is the token that is too long
        let big = scan(String(repeating: "a", count: 1250).b, .external)
        #expect(big.tokens == nil)
        #expect(big.messages == ["553 5.1.0 prescan: token too long"])
    }

    /// R lines use a MAXLINE + MAXATOM buffer: 1000 tokens are fine, 1001
    /// are "too many tokens" (recorded from R lines of 999+1 and 1001 atoms).
    @Test func atomLimit() {
        let buf = Limits.maxLine + Limits.maxAtoms
        let ok = scan(String(repeating: "a ", count: 1000).b, .noComment, ignoreUnbalanced: true, bufferSize: buf)
        #expect(ok.tokens?.count == 1000)
        let over = scan(String(repeating: "a ", count: 1001).b, .noComment, ignoreUnbalanced: true, bufferSize: buf)
        #expect(over.tokens == nil)
        #expect(over.messages == ["553 5.1.0 prescan: too many tokens"])
    }

    /// NUL ends the address (sendmail works on C strings; -bt cannot carry
    /// a NUL, so this follows from the C source, not from a recording).
    @Test func nulEndsTheAddress() {
        let r = scan("a@b\u{0}c@d".b, .external)
        #expect(r.tokens == ["a", "@", "b"])
    }

    /// 0377 is METAQUOTE; without EightBitAddrOK prescan strips its high
    /// bit (sendmail: `if (c == METAQUOTE && !eightbit) c &= 0177`).
    @Test func metaQuoteByteIsMasked() {
        #expect(scan("a\u{ff}b".b, .external).tokens == ["a\u{7f}b"])
        #expect(scan("a\u{ff}b".b, .external, eightBit: true).tokens == ["a\u{ff}b"])
    }

    /// The internal table (map results) makes 0200-0237 operators, so a
    /// metasymbol inside a word splits it; the external table does not.
    @Test func internalTableSplitsMetaBytes() {
        #expect(scan("a\u{90}b".b, .internal).tokens == ["a", "\u{90}", "b"])
        #expect(scan("a\u{90}b".b, .external).tokens == ["a\u{90}b"])
        // parentheses are comments in the internal table too
        #expect(scan("a(x)b".b, .internal).tokens == ["a", "b"])
    }

    /// ignoreUnbalanced (R lines): no repairs, no messages.
    @Test func ignoreUnbalancedIsSilent() {
        let r = scan("<a \"b".b, .noComment, ignoreUnbalanced: true)
        #expect(r.messages.isEmpty)
        #expect(r.tokens == ["<", "a", "\"b"])
    }
}
