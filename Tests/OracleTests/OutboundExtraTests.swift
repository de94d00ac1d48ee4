// OutboundExtraTests.swift — more of the SMTP client against the oracle:
// one transaction for recipients of different domains whose MX lists
// match (whole, or in their first MX host), DELIVERBY passed on (BY= on
// MAIL, a return-mode message refused for a peer without DELIVERBY, the
// NOTIFY= a notify-mode message adds), EightBitMode=s (a message that is
// not MIME converted for a peer without 8BITMIME; one sendmail may not
// MIME refused), AUTH from the DefaultAuthInfo file, TLSFallbacktoClear,
// a next hop that answers STARTTLS and then nothing, and tls_rcpt.
// Each case is an OutboundTests case (OutboundTests.check: the -v
// dialogue, what sink.py's next hops received, bounces, queue, mailq and
// log lines of the real sendmail's queue run and ours must be the same);
// the grouping cases use the routing configuration of OutboundRoutingTests
// and a loopback name server (DNSFixture).  A DELIVERBY message is queued
// by the oracle from an SMTP session (-bs) in the case's setup, before
// the case's own message.  DELIVERBY's seconds left are compared to the
// second: not compared (OutboundTests.normalise), the runs are seconds
// apart.
// Fails (never skips) when a prerequisite (root, python3, dnsmasq) is missing.

import Foundation
import Testing

@Suite("Outbound SMTP extras: MX-sharing domains, DELIVERBY, EightBitMode=s, DefaultAuthInfo, as sendmail")
struct OutboundExtraTests {
    typealias Case = OutboundTests.Case

    /// mx-b: 127.0.0.2 (full ESMTP), mx-a: 127.0.0.4 (no extensions),
    /// fb: 127.0.0.3 (HELO only), mx-dead: 127.0.0.5 (refused).
    static let zone = DNSFixture(name: "outbound-extra", records: [
        .a("mx-a.xt.test", "127.0.0.4"),
        .a("mx-b.xt.test", "127.0.0.2"),
        .a("mx-dead.xt.test", "127.0.0.5"),
        .a("fb.xt.test", "127.0.0.3"),
        .mx("one1.xt.test", exchange: "mx-b.xt.test", preference: 10),
        .mx("one2.xt.test", exchange: "mx-b.xt.test", preference: 5),
        .mx("one15.xt.test", exchange: "mx-a.xt.test", preference: 10),
        .mx("one1a.xt.test", exchange: "MX-B.xt.test", preference: 10),
        .mx("coat1.xt.test", exchange: "mx-b.xt.test", preference: 10),
        .mx("coat1.xt.test", exchange: "mx-a.xt.test", preference: 20),
        .mx("coat2.xt.test", exchange: "mx-b.xt.test", preference: 10),
        .mx("coat2.xt.test", exchange: "fb.xt.test", preference: 20),
        .mx("cdown1.xt.test", exchange: "mx-dead.xt.test", preference: 10),
        .mx("cdown1.xt.test", exchange: "mx-b.xt.test", preference: 20),
        .mx("cdown2.xt.test", exchange: "mx-dead.xt.test", preference: 10),
        .mx("cdown2.xt.test", exchange: "mx-a.xt.test", preference: 20),
    ], search: [])

    static let grouping: [Case] = [
        // the same MX host: one session, one MAIL, two RCPTs
        Case(name: "xt-same-mx", recipients: ["a@one1.xt.test", "b@one2.xt.test"],
             expects: ["b@one2.xt.test,a@one1.xt.test... Sent"]),
        // a domain with another MX between them in the send list: three
        // transactions (the third on the first session, kept in the cache)
        Case(name: "xt-interleaved", recipients: ["a@one1.xt.test", "c@one15.xt.test", "b@one2.xt.test"],
             expects: ["b@one2.xt.test... Using cached ESMTP connection to mx-b.xt.test. via esmtp"]),
        // signatures compare in lower case
        Case(name: "xt-same-mx-case", recipients: ["a@one1.xt.test", "b@one1a.xt.test"],
             expects: ["b@one1a.xt.test,a@one1.xt.test... Sent"]),
        // the same first MX host, different backups: one transaction
        Case(name: "xt-coattail", recipients: ["a@coat1.xt.test", "b@coat2.xt.test"],
             expects: ["b@coat2.xt.test,a@coat1.xt.test... Sent"]),
        // the shared first MX host is down: each domain to its own backup
        Case(name: "xt-coattail-first-down", recipients: ["a@cdown1.xt.test", "b@cdown2.xt.test"],
             expects: ["== connect 127.0.0.4", "== connect 127.0.0.2"]),
    ]

