// SMRules/Prescan.swift
//
// sendmail's tokenizer (`prescan`).  It splits an address into tokens:
// runs of atom bytes, one token per operator byte (OperatorChars plus the
// fixed set `()<>,;\r\n`), quoted strings (quotes kept), with comments and
// white space dropped, and repairs unbalanced quotes, parentheses and angle
// brackets with sendmail's messages.  Three character tables exist as in
// sendmail: external (addresses: parentheses are comments), internal
// (map results) and no-comment (cf R lines at V9+, and `-bt` input).
// Promises: pure; bounded by the PSBUFSIZE, MAXATOM and MAXNAME limits;
// never traps on any input bytes.

import SMBase

/// Character types of the tokenizer state machine.
public enum CharType: UInt8, Sendable {
    case opr = 0, atm, qst, spc, one, ill
}

/// One 256-entry character table.
public struct TokenTable: Sendable {
    public var types: [CharType]

    @inlinable
    public subscript(_ c: UInt8) -> CharType { types[Int(c)] }
}

/// The three tables, built once from OperatorChars (as sendmail does on
/// its first prescan).
public struct TokenTables: Sendable {
    public var external: TokenTable
    public var `internal`: TokenTable
    public var noComment: TokenTable

    /// Builds the tables.  `operatorChars` is the expanded OperatorChars
    /// value (default `.:@[]`).
    public init(operatorChars: [UInt8]) {
        var low = [CharType](repeating: .atm, count: 128)
        for c in [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20] { low[c] = .spc }
        low[Int(UInt8(ascii: "\""))] = .qst
        low[Int(UInt8(ascii: "("))] = .spc
        low[Int(UInt8(ascii: ")"))] = .spc
        var extHigh = [CharType](repeating: .atm, count: 128)
        _ = extHigh
        var intHigh = [CharType](repeating: .atm, count: 128)
        for i in 0..<32 { intHigh[i] = .opr }
        intHigh[0o202 - 0o200] = .one
        intHigh[0o223 - 0o200] = .one
        intHigh[0o224 - 0o200] = .one
        intHigh[0o225 - 0o200] = .one
        intHigh[127] = .one
        extHigh = [CharType](repeating: .atm, count: 128)
        var ext = low + extHigh
        var int = low + intHigh
        var noc = low + intHigh
        noc[Int(UInt8(ascii: "("))] = .opr
        noc[Int(UInt8(ascii: ")"))] = .opr
        let delims: [UInt8] = Array("()<>,;\r\n".utf8)
        for c in operatorChars.prefix(50 - 9) + delims where c != 0 {
            let i = Int(c)
            if ext[i] == .atm { ext[i] = .opr }
            if int[i] == .atm { int[i] = .opr }
            if noc[i] == .atm { noc[i] = .opr }
        }
        external = TokenTable(types: ext)
        `internal` = TokenTable(types: int)
        noComment = TokenTable(types: noc)
    }
}

/// The outcome of one prescan.
public struct PrescanResult: Sendable {
    /// The tokens, or nil when the address was rejected (too long, too many
    /// tokens) or empty.
    public var tokens: [[UInt8]]?
    /// Index of the byte that ended the scan (the delimiter or the end).
    public var end: Int
    /// "Address too long": sendmail cuts its copy of the input here
    /// (start + MAXNAME), which later messages show.
    public var truncatedAt: Int? = nil
}

private let B: UInt8 = 0o40   // break
private let M: UInt8 = 0o20   // meta: do not pass the character through
private let typeMask: UInt8 = 0o17

// StateTab[old state][char type] = new state | flags
private let stateTable: [[UInt8]] = {
    let OPR: UInt8 = 0, ATM: UInt8 = 1, QST: UInt8 = 2, SPC: UInt8 = 3, ONE: UInt8 = 4, ILL: UInt8 = 5
    return [
        [OPR | B, ATM | B, QST | B, SPC | M | B, ONE | B, ILL | M | B],
        [OPR | B, ATM, QST | B, SPC | M | B, ONE | B, ILL | M | B],
        [QST, QST, OPR, QST, QST, QST],
        [OPR, ATM, QST, SPC | M, ONE, ILL | M | B],
        [OPR, OPR, OPR, OPR, OPR, ILL | M | B],
        [OPR | B, ATM | B, QST | B, SPC | M | B, ONE | B, ILL | M],
    ]
}()

