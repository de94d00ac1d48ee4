// OutboundRoutingTests.swift — where queue runs send mail: MX routing
// through a loopback name server (DNSFixture), mailertable, bestmx_is_local,
// FallbackMXhost, SMART_HOST, MAIL_HUB, LOCAL_RELAY and LUSER_RELAY, on
// configurations built by our m4 library (Tests/Fixtures/oracle/routing),
// and the host status files (HostStatusDirectory) a run writes and
// honours.  Each case is an OutboundTests case run by OutboundTests.check:
// the real sendmail and ours deliver the same queue to the same scripted
// next hops (sink.py on 127.0.0.2-12) with the same name server, and the
// -v dialogue, what each next hop received, bounces, queue, mailq, syslog
// lines (and host status files, hoststat listing) must be identical.
// Fails (never skips) when a prerequisite (root, python3, dnsmasq) is missing.

import Foundation
import Testing

@Suite("Outbound routing: MX, mailertable, smart hosts and host status, as sendmail")
struct OutboundRoutingTests {
    typealias Case = OutboundTests.Case

    /// The zone: MX lists over the sinks (mx-a: 127.0.0.4 without
    /// extensions, mx-b: 127.0.0.2 full ESMTP, fb: 127.0.0.3 HELO only,
    /// mx-dead/mx-dead2: nothing listens) and the local host as an MX.
    static let zone = DNSFixture(name: "routing", records: [
        .a("mx-a.rt.test", "127.0.0.4"),
        .a("mx-b.rt.test", "127.0.0.2"),
        .a("mx-dead.rt.test", "127.0.0.5"),
        .a("mx-dead2.rt.test", "127.0.0.33"),
        .a("fb.rt.test", "127.0.0.3"),
        .a("a.rt.test", "127.0.0.2"),
        .mx("pref.rt.test", exchange: "mx-b.rt.test", preference: 20),
        .mx("pref.rt.test", exchange: "mx-a.rt.test", preference: 10),
        .mx("down.rt.test", exchange: "mx-dead.rt.test", preference: 10),
        .mx("down.rt.test", exchange: "mx-b.rt.test", preference: 20),
        .mx("alldown.rt.test", exchange: "mx-dead.rt.test", preference: 10),
        .mx("alldown.rt.test", exchange: "mx-dead2.rt.test", preference: 20),
        .mx("self.rt.test", exchange: "vm.example.test", preference: 10),
        .mx("self.rt.test", exchange: "mx-b.rt.test", preference: 20),
        .mx("backup.rt.test", exchange: "mx-b.rt.test", preference: 10),
        .mx("backup.rt.test", exchange: "vm.example.test", preference: 20),
        .mx("backup.rt.test", exchange: "mx-a.rt.test", preference: 30),
        .mx("backupdown.rt.test", exchange: "mx-dead.rt.test", preference: 10),
        .mx("backupdown.rt.test", exchange: "vm.example.test", preference: 20),
        .mx("luser.rt.test", exchange: "mx-a.rt.test", preference: 10),
        .mx("far.rt.test", exchange: "mx-b.rt.test", preference: 10),
    ], search: [])

    static let routing: [Case] = [
        Case(name: "rt-mx-preference", recipients: ["a@pref.rt.test", "b@pref.rt.test"],
             expects: ["== connect 127.0.0.4", "Connecting to mx-a.rt.test. via esmtp"]),
        Case(name: "rt-best-mx-down", recipients: ["a@down.rt.test"], expects: ["== connect 127.0.0.2"]),
        Case(name: "rt-all-mx-down", recipients: ["a@alldown.rt.test"], expects: ["Connection refused by mx-dead2.rt.test"]),
        Case(name: "rt-all-mx-down-fallback", recipients: ["a@alldown.rt.test"], runArguments: ["-OFallbackMXhost=fb.rt.test"],
             expects: [">>> HELO vm.example.test"]),
        Case(name: "rt-fallback-literal", recipients: ["a@alldown.rt.test"],
             runArguments: ["-OFallbackMXhost=[127.0.0.4]"], expects: ["== connect 127.0.0.4"]),
        // (equal preferences: sendmail orders them by a time-seeded hash,
        // so the two runs may try them in different orders; DNSTests
        // compares that order with -bt /mx within one second)
        Case(name: "rt-a-record", recipients: ["a@a.rt.test"], expects: ["== connect 127.0.0.2"]),
        Case(name: "rt-bestmx-is-local", recipients: ["root@self.rt.test", "a@pref.rt.test"], expects: ["== connect 127.0.0.4"]),
        Case(name: "rt-backup-mx", recipients: ["a@backup.rt.test"], expects: ["== connect 127.0.0.2"]),
        Case(name: "rt-backup-mx-best-down", recipients: ["a@backupdown.rt.test"], expects: ["Connection refused"]),
        Case(name: "rt-mailertable", recipients: ["a@mt.rt.test", "b@x.sub.rt.test", "c@sub.rt.test"],
             expects: ["== connect 127.0.0.4"]),
        Case(name: "rt-mx-points-back", recipients: ["a@loop.rt.test"], expects: ["points back to"]),
        Case(name: "rt-no-such-domain", recipients: ["a@nx.rt.test"], expects: ["Host unknown"]),
        // two messages to one dead host: the second is not tried again in the run
        Case(name: "rt-dead-host-twice", recipients: ["a@alldown.rt.test"], more: [["b@alldown.rt.test", "c@pref.rt.test"]],
             expects: ["Connection refused by mx-dead2.rt.test"]),
        // the run's connection cache: ConnectionCacheSize sessions at
        // most, the one used least recently closed for a new one
        Case(name: "rt-connection-cache-1", recipients: ["a@[127.0.0.2]"],
             more: [["b@[127.0.0.4]"], ["c@[127.0.0.2]", "d@pref.rt.test"]], runArguments: ["-OConnectionCacheSize=1"],
             expects: ["Closing connection to [127.0.0.2]"]),
        // no cache: each session ends with QUIT after its transaction
        Case(name: "rt-connection-cache-0", recipients: ["a@[127.0.0.2]"],
             more: [["b@[127.0.0.2]"], ["c@[127.0.0.4]", "d@pref.rt.test"]], runArguments: ["-OConnectionCacheSize=0"],
             expects: ["== connect 127.0.0.4"]),
        // two slots (the first session takes the last): the one whose
        // last reply is older goes, whatever its slot (a reply held 1.2 s
        // puts the second session's last use in a later second); with
        // uses in one second, the first slot's would go: not compared
        // (which runs cross a second boundary is chance)
        // the mailer's m=2: a session carries two messages, then is closed
        // at the next scan and another opened
        Case(name: "rt-connection-cache-m", recipients: ["a@[127.0.0.2]"], more: [["b@[127.0.0.2]"], ["c@[127.0.0.2]"]],
             expects: ["]... Closing connection to [127.0.0.2]"],
             cfEdits: [("\nMesmtp,\t\tP=[IPC], F=mDFMuXa, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, E=\\r\\n, L=990,",
                        "\nMesmtp,\t\tP=[IPC], F=mDFMuXa, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, E=\\r\\n, L=990, m=2,")]),
        Case(name: "rt-connection-cache-lru", recipients: ["a@[127.0.0.2]", "w1c@[127.0.0.3]", "b@[127.0.0.4]"],
             expects: ["b@[127.0.0.4]... Closing connection to [127.0.0.2]"]),
    ]

