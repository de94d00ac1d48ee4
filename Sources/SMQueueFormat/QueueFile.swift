// SMQueueFormat/QueueFile.swift
//
// The typed model of a version-8 queue control file (qf/hf/Qf/tf): the
// envelope lines, the recipients with the lines that belong to each
// (M, C, Q, r before R), and the headers.  Values are kept as the bytes
// that appear in the file (no decoding of xtext, no macro expansion; a
// header value keeps its folding as embedded "\n" + whitespace and `$g` as
// the bytes 0201 'g').
// Promises: a pure value type; `QueueFileWriter.encode` writes it in the
// order sendmail's queueup() does; `QueueFileReader` fills it from any
// file sendmail writes such that encoding gives the same bytes back.

import SMBase

public struct QueueFile: Sendable, Equatable {
    /// The version sendmail 8.13 and later write.
    public static let currentVersion = 8

    /// `V`: queue file version (8).
    public var version: Int = QueueFile.currentVersion
    /// `T`: creation time (Unix seconds).
    public var creationTime: Int64 = 0
    /// `K`: time of the last delivery attempt (0 = none).
    public var lastAttempt: Int64 = 0
    /// `N`: number of delivery attempts.
    public var attempts: Int = 0
    /// `P`: message priority.
    public var priority: Int64 = 0
    /// `d`: directory of the data file when it is in another queue group.
    public var dataDirectory: [UInt8]?
    /// `I`: device and inode of the data file.
    public var dataInode: DataInode?
    /// `B`: body type (`7BIT`, `8BITMIME`, `BINARYMIME`).
    public var bodyType: [UInt8]?
    /// `q`: quarantine reason (the file is then an `hf`).
    public var quarantineReason: [UInt8]?
    /// `M`: the envelope's status message, shown by mailq.
    public var message: [UInt8]?
    /// `F`: envelope flags.
    public var flags: EnvelopeFlags = []
    /// `$`: persistent macros, in file order.  `name` is one byte (`r`)
    /// or a long name without braces (`daemon_flags`).
    public var macros: [Macro] = []
    /// `S`: the envelope sender.
    public var sender: [UInt8] = []
    /// `Z`: the DSN ENVID.
    public var envelopeID: [UInt8]?
    /// `A`: the AUTH= parameter (xtext).
    public var authParameter: [UInt8]?
    /// `!`: deliver-by flag byte and time.
    public var deliverBy: DeliverBy?
    /// The recipients still to deliver, in file order.
    public var recipients: [Recipient] = []
    /// `H`: the headers, in file order.
    public var headers: [Header] = []
    /// Where the `q` line goes.  queueup() writes it after `B`; the
    /// quarantine command (`-Q`) inserts it just before `S`.  The reader
    /// remembers which, so that rewriting keeps the bytes.
    public var quarantineLinePlacement: QuarantinePlacement = .afterBodyType

    public init() {}

    public enum QuarantinePlacement: Sendable, Equatable {
        case afterBodyType
        case beforeSender
    }

    /// `I<major>/<minor>/<inode>`.
    public struct DataInode: Sendable, Equatable {
        public var major: Int64
        public var minor: Int64
        public var inode: UInt64
        public init(major: Int64, minor: Int64, inode: UInt64) {
            self.major = major; self.minor = minor; self.inode = inode
        }
    }

    /// `$<name><value>`.
    public struct Macro: Sendable, Equatable {
        public var name: [UInt8]
        public var value: [UInt8]
        public init(name: [UInt8], value: [UInt8]) { self.name = name; self.value = value }
    }

    /// `!<flag> <time>`: DELIVERBY mode byte (`N` notify, `R` return,
    /// or the raw value sendmail stores) and the deadline.
    public struct DeliverBy: Sendable, Equatable {
        public var flag: UInt8
        public var time: Int64
        public init(flag: UInt8, time: Int64) { self.flag = flag; self.time = time }
    }

    /// Sets or clears the quarantine reason as `sendmail -Q` does: a new
    /// reason goes just before the `S` line, a changed one stays where the
    /// old one was, nil removes it.  (The caller renames qf <-> hf.)
    public mutating func quarantine(_ reason: [UInt8]?) {
        if reason != nil && quarantineReason == nil { quarantineLinePlacement = .beforeSender }
        quarantineReason = reason
    }

    /// The value of macro `name` (last definition wins, as in sendmail).
    public func macro(_ name: String) -> [UInt8]? {
        let n = Array(name.utf8)
        return macros.last(where: { $0.name == n })?.value
    }
}

/// Envelope flags of the `F` line, written in the order `wr8bdnse`.
public struct EnvelopeFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `w`: a delay warning was sent.
    public static let warningSent = EnvelopeFlags(rawValue: 1 << 0)
    /// `r`: this message is a response (a bounce).
    public static let response = EnvelopeFlags(rawValue: 1 << 1)
    /// `8`: the body has 8-bit bytes.
    public static let has8Bit = EnvelopeFlags(rawValue: 1 << 2)
    /// `b`: delete the Bcc: header.
    public static let deleteBcc = EnvelopeFlags(rawValue: 1 << 3)
    /// `d`: the envelope had a DSN RET= parameter.
    public static let retParameter = EnvelopeFlags(rawValue: 1 << 4)
    /// `n`: do not return the body (RET=HDRS).
    public static let noBodyReturn = EnvelopeFlags(rawValue: 1 << 5)
    /// `s`: the envelope was split already.
    public static let split = EnvelopeFlags(rawValue: 1 << 6)
    /// `e`: the message needs SMTPUTF8 (EAI).
    public static let smtputf8 = EnvelopeFlags(rawValue: 1 << 7)

    /// (flag, letter) in the order queueup() writes them.
    public static let letters: [(EnvelopeFlags, UInt8)] = [
        (.warningSent, 0x77), (.response, 0x72), (.has8Bit, 0x38), (.deleteBcc, 0x62),
        (.retParameter, 0x64), (.noBodyReturn, 0x6E), (.split, 0x73), (.smtputf8, 0x65),
    ]
}
