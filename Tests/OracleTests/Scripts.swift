// Scripts.swift — builds the `-bt` input scripts the differential cases feed to
// both binaries: generated address lines, check_* calls with macro set-up,
// /try and /tryflags runs, inspection of a configuration (=S every ruleset,
// =M, $=X every class, $x every macro), hand-written fixture scripts, and
// edge inputs (8-bit, NUL, CR, overlong lines, too many tokens).
//
// Promises: every builder is deterministic (seeded), returns raw bytes with one
// command per LF-terminated line, and stays within `maxLines` lines (2000), so
// each oracle run is bounded.

import Foundation

struct BTScript: Sendable {
    static let maxLines = 2000
    private(set) var bytes: [UInt8] = []
    private(set) var lineCount = 0

    mutating func line(_ text: String) { line(bytes: Array(text.utf8)) }
    mutating func line(bytes: [UInt8]) {
        precondition(!bytes.contains(0x0A), "a -bt command cannot contain LF")
        self.bytes += bytes + [0x0A]
        lineCount += 1
        precondition(lineCount <= Self.maxLines, "script exceeds \(Self.maxLines) lines")
    }
    mutating func append(_ other: BTScript) { for l in other.lines() { line(bytes: l) } }
    func lines() -> [[UInt8]] { bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map(Array.init) }
}

