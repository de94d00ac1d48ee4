// Tests/SMRulesTests/FuzzReplayTests.swift
//
// Replays every saved input of the prescan/crackAddress fuzzer
// (Tests/Fixtures/fuzz/prescan: the minimized corpus and every crash found;
// file format as contrib/fuzz/FuzzPrescan.swift: mode byte, count of
// OperatorChars bytes, those bytes, the address) and checks what the fuzzer
// checks: no crash, bounded time, at most 1000 tokens, no empty token, none
// over 256 bytes, the end index inside the input, crackAddress output at most
// 256 bytes.
// Promises: fails (never skips) when the fixture folder is missing or empty.

import Foundation
import Testing
import SMBase
import SMRules

enum PrescanFuzzFixtures {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/fuzz/prescan").standardized
    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
        .filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted()
}

@Suite("prescan fuzz corpus replay")
struct PrescanFuzzReplayTests {
    @Test func corpusIsPresent() {
        #expect(PrescanFuzzFixtures.files.count >= 50, "no fuzz fixtures in \(PrescanFuzzFixtures.dir.path)")
    }

    @Test(arguments: PrescanFuzzFixtures.files)
    func replay(_ name: String) throws {
        let data = try [UInt8](Data(contentsOf: PrescanFuzzFixtures.dir.appendingPathComponent(name)))
        let clock = ContinuousClock()
        let elapsed = clock.measure { check(data) }
        #expect(elapsed < .seconds(5), "took \(elapsed)")
    }

    func check(_ bytes: [UInt8]) {
        guard bytes.count >= 2 else { return }
        let mode = bytes[0]
        let nops = Int(bytes[1] % 12)
        guard bytes.count >= 2 + nops else { return }
        let ops = Array(bytes[2..<(2 + nops)])
        let addr = Array(bytes[(2 + nops)...])
        let tables = TokenTables(operatorChars: nops == 0 ? Array(".:@[]".utf8) : ops)
        if mode % 5 == 4 {
            let out = crackAddress(addr, options: CrackOptions(colonOkInAddr: mode & 0x10 != 0))
            #expect(out.count <= Limits.maxName)
            return
        }
        let table = [tables.external, tables.internal, tables.noComment, tables.external][Int(mode % 5)]
        let delim: UInt8 = [0, UInt8(ascii: ","), 0x09, UInt8(ascii: " ")][Int((mode >> 3) & 3)]
        var start = 0
        var rounds = 0
        while start <= addr.count && rounds < 2000 {
            rounds += 1
            var messages: [String] = []
            let r = prescan(addr, from: start, delim: delim, table: table, ignoreUnbalanced: mode & 0x80 != 0,
                            eightBitAddrOK: mode & 0x40 != 0, report: { messages.append($0) })
            #expect(r.end <= addr.count)
            for m in messages { #expect(m.hasPrefix("553 "), "message \(m)") }
            if let t = r.tokens {
                #expect(t.count <= Limits.maxAtoms)
                #expect(!t.contains { $0.isEmpty || $0.count > Limits.maxName })
            }
            if delim == 0 || r.end >= addr.count { break }
            start = r.end + 1
        }
    }
}
