// SMEngine/AddressParser.swift
//
// sendmail's address pipeline over the rewrite engine: parseaddr
// (prescan, rulesets 3 and 0, buildaddr into mailer/host/user), the
// per-mailer rewriting of buildaddr (2, R=, 4) and remotename (3, 1 or 2,
// S=/R=, 4, then the crackaddr "fancy" form).  Used by `-bt` /parse and
// /try, -bv, and later by delivery.
// Promises: messages are printed as sendmail prints them outside SMTP;
// nothing here does I/O beyond the engine's maps.

import SMBase
import SMRules
import SMConfig
import Glibc

public struct ParsedAddress: Sendable {
    public var mailer: Mailer?
    public var mailerName: [UInt8]
    public var host: [UInt8]?
    public var user: [UInt8]
    public var printable: [UInt8]
    public var isError = false
    public var queueUp = false
    /// QS_BADADDR: the address is unusable (error mailer, bad characters).
    public var badAddress = false
    public var status: [UInt8]? = nil
    public var exitStatus: SysExit = .ok
    /// QNOTREMOTE: a local user given as "@user" by ruleset 0 to an F=@
    /// mailer (LOCAL_USER's names): ruleset 5 does not hand it on.
    public var notRemote = false
}

public struct AddressFlags: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let sender = AddressFlags(rawValue: 1)        // RF_SENDERADDR
    public static let header = AddressFlags(rawValue: 2)        // RF_HEADERADDR
    public static let canonical = AddressFlags(rawValue: 4)     // RF_CANONICAL
    public static let addDomain = AddressFlags(rawValue: 8)     // RF_ADDDOMAIN
}

extension Engine {
    var crackOptions: CrackOptions {
        var mq = Array("@,;:\\()[].'".utf8)
        if let v = config.options["MustQuoteChars"] { mq = Array("@,;:\\()[]".utf8) + v }
        var colon = config.configLevel < 6
        if let v = config.options["ColonOkInAddr"] { colon = parseBool(v) }
        return CrackOptions(mustQuote: mq, colonOkInAddr: colon)
    }

    var eightBitAddrOK: Bool { cachedOption("EightBitAddrOK", &eightBitAddrOKCache) }

    /// A boolean option parsed once and kept until an option changes (it
    /// is read for every address, and the name's lookup costs more than
    /// the check it decides).
    func cachedOption(_ name: String, _ cache: inout (generation: Int, value: Bool)) -> Bool {
        let g = config.options.generation
        if cache.generation != g { cache = (g, config.options.bool(name)) }
        return cache.value
    }

    /// sendmail's invalidaddr: 8-bit bytes and overlong addresses.
    func invalidAddress(_ addr: [UInt8], isRecipient: Bool) -> Bool {
        var bad = false
        var a = addr
        for (i, c) in a.enumerated() {
            if c == 0 { break }
            if !eightBitAddrOK && (c & 0o340) == 0o200 {
                bad = true
                a[i] = UInt8(ascii: "?")
            }
            if i + 1 > Limits.maxName - 1 {
                // sendmail NUL-terminates the address here while it reports,
                // and e_to is usually that same string
                let cut = Array(a[0..<i])
                let save = rewriter.currentAddress
                if save == addr { rewriter.currentAddress = cut }
                rewriter.userError("553 5.1.0 Address \"\(cut.rawString)\" too long (\(Limits.maxName - 1) bytes max)")
                rewriter.currentAddress = save
                return true
            }
        }
        if bad {
            rewriter.setStatus(.usage)
            rewriter.userError("501 5.1.\(isRecipient ? 3 : 7) 8-bit character in mailbox address \"\(a.rawString)\"")
        }
        return bad
    }

