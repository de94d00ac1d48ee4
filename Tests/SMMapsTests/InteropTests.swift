// SMMapsTests/InteropTests.swift
//
// Interoperability with real sendmail 8.17 (Debian sendmail-bin): maps
// written by the real makemap are read by our MapSet; maps written by our
// makemap are dumped identically by the real `makemap -u` and read by the
// real praliases; our makemap and praliases print what the real ones
// print (stdout, stderr with the program path normalised, exit status).
// Promises: these tests fail, never skip, when a binary is missing.
import Foundation
import SMBase
import SMMaps
import SMRules
import Testing

let mapInput = Array("Foo\tBar baz\nkey2 value %1 two\nUPPER lower\nzed   spaced   value\n".utf8)

struct ToolCase: Sendable, CustomTestStringConvertible {
    var args: [String]
    var stdin: String
    var testDescription: String { args.joined(separator: " ") }
}

@Suite(.serialized) struct InteropTests {
    func normalise(_ b: [UInt8]) -> String {
        b.text.replacingOccurrences(of: Paths.realMakemap, with: "makemap")
            .replacingOccurrences(of: Paths.ours("makemap"), with: "makemap")
            .replacingOccurrences(of: Paths.realPraliases, with: "praliases")
            .replacingOccurrences(of: Paths.ours("praliases"), with: "praliases")
    }

    @Test(arguments: ["hash", "btree"])
    func realMakemapMapsReadByMapSet(_ type: String) throws {
        try requireExecutable(Paths.realMakemap)
        let dir = try Paths.fixtureDir("real-\(type)")
        let r = try run(Paths.realMakemap, [type, "\(dir)/m"], stdin: mapInput)
        #expect(r.status == 0)
        let rn = try run(Paths.realMakemap, ["-N", type, "\(dir)/n"], stdin: mapInput)
        #expect(rn.status == 0)
        let set = MapSet(declarations: [
            decl("m", type, "\(dir)/m"), decl("n", type, "\(dir)/n"),
            decl("nn", type, "-N \(dir)/m"), decl("mo", type, "-m -a.ok \(dir)/m"),
        ])
        let ctx = RecordingContext()
        func look(_ map: String, _ key: String, _ args: [String] = []) -> MapLookupResult {
            set.map(named: Array(map.utf8))!.lookup(Array(key.utf8), arguments: args.map { Array($0.utf8) }, context: ctx)
        }
        #expect(look("m", "FOO") == .found(Array("Bar baz".utf8)))
        #expect(look("m", "key2", ["arg"]) == .found(Array("value arg two".utf8)))
        #expect(look("m", "zed") == .found(Array("spaced   value".utf8)))
        #expect(look("m", "nope") == .notFound)
        #expect(look("n", "upper") == .found(Array("lower".utf8)))      // adaptive NUL
        #expect(look("nn", "upper") == .notFound)                          // -N on a no-NUL map
        #expect(look("mo", "Upper") == .found(Array("Upper.ok".utf8)))   // -m answers the key
        #expect(ctx.messages.isEmpty)
    }

    @Test(arguments: [["hash"], ["btree"], ["-N", "hash"], ["-f", "hash"], ["-d", "hash"], ["-r", "btree"]])
    func ourMakemapDumpedByRealMakemap(_ args: [String]) throws {
        try requireExecutable(Paths.realMakemap)
        try requireExecutable(Paths.ours("makemap"))
        let dir = try Paths.fixtureDir("ours-dump")
        let input = Array("Foo bar\nbaz qux quux\nFoo again\nzed   spaced   value\n".utf8)
        let ours = try run(Paths.ours("makemap"), args + ["\(dir)/ours"], stdin: input)
        let real = try run(Paths.realMakemap, args + ["\(dir)/real"], stdin: input)
        #expect(ours.status == real.status)
        #expect(normalise(ours.stderr) == normalise(real.stderr).replacingOccurrences(of: "/real", with: "/ours"))
        let type = args.last!
        let dumpOurs = try run(Paths.realMakemap, ["-u", type, "\(dir)/ours"])
        let dumpReal = try run(Paths.realMakemap, ["-u", type, "\(dir)/real"])
        #expect(dumpOurs.status == 0)
        #expect(dumpOurs.stdout.text == dumpReal.stdout.text)
        // and our -u agrees with the real one on the real file
        let ourDump = try run(Paths.ours("makemap"), ["-u", type, "\(dir)/real"])
        #expect(ourDump.stdout.text == dumpReal.stdout.text)
    }

