// SMEngine/TestMode.swift
//
// Address test mode (`sendmail -bt`): sendmail's testmodeline command by
// command — `rs[,rs...] address`, `.D`, `.C`, `=S`, `=M`, `-d`, `$x`,
// `$=c`, `/canon`, `/map`, `/mx`, `/parse`, `/try`, `/tryflags`,
// `/expand`, `/header`, `/quit` and `?` — with sendmail's output format.
// Promises: output goes to the engine's buffer in sendmail's order; bad
// commands get sendmail's messages; nothing here can trap on input.
// The -d parsing (`Engine.rewriteDebugLevel`, `applyDebug`, at the end)
// also serves -bv and -bs, which trace category 21 the same way.

import SMBase
import SMRules
import SMConfig
import SMMaps

public final class TestMode {
    public let engine: Engine
    var tryFlags: AddressFlags = []
    public private(set) var quit = false

    public init(engine: Engine) {
        self.engine = engine
        let e = engine
        if let id = e.config.names.id(forName: Array("addr_type".utf8)) {
            e.rewriter.macros[id] = Array("e r".utf8)
        }
    }

    var out: OutputBuffer { engine.out }
    var rw: RewriteEngine { engine.rewriter }
    var names: MacroNames { engine.config.names }

    /// Prints the banner sendmail shows in test mode.
    public func banner() {
        out.write("ADDRESS TEST MODE (ruleset 3 NOT automatically invoked)\nEnter <ruleset> <address>\n")
    }

    /// Processes one input line (without its newline).
    public func line(_ input: [UInt8]) {
        var l = Array(input.prefix { $0 != 0 })
        while l.first == UInt8(ascii: " ") { l.removeFirst() }
        guard let c0 = l.first else { return }
        switch c0 {
        case UInt8(ascii: "#"):
            return
        case UInt8(ascii: "?"):
            help()
        case UInt8(ascii: "."):
            dotCommand(l)
        case UInt8(ascii: "="):
            equalsCommand(l)
        case UInt8(ascii: "-"):
            dashCommand(l)
        case UInt8(ascii: "$"):
            dollarCommand(l)
        case UInt8(ascii: "/"):
            slashCommand(l)
        default:
            rulesetCommand(l)
        }
    }

    // MARK: - . = - $

    func dotCommand(_ l: [UInt8]) {
        let sub: UInt8 = l.count > 1 ? l[1] : 0
        switch sub {
        case UInt8(ascii: "D"):
            let (mid, end) = names.parse(l, at: 2, report: { self.rw.systemError($0) })
            if mid == 0 { return }
            // the value loses its trailing white space (".Dz ab  " defines " ab")
            var raw = Array(l[min(end, l.count)...])
            while let last = raw.last, isASCIISpace(last) { raw.removeLast() }
            let v = translateDollars(raw, names: names, report: { self.rw.systemError($0) })
            rw.macros[mid] = v
        case UInt8(ascii: "C"):
            if l.count == 2 { return }
            let (mid, end) = names.parse(l, at: 2, report: { self.rw.systemError($0) })
            if mid == 0 { return }
            let v = translateDollars(Array(l[min(end, l.count)...]), names: names, report: { self.rw.systemError($0) })
            let ex = expandMacros(v, rw.macros, bufferSize: Limits.maxLine)
            for w in ex.split(whereSeparator: { isASCIISpace($0) }) {
                engine.config.classes.add(Array(w), to: mid)
            }
        case 0:
            out.write("Usage: .[DC]macro value(s)\n")
        default:
            out.write("Unknown \".\" command " + l.string + "\n")
        }
    }

    func equalsCommand(_ l: [UInt8]) {
        let sub: UInt8 = l.count > 1 ? l[1] : 0
        switch sub {
        case UInt8(ascii: "S"):
            let name = Array(l[2...])
            guard let rs = rw.rulesets.find(name, report: { self.rw.systemError($0) }) else {
                out.write("Undefined ruleset " + name.string + "\n")
                return
            }
            guard let rules = rw.rulesets.rules[rs] else { return }
            for r in rules {
                var o: [UInt8] = [UInt8(ascii: "R")]
                for t in r.lhs { Printing.xputs(t, names: names, into: &o); o.append(32) }
                o.append(9); o.append(9)
                for t in r.rhs { Printing.xputs(t, names: names, into: &o); o.append(32) }
                o.append(10)
                out.write(o)
            }
        case UInt8(ascii: "M"):
            for m in engine.config.mailers.compactMap({ $0 }) { out.write(engine.config.describe(m)) }
        case 0:
            out.write("Usage: =Sruleset or =M\n")
        default:
            out.write("Unknown \"=\" command " + l.string + "\n")
        }
    }

