// SMConfig/CfReader.swift
//
// Reads a sendmail.cf exactly as sendmail's readcf does: folded lines,
// comments, `$` translation, then one handler per line type (V D C F S R M
// O H K P T E Q X).  R, C, S and K lines are macro-expanded when read;
// only `$&` stays deferred.  Errors carry the file and line and use
// sendmail's wording; reading goes on wherever sendmail goes on.
// Promises: file and program access only through the injected `CfSource`.

import SMBase
import SMRules

/// Access to the outside world the reader needs (F lines).
public protocol CfSource {
    /// The contents of a file, or nil (with errno-style reason) if unreadable.
    func readFile(_ path: [UInt8]) -> Result<[UInt8], CfSourceError>
    /// The output of `sh -c command`.
    func runProgram(_ command: [UInt8]) -> [UInt8]?
}

public struct CfSourceError: Error, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// Things the reader must report the way sendmail prints them.
public protocol CfReporter: AnyObject {
    /// syserr with the current file/line prefix.
    func configError(_ message: String)
    /// A plain line on stdout (warnings sendmail prints with printf).
    func notice(_ message: String)
}

public struct CfReader {
    public let config: Configuration
    let source: CfSource
    let reporter: CfReporter
    public var testMode = false
    var lineNumber = 0
    /// True while the cf's lines are being read (sendmail's FileName is set):
    /// messages then carry "file: line N: ", even for line 0.
    var reading = false
    var ruleset = -1

    public init(config: Configuration, source: CfSource, reporter: CfReporter) {
        self.config = config
        self.source = source
        self.reporter = reporter
    }

    func err(_ msg0: String) {
        let msg = stripReplyCode(msg0).text
        let prefix = reading ? fileLinePrefix(config.fileName, lineNumber) : ""
        config.diagnostics.append(Diagnostic(file: config.fileName, line: lineNumber, msg))
        reporter.configError(prefix + msg)
    }

    /// sendmail's message() while reading: file and line in front, no error.
    func note(_ msg: String) {
        reporter.notice((reading ? fileLinePrefix(config.fileName, lineNumber) : "") + msg)
    }

    // MARK: - Line reading

    /// Splits the file into folded logical lines (continuation lines start
    /// with SP or TAB; the newline stays), with the physical line number of
    /// each logical line's last line.
    static func foldedLines(_ data: [UInt8]) -> [(text: [UInt8], line: Int)] {
        var result: [(text: [UInt8], line: Int)] = []
        var cur: [UInt8] = []
        var line = 0
        var i = 0
        let n = data.count
        var pending = false
        while i < n {
            var c = data[i]
            i += 1
            if c == 0x0D {
                if i < n && data[i] == 0x0A { c = 0x0A; i += 1 }
            }
            cur.append(c)
            pending = true
            if c == 0x0A {
                line += 1
                let next: UInt8? = i < n ? data[i] : nil
                if next != 0x20 && next != 0x09 {
                    cur.removeLast()
                    result.append((cur, line))
                    cur = []
                    pending = false
                }
            }
        }
        if pending {
            if cur.last == 0x0A { cur.removeLast() }
            result.append((cur, line))
        }
        return result
    }

    /// sendmail's translate_dollars applied to a cf line: inline comments
    /// (V3+), `$$`, `$x` to MACROEXPAND form, trailing white space.
    func translateLine(_ input: [UInt8]) -> [UInt8] {
        var b = quoteInternalChars(input)
        var p = 0
        while p < b.count {
            let c = b[p]
            if c == UInt8(ascii: "#") && p > 0 && config.configLevel >= 3 {
                let prev = b[p - 1]
                if prev == Meta.macroExpand {
                    p += 1
                    continue
                } else if prev == UInt8(ascii: "\\") {
                    b.remove(at: p - 1)
                    // now b[p-1] is '#'; continue after it
                    continue
                } else {
                    var q = p - 1
                    while q > 0 && isASCIISpace(b[q]) && b[q] != 0x0A { q -= 1 }
                    q += 1
                    if let nl = b[q...].firstIndex(of: 0x0A) {
                        b.removeSubrange(q..<nl)
                        p = q + 1
                    } else {
                        b.removeSubrange(q...)
                        break
                    }
                    continue
                }
            }
            if c != UInt8(ascii: "$") || p + 1 >= b.count {
                p += 1
                continue
            }
            if b[p + 1] == UInt8(ascii: "$") {
                b.remove(at: p)
                p += 1
                continue
            }
            b[p] = Meta.macroExpand
            p += 1
            if b[p] == UInt8(ascii: "=") || b[p] == UInt8(ascii: "~") || b[p] == UInt8(ascii: "&") || b[p] == UInt8(ascii: "?") {
                p += 1
                if p >= b.count { break }
            }
            let (id, end) = config.names.parse(b, at: p, report: { self.err($0) })
            b.replaceSubrange(p..<max(end, p + 1), with: [UInt8(truncatingIfNeeded: id)])
            p += 1
        }
        // sendmail never strips the first byte: "\n   " (an empty line
        // continued by white space) stays "\n" and is reported
        while b.count > 1, let last = b.last, isASCIISpace(last) { b.removeLast() }
        return b
    }

