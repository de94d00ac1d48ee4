// SMQueueFormatTests/QueueIDTests.swift
//
// Queue IDs: generation from (time, sequence, pid), parsing back, the
// per-process generator, and agreement with IDs the real sendmail chose
// (the golden file names against their T lines).

import Testing
import SMBase
@testable import SMQueueFormat

@Suite struct QueueIDTests {
    @Test func referenceExample() {
        let t = CivilTime.unixTime(year: 2026, month: 10, day: 30, hour: 0, minute: 18, second: 1)
        let id = QueueID.make(time: t, sequence: 27 * 60 + 53, pid: 19452)
        #expect(id.bytes.string == "6AU0I1Rr019452")
    }

    @Test(arguments: [
        (Int64(0), 0, 1, "A0100000000001"),                    // 1970-01-01 00:00:00
        (Int64(946_684_799), 3599, 999_999, "dBVNxxxx999999"), // 1999-12-31 23:59:59
        (Int64(951_782_400), 60, 7, "e1T00010000007"),         // 2000-02-29
        (Int64(1_796_003_187), 6 * 60 + 16, 16114, "6AU1kR6G016114"),
        (Int64(4_102_444_800), 1, 1_234_567, "K01000011234567"), // 2100-01-01, 7-digit pid
    ])
    func make(time: Int64, seq: Int, pid: Int, expected: String) throws {
        let id = QueueID.make(time: time, sequence: seq, pid: pid)
        #expect(id.bytes.string == expected)
        let back = try #require(QueueID.parse(id.bytes))
        #expect(back.sequence == seq % 3600)
        #expect(back.pid == pid)
        let tm = CivilTime(unixTime: time)
        #expect(back.time(near: tm.year) == time)
    }

    @Test(arguments: ["", "6AU0I1Rr01945", "6AU0I1Rr01945x", "6CU0I1Rr019452", "6A00I1Rr019452",
                      "6AUOI1Rr0194520000000", "6AU0I1R!019452", "zAU0I1Rr019452", "6AU0I1zz019452"])
    func parseRejects(_ s: String) {
        #expect(QueueID.parse(s) == nil)
    }

    @Test func generatorSequence() throws {
        var g = QueueIDGenerator(randomOffset: 3598)
        let a0 = g.next(now: 1_796_003_187, pid: 42)
        let b0 = g.next(now: 1_796_003_187, pid: 42)
        let c0 = g.next(now: 1_796_003_190, pid: 42)
        let a = try #require(a0), b = try #require(b0), c = try #require(c0)
        #expect(a.sequence == 3598)
        #expect(b.sequence == 3599)
        #expect(c.sequence == 0)                       // wraps mod 3600, keeps base time
        #expect(c.bytes.string.hasPrefix("6AU1kR"))    // base time taken at the first ID
        // After 3600 IDs in the same second, sendmail waits for the clock.
        var h = QueueIDGenerator(randomOffset: 0)
        for _ in 0..<3600 { _ = h.next(now: 100, pid: 1) }
        #expect(h.next(now: 100, pid: 1) == nil)
        #expect(h.next(now: 101, pid: 1) != nil)
        // A new pid (a forked child) takes a new base.
        #expect(h.next(now: 101, pid: 2)?.pid == 2)
    }

    /// The real sendmail named each golden file from its creation time.
    @Test(arguments: Golden.all)
    func goldenNamesMatchAlgorithm(_ g: Golden) throws {
        let id = try #require(QueueID.parse(g.id), "\(g.name) is not an ID")
        let qf = try QueueFileReader.decode(g.bytes)
        let remade = QueueID.make(time: qf.creationTime, sequence: id.sequence, pid: id.pid)
        #expect(remade.bytes == g.id)
    }

    @Test func fileNames() {
        let id = Array("6AU1kR6Q016114".utf8)
        #expect(QueueFileKind.allCases.map { $0.fileName(for: id).string } ==
                ["qf6AU1kR6Q016114", "df6AU1kR6Q016114", "tf6AU1kR6Q016114",
                 "xf6AU1kR6Q016114", "hf6AU1kR6Q016114", "Qf6AU1kR6Q016114"])
        #expect(QueueFileKind.data.relativePath(for: id, useSubdirectory: true).string == "df/df6AU1kR6Q016114")
        #expect(QueueFileKind.quarantined.relativePath(for: id, useSubdirectory: true).string == "qf/hf6AU1kR6Q016114")
        #expect(QueueFileKind.transcript.path(in: Array("/var/spool/mqueue".utf8), id: id, useSubdirectory: true).string
                == "/var/spool/mqueue/xf/xf6AU1kR6Q016114")
        #expect(QueueFileKind.lost.path(in: Array("/q".utf8), id: id, useSubdirectory: false).string == "/q/Qf6AU1kR6Q016114")
        let p = QueueFileKind.parse(fileName: Array("hf6AU1kR6Q016114".utf8))
        #expect(p?.kind == .quarantined && p?.id == id)
        #expect(QueueFileKind.parse(fileName: Array("zf123".utf8)) == nil)
        #expect(QueueFileKind.parse(fileName: Array("qx123".utf8)) == nil)
    }

    @Test func ctime() {
        #expect(CivilTime(unixTime: 1_796_003_187).ctime.string == "Mon Nov 30 01:46:27 2026\n")
        #expect(CivilTime(unixTime: 0).ctime.string == "Thu Jan  1 00:00:00 1970\n")
        #expect(CivilTime(unixTime: -1).ctime.string == "Wed Dec 31 23:59:59 1969\n")
        #expect(CivilTime(unixTime: 1_796_003_187, utcOffset: 3600).ctime.string == "Mon Nov 30 02:46:27 2026\n")
    }
}
