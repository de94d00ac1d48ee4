// SMEngine/DeliveryFormat.swift
//
// The pure pieces of handing a queued message to a mailer, as sendmail's
// deliver(), putfromline(), putheader() and putbody() shape them:
//   - the argv from A= (words before the `$u` word expanded once, the
//     `$u` word once per recipient, the words after it once more);
//   - whether a queued header goes to a mailer (`?flags?` must meet the
//     mailer's F=, `?$x?` needs the macro defined);
//   - the body as the mailer gets it (F=E `>From `, F=X dot doubling,
//     F=7 high bit stripped, E= line ends, F=b trailing blank line);
//   - putxline()'s L= limit: a longer line is cut every L-1 bytes (L-2
//     after the first piece) with "!", the line end and a blank, for
//     headers and body alike;
//   - the -v "tobuf" list and the sysexits texts giveresponse() prints.
// Promises: no I/O; bytes in, bytes out.

import SMBase
import SMRules
import SMQueueFormat

public enum DeliveryFormat {
    static let macroU: [UInt8] = [Meta.macroExpand, UInt8(ascii: "u")]

    /// True when `word` contains the `$u` macro reference.
    public static func mentionsUser(_ word: [UInt8]) -> Bool {
        var i = 0
        while i + 1 < word.count {
            if word[i] == Meta.macroExpand && word[i + 1] == UInt8(ascii: "u") { return true }
            i += 1
        }
        return false
    }

    /// True when A= has no `$u` word: sendmail would speak SMTP/LMTP to
    /// the program ("clever" mode).
    public static func speaksSMTP(_ template: [[UInt8]]) -> Bool {
        !template.dropFirst().contains(where: mentionsUser)
    }

    /// deliver()'s argv: argv[0] verbatim; words up to the `$u` word
    /// expanded once; the `$u` word once per user (`expand(word, user)`
    /// sees $u set to that user); the remaining words expanded after.
    public static func buildArgv(template: [[UInt8]], users: [[UInt8]],
                                 expand: ([UInt8], [UInt8]?) -> [UInt8]) -> [[UInt8]] {
        guard let first = template.first else { return [] }
        var argv: [[UInt8]] = [first]
        var i = 1
        while i < template.count, !mentionsUser(template[i]) {
            argv.append(expand(template[i], nil))
            i += 1
        }
        guard i < template.count else { return argv }
        for u in users { argv.append(expand(template[i], u)) }
        i += 1
        while i < template.count {
            argv.append(expand(template[i], nil))
            i += 1
        }
        return argv
    }

    /// putheader()'s selection: a header with mailer-flag letters goes
    /// only to mailers having one of them; a `$x` condition needs the
    /// macro to have a value.
    public static func headerSelected(_ h: QueueFile.Header, mailerFlags: Set<UInt8>,
                                      macroDefined: ([UInt8]) -> Bool) -> Bool {
        if let m = h.conditionMacro { return macroDefined(m) }
        let f = h.conditionFlags
        if f.isEmpty { return true }
        return f.contains(where: { mailerFlags.contains($0) })
    }

    /// True when `v` holds a MACROEXPAND byte not escaped by METAQUOTE.
    public static func hasUnquotedMacro(_ v: [UInt8]) -> Bool {
        var i = 0
        while i < v.count {
            if v[i] == Meta.metaQuote { i += 2; continue }
            if v[i] == Meta.macroExpand { return true }
            i += 1
        }
        return false
    }

    /// dequote_internal_chars(): METAQUOTE + byte becomes the byte.
    public static func dequote(_ v: [UInt8]) -> [UInt8] {
        guard v.contains(Meta.metaQuote) else { return v }
        var out: [UInt8] = []
        out.reserveCapacity(v.count)
        var i = 0
        while i < v.count {
            if v[i] == Meta.metaQuote, i + 1 < v.count { out.append(v[i + 1]); i += 2; continue }
            out.append(v[i])
            i += 1
        }
        return out
    }

    /// One header as written: `Name: value`, folded lines kept (one that
    /// does not start with a blank gets one), each line ended by `eol`,
    /// long lines split at the mailer's L= (putxline()); `strip`: F=7.
    public static func headerLines(name: [UInt8], value: [UInt8], eol: [UInt8], lineLimit: Int = 0,
                                   strip: Bool = false) -> [UInt8] {
        var v = value[...]
        while let c = v.first, c == 0x20 || c == 0x09 { v = v.dropFirst() }
        let text = name + [0x3A, 0x20] + v
        var out: [UInt8] = []
        var start = 0
        var first = true
        while start <= text.count {
            var end = start
            while end < text.count, text[end] != 0x0A { end += 1 }
            var line = text[start..<end]
            // (nothing after a final line end)
            if !first && line.isEmpty && end == text.count { break }
            if !first, line.first.map({ $0 != 0x20 && $0 != 0x09 }) ?? true { line = ([0x20] + line)[...] }
            putLine(line, into: &out, limit: lineLimit, eol: eol, strip: strip)
            first = false
            start = end + 1
        }
        return out
    }