    // MARK: - Reading

    /// Reads a whole cf.
    public mutating func read(_ data: [UInt8]) {
        defineBuiltinMailers()
        reading = true
        defer { reading = false }
        for (text, line) in Self.foldedLines(data) {
            lineNumber = line
            if text.first == UInt8(ascii: "#") { continue }
            let bp = translateLine(text)
            handle(bp)
        }
    }

    mutating func defineBuiltinMailers() {
        let u: [UInt8] = [Meta.macroExpand, UInt8(ascii: "u")]
        makeMailer(Array("prog, P=/bin/sh, F=lsouDq9, T=X-Unix/X-Unix/X-Unix, A=sh -c ".utf8) + u)
        makeMailer(Array("*file*, P=[FILE], F=lsDFMPEouq9, T=X-Unix/X-Unix/X-Unix, A=FILE ".utf8) + u)
        makeMailer(Array("*include*, P=/dev/null, F=su, A=INCLUDE ".utf8) + u)
    }

    func expand(_ s: ArraySlice<UInt8>) -> [UInt8] {
        expandMacros(Array(s), config.macros, bufferSize: Limits.maxLine, report: { self.err($0) })
    }

    mutating func handle(_ bp: [UInt8]) {
        guard let kind = bp.first else { return }
        let rest = bp[1...]
        switch kind {
        case UInt8(ascii: "#"):
            return
        case UInt8(ascii: "R"):
            readRule(bp)
        case UInt8(ascii: "S"):
            let ex = expand(rest)
            let (n, _) = config.rulesets.resolve(ex, enter: true, report: { self.err($0) })
            guard let n else {
                ruleset = -1
                return
            }
            ruleset = n
            if config.rulesets.rules[n] != nil && (testMode) {
                reporter.notice("WARNING: Ruleset \(Array(rest).string) has multiple definitions")
            }
        case UInt8(ascii: "D"):
            let (mid, end) = config.names.parse(bp, at: 1, report: { self.err($0) })
            if mid == 0 { return }
            config.macros[mid] = munchString(bp, from: end, delim: 0).value
        case UInt8(ascii: "H"):
            readHeader(Array(rest))
        case UInt8(ascii: "C"), UInt8(ascii: "T"):
            var words: [UInt8]
            var mid: Int
            if kind == UInt8(ascii: "C") {
                let (m, end) = config.names.parse(bp, at: 1, report: { self.err($0) })
                if m == 0 { return }
                mid = m
                words = expand(bp[end...])
            } else {
                mid = Int(UInt8(ascii: "t"))
                words = Array(rest)
            }
            for w in words.split(whereSeparator: { $0 < 0x80 && isASCIISpace($0) }) {
                config.classes.add(Array(w), to: mid)
            }
        case UInt8(ascii: "F"):
            readFileClass(bp)
        case UInt8(ascii: "M"):
            makeMailer(Array(rest))
        case UInt8(ascii: "O"):
            guard bp.count >= 2 else {
                err("readcf: unknown option name 0x0")
                return
            }
            setOption(bp[1], Array(bp[2...]))
        case UInt8(ascii: "P"):
            if config.priorities.count >= 25 {
                err("too many P lines, 25 max")
                return
            }
            guard let eq = rest.firstIndex(of: UInt8(ascii: "=")) else {
                err("unknown configuration line \"\(printable(bp))\"")
                return
            }
            config.priorities.append((Array(bp[1..<eq]), atoi(bp[(eq + 1)...])))
        case UInt8(ascii: "Q"):
            readQueueGroup(Array(rest))
        case UInt8(ascii: "X"):
            readMilter(Array(rest))
        case UInt8(ascii: "V"):
            readVersion(bp)
        case UInt8(ascii: "K"):
            let ex = expand(rest)
            makeMapEntry(ex)
        case UInt8(ascii: "E"):
            if let eq = bp.firstIndex(of: UInt8(ascii: "=")) {
                config.environment.append((Array(bp[1..<eq]), Array(bp[(eq + 1)...])))
            } else {
                config.environment.append((Array(rest), nil))
            }
        default:
            err("unknown configuration line \"\(printable(bp))\"")
        }
    }