    func dashCommand(_ l: [UInt8]) {
        let sub: UInt8 = l.count > 1 ? l[1] : 0
        switch sub {
        case UInt8(ascii: "d"):
            setDebug(Array(l[2...]))
        case 0:
            out.write("Usage: -d{debug arguments}\n")
        default:
            out.write("Unknown \"-\" command " + l.string + "\n")
        }
    }

    /// Debug flags: only category 21 (rewriting) is traced.
    public func setDebug(_ spec: [UInt8]) { engine.applyDebug([spec]) }

    func dollarCommand(_ l: [UInt8]) {
        if l.count > 1 && l[1] == UInt8(ascii: "=") {
            guard let id = macroID(Array(l[2...])) else { return }
            for w in engine.config.classes.members(of: id) {
                out.write(w)
                out.write("\n")
            }
            return
        }
        guard let id = macroID(Array(l[1...])) else { return }
        if let v = rw.macros[id] {
            var o: [UInt8] = []
            Printing.xputs(v, names: names, into: &o)
            o.append(10)
            out.write(o)
        } else {
            out.write("Undefined\n")
        }
    }

    /// sendmail's macid(): single character or {name}; 0 on error.
    func macroID(_ s: [UInt8]) -> Int? {
        guard !s.isEmpty else {
            rw.systemError("Name required for macro/class")
            return nil
        }
        let (id, _) = names.parse(s, at: 0, report: { self.rw.systemError($0) })
        return id == 0 ? nil : id
    }

    // MARK: - help

