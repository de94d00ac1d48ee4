// SMQueueFormatTests/MailqTests.swift
//
// mailq (-bp) output compared byte for byte with the real sendmail 8.17
// listing the same queue directory: the golden queue (plain, -v, and the
// quarantined entries with -qQ), an empty queue, and constructed cases
// (long and 8-bit senders, many recipients, deferred with an M line,
// quarantine, warnings, controlling users, a locked entry, too young).

import Foundation
import Testing
import SMBase
@testable import SMQueueFormat

#if canImport(Glibc)
import Glibc
#endif

@Suite struct MailqTests {
    func formatter(_ q: ScratchQueue, verbose: Bool = false) -> MailqFormatter {
        MailqFormatter(directory: q.directoryBytes, verbose: verbose)
    }

    @Test func emptyQueue() throws {
        let q = try ScratchQueue("empty")
        defer { q.remove() }
        guard let real = Oracle.mailq(q) else { return }
        expectSameBytes(formatter(q).format([]), real, "empty queue")
    }

    @Test(arguments: [false, true])
    func goldenQueue(verbose: Bool) throws {
        let q = try ScratchQueue("golden")
        defer { q.remove() }
        var entries: [MailqEntry] = []
        for g in Golden.all where g.name.hasPrefix("qf") {
            try q.add(id: g.id, qf: g.bytes, dfSize: g.dfSize)
            entries.append(MailqEntry(id: g.id, controlFile: g.bytes, dataFileSize: g.dfSize))
        }
        guard let real = Oracle.mailq(q, verbose ? ["-v"] : []) else { return }
        let ours = formatter(q, verbose: verbose).format(MailqFormatter.sortedByPriority(entries))
        expectSameBytes(ours, real, "golden queue\(verbose ? " -v" : "")")
    }

    @Test func quarantinedGolden() throws {
        let q = try ScratchQueue("held")
        defer { q.remove() }
        var entries: [MailqEntry] = []
        for g in Golden.all where g.name.hasPrefix("hf") {
            try q.add(kind: .quarantined, id: g.id, qf: g.bytes, dfSize: g.dfSize)
            // Through the model this time: decode, then list.
            entries.append(MailqEntry(id: g.id, file: try QueueFileReader.decode(g.bytes), dataFileSize: g.dfSize))
        }
        guard let real = Oracle.mailq(q, ["-qQ"]) else { return }
        expectSameBytes(formatter(q).format(MailqFormatter.sortedByPriority(entries)), real, "quarantined queue")
    }

    /// Constructed entries with distinct priorities (sendmail's sort order).
    /// Every entry has a df file: for one without, sendmail re-reads the qf
    /// with readqf() and its address-parsing complaints land on stdout --
    /// not part of the listing (the formatter prints "-1"; see
    /// formatterDetails).
    static func constructedEntries() -> [(id: String, file: QueueFile, df: Int64)] {
        let base: Int64 = 1_796_003_187
        func make(_ pri: Int64, sender: [UInt8], rcpts: [String], _ edit: (inout QueueFile) -> Void = { _ in }) -> QueueFile {
            var f = QueueFile()
            f.creationTime = base + pri % 1000
            f.priority = pri
            f.sender = sender
            f.flags = [.split]
            f.recipients = rcpts.map { QueueFile.Recipient(address: Array($0.utf8), flags: [.primary, .notifyFailure]) }
            f.headers = [.init(condition: Array("P".utf8), name: Array("Return-Path".utf8), value: Array(" <".utf8) + [0x81, 0x67, 0x3E])]
            edit(&f)
            return f
        }
        let longSender = Array("<a.very.long.sender.address.that.goes.past.forty@example.example>".utf8)
        let oddSender = Array("<back\\slash.caf".utf8) + [0xE9] + Array("\u{1}@example.com>".utf8)
        return [
            ("6AU1kR0A000101", make(30_100, sender: longSender, rcpts: ["<r@x.example>"]), 120),
            ("6AU1kR0B000102", make(30_200, sender: oddSender, rcpts: ["<\\odd" + "\u{e9}" + "@x.example>"]), 0),
            ("6AU1kR0C000103", make(30_300, sender: Array("<many@x.example>".utf8),
                                    rcpts: (1...25).map { "<recipient-number-\($0)-with-a-long-name@far.example>" }), 99_999_999),
            ("6AU1kR0D000104", make(30_400, sender: Array("MAILER-DAEMON".utf8), rcpts: ["root"]) { f in
                f.attempts = 3; f.lastAttempt = 1_796_000_000
                f.message = Array("Deferred: Connection timed out with mx.far.example. This message is longer than sixty characters.".utf8)
                f.bodyType = Array("8BITMIME".utf8)
                f.flags = [.warningSent, .response]
                f.recipients[0].message = Array("Deferred: 451 4.3.0 per-recipient text".utf8)
            }, 5),
            ("6AU1kR0E000105", make(30_500, sender: Array("<q@x.example>".utf8), rcpts: ["a", "b"]) { f in
                f.quarantineReason = Array("Held by policy: matched rule 42 with a reason that is long enough to be cut in the listing".utf8)
            }, 7),
            ("6AU1kR0F000106", make(30_600, sender: Array("<c@x.example>".utf8), rcpts: ["joe", "ann"]) { f in
                f.recipients[0].controlLine = .user(.init(user: Array("nobody".utf8), uid: 65534, gid: 65534, alias: Array(":include:/etc/mail/list".utf8)))
                f.recipients[1].controlLine = .reset
                f.bodyType = Array("7BIT".utf8)
            }, 0),
        ]
    }