/// sendmail's prescan.  `delim` 0 means "end of string only".
/// `report` receives user errors with their reply code ("553 ...").
public func prescan(_ addr: [UInt8], from start: Int = 0, delim: UInt8, table: TokenTable,
                    ignoreUnbalanced: Bool, bufferSize: Int = Limits.psBufSize,
                    eightBitAddrOK: Bool = false,
                    report: (String) -> Void) -> PrescanResult {
    let noChar = -1
    let n = addr.count
    var p = start
    var used = 0
    var bslash = false
    var routeSyntax = false
    var comments = 0
    var angles = 0
    var state: UInt8 = CharType.atm.rawValue
    var c = noChar
    var tokens: [[UInt8]] = []
    let limit = bufferSize - 5
    let lparenIsSpace = table[UInt8(ascii: "(")] == .spc
    let d = Int(delim)

    @inline(__always) func byte(_ i: Int) -> Int { i < n ? Int(addr[i]) : 0 }

    var cut: Int? = nil
    func fail() -> PrescanResult {
        return PrescanResult(tokens: nil, end: p > start ? p - 1 : p, truncatedAt: cut)
    }
    func tooLong() {
        report("553 5.1.1 Address too long")
        var len = 0
        while start + len < n && addr[start + len] != 0 { len += 1 }
        if len > Limits.maxName { cut = start + Limits.maxName }
    }

    repeat {
        var tok: [UInt8] = []
        while true {
            if c != noChar && !bslash {
                if used >= limit {
                    tooLong()
                    return fail()
                }
                var cc = c
                if cc == 0xFF && !eightBitAddrOK { cc &= 0x7F }
                tok.append(UInt8(cc))
                used += 1
            }
            c = byte(p)
            p += 1
            if c == 0 {
                if ignoreUnbalanced {
                    break
                } else if state == CharType.qst.rawValue {
                    report("553 Unbalanced '\"'")
                    c = Int(UInt8(ascii: "\""))
                } else if comments > 0 {
                    report("553 Unbalanced '('")
                    c = Int(UInt8(ascii: ")"))
                } else if angles > 0 {
                    c = Int(UInt8(ascii: ">"))
                    report("553 Unbalanced '<'")
                } else {
                    break
                }
                p -= 1
            } else if c == d && comments <= 0 && state != CharType.qst.rawValue {
                if angles <= 0 { break }
                if d == Int(UInt8(ascii: ",")) && !routeSyntax && !ignoreUnbalanced {
                    report("553 Unbalanced '<'")
                    c = Int(UInt8(ascii: ">"))
                    p -= 1
                }
            }

            if bslash {
                bslash = false
                if comments > 0 {
                    c = noChar
                    continue
                } else if c != Int(UInt8(ascii: "!")) || state == CharType.qst.rawValue {
                    if used >= limit {
                        tooLong()
                        return fail()
                    }
                    tok.append(UInt8(ascii: "\\"))
                    used += 1
                    continue
                }
            }

            if c == Int(UInt8(ascii: "\\")) {
                bslash = true
            } else if state == CharType.qst.rawValue {
                // inside quotes: nothing special
            } else if c == Int(UInt8(ascii: "(")) && lparenIsSpace {
                comments += 1
                c = noChar
            } else if c == Int(UInt8(ascii: ")")) && lparenIsSpace {
                if comments <= 0 {
                    if !ignoreUnbalanced {
                        report("553 Unbalanced ')'")
                        c = noChar
                    }
                } else {
                    comments -= 1
                }
            } else if comments > 0 {
                c = noChar
            } else if c == Int(UInt8(ascii: "<")) {
                angles += 1
                var q = p
                while q < n, isASCIISpace(addr[q]) { q += 1 }
                if q < n && addr[q] == UInt8(ascii: "@") { routeSyntax = true }
            } else if c == Int(UInt8(ascii: ">")) {
                if angles <= 0 {
                    if !ignoreUnbalanced {
                        report("553 Unbalanced '>'")
                        c = noChar
                    }
                } else {
                    angles -= 1
                }
                routeSyntax = false
            } else if d == Int(UInt8(ascii: " ")) && c >= 0 && c < 256 && isASCIISpace(UInt8(c)) {
                c = Int(UInt8(ascii: " "))
            }

            if c == noChar { continue }
            if c == d && angles <= 0 && state != CharType.qst.rawValue { break }

            let newState = stateTable[Int(state)][Int(table[UInt8(c)].rawValue)]
            state = newState & typeMask
            if state == CharType.ill.rawValue {
                let ch = UInt8(c)
                if ch >= 0x20 && ch < 0x7F {
                    report("553 Illegal character \(String(UnicodeScalar(ch)))")
                } else {
                    report("553 Illegal character 0x" + hex2(ch))
                }
            }
            if newState & M != 0 { c = noChar }
            if newState & B != 0 { break }
        }
        if !tok.isEmpty {
            if used >= limit {
                tooLong()
                return fail()
            }
            used += 1
            if tokens.count >= Limits.maxAtoms {
                report("553 5.1.0 prescan: too many tokens")
                return fail()
            }
            if tok.count > Limits.maxName {
                report("553 5.1.0 prescan: token too long")
                return fail()
            }
            tokens.append(tok)
        }
    } while c != 0 && (c != d || angles > 0)

    let end = p > start ? p - 1 : p
    return PrescanResult(tokens: tokens.isEmpty ? nil : tokens, end: end)
}

@inline(__always)
func hex2(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: [digits[Int(b >> 4)], digits[Int(b & 15)]], as: UTF8.self)
}
