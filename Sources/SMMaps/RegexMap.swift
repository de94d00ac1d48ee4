// SMMaps/RegexMap.swift
//
// The regex class: POSIX regular expressions through glibc regcomp
// (extended and case-insensitive unless -b / -f).  A match answers the
// empty string (or, with -s, the chosen substrings joined by -d, default
// the CONDELSE byte \0233, $|), -n inverts, -a appends, -m
// answers the key.  Promises: map.c's parse errors ("pattern-compile-error:
// <regerror>", "field (N) out of range, only M substrings in pattern") and
// its refusal of results that prescan would choke on.
import SMRules
import Glibc
import SMBase

final class RegexMapBackend: MapBackend {
    static let maxMatch = 32
    var regex = regex_t()
    var compiled = false
    var fields: [Int]? = nil
    var delimiter: [UInt8] = [0x9B]   // CONDELSE (\0233, $|)

    deinit { if compiled { regfree(&regex) } }

    /// regex_map_init: flags, then the pattern (rest of line).  Returns
    /// false with messages when the map is not usable.
    static func parse(_ spec: inout MapSpec, _ args: [UInt8], messages: inout [String]) -> RegexMapBackend {
        let be = RegexMapBackend()
        var cflags = REG_ICASE | REG_EXTENDED | REG_NOSUB
        var c = ArgCursor(args)
        while true {
            c.skipSpace()
            guard c.cur == UInt8(ascii: "-") else { break }
            c.i += 1
            switch c.cur {
            case UInt8(ascii: "n"): spec.regexNot = true
            case UInt8(ascii: "f"): spec.noFoldCase = true; cflags &= ~REG_ICASE
            case UInt8(ascii: "b"): spec.regexBasic = true; cflags &= ~REG_EXTENDED
            case UInt8(ascii: "s"): c.i += 1; spec.regexSubstrings = c.word(); cflags &= ~REG_NOSUB
            case UInt8(ascii: "d"): c.i += 1; spec.regexDelimiter = c.word()
            case UInt8(ascii: "a"): c.i += 1; spec.append = c.word()
            case UInt8(ascii: "m"): spec.matchOnly = true
            case UInt8(ascii: "q"): spec.keepQuotes = true
            case UInt8(ascii: "S"): c.i += 1; spec.spaceSub = c.cur
            case UInt8(ascii: "D"): spec.`defer` = true
            default: break
            }
            _ = c.word()
        }
        let pattern = c.rest.string
        let rc = regcomp(&be.regex, pattern, cflags)
        if rc != 0 {
            var buf = [CChar](repeating: 0, count: 80)
            regerror(rc, &be.regex, &buf, buf.count)
            messages.append("pattern-compile-error: \(String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))")
            spec.valid = false
            return be
        }
        be.compiled = true
        if let d = spec.regexDelimiter { be.delimiter = d }
        if cflags & REG_NOSUB == 0 {
            let substrings = be.regex.re_nsub + 1
            if substrings >= maxMatch {
                messages.append("too many substrings, \(maxMatch) max")
                spec.valid = false
                return be
            }
            if let s = spec.regexSubstrings, !s.isEmpty {
                guard let f = parseFields(s, substrings: substrings, messages: &messages) else {
                    spec.valid = false
                    return be
                }
                be.fields = f
            } else {
                be.fields = Array(0..<substrings)
            }
        }
        return be
    }

    static func parseFields(_ s: [UInt8], substrings: Int, messages: inout [String]) -> [Int]? {
        var out: [Int] = []
        for part in s.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            if out.count >= maxMatch {
                messages.append("too many fields, \(maxMatch) max")
                return nil
            }
            let v = MapSpec.atoi(Array(part))
            if v < 0 || v >= substrings {
                messages.append("field (\(v)) out of range, only \(substrings) substrings in pattern")
                return nil
            }
            out.append(v)
        }
        return out
    }

    func open(_ map: SendmailMap) -> Bool { compiled }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        var pm = [regmatch_t](repeating: regmatch_t(), count: Self.maxMatch)
        var k = key
        if let z = k.firstIndex(of: 0) { k.removeSubrange(z...) }
        let res = k.string.withCString { regexec(&regex, $0, Self.maxMatch, &pm, 0) }
        let rewrite = { (v: [UInt8]) -> [UInt8] in
            map.spec.matchOnly ? map.rewrite(av[0], av: nil) : map.rewrite(v, av: av)
        }
        if map.spec.regexNot {
            return res == 1 /* REG_NOMATCH */ ? MapAnswer(rewrite([]), 0) : MapAnswer(nil, 0)
        }
        if res == 1 /* REG_NOMATCH */ || res != 0 { return MapAnswer(nil, 0) }
        guard let defaults = fields else { return MapAnswer(rewrite([]), 0) }
        var use = defaults
        if av.count > 1 {
            var msgs: [String] = []
            guard let f = Self.parseFields(av[1], substrings: regex.re_nsub + 1, messages: &msgs) else {
                for m in msgs { map.report(m) }
                return MapAnswer(nil, 78)
            }
            use = f
        }
        var out: [UInt8] = []
        var first = true
        var angle = 0, comment = 0, spaces = 0
        var quote = false, bslash = false
        let bytes = Array(k.string.utf8)
        for f in use {
            if !first { out.append(contentsOf: delimiter) } else { first = false }
            guard f < Self.maxMatch, pm[f].rm_so >= 0, pm[f].rm_eo >= 0 else { continue }
            for b in bytes[Int(pm[f].rm_so)..<Int(pm[f].rm_eo)] where out.count < 255 {
                out.append(b)
                if bslash { bslash = false; continue }
                if quote && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") { continue }
                switch b {
                case UInt8(ascii: "\\"): bslash = true
                case UInt8(ascii: "("): comment += 1
                case UInt8(ascii: ")"): comment -= 1
                case UInt8(ascii: "<"): angle += 1
                case UInt8(ascii: ">"): angle -= 1
                case 0x20: spaces += 1
                case UInt8(ascii: "\""): quote.toggle()
                default: break
                }
            }
        }
        if angle != 0 || comment != 0 || quote || bslash || spaces != 0 { return MapAnswer(nil, 0) }
        return MapAnswer(rewrite(out), 0)
    }
}