    static let hub: [Case] = [
        // SMART_HOST takes every remote domain, MX or not; MAIL_HUB with
        // stickyhost the local user@$j; ruleset 5 in the queue run: a
        // local user to the hub, an unknown one to LUSER_RELAY (by MX),
        // LOCAL_USER bin stays local (three slots in the connection
        // cache: which of two sessions goes for the third depends on
        // whether their last replies fell in one second,
        // rt-connection-cache-lru)
        Case(name: "rt-hub-routes", recipients: ["a@far.rt.test", "daemon@vm.example.test", "c@pref.rt.test", "daemon", "bin", "nosuchuser"],
             runArguments: ["-OConnectionCacheSize=3"],
             expects: ["== connect 127.0.0.3", "RCPT To:<daemon@vm.example.test>"]),
    ]

    static let hostStatus: [Case] = [
        Case(name: "hs-outcomes", recipients: ["a@[127.0.0.2]", "b@[127.0.0.5]", "c@[127.0.0.7]", "e@alldown.rt.test"],
             expects: ["Deferred"]),
        Case(name: "hs-greeting-554", recipients: ["d@[127.0.0.10]"], expects: ["554 5.7.1"]),
        // the second run: a host that failed moments ago is not tried again
        Case(name: "hs-cached-failure", recipients: ["a@[127.0.0.5]", "b@alldown.rt.test", "c@[127.0.0.2]"], runs: 2,
             expects: ["Deferred"]),
        Case(name: "hs-expired-status", recipients: ["a@[127.0.0.5]", "b@[127.0.0.2]"], runArguments: ["-OTimeout.hoststatus=0s"], runs: 2,
             expects: ["Deferred"]),
        Case(name: "hs-single-thread", recipients: ["a@[127.0.0.2]", "b@down.rt.test"], runArguments: ["-OSingleThreadDelivery=true"],
             expects: ["== connect 127.0.0.2"]),
    ]

    /// The scratch directory of `mc` (our m4 library) with the deliver
    /// fixtures, the name-server switch and the mailertable map.
    static func prepare(_ name: String, mc: String) throws -> (cf: String, dir: String) {
        guard getuid() == 0 else { throw HarnessError("OutboundRoutingTests need root (network namespace, port 25)") }
        guard access("/usr/bin/python3", X_OK) == 0 else { throw HarnessError("OutboundRoutingTests need /usr/bin/python3 (the next hops)") }
        let (cf, d) = try DeliverTests.prepareScratch(name, source: .ourLibraryMC("Tests/Fixtures/oracle/routing/" + mc))
        try DeliverTests.shell("cp '\(OracleEnvironment.fixture("routing/switch"))' '\(d)/switch' && "
                               + "'\(OracleEnvironment.makemapPath)' hash '\(d)/mailertable' < '\(OracleEnvironment.fixture("routing/mailertable"))'")
        return (cf, d)
    }

    @Test("MX routing, mailertable and bestmx_is_local against a name server", arguments: routing)
    func mx(_ c: Case) throws {
        let (cf, d) = try Self.prepare(c.name, mc: "routing.mc")
        try OutboundTests.check(c, cf: cf, dir: d, dns: Self.zone)
    }

    @Test("SMART_HOST, MAIL_HUB, LOCAL_RELAY and LUSER_RELAY", arguments: hub)
    func hubRoutes(_ c: Case) throws {
        let (cf, d) = try Self.prepare(c.name, mc: "hub.mc")
        try OutboundTests.check(c, cf: cf, dir: d, dns: Self.zone)
    }

    @Test("host status files written and honoured, hoststat", arguments: hostStatus)
    func hostStatusFiles(_ c: Case) throws {
        let (cf, d) = try Self.prepare(c.name, mc: "routing.mc")
        try OutboundTests.check(c, cf: cf, dir: d, dns: Self.zone, hostStatus: true)
    }
}
