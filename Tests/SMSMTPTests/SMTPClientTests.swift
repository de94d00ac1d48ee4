// SMTPClientTests.swift — the pure SMTP client (SMTPClient): reply
// assembly, EHLO keywords, the dialogue with and without PIPELINING,
// HELO fallback, DSN/SIZE/BODY parameters only when offered, per-recipient
// results, RSET after a transaction nobody accepted, LMTP's replies after
// the dot, and dot-stuffing.
// Promises: no I/O; the command texts are those sendmail 8.17 sends
// (compared against it in OracleTests/OutboundTests).

import SMBase
import SMSMTP
import Testing

@Suite("SMTP client state machine")
struct SMTPClientTests {
    /// Reply lines ("250-x", "250 y") as one reply.
    func reply(_ lines: String...) -> SMTPClientReply {
        var r = SMTPReplyReader()
        for l in lines.dropLast() { #expect(r.feed(b(l)) == nil, "\(l) ended the reply") }
        return r.feed(b(lines.last!))!
    }

    func sent(_ actions: [SMTPClient.Action]) -> [String] {
        actions.compactMap { if case .send(let c) = $0 { return String(decoding: c, as: UTF8.self) } else { return nil } }
    }

    let fullEHLO = ["250-peer hello", "250-ENHANCEDSTATUSCODES", "250-PIPELINING", "250-8BITMIME",
                    "250-SIZE 1000000", "250-DSN", "250 HELP"]

    func envelope(_ rcpts: [String]) -> SMTPClient.Envelope {
        var e = SMTPClient.Envelope(sender: b("joe@x.example"), size: 345,
                                    recipients: rcpts.map { SMTPClient.Recipient(address: b($0)) })
        e.bodyType = b("8BITMIME")
        e.envelopeID = b("env+2Bid")
        e.ret = b("HDRS")
        return e
    }

    @Test("STARTTLS: 220 hands the handshake to the caller, EHLO again forgets the clear offer; a 454 is handed back")
    func startTLS() {
        var c = SMTPClient(options: .init(heloName: b("vm.example.test")))
        _ = c.receive(reply("220 peer ESMTP"))
        #expect(c.receive(reply("250-peer", "250-STARTTLS", "250 PIPELINING")) == [.ready])
        #expect(c.extensions.startTLS && c.extensions.pipelining)
        #expect(sent(c.startTLS()) == ["STARTTLS"])
        #expect(c.awaiting == .startTLS)
        #expect(c.receive(reply("220 2.0.0 Ready to start TLS")) == [.tlsReady])
        #expect(sent(c.restartAfterTLS()) == ["EHLO vm.example.test"])
        #expect(!c.extensions.startTLS)
        #expect(c.receive(reply("250-peer", "250 AUTH PLAIN LOGIN")) == [.ready])
        #expect(c.extensions.auth == b("PLAIN LOGIN") && !c.extensions.startTLS)
        // the qf's AUTH= goes last, when AUTH is offered
        var e = envelope(["a@b"])
        e.authParameter = b("root@vm.example.test")
        #expect(sent(c.begin(e)) == ["MAIL From:<joe@x.example> AUTH=root@vm.example.test"])
        var d = SMTPClient(options: .init(heloName: b("h")))
        _ = d.startTLS()
        let r = reply("454 4.7.0 TLS not available")
        #expect(d.receive(r) == [.tlsRefused(r)])
    }

    @Test("AUTH: the initial response and answers base64-encoded, challenges decoded, 235 and 535 handed back")
    func auth() {
        var c = SMTPClient(options: .init(heloName: b("h")))
        #expect(sent(c.auth(b("PLAIN"), initialResponse: b("joe") + [0] + b("joe") + [0] + b("secret")))
                == ["AUTH PLAIN am9lAGpvZQBzZWNyZXQ="])
        #expect(c.receive(reply("235 2.0.0 OK")) == [.authenticated(reply("235 2.0.0 OK"))])
        #expect(sent(c.auth(b("LOGIN"), initialResponse: nil)) == ["AUTH LOGIN"])
        #expect(c.receive(reply("334 VXNlcm5hbWU6")) == [.authChallenge(b("Username:"))])
        #expect(sent(c.authResponse(b("joe"))) == ["am9l"])
        #expect(c.awaiting == .auth)
        #expect(c.receive(reply("535 5.7.8 no")) == [.authFailed(reply("535 5.7.8 no"))])
        for s in ["", "a", "ab", "abc", "abcd", "\u{0}\u{ff}"] {
            let bytes = Array(s.utf8)
            #expect(SMTPClient.base64Decode(SMTPClient.base64Encode(bytes)) == bytes)
        }
        #expect(SMTPClient.base64Decode(b("not base64!")) == nil)
    }

