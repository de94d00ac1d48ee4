// SMRules/Meta.swift
//
// sendmail's internal metasymbol bytes.  Configuration text is turned into
// this byte form when it is read ("$*" becomes 0220, "$#" becomes 0226 ...),
// and tokens in a rewrite workspace carry the same bytes.  Keeping sendmail's
// exact encoding means printing, matching and `=S` dumps come out the same.
// Promises: the values equal sendmail 8.17's; nothing here allocates.

import SMBase

public enum Meta {
    public static let macroExpand: UInt8 = 0o201     // $x
    public static let macroDeferred: UInt8 = 0o202   // $&x
    public static let metaQuote: UInt8 = 0o377       // quote next byte
    public static let lookupBegin: UInt8 = 0o205     // $(
    public static let lookupEnd: UInt8 = 0o206       // $)
    public static let matchZeroOrMore: UInt8 = 0o220 // $*
    public static let matchOneOrMore: UInt8 = 0o221  // $+
    public static let matchOne: UInt8 = 0o222        // $-
    public static let matchClass: UInt8 = 0o223      // $=X
    public static let matchNotClass: UInt8 = 0o224   // $~X
    public static let matchReplace: UInt8 = 0o225    // $1..$9
    public static let canonNet: UInt8 = 0o226        // $#
    public static let canonHost: UInt8 = 0o227       // $@ (also "match zero" on the LHS)
    public static let canonUser: UInt8 = 0o230       // $:
    public static let callSubr: UInt8 = 0o231        // $>
    public static let condIf: UInt8 = 0o232          // $?
    public static let condElse: UInt8 = 0o233        // $|
    public static let condFi: UInt8 = 0o234          // $.
    public static let hostBegin: UInt8 = 0o235       // $[
    public static let hostEnd: UInt8 = 0o236         // $]

    /// `$c` names and the byte each stands for (sendmail's MetaMacros table,
    /// in its order: the order matters when printing).
    public static let metaMacros: [(name: UInt8, value: UInt8)] = [
        (UInt8(ascii: "*"), matchZeroOrMore), (UInt8(ascii: "+"), matchOneOrMore),
        (UInt8(ascii: "-"), matchOne), (UInt8(ascii: "="), matchClass),
        (UInt8(ascii: "~"), matchNotClass),
        (UInt8(ascii: "#"), canonNet), (UInt8(ascii: "@"), canonHost),
        (UInt8(ascii: ":"), canonUser), (UInt8(ascii: ">"), callSubr),
        (UInt8(ascii: "?"), condIf), (UInt8(ascii: "|"), condElse), (UInt8(ascii: "."), condFi),
        (UInt8(ascii: "["), hostBegin), (UInt8(ascii: "]"), hostEnd),
        (UInt8(ascii: "("), lookupBegin), (UInt8(ascii: ")"), lookupEnd),
        (UInt8(ascii: "&"), macroDeferred),
    ]

    /// The `$c` letter printed for a metasymbol byte, if it is one.
    @inlinable
    public static func metaName(_ b: UInt8) -> UInt8? {
        switch b {
        case matchZeroOrMore: return UInt8(ascii: "*")
        case matchOneOrMore: return UInt8(ascii: "+")
        case matchOne: return UInt8(ascii: "-")
        case matchClass: return UInt8(ascii: "=")
        case matchNotClass: return UInt8(ascii: "~")
        case canonNet: return UInt8(ascii: "#")
        case canonHost: return UInt8(ascii: "@")
        case canonUser: return UInt8(ascii: ":")
        case callSubr: return UInt8(ascii: ">")
        case condIf: return UInt8(ascii: "?")
        case condElse: return UInt8(ascii: "|")
        case condFi: return UInt8(ascii: ".")
        case hostBegin: return UInt8(ascii: "[")
        case hostEnd: return UInt8(ascii: "]")
        case lookupBegin: return UInt8(ascii: "(")
        case lookupEnd: return UInt8(ascii: ")")
        case macroDeferred: return UInt8(ascii: "&")
        default: return nil
        }
    }
}

/// sendmail's limits, named as in its sources.
public enum Limits {
    public static let maxAtoms = 1000          // MAXATOM: tokens in a workspace
    public static let maxName = 256            // MAXNAME: bytes in one token / address part
    public static let maxMatch = 9             // wildcards per LHS
    public static let maxRuleRecursion = 50    // MaxRuleRecursion
    public static let maxLoop = 100            // matches of one rule in a row
    public static let maxSubroutines = 16      // $> calls per RHS
    public static let maxMapArgs = 10          // MAX_MAP_ARGS
    public static let maxMacroRecursion = 10   // MaxMacroRecursion
    public static let maxMacroNameLength = 25  // MAXMACNAMELEN
    public static let psBufSize = 256 + 1000   // PSBUFSIZE (MAXNAME + MAXATOM)
    public static let maxRulesets = 200        // MAXRWSETS
    public static let macBufSize = 4096        // MACBUFSIZE
    public static let maxLine = 2048           // MAXLINE
}
