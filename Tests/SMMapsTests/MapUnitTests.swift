// SMMapsTests/MapUnitTests.swift
//
// Unit tests for the pure parts of the map classes: map_rewrite, the
// generic flag parser, dequote, arith, arpa, regex, text columns, macro,
// and the MapSet's built-ins and class errors.  Expected values were
// taken from real sendmail 8.17's `-bt /map` output.
import SMBase
import SMMaps
import SMRules
import Testing

struct RewriteCase: Sendable, CustomTestStringConvertible {
    var value: String, av: [String], append: String?, expected: String
    var testDescription: String { value }
}

@Suite struct MapUnitTests {
    @Test(arguments: [
        RewriteCase(value: "bar %1 baz %0 %% %2 %x", av: ["FOO"], append: nil, expected: "bar  baz FOO %  %x"),
        RewriteCase(value: "a%1b", av: ["k", "one"], append: ".APP", expected: "aoneb.APP"),
        RewriteCase(value: "trail%", av: ["k"], append: nil, expected: "trail%"),
    ])
    func rewrite(_ c: RewriteCase) {
        let set = MapSet(declarations: [decl("t", "text", (c.append.map { "-a\($0) " } ?? "") + "/nonexistent")])
        _ = set
        #expect(MapRewriteProbe.rewrite(c.value, av: c.av, append: c.append) == c.expected)
    }