    /// sendmail's hasctrlchar: control characters outside quotes, a
    /// trailing backslash, 0200-0237 bytes, unbalanced quotes, overlong
    /// text.  Offending bytes become '?' in place.
    func hasControlCharacters(_ s: inout [UInt8], isRecipient: Bool, complain: Bool) -> Bool {
        var quoted = false
        var result: String? = nil
        var i = 0
        while i < s.count, s[i] != 0 {
            if i + 1 > Limits.maxName - 1 {
                if complain {
                    rewriter.userError("553 5.1.0 Address \"\(Array(s.prefix(Limits.maxName - 1)).rawString)\" too long (\(Limits.maxName - 1) bytes max)")
                    return true
                }
                result = "too long"
            }
            let c = s[i]
            if !quoted && (c < 32 || c == 127) {
                result = "non-printable character"
                s[i] = UInt8(ascii: "?")
                i += 1
                continue
            }
            if c == UInt8(ascii: "\"") {
                quoted.toggle()
            } else if c == UInt8(ascii: "\\") {
                i += 1
                if i >= s.count || s[i] == 0 {
                    result = "trailing \\ character"
                    s[i - 1] = UInt8(ascii: "?")
                    break
                }
            }
            if !eightBitAddrOK && (s[i] & 0o340) == 0o200 {
                rewriter.setStatus(.usage)
                result = "8-bit character"
                s[i] = UInt8(ascii: "?")
                i += 1
                continue
            }
            i += 1
        }
        if quoted { result = "unbalanced quote" }
        if let r = result, complain {
            rewriter.userError("501 5.1.\(isRecipient ? 3 : 7) Syntax error in mailbox address \"\(s.rawString)\" (\(r))")
        }
        return result != nil
    }

    /// parseaddr with delimiter NUL.
    public func parseAddress(_ addr: [UInt8], flags: AddressFlags, isRecipient: Bool,
                             delimiter: UInt8 = 0) -> ParsedAddress? {
        let saveTo = rewriter.currentAddress
        rewriter.currentAddress = addr
        defer { rewriter.currentAddress = saveTo }
        let pr = prescan(addr, delim: delimiter, table: rewriter.tables.external, ignoreUnbalanced: false,
                         eightBitAddrOK: eightBitAddrOK, report: { self.rewriter.userError($0) })
        lastParseEnd = pr.end
        guard var pvp = pr.tokens else { return nil }
        // RF_COPYPADDR: from here on the address is the delimited part only,
        // both in messages (e_to) and as the printable form (q_paddr).
        let checked = delimiter == 0 ? addr : Array(addr[..<min(pr.end, addr.count)])
        rewriter.currentAddress = checked
        if invalidAddress(checked, isRecipient: isRecipient) { return nil }
        var qup = false
        if rewriter.rewrite(&pvp, ruleset: 3) == .tempFail { qup = true }
        if rewriter.rewrite(&pvp, ruleset: 0) == .tempFail { qup = true }
        var a = buildAddress(pvp, flags: flags)
        a.printable = checked
        if hasControlCharacters(&a.user, isRecipient: isRecipient, complain: true) {
            a.badAddress = true
        }
        if a.badAddress {
            var p = checked
            _ = hasControlCharacters(&p, isRecipient: isRecipient, complain: false)
            a.printable = p
            return a
        }
        if qup && !initializingAliases {
            rewriter.notice("Transient parse error -- message queued for future delivery")
            a.queueUp = true
            a.status = Array("4.4.3".utf8)
        }
        return a
    }

