// SMSMTP/SMTPAuth.swift
//
// The SMTP AUTH command (RFC 4954) as sendmail's server reads it, without
// the SASL library: the argument split into the mechanism (up to the
// first blank or non-ASCII byte) and the initial response ("=" is an
// empty one); the per-session exchange state (idle, waiting for a
// client response after "334", authenticated); the order of sendmail's
// refusals before the mechanism is looked at (AUTH not available, already
// authenticated, inside a transaction); its counter of AUTH commands
// (from the fifth on sendmail sleeps 2^(n-5) seconds and logs a possible
// attack once); and the texts of its AUTH replies.
// Promises: pure, bytes in and values out; the SASL conversation itself
// (base64, mechanisms, credentials) is the caller's.

import SMBase

public enum SMTPAuthInitial: Sendable, Equatable {
    /// No initial response: the server starts with an empty challenge.
    case none
    /// "=": a zero-length initial response.
    case empty
    /// The initial response as sent (base64, not yet decoded).
    case encoded([UInt8])
}

public struct SMTPAuthArgument: Sendable, Equatable {
    public var mechanism: [UInt8]
    public var initial: SMTPAuthInitial

    /// Splits AUTH's argument (leading blanks already removed).
    public static func parse(_ arg0: [UInt8]) -> SMTPAuthArgument {
        var arg = arg0
        if arg.last == 0x0D { arg.removeLast() }
        var e = 0
        while e < arg.count, arg[e] < 0x80, !isASCIISpace(arg[e]) { e += 1 }
        let mech = Array(arg[..<e])
        var i = e
        // the initial response starts after the blanks, only after a blank
        if i < arg.count, isASCIISpace(arg[i]) {
            while i < arg.count, arg[i] < 0x80, isASCIISpace(arg[i]) { i += 1 }
        } else {
            i = arg.count
        }
        let rest = Array(arg[i...])
        if rest.isEmpty { return SMTPAuthArgument(mechanism: mech, initial: .none) }
        if rest == [UInt8(ascii: "=")] { return SMTPAuthArgument(mechanism: mech, initial: .empty) }
        return SMTPAuthArgument(mechanism: mech, initial: .encoded(rest))
    }
}

/// One session's AUTH state.
public struct SMTPAuthState: Sendable {
    public enum Phase: Sendable, Equatable {
        case idle
        /// "334" was sent: the next line is the client's response.
        case exchanging(mechanism: [UInt8])
        case authenticated(mechanism: [UInt8])
    }
    public var phase: Phase = .idle
    /// AUTH commands that got past the sequence checks.
    public private(set) var attempts = 0
    /// sendmail's threshold for AUTH commands before it slows down.
    public static let attackThreshold = 5

    public init() {}

    public var isAuthenticated: Bool { if case .authenticated = phase { return true } else { return false } }
    public var isExchanging: Bool { if case .exchanging = phase { return true } else { return false } }

    /// The refusal of an AUTH command before its argument is read, or nil
    /// to go on.  `available`: the server offers at least one mechanism.
    public func refusal(available: Bool, inTransaction: Bool) -> SMTPReply? {
        if !available { return SMTPReply(503, "5.3.3", "AUTH not available") }
        if isAuthenticated { return SMTPReply(503, "5.5.0", "Already Authenticated") }
        if inTransaction { return SMTPReply(503, "5.5.0", "AUTH not permitted during a mail transaction") }
        return nil
    }

    /// Counts an AUTH command; the pause sendmail makes before answering
    /// (0: none) and whether this is the count it logs.
    public mutating func countAttempt(maxDelay: Int = 240) -> (delay: Int, log: Bool) {
        attempts += 1
        guard attempts >= Self.attackThreshold else { return (0, false) }
        let shift = min(attempts - Self.attackThreshold, 20)
        return (min(1 << shift, maxDelay), attempts == Self.attackThreshold)
    }

    /// A response line during the exchange: "*" cancels.
    public static func isCancel(_ line: [UInt8]) -> Bool { line == [UInt8(ascii: "*")] }

    public static let authenticated = SMTPReply(235, "2.0.0", "OK Authenticated")
    public static let failed = SMTPReply(535, "5.7.0", "authentication failed")
    public static let aborted = SMTPReply(501, "5.0.0", "AUTH aborted")
    public static let noMechanism = SMTPReply(501, "5.5.2", "AUTH mechanism must be specified")
    public static func unknownMechanism(_ m: [UInt8]) -> SMTPReply {
        SMTPReply(504, "5.3.3", "AUTH mechanism \(String(decoding: m.prefix(32), as: UTF8.self)) not available")
    }
    public static func badInitial(_ s: [UInt8]) -> SMTPReply {
        SMTPReply(code: 501, enhanced: "5.5.4", lines: [Array("cannot BASE64 decode '".utf8) + s + [UInt8(ascii: "'")]])
    }
    public static func badResponse(_ s: [UInt8]) -> SMTPReply {
        SMTPReply(code: 501, enhanced: "5.5.4", lines: [Array("cannot decode AUTH parameter ".utf8) + s])
    }
    /// "334 <base64 challenge>".
    public static func challenge(_ encoded: [UInt8]) -> SMTPReply {
        SMTPReply(code: 334, enhanced: nil, lines: [encoded])
    }
}

extension SMTPServerSession {
    /// A MAIL command was accepted and the transaction is open.
    public var inTransaction: Bool { hasMail }
}
