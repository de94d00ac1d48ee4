// AddressGenerator.swift — a seeded, deterministic generator of mail addresses
// in every syntax form sendmail's tokenizer and rulesets meet.
//
// Promises: the same seed always yields the same byte strings, on every
// platform (SplitMix64, no Foundation randomness).  Output lines never contain
// LF (the -bt line separator) nor NUL (NULs live in EdgeInputs); they may
// contain 8-bit bytes, CR-free control bytes are avoided except in the
// `.eightBit` form.  Forms: plain, quoted local parts, route addresses,
// % hacks, ! paths, comments, display names, groups, <>, IP literals, 8-bit,
// overlong input and broken (unbalanced) input.

struct SplitMix64: Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

struct AddressGenerator: Sendable {
    enum Form: CaseIterable, Sendable {
        case plain, localOnly, quotedLocal, route, percentHack, bangPath, comment, displayName
        case group, nullAddress, ipLiteral, eightBit, overlong, broken, plusDetail, trailingDot
        case list, escaped
    }

    private var rng: SplitMix64
    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    static let locals = [
        "joe", "root", "postmaster", "info", "sales", "user", "john.doe", "MAILER-DAEMON", "a",
        "reject", "spammer", "nobody", "Joe", "x_y", "first.middle.last", "abuse", "catcher", "uucp",
        "daemon", "bin", "Postmaster", "detailuser", "news",
    ]
    static let domains = [
        "example.com", "example.test", "vm.example.test", "localhost", "vm", "virt.example.com",
        "catchall.example.test", "mt.example.org", "x.sub.example.org", "err.example.org",
        "local.example.org", "old.example.com", "legacy.example.test", "masq.example.com",
        "inner.example.org", "host.inner.example.org", "keep.example.test", "partner.example.org",
        "blocked.example.test", "blocked.example", "relay.example.net", "hub.example.org",
        "bad.example", "relayme.example", "mail.example.com", "uucp-gw.example.org",
        "kremvax.UUCP", "waldorf.uucp", "host.BITNET", "nowhere.invalid", "Example.COM",
        "secret.example.test", "old.example.test", "plus.example.test", "mail.example.test",
        "friend.example.net",
    ]
    static let ipLiterals = [
        "[192.0.2.10]", "[127.0.0.1]", "[192.0.2.99]", "[198.51.100.7]", "[IPv6:::1]",
        "[IPv6:2001:db8::1]", "[10.0.0.1]", "[127.0.1.1]", "[300.1.1.1]", "[1.2.3]",
    ]
    static let phrases = ["John Doe", "Jane Q. Public", "Doe, John", "root", "Müller", "A B C D E"]
    static let uucpHosts = ["kremvax", "waldorf", "ucbvax", "decvax", "uucp-gw", "vm"]

    mutating func local() -> String { rng.pick(Self.locals) }
    mutating func domain() -> String {
        rng.chance(10) ? rng.pick(Self.ipLiterals) : rng.pick(Self.domains)
    }

    /// One address (no LF, no NUL).
    mutating func next() -> [UInt8] { make(rng.pick(Form.allCases)) }

