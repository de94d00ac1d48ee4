// SMRules/Printing.swift
//
// Renders internal byte strings the way sendmail's `xputs` and `printav`
// do: metasymbols as `$*`, `$#`, `$=X`, `${long}`; newline, return and
// tab as `\n` `\r` `\t`; other 8-bit bytes as `M-` and the low 7 bits.
// Promises: pure; output is bytes, ready to write.

import SMBase

public enum Printing {
    /// sendmail's xputs (without terminal escapes).
    public static func xputs(_ s: [UInt8], names: MacroNames, into out: inout [UInt8]) {
        var i = 0
        let n = s.count
        while i < n {
            var c = s[i]
            i += 1
            if c == 0 { break }
            if c >= 0x80 {
                if c == Meta.matchReplace {
                    out.append(UInt8(ascii: "$"))
                    if i >= n { continue }
                    c = s[i]
                    i += 1
                    printChar(c, into: &out)
                    continue
                }
                if c == Meta.macroExpand || c == Meta.macroDeferred {
                    out.append(UInt8(ascii: "$"))
                    if c == Meta.macroDeferred { out.append(UInt8(ascii: "&")) }
                    if i >= n { continue }
                    let x = s[i]
                    if x == UInt8(ascii: "=") || x == UInt8(ascii: "~") || x == UInt8(ascii: "&") || x == UInt8(ascii: "?") {
                        out.append(x)
                        i += 1
                    }
                    if i < n {
                        let id = s[i]
                        i += 1
                        if id & 0x80 != 0 {
                            out.append(UInt8(ascii: "{"))
                            out.append(contentsOf: names.name(of: Int(id)))
                            out.append(UInt8(ascii: "}"))
                        } else {
                            out.append(id)
                        }
                    }
                    continue
                }
                if let name = Meta.metaName(c) {
                    out.append(UInt8(ascii: "$"))
                    out.append(name)
                    if c == Meta.matchClass || c == Meta.matchNotClass {
                        if i < n {
                            let id = s[i]
                            if id & 0x80 != 0 {
                                out.append(UInt8(ascii: "{"))
                                out.append(contentsOf: names.name(of: Int(id)))
                                out.append(UInt8(ascii: "}"))
                                i += 1
                            } else if id != 0 {
                                out.append(id)
                                i += 1
                            }
                        }
                    }
                    continue
                }
                if c == Meta.matchClass || c == Meta.matchNotClass { continue }
                out.append(contentsOf: Array("M-".utf8))
                c &= 0x7F
            }
            printChar(c, into: &out)
        }
    }

    @inline(__always)
    static func printChar(_ c0: UInt8, into out: inout [UInt8]) {
        var c = c0
        if c >= 0x20 && c < 0x7F {
            out.append(c)
            return
        }
        switch c {
        case 0x0A: c = UInt8(ascii: "n")
        case 0x0D: c = UInt8(ascii: "r")
        case 0x09: c = UInt8(ascii: "t")
        default: break
        }
        if c >= 0x20 && c < 0x7F {
            out.append(UInt8(ascii: "\\"))
            out.append(c)
        } else if c >= 0x80 {
            out.append(UInt8(ascii: "^"))
            out.append(c ^ 0o100)
        }
    }

    /// sendmail's printav: each token preceded by a space, then a newline.
    public static func printav(_ tokens: [[UInt8]], names: MacroNames, into out: inout [UInt8]) {
        for t in tokens {
            out.append(UInt8(ascii: " "))
            xputs(t, names: names, into: &out)
        }
        out.append(UInt8(ascii: "\n"))
    }
}