    @Test(arguments: [
        ToolCase(args: ["hash", "X"], stdin: "Foo\tBar baz\nfoo\tdup\n  lead\tx\nnorhs\n#c\n\nKey2 val2\n"),
        ToolCase(args: [], stdin: ""),
        ToolCase(args: ["-l"], stdin: ""),
        ToolCase(args: ["-x"], stdin: ""),
        ToolCase(args: ["-L"], stdin: ""),
        ToolCase(args: ["-z", "hash", "X"], stdin: ""),
        ToolCase(args: ["foo", "X"], stdin: "a b\n"),
        ToolCase(args: ["-u", "hash", "nothere"], stdin: ""),
        ToolCase(args: ["-o", "hash", "newone"], stdin: "a b\n"),
        ToolCase(args: ["-C", "/nonexistent.cf", "hash", "X"], stdin: "a b\n"),
        ToolCase(args: ["-v", "-N", "hash", "X"], stdin: "A b\nc d\n"),
        ToolCase(args: ["-t:", "hash", "X"], stdin: "A:b:c\nnorhs:\n"),
        ToolCase(args: ["-e", "hash", "X"], stdin: "norhs\n"),
        ToolCase(args: ["-D;", "hash", "X"], stdin: ";x y\n#z w\n"),
        ToolCase(args: ["hash", "X"], stdin: "k" + String(repeating: "x", count: 1100) + " v\n"),
    ])
    func makemapMatchesReal(_ c: ToolCase) throws {
        try requireExecutable(Paths.realMakemap)
        try requireExecutable(Paths.ours("makemap"))
        let dir = try Paths.fixtureDir("mm")
        let real = try run(Paths.realMakemap, c.args, stdin: Array(c.stdin.utf8), cwd: dir)
        for f in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            try? FileManager.default.removeItem(atPath: "\(dir)/\(f)")
        }
        let ours = try run(Paths.ours("makemap"), c.args, stdin: Array(c.stdin.utf8), cwd: dir)
        #expect(ours.status == real.status)
        #expect(ours.stdout.text == real.stdout.text)
        #expect(normalise(ours.stderr) == normalise(real.stderr))
    }

    /// An aliases.db made like newaliases does (key and value with their
    /// NUL, the @:@ sentinel), printed by both praliases.
    @Test(arguments: [
        [String](), ["root", "nosuch", "ROOT"], ["postmaster"],
    ])
    func praliasesMatchesReal(_ keys: [String]) throws {
        try requireExecutable(Paths.realMakemap)
        try requireExecutable(Paths.realPraliases)
        try requireExecutable(Paths.ours("praliases"))
        try requireExecutable(Paths.ours("makemap"))
        let dir = try Paths.fixtureDir("pa")
        let aliases = Array("root\tjoe, bob\nPostmaster\troot\nlist\t:include:/x, \"|prog a\"\n@\t@\n".utf8)
        _ = try run(Paths.realMakemap, ["-N", "hash", "\(dir)/real"], stdin: aliases)
        _ = try run(Paths.ours("makemap"), ["-N", "hash", "\(dir)/ours"], stdin: aliases)
        for file in ["real", "ours"] {
            let r = try run(Paths.realPraliases, ["-f", "\(dir)/\(file)"] + keys)
            let o = try run(Paths.ours("praliases"), ["-f", "\(dir)/\(file)"] + keys)
            #expect(o.stdout.text == r.stdout.text)
            #expect(o.status == r.status)
            #expect(normalise(o.stderr) == normalise(r.stderr))
            if keys.isEmpty { #expect(r.stdout.text.contains("@:@\n")) }
        }
        // -C with AliasFile lines
        let cf = "\(dir)/t.cf"
        try "O AliasFile=\(dir)/real, text:\(dir)/x, btree:\(dir)/ours\nOA\(dir)/nothere\n"
            .write(toFile: cf, atomically: true, encoding: .utf8)
        let r = try run(Paths.realPraliases, ["-C", cf] + keys)
        let o = try run(Paths.ours("praliases"), ["-C", cf] + keys)
        #expect(o.stdout.text == r.stdout.text)
        #expect(normalise(o.stderr) == normalise(r.stderr))
        #expect(o.status == r.status)
    }
}