    /// sendmail's buildaddr.
    func buildAddress(_ tv: [[UInt8]], flags: AddressFlags) -> ParsedAddress {
        var a = ParsedAddress(mailer: nil, mailerName: [], host: nil, user: [], printable: [])
        func bad(_ msg: String) -> ParsedAddress {
            rewriter.systemError(msg)
            a.isError = true
            a.mailerName = Array("*error*".utf8)
            if rewriter.exitStatus == .tempFail { a.queueUp = true } else { a.badAddress = true }
            return a
        }
        guard let first = tv.first, first == [Meta.canonNet] else {
            return bad("554 5.3.5 buildaddr: no mailer in parsed address")
        }
        var i = 1
        let mname = i < tv.count ? tv[i] : []
        i += 1
        var hostStart: Int? = nil
        if i < tv.count && tv[i] == [Meta.canonHost] {
            i += 1
            hostStart = i
        }
        while i < tv.count && tv[i] != [Meta.canonUser] { i += 1 }
        guard i < tv.count else { return bad("554 5.3.5 buildaddr: no user") }
        var hbuf: [UInt8] = []
        if let hs = hostStart {
            if hs == i { hostStart = nil } else {
                hbuf = rewriter.catAddr(tv[hs..<i], sub: nil, external: true, limit: Limits.maxName + 1)
            }
        }
        let userStart = i + 1
        let ubuf = rewriter.catAddr(tv[min(userStart, tv.count)...], sub: UInt8(ascii: " "), external: false,
                                    limit: Limits.maxName + 2)
        if mname.asciiCaseEquals(Array("error".utf8)) {
            a.mailerName = Array("*error*".utf8)
            a.isError = true
            a.user = ubuf
            if hostStart != nil {
                a.host = hbuf
                if hbuf.contains(UInt8(ascii: ".")) {
                    a.status = hbuf
                    rewriter.setStatus(dsnToExitStatus(hbuf))
                } else if let f = hbuf.first, isASCIIDigit(f) {
                    let v = Int32(hbuf.prefix { isASCIIDigit($0) }.string) ?? 69
                    rewriter.setStatus(SysExit(rawValue: v) ?? .unavailable)
                } else {
                    let named: [String: SysExit] = ["usage": .usage, "nouser": .noUser, "nohost": .noHost,
                                                     "unavailable": .unavailable, "software": .software,
                                                     "tempfail": .tempFail, "protocol": .protocol, "config": .config]
                    rewriter.setStatus(named[hbuf.asciiLowercased.string] ?? .unavailable)
                }
            } else {
                rewriter.setStatus(.unavailable)
            }
            let u = stripQuotes(ubuf)
            var tempfail = false
            if u.count >= 4, isASCIIDigit(u[0]), isASCIIDigit(u[1]), isASCIIDigit(u[2]), u[3] == UInt8(ascii: " ") {
                let code = Array(u[0..<3]).rawString
                let rest = Array(u[4...])
                if let l = enhancedCodeLength(rest, delimiter: UInt8(ascii: " ")) {
                    rewriter.userError(code + " " + Array(rest[0..<l]).rawString + " " + Array(rest[(l + 1)...]).rawString)
                } else if let st = a.status {
                    // usrerrenh: the $@ status is the enhanced code
                    rewriter.userError(code + " " + st.rawString + " " + rest.rawString)
                } else {
                    rewriter.userError(code + " " + rest.rawString)
                }
                if u[0] == UInt8(ascii: "4") { tempfail = true }
            } else {
                rewriter.userError("553 5.3.0 " + u.rawString)
            }
            if rewriter.exitStatus == .tempFail || tempfail { a.queueUp = true } else { a.badAddress = true }
            return a
        }
        guard let m = config.mailer(named: mname) else {
            return bad("554 5.3.5 buildaddr: unknown mailer \(mname.rawString)")
        }
        a.mailer = m
        a.mailerName = m.name
        if hostStart == nil {
            if !m.has("l") { return bad("554 5.3.5 buildaddr: no host") }
            a.host = nil
        } else {
            a.host = hbuf
        }
        var uview = ubuf[...]
        var tvStart = userStart
        if m.has("@") && uview.first == UInt8(ascii: "@") {
            uview = uview.dropFirst()
            tvStart += 1
            a.notRemote = true
        }
        if uview.first == UInt8(ascii: "\"") { uview = uview.dropFirst() }
        if uview.first == UInt8(ascii: "|") && m.has("|") {
            if let prog = config.mailer(named: Array("prog".utf8)) { a.mailer = prog; a.mailerName = prog.name }
        } else if uview.first == UInt8(ascii: "/") && m.has("/") {
            if let f = config.mailer(named: Array("*file*".utf8)) { a.mailer = f; a.mailerName = f.name }
        } else if uview.first == UInt8(ascii: ":") && m.has(":") {
            let s = stripQuotes(ubuf)
            if s.count >= 9 && Array(s[0..<9]).asciiCaseEquals(Array(":include:".utf8)) {
                if let inc = config.mailer(named: Array("*include*".utf8)) { a.mailer = inc; a.mailerName = inc.name }
                a.user = Array(s[9...])
                return a
            }
        }
        let mm = a.mailer!
        rewriter.macros[Int(UInt8(ascii: "h"))] = a.host
        var sub = Array(tv[min(tvStart, tv.count)...])
        let maxAtoms = Limits.maxAtoms - tvStart
        if config.configLevel >= 10 || !(flags.contains(.sender) || flags.contains(.header)) {
            rewriter.rewrite(&sub, ruleset: 2, maxAtoms: maxAtoms)
            if mm.recipientEnvelopeRuleset > 0 { rewriter.rewrite(&sub, ruleset: mm.recipientEnvelopeRuleset, maxAtoms: maxAtoms) }
        }
        rewriter.rewrite(&sub, ruleset: 4, maxAtoms: maxAtoms)
        var user = rewriter.catAddr(sub[...], sub: nil, external: true, limit: Limits.maxName + 2)
        if var h = a.host, !mm.has("h") {
            h = h.asciiLowercased
            a.host = h
        }
        if !mm.has("u") { user = user.asciiLowercased }
        a.user = user
        return a
    }

