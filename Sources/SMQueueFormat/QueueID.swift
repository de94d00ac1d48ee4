// SMQueueFormat/QueueID.swift
//
// Sendmail's queue identifiers.  An ID is eight characters from the
// alphabet 0-9A-Za-z -- year ((year-1900) mod 60), month (0-11), day
// (1-31), hour, minute and second (mod 62) of the UTC time, then two
// base-60 sequence characters -- followed by the pid printed as %06d.  So
// pids of up to six digits give 14-character IDs.
// Promises: `make` is a pure function of (time, sequence, pid);
// `parse(make(...))` gives the fields back; `parse` never traps on any
// input and returns nil for bytes that are not an ID.  `QueueIDGenerator`
// reproduces sendmail's per-process sequence (random start, 3600 IDs per
// second and pid) without reading any clock itself.

import SMBase

/// A parsed or generated queue ID.
public struct QueueID: Sendable, Hashable, CustomStringConvertible {
    /// The 62 characters sendmail uses; base 60 for year and sequence.
    public static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    /// Sequence numbers run 0..<3600 (two base-60 digits).
    public static let sequenceLimit = 3600

    /// The ID as it appears in file names (`qf` + bytes).
    public let bytes: [UInt8]

    /// (year - 1900) mod 60.
    public let yearMod60: Int
    /// 0...11.
    public let month: Int
    public let day: Int
    public let hour: Int
    public let minute: Int
    public let second: Int
    /// 0..<3600.
    public let sequence: Int
    /// The pid digits' value.
    public let pid: Int

    public var description: String { bytes.string }

    /// Sendmail's ID for `time` (Unix seconds, broken down in UTC as
    /// sendmail uses gmtime), `sequence` (taken mod 3600) and `pid`.
    public static func make(time: Int64, sequence: Int, pid: Int) -> QueueID {
        let tm = CivilTime(unixTime: time)
        let seq = ((sequence % sequenceLimit) + sequenceLimit) % sequenceLimit
        var b: [UInt8] = []
        b.append(alphabet[((tm.year - 1900) % 60 + 60) % 60])
        b.append(alphabet[tm.month])
        b.append(alphabet[tm.day])
        b.append(alphabet[tm.hour])
        b.append(alphabet[tm.minute % 62])
        b.append(alphabet[tm.second % 62])
        b.append(alphabet[seq / 60])
        b.append(alphabet[seq % 60])
        var digits = Array(String(pid).utf8)
        if pid >= 0 { while digits.count < 6 { digits.insert(0x30, at: 0) } }
        b += digits
        return QueueID(bytes: b, yearMod60: ((tm.year - 1900) % 60 + 60) % 60, month: tm.month,
                       day: tm.day, hour: tm.hour, minute: tm.minute % 62, second: tm.second % 62,
                       sequence: seq, pid: pid)
    }

    private init(bytes: [UInt8], yearMod60: Int, month: Int, day: Int, hour: Int, minute: Int,
                 second: Int, sequence: Int, pid: Int) {
        self.bytes = bytes
        self.yearMod60 = yearMod60; self.month = month; self.day = day
        self.hour = hour; self.minute = minute; self.second = second
        self.sequence = sequence; self.pid = pid
    }

    /// Value of one ID character, or nil.
    static func digit(_ c: UInt8) -> Int? {
        switch c {
        case 0x30...0x39: return Int(c - 0x30)
        case 0x41...0x5A: return Int(c - 0x41) + 10
        case 0x61...0x7A: return Int(c - 0x61) + 36
        default: return nil
        }
    }

    /// Parses an ID in sendmail's 8.12+ form: eight time/sequence
    /// characters in range, then at least six decimal digits (at most 10).
    public static func parse(_ b: [UInt8]) -> QueueID? {
        guard b.count >= 14, b.count <= 18 else { return nil }
        var v: [Int] = []
        for c in b[0..<8] { guard let d = digit(c) else { return nil }; v.append(d) }
        guard v[0] < 60, v[1] < 12, v[2] >= 1, v[2] <= 31, v[3] < 24,
              v[6] < 60, v[7] < 60 else { return nil }
        var pid = 0
        for c in b[8...] {
            guard isASCIIDigit(c) else { return nil }
            pid = pid * 10 + Int(c - 0x30)
        }
        return QueueID(bytes: b, yearMod60: v[0], month: v[1], day: v[2], hour: v[3],
                       minute: v[4], second: v[5], sequence: v[6] * 60 + v[7], pid: pid)
    }

    public static func parse(_ s: String) -> QueueID? { parse(s.latin1Bytes) }

    /// The full year this ID was made in, taking the candidate nearest to
    /// (and not after) `referenceYear` -- IDs only say the year mod 60.
    public func year(near referenceYear: Int) -> Int {
        var y = 1900 + yearMod60
        while y + 60 <= referenceYear { y += 60 }
        return y
    }

    /// The UTC Unix time encoded in the ID, resolving the year near
    /// `referenceYear`; nil if minute/second are out of range (>= 60).
    public func time(near referenceYear: Int) -> Int64? {
        guard minute < 60, second < 62 else { return nil }
        return CivilTime.unixTime(year: year(near: referenceYear), month: month, day: day,
                                  hour: hour, minute: minute, second: second)
    }
}

/// Sendmail's ID sequence for one process: the first ID takes a random
/// offset in 0..<3600, later ones count up; after 3600 IDs, or when the
/// pid changes, a new base time is taken -- and if the clock has not moved
/// since the last base (same pid), sendmail sleeps a second.  Here `next`
/// returns nil in that case and the caller waits and retries.
public struct QueueIDGenerator: Sendable {
    public private(set) var randomOffset: Int
    private var count = 0
    private var baseTime: Int64 = 0
    private var basePid: Int = -1

    /// `randomOffset` is taken mod 3600 (sendmail: get_random() % 3600).
    public init(randomOffset: Int) {
        self.randomOffset = ((randomOffset % QueueID.sequenceLimit) + QueueID.sequenceLimit) % QueueID.sequenceLimit
    }

    /// The next ID at clock `now` for process `pid`, or nil if the
    /// caller must wait for the clock to advance first.
    public mutating func next(now: Int64, pid: Int) -> QueueID? {
        if count >= QueueID.sequenceLimit || baseTime == 0 || basePid != pid {
            if now == baseTime && basePid == pid { return nil }
            baseTime = now
            basePid = pid
            count = 0
        }
        let seq = (count + randomOffset) % QueueID.sequenceLimit
        count += 1
        return QueueID.make(time: baseTime, sequence: seq, pid: basePid)
    }
}