    /// A raw line as sendmail's messages show it: bytes with the high bit
    /// stripped (its error output does that to every byte).
    func printable(_ b: [UInt8]) -> String {
        String(decoding: b.map { $0 & 0x7F }.filter { $0 != 0 }, as: UTF8.self)
    }

    // MARK: - R lines

    /// prescan sets e_to to the text it scans, so its messages carry the
    /// (shortened) text in front, as usrerr puts it.
    static func addressTagged(_ text: [UInt8], _ msg: String) -> String {
        let (_, _, body) = stripReplyCode(msg)
        if text.isEmpty { return body }
        return shortenString(text, 203).string + "... " + body
    }

    mutating func readRule(_ bp: [UInt8]) {
        if ruleset < 0 {
            err("missing valid ruleset for \"\(printable(bp))\"")
            return
        }
        guard let tab = bp[1...].firstIndex(of: 0x09) else {
            err("invalid rewrite line \"\(printable(bp))\" (tab expected)")
            return
        }
        let tables = config.tables()
        let table = config.configLevel >= 9 ? tables.noComment : tables.internal
        let lhsText = expand(bp[1..<tab])
        var lhs = prescan(lhsText, delim: 0x09, table: table, ignoreUnbalanced: true,
                          bufferSize: Limits.maxLine + Limits.maxAtoms,
                          report: { self.err(Self.addressTagged(lhsText, $0)) }).tokens
        var nfuzzy = 0
        if let l = lhs {
            for t in l {
                var botch: String? = nil
                switch t.first ?? 0 {
                case Meta.matchZeroOrMore, Meta.matchOneOrMore, Meta.matchOne, Meta.matchClass, Meta.matchNotClass:
                    nfuzzy += 1
                case Meta.matchReplace: botch = "$1-$9"
                case Meta.canonUser: botch = "$:"
                case Meta.callSubr: botch = "$>"
                case Meta.condIf: botch = "$?"
                case Meta.condFi: botch = "$."
                case Meta.hostBegin: botch = "$["
                case Meta.hostEnd: botch = "$]"
                case Meta.lookupBegin: botch = "$("
                case Meta.lookupEnd: botch = "$)"
                default: break
                }
                if let botch { err("Inappropriate use of \(botch) on LHS") }
            }
        } else {
            err("R line: null LHS")
            lhs = []
        }
        if nfuzzy > Limits.maxMatch {
            err("R line: too many wildcards")
            lhs = []
        }
        var p = tab
        while p + 1 < bp.count && bp[p + 1] == 0x09 { p += 1 }
        let q = p + 1
        var e = q
        while e < bp.count && bp[e] != 0x09 { e += 1 }
        let rhsText = expand(bp[min(q, bp.count)..<e])
        var rhs = prescan(rhsText, delim: 0x09, table: table, ignoreUnbalanced: true,
                          bufferSize: Limits.maxLine + Limits.maxAtoms,
                          report: { self.err(Self.addressTagged(rhsText, $0)) }).tokens
        if let r = rhs {
            var inMap = false
            var args = 0
            var endToken: UInt8 = 0
            let maxDigit = UInt8(ascii: "0") + UInt8(nfuzzy)
            for t in r {
                var botch: String? = nil
                switch t.first ?? 0 {
                case Meta.matchReplace:
                    let d = t.count > 1 ? t[1] : 0
                    if d <= UInt8(ascii: "0") || d > maxDigit {
                        err("replacement $\(String(UnicodeScalar(d))) out of bounds")
                    }
                case Meta.matchZeroOrMore: botch = "$*"
                case Meta.matchOneOrMore: botch = "$+"
                case Meta.matchOne: botch = "$-"
                case Meta.matchClass: botch = "$="
                case Meta.matchNotClass: botch = "$~"
                case Meta.canonHost:
                    if inMap {
                        args += 1
                        if args >= Limits.maxMapArgs { err("too many arguments for map lookup") }
                    }
                case Meta.hostBegin, Meta.lookupBegin:
                    endToken = t[0] == Meta.hostBegin ? Meta.hostEnd : Meta.lookupEnd
                    if inMap { err("cannot nest map lookups") }
                    inMap = true
                    args = 0
                case Meta.hostEnd, Meta.lookupEnd:
                    if t[0] == endToken {
                        inMap = false
                        endToken = 0
                    }
                default: break
                }
                if let botch { err("Inappropriate use of \(botch) on RHS") }
            }
            if inMap { err("missing map closing token") }
        } else {
            err("R line: null RHS")
            rhs = []
        }
        config.rulesets.append(Rule(lhs: lhs ?? [], rhs: rhs ?? [], line: lineNumber), to: ruleset)
    }

