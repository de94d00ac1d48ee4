// SMMaps/MapSpec.swift
//
// The parsed form of a K line's arguments: the generic map flags exactly
// as sendmail's map_parseargs reads them (-o -N -O -f -m -A -q -a -d -T -k
// -v -z -t -S -D, then the file name, then the "rebuild" rest), plus the
// per-class forms (host, dns, regex, dequote-like, syslog).  Promises:
// parsing never fails outright; problems are returned as sendmail-worded
// messages (the same text `sendmail -bt` prints after "file: line N: "),
// and `valid` is false exactly when sendmail would not set MF_VALID.
import SMBase

public struct MapSpec: Sendable, Equatable {
    public var name: [UInt8]
    public var className: [UInt8]

    public var optional = false          // -o   MF_OPTIONAL
    public var includeNull = false       // -N   MF_INCLNULL
    public var tryWithoutNull = true     //      MF_TRY0NULL (cleared by -N)
    public var tryWithNull = true        //      MF_TRY1NULL (cleared by -O)
    public var noFoldCase = false        // -f   MF_NOFOLDCASE
    public var matchOnly = false         // -m   MF_MATCHONLY
    public var appendDuplicates = false  // -A   MF_APPEND
    public var keepQuotes = false        // -q   MF_KEEPQUOTES
    public var append: [UInt8]?          // -a
    public var tempFailAppend: [UInt8]?  // -T
    public var keyColumn: [UInt8]?       // -k
    public var valueColumn: [UInt8]?     // -v
    public var columnDelimiter: UInt8 = 0 // -z (0: white space)
    public var noDefer = false           // -t   MF_NODEFER
    public var spaceSub: UInt8 = 0x20    // -S
    public var `defer` = false             // -D   MF_DEFER
    public var timeout: Int = 0          // -d (seconds)
    public var retry: Int = 0            // -r
    public var sizeLimit: Int = 0        // -Z (dns)
    public var file: [UInt8]?
    public var rebuild: [UInt8]?

    // class-specific
    public var dnsType: Int32 = -1       // dns -R
    public var regexNot = false          // regex -n
    public var regexBasic = false        // regex -b
    public var regexSubstrings: [UInt8]? // regex -s (nil: no -s)
    public var regexDelimiter: [UInt8]?  // regex -d
    public var syslogLevel: [UInt8]?     // syslog -L
    public var memberNames: [[UInt8]] = [] // sequence members

    /// False when sendmail would leave the map without MF_VALID.
    public var valid = true

    public init(name: [UInt8], className: [UInt8]) {
        self.name = name
        self.className = className
    }
}

/// A small cursor over a K line's argument bytes, C-string style: reading
/// past the end yields NUL, as sendmail's pointer walks do.
struct ArgCursor {
    let bytes: [UInt8]
    var i = 0
    init(_ b: [UInt8]) { bytes = b }
    var cur: UInt8 { i < bytes.count ? bytes[i] : 0 }
    var atEnd: Bool { i >= bytes.count }
    mutating func skipSpace() { while !atEnd, isASCIISpace(bytes[i]) { i += 1 } }
    /// Bytes from `i` up to the next white space (the cursor is left there).
    mutating func word() -> [UInt8] {
        let s = i
        while !atEnd, !isASCIISpace(bytes[i]) { i += 1 }
        return Array(bytes[s..<i])
    }
    /// Bytes from `i` up to (not including) the next SP only, as strchr(p, ' ').
    func untilSpace() -> [UInt8] {
        var j = i
        while j < bytes.count, bytes[j] != 0x20 { j += 1 }
        return Array(bytes[i..<j])
    }
    var rest: [UInt8] { i < bytes.count ? Array(bytes[i...]) : [] }
}

extension MapSpec {
    /// sendmail's convtime with a default unit: "30", "30s", "2m", "1h".
    static func convtime(_ s: [UInt8], defaultUnit: UInt8) -> Int {
        var total = 0, i = 0
        repeat {
            var n = 0
            while i < s.count, isASCIIDigit(s[i]) { n = n * 10 + Int(s[i] - 0x30); i += 1 }
            var unit = defaultUnit
            if i < s.count, isASCIIAlpha(s[i]) { unit = asciiLower(s[i]); i += 1 }
            switch unit {
            case UInt8(ascii: "w"): n *= 7 * 86400
            case UInt8(ascii: "d"): n *= 86400
            case UInt8(ascii: "h"): n *= 3600
            case UInt8(ascii: "m"): n *= 60
            default: break
            }
            total += n
        } while i < s.count && isASCIIDigit(s[i])
        return total
    }