    /// putxline() for one line (without its end): the high bit stripped
    /// (`strip`), a leading "." doubled (`dots`, F=X), "From " escaped
    /// (`escapeFrom`, F=E), and, with a line limit, every `limit - 1`
    /// bytes (`limit - 2` after the first piece) followed by "!", the
    /// line end and a blank.
    public static func putLine(_ line: ArraySlice<UInt8>, into out: inout [UInt8], limit: Int, eol: [UInt8],
                               dots: Bool = false, escapeFrom: Bool = false, strip: Bool = false) {
        let l = strip ? ArraySlice(line.map { $0 & 0x7F }) : line
        var s = l.startIndex
        var slop = 0
        func prefix() {
            if dots, l[s...].first == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            if escapeFrom, l[s...].starts(with: [0x46, 0x72, 0x6F, 0x6D, 0x20]) { out.append(UInt8(ascii: ">")) }
        }
        while limit > 0, l.endIndex - s + slop > limit {
            let q = max(s + 1, s + limit - slop - 1)
            if slop == 0 { prefix() }
            out += l[s..<q]
            out.append(UInt8(ascii: "!"))
            out += eol
            out.append(0x20)
            s = q
            slop = 1
        }
        if slop == 0 { prefix() }
        out += l[s...]
        out += eol
    }

    /// putbody(): every line of the data file with the mailer's
    /// transformations and line end; a final line without a newline is
    /// ended too.
    public static func body(_ data: [UInt8], mailerFlags f: Set<UInt8>, eol: [UInt8], lineLimit: Int = 0) -> [UInt8] {
        let escapeFrom = f.contains(UInt8(ascii: "E"))
        let dots = f.contains(UInt8(ascii: "X"))
        let strip = f.contains(UInt8(ascii: "7"))
        var out: [UInt8] = []
        out.reserveCapacity(data.count + data.count / 40 + 8)
        var start = 0
        while start < data.count {
            var end = start
            while end < data.count, data[end] != 0x0A { end += 1 }
            putLine(data[start..<end], into: &out, limit: lineLimit, eol: eol, dots: dots, escapeFrom: escapeFrom, strip: strip)
            start = end + 1
        }
        // F=b: a blank line after a body whose last line was complete
        if f.contains(UInt8(ascii: "b")), data.last == 0x0A { out += eol }
        return out
    }

    /// The list -v shows for a delivery: the recipients' printable
    /// addresses, last one first (as sendmail's recipient chain).
    public static func toList(_ printable: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for (i, p) in printable.reversed().enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += p
        }
        return out
    }

    /// sendmail's SysExMsg texts.
    public static func statusText(_ code: Int32) -> String? {
        switch code {
        case 64: return "Command line usage error"
        case 65: return "Data format error"
        case 66: return "Cannot open input"
        case 67: return "User unknown"
        case 68: return "Host unknown"
        case 69: return "Service unavailable"
        case 70: return "Internal error"
        case 71: return "Operating system error"
        case 72: return "System file missing"
        case 73: return "Can't create output"
        case 74: return "I/O error"
        case 75: return "Deferred"
        case 76: return "Remote protocol error"
        case 77: return "Insufficient permission"
        case 78: return "Local configuration error"
        default: return nil
        }
    }

    /// The EX_ name of a sysexits code (for "exited with EX_TEMPFAIL").
    public static func exitName(_ code: Int32) -> String {
        let names: [Int32: String] = [
            64: "EX_USAGE", 65: "EX_DATAERR", 66: "EX_NOINPUT", 67: "EX_NOUSER", 68: "EX_NOHOST",
            69: "EX_UNAVAILABLE", 70: "EX_SOFTWARE", 71: "EX_OSERR", 72: "EX_OSFILE", 73: "EX_CANTCREAT",
            74: "EX_IOERR", 75: "EX_TEMPFAIL", 76: "EX_PROTOCOL", 77: "EX_NOPERM", 78: "EX_CONFIG",
        ]
        return names[code] ?? "\(code)"
    }

    /// Exit codes after which the recipient stays in the queue.
    public static func isTemporary(_ code: Int32) -> Bool {
        [71, 74, 75].contains(code)
    }
}