    // MARK: - V, D, F, K

    mutating func readVersion(_ bp: [UInt8]) {
        var p = 1
        while p < bp.count, isASCIISpace(bp[p]) { p += 1 }
        guard p < bp.count, isASCIIDigit(bp[p]) else {
            err("invalid argument to V line: \"\(Array(bp[1...].prefix(20)).string)\"")
            return
        }
        var v = 0
        while p < bp.count, isASCIIDigit(bp[p]) { v = min(v * 10 + Int(bp[p] - 48), 1_000_000); p += 1 }
        config.configLevel = v
        if v >= 5, let w = config.macros[Int(UInt8(ascii: "w"))], let dot = w.firstIndex(of: UInt8(ascii: ".")) {
            config.macros[Int(UInt8(ascii: "w"))] = Array(w[..<dot])
        }
        if p < bp.count && bp[p] == UInt8(ascii: "/") {
            p += 1
            var q = p
            while q < bp.count, isASCIIAlpha(bp[q]) { q += 1 }
            let vendor = Array(bp[p..<q])
            let known = ["Berkeley", "Sun", "HP", "IBM", "SGI", "Sendmail"]
            if known.contains(where: { Array($0.utf8).asciiCaseEquals(vendor) }) {
                config.vendor = vendor
            } else {
                err("invalid V line vendor code: \"\(vendor.string)\"")
            }
        }
    }

