// SMQueueFormatTests/QueueFileCodecTests.swift
//
// The qf codec: every golden file written by sendmail 8.17 reads and
// writes back to identical bytes (whole, and fed in any chunking); the
// writer's output for constructed models; reader errors with sendmail's
// texts; garbage and truncated input give errors, never a crash.

import Testing
import SMBase
@testable import SMQueueFormat

@Suite struct QueueFileCodecTests {
    @Test(arguments: Golden.all)
    func roundTrip(_ g: Golden) throws {
        let qf = try QueueFileReader.decode(g.bytes)
        expectSameBytes(QueueFileWriter.encode(qf), g.bytes, g.name)
    }

    /// A C line holds until the next one; a bare C ends it.
    @Test func effectiveControllingUsers() {
        var qf = QueueFile()
        qf.recipients = ["a", "b", "c", "d", "e"].map { QueueFile.Recipient(address: Array($0.utf8)) }
        let list = QueueFile.ControllingUser(raw: Array(":<list@vm.example.test>".utf8))
        let bin = QueueFile.ControllingUser(raw: Array("bin:2:2:<x>".utf8))
        qf.recipients[1].controlLine = .user(list)
        qf.recipients[3].controlLine = .reset
        qf.recipients[4].controlLine = .user(bin)
        #expect(qf.effectiveControllingUsers == [nil, list, list, nil, bin])
    }

    @Test(arguments: Golden.all)
    func dripFeed(_ g: Golden) throws {
        let whole = try QueueFileReader.decode(g.bytes)
        for size in [1, 2, 3, 7, 64] {
            var r = QueueFileReader()
            var i = 0
            while i < g.bytes.count {
                try r.feed(Array(g.bytes[i..<min(i + size, g.bytes.count)]))
                i += size
            }
            #expect(try r.finish() == whole, "chunk size \(size)")
        }
    }

    @Test func goldenContents() throws {
        let smtp = try #require(Golden.all.first { g in g.bytes.string.contains("Zenv-123") })
        let qf = try QueueFileReader.decode(smtp.bytes)
        #expect(qf.sender.string == "<sender@client.example>")
        #expect(qf.envelopeID?.string == "env-123")
        #expect(qf.flags == [.has8Bit, .retParameter, .noBodyReturn, .split])
        #expect(qf.bodyType?.string == "8BITMIME")
        #expect(qf.macro("r")?.string == "ESMTP")
        #expect(qf.macro("daemon_flags")?.string == "c u")
        #expect(qf.deliverBy?.time == 86400)
        #expect(qf.recipients.count == 2)
        #expect(qf.recipients[0].originalRecipient?.string == "rfc822;root@vm.example.test")
        #expect(qf.recipients[0].flags == [.primary, .hasNotify, .notifySuccess, .notifyFailure])
        let c = qf.recipients[1].controlLine
        #expect(c == .user(.init(raw: Array("daemon:1:1:<list@vm.example.test>".utf8))))
        if case .user(let u)? = c {
            #expect(u.user?.string == "daemon" && u.uid == 1 && u.gid == 1 && u.alias.string == "<list@vm.example.test>")
        }
        #expect(qf.recipients[1].flags.contains(.alias))
        #expect(qf.headers.first?.condition?.string == "P")
        #expect(qf.headers.first?.value == Array(" <".utf8) + [0x81, 0x67, 0x3E])
        let received = try #require(qf.headers.first { $0.name.string == "Received" })
        #expect(received.value.contains(0x0A))   // folding kept
        let held = try #require(Golden.all.first { $0.name.hasPrefix("hf") })
        let h = try QueueFileReader.decode(held.bytes)
        #expect(h.quarantineReason?.string == "held for review")
        #expect(h.quarantineLinePlacement == .beforeSender)
    }

    static func constructed() -> QueueFile {
        var qf = QueueFile()
        qf.creationTime = 1_796_003_188
        qf.lastAttempt = 1_796_003_189
        qf.attempts = 1
        qf.priority = 120_021
        qf.dataInode = .init(major: 254, minor: 0, inode: 5_359_692)
        qf.bodyType = Array("7BIT".utf8)
        qf.quarantineReason = Array("spam\nscore".utf8)
        qf.message = Array("Deferred: Connection refused by [127.0.0.1]".utf8)
        qf.flags = [.split, .warningSent, .deleteBcc, .smtputf8]
        qf.macros = [.init(name: Array("_".utf8), value: Array("root@localhost".utf8)),
                     .init(name: Array("r".utf8), value: []),
                     .init(name: Array("daemon_flags".utf8), value: Array("c u".utf8))]
        qf.sender = Array("<a@b.example>".utf8)
        qf.envelopeID = Array("id+2B1".utf8)
        qf.authParameter = Array("a@b.example".utf8)
        qf.deliverBy = .init(flag: 0x52, time: 3600)
        var r1 = QueueFile.Recipient(address: Array("<x@y.example>".utf8), flags: [.primary, .notifyDelay, .hasNotify])
        r1.message = Array("450 try later".utf8)
        r1.originalRecipient = Array("rfc822;x@y.example".utf8)
        r1.finalRecipient = Array("RFC822; x@y.example".utf8)
        var r2 = QueueFile.Recipient(address: Array("joe".utf8), flags: [.alias, .bcc])
        r2.controlLine = .user(.init(user: Array("joe".utf8), uid: 1000, gid: 100, alias: Array(":include:/l".utf8)))
        var r3 = QueueFile.Recipient(address: Array("root".utf8))
        r3.controlLine = .reset
        qf.recipients = [r1, r2, r3]
        qf.headers = [.init(condition: Array("P".utf8), name: Array("Return-Path".utf8), value: Array(" <".utf8) + [0x81, 0x67, 0x3E]),
                      .init(condition: Array("${auth_type}".utf8), name: Array("X-Auth".utf8), value: Array(" yes".utf8)),
                      .init(condition: [], name: Array("Subject".utf8), value: Array(" one\n\ttwo\nthree".utf8))]
        return qf
    }

