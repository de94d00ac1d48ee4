// SMMime/MIMEHeader.swift
//
// The pieces of a MIME header the 8->7 conversion reads: a header field
// (name and value as bytes), a field looked up by name with ASCII case
// folding, a Content-Type split into type, subtype and parameters (RFC
// 2045 tokens: comments dropped, quoted strings unquoted), and a
// Content-Transfer-Encoding value reduced to its token.
// Promises: no I/O; bytes in, bytes out; malformed values give empty or
// nil parts, never a trap.

/// One header field: `name` without the colon, `value` the text after it
/// with leading blanks removed; a folded value keeps its line breaks as
/// "\n" followed by the continuation line's own whitespace.
public struct MIMEHeaderField: Equatable, Sendable {
    public var name: [UInt8]
    public var value: [UInt8]
    public init(name: [UInt8], value: [UInt8]) { self.name = name; self.value = value }
    public init(_ name: String, _ value: String) { self.name = Array(name.utf8); self.value = Array(value.utf8) }

    /// The field as written: `Name: value`, folded lines separated by "\n",
    /// no final line end.
    public var text: [UInt8] { name + Array(": ".utf8) + value }
}

extension [MIMEHeaderField] {
    /// The first field named `name` (ASCII case-insensitive).
    public func value(of name: String) -> [UInt8]? {
        let n = [UInt8](name.utf8)
        return first(where: { MIMEText.equalFolded($0.name, n) })?.value
    }
}

/// A parsed Content-Type: `type/subtype; attr=value...`.
public struct MIMEContentType: Equatable, Sendable {
    public var type: [UInt8]
    public var subtype: [UInt8]
    public var parameters: [(name: [UInt8], value: [UInt8])]

    public static func == (a: Self, b: Self) -> Bool {
        a.type == b.type && a.subtype == b.subtype && a.parameters.count == b.parameters.count
            && zip(a.parameters, b.parameters).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// The value of parameter `name` (case-insensitive), unquoted.
    public func parameter(_ name: String) -> [UInt8]? {
        let n = Array(name.utf8)
        return parameters.first(where: { MIMEText.equalFolded($0.name, n) })?.value
    }

    /// Parses a Content-Type value; nil when it has no token at all.
    public init?(_ value: [UInt8]) {
        let t = MIMEText.tokens(value)
        guard let first = t.first else { return nil }
        type = first
        subtype = []
        parameters = []
        var i = 1
        if i < t.count, t[i] == [UInt8(ascii: "/")] {
            i += 1
            if i < t.count { subtype = t[i]; i += 1 }
        }
        // parameters: `; attr = value`
        while i < t.count {
            while i < t.count, t[i] != [UInt8(ascii: ";")] { i += 1 }
            i += 1
            guard i < t.count else { break }
            let attr = t[i]
            i += 1
            var val: [UInt8] = []
            if i < t.count, t[i] == [UInt8(ascii: "=")] {
                i += 1
                if i < t.count, t[i] != [UInt8(ascii: ";")] { val = MIMEText.unquote(t[i]); i += 1 }
            }
            parameters.append((attr, val))
        }
    }
}

enum MIMEText {
    static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    static func equalFolded(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { lower($0) == lower($1) }
    }

    static func equalFolded(_ a: [UInt8], _ s: String) -> Bool { equalFolded(a, Array(s.utf8)) }

    /// RFC 2045 tspecials (each its own token).
    static func isSpecial(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "@"),
             UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "\\"), UInt8(ascii: "\""),
             UInt8(ascii: "/"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "?"), UInt8(ascii: "="):
            return true
        default: return false
        }
    }

    /// The tokens of a structured MIME field: atoms, specials, quoted
    /// strings (with their quotes); comments and whitespace dropped.
    static func tokens(_ v: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 0
        while i < v.count {
            let c = v[i]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1; continue }
            if c == UInt8(ascii: "(") {
                var depth = 0
                while i < v.count {
                    if v[i] == UInt8(ascii: "\\") { i += 2; continue }
                    if v[i] == UInt8(ascii: "(") { depth += 1 }
                    if v[i] == UInt8(ascii: ")") { depth -= 1; if depth == 0 { i += 1; break } }
                    i += 1
                }
                continue
            }
            if c == UInt8(ascii: "\"") {
                var tok: [UInt8] = [c]
                i += 1
                while i < v.count {
                    if v[i] == UInt8(ascii: "\\"), i + 1 < v.count { tok += [v[i], v[i + 1]]; i += 2; continue }
                    tok.append(v[i])
                    i += 1
                    if tok.last == UInt8(ascii: "\"") { break }
                }
                out.append(tok)
                continue
            }
            if isSpecial(c) { out.append([c]); i += 1; continue }
            var tok: [UInt8] = []
            while i < v.count, !isSpecial(v[i]), ![0x20, 0x09, 0x0A, 0x0D].contains(v[i]) {
                tok.append(v[i])
                i += 1
            }
            out.append(tok)
        }
        return out
    }

    /// A quoted string's contents (backslashes removed); other tokens as they are.
    static func unquote(_ t: [UInt8]) -> [UInt8] {
        guard t.first == UInt8(ascii: "\"") else { return t }
        var out: [UInt8] = []
        var i = 1
        while i < t.count {
            if t[i] == UInt8(ascii: "\\"), i + 1 < t.count { out.append(t[i + 1]); i += 2; continue }
            if t[i] == UInt8(ascii: "\"") { break }
            out.append(t[i])
            i += 1
        }
        return out
    }

    /// A Content-Transfer-Encoding value as one word (tokens joined).
    static func encodingToken(_ v: [UInt8]) -> [UInt8]? {
        let t = tokens(v)
        return t.isEmpty ? nil : t.flatMap { $0 }
    }
}
