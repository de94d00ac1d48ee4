// SMConfig/CfReader+Mailer.swift
//
// M lines (sendmail's makemailer) and the `=M` rendering.
// Promises: a mailer that fails a check is not defined, as in sendmail.

import Glibc
import SMBase
import SMRules

extension CfReader {
    mutating func makeMailer(_ line: [UInt8]) {
        var p = 0
        while p < line.count, line[p] != UInt8(ascii: ","), !isASCIISpace(line[p]) { p += 1 }
        let name = Array(line[0..<p])
        if p < line.count { p += 1 }
        if name.isEmpty {
            err("name required for mailer")
            return
        }
        var m = Mailer(number: -1, name: name)
        m.senderEnvelopeRuleset = 0; m.senderHeaderRuleset = 0
        m.recipientEnvelopeRuleset = 0; m.recipientHeaderRuleset = 0
        var eolSet = false
        var haveArgv = false, havePath = false
        let nm = name.string
        while p < line.count {
            while p < line.count, line[p] == UInt8(ascii: ",") || isASCIISpace(line[p]) { p += 1 }
            guard p < line.count else { break }
            let fcode = line[p]
            while p < line.count, line[p] != UInt8(ascii: "="), line[p] != UInt8(ascii: ",") { p += 1 }
            guard p < line.count, line[p] == UInt8(ascii: "=") else {
                err("mailer \(nm): `=' expected")
                return
            }
            p += 1
            while p < line.count, isASCIISpace(line[p]) { p += 1 }
            let (v, end) = munchString(line, from: p, delim: UInt8(ascii: ","))
            p = end
            switch fcode {
            case UInt8(ascii: "P"):
                if !v.isEmpty { m.path = v; havePath = true }
            case UInt8(ascii: "F"):
                for c in v where !isASCIISpace(c) { m.flags.insert(c) }
            case UInt8(ascii: "S"), UInt8(ascii: "R"):
                let (n1, e1) = config.rulesets.resolve(v, enter: true, report: { self.err($0) })
                guard let n1 else { return }
                if fcode == UInt8(ascii: "S") {
                    m.senderEnvelopeRuleset = n1; m.senderHeaderRuleset = n1
                } else {
                    m.recipientEnvelopeRuleset = n1; m.recipientHeaderRuleset = n1
                }
                if e1 < v.count && v[e1] == UInt8(ascii: "/") {
                    let (n2, _) = config.rulesets.resolve(v, from: e1 + 1, enter: true, report: { self.err($0) })
                    guard let n2 else { return }
                    if fcode == UInt8(ascii: "S") { m.senderHeaderRuleset = n2 } else { m.recipientHeaderRuleset = n2 }
                }
            case UInt8(ascii: "E"):
                if v.isEmpty { err("mailer \(nm): null end-of-line string") } else { m.eol = v; eolSet = true }
            case UInt8(ascii: "A"):
                if !v.isEmpty {
                    m.argv = v.split(whereSeparator: { $0 < 0x80 && isASCIISpace($0) }).map(Array.init)
                    haveArgv = true
                }
            case UInt8(ascii: "M"): m.maxSize = atoi(v)
            case UInt8(ascii: "m"): m.maxDeliveries = atoi(v)
            case UInt8(ascii: "r"): m.maxRcpt = atoi(v)
            case UInt8(ascii: "L"): m.lineLimit = max(0, atoi(v))
            case UInt8(ascii: "N"): m.nice = atoi(v)
            case UInt8(ascii: "D"):
                if v.isEmpty { err("mailer \(nm): null working directory") } else { m.execDir = v }
            case UInt8(ascii: "C"):
                if v.isEmpty { err("mailer \(nm): null charset") } else { m.charset = v }
            case UInt8(ascii: "Q"):
                if v.isEmpty { err("mailer \(nm): null queue") } else if !config.queueGroups.contains(where: { $0.name.asciiCaseEquals(v) }) && !v.asciiCaseEquals(Array("mqueue".utf8)) {
                    err("mailer \(nm): unknown queue \(v.string)")
                } else { m.queueGroup = v }
            case UInt8(ascii: "T"):
                let parts = v.split(separator: UInt8(ascii: "/"), maxSplits: 2, omittingEmptySubsequences: false).map(Array.init)
                m.mtaType = (parts.first?.isEmpty ?? true) ? Array("dns".utf8) : parts[0]
                m.addrType = parts.count > 1 && !parts[1].isEmpty ? parts[1] : Array("rfc822".utf8)
                m.diagType = parts.count > 2 && !parts[2].isEmpty ? parts[2] : Array("smtp".utf8)
            case UInt8(ascii: "U"):
                setMailerUser(&m, v)
            case UInt8(ascii: "W"):
                m.wait = atoi(v)
            case UInt8(ascii: "/"):
                if v.isEmpty { err("mailer \(nm): null root directory") } else { m.rootDir = v }
            default:
                err("M\(nm): unknown mailer equate \(String(UnicodeScalar(fcode)))=")
            }
        }
        if !haveArgv {
            err("M\(nm): A= argument required")
            return
        }
        if !havePath {
            err("M\(nm): P= argument required")
            return
        }
        if m.maxRcpt <= 0 { m.maxRcpt = 100 }
        if m.flags.contains(UInt8(ascii: "L")) {
            if m.lineLimit == 0 { m.lineLimit = 990 }
            if config.configLevel < 2 { m.flags.insert(UInt8(ascii: "7")) }
        }
        let pathStr = m.path
        if pathStr == Array("[TCP]".utf8) {
            err("M\(nm): P=[TCP] must be replaced by P=[IPC]")
            return
        }
        if pathStr == Array("[IPC]".utf8) {
            if m.argv.count < 2 || m.argv[1].isEmpty {
                err("M\(nm): too few parameters for \(pathStr.string) mailer")
                return
            }
            if m.argv[0] != Array("TCP".utf8) && m.argv[0] != Array("FILE".utf8) {
                reporter.notice("M\(nm): Warning: first argument in \(pathStr.string) mailer must be TCP or FILE")
            }
            if m.mtaType == nil { m.mtaType = Array("dns".utf8) }
            if m.addrType == nil { m.addrType = Array("rfc822".utf8) }
            if m.diagType == nil {
                m.diagType = m.argv[0] == Array("FILE".utf8) ? Array("x-unix".utf8) : Array("smtp".utf8)
            }
        } else if pathStr == Array("[FILE]".utf8) {
            if m.argv.count < 2 || m.argv.count > 2 {
                err("M\(nm): too \(m.argv.count < 2 ? "few" : "many") parameters for [FILE] mailer")
                return
            } else if m.argv[0] != Array("FILE".utf8) {
                err("M\(nm): first argument in [FILE] mailer must be FILE")
                return
            }
        }
        if !eolSet {
            let hasU = m.argv.contains { a in
                var i = 0
                while i + 1 < a.count { if a[i] == Meta.macroExpand && a[i + 1] == UInt8(ascii: "u") { return true }; i += 1 }
                return false
            }
            m.eol = hasU ? Array("\n".utf8) : Array("\r\n".utf8)
        }
        if let existing = config.mailers.firstIndex(where: { $0?.name.asciiCaseEquals(name) ?? false }) {
            m.number = existing
            config.mailers[existing] = m
        } else {
            if config.mailerCount >= 25 {
                err("too many mailers defined (25 max)")
                return
            }
            m.number = config.mailerCount
            config.mailers[config.mailerCount] = m
            config.mailerCount += 1
        }
    }

