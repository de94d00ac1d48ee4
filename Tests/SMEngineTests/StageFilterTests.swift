// StageFilterTests.swift — the content-filter hook of the SMTP server
// (SMTPServer+Filter.swift): the stages a filter sees, in protocol order;
// validate -> filter -> commit (a policy refusal never reaches the
// filter; a filter's refusal is the client's reply and nothing is
// committed); discard; abort and close.

import Foundation
import Glibc
import Testing
import SMEngine
import SMRules
import SMSMTP

/// Records every stage; refuses (or discards) at the one it is told.
final class RecordingFilter: SMTPStageFilter {
    var seen: [String] = []
    var rejectAt: String? = nil
    var discardAt: String? = nil
    let reply = SMTPReply(550, "5.7.1", "Refused by the filter")

    func verdict(_ stage: String) -> StageVerdict {
        seen.append(stage)
        if stage == rejectAt { return .reject(reply) }
        if stage == discardAt { return .discard }
        return .proceed
    }
    func connect(hostName: [UInt8], address: [UInt8], port: Int) -> StageVerdict {
        verdict("connect \(String(decoding: address, as: UTF8.self)):\(port)")
    }
    func helo(_ domain: [UInt8]) -> StageVerdict { verdict("helo \(String(decoding: domain, as: UTF8.self))") }
    func mail(_ sender: [UInt8], parameters: [[UInt8]]) -> StageVerdict {
        verdict("mail " + ([sender] + parameters).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " "))
    }
    func rcpt(_ recipient: [UInt8], parameters: [[UInt8]]) -> StageVerdict {
        verdict("rcpt \(String(decoding: recipient, as: UTF8.self))")
    }
    func data() -> StageVerdict { verdict("data") }
    func header(name: [UInt8], value: [UInt8]) -> StageVerdict { verdict("header \(String(decoding: name, as: UTF8.self))") }
    func endOfHeaders() -> StageVerdict { verdict("eoh") }
    func body(_ chunk: [UInt8]) -> StageVerdict { verdict("body \(chunk.count)") }
    func endOfMessage() -> StageVerdict { verdict("eom") }
    func abort() { seen.append("abort") }
    func close() { seen.append("close") }
}

@Suite("SMTP server: the content-filter hook at each stage")
struct StageFilterTests {
    static let cf = """
        V10/Berkeley
        DZ8.17.1.9
        Djmx.example.test
        O QueueDirectory=@QUEUE@
        O DontProbeInterfaces=true
        O DeliveryMode=q
        Mlocal, P=/bin/true, F=lsDFM, A=true $u
        S3
        R$* < $* > $*	$2
        S0
        R$*	$#local $: $1
        Scheck_rcpt
        Rpolicy-refused	$#error $@ 5.7.1 $: "550 refused by check_rcpt"
        R<policy-refused>	$#error $@ 5.7.1 $: "550 refused by check_rcpt"

        """

