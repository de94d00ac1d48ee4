// SMSMTP/SMTPCommand.swift
//
// The SMTP command line grammar as sendmail's server reads it: a verb
// (case-insensitive, ended by a space or tab) and the rest of the line as
// the argument; the ESMTP parameters after a MAIL FROM:/RCPT TO: path
// (blank-separated; a value ends at a blank or at the next "=").
// Promises: pure, bytes in and values out; never fails (an unknown verb
// is `.unknown`, a malformed path is reported as nil).

import SMBase

public enum SMTPVerb: String, Sendable, CaseIterable {
    case helo, ehlo, mail, rcpt, data, rset, noop, quit, help, vrfy, expn, verb, etrn
    /// Known to sendmail, not implemented: "502 5.5.1 Command not implemented".
    case send, soml, saml, turn
    case unknown
}

public struct SMTPCommand: Sendable, Equatable {
    public var verb: SMTPVerb
    /// The argument with leading blanks removed (trailing ones kept).
    public var argument: [UInt8]
    /// The line as received, CR LF removed.
    public var line: [UInt8]

    /// Splits one command line (a trailing CR is dropped).
    public static func parse(_ line0: [UInt8]) -> SMTPCommand {
        var line = line0
        if line.last == 0x0D { line.removeLast() }
        var i = 0
        while i < line.count, line[i] == 0x20 || line[i] == 0x09 { i += 1 }
        var e = i
        while e < line.count, line[e] != 0x20, line[e] != 0x09 { e += 1 }
        var a = e
        while a < line.count, line[a] == 0x20 || line[a] == 0x09 { a += 1 }
        return SMTPCommand(verb: verb(line[i..<e]), argument: Array(line[a...]), line: line)
    }

    /// The verbs' four letters, lowercased, packed into a UInt32 each
    /// ("unknown" is no verb a client can send).
    static let packedVerbs: [(UInt32, SMTPVerb)] = SMTPVerb.allCases.filter { $0 != .unknown }.map { v in
        (v.rawValue.utf8.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }, v)
    }

    /// The verb a word names, case-insensitively (every verb has four
    /// letters: the word is compared as one number).
    static func verb(_ word: ArraySlice<UInt8>) -> SMTPVerb {
        guard word.count == 4 else { return .unknown }
        var k: UInt32 = 0
        for b in word { k = k << 8 | UInt32(b >= 0x41 && b <= 0x5A ? b | 0x20 : b) }
        for (packed, v) in packedVerbs where packed == k { return v }
        return .unknown
    }
}

public struct ESMTPParameter: Sendable, Equatable {
    public var keyword: [UInt8]
    public var value: [UInt8]?
    public init(keyword: [UInt8], value: [UInt8]?) { self.keyword = keyword; self.value = value }
}

/// The path and parameters of MAIL/RCPT.
public struct SMTPPathArgument: Sendable, Equatable {
    /// The address as given (the `<...>` included when present).
    public var address: [UInt8]
    public var parameters: [ESMTPParameter]
}

public enum SMTPPathParser {
    /// `keyword` is "from" or "to": the argument must start with it
    /// (case-insensitive), a colon, optional blanks, and a non-empty path.
    /// nil: sendmail's "Syntax error in parameters scanning"; `scanned`
    /// then holds the word it was scanning.
    public static func parse(_ arg: [UInt8], keyword: String) -> (SMTPPathArgument?, scanned: [UInt8]) {
        let kw = Array(keyword.utf8)
        // the word before the colon (or the whole argument)
        let colon = arg.firstIndex(of: UInt8(ascii: ":"))
        let word = Array(arg[..<(colon ?? arg.count)])
        guard let c = colon, word.asciiCaseEquals(kw) else {
            return (nil, Array(word.prefix { $0 != 0x20 && $0 != 0x09 }))
        }
        var i = c + 1
        while i < arg.count, arg[i] == 0x20 || arg[i] == 0x09 { i += 1 }
        guard i < arg.count else { return (nil, word) }
        // the path: up to the first blank outside <> and quotes
        var depth = 0, quoted = false, e = i
        while e < arg.count {
            let b = arg[e]
            if b == UInt8(ascii: "\\"), e + 1 < arg.count { e += 2; continue }
            if b == UInt8(ascii: "\"") { quoted.toggle() }
            else if !quoted && b == UInt8(ascii: "<") { depth += 1 }
            else if !quoted && b == UInt8(ascii: ">") { depth -= 1 }
            else if !quoted && depth <= 0 && (b == 0x20 || b == 0x09) { break }
            e += 1
        }
        let address = Array(arg[i..<e])
        var params: [ESMTPParameter] = []
        for w in arg[e...].split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }) {
            var word = Array(w)
            // a value ends at the next "=": what follows is another
            // parameter ("AUTH=a=b" is AUTH=a and b), as sendmail scans
            while !word.isEmpty {
                guard let eq = word.firstIndex(of: UInt8(ascii: "=")) else {
                    params.append(ESMTPParameter(keyword: word, value: nil))
                    break
                }
                let rest = Array(word[(eq + 1)...])
                let end = rest.firstIndex(of: UInt8(ascii: "=")) ?? rest.count
                params.append(ESMTPParameter(keyword: Array(word[..<eq]), value: Array(rest[..<end])))
                word = end < rest.count ? Array(rest[(end + 1)...]) : []
            }
        }
        return (SMTPPathArgument(address: address, parameters: params), [])
    }
}