    @Test(arguments: [
        ("\"a\"", "a"), ("\"ab\"cd", "abcd"), ("abc", nil), ("\"a b\"", nil), ("\"<a\"", nil),
    ] as [(String, String?)])
    func dequote(_ input: String, _ expected: String?) {
        let set = MapSet(declarations: [decl("dq", "dequote")])
        let m = set.sendmailMap(named: Array("dq".utf8))!
        let r = m.lookupWithStatus(Array(input.utf8), context: RecordingContext())
        if let expected { #expect(r.result == .found(Array(expected.utf8))) } else { #expect(r.result == .notFound) }
    }

    @Test func dequoteSpaceSubstitute() {
        let set = MapSet(declarations: [decl("dqs", "dequote", "-s_")])
        let r = set.sendmailMap(named: Array("dqs".utf8))!.lookupWithStatus(Array("\"a b\"".utf8), context: nil)
        #expect(r.result == .found(Array("a_b".utf8)))
    }

    @Test(arguments: [
        ("+", ["2", "3"], "5"), ("-", ["2", "3"], "-1"), ("*", ["4", "3"], "12"), ("/", ["7", "2"], "3"),
        ("%", ["7", "4"], "3"), ("|", ["1", "2"], "3"), ("&", ["6", "3"], "2"), ("l", ["1", "2"], "TRUE"),
        ("=", ["1", "2"], "FALSE"), ("+", ["0x10", "010"], "24"),
    ] as [(String, [String], String)])
    func arith(_ op: String, _ args: [String], _ expected: String) {
        let set = MapSet(declarations: [decl("ar", "arith")])
        let r = set.sendmailMap(named: Array("ar".utf8))!.lookupWithStatus(
            Array(op.utf8), arguments: args.map { Array($0.utf8) }, context: nil)
        #expect(r.result == .found(Array(expected.utf8)))
    }

    @Test func arithErrors() {
        let m = MapSet(declarations: [decl("ar", "arith")]).sendmailMap(named: Array("ar".utf8))!
        #expect(m.lookupWithStatus(Array("+".utf8), context: nil).status == 78)
        #expect(m.lookupWithStatus(Array("/".utf8), arguments: [[0x31], [0x30]], context: nil).result == .notFound)
        #expect(m.lookupWithStatus(Array("?".utf8), arguments: [[0x31], [0x30]], context: nil).status == 78)
    }

    @Test(arguments: [
        ("1.2.3.4", "4.3.2.1"),
        ("IPv6:::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"),
    ])
    func arpa(_ input: String, _ expected: String) {
        let m = MapSet(declarations: [decl("ap", "arpa")]).sendmailMap(named: Array("ap".utf8))!
        #expect(m.lookupWithStatus(Array(input.utf8), context: nil).result == .found(Array(expected.utf8)))
        #expect(m.lookupWithStatus(Array("junk".utf8), context: nil).status == 65)
    }

    @Test(arguments: [
        ("re", "-a@MATCH ^[a-z]+\\.example$", "ABC.example", "@MATCH"),
        ("res", "-s1,2 -d+ ^([a-z]+)\\.([a-z]+)$", "foo.bar", "foo+bar"),
        ("ren", "-n -aNOT foo", "bar", "NOT"),
    ])
    func regex(_ name: String, _ args: String, _ key: String, _ expected: String) {
        let m = MapSet(declarations: [decl(name, "regex", args)]).sendmailMap(named: Array(name.utf8))!
        #expect(m.lookupWithStatus(Array(key.utf8), context: nil).result == .found(Array(expected.utf8)))
    }

    @Test func regexErrors() {
        let set = MapSet(declarations: [decl("bad", "regex", "-s5 ^(a)$"), decl("bad2", "regex", "(a")])
        #expect(set.diagnostics.map(\.description) == [
            "test.cf: line 1: field (5) out of range, only 2 substrings in pattern",
            "test.cf: line 1: pattern-compile-error: Unmatched ( or \\(",
        ])
        #expect(set.sendmailMap(named: Array("bad".utf8))!.openIfNeeded(context: nil) == false)
    }

    @Test func parseErrorsMatchSendmail() {
        let set = MapSet(declarations: [
            decl("zz", "hash", "-x -N /srv/m1"), decl("nofile", "hash"), decl("t", "text"),
            decl("bad", "foo", "/x"), decl("d", "dns", "-RBOGUS"), decl("d2", "dns"),
            decl("seq", "sequence", "m1 nosuch"),
        ])
        #expect(set.diagnostics.map(\.message) == [
            "Illegal option x map zz",
            "No file name for hash map nofile",
            "No file name for text map t",
            "readcf: map bad: class foo not available",
            "dns map d: wrong type BOGUS",
            "dns map d: missing -R type",
            "dns map d2: missing -R type",
            "Sequence map seq: unknown member map m1",
            "Sequence map seq: unknown member map nosuch",
        ])
        #expect(set.map(named: Array("bad".utf8)) == nil)
        #expect(MapSet.isClassAvailable(Array("hash".utf8)))
        #expect(!MapSet.isClassAvailable(Array("foo".utf8)))
    }

    @Test func builtinMaps() {
        let set = MapSet(declarations: [])
        let host = set.sendmailMap(named: Array("host".utf8))!
        #expect(host.spec.append == Array(".".utf8))
        #expect(host.skipsWhenDeferred)
        #expect(set.map(named: Array("aliases".utf8)) != nil)
        #expect(set.map(named: Array("ALIASES.files".utf8)) != nil)
        #expect(set.map(named: Array("dequote".utf8)) == nil)
    }

    @Test func macroMapSetsAndClears() {
        let ctx = RecordingContext()
        let m = MapSet(declarations: [decl("mac", "macro")]).sendmailMap(named: Array("mac".utf8))!
        #expect(m.lookupWithStatus(Array("{x}".utf8), arguments: [Array("v".utf8)], context: ctx).result == .found([]))
        #expect(ctx.macros[Array("x".utf8)] == Array("v".utf8))
        _ = m.lookupWithStatus(Array("{x}".utf8), context: ctx)
        #expect(ctx.macros[Array("x".utf8)] == nil)
    }

    @Test func flagsReachTheEngine() {
        let set = MapSet(declarations: [decl("a", "hash", "-o -T<TMPF> -t -q -D -a.x /nonexistent/a")])
        let m = set.map(named: Array("A".utf8))!
        #expect(m.tempFailSuffix == Array("<TMPF>".utf8))
        #expect(m.ignoresTempFail && m.keepsQuotes && m.skipsWhenDeferred)
        // optional and missing: not found, no message
        let ctx = RecordingContext()
        #expect(m.lookup(Array("k".utf8), arguments: [], context: ctx) == .notFound)
        #expect(ctx.messages.isEmpty)
    }

    @Test func missingHashMapIsBogus() {
        let set = MapSet(declarations: [decl("missing", "hash", "/nonexistent/nosuch")])
        let ctx = RecordingContext()
        let r = set.sendmailMap(named: Array("missing".utf8))!.lookupWithStatus(Array("foo".utf8), context: ctx)
        #expect(r.result == .tempFail && r.status == 75)
        #expect(ctx.messages == ["451 4.0.0 hash map \"missing\": missing map file /nonexistent/nosuch.db: No such file or directory"])
    }
}

/// Reaches map_rewrite through a text map's public behaviour-free path.
enum MapRewriteProbe {
    static func rewrite(_ value: String, av: [String], append: String?) -> String {
        String(decoding: MapSetTesting.rewrite(Array(value.utf8), av: av.map { Array($0.utf8) },
                                               append: append.map { Array($0.utf8) }), as: UTF8.self)
    }
}
