// Tests/SMRulesTests/Support.swift
//
// Small helpers shared by the SMRules tests: bytes from Latin-1 literals,
// a prescan wrapper that collects sendmail's messages, and token rendering.
// Promises: no I/O; helpers never hide a failure (they return what ran).

import SMBase
import SMRules

extension String {
    /// One byte per scalar (Latin-1), so literals can carry any byte.
    var b: [UInt8] { unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } }
}

enum TableKind: String, Sendable, CaseIterable {
    case external, `internal`, noComment
    func table(_ t: TokenTables) -> TokenTable {
        switch self {
        case .external: return t.external
        case .internal: return t.internal
        case .noComment: return t.noComment
        }
    }
}

struct Scan {
    var tokens: [String]?
    var messages: [String]
    var end: Int
    var truncatedAt: Int?
}

/// Runs prescan once and collects its messages.
func scan(_ s: [UInt8], _ kind: TableKind, ops: String = ".:@[]", delim: UInt8 = 0,
          ignoreUnbalanced: Bool = false, bufferSize: Int = Limits.psBufSize, eightBit: Bool = false) -> Scan {
    var msgs: [String] = []
    let r = prescan(s, delim: delim, table: kind.table(TokenTables(operatorChars: ops.b)),
                    ignoreUnbalanced: ignoreUnbalanced, bufferSize: bufferSize, eightBitAddrOK: eightBit,
                    report: { msgs.append($0) })
    return Scan(tokens: r.tokens?.map(\.string), messages: msgs, end: r.end, truncatedAt: r.truncatedAt)
}

/// Splits a -bt-style comma list as sendmail's testmodeline does and
/// returns each element's tokens joined with spaces (nil = rejected).
func scanList(_ s: [UInt8], _ kind: TableKind, ops: String = ".:@[]") -> (lists: [String?], messages: [String]) {
    var msgs: [String] = []
    var out: [String?] = []
    let table = kind.table(TokenTables(operatorChars: ops.b))
    var pos = 0
    var rounds = 0
    while rounds < 100 {
        rounds += 1
        let r = prescan(s, from: pos, delim: UInt8(ascii: ","), table: table, ignoreUnbalanced: false,
                        report: { msgs.append($0) })
        out.append(r.tokens.map { $0.map(\.string).joined(separator: " ") })
        pos = r.end
        if pos >= s.count || s[pos] == 0 { break }
        pos += 1
    }
    return (out, msgs)
}

func render(_ s: [UInt8], _ names: MacroNames = MacroNames()) -> String {
    var o: [UInt8] = []
    Printing.xputs(s, names: names, into: &o)
    return o.string
}
