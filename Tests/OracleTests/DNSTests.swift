// DNSTests.swift — host resolution against a real name server: the real
// sendmail and ours run the same `-bt` script on the same cf with the same
// loopback dnsmasq (DNSFixture) and must print the same transcript.
//
// Covers `/mx` (preference order, equal preferences broken by sendmail's
// time-seeded hash: a run is repeated when its two halves straddle a
// second), `/canon`,
// `$[ $]` through ruleset 3 with CNAMEs and the search list, the dns,
// bestmx and host map classes, FEATURE(bestmx_is_local), a SERVFAIL zone
// (try again) against NXDOMAIN, and the resolver-related options
// (ResolverOptions flags, WorkAroundBrokenAAAA, HasWildcardMX,
// FallbackMXhost, TryNullMXList, DontExpandCnames).

import Foundation
import Testing

@Suite("DNS: MX, canonification and DNS maps identical to sendmail")
struct DNSTests {
    static let config = Configuration(name: "dns", source: .mc("mc/dns.mc"),
                                      copiedFiles: ["aliases", "switch-dns"])
    static let oursConfig = Configuration(name: "ours-dns", source: .ourLibraryMC("Tests/Fixtures/oracle/mc/dns.mc"),
                                          copiedFiles: ["aliases", "switch-dns"])

    static let fixture = DNSFixture(name: "zones", records: [
        .mx("multi.example.test", exchange: "mx-b.example.test", preference: 10),
        .mx("multi.example.test", exchange: "mx-a.example.test", preference: 10),
        .mx("multi.example.test", exchange: "mx-c.example.test", preference: 20),
        .mx("multi.example.test", exchange: "mx-d.example.test", preference: 10),
        .mx("multi.example.test", exchange: "mx-e.example.test", preference: 5),
        .a("mx-a.example.test", "127.0.0.2"),
        .a("mx-b.example.test", "127.0.0.3"),
        .a("mx-c.example.test", "127.0.0.4"),
        .a("mx-e.example.test", "127.0.0.8"),
        .mx("single.example.test", exchange: "mx-a.example.test", preference: 5),
        .cname("alias.example.test", target: "mx-a.example.test"),
        .cname("chain.example.test", target: "alias.example.test"),
        .a("a-only.example.test", "127.0.0.5"),
        .aaaa("v6-only.example.test", "::1"),
        .mx("local-mx.example.test", exchange: "vm.example.test", preference: 10),
        .mx("local-mx.example.test", exchange: "mx-a.example.test", preference: 20),
        .mx("backup-mx.example.test", exchange: "mx-a.example.test", preference: 10),
        .mx("backup-mx.example.test", exchange: "vm.example.test", preference: 20),
        .mx("mx-cname.example.test", exchange: "alias.example.test", preference: 10),
        .a("far.other.test", "127.0.0.6"),
        .mx("mailonly.other.test", exchange: "mx-b.example.test", preference: 1),
        .txt("txt.example.test", "v=spf1 -all"),
        .mx("nullmx.example.test", exchange: ".", preference: 0),
        .ptr("2.0.0.127.in-addr.arpa", "mx-a.example.test"),
    ], search: ["example.test", "other.test"])

    static let script = """
        /mx multi.example.test
        /mx multi
        /mx MULTI.Example.TEST.
        /mx single.example.test
        /mx alias.example.test
        /mx mx-cname.example.test
        /mx a-only.example.test
        /mx a-only
        /mx v6-only.example.test
        /mx local-mx.example.test
        /mx backup-mx.example.test
        /mx mailonly
        /mx nx.example.test
        /mx nx
        /mx x.fail.test
        /mx y.broken.test
        /mx [127.0.0.2]
        /mx [a-only.example.test]
        /mx nullmx.example.test
        /canon multi
        /canon multi.example.test
        /canon alias
        /canon chain.example.test
        /canon a-only
        /canon v6-only
        /canon far
        /canon mailonly
        /canon nx
        /canon nx.example.test
        /canon x.fail.test
        /canon y.broken.test
        /canon txt.example.test
        /canon vm
        /canon localhost
        3,0 user@multi
        3,0 user@alias
        3,0 user@chain
        3,0 user@a-only.example.test
        3,0 user@far
        3,0 user@nx.example.test
        3,0 user@x.fail.test
        3,0 user@y.broken.test
        3,0 user@local-mx.example.test
        3,0 user@backup-mx.example.test
        3,0 user@[127.0.0.2]
        3,0 user@txt.example.test.
        /map host multi
        /map host x.fail.test
        /map host [127.0.0.2]
        /map host [127.0.0.3]
        /map host [127.0.1.1]
        /map canon x.fail.test
        /map canon alias
        /map dnsmx multi.example.test
        /map dnsmx nx.example.test
        /map dnsmx x.fail.test
        /map dnsa a-only.example.test
        /map dnsa alias.example.test
        /map dnsaaaa v6-only.example.test
        /map dnsaaaa y.broken.test
        /map dnsa y.broken.test
        /map dnstxt txt.example.test
        /map dnsptr 2.0.0.127.in-addr.arpa
        /map dnscname chain.example.test
        /map bestmx multi
        /map bestmx multi.example.test
        /map bestmx local-mx.example.test
        /map bestall multi.example.test
        /map bestmx x.fail.test
        /map bestmx nx.example.test
        /map bestmx nullmx.example.test
        3,0 user@nullmx.example.test

        """

