// SMConfig/CfReader+Options.swift
//
// O lines (sendmail's setoption for the cf): long and one-letter names,
// abbreviations, sub-options (`Timeout.x`, `Milter.macros.x`), and options
// given on the command line staying fixed.
// Promises: values are kept as written; typed readers live with their users.

import SMBase
import SMRules

extension CfReader {
    /// ResolverOptions words: the resolver flags sendmail 8.17 names
    /// (Debian's build) and its own two.
    static let resolverWords: Set<String> = [
        "debug", "aaonly", "usevc", "primary", "igntc", "recurse", "defnames", "stayopen", "dnsrch",
        "use_edns0", "use_dnssec", "trustad", "true", "haswildcardmx", "workaroundbrokenaaaa",
    ]

    /// An option from the command line (-o/-O): set, then fixed against
    /// the cf.
    public mutating func setCommandLineOption(_ code: UInt8, _ rest: [UInt8]) {
        let before = config.options
        // sticky only keeps the cf from overriding: a later command-line
        // setting of the same option wins, as in sendmail
        let sticky = config.options.sticky
        config.options.sticky = []
        setOption(code, rest)
        config.options.sticky.formUnion(sticky)
        for (k, v) in config.options.values where before.values[k] != v || before.values[k] == nil {
            config.options.sticky.insert(k)
        }
        for (k, v) in config.options.subValues where before.subValues[k] != v || before.subValues[k] == nil {
            config.options.sticky.insert(k)
        }
    }

    /// `code` is the byte after `O`: a space for long names, else the letter.
    mutating func setOption(_ code: UInt8, _ rest: [UInt8]) {
        var name: String
        var value: [UInt8]
        var sub: String? = nil
        if code == UInt8(ascii: " ") {
            var s = rest
            while s.first == UInt8(ascii: " ") { s.removeFirst() }
            let eq = s.firstIndex(of: UInt8(ascii: "=")) ?? s.count
            var n = Array(s[..<eq])
            while n.last == UInt8(ascii: " ") { n.removeLast() }
            if let sp = n.firstIndex(of: UInt8(ascii: " ")) { n = Array(n[..<sp]) }
            if n.isEmpty {
                err("readcf: null option name")
                return
            }
            var v = eq < s.count ? Array(s[(eq + 1)...]) : []
            while v.first == UInt8(ascii: " ") { v.removeFirst() }
            value = v
            var base = n
            if let dot = n.firstIndex(of: UInt8(ascii: ".")) {
                sub = Array(n[(dot + 1)...]).string
                base = Array(n[..<dot])
            }
            switch OptionNames.resolve(base.string) {
            case .unknown:
                err("readcf: unknown option name \(base.string)")
                return
            case .ambiguous(let a, let b):
                err("readcf: ambiguous option name \(base.string) (matches \(a) and \(b))")
                return
            case .found(let full, let abbreviated):
                if abbreviated {
                    note("Option \(base.string) used as abbreviation for \(full)")
                }
                name = full
            }
        } else {
            guard let full = OptionNames.name(forCode: Character(UnicodeScalar(code))) else {
                err("readcf: unknown option name 0x\(String(code, radix: 16))")
                return
            }
            name = full
            value = rest
        }
        let key = sub.map { "\(name).\($0)" } ?? name
        if config.options.sticky.contains(key) { return }
        if name == "DeliveryMode", let m = value.first, !Array("ibqd".utf8).contains(m) {
            // sendmail stops here, whatever the mode
            reporter.notice("Unknown delivery mode \(String(UnicodeScalar(m)))")
            if config.fatalExit == nil { config.fatalExit = 64 }
            return
        }
        if name == "MaxHeadersLength", case let n = Self.leadingInt(value), n > 0 && n < 16384 {
            // (sendmail's setoption(), for the cf's O line and -O alike)
            reporter.notice("Warning: MaxHeadersLength: headers length limit set lower than 16384")
        }
        if name == "DontBlameSendmail" {
            // every name must be known (checked as given, matched without case)
            for raw in DontBlame.rawItems(value) where !DontBlame.names.contains(raw.lowercased()) {
                err("readcf: DontBlameSendmail option: \(raw) unrecognized")
                return
            }
        }
        if name == "ResolverOptions" {
            // each word must name a resolver flag (the words sendmail 8.17 knows)
            for raw in value.split(separator: UInt8(ascii: " ")) {
                var w = Array(raw)
                if w.first == UInt8(ascii: "+") || w.first == UInt8(ascii: "-") { w.removeFirst() }
                if !Self.resolverWords.contains(String(decoding: w, as: UTF8.self).lowercased()) {
                    err("readcf: I option value \(String(decoding: w, as: UTF8.self)) unrecognized")
                }
            }
        }
        if sub != nil {
            config.options.subValues[key] = value
        } else {
            config.options[name] = value
        }
    }
}