    @Test func writerLayout() throws {
        let out = QueueFileWriter.encode(Self.constructed())
        let expected = """
        V8
        T1796003188
        K1796003189
        N1
        P120021
        I254/0/5359692
        B7BIT
        qspam score
        MDeferred: Connection refused by [127.0.0.1]
        Fwbse
        $_root@localhost
        $r
        ${daemon_flags}c u
        S<a@b.example>
        Zid+2B1
        Aa@b.example
        !R 3600
        M450 try later
        Qrfc822;x@y.example
        rRFC822; x@y.example
        RPND:<x@y.example>
        Cjoe:1000:100::include:/l
        RBA:joe
        C
        RP:root
        H?P?Return-Path: <\u{81}g>
        H?${auth_type}?X-Auth: yes
        H??Subject: one
        \ttwo three
        .

        """.latin1Bytes
        expectSameBytes(out, expected, "constructed qf")
        // What the writer produced reads back to the same bytes.
        expectSameBytes(QueueFileWriter.encode(try QueueFileReader.decode(out)), out, "re-read")
        var moved = Self.constructed()
        moved.quarantineLinePlacement = .beforeSender
        let m = QueueFileWriter.encode(moved).string
        #expect(m.contains("${daemon_flags}c u\nqspam score\nS<a@b.example>\n"))
        #expect(QueueFile.ControllingUser(user: Array("root".utf8), uid: 0, gid: 0, alias: Array("x".utf8)).raw.string == ":x")
    }

    static let errorCases: [(String, QueueFileError)] = [
        ("V8\nT1\nX bogus\n.\n", .badLine(lineNumber: 3, line: Array("X bogus".utf8))),
        ("V8\nH??Subject: a\n\tb\n\nS<>\n.\n", .badLine(lineNumber: 4, line: [])),
        ("V9\n.\n", .unsupportedVersion(9)),
        ("V8\nS<>\n.\nH??X: y\n", .bogusData(line: Array("H??X: y".utf8))),
        ("V8\nFrom evil\n.\n", .bogusFromLine(line: Array("From evil".utf8))),
        ("V8\nAa=b\n.\n", .bogusData(line: Array("Aa=b".utf8))),
        ("V8\nA+4\n.\n", .bogusData(line: Array("A+4".utf8))),
        ("V8\nBBINARY\n.\n", .bogusData(line: Array("BBINARY".utf8))),
        ("V8\nT1\nSa\n", .incomplete),
        ("", .empty),
        ("V8", .empty),
    ]

    @Test(arguments: errorCases)
    func readerErrors(_ input: String, _ expected: QueueFileError) {
        #expect(throws: expected) { try QueueFileReader.decode(input.latin1Bytes) }
    }

    @Test func errorTexts() {
        let qf = Array("qf6AU1kR6Q016114".utf8)
        #expect(QueueFileError.badLine(lineNumber: 3, line: Array("X bogus".utf8)).message(fileName: qf).string
                == "readqf: qf6AU1kR6Q016114: line 3: bad line \"X bogus\"")
        let long = [UInt8](repeating: 0x61, count: 150) + [UInt8](repeating: 0x62, count: 150)
        let msg = QueueFileError.badLine(lineNumber: 1, line: long).message(fileName: qf).string
        #expect(msg.contains(String(repeating: "a", count: 100) + "..." + String(repeating: "b", count: 100) + "\""))
        #expect(QueueFileError.unsupportedVersion(9).message(fileName: qf).string
                == "Version number in queue file (9) greater than max (8)")
        #expect(QueueFileError.incomplete.message(fileName: qf).string == "readqf: qf6AU1kR6Q016114: incomplete queue file read")
        #expect(QueueFileError.badLine(lineNumber: 1, line: []).loseReason == "unrecognized line")
        #expect(QueueFileError.bogusData(line: []).loseReason == "bogus queue line")
    }

    @Test func tolerantLines() throws {
        // CR LF is read as LF; D E L are obsolete and ignored; an R line
        // without a colon is dropped; `$` with nothing after it is ignored.
        let qf = try QueueFileReader.decode("V8\r\nDdfX\nE\nLcontent\n$\nSa\nRP\nRP:b\n.\r\n".latin1Bytes)
        #expect(qf.sender.string == "a")
        #expect(qf.recipients.map { $0.address.string } == ["b"])
        #expect(qf.macros.isEmpty)
    }

    /// Truncations of every golden file, and seeded random garbage, give
    /// a model or an error -- never a trap.
    @Test func truncatedAndGarbage() {
        for g in Golden.all {
            for n in stride(from: 0, to: g.bytes.count, by: 5) {
                do {
                    _ = try QueueFileReader.decode(Array(g.bytes[..<n]))
                    Issue.record("\(g.name) cut at \(n) was accepted")
                } catch {}
            }
        }
        var seed: UInt64 = 0x5EED
        func next() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed >> 33 }
        let alphabet = Array("VTKNPdIBqMFSZA!CQrRH.$DEL:?{}\n\t \r0123456789+=\u{81}".latin1Bytes)
        for _ in 0..<2000 {
            let len = Int(next() % 200)
            let bytes = (0..<len).map { _ in next() % 4 == 0 ? UInt8(truncatingIfNeeded: next()) : alphabet[Int(next() % UInt64(alphabet.count))] }
            if let qf = try? QueueFileReader.decode(bytes) {
                _ = QueueFileWriter.encode(qf)
            }
        }
    }
}