    func setMailerUser(_ m: inout Mailer, _ v: [UInt8]) {
        var p = 0
        let nm = m.name.string
        if p < v.count, !isASCIIDigit(v[p]) {
            let s = p
            while p < v.count, isASCIIAlnum(v[p]) || v[p] == UInt8(ascii: "-") || v[p] == UInt8(ascii: "_") { p += 1 }
            let user = Array(v[s..<p])
            while p < v.count, isASCIISpace(v[p]) { p += 1 }
            if p < v.count { p += 1 }
            if user.isEmpty { err("mailer \(nm): null user name"); return }
            guard let pw = getpwnam(user.string) else {
                err("readcf: mailer U= flag: unknown user \(user.string)")
                return
            }
            m.uid = Int(pw.pointee.pw_uid)
            m.gid = Int(pw.pointee.pw_gid)
        } else {
            let s = p
            while p < v.count, isASCIIDigit(v[p]) { p += 1 }
            m.uid = atoi(v[s..<p])
            while p < v.count, isASCIISpace(v[p]) { p += 1 }
            if p < v.count { p += 1 }
        }
        while p < v.count, isASCIISpace(v[p]) { p += 1 }
        guard p < v.count else { return }
        if !isASCIIDigit(v[p]) {
            let s = p
            while p < v.count, isASCIIAlnum(v[p]) || v[p] == UInt8(ascii: "-") || v[p] == UInt8(ascii: "_") { p += 1 }
            let g = Array(v[s..<p])
            if g.isEmpty { err("mailer \(nm): null group name"); return }
            guard let gr = getgrnam(g.string) else {
                err("readcf: mailer U= flag: unknown group \(g.string)")
                return
            }
            m.gid = Int(gr.pointee.gr_gid)
        } else {
            m.gid = atoi(v[p...])
        }
    }
}

extension Configuration {
    /// One `=M` line, as sendmail's printmailer.
    public func describe(_ m: Mailer) -> [UInt8] {
        var o: [UInt8] = []
        func rs(_ n: Int) -> [UInt8] { rulesets.displayName(n) }
        o += Array("mailer \(m.number) (".utf8) + m.name + Array("): P=".utf8) + m.path
        o += Array(" S=".utf8) + rs(m.senderEnvelopeRuleset) + [UInt8(ascii: "/")] + rs(m.senderHeaderRuleset)
        o += Array(" R=".utf8) + rs(m.recipientEnvelopeRuleset) + [UInt8(ascii: "/")] + rs(m.recipientHeaderRuleset)
        o += Array(" M=\(m.maxSize) U=\(m.uid):\(m.gid) F=".utf8)
        o += m.flags.filter { $0 < 0x80 }.sorted()
        o += Array(" L=\(m.lineLimit) E=".utf8)
        Printing.xputs(m.eol, names: names, into: &o)
        if let c = m.charset { o += Array(" C=".utf8) + c }
        o += Array(" T=".utf8) + (m.mtaType ?? Array("<undefined>".utf8)) + [UInt8(ascii: "/")]
            + (m.addrType ?? Array("<undefined>".utf8)) + [UInt8(ascii: "/")] + (m.diagType ?? Array("<undefined>".utf8))
        o += Array(" r=\(m.maxRcpt)".utf8)
        o += Array(" A=".utf8)
        for (i, a) in m.argv.enumerated() {
            if i > 0 { o.append(UInt8(ascii: " ")) }
            Printing.xputs(a, names: names, into: &o)
        }
        o.append(0x0A)
        return o
    }
}