    /// sendmail's munchstring: backslash escapes and quotes; stops at delim.
    func munchString(_ s: [UInt8], from start: Int, delim: UInt8) -> (value: [UInt8], end: Int) {
        var out: [UInt8] = []
        var bslash = false
        var quote = false
        var p = start
        while p < s.count && out.count < Limits.maxLine - 1 {
            let c = s[p]
            if c == 0 { break }
            if bslash {
                switch c {
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "b"): out.append(0x08)
                default: out.append(c)
                }
                bslash = false
            } else if c == UInt8(ascii: "\\") {
                bslash = true
            } else if c == UInt8(ascii: "\"") {
                quote.toggle()
            } else if quote || c != delim || delim == 0 {
                out.append(c)
            } else {
                break
            }
            p += 1
        }
        return (out, p)
    }

    func atoi<S: Collection>(_ s: S) -> Int where S.Element == UInt8 {
        var it = s.drop(while: { isASCIISpace($0) })
        var neg = false
        if let f = it.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { neg = f == UInt8(ascii: "-"); it = it.dropFirst() }
        var v = 0
        for c in it { guard isASCIIDigit(c) else { break }; v = min(v * 10 + Int(c - 48), Int(Int32.max)) }
        return neg ? -v : v
    }

    mutating func readFileClass(_ bp: [UInt8]) {
        let (mid, end) = config.names.parse(bp, at: 1, report: { self.err($0) })
        if mid == 0 { return }
        var p = end
        while p < bp.count, isASCIISpace(bp[p]) { p += 1 }
        var optional = false
        if p + 1 < bp.count && bp[p] == UInt8(ascii: "-") && bp[p + 1] == UInt8(ascii: "o") {
            optional = true
            while p < bp.count, !isASCIISpace(bp[p]) { p += 1 }
            while p < bp.count, isASCIISpace(bp[p]) { p += 1 }
        }
        var q = p
        while q < bp.count, !isASCIISpace(bp[q]) { q += 1 }
        let file = Array(bp[p..<q])
        var fmt: [UInt8] = Array("%s".utf8)
        if file.first != UInt8(ascii: "|") {
            var r = q
            while r < bp.count, isASCIISpace(bp[r]) { r += 1 }
            if r < bp.count { fmt = Array(bp[r...]) }
        }
        var data: [UInt8]
        if file.first == UInt8(ascii: "|") {
            guard let out = source.runProgram(Array(file.dropFirst())) else {
                err("fileclass: cannot exec \(Array(file.dropFirst()).string)")
                return
            }
            data = out
        } else {
            switch source.readFile(file) {
            case .success(let d):
                data = d
            case .failure(let e):
                if !optional {
                    err("fileclass: cannot open '\(file.string)': \(e.reason)")
                }
                return
            }
        }
        for rawLine in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            var line = Array(rawLine)
            if line.first == UInt8(ascii: "#") { continue }
            if line.last == 0x0D { line.removeLast() }
            guard let word = scanOne(line, format: fmt) else { continue }
            for w in word.split(whereSeparator: { $0 < 0x80 && isASCIISpace($0) }) {
                config.classes.add(Array(w), to: mid)
            }
        }
    }

    /// A one-conversion sscanf: literal bytes, white space, `%s`, `%[set]`.
    func scanOne(_ input: [UInt8], format: [UInt8]) -> [UInt8]? {
        var i = 0, f = 0
        while f < format.count {
            let fc = format[f]
            if isASCIISpace(fc) {
                while i < input.count, isASCIISpace(input[i]) { i += 1 }
                f += 1
                continue
            }
            if fc != UInt8(ascii: "%") {
                guard i < input.count, input[i] == fc else { return nil }
                i += 1; f += 1
                continue
            }
            f += 1
            guard f < format.count else { return nil }
            if format[f] == UInt8(ascii: "s") {
                while i < input.count, isASCIISpace(input[i]) { i += 1 }
                let s = i
                while i < input.count, !isASCIISpace(input[i]) { i += 1 }
                return i > s ? Array(input[s..<i]) : nil
            }
            if format[f] == UInt8(ascii: "[") {
                f += 1
                var negate = false
                if f < format.count && format[f] == UInt8(ascii: "^") { negate = true; f += 1 }
                var set = Set<UInt8>()
                var first = true
                while f < format.count && (format[f] != UInt8(ascii: "]") || first) {
                    if f + 2 < format.count && format[f + 1] == UInt8(ascii: "-") && format[f + 2] != UInt8(ascii: "]") {
                        for c in format[f]...max(format[f], format[f + 2]) { set.insert(c) }
                        f += 3
                    } else {
                        set.insert(format[f])
                        f += 1
                    }
                    first = false
                }
                let s = i
                while i < input.count, set.contains(input[i]) != negate { i += 1 }
                return i > s ? Array(input[s..<i]) : nil
            }
            return nil
        }
        return nil
    }

    mutating func makeMapEntry(_ line: [UInt8]) {
        var p = 0
        while p < line.count, isASCIISpace(line[p]) { p += 1 }
        let ns = p
        while p < line.count, isASCIIAlnum(line[p]) || line[p] == UInt8(ascii: "_") || line[p] == UInt8(ascii: ".") { p += 1 }
        let name = Array(line[ns..<p])
        if name.isEmpty {
            err("readcf: config K line: no map name")
            return
        }
        if p >= line.count || !isASCIISpace(line[p]) {
            err("readcf: config K line, map \(name.string): no map class")
            return
        }
        while p < line.count, isASCIISpace(line[p]) { p += 1 }
        let cs = p
        while p < line.count, isASCIIAlnum(line[p]) || line[p] == UInt8(ascii: "_") || line[p] == UInt8(ascii: ".") { p += 1 }
        let cls = Array(line[cs..<p])
        if cls.isEmpty {
            err("readcf: config K line, map \(name.string): no map class")
            return
        }
        let args = Array(line[p...])
        if let known = knownMapClass, !known(cls) {
            err("readcf: map \(name.string): class \(cls.string) not available")
            return
        }
        config.maps.removeAll { $0.name.asciiCaseEquals(name) }
        let decl = MapDeclaration(name: name, className: cls, arguments: args,
                                  file: config.fileName, line: lineNumber)
        config.maps.append(decl)
        onMapDeclared?(decl)
    }

    /// Called for each accepted K line, so the map layer can parse its
    /// arguments (and report problems) at the line, as sendmail does.
    public var onMapDeclared: ((MapDeclaration) -> Void)? = nil

    /// Tells whether a map class exists (injected by the maps layer).
    public var knownMapClass: (([UInt8]) -> Bool)? = nil

    // MARK: - H lines

    /// H lines (sendmail's chompheader for configuration headers).
    mutating func readHeader(_ line: [UInt8]) {
        var s = line
        var p = 0
        var flags: [UInt8] = []
        var cond: [UInt8]? = nil
        func syntaxError(_ shown: [UInt8]) {
            err("553 5.3.0 header syntax error, line \"\(printable(shown))\"")
        }
        if p < s.count && s[p] == UInt8(ascii: "?") {
            p += 1
            guard let q = s[p...].firstIndex(of: UInt8(ascii: "?")) else { syntaxError(s); return }
            let inner = Array(s[p..<q])
            let cut = Array(s[..<q])   // sendmail NUL-terminates at the second '?'
            if inner.first == Meta.macroExpand {
                if inner.count < 2 { syntaxError(s); return }
                if inner.count > 2 { syntaxError(s); return }
                cond = config.names.name(of: Int(inner[1]))
            } else if inner.first == UInt8(ascii: "$") {
                if inner.count < 2 { syntaxError(s); return }
                let (id, end) = config.names.parse(inner, at: 1, report: { self.err($0) })
                if end != inner.count { syntaxError(s); return }
                cond = config.names.name(of: id)
            } else {
                for c in inner {
                    if c >= 0x80 { syntaxError(s); return }
                    flags.append(c)
                }
            }
            _ = cut
            s = Array(s[(q + 1)...])
            p = 0
            let fs = p
            while p < s.count, s[p] > 0x20, s[p] < 0x7F, s[p] != UInt8(ascii: ":") { p += 1 }
            let fe = p
            while p < s.count, isASCIISpace(s[p]) { p += 1 }
            if p >= s.count || s[p] != UInt8(ascii: ":") || fs == fe { syntaxError(cut); return }
            storeHeader(Array(s[fs..<fe]), flags, cond, Array(s[(p + 1)...]))
            return
        }
        let fs = p
        while p < s.count, s[p] > 0x20, s[p] < 0x7F, s[p] != UInt8(ascii: ":") { p += 1 }
        let fe = p
        while p < s.count, isASCIISpace(s[p]) { p += 1 }
        if p >= s.count || s[p] != UInt8(ascii: ":") || fs == fe { syntaxError(s); return }
        storeHeader(Array(s[fs..<fe]), flags, cond, Array(s[(p + 1)...]))
    }

    mutating func storeHeader(_ name: [UInt8], _ flags: [UInt8], _ cond: [UInt8]?, _ value: [UInt8]) {
        var v = value[...]
        while let f = v.first, isASCIISpace(f) { v = v.dropFirst() }
        config.headers.append(HeaderDefinition(name: name, flags: flags, macroCondition: cond,
                                               value: Array(v), line: lineNumber))
    }

    // MARK: - Q, X fields

    func fieldName(_ s: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        for c in s { if c == UInt8(ascii: ",") || isASCIISpace(c) { break }; out.append(c) }
        return out
    }

    func fields(_ s: ArraySlice<UInt8>) -> [(code: UInt8, value: [UInt8])] {
        var result: [(code: UInt8, value: [UInt8])] = []
        let b = Array(s)
        var p = 0
        while p < b.count, b[p] != UInt8(ascii: ","), !isASCIISpace(b[p]) { p += 1 }
        while p < b.count {
            while p < b.count, b[p] == UInt8(ascii: ",") || isASCIISpace(b[p]) { p += 1 }
            guard p < b.count else { break }
            let code = b[p]
            while p < b.count, b[p] != UInt8(ascii: "="), b[p] != UInt8(ascii: ",") { p += 1 }
            guard p < b.count, b[p] == UInt8(ascii: "=") else { break }
            p += 1
            while p < b.count, isASCIISpace(b[p]) { p += 1 }
            let (v, end) = munchString(b, from: p, delim: UInt8(ascii: ","))
            result.append((code, v))
            p = end
        }
        return result
    }
}
