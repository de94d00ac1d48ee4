// DNSBLTests.swift — DNS block lists (FEATURE(dnsbl), FEATURE(enhdnsbl))
// on the daemon (`sendmail -bD`) against the real sendmail's, with the
// loopback name server (DNSFixture) in the daemons' private network:
// the same .mc built with sendmail's m4 library and with ours, clients
// connecting from distinct source addresses (DaemonTests' harness adds
// 10.9.8.7, 10.9.9.8, 10.9.9.9 to lo), DaemonTests.compare's checks
// (transcripts, syslog lines with their reject= lines, queue files):
//   - dnsbl.mc: 10.9.8.7 listed at bl.example.test (its reversed octets
//     answer 127.0.0.2, with a TXT reason): sendmail's "Rejected: ...
//     listed at bl.example.test"; 10.9.9.8 answered 127.0.0.5 at
//     ebl.example.test, which enhdnsbl ignores (it refuses 127.0.0.2.
//     only): its message is accepted; 10.9.9.9 answered 127.0.0.2 there:
//     enhdnsbl's own message; 127.0.0.1, on no list: accepted.
//   - dnsbl-tmp.mc: bl.fail.test's server answers SERVFAIL: with the
//     feature's `t' argument, the temporary refusal "451 Temporary lookup
//     failure of ... at bl.fail.test".
// Fails (never skips) when a prerequisite (python3, dnsmasq) is missing.

import Foundation
import Testing

@Suite("DNS block lists (dnsbl, enhdnsbl) on the daemon, against sendmail", .serialized)
struct DNSBLTests {
    static let fixture = DNSFixture(name: "dnsbl", records: [
        .a("7.8.9.10.bl.example.test", "127.0.0.2"),
        .txt("7.8.9.10.bl.example.test", "listed for testing"),
        .a("8.9.9.10.ebl.example.test", "127.0.0.5"),
        .a("9.9.9.10.ebl.example.test", "127.0.0.2"),
        .a("vm.example.test", "127.0.0.1"),
    ])

    let daemon = DaemonTests()

    static func session(_ from: String, port: Int) -> String {
        """
        #CONNECT 2525 \(from) \(port)
        EHLO client.example
        MAIL FROM:<a@vm.example.test>
        RCPT TO:<root>
        DATA
        Subject: from \(from)

        body
        .
        QUIT

        """
    }

    /// The cf built from `mc` with sendmail's library or ours.
    func cf(_ mc: String, library: String) -> (String, URL) throws -> String {
        { _, _ in
            let config = library == "ours"
                ? Configuration(name: "\(mc)-ours", source: .ourLibraryMC("Tests/Fixtures/oracle/mc/\(mc).mc"))
                : Configuration(name: mc, source: .mc("mc/\(mc).mc"))
            return try SubmitTests.prepareWithAliases(config).cf
        }
    }

    @Test("listed, ignored, enhdnsbl-listed and clean clients", arguments: ["sendmail", "ours"])
    func lists(library: String) throws {
        let script = ["10.9.8.7", "10.9.9.8", "10.9.9.9", "127.0.0.1"].enumerated()
            .map { Self.session($1, port: 41000 + $0) }.joined()
        try daemon.compare(script, tag: "dnsbl-\(library)", expectMessages: 2, cf: cf("dnsbl", library: library),
                           dns: Self.fixture)
        let t = try String(contentsOf: Workspace.shared.runs.appendingPathComponent("daemon-dnsbl-\(library).oracle.out"),
                           encoding: .utf8)
        #expect(t.contains("Rejected: 10.9.8.7 listed at bl.example.test"), "the oracle's dialogue:\n\(t)")
        #expect(t.contains("Listed at ebl: 10.9.9.9"), "the oracle's dialogue:\n\(t)")
    }

    @Test("a list whose name server fails: the temporary refusal", arguments: ["sendmail", "ours"])
    func failingList(library: String) throws {
        try daemon.compare(Self.session("10.9.8.7", port: 41010), tag: "dnsbl-tmp-\(library)", expectMessages: 0,
                           cf: cf("dnsbl-tmp", library: library), dns: Self.fixture)
        let t = try String(contentsOf: Workspace.shared.runs.appendingPathComponent("daemon-dnsbl-tmp-\(library).oracle.out"),
                           encoding: .utf8)
        #expect(t.contains("451 4.4.3 Temporary lookup failure of 10.9.8.7 at bl.fail.test"), "the oracle's dialogue:\n\(t)")
    }
}
