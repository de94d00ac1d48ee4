// SMDSNTests/DeliveryReportTests.swift
//
// Golden tests of the delivery-status report body against bounces the real
// sendmail 8.17 wrote (Tests/Fixtures/dsn, made by record.sh there): the
// values that depend on the run (boundary, dates, transcript) are read from
// the recorded bounce, everything else is built by DeliveryReport, and the
// whole body must be byte-identical.
// Promises: hermetic (reads fixtures only).

import Foundation
import Testing
import SMBase
@testable import SMDSN

struct RecordedBounce {
    let header: [UInt8]
    let body: [UInt8]

    init(_ name: String) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/dsn/\(name)")
        let bytes = [UInt8](try Data(contentsOf: url))
        let sep = Array("\n\n".utf8)
        var i = 0
        while i + 1 < bytes.count, !(bytes[i] == sep[0] && bytes[i + 1] == sep[1]) { i += 1 }
        header = Array(bytes[..<(i + 1)])
        body = Array(bytes[(i + 2)...])
    }

    var text: String { body.string }

    func firstValue(after prefix: String, in s: String) -> String? {
        for line in s.split(separator: "\n", omittingEmptySubsequences: false) where line.hasPrefix(prefix) {
            return String(line.dropFirst(prefix.count))
        }
        return nil
    }

    var boundary: [UInt8] {
        let h = header.string
        let r = h.range(of: "boundary=\"")!
        let rest = h[r.upperBound...]
        return Array(rest[..<rest.firstIndex(of: "\"")!].utf8)
    }

    var arrival: [UInt8] { Array(firstValue(after: "The original message was received at ", in: text)!.utf8) }

    var lastAttempts: [[UInt8]] {
        text.split(separator: "\n").filter { $0.hasPrefix("Last-Attempt-Date: ") }
            .map { Array($0.dropFirst("Last-Attempt-Date: ".count).utf8) }
    }

    var transcript: [UInt8] {
        let start = text.range(of: "   ----- Transcript of session follows -----\n")!.upperBound
        let end = text.range(of: "\n--", range: start..<text.endIndex)!.lowerBound
        return Array(String(text[start..<end]).utf8)
    }
}

@Suite("delivery status reports as sendmail writes them")
struct DeliveryReportTests {
    func report(_ r: RecordedBounce, failed: [String], header: String, body: [UInt8]) -> DeliveryReport {
        let dates = r.lastAttempts
        let rcpts = failed.enumerated().map { i, name -> DeliveryReport.Recipient in
            var q = DeliveryReport.Recipient(printable: Array(name.utf8), outcome: .failed,
                                             finalRecipient: Array("rfc822; \(name)@vm.example.test".utf8),
                                             lastAttempt: dates[min(i, dates.count - 1)])
            q.status = Array("5.1.1".utf8)
            return q
        }
        var rep = DeliveryReport(boundary: r.boundary, arrivalDate: r.arrival, receivedFrom: Array("root@localhost".utf8),
                                 reportingMTA: Array("vm.example.test".utf8), recipients: rcpts,
                                 originalHeader: Array(header.utf8), originalBody: body)
        rep.transcript = r.transcript
        return rep
    }

    @Test func wholeMessageReturned() throws {
        let r = try RecordedBounce("bounce-full.txt")
        let rep = report(r, failed: ["failuser", "okuser"], header: "Subject: test\nFrom: root\n",
                         body: Array("hello\nworld\n".utf8))
        let got = rep.body()
        #expect(got.string == r.body.string)
    }

    @Test func headersOnlyWithRetHdrs() throws {
        let r = try RecordedBounce("bounce-hdrs.txt")
        var rep = report(r, failed: ["failuser", "okuser"], header: "Subject: test\nFrom: root\n",
                         body: Array("hello\nworld\n".utf8))
        rep.returnBody = false
        let got = rep.body()
        #expect(got.string == r.body.string)
    }

    @Test func eightBitOriginal() throws {
        let r = try RecordedBounce("bounce-8bit.txt")
        var rep = report(r, failed: ["failuser"], header: "Subject: caf\u{e9}\nFrom: root\n",
                         body: "caf\u{e9} au lait\n".latin1Bytes)
        rep.originalHeader = "Subject: caf\u{e9}\nFrom: root\n".latin1Bytes
        rep.returnedEncoding = Array("8bit".utf8)
        let got = rep.body()
        #expect(got.string == r.body.string)
    }

    @Test func warningBannerOnlyWithoutFailures() {
        var q = DeliveryReport.Recipient(printable: Array("a".utf8), outcome: .delayed,
                                         finalRecipient: Array("rfc822; a@h".utf8), lastAttempt: Array("D".utf8))
        q.willRetryUntil = Array("U".utf8)
        let rep = DeliveryReport(boundary: Array("B".utf8), arrivalDate: Array("D".utf8), receivedFrom: Array("x".utf8),
                                 reportingMTA: Array("h".utf8), recipients: [q], originalHeader: Array("S: s\n".utf8),
                                 originalBody: [])
        let s = rep.body().string
        #expect(s.contains("**      THIS IS A WARNING MESSAGE ONLY      **"))
        #expect(s.contains("   ----- The following addresses had transient non-fatal errors -----\na\n"))
        #expect(s.contains("Action: delayed\nStatus: 4.0.0\nLast-Attempt-Date: D\nWill-Retry-Until: U\n"))
        #expect(s.contains("   ----- Transcript of session is unavailable -----\n"))
    }
}