enum Scripts {
    /// A hand-written script from Tests/Fixtures/oracle/scripts/.  Lines
    /// starting with `#!` are fixture comments and are not sent.
    static func fixture(_ name: String) throws -> BTScript {
        let path = OracleEnvironment.fixture("scripts/" + name)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HarnessError("missing fixture script \(path)")
        }
        var script = BTScript()
        var lines = [UInt8](data).split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for l in lines where !l.starts(with: Array("#!".utf8)) { script.line(bytes: Array(l)) }
        return script
    }

    /// `<prefix><address>` for `count` generated addresses.
    static func addresses(_ prefix: String, seed: UInt64, count: Int) -> BTScript {
        var script = BTScript()
        for address in AddressGenerator.addresses(seed: seed, count: count) {
            script.line(bytes: Array(prefix.utf8) + address)
        }
        return script
    }

    static let clients = ["127.0.0.1", "192.0.2.99", "198.51.100.7", "192.0.2.10", "203.0.113.5",
                          "192.0.2.66", "IPv6:::1"]
    static let clientNames = ["localhost", "spam.example", "uucp-gw.example.org", "mail.example.com",
                              "unknown.example", "tempfail.example", "relay.example.net"]

    /// `check_rcpt <addr>` (or check_mail) with client macros changing every few lines.
    static func check(_ ruleset: String, seed: UInt64, count: Int) -> BTScript {
        var script = BTScript()
        var rng = SplitMix64(seed: seed ^ 0xC0FFEE)
        for (i, address) in AddressGenerator.addresses(seed: seed, count: count).enumerated() {
            if i % 5 == 0 {
                script.line(".D{client_addr}" + rng.pick(clients))
                script.line(".D{client_name}" + rng.pick(clientNames))
                script.line(rng.chance(30) ? ".D{auth_type}PLAIN" : ".D{auth_type}")
                script.line(".D{mail_from}<\(rng.pick(AddressGenerator.locals))@example.com>")
            }
            let wrap = rng.chance(70) && !address.starts(with: [0x3C])
            script.line(bytes: Array("\(ruleset) ".utf8) + (wrap ? [0x3C] + address + [0x3E] : address))
        }
        return script
    }

    /// `check_relay name $| addr` for generated client names and addresses.
    static func checkRelay(seed: UInt64, count: Int) -> BTScript {
        var script = BTScript()
        var rng = SplitMix64(seed: seed)
        for _ in 0..<count {
            let name = rng.chance(80) ? rng.pick(clientNames + AddressGenerator.domains) : ""
            let addr = rng.pick(clients + ["10.1.2.3", "192.0.2.1", "0.0.0.0"])
            script.line("check_relay \(name) $| \(addr)")
        }
        return script
    }

    /// `/tryflags` variations interleaved with `/try <mailer> addr`.
    static func tryMailer(_ mailers: [String], seed: UInt64, count: Int) -> BTScript {
        var script = BTScript()
        var rng = SplitMix64(seed: seed ^ 0x7A7)
        let flags = ["HR", "HS", "ER", "ES", "hs", "eR", "R", "S", "H", "E", "", "XY"]
        for (i, address) in AddressGenerator.addresses(seed: seed, count: count).enumerated() {
            if i % 4 == 0 { script.line("/tryflags " + rng.pick(flags)) }
            script.line(bytes: Array("/try \(rng.pick(mailers)) ".utf8) + address)
        }
        return script
    }

    /// Inspection of a compiled configuration: =S for every named and numbered
    /// ruleset, =M, every class ($=X) and every macro ($X) the .cf defines.
    static func inspect(cfPath: String) throws -> BTScript {
        guard let text = try? String(contentsOfFile: cfPath, encoding: .isoLatin1) else {
            throw HarnessError("cannot read \(cfPath)")
        }
        var rulesets: [String] = [], classes: [String] = [], macros: [String] = []
        for raw in text.split(separator: "\n") {
            let line = String(raw)
            guard let first = line.first else { continue }
            let rest = line.dropFirst()
            switch first {
            case "S":
                let name = rest.split(whereSeparator: { $0 == "=" || $0 == " " || $0 == "\t" }).first
                if let name, !rulesets.contains(String(name)) { rulesets.append(String(name)) }
            case "C", "F":
                if let name = macroName(rest), !classes.contains(name) { classes.append(name) }
            case "D":
                if let name = macroName(rest), !macros.contains(name) { macros.append(name) }
            default: continue
            }
        }
        var script = BTScript()
        script.line("=M")
        for r in rulesets + ["0", "1", "2", "3", "4", "5"] { script.line("=S" + r) }
        for c in classes + ["w", "k", "m"] { script.line("$=" + c) }
        for m in macros + ["j", "w", "m", "k", "_", "v", "Z", "{daemon_flags}"] { script.line("$" + m) }
        return script
    }

    private static func macroName(_ rest: Substring) -> String? {
        guard let c = rest.first else { return nil }
        if c == "{" {
            guard let end = rest.firstIndex(of: "}") else { return nil }
            return String(rest[rest.startIndex...end])
        }
        return c.isLetter || c.isNumber ? String(c) : nil
    }

    /// Inputs that stress the -bt reader and the tokenizer: 8-bit bytes, NUL,
    /// CR, control bytes, overlong lines and tokens, > 1000 tokens.
    static func edgeInputs(rulesets: String) -> BTScript {
        var s = BTScript()
        let p = Array("\(rulesets) ".utf8)
        s.line(bytes: p + Array("j".utf8) + [0xE9] + Array("r".utf8) + [0xF4] + Array("me@exampl".utf8) + [0xE9] + Array(".com".utf8))
        s.line(bytes: p + [0xC3, 0xA9, 0xC3, 0xBC] + Array("@example.com".utf8))
        s.line(bytes: p + Array("ab".utf8) + [0x00] + Array("cd@example.com".utf8))
        s.line(bytes: [0x00] + p + Array("x@y".utf8))
        s.line(bytes: p + Array("user@example.com".utf8) + [0x0D])
        s.line(bytes: p + Array("us".utf8) + [0x0D] + Array("er@example.com".utf8))
        s.line(bytes: p + Array("a".utf8) + [0x01, 0x07, 0x1B, 0x7F] + Array("b@example.com".utf8))
        s.line(bytes: p + [0xFF, 0xFE, 0x80, 0x81] + Array("@x".utf8))
        s.line(bytes: p + Array("\"quoted".utf8) + [0xE9] + Array("\"@example.com".utf8))
        s.line(bytes: p + Array("a\tb@example.com".utf8))
        s.line(bytes: p + Array((String(repeating: "t", count: 255) + "@example.com").utf8))
        s.line(bytes: p + Array((String(repeating: "t", count: 256) + "@example.com").utf8))
        s.line(bytes: p + Array((String(repeating: "t", count: 257) + "@example.com").utf8))
        s.line(bytes: p + Array((String(repeating: "t", count: 2100) + "@example.com").utf8))
        s.line(bytes: p + Array((String(repeating: "a.", count: 499) + "b@example.com").utf8))
        s.line(bytes: p + Array((String(repeating: "a.", count: 500) + "b@example.com").utf8))
        s.line(bytes: p + Array((String(repeating: "a.", count: 1200) + "b@example.com").utf8))
        s.line(bytes: p + Array((String(repeating: "<", count: 40) + "a@b" + String(repeating: ">", count: 40)).utf8))
        s.line(bytes: p + Array((String(repeating: "(", count: 40) + "a@b").utf8))
        s.line(bytes: p + Array(("\"" + String(repeating: "q", count: 3000) + "\"@x").utf8))
        s.line(bytes: Array(String(repeating: "z", count: 9000).utf8))
        s.line(bytes: p + Array(String(repeating: "x ", count: 4000).utf8))
        s.line(bytes: p + Array("trailing\\".utf8))
        s.line(bytes: p + Array("\\".utf8))
        s.line(bytes: p + Array("\\\\@x".utf8))
        s.line(bytes: p + Array("a\\".utf8) + [0xE9] + Array("@x".utf8))
        s.line(bytes: p + Array("$* $+ $- $@ $: $# $| $> $[ $] $( $) $& $=w $~w $1".utf8))
        s.line(bytes: p + Array("  spaced  @  example . com  ".utf8))
        s.line(bytes: Array(rulesets.utf8))
        s.line(bytes: Array("\(rulesets)  ".utf8))
        s.line(bytes: Array(",,, a@b".utf8))
        s.line(bytes: Array("3,,0 a@b".utf8))
        s.line(bytes: Array("3, 0 a@b".utf8))
        s.line(bytes: Array("999 a@b".utf8))
        s.line(bytes: Array("-1 a@b".utf8))
        s.line(bytes: Array("/parse ".utf8) + [0xE9, 0x00] + Array("x@y".utf8))
        s.line(bytes: Array(".D{x".utf8) + [0xE9] + Array("}v".utf8))
        s.line(bytes: Array(".Dq".utf8) + [0xE9, 0xFF] + Array("value".utf8))
        s.line(bytes: Array("$q".utf8))
        s.line(bytes: Array(".C{Bytes}".utf8) + [0xE9] + Array(" two".utf8))
        s.line(bytes: Array("$={Bytes}".utf8))
        s.line(bytes: Array("# a comment line".utf8))
        s.line(bytes: [])
        s.line(bytes: Array("\t".utf8))
        return s
    }
}