    mutating func make(_ form: Form) -> [UInt8] {
        switch form {
        case .plain: return ascii("\(local())@\(domain())")
        case .localOnly: return ascii(local())
        case .quotedLocal:
            let inner = rng.pick(["john doe", "a\\\"b", "x@y", "odd,comma", "", " lead", "a.b", "<x>"])
            return ascii("\"\(inner)\"@\(domain())")
        case .route:
            let hops = (0...rng.below(3)).map { _ in "@" + domain() }.joined(separator: ",")
            let body = "\(hops):\(local())@\(domain())"
            return ascii(rng.chance(80) ? "<\(body)>" : body)
        case .percentHack:
            let extra = rng.chance(50) ? "%\(domain())" : ""
            return ascii("\(local())%\(domain())\(extra)@\(domain())")
        case .bangPath:
            let hops = (0...rng.below(3)).map { _ in rng.pick(Self.uucpHosts) }.joined(separator: "!")
            return ascii(rng.chance(30) ? "\(hops)!\(local())@\(domain())" : "\(hops)!\(local())")
        case .comment:
            let c = rng.pick(["(Joe)", "(a (nested) comment)", "( )", "(x@y)", "(quote \\) inside)"])
            return ascii(rng.chance(50) ? "\(local())@\(domain()) \(c)" : "\(c) \(local()) @ \(domain())")
        case .displayName:
            var phrase = rng.pick(Self.phrases)
            if phrase.contains(",") || rng.chance(30) { phrase = "\"\(phrase)\"" }
            return bytes(phrase) + ascii(" <\(local())@\(domain())>")
        case .group:
            let members = (0..<rng.below(3)).map { _ in "\(local())@\(domain())" }.joined(separator: ", ")
            return ascii("\(rng.pick(["list", "undisclosed-recipients", "Team"])): \(members);")
        case .nullAddress:
            return ascii(rng.pick(["<>", "< >", "<<>>", "\"\"", "<\"\">", "<@>", "@", "<@x:>"]))
        case .ipLiteral: return ascii("\(local())@\(rng.pick(Self.ipLiterals))")
        case .eightBit:
            let hi: [UInt8] = [0xE9, 0xFC, 0xC3, 0xA9, 0xFF, 0x80, 0xA0]
            var out = ascii(local())
            out.insert(rng.pick(hi), at: rng.below(out.count + 1))
            out += ascii("@")
            var dom = ascii(domain())
            if rng.chance(50) { dom.insert(rng.pick(hi), at: rng.below(dom.count + 1)) }
            return out + dom
        case .overlong:
            switch rng.below(4) {
            case 0: return ascii(String(repeating: "a", count: 200 + rng.below(400)) + "@" + domain())
            case 1: return ascii(String(repeating: "a.", count: 300 + rng.below(500)) + "b@" + domain())
            case 2: return ascii(local() + "@" + String(repeating: "sub.", count: 100 + rng.below(300)) + "com")
            default: return ascii(String(repeating: "x", count: 1000 + rng.below(1500)))
            }
        case .broken:
            return ascii(rng.pick([
                "<\(local())@\(domain())", "\(local())@\(domain())>", "\"\(local())@\(domain())",
                "(\(local())@\(domain())", "\(local())@\(domain()))", "<<\(local())@\(domain())>",
                "\(local())@@\(domain())", "@\(domain())", "\(local())@", "\(local())@.\(domain())",
                "\(local())..x@\(domain())", "<\(local())@\(domain())>>", "\(local())\\",
                "<@\(domain()):>", "\(local()) @ \(domain()) @", "\(local())@\(domain()).(",
                ":;", "a:b:c@\(domain())", "[\(local())@\(domain())", "\(local())@[192.0.2.1",
            ]))
        case .plusDetail: return ascii("\(local())+\(rng.pick(["detail", "", "a+b", "x"]))@\(domain())")
        case .trailingDot: return ascii("\(local())@\(domain()).")
        case .list: return ascii("\(local())@\(domain()), \(local()), \(local())@\(domain())")
        case .escaped:
            return ascii(rng.pick(["\\\(local())@\(domain())", "us\\@er@\(domain())", "\\!\(local())",
                                   "a\\ b@\(domain())", "\(local())@\(domain())\\."]))
        }
    }

    private func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// `count` addresses covering every form at least once (first one of each
    /// form, then random forms).
    static func addresses(seed: UInt64, count: Int) -> [[UInt8]] {
        var gen = AddressGenerator(seed: seed)
        var out = Form.allCases.map { gen.make($0) }
        while out.count < count { out.append(gen.next()) }
        return Array(out.prefix(max(count, Form.allCases.count)))
    }
}