    func help() {
        let path = engine.config.options["HelpFile"] ?? Array("/etc/mail/helpfile".utf8)
        guard case .success(let data) = SystemCfSource().readFile(path) else {
            rw.userError("502 5.3.0 Sendmail \(sendmailVersion) -- HELP not implemented")
            return
        }
        let topic = Array("-bt".utf8)
        var vers = -1
        var found = false
        for raw in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            var line = Array(raw)
            if line.first == UInt8(ascii: "#") {
                if vers < 0 && line.hasPrefix(Array("#vers".utf8)) {
                    vers = Int(Array(line[5...]).trimmingASCIISpace.string) ?? 0
                }
                continue
            }
            guard line.hasPrefix(topic) else { continue }
            if line.last == 0x0D { line.removeLast() }
            var text: [UInt8]
            if let sp = line.firstIndex(where: { $0 == 0x20 || $0 == 0x09 }) {
                text = Array(line[(sp + 1)...])
            } else {
                text = Array(line.dropLast())
            }
            if vers >= 2 {
                text = expandMacros(translateDollars(text, names: names, report: { _ in }), rw.macros)
            }
            out.write(text)
            out.write("\n")
            found = true
        }
        if found {
            out.write("End of HELP info\n")
        } else {
            out.write("HELP topic \"-bt\" unknown\n")
        }
    }

    // MARK: - / commands

    func slashCommand(_ input: [UInt8]) {
        var l = input
        while let last = l.last, isASCIISpace(last) { l.removeLast() }
        var cmd = l
        var arg: [UInt8] = []
        if let sp = l.firstIndex(where: { $0 == 0x20 || $0 == 0x09 }) {
            cmd = Array(l[..<sp])
            var a = l[sp...]
            while let f = a.first, isASCIISpace(f) { a = a.dropFirst() }
            arg = Array(a)
        }
        if cmd.count == 1 {
            out.write("Usage: /[canon|map|mx|parse|try|tryflags]\n")
            return
        }
        let name = Array(cmd[1...])
        func is_(_ s: String) -> Bool { name.asciiCaseEquals(Array(s.utf8)) }
        if is_("quit") {
            quit = true
        } else if is_("mx") {
            if arg.isEmpty { out.write("Usage: /mx address\n"); return }
            let r = engine.maps.mxHosts(arg, localDomain: rw.macros[Int(UInt8(ascii: "m"))])
            if r.count == -2 {
                out.write("getmxrr(" + arg.string + ") returns null MX (See RFC7505)\n")
            } else {
                out.write("getmxrr(" + arg.string + ") returns \(r.count) value(s):\n")
            }
            for h in r.hosts.prefix(max(0, r.count)) { out.write("\t" + h.string + "\n") }
        } else if is_("canon") {
            if arg.isEmpty { out.write("Usage: /canon address\n"); return }
            if arg.count >= 256 { out.write("Name too long\n"); return }
            let r = engine.maps.canonicalName(arg, localDomain: rw.macros[Int(UInt8(ascii: "m"))])
            out.write("getcanonname(" + arg.string + ") returns " + r.name.string + "\n")
        } else if is_("map") {
            mapCommand(arg)
        } else if is_("sender") {
            let a = engine.setSender(arg)
            out.write("addr=" + a.user.string + "\n")
        } else if is_("expand") {
            if arg.isEmpty { out.write("Usage: /expand string\n"); return }
            // sendmail expands the raw text: "$x" typed here is not a macro
            let ex = expandMacros(arg, rw.macros)
            var o: [UInt8] = []
            Printing.xputs(ex, names: names, into: &o)
            out.write(o)
        } else if is_("try") {
            tryCommand(arg)
        } else if is_("tryflags") {
            if arg.isEmpty { out.write("Usage: /tryflags [Hh|Ee][Ss|Rr]\n"); return }
            for c in arg {
                switch c {
                case UInt8(ascii: "H"), UInt8(ascii: "h"): tryFlags.insert(.header)
                case UInt8(ascii: "E"), UInt8(ascii: "e"): tryFlags.remove(.header)
                case UInt8(ascii: "S"), UInt8(ascii: "s"): tryFlags.insert(.sender)
                case UInt8(ascii: "R"), UInt8(ascii: "r"): tryFlags.remove(.sender)
                default: break
                }
            }
            let t: [UInt8] = [tryFlags.contains(.header) ? UInt8(ascii: "h") : UInt8(ascii: "e"), 32,
                              tryFlags.contains(.sender) ? UInt8(ascii: "s") : UInt8(ascii: "r")]
            if let id = names.id(forName: Array("addr_type".utf8)) { rw.macros[id] = t }
        } else if is_("parse") {
            parseCommand(arg)
        } else if is_("gethostbyname") {
            // sendmail prints nothing here unless debugging
            _ = engine.identity.lookupHost(Array(arg.prefix { !isASCIISpace($0) }))
        } else if is_("header") {
            guard let (name, _) = HeaderInfo.split(arg) else {
                rw.systemError("553 5.3.0 header syntax error, line \"" + arg.string + "\"")
                out.write("ul = 00000000\n")
                return
            }
            let flags = HeaderInfo.flags(for: name).union(.user).rawValue
            let hex = String(flags, radix: 16)
            out.write("ul = 0x" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex + "\n")
        } else {
            out.write("Unknown \"/\" command " + l.string + "\n")
        }
    }

    func mapCommand(_ arg: [UInt8]) {
        if arg.isEmpty { out.write("Usage: /map mapname key\n"); return }
        guard let sp = arg.firstIndex(where: { isASCIISpace($0) }) else {
            out.write("No key specified\n")
            return
        }
        let name = Array(arg[..<sp])
        let key = Array(arg[(sp + 1)...])
        guard let map = engine.maps.sendmailMap(named: name) else {
            out.write("Map named \"" + name.string + "\" not found\n")
            return
        }
        if !map.openIfNeeded(context: rw) {
            out.write("Map named \"" + name.string + "\" not open\n")
            return
        }
        out.write("map_lookup: " + name.string + " (" + key.string + ") ")
        let (result, status) = map.lookupWithStatus(key, arguments: [], context: rw)
        switch result {
        case .found(let v): out.write("returns " + v.string + " (\(status))\n")
        default: out.write("no match (\(status))\n")
        }
    }

    func tryCommand(_ arg: [UInt8]) {
        guard let sp = arg.firstIndex(where: { $0 == 0x20 || $0 == 0x09 }) else {
            out.write("Usage: /try mailer address\n")
            return
        }
        let mname = Array(arg[..<sp])
        var a = arg[sp...]
        while let f = a.first, isASCIISpace(f) { a = a.dropFirst() }
        let addr = Array(a)
        if addr.isEmpty {
            out.write("Usage: /try mailer address\n")
            return
        }
        guard let m = engine.config.mailer(named: mname) else {
            out.write("Unknown mailer " + mname.string + "\n")
            return
        }
        out.write("Trying \(tryFlags.contains(.header) ? "header" : "envelope") \(tryFlags.contains(.sender) ? "sender" : "recipient") address " + addr.string + " for mailer " + mname.string + "\n")
        let (result, status) = engine.remoteName(addr, mailer: m, flags: tryFlags)
        out.write("Rcode = \(status.rawValue), addr = " + result + "\n")
        rw.currentAddress = nil
    }

    func parseCommand(_ arg: [UInt8]) {
        if arg.isEmpty { out.write("Usage: /parse address\n"); return }
        let cracked = crackAddress(arg, options: engine.crackOptions)
        var o = Array("Cracked address = ".utf8)
        Printing.xputs(cracked, names: names, into: &o)
        out.write(o)
        out.write("\nParsing \(tryFlags.contains(.header) ? "header" : "envelope") \(tryFlags.contains(.sender) ? "sender" : "recipient") address\n")
        guard let a = engine.parseAddress(arg, flags: tryFlags, isRecipient: true) else {
            out.write("Cannot parse\n")
            return
        }
        if let h = a.host, !h.isEmpty {
            out.write("mailer " + a.mailerName.string + ", host " + h.string + ", user " + a.user.string + "\n")
        } else {
            out.write("mailer " + a.mailerName.string + ", user " + a.user.string + "\n")
        }
        rw.currentAddress = nil
    }

    // MARK: - rulesets

    func rulesetCommand(_ l: [UInt8]) {
        var p = 0
        while p < l.count, isASCIISpace(l[p]) { p += 1 }
        let q = p
        while p < l.count, !isASCIISpace(l[p]) { p += 1 }
        if p >= l.count {
            out.write("No address!\n")
            return
        }
        let list = Array(l[q..<p])
        let rest = Array(l[(p + 1)...])
        if engine.invalidAddress(rest, isRecipient: true) { return }
        let table = engine.config.configLevel >= 9 ? rw.tables.noComment : rw.tables.external
        var pos = 0
        repeat {
            let saveTo = rw.currentAddress
            rw.currentAddress = Array(rest[pos...])
            let r = prescan(rest, from: pos, delim: UInt8(ascii: ","), table: table, ignoreUnbalanced: false,
                            eightBitAddrOK: engine.eightBitAddrOK, report: { self.rw.userError($0) })
            rw.currentAddress = saveTo
            pos = r.end
            if var pvp = r.tokens {
                var lp = 0
                while lp < list.count {
                    let remaining = Array(list[lp...])
                    guard let rs = rw.rulesets.find(remaining, report: { self.rw.systemError($0) }) else {
                        out.write("Undefined ruleset " + remaining.string + "\n")
                        break
                    }
                    let status = rw.rewrite(&pvp, ruleset: rs)
                    if status != .ok {
                        out.write("== Ruleset " + remaining.string + " (\(rs)) status \(status.rawValue)\n")
                    }
                    while lp < list.count {
                        let c = list[lp]
                        lp += 1
                        if c == UInt8(ascii: ",") { break }
                    }
                }
            }
            if pos >= rest.count || rest[pos] == 0 { break }
            pos += 1
        } while true
    }
}