    @Test(arguments: [false, true])
    func constructedQueue(verbose: Bool) throws {
        let q = try ScratchQueue("built")
        defer { q.remove() }
        var entries: [MailqEntry] = []
        for c in Self.constructedEntries() {
            let id = Array(c.id.utf8)
            let bytes = QueueFileWriter.encode(c.file)
            if c.file.quarantineReason != nil {
                try q.add(kind: .quarantined, id: id, qf: bytes, dfSize: c.df)
                continue
            }
            try q.add(id: id, qf: bytes, dfSize: c.df)
            entries.append(MailqEntry(id: id, file: c.file, dataFileSize: c.df))
        }
        guard let real = Oracle.mailq(q, verbose ? ["-v"] : []) else { return }
        expectSameBytes(formatter(q, verbose: verbose).format(MailqFormatter.sortedByPriority(entries)), real,
                        "constructed queue\(verbose ? " -v" : "")")
        // And the quarantined one, as -qQ lists it.
        let held = Self.constructedEntries().filter { $0.file.quarantineReason != nil }
            .map { MailqEntry(id: Array($0.id.utf8), file: $0.file, dataFileSize: $0.df) }
        guard let realQ = Oracle.mailq(q, ["-qQ"] + (verbose ? ["-v"] : [])) else { return }
        expectSameBytes(formatter(q, verbose: verbose).format(held), realQ, "constructed -qQ\(verbose ? " -v" : "")")
    }

    /// Status characters sendmail computes itself: `*` for an entry another
    /// process has locked, `-` for one tried less than MinQueueAge ago.
    @Test func lockedAndTooYoung() throws {
        let q = try ScratchQueue("status")
        defer { q.remove() }
        let now = Int64(Date().timeIntervalSince1970)
        var young = QueueFile()
        young.creationTime = now - 100; young.lastAttempt = now - 10; young.attempts = 1
        young.priority = 1000; young.sender = Array("<y@x.example>".utf8)
        young.recipients = [.init(address: Array("<r@x.example>".utf8))]
        var locked = young
        locked.priority = 2000; locked.attempts = 0; locked.lastAttempt = 0
        locked.sender = Array("<l@x.example>".utf8)
        let yid = Array("6AU1kR0G000107".utf8), lid = Array("6AU1kR0H000108".utf8)
        try q.add(id: yid, qf: QueueFileWriter.encode(young), dfSize: 3)
        try q.add(id: lid, qf: QueueFileWriter.encode(locked), dfSize: 4)
        let fd = open(q.queue.appendingPathComponent("qf6AU1kR0H000108").path, O_RDWR)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        guard let real = Oracle.mailq(q, ["-OMinQueueAge=1h"]) else { return }
        let ours = formatter(q).format([
            MailqEntry(id: yid, file: young, dataFileSize: 3, status: .tooYoung),
            MailqEntry(id: lid, file: locked, dataFileSize: 4, status: .locked),
        ])
        expectSameBytes(ours, real, "locked and too-young entries")
    }

    @Test func formatterDetails() {
        // prtstr: `\` doubled, control and 8-bit bytes as \ooo, 39 columns.
        #expect(Fmt.prtstr(Array("a\\b".utf8) + [0xE9, 0x01], 39).string == "a\\\\b\\351\\001")
        #expect(Fmt.prtstr([UInt8](repeating: 0x61, count: 50), 39).count == 39)
        #expect(Fmt.prtstr([UInt8](repeating: 0x61, count: 37) + [0xE9], 39).count == 37)
        // A missing control file and an entry without a T line.
        let f = MailqFormatter(directory: Array("/q".utf8))
        #expect(f.formatEntry(MailqEntry(id: Array("6AU1kR0A000101".utf8), controlFile: nil, dataFileSize: 0)).string
                == "6AU1kR0A000101 (job completed)\n")
        #expect(f.formatEntry(MailqEntry(id: Array("X".utf8), controlFile: Array("V8\nSa\n".utf8), dataFileSize: -1)).string
                == "            X       -1 Thu Jan  1 00:00 a (no control file)\n")
        let limited = MailqFormatter(directory: Array("/q".utf8), maxQueueRun: 1)
        #expect(limited.format([], requestCount: 3).string.hasPrefix("\t\t/q (3 requests, only 1 printed)\n"))
    }
}
