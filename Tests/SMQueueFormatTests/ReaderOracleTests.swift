// SMQueueFormatTests/ReaderOracleTests.swift
//
// Reader errors checked against the real sendmail: each broken control
// file is run with `sendmail -qI<id> -v`; sendmail must print exactly
// our `message(fileName: "./qf<id>")`, and must rename the file to Qf
// exactly when we give a `loseReason`.

import Foundation
import Testing
import SMBase
@testable import SMQueueFormat

@Suite struct ReaderOracleTests {
    static let cases: [String] = [
        "V8\nT1\nSroot\nX bogus\n.\n",
        "V8\nT1\nSroot\nH??Subject: a\n\tb\n\n.\n",
        "V9\nT1\nSroot\n.\n",
        "V8\nT1\nSroot\n.\nH??X: y\n",
        "V8\nT1\nFrom evil\nSroot\n.\n",
        "V8\nT1\nAa=b\nSroot\n.\n",
        "V8\nT1\nB8BITMIMEX\nSroot\n.\n",
        "V8\nT1\nSroot\n",
    ]

    @Test(arguments: cases)
    func sameErrorAsSendmail(_ text: String) throws {
        let bytes = text.latin1Bytes
        let expected: QueueFileError
        do {
            _ = try QueueFileReader.decode(bytes)
            Issue.record("our reader accepted a broken file")
            return
        } catch {
            expected = error
        }
        let q = try ScratchQueue("readerr")
        defer { q.remove() }
        let id = Array("6AU1kR0A000101".utf8)
        try q.add(id: id, qf: bytes, dfSize: 3)
        guard let out = Oracle.run(["-C", q.cf.path, "-qI" + id.string, "-v"]) else { return }
        let message = expected.message(fileName: Array("./".utf8) + QueueFileKind.control.fileName(for: id))
        let lines = out.split(separator: 0x0A).map(Array.init)
        #expect(lines.contains(message), "sendmail printed:\n\(out.string)\nwe expected the line:\n\(message.string)")
        let lost = FileManager.default.fileExists(atPath: q.queue.appendingPathComponent("Qf" + id.string).path)
        #expect(lost == (expected.loseReason != nil), "Qf file: sendmail \(lost), ours \(expected.loseReason ?? "keep")")
    }
}

/// Our writer's files handed to sendmail's quarantine command (-Q), which
/// copies them line by line and inserts the q line before S: the result
/// must be exactly our model with the reason set and placed before S --
/// and unquarantining (a bare -Q with -qQ) must give our original bytes back.
@Suite struct QuarantineOracleTests {
    @Test func quarantineRoundTrip() throws {
        var model = QueueFileCodecTests.constructed()
        model.quarantineReason = nil
        let q = try ScratchQueue("quar")
        defer { q.remove() }
        let id = Array("6AU1kR0Q000111".utf8)
        let original = QueueFileWriter.encode(model)
        try q.add(id: id, qf: original, dfSize: 3)
        guard Oracle.run(["-C", q.cf.path, "-qI" + id.string, "-Qheld by test"]) != nil else { return }
        let hfURL = q.queue.appendingPathComponent("hf" + id.string)
        let hf = [UInt8]((try? Data(contentsOf: hfURL)) ?? Data())
        #expect(!hf.isEmpty, "sendmail -Q made no hf file")
        var expected = model
        expected.quarantine(Array("held by test".utf8))
        expectSameBytes(QueueFileWriter.encode(expected), hf, "quarantined by sendmail")
        expectSameBytes(QueueFileWriter.encode(try QueueFileReader.decode(hf)), hf, "hf round trip")
        guard Oracle.run(["-C", q.cf.path, "-qQ", "-qI" + id.string, "-Q"]) != nil else { return }
        expected.quarantine(nil)
        expectSameBytes(QueueFileWriter.encode(expected), original, "our unquarantine")
        let back = [UInt8]((try? Data(contentsOf: q.queue.appendingPathComponent("qf" + id.string))) ?? Data())
        expectSameBytes(back, original, "unquarantined by sendmail")
    }
}