    /// Option sets the same script runs under.
    static let optionSets: [[String]] = [
        [],
        ["-OResolverOptions=-DNSRCH"],
        ["-OResolverOptions=-DEFNAMES -DNSRCH"],
        ["-OResolverOptions=+AAONLY +WorkAroundBrokenAAAA"],
        ["-OResolverOptions=WorkAroundBrokenAAAA"],
        ["-OResolverOptions=HasWildcardMX"],
        ["-OFallbackMXhost=mx-c.example.test"],
        ["-OFallbackMXhost=[127.0.0.9]"],
        ["-OTryNullMXList=true"],
        ["-ODontExpandCnames=true"],
        // words that name no resolver flag: "readcf: I option value ... unrecognized", exit 70
        ["-OResolverOptions=+rotate -bogus +dnsrch"],
    ]

    func run(_ config: Configuration, _ args: [String]) throws {
        let p = try Workspace.shared.prepare(config)
        var options = SandboxOptions()
        options.etcMail = p.etcMail
        options.dns = Self.fixture
        options.extraArguments = args
        let tag = config.name + "-" + (args.joined().filter { $0.isLetter || $0.isNumber })
        // sendmail seeds the order of equal MX preferences with the time of
        // day (seconds): a run whose two halves fall in different seconds
        // may order them differently, and is run again.
        var real: RunResult, ours: RunResult
        var tries = 0
        repeat {
            tries += 1
            let start = time(nil)
            (real, ours) = try Sandbox.runBoth(cf: p.cfPath, input: Array(Self.script.utf8),
                                               options: options, tag: tag)
            if time(nil) == start || ours.stdout == real.stdout { break }
        } while tries < 8
        let transcript = String(decoding: real.stdout, as: UTF8.self)
        // the fixture answered the oracle: the MX list, NXDOMAIN and SERVFAIL
        #expect(transcript.contains("\n\tmx-e.example.test.\n\tmx-"),
                "the DNS fixture did not answer the oracle: \(transcript.prefix(600))")
        if !args.contains(where: { $0.hasPrefix("-OFallbackMXhost") }) {
            #expect(transcript.contains("getmxrr(nx.example.test) returns 0 value(s):\n"))
            #expect(transcript.contains("getmxrr(x.fail.test) returns -1 value(s):\n"))
        }
        expectSameRun(ours, real)
    }

    /// A search-list domain whose server never answers AAAA queries: the
    /// lookup fails (try again) unless WorkAroundBrokenAAAA lets the A
    /// query after the timeout answer.
    @Test("AAAA timeouts with and without WorkAroundBrokenAAAA",
          arguments: [[], ["-OResolverOptions=WorkAroundBrokenAAAA"]])
    func brokenAAAA(_ args: [String]) throws {
        let p = try Workspace.shared.prepare(Self.config)
        var options = SandboxOptions()
        options.etcMail = p.etcMail
        options.dns = DNSFixture(name: "mute", records: [], search: ["mute.test"])
        options.extraArguments = args
        let script = "/canon z\n/canon z.mute.test\n3,0 user@z\n"
        let tag = "dns-mute-" + (args.joined().filter { $0.isLetter })
        let (real, ours) = try Sandbox.runBoth(cf: p.cfPath, input: Array(script.utf8), options: options, tag: tag)
        let transcript = String(decoding: real.stdout, as: UTF8.self)
        #expect(transcript.contains("getcanonname(z.mute.test) returns z.mute.test"), "\(transcript)")
        // sendmail: the AAAA timeout in the search list is final, unless worked around
        #expect(transcript.contains(args.isEmpty ? "getcanonname(z) returns z\n" : "getcanonname(z) returns z.mute.test\n"))
        expectSameRun(ours, real)
    }

    @Test("-bt /mx, /canon, $[ $] and DNS maps (sendmail's library)", arguments: optionSets)
    func sendmailLibrary(_ args: [String]) throws { try run(Self.config, args) }

    @Test("-bt /mx, /canon, $[ $] and DNS maps (our m4 library)")
    func ourLibrary() throws { try run(Self.oursConfig, []) }
}
