// SMConfig/Mailer.swift
//
// Mailer definitions (M lines): every field sendmail reads, with its
// defaults, and the `=M` rendering of `-bt`.  Built-in mailers prog,
// *file* and *include* exist before the cf is read, as in sendmail.
// Promises: pure; field errors are reported with sendmail's wording.

import SMBase
import SMRules

public struct Mailer: Sendable {
    public var number: Int
    public var name: [UInt8]
    public var path: [UInt8] = []
    public var flags: Set<UInt8> = []
    public var senderEnvelopeRuleset = -1
    public var senderHeaderRuleset = -1
    public var recipientEnvelopeRuleset = -1
    public var recipientHeaderRuleset = -1
    public var eol: [UInt8] = Array("\n".utf8)
    public var maxSize: Int = 0
    public var lineLimit: Int = 0
    public var argv: [[UInt8]] = []
    public var mtaType: [UInt8]? = nil
    public var addrType: [UInt8]? = nil
    public var diagType: [UInt8]? = nil
    public var uid: Int = -1
    public var gid: Int = -1
    public var userName: [UInt8]? = nil
    public var execDir: [UInt8]? = nil
    public var rootDir: [UInt8]? = nil
    public var charset: [UInt8]? = nil
    public var nice: Int = 0
    public var maxDeliveries: Int = 0
    public var maxRcpt: Int = 100
    public var wait: Int = 0
    public var queueGroup: [UInt8]? = nil

    public init(number: Int, name: [UInt8]) {
        self.number = number
        self.name = name
    }

    public func has(_ flag: Character) -> Bool { flags.contains(UInt8(ascii: flag.unicodeScalars.first!)) }

    /// The three mailers sendmail defines before reading the cf.
    public static func builtins(parseRuleset: [UInt8]? = nil) -> [Mailer] {
        var prog = Mailer(number: 0, name: Array("prog".utf8))
        prog.path = Array("/bin/sh".utf8)
        prog.flags = Set("lsDq9".utf8)
        prog.argv = [Array("sh".utf8), Array("-c".utf8), [Meta.macroExpand, UInt8(ascii: "u")]]
        prog.mtaType = Array("DNS".utf8); prog.addrType = Array("RFC822".utf8); prog.diagType = Array("X-Unix".utf8)
        var file = Mailer(number: 1, name: Array("*file*".utf8))
        file.path = Array("[FILE]".utf8)
        file.flags = Set("lsDFMPEouq9".utf8)
        file.argv = [Array("FILE".utf8), [Meta.macroExpand, UInt8(ascii: "u")]]
        file.mtaType = Array("DNS".utf8); file.addrType = Array("RFC822".utf8); file.diagType = Array("X-Unix".utf8)
        var incl = Mailer(number: 2, name: Array("*include*".utf8))
        incl.path = Array("/dev/null".utf8)
        incl.flags = Set("su".utf8)
        incl.argv = [Array("INCLUDE".utf8), [Meta.macroExpand, UInt8(ascii: "u")]]
        for i in [1, 2] {
            var m = i == 1 ? file : incl
            m.senderEnvelopeRuleset = 0; m.senderHeaderRuleset = 0
            m.recipientEnvelopeRuleset = 0; m.recipientHeaderRuleset = 0
            if i == 1 { file = m } else { incl = m }
        }
        return [prog, file, incl]
    }
}
