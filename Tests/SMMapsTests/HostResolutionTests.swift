// SMMapsTests/HostResolutionTests.swift
//
// getmxrr and dns_getcanonname over a scripted resolver, for the cases a
// real name server in DNSTests cannot produce on demand: a name server
// that is down while FallbackMXhost is set, an AAAA query that times out
// (WorkAroundBrokenAAAA), and ResolverOptions parsing.  The expected
// answers follow sendmail 8.17's domain.c as DNSTests observed it.
import Glibc
import SMMaps
import Testing

/// Answers from a table: (name, type) -> response; anything else NXDOMAIN.
struct ScriptedResolver: DNSResolving {
    var answers: [String: DNSResponse]
    var search: [String] = ["example.test"]
    func key(_ n: [UInt8], _ t: UInt16) -> String { String(decoding: n, as: UTF8.self).lowercased() + "/\(t)" }
    func search(_ name: [UInt8], type: UInt16, noDomainSearch: Bool) -> DNSResponse {
        answers[key(name, type)] ?? .failure(hErrno: 1, errno: 0)
    }
    func queryDomain(_ name: [UInt8], domain: [UInt8], type: UInt16) -> DNSResponse {
        var n = name
        if !domain.isEmpty { n += [UInt8(ascii: ".")] + domain }
        return answers[key(n, type)] ?? .failure(hErrno: 1, errno: 0)
    }
    func searchConfig() -> DNSSearchConfig {
        DNSSearchConfig(searchList: search.map { Array($0.utf8) }, defaultDomain: Array("example.test".utf8),
                        useSearchList: true, useDefaultDomain: true)
    }
}

@Suite struct HostResolutionTests {
    func resolution(_ answers: [String: DNSResponse], configure: (inout MapEnvironment) -> Void = { _ in })
        -> HostResolution {
        var env = MapEnvironment()
        env.resolver = ScriptedResolver(answers: answers)
        env.clock = { 1_000_000 }
        configure(&env)
        return HostResolution(environment: env, serviceSwitch: ServiceSwitch(entries: [
            Array("hosts".utf8): [Array("dns".utf8)]]))
    }

    static func mx(_ owner: String, _ pref: UInt16, _ host: String) -> DNSRecord {
        DNSRecord(name: Array(owner.utf8), type: DNSType.mx, ttl: 60, data: Array(host.utf8), preference: pref)
    }
    static let a = DNSRecord(name: Array("h".utf8), type: DNSType.a, ttl: 60, data: [127, 0, 0, 2])
    let m = Array("example.test".utf8)

    @Test func serverDownGivesFallbackOnlyOrTryAgain() {
        let down: [String: DNSResponse] = ["down.test/15": .failure(hErrno: 2, errno: 0),
                                           "fb.example.test/15": .answer([Self.mx("fb.example.test", 3, "fbmx.example.test")], authenticated: false)]
        let plain = resolution(down).mxHosts(Array("down.test".utf8), tryFallback: true, localDomain: m)
        #expect(plain.count == -1 && plain.status == 75)
        let fb = resolution(down) { $0.fallbackMX = Array("fb.example.test".utf8) }
        let r = fb.mxHosts(Array("down.test".utf8), tryFallback: true, localDomain: m)
        #expect(r.count == 1 && r.hosts == [Array("fbmx.example.test.".utf8)])
        // bestmx and delivery without tryFallback: no fallback
        #expect(fb.mxHosts(Array("down.test".utf8), localDomain: m).count == -1)
        // a fallback host in $=w is dropped when the local host is dropped
        let local = resolution(down) {
            $0.fallbackMX = Array("[127.0.0.1]".utf8)
            $0.isLocalHost = { $0 == Array("[127.0.0.1]".utf8) }
        }
        #expect(local.mxHosts(Array("down.test".utf8), tryFallback: true, localDomain: m).hosts == [Array("[127.0.0.1]".utf8)])
        #expect(local.mxHosts(Array("down.test".utf8), dropLocalHost: true, tryFallback: true, localDomain: m).count == -1)
    }

    @Test func fallbackFollowsTheMXList() {
        let r = resolution(["two.test/15": .answer([Self.mx("two.test", 20, "b.test"), Self.mx("two.test", 10, "a.test")],
                                                   authenticated: false)]) { $0.fallbackMX = Array("[10.0.0.1]".utf8) }
            .mxHosts(Array("two.test".utf8), tryFallback: true, localDomain: m)
        #expect(r.hosts.map { String(decoding: $0, as: UTF8.self) } == ["a.test.", "b.test.", "[10.0.0.1]"])
    }

    /// An AAAA query through a search-list domain that times out fails the
    /// whole lookup (try again), unless WorkAroundBrokenAAAA lets the A
    /// query answer.
    @Test func brokenAAAA() {
        guard HostResolution.inet6 else { return }
        let answers: [String: DNSResponse] = [
            "h.example.test/28": .failure(hErrno: 2, errno: ETIMEDOUT),
            "h.example.test/1": .answer([Self.a], authenticated: false),
        ]
        let strict = resolution(answers).canonicalName(Array("h".utf8), tryMX: true, localDomain: m)
        #expect(!strict.found && strict.tempFailure)
        let lax = resolution(answers) { $0.workAroundBrokenAAAA = true }
            .canonicalName(Array("h".utf8), tryMX: true, localDomain: m)
        #expect(lax.found && lax.name == Array("h.example.test".utf8))
    }

    @Test func resolverOptionsParsing() {
        let s = ResolverSettings(Array("+AAONLY -DNSRCH defnames HasWildcardMX -WorkAroundBrokenAAAA bogus".utf8))
        #expect(s.hasWildcardMX == true && s.workAroundBrokenAAAA == false)
        #expect(s.unrecognized == [Array("bogus".utf8)])
        #expect(s.apply(to: 0x200 | 0x1) == 0x1 | 0x4 | 0x80)
        #expect(ResolverSettings(Array("-dnsrch +dnsrch".utf8)).apply(to: 0) == 0x200)
    }
}
