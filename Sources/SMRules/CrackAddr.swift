// SMRules/CrackAddr.swift
//
// sendmail's crackaddr: replaces the address proper in a header-style
// address with `$g`, keeping phrases and comments ("Joe <joe@x>" becomes
// "Joe <$g>"), quoting phrases that need it and repairing unbalanced
// quotes, comments and angle brackets.  Used by `/parse` and by header
// rewriting.  Promises: pure; output never exceeds MAXNAME bytes (falls
// back to "<$g>" as sendmail does).

import SMBase

public struct CrackOptions: Sendable {
    /// Characters that force quoting of a phrase (MustQuoteChars).
    public var mustQuote: Set<UInt8>
    /// ColonOkInAddr.
    public var colonOkInAddr: Bool

    public init(mustQuote: [UInt8] = Array("@,;:\\()[].'".utf8), colonOkInAddr: Bool = false) {
        self.mustQuote = Set(mustQuote)
        self.colonOkInAddr = colonOkInAddr
    }
}

public func crackAddress(_ addr: [UInt8], options: CrackOptions) -> [UInt8] {
    let bufSize = Limits.maxName + 1
    var buf = [UInt8](repeating: 0, count: bufSize)
    let bufend = bufSize - 1
    var buflim = bufend
    var bp = 0
    var bufhead = 0
    let g: [UInt8] = [Meta.macroExpand, UInt8(ascii: "g")]
    let punt: [UInt8] = [UInt8(ascii: "<")] + g + [UInt8(ascii: ">")]

    var haveRoom: Bool { bp < buflim && buflim <= bufend }
    struct Punt: Error {}
    func append(_ c: UInt8) throws {
        if bp < buflim && buflim <= bufend {
            buf[bp] = c
            bp += 1
        } else {
            throw Punt()
        }
    }
    let n = addr.count
    func at(_ i: Int) -> UInt8 { i >= 0 && i < n ? addr[i] : 0 }

    do {
        var a = 0
        while a < n, addr[a] != 0, isASCIISpace(addr[a]) {
            try append(addr[a])
            a += 1
        }
        bufhead = bp
        let addrStart = a
        var p = a
        var addrhead = a
        var copylev = 0, anglelev = 0, cmtlev = 0, realcmtlev = 0, bracklev = 0
        var qmode = false, realqmode = false, addangle = false
        var putgmac = false, quoteit = false, gotangle = false, gotcolon = false

        while true {
            var c = at(p)
            p += 1
            if c == 0 { break }
            var gotoPutg = false
            repeat {
                if copylev > 0 { try append(c) }
                if c == UInt8(ascii: "\\") {
                    if cmtlev <= 0 && !qmode { quoteit = true }
                    c = at(p)
                    p += 1
                    if c == 0 {
                        p -= 1
                        gotoPutg = true
                        break
                    }
                    if copylev > 0 { try append(c) }
                    gotoPutg = true
                    break
                }
                if c == UInt8(ascii: "\"") && cmtlev <= 0 {
                    qmode.toggle()
                    if copylev > 0 && haveRoom {
                        if realqmode { buflim -= 1 } else { buflim += 1 }
                        realqmode.toggle()
                    }
                    break
                }
                if qmode { gotoPutg = true; break }
                if c == UInt8(ascii: "(") {
                    cmtlev += 1
                    if haveRoom {
                        buflim -= 1
                        realcmtlev += 1
                        let old = copylev
                        copylev += 1
                        if old <= 0 {
                            if bp != bufhead { try append(UInt8(ascii: " ")) }
                            try append(c)
                        }
                    }
                }
                if cmtlev > 0 {
                    if c == UInt8(ascii: ")") {
                        cmtlev -= 1
                        copylev -= 1
                        if haveRoom {
                            realcmtlev -= 1
                            buflim += 1
                        }
                    }
                    break
                } else if c == UInt8(ascii: ")") {
                    if copylev > 0 && haveRoom && bp > bufhead { bp -= 1 }
                }
                if c == UInt8(ascii: "[") { bracklev += 1 } else if c == UInt8(ascii: "]") { bracklev -= 1 }

                if c == UInt8(ascii: ":") && anglelev <= 0 && bracklev <= 0 && !gotcolon && !options.colonOkInAddr {
                    let nx = at(p)
                    if nx == UInt8(ascii: ":") || nx == UInt8(ascii: ".") {
                        if cmtlev <= 0 && !qmode { quoteit = true }
                        if copylev > 0 {
                            try append(c)
                            try append(nx)
                        }
                        p += 1
                        gotoPutg = true
                        break
                    }
                    gotcolon = true
                    bp = bufhead
                    if quoteit {
                        try append(UInt8(ascii: "\""))
                        p -= 1
                        while p > addrStart {
                            p -= 1
                            if !isASCIISpace(at(p)) { break }
                        }
                        p += 1
                    }
                    var q = addrhead
                    while q < p {
                        let cc = at(q)
                        q += 1
                        if quoteit && cc == UInt8(ascii: "\"") { try append(UInt8(ascii: "\\")) }
                        try append(cc)
                    }
                    if quoteit {
                        if bp == bufhead + 1 { bp -= 1 } else { try append(UInt8(ascii: "\"")) }
                        while true {
                            let cc = at(p)
                            p += 1
                            if cc == UInt8(ascii: ":") || cc == 0 {
                                try append(cc == 0 ? UInt8(ascii: ":") : cc)
                                if cc == 0 { p -= 1 }
                                break
                            }
                            try append(cc)
                        }
                    }
                    while isASCIISpace(at(p)) && at(p) != 0 {
                        try append(at(p))
                        p += 1
                    }
                    copylev = 0
                    putgmac = false
                    quoteit = false
                    bufhead = bp
                    addrhead = p
                    break
                }
                if c == UInt8(ascii: ";") && copylev <= 0 && !options.colonOkInAddr { try append(c) }
                if options.mustQuote.contains(c) {
                    if cmtlev <= 0 && !qmode { quoteit = true }
                }
                if c == UInt8(ascii: "<") {
                    if gotangle { quoteit = true }
                    gotangle = true
                    anglelev = 1
                    if haveRoom {
                        if !addangle { buflim -= 1 }
                        addangle = true
                    }
                    bp = bufhead
                    if quoteit {
                        try append(UInt8(ascii: "\""))
                        p -= 1
                        while p > addrStart {
                            p -= 1
                            if !isASCIISpace(at(p)) { break }
                        }
                        p += 1
                    }
                    var q = addrhead
                    while q < p {
                        let cc = at(q)
                        q += 1
                        if quoteit && cc == UInt8(ascii: "\"") {
                            try append(UInt8(ascii: "\\"))
                            try append(cc)
                        } else {
                            try append(cc)
                        }
                    }
                    if quoteit {
                        if bp == 1 { bp -= 1 } else { try append(UInt8(ascii: "\"")) }
                        while true {
                            let cc = at(p)
                            p += 1
                            if cc == UInt8(ascii: "<") || cc == 0 {
                                try append(UInt8(ascii: "<"))
                                if cc == 0 { p -= 1 }
                                break
                            }
                            try append(cc)
                        }
                    }
                    copylev = 0
                    putgmac = false
                    quoteit = false
                    break
                }
                if c == UInt8(ascii: ">") {
                    if anglelev > 0 {
                        anglelev -= 1
                        if haveRoom {
                            if addangle { buflim += 1 }
                            addangle = false
                        }
                    } else if haveRoom {
                        if copylev > 0 && bp > bufhead { bp -= 1 }
                        quoteit = true
                        break
                    }
                    let old = copylev
                    copylev += 1
                    if old <= 0 { try append(c) }
                    break
                }
                gotoPutg = true
            } while false
            if gotoPutg {
                if copylev <= 0 && !putgmac {
                    if bp > 0 && buf[bp - 1] == UInt8(ascii: ")") { try append(UInt8(ascii: " ")) }
                    try append(Meta.macroExpand)
                    try append(UInt8(ascii: "g"))
                    putgmac = true
                }
            }
        }
        if realqmode && bp < bufend { buf[bp] = UInt8(ascii: "\""); bp += 1 }
        while realcmtlev > 0 && bp < bufend { buf[bp] = UInt8(ascii: ")"); bp += 1; realcmtlev -= 1 }
        if addangle && bp < bufend { buf[bp] = UInt8(ascii: ">"); bp += 1 }
        if bp < bufend { return Array(buf[0..<bp]) }
        return punt
    } catch {
        return punt
    }
}