    @Test("multi-line replies, enhanced codes and the EHLO keyword list")
    func replies() {
        let r = reply("250-peer hello", "250-SIZE 2048", "250-dsn", "250 PIPELINING")
        #expect(r.code == 250 && r.lines.count == 4)
        let x = SMTPExtensions.parse(r)
        #expect(x.esmtp && x.size && x.maxSize == 2048 && x.dsn && x.pipelining && !x.eightBitMIME)
        let e = reply("550 5.1.1 <a@b>... User unknown")
        #expect(e.enhancedCode == b("5.1.1"))
        #expect(e.textWithoutEnhancedCode == b("<a@b>... User unknown"))
        #expect(reply("250 ok").enhancedCode == nil)
        #expect(reply("250 2.0.0x not a code").enhancedCode == nil)
        // a line that is no reply ends it with code 0
        #expect(reply("garbage").code == 0)
    }

    @Test("EHLO, then MAIL with SIZE/BODY/ENVID/RET, pipelined RCPTs with NOTIFY/ORCPT and DATA")
    func pipelined() {
        var c = SMTPClient(options: .init(heloName: b("vm.example.test"), tryExtended: true))
        #expect(c.awaiting == .greeting)
        #expect(sent(c.receive(reply("220 peer ready"))) == ["EHLO vm.example.test"])
        #expect(c.receive(reply(fullEHLO[0], fullEHLO[1], fullEHLO[2], fullEHLO[3], fullEHLO[4], fullEHLO[5], fullEHLO[6])) == [.ready])
        var e = envelope(["a@[127.0.0.2]", "r5@[127.0.0.2]"])
        e.recipients[0].notify = b("SUCCESS,FAILURE")
        e.recipients[0].orcpt = b("rfc822;a@x")
        #expect(sent(c.begin(e)) == ["MAIL From:<joe@x.example> SIZE=345 BODY=8BITMIME ENVID=env+2Bid RET=HDRS"])
        #expect(sent(c.receive(reply("250 2.1.0 ok"))) ==
                ["RCPT To:<a@[127.0.0.2]> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@x", "RCPT To:<r5@[127.0.0.2]>", "DATA"])
        #expect(c.awaiting == .rcpt(0))
        #expect(c.receive(reply("250 2.1.5 ok")) == [.recipient(0, reply("250 2.1.5 ok"))])
        #expect(c.receive(reply("550 5.1.1 no")) == [.recipient(1, reply("550 5.1.1 no"))])
        #expect(c.receive(reply("354 go")) == [.sendMessage])
        #expect(c.awaiting == .dataEnd)
        #expect(c.receive(reply("250 2.0.0 queued")) == [.messageDone(reply("250 2.0.0 queued")), .transactionDone])
        #expect(c.accepted == [0])
        #expect(sent(c.quit()) == ["QUIT"])
        #expect(c.receive(reply("221 bye")) == [.closed])
    }

    @Test("no ESMTP: a 5xx to EHLO falls back to HELO; no parameters, one RCPT at a time, RSET when none is accepted")
    func heloFallback() {
        var c = SMTPClient(options: .init(heloName: b("me.test")))
        // the greeting says ESMTP: EHLO even without F=a
        #expect(sent(c.receive(reply("220 peer ESMTP"))) == ["EHLO me.test"])
        #expect(sent(c.receive(reply("500 5.5.1 what?"))) == ["HELO me.test"])
        #expect(c.receive(reply("250 peer")) == [.ready])
        #expect(!c.extensions.esmtp && !c.extensions.dsn)
        #expect(c.peerHelloName == b("peer"))
        #expect(sent(c.begin(envelope(["r5a@h", "r5b@h"]))) == ["MAIL From:<joe@x.example>"])
        #expect(sent(c.receive(reply("250 ok"))) == ["RCPT To:<r5a@h>"])
        #expect(sent(c.receive(reply("550 no"))) == ["RCPT To:<r5b@h>"])
        #expect(sent(c.receive(reply("550 no"))) == ["RSET"])
        #expect(c.receive(reply("250 reset")) == [.transactionDone])
    }

    @Test("without ESMTP in the greeting or F=a: HELO at once")
    func heloOnly() {
        var c = SMTPClient(options: .init(heloName: b("me.test")))
        #expect(sent(c.receive(reply("220 peer ready"))) == ["HELO me.test"])
    }

    @Test("a refused greeting or HELO ends the session; a refused MAIL the transaction")
    func refusals() {
        var c = SMTPClient(options: .init(heloName: b("me.test"), tryExtended: true))
        #expect(c.receive(reply("421 4.3.2 busy")) == [.sessionFailed(reply("421 4.3.2 busy"))])
        var d = SMTPClient(options: .init(heloName: b("me.test"), tryExtended: true))
        _ = d.receive(reply("220 x"))
        #expect(d.receive(reply("421 closing")) == [.sessionFailed(reply("421 closing"))])
        var m = SMTPClient(options: .init(heloName: b("me.test"), tryExtended: true))
        _ = m.receive(reply("220 x"))
        _ = m.receive(reply("250 x"))
        _ = m.begin(envelope(["a@h"]))
        #expect(m.receive(reply("452 full")) == [.mailRefused(reply("452 full")), .transactionDone])
    }

    @Test("a refused DATA fails the accepted recipients and resets")
    func dataRefused() {
        var c = SMTPClient(options: .init(heloName: b("me.test"), tryExtended: true))
        _ = c.receive(reply("220 x"))
        _ = c.receive(reply("250 x"))
        _ = c.begin(envelope(["a@h"]))
        _ = c.receive(reply("250 ok"))
        _ = c.receive(reply("250 ok"))
        #expect(c.receive(reply("554 no")) == [.dataRefused(reply("554 no")), .send(b("RSET"))])
    }

    @Test("LMTP: LHLO, no HELO fallback, one reply per accepted recipient after the dot")
    func lmtp() {
        var c = SMTPClient(options: .init(heloName: b("me.test"), lmtp: true))
        #expect(sent(c.receive(reply("220 lmtp"))) == ["LHLO me.test"])
        #expect(c.receive(reply("250-x", "250 PIPELINING")) == [.ready])
        _ = c.begin(envelope(["a@h", "r5@h", "b@h"]))
        _ = c.receive(reply("250 ok"))
        _ = c.receive(reply("250 ok"))
        _ = c.receive(reply("550 no"))
        _ = c.receive(reply("250 ok"))
        #expect(c.receive(reply("354 go")) == [.sendMessage])
        #expect(c.receive(reply("250 a done")) == [.delivered(0, reply("250 a done"))])
        #expect(c.awaiting == .lmtpRecipient(2))
        #expect(c.receive(reply("452 b full")) == [.delivered(2, reply("452 b full")), .transactionDone])
        var d = SMTPClient(options: .init(heloName: b("me.test"), lmtp: true))
        _ = d.receive(reply("220 lmtp"))
        #expect(d.receive(reply("500 no")) == [.sessionFailed(reply("500 no"))])
    }

    @Test("dot-stuffing: leading dots doubled, LF made CR LF, a last line completed")
    func dots() {
        #expect(SMTPClient.dotStuffed(b(".a\nb\r\n..c\n.")) == b("..a\r\nb\r\n...c\r\n..\r\n"))
        #expect(SMTPClient.dotStuffed(b("x.y\n")) == b("x.y\r\n"))
        #expect(SMTPClient.dotStuffed([]) == [])
    }
}