    static func atoi(_ s: [UInt8]) -> Int {
        var i = 0, neg = false, n = 0
        while i < s.count, isASCIISpace(s[i]) { i += 1 }
        if i < s.count, s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+") {
            neg = s[i] == UInt8(ascii: "-"); i += 1
        }
        while i < s.count, isASCIIDigit(s[i]) { n = n &* 10 &+ Int(s[i] - 0x30); i += 1 }
        return neg ? -n : n
    }

    /// -z's argument: a character, or \n, \t, \ (anything else after \).
    static func delimiter(_ c: inout ArgCursor) -> UInt8 {
        c.i += 1
        if c.cur != UInt8(ascii: "\\") { return c.cur }
        c.i += 1
        switch c.cur {
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "t"): return 0x09
        default: return UInt8(ascii: "\\")
        }
    }

    /// The flags-then-file form (map_parseargs).  `fileOptional` is the
    /// class's MCF_OPTFILE.
    mutating func parseGeneric(_ args: [UInt8], fileOptional: Bool, messages: inout [String]) {
        var c = ArgCursor(args)
        while true {
            c.skipSpace()
            guard c.cur == UInt8(ascii: "-") else { break }
            c.i += 1
            let flag = c.cur
            switch flag {
            case UInt8(ascii: "N"): includeNull = true; tryWithoutNull = false
            case UInt8(ascii: "O"): tryWithNull = false
            case UInt8(ascii: "o"): optional = true
            case UInt8(ascii: "f"): noFoldCase = true
            case UInt8(ascii: "m"): matchOnly = true
            case UInt8(ascii: "A"): appendDuplicates = true
            case UInt8(ascii: "q"): keepQuotes = true
            case UInt8(ascii: "a"): c.i += 1; append = c.word()
            case UInt8(ascii: "d"): c.i += 1; timeout = Self.convtime(c.untilSpace(), defaultUnit: UInt8(ascii: "s"))
            case UInt8(ascii: "T"): c.i += 1; tempFailAppend = c.word()
            case UInt8(ascii: "k"):
                c.i += 1; c.skipSpace(); keyColumn = c.word()
            case UInt8(ascii: "v"):
                c.i += 1; c.skipSpace(); valueColumn = c.word()
            case UInt8(ascii: "z"): columnDelimiter = Self.delimiter(&c)
            case UInt8(ascii: "t"): noDefer = true
            case UInt8(ascii: "S"): c.i += 1; spaceSub = c.cur
            case UInt8(ascii: "D"): `defer` = true
            default:
                messages.append("Illegal option \(Character(Unicode.Scalar(flag))) map \(name.string)")
            }
            _ = c.word()
        }
        c.skipSpace()
        if !c.atEnd { file = c.word() }
        c.skipSpace()
        if !c.atEnd { rebuild = c.rest }
        if file == nil && !fileOptional {
            messages.append("No file name for \(className.string) map \(name.string)")
            valid = false
        }
    }

    /// host_map_init: -a -T -m -t -S -D -d -r; other letters are ignored.
    mutating func parseHost(_ args: [UInt8]) {
        var c = ArgCursor(args)
        while true {
            c.skipSpace()
            guard c.cur == UInt8(ascii: "-") else { break }
            c.i += 1
            switch c.cur {
            case UInt8(ascii: "a"): c.i += 1; append = c.word()
            case UInt8(ascii: "T"): c.i += 1; tempFailAppend = c.word()
            case UInt8(ascii: "m"): matchOnly = true
            case UInt8(ascii: "t"): noDefer = true
            case UInt8(ascii: "S"): c.i += 1; spaceSub = c.cur
            case UInt8(ascii: "D"): `defer` = true
            case UInt8(ascii: "d"):
                c.i += 1; c.skipSpace()
                timeout = Self.convtime(c.untilSpace(), defaultUnit: UInt8(ascii: "s"))
            case UInt8(ascii: "r"): c.i += 1; c.skipSpace(); retry = Self.atoi(c.untilSpace())
            default: break
            }
            _ = c.word()
        }
    }

    /// dequote_init (also used by macro, arith and arpa): -a, -D, -S/-s;
    /// sets MF_KEEPQUOTES.  Parsing stops at the first flag's end, as
    /// sendmail's loop does (it NUL-terminates instead of advancing).
    mutating func parseDequote(_ args: [UInt8]) {
        keepQuotes = true
        spaceSub = 0
        var c = ArgCursor(args)
        c.skipSpace()
        guard c.cur == UInt8(ascii: "-") else { return }
        c.i += 1
        switch c.cur {
        case UInt8(ascii: "a"): c.i += 1; append = c.word()
        case UInt8(ascii: "D"): `defer` = true
        case UInt8(ascii: "S"), UInt8(ascii: "s"): c.i += 1; spaceSub = c.cur
        default: break
        }
    }

    /// syslog_map_parseargs: -L level, -D; the rest is ignored.
    mutating func parseSyslog(_ args: [UInt8]) {
        var c = ArgCursor(args)
        while true {
            c.skipSpace()
            guard c.cur == UInt8(ascii: "-") else { break }
            c.i += 1
            switch c.cur {
            case UInt8(ascii: "L"): c.i += 1; c.skipSpace(); syslogLevel = c.word()
            case UInt8(ascii: "D"): `defer` = true
            default: break
            }
            _ = c.word()
        }
    }

    /// seq_map_parse: member names made of alnum, '_' and '.'.
    mutating func parseSequence(_ args: [UInt8]) {
        var i = 0
        let b = args
        while i < b.count {
            while i < b.count, isASCIISpace(b[i]) { i += 1 }
            let s = i
            while i < b.count, isASCIIAlnum(b[i]) || b[i] == UInt8(ascii: "_") || b[i] == UInt8(ascii: ".") { i += 1 }
            let member = Array(b[s..<i])
            if i < b.count { i += 1 }
            while i < b.count, !isASCIIAlnum(b[i]) { i += 1 }
            if !member.isEmpty { memberNames.append(member) }
        }
    }
}