    /// A shell command that queues, through an SMTP session with the
    /// oracle (-bs -odq), a message from bin with `by` (e.g. "3600;R")
    /// to `rcpts`.
    static func queueDeliverBy(_ name: String, by: String, rcpts: [String]) -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let rcptLines = rcpts.map { "RCPT TO:<\($0)>\\r\\n" }.joined()
        return "(sleep 0.5; printf 'EHLO x.example\\r\\n'; sleep 0.3; "
            + "printf 'MAIL FROM:<bin@vm.example.test> BY=\(by)\\r\\n\(rcptLines)DATA\\r\\n'; sleep 0.3; "
            + "printf 'Subject: deliver by\\r\\n\\r\\nhello\\r\\n.\\r\\nQUIT\\r\\n') | "
            + "'\(root)/contrib/oracle/sandbox-bt.sh' -r '\(OracleEnvironment.oraclePath)' '@SCRATCH@/\(name).cf' -bs -odq"
            + " > '@SCRATCH@/bs.out' 2>&1 && grep -q '^250 2.0.0 .* Message accepted' '@SCRATCH@/bs.out'"
    }

    static let eightBitNotMIMEable = Array("Subject: caf\u{e9}\nFrom: joe@x.example\nContent-Type: text\n\nd\u{e9}j\u{e0} vu\n".utf8)

    static let cases: [Case] = [
        // DELIVERBY R: BY= for the peer offering DELIVERBY; refused
        // (a bounce) for the one that does not
        Case(name: "xt-deliverby-return", submitArguments: ["-f", "bin"], recipients: ["c@[127.0.0.17]"],
             expects: ["BY=<n>;R", "Server does not support Deliver By"],
             setup: queueDeliverBy("xt-deliverby-return", by: "3600;R", rcpts: ["a@[127.0.0.17]", "b@[127.0.0.2]"])),
        // DELIVERBY N: BY= passed on; the other peer gets NOTIFY= as RFC
        // 2852 asks and the sender a receipt
        Case(name: "xt-deliverby-notify", submitArguments: ["-f", "bin"], recipients: ["c@[127.0.0.17]"],
             expects: ["BY=<n>;N", "NOTIFY=FAILURE,DELAY"],
             setup: queueDeliverBy("xt-deliverby-notify", by: "3600;N", rcpts: ["a@[127.0.0.17]", "b@[127.0.0.2]"])),
        // EightBitMode=s: a message that is not MIME is converted for a
        // peer without 8BITMIME...
        Case(name: "xt-8bit-strict-converted", recipients: ["a@[127.0.0.4]", "b@[127.0.0.2]"],
             runArguments: ["-OEightBitMode=s"], message: OutboundTests.eightBit,
             expects: ["X-MIME-Autoconverted: from 8bit to base64"]),
        // ...and one with an RFC 1049 Content-Type (never MIMEd) refused
        // for it (Data format error, the bounce returns the header only)
        Case(name: "xt-8bit-strict-refused", submitArguments: ["-f", "bin"], recipients: ["a@[127.0.0.4]", "b@[127.0.0.2]"],
             runArguments: ["-OEightBitMode=s"], message: eightBitNotMIMEable,
             expects: ["[127.0.0.4] does not support 8BITMIME", "Data format error"]),
        // (EightBitMode=m refuses it too; pass8, the default, sends it)
        Case(name: "xt-8bit-mime-mode-refused", submitArguments: ["-f", "bin"], recipients: ["a@[127.0.0.4]"],
             runArguments: ["-OEightBitMode=m"], message: eightBitNotMIMEable,
             expects: ["[127.0.0.4] does not support 8BITMIME"]),
        Case(name: "xt-8bit-pass8-sent", submitArguments: ["-f", "bin"], recipients: ["a@[127.0.0.4]"],
             message: eightBitNotMIMEable, expects: ["Content-Type: text", "Sent ("]),
        // DefaultAuthInfo: the file's credentials when the cf has no
        // authinfo ruleset; an empty one is enough to keep it unused
        Case(name: "xt-default-authinfo", recipients: ["a@[127.0.0.16]"],
             expects: [">>> AUTH PLAIN", "235 2.0.0"],
             cfEdits: [("O SevenBitInput=False\n", "O SevenBitInput=False\nO DefaultAuthInfo=@SCRATCH@/default-auth\n"),
                       ("\nSauthinfo\n", "\nSnoauthinfo\n")],
             setup: "printf 'joe\\njoe\\nsecret\\n\\nPLAIN LOGIN\\n' > @SCRATCH@/default-auth && chmod 600 @SCRATCH@/default-auth"),
        Case(name: "xt-default-authinfo-unused", recipients: ["a@[127.0.0.16]"],
             expects: ["AUTH=root@vm.example.test"],
             cfEdits: [("O SevenBitInput=False\n", "O SevenBitInput=False\nO DefaultAuthInfo=@SCRATCH@/default-auth\n")],
             setup: "printf 'joe\\njoe\\nsecret\\n\\nPLAIN LOGIN\\n' > @SCRATCH@/default-auth && chmod 600 @SCRATCH@/default-auth"),
    ]

    /// tls_rcpt refuses x1... with a 454 (and {verify}) and x5... with a 550.
    static let refusingTLSRcpt = ("Stls_rcpt\n\n", """
        Stls_rcpt
        Rx1 $*\t$#error $@ 4.7.1 $: "454 x1 refused " $&{verify}
        Rx5 $*\t$#error $@ 5.7.1 $: "550 x5 refused"


        """)

    static let tlsCases: [Case] = [
        // TLSFallbacktoClear: the handshake fails, the same host in clear
        Case(name: "xt-tls-fallback-to-clear", recipients: ["a@[127.0.0.13]", "b@[127.0.0.14]"],
             runArguments: ["-OTLSFallbacktoClear=true"], expects: ["== alert", "b@[127.0.0.14]... Sent ("],
             certificates: true),
        // STARTTLS answered, then silence: the handshake fails after
        // Timeout.starttls (and the session's end waits Timeout.quit)
        Case(name: "xt-tls-handshake-hangs", recipients: ["a@[127.0.0.18]"],
             runArguments: ["-OTimeout.starttls=3s", "-OTimeout.quit=2s"],
             expects: ["Deferred: 454 4.7.0 TLS handshake failed."], certificates: true),
        // tls_rcpt on each recipient, over TLS and in clear: refused ones
        // are not named to the peer and fail (Data format error)
        Case(name: "xt-tls-rcpt", submitArguments: ["-f", "bin"],
             recipients: ["a@[127.0.0.13]", "x1@[127.0.0.13]", "x5@[127.0.0.13]", "x1@[127.0.0.2]", "b@[127.0.0.2]",
                          "x5@[127.0.0.4]"],
             // (three sessions cached: which of two goes for the third
             // depends on whether their uses fell in one second)
             runArguments: ["-OConnectionCacheSize=3"],
             expects: ["x1 refused FAIL", "x1 refused NONE", "x5@[127.0.0.13]... x5 refused", "Data format error"],
             certificates: true, cfEdits: [refusingTLSRcpt]),
    ]

    @Test("domains sharing their MX host in one transaction, as sendmail groups them", arguments: grouping)
    func sharedMX(_ c: Case) throws {
        let (cf, d) = try OutboundRoutingTests.prepare(c.name, mc: "routing.mc")
        try OutboundTests.check(c, cf: cf, dir: d, dns: Self.zone)
    }

    @Test("TLSFallbacktoClear, a handshake that hangs, tls_rcpt", arguments: tlsCases)
    func tls(_ c: Case) throws {
        try OutboundTests().outbound(c)
    }

    @Test("DELIVERBY, EightBitMode=s and DefaultAuthInfo in a queue run, as sendmail's", arguments: cases)
    func extras(_ c: Case) throws {
        try OutboundTests().outbound(c)
    }
}