    /// A session on a fresh queue directory (the caller removes it), its
    /// filter already in place (as the daemon injects it before the
    /// connection opens).
    func session(_ filter: RecordingFilter) throws -> (SMTPServer, URL, [UInt8]) {
        let q = FileManager.default.temporaryDirectory.appendingPathComponent("stage-filter-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: q, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let text = Self.cf.replacingOccurrences(of: "@QUEUE@", with: q.path)
        let engine = Engine(options: StartOptions(configFile: "filter.cf"), cfData: Array(text.utf8), out: OutputBuffer())
        engine.logSink = nil
        let info = ConnectionInfo(clientAddress: Array("192.0.2.7".utf8), clientPort: 40000, clientName: Array("[192.0.2.7]".utf8),
                                  clientResolve: Array("FAIL".utf8), daemonName: Array("MTA".utf8),
                                  daemonAddress: Array("127.0.0.1".utf8), daemonPort: 25, daemonFamily: Array("inet".utf8),
                                  daemonFlags: Array("c u".utf8), interfaceName: Array("lo".utf8), interfaceAddress: nil,
                                  interfaceFamily: nil)
        let server = SMTPServer(engine: engine, connection: info)
        server.filter = filter
        let (greeting, _) = server.open()
        return (server, q, greeting)
    }

    func say(_ s: SMTPServer, _ lines: [String]) -> [String] {
        // (lines as they come off the wire, CR kept)
        lines.map { String(decoding: s.handle(Array($0.utf8) + [0x0D]).reply, as: UTF8.self) }
    }

    func queued(_ q: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: q.path)) ?? []).filter { $0.hasPrefix("qf") }
    }

    static let transaction = ["EHLO client.example", "MAIL FROM:<a@client.example> BODY=8BITMIME", "RCPT TO:<root>",
                              "DATA", "Subject: hello", "X-Extra: 1", "", "body line", ".", "QUIT"]

    @Test("a filter that accepts sees every stage in protocol order; the message is queued")
    func order() throws {
        let f = RecordingFilter()
        let (s, q, greeting) = try session(f)
        defer { try? FileManager.default.removeItem(at: q) }
        #expect(String(decoding: greeting, as: UTF8.self).hasPrefix("220 mx.example.test ESMTP"))
        let replies = say(s, Self.transaction)
        #expect(replies[8].hasPrefix("250 2.0.0 ") && replies[8].contains("Message accepted for delivery"), "\(replies)")
        #expect(f.seen == ["connect 192.0.2.7:40000", "helo client.example", "mail <a@client.example> BODY=8BITMIME",
                           "rcpt <root>", "data", "header Subject", "header X-Extra", "eoh", "body 10", "eom", "close"])
        #expect(queued(q).count == 1)
    }

    @Test("the filter's refusal at each stage is the client's reply, and that stage is not committed",
          arguments: ["helo client.example", "mail <a@client.example> BODY=8BITMIME", "rcpt <root>", "data",
                      "header Subject", "eoh", "body 10", "eom"])
    func rejectReachesClient(_ stage: String) throws {
        let f = RecordingFilter()
        f.rejectAt = stage
        let (s, q, _) = try session(f)
        defer { try? FileManager.default.removeItem(at: q) }
        let replies = say(s, Self.transaction)
        let index = ["helo client.example": 0, "mail <a@client.example> BODY=8BITMIME": 1, "rcpt <root>": 2, "data": 3][stage] ?? 8
        #expect(replies[index] == "550 5.7.1 Refused by the filter\r\n", "\(stage): \(replies)")
        #expect(f.seen.last == "close")
        // a transaction whose MAIL was committed is aborted
        #expect(f.seen.contains("abort") == (index >= 2), "\(stage): \(f.seen)")
        if index == 0 {
            // a refused HELO: the client may go on, its message is queued
            #expect(replies[1].hasPrefix("250 2.1.0") && queued(q).count == 1, "\(replies)")
        } else {
            #expect(queued(q).isEmpty, "\(stage): a message was queued")
        }
    }

    @Test("validate first: a recipient check_rcpt refuses never reaches the filter")
    func validateBeforeFilter() throws {
        let f = RecordingFilter()
        let (s, q, _) = try session(f)
        defer { try? FileManager.default.removeItem(at: q) }
        let replies = say(s, ["EHLO c.example", "MAIL FROM:<a@c.example>", "RCPT TO:<policy-refused>", "QUIT"])
        #expect(replies[2] == "550 5.7.1 <policy-refused>... refused by check_rcpt\r\n", "\(replies)")
        #expect(!f.seen.contains { $0.hasPrefix("rcpt") }, "\(f.seen)")
        #expect(f.seen == ["connect 192.0.2.7:40000", "helo c.example", "mail <a@c.example>", "abort", "close"])
    }

    @Test("discard: the client gets the usual 250, nothing is queued")
    func discard() throws {
        let f = RecordingFilter()
        f.discardAt = "rcpt <root>"
        let (s, q, _) = try session(f)
        defer { try? FileManager.default.removeItem(at: q) }
        let replies = say(s, Self.transaction)
        #expect(replies[2].hasPrefix("250 2.1.5"), "\(replies)")
        #expect(replies[8].contains("Message accepted for delivery"), "\(replies)")
        #expect(queued(q).isEmpty)
    }

    @Test("a refusal at connect: sendmail's 554 greeting, then the null server")
    func connectRefused() throws {
        let f = RecordingFilter()
        f.rejectAt = "connect 192.0.2.7:40000"
        let (s, q, greeting) = try session(f)
        defer { try? FileManager.default.removeItem(at: q) }
        #expect(String(decoding: greeting, as: UTF8.self) == "554 mx.example.test ESMTP not accepting messages\r\n")
        let replies = say(s, ["MAIL FROM:<a@c.example>", "QUIT"])
        #expect(replies[0] == "550 5.0.0 Command rejected\r\n", "\(replies)")
        #expect(f.seen == ["connect 192.0.2.7:40000", "close"])
    }
}
