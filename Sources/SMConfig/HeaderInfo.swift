// SMConfig/HeaderInfo.swift
//
// The header fields sendmail knows and the flags it gives them (conf.c's
// HdrInfo): originator, recipient, trace, resent and MIME fields.  Used to
// classify headers from messages, H lines and `-bt /header`.
// Promises: flag values equal sendmail's H_* bits.

import SMBase

public struct HeaderFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let endOfHeader = HeaderFlags(rawValue: 0x0000_0001)  // H_EOH
    public static let recipient = HeaderFlags(rawValue: 0x0000_0002)    // H_RCPT
    public static let defaultValue = HeaderFlags(rawValue: 0x0000_0004) // H_DEFAULT
    public static let resent = HeaderFlags(rawValue: 0x0000_0008)       // H_RESENT
    public static let check = HeaderFlags(rawValue: 0x0000_0010)        // H_CHECK
    public static let alwaysCheck = HeaderFlags(rawValue: 0x0000_0020)  // H_ACHECK
    public static let force = HeaderFlags(rawValue: 0x0000_0040)        // H_FORCE
    public static let trace = HeaderFlags(rawValue: 0x0000_0080)        // H_TRACE
    public static let from = HeaderFlags(rawValue: 0x0000_0100)         // H_FROM
    public static let valid = HeaderFlags(rawValue: 0x0000_0200)        // H_VALID
    public static let receiptTo = HeaderFlags(rawValue: 0x0000_0400)    // H_RECEIPTTO
    public static let errorsTo = HeaderFlags(rawValue: 0x0000_0800)     // H_ERRORSTO
    public static let cte = HeaderFlags(rawValue: 0x0000_1000)          // H_CTE
    public static let contentType = HeaderFlags(rawValue: 0x0000_2000)  // H_CTYPE
    public static let bcc = HeaderFlags(rawValue: 0x0000_4000)          // H_BCC
    public static let encodable = HeaderFlags(rawValue: 0x0000_8000)    // H_ENCODABLE
    public static let stripComments = HeaderFlags(rawValue: 0x0001_0000) // H_STRIPCOMM
    public static let bindLate = HeaderFlags(rawValue: 0x0002_0000)     // H_BINDLATE
    public static let user = HeaderFlags(rawValue: 0x0004_0000)         // H_USER
}

public enum HeaderInfo {
    /// Lowercased field name -> flags.
    public static let table: [String: HeaderFlags] = [
        "resent-sender": [.from, .resent], "resent-from": [.from, .resent],
        "resent-reply-to": [.from, .resent], "sender": [.from], "from": [.from],
        "reply-to": [.from], "errors-to": [.from, .errorsTo], "full-name": [.alwaysCheck],
        "return-receipt-to": [.receiptTo], "delivery-receipt-to": [.receiptTo],
        "disposition-notification-to": [.from],
        "to": [.recipient], "resent-to": [.recipient, .resent], "cc": [.recipient],
        "resent-cc": [.recipient, .resent], "bcc": [.recipient, .bcc],
        "resent-bcc": [.recipient, .bcc, .resent], "apparently-to": [.recipient],
        "message-id": [], "resent-message-id": [.resent], "message": [.endOfHeader], "text": [.endOfHeader],
        "date": [], "resent-date": [.resent],
        "received": [.trace, .force], "x400-received": [.trace, .force], "via": [.trace, .force],
        "mail-from": [.trace, .force],
        "comments": [.force, .encodable], "return-path": [.force, .alwaysCheck, .bindLate],
        "content-transfer-encoding": [.cte], "content-type": [.contentType],
        "content-length": [.alwaysCheck], "subject": [.encodable], "x-authentication-warning": [.force],
    ]

    public static func flags(for name: [UInt8]) -> HeaderFlags {
        table[name.asciiLowercased.string] ?? []
    }

    /// Splits "Name: value" as sendmail's chompheader does for headers
    /// from users: the name is graphic characters up to the colon, white
    /// space may precede the colon.  Nil on a syntax error.
    public static func split(_ line: [UInt8]) -> (name: [UInt8], value: [UInt8])? {
        var p = 0
        while p < line.count, line[p] > 0x20, line[p] < 0x7F, line[p] != UInt8(ascii: ":") { p += 1 }
        let nameEnd = p
        while p < line.count, isASCIISpace(line[p]) { p += 1 }
        guard p < line.count, line[p] == UInt8(ascii: ":"), nameEnd > 0 else { return nil }
        return (Array(line[..<nameEnd]), Array(line[(p + 1)...]))
    }
}