    /// sendmail's remotename.
    public func remoteName(_ name: [UInt8], mailer m: Mailer, flags: AddressFlags) -> (String, SysExit) {
        var status: SysExit = .ok
        let rwset: Int
        var addrType: [UInt8] = [flags.contains(.header) ? UInt8(ascii: "h") : UInt8(ascii: "e"), UInt8(ascii: " ")]
        if flags.contains(.sender) {
            rwset = flags.contains(.header) ? m.senderHeaderRuleset : m.senderEnvelopeRuleset
            addrType.append(UInt8(ascii: "s"))
        } else {
            rwset = flags.contains(.header) ? m.recipientHeaderRuleset : m.recipientEnvelopeRuleset
            addrType.append(UInt8(ascii: "r"))
        }
        if rwset < 0 { return (name.rawString, status) }
        if let id = config.names.id(forName: Array("addr_type".utf8)) { rewriter.macros[id] = addrType }
        let g: [UInt8] = [Meta.macroExpand, UInt8(ascii: "g")]
        let fancy = (flags.contains(.canonical) || m.has("c")) ? g : crackAddress(name, options: crackOptions)
        let saveTo = rewriter.currentAddress
        rewriter.currentAddress = name
        let pr = prescan(name, delim: 0, table: rewriter.tables.external, ignoreUnbalanced: false,
                         eightBitAddrOK: eightBitAddrOK, report: { self.rewriter.userError($0) })
        rewriter.currentAddress = saveTo
        guard var pvp = pr.tokens else {
            if let cut = pr.truncatedAt { return (Array(name[..<cut]).rawString, status) }
            return (name.rawString, status)
        }
        if rewriter.rewrite(&pvp, ruleset: 3) == .tempFail { status = .tempFail }
        if flags.contains(.sender) {
            if rewriter.rewrite(&pvp, ruleset: 1) == .tempFail { status = .tempFail }
        } else {
            if rewriter.rewrite(&pvp, ruleset: 2) == .tempFail { status = .tempFail }
        }
        if rwset > 0 {
            if rewriter.rewrite(&pvp, ruleset: rwset) == .tempFail { status = .tempFail }
        }
        if rewriter.rewrite(&pvp, ruleset: 4) == .tempFail { status = .tempFail }
        let lbuf = rewriter.catAddr(pvp[...], sub: nil, external: false, limit: Limits.maxName + 1)
        let oldg = rewriter.macros[Int(UInt8(ascii: "g"))]
        rewriter.macros[Int(UInt8(ascii: "g"))] = lbuf
        defer { rewriter.macros[Int(UInt8(ascii: "g"))] = oldg }
        let result: [UInt8]
        if flags.contains(.canonical) && lbuf.first == UInt8(ascii: "@") {
            result = expandMacros([UInt8(ascii: "<")] + g + [UInt8(ascii: ">")], rewriter.macros)
        } else {
            result = expandMacros(fancy, rewriter.macros)
        }
        return (result.rawString, status)
    }
}

extension Array where Element == UInt8 {
    /// The bytes up to a NUL, as a lossless String (see `string`).
    var rawString: String { Array(self.prefix { $0 != 0 }).string }
}

/// sendmail's dsntoexitstat: the sysexits code for an enhanced status.
public func dsnToExitStatus(_ dsn: [UInt8]) -> SysExit {
    guard let f = dsn.first else { return .unavailable }
    if f == UInt8(ascii: "2") { return .ok }
    if f == UInt8(ascii: "4") { return .tempFail }
    var i = 1
    if i < dsn.count && dsn[i] == UInt8(ascii: ".") { i += 1 }
    func num(_ from: Int) -> Int {
        var v = 0, j = from
        while j < dsn.count, isASCIIDigit(dsn[j]) { v = v * 10 + Int(dsn[j] - 48); j += 1 }
        return v
    }
    let code2 = num(i)
    while i < dsn.count && dsn[i] != UInt8(ascii: ".") { i += 1 }
    if i < dsn.count { i += 1 }
    let code3 = num(i)
    switch code2 {
    case 0: return .unavailable
    case 1:
        switch code3 {
        case 0: return .dataErr
        case 1, 6: return .noUser
        case 2, 8: return .noHost
        case 3, 7: return .usage
        case 4: return .unavailable
        case 5: return .config
        default: return .unavailable
        }
    case 2:
        switch code3 {
        case 0, 1, 2, 4: return .unavailable
        case 3: return .dataErr
        default: return .unavailable
        }
    case 3: return .osErr
    case 4:
        switch code3 {
        case 0, 2: return .ioErr
        case 1, 3, 5: return .tempFail
        case 4: return .protocol
        case 6: return .config
        case 7: return .unavailable
        default: return .unavailable
        }
    case 5: return .protocol
    case 6: return .unavailable
    case 7: return .dataErr
    default: return .unavailable
    }
}