extension Engine {
    /// The level a -d spec ("21.12", "0-99.1", "21", comma-separated)
    /// gives category 21 (rewriting), the only category traced; nil when
    /// it names other categories only.  The last item covering 21 wins.
    public static func rewriteDebugLevel(_ spec: [UInt8]) -> Int? {
        var result: Int? = nil
        for item in spec.split(separator: UInt8(ascii: ",")) {
            let parts = item.split(separator: UInt8(ascii: "."), maxSplits: 1)
            let cat = Array(parts.first ?? [])
            let level = parts.count > 1 ? Int(Array(parts[1]).string) ?? 1 : 1
            let covers21: Bool
            if cat.isEmpty {
                covers21 = true
            } else if let dash = cat.firstIndex(of: UInt8(ascii: "-")) {
                let lo = Int(Array(cat[..<dash]).string) ?? 0
                let hi = Int(Array(cat[(dash + 1)...]).string) ?? 99
                covers21 = lo <= 21 && 21 <= hi
            } else {
                covers21 = Int(cat.string) == 21
            }
            if covers21 { result = level }
        }
        return result
    }

    /// -d: rewriting traced on the engine's output, as sendmail's
    /// tTd(21, n) (-bt, -bv, -bs; not the daemon, whose sessions write
    /// to sockets).
    public func applyDebug(_ specs: [[UInt8]]) {
        for s in specs { if let level = Self.rewriteDebugLevel(s) { rewriter.debugLevel = level } }
    }
}
