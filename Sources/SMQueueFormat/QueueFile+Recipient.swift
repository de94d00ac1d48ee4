// SMQueueFormat/QueueFile+Recipient.swift
//
// One recipient of a queue file with the lines written before its `R`
// line: its status message (`M`), a change of controlling user (`C`),
// the DSN ORCPT (`Q`) and final recipient (`r`).
// Promises: pure values; `ControllingUser` keeps the line's bytes so that
// any C line round-trips, and parses them as sendmail's setctluser() does.

import SMBase

extension QueueFile {
    public struct Recipient: Sendable, Equatable {
        /// `M` before this recipient: its last delivery status.
        public var message: [UInt8]?
        /// `C` before this recipient (sendmail writes one only when the
        /// controlling user changes; `.reset` is a bare `C`).
        public var controlLine: ControlLine?
        /// `Q`: DSN ORCPT (`rfc822;user@host`).
        public var originalRecipient: [UInt8]?
        /// `r`: the Final-Recipient for DSNs (`RFC822; user@host`).
        public var finalRecipient: [UInt8]?
        /// Flags of the `R` line (before the colon).
        public var flags: RecipientFlags = []
        /// Flag letters sendmail does not know (kept, written after the
        /// known ones).
        public var unknownFlagLetters: [UInt8] = []
        /// The address after the colon.
        public var address: [UInt8]

        public init(address: [UInt8], flags: RecipientFlags = [.primary]) {
            self.address = address
            self.flags = flags
        }
    }

    /// The controlling user in force for each recipient, in order: that
    /// of the last C line before it (nil before any, and after a bare `C`).
    public var effectiveControllingUsers: [ControllingUser?] {
        var out: [ControllingUser?] = []
        out.reserveCapacity(recipients.count)
        var ctl: ControllingUser? = nil
        for r in recipients {
            switch r.controlLine {
            case .reset?: ctl = nil
            case .user(let u)?: ctl = u
            case nil: break
            }
            out.append(ctl)
        }
        return out
    }

    public enum ControlLine: Sendable, Equatable {
        /// A bare `C`: no controlling user from here on.
        case reset
        case user(ControllingUser)
    }

    /// The text after `C`: `user:uid:gid:alias` or `:alias` (uid 0 or no
    /// user name).
    public struct ControllingUser: Sendable, Equatable {
        /// The bytes after `C` (never empty).
        public var raw: [UInt8]

        public init(raw: [UInt8]) { self.raw = raw }

        /// Builds the text as printctladdr() does: `:alias` when the uid is
        /// 0 or there is no user name, else `user:uid:gid:alias`.
        public init(user: [UInt8]?, uid: Int, gid: Int, alias: [UInt8]) {
            if uid == 0 || user == nil || user!.isEmpty {
                raw = [0x3A] + alias
            } else {
                raw = user! + Array(":\(uid):\(gid):".utf8) + alias
            }
        }

        private var fields: [ArraySlice<UInt8>] {
            raw.split(separator: 0x3A, maxSplits: 3, omittingEmptySubsequences: false)
        }

        /// The user name; nil for the `:alias` form.
        public var user: [UInt8]? {
            raw.first == 0x3A ? nil : Array(fields[0])
        }
        /// uid as atoi() reads it (0 when absent).
        public var uid: Int { raw.first == 0x3A || fields.count < 2 ? 0 : atoi(fields[1]) }
        /// gid as atoi() reads it (0 when absent).
        public var gid: Int { raw.first == 0x3A || fields.count < 3 ? 0 : atoi(fields[2]) }
        /// The controlling address (the alias or include the user came
        /// from).
        public var alias: [UInt8] {
            if raw.first == 0x3A { return Array(raw.dropFirst()) }
            let f = fields
            return f.count >= 4 ? Array(f[3]) : Array(f[0])
        }

        private func atoi(_ s: ArraySlice<UInt8>) -> Int {
            var i = s.startIndex, neg = false, v = 0
            while i < s.endIndex, isASCIISpace(s[i]) { i += 1 }
            if i < s.endIndex, s[i] == 0x2D || s[i] == 0x2B { neg = s[i] == 0x2D; i += 1 }
            while i < s.endIndex, isASCIIDigit(s[i]), v < Int.max / 20 { v = v * 10 + Int(s[i] - 0x30); i += 1 }
            return neg ? -v : v
        }
    }
}

/// Recipient flags of the `R` line, written in the order `PNSFDBA`.
public struct RecipientFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `P`: a primary (not alias-expanded) address.
    public static let primary = RecipientFlags(rawValue: 1 << 0)
    /// `N`: NOTIFY= was given.
    public static let hasNotify = RecipientFlags(rawValue: 1 << 1)
    /// `S`: NOTIFY=SUCCESS.
    public static let notifySuccess = RecipientFlags(rawValue: 1 << 2)
    /// `F`: NOTIFY=FAILURE.
    public static let notifyFailure = RecipientFlags(rawValue: 1 << 3)
    /// `D`: NOTIFY=DELAY.
    public static let notifyDelay = RecipientFlags(rawValue: 1 << 4)
    /// `B`: an internal Bcc.
    public static let bcc = RecipientFlags(rawValue: 1 << 5)
    /// `A`: the controlling address is an alias.
    public static let alias = RecipientFlags(rawValue: 1 << 6)

    public static let letters: [(RecipientFlags, UInt8)] = [
        (.primary, 0x50), (.hasNotify, 0x4E), (.notifySuccess, 0x53), (.notifyFailure, 0x46),
        (.notifyDelay, 0x44), (.bcc, 0x42), (.alias, 0x41),
    ]
}