extension Engine {
    /// sendmail's setsender: parse the sender (falling back to the real
    /// user, then $n, then postmaster), then rewrite it through 3, 1 and 4
    /// into $f.  Returns the parsed sender address.
    /// `alreadyParsed`: `from0` as the caller just parsed it (with
    /// {addr_type} "e s", as here), taken instead of parsing it again.
    @discardableResult
    public func setSender(_ from0: [UInt8]?, alreadyParsed: ParsedAddress? = nil) -> ParsedAddress {
        let rw = rewriter
        let x = Int(UInt8(ascii: "x"))
        rw.macros[x] = []
        let addrType = config.names.id(forName: Array("addr_type".utf8))
        if let id = addrType { rw.macros[id] = Array("e s".utf8) }
        let realName = options.realUserName
        var from = from0
        func bad(_ a: ParsedAddress?) -> Bool {
            guard let a else { return true }
            if a.isError { return true }
            let n = a.mailerName
            return n == Array("prog".utf8) || n == Array("*file*".utf8) || n == Array("*include*".utf8)
        }
        var parsed: ParsedAddress? = nil
        if let f = from {
            parsed = alreadyParsed ?? parseAddress(f, flags: [.sender], isRecipient: false)
        }
        if from == nil || bad(parsed) {
            if from != nil {
                if let p = parsed, !p.isError {
                    rw.userError("553 5.1.7 Invalid sender address")
                }
                rw.suppressErrors = true
            }
            var ok = false
            if from != realName {
                from = realName
                parsed = parseAddress(realName, flags: [.sender], isRecipient: false)
                ok = parsed != nil
            }
            if !ok {
                rw.suppressErrors = true
                let n = expandMacros([Meta.macroExpand, UInt8(ascii: "n")], rw.macros)
                from = n
                parsed = parseAddress(n, flags: [], isRecipient: false)
                if parsed == nil {
                    from = Array("postmaster".utf8)
                    parsed = parseAddress(from!, flags: [], isRecipient: false)
                    if parsed == nil { rw.systemError("553 5.3.0 setsender: can't even parse postmaster!") }
                }
            }
        }
        rw.suppressErrors = false
        let a = parsed ?? ParsedAddress(mailer: nil, mailerName: [], host: nil, user: [], printable: [])
        if let m = a.mailer, m.has("w") {
            if !a.user.isEmpty, let pw = getpwnam(a.user.string) {
                let home = String(cString: pw.pointee.pw_dir)
                rw.macros[Int(UInt8(ascii: "z"))] = home.isEmpty ? nil : (home == "/" ? [] : Array(home.utf8))
                let gecos = String(cString: pw.pointee.pw_gecos)
                let full = gecos.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                if !full.isEmpty && String(cString: pw.pointee.pw_name) == a.user.string {
                    rw.macros[x] = Array(full.utf8)
                }
            }
        }
        let saveTo = rw.currentAddress
        rw.currentAddress = from
        let pr = prescan(from ?? [], delim: 0, table: rw.tables.internal, ignoreUnbalanced: false,
                         eightBitAddrOK: eightBitAddrOK, report: { rw.userError($0) })
        rw.currentAddress = saveTo
        guard var pvp = pr.tokens else { return a }
        rw.rewrite(&pvp, ruleset: 3)
        rw.rewrite(&pvp, ruleset: 1)
        rw.rewrite(&pvp, ruleset: 4)
        if let id = addrType { rw.macros[id] = nil }
        var bp = rw.catAddr(pvp[...], sub: nil, external: false, limit: Limits.maxName + 2 - 2)
        if bp.first == UInt8(ascii: "@"), !(a.mailer?.has("d") ?? false) {
            bp = [UInt8(ascii: "<")] + bp + [UInt8(ascii: ">")]
        }
        rw.macros[Int(UInt8(ascii: "f"))] = bp
        if let m = a.mailer, m.has("C") {
            if let id = addrType { rw.macros[id] = Array("e s".utf8) }
            rw.rewrite(&pvp, ruleset: 3)
            rw.rewrite(&pvp, ruleset: 1)
            rw.rewrite(&pvp, ruleset: 4)
            if let id = addrType { rw.macros[id] = nil }
        }
        return a
    }
}
