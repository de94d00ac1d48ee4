// DeliveryFormatTests.swift — the pure pieces of delivery: argv from A=,
// header selection, the body as a mailer gets it, the -v recipient list,
// and -q selections.
// Promises: no files, no processes; each expectation names the sendmail
// behaviour it pins (seen in DeliverTests against the real sendmail).

import Testing
import SMBase
import SMRules
import SMQueueFormat
@testable import SMEngine

@Suite("Delivery formatting")
struct DeliveryFormatTests {
    static func word(_ s: String) -> [UInt8] {
        // "$u" / "$h" written as the macro byte sequences
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let c = it.first {
            it = it.dropFirst()
            if c == UInt8(ascii: "$"), let n = it.first { out += [Meta.macroExpand, n]; it = it.dropFirst() } else { out.append(c) }
        }
        return out
    }

    /// A tiny expander: $u = user (or "?"), $h = "host", $g = "sender".
    static func expand(_ w: [UInt8], _ user: [UInt8]?) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < w.count {
            if w[i] == Meta.macroExpand, i + 1 < w.count {
                switch w[i + 1] {
                case UInt8(ascii: "u"): out += user ?? Array("?".utf8)
                case UInt8(ascii: "h"): out += Array("host".utf8)
                case UInt8(ascii: "g"): out += Array("sender".utf8)
                default: break
                }
                i += 2
            } else { out.append(w[i]); i += 1 }
        }
        return out
    }

    @Test("argv: words before $u once, the $u word per recipient, the rest after")
    func argv() {
        let t = ["mail.local", "-f", "$g", "$u", "done"].map(Self.word)
        let a = DeliveryFormat.buildArgv(template: t, users: [Array("a".utf8), Array("b".utf8)], expand: Self.expand)
        #expect(a.map { $0.string } == ["mail.local", "-f", "sender", "a", "b", "done"])
        // argv[0] is never expanded
        let t2 = ["$h", "x$uy"].map(Self.word)
        let a2 = DeliveryFormat.buildArgv(template: t2, users: [Array("u".utf8)], expand: Self.expand)
        #expect(a2[0] == Self.word("$h"))
        #expect(a2[1].string == "xuy")
        #expect(DeliveryFormat.speaksSMTP(["TCP", "$h"].map(Self.word)))
        #expect(!DeliveryFormat.speaksSMTP(["sh", "-c", "$u"].map(Self.word)))
    }

    @Test("headers: ?flags? need one of the mailer's flags, ?$x? a defined macro")
    func headerSelection() {
        let flags = Set("lsDFMn".utf8)
        let p = QueueFile.Header(condition: Array("P".utf8), text: Array("Return-Path: <x>".utf8))
        let dp = QueueFile.Header(condition: Array("DP".utf8), text: Array("Date: x".utf8))
        let none = QueueFile.Header(condition: [], text: Array("Subject: x".utf8))
        let mac = QueueFile.Header(condition: Array("${daemon_flags}".utf8), text: Array("X: y".utf8))
        #expect(!DeliveryFormat.headerSelected(p, mailerFlags: flags, macroDefined: { _ in true }))
        #expect(DeliveryFormat.headerSelected(dp, mailerFlags: flags, macroDefined: { _ in true }))
        #expect(DeliveryFormat.headerSelected(none, mailerFlags: [], macroDefined: { _ in false }))
        #expect(DeliveryFormat.headerSelected(mac, mailerFlags: [], macroDefined: { $0 == Array("daemon_flags".utf8) }))
        #expect(!DeliveryFormat.headerSelected(mac, mailerFlags: flags, macroDefined: { _ in false }))
        let lines = DeliveryFormat.headerLines(name: Array("X-Long".utf8), value: Array(" a\n\tb".utf8), eol: [13, 10])
        #expect(lines == Array("X-Long: a\r\n\tb\r\n".utf8))
    }

    @Test("body: F=E >From, F=X dot doubling, F=7, E=, F=b", arguments: [
        ("lsDFM", "\n", "a\nFrom x\n.\n", "a\nFrom x\n.\n"),
        ("E", "\n", "From x\nFrom\n", ">From x\nFrom\n"),
        ("X", "\r\n", ".\n..x\n", "..\r\n...x\r\n"),
        ("7", "\n", "\u{e9}\n", "i\n"),
        ("b", "\n", "x\n", "x\n\n"),
        ("b", "\n", "no newline", "no newline\n"),
        ("", "\n", "", ""),
    ])
    func body(_ f: String, _ eol: String, _ data: String, _ expected: String) {
        var input = Array(data.utf8)
        if f == "7" { input = [0xE9, 0x0A] }
        let out = DeliveryFormat.body(input, mailerFlags: Set(f.utf8), eol: Array(eol.utf8))
        #expect(out == Array(expected.utf8))
    }

    @Test("qf header quoting: METAQUOTE hides a byte; only an unquoted $x is a macro")
    func quoting() {
        let quoted: [UInt8] = Array("caf".utf8) + [0xC3, 0xFF, 0x81, 0x20, 0xFF, 0x81, 0x67, 0x20, 0xFF, 0xFF, 0xFE]
        #expect(!DeliveryFormat.hasUnquotedMacro(quoted))
        #expect(DeliveryFormat.dequote(quoted) == Array("caf".utf8) + [0xC3, 0x81, 0x20, 0x81, 0x67, 0x20, 0xFF, 0xFE])
        #expect(DeliveryFormat.hasUnquotedMacro([0x3C, Meta.macroExpand, 0x67, 0x3E]))
    }

    @Test("-v recipient list is last-first; temporary codes")
    func lists() {
        #expect(DeliveryFormat.toList(["root", "daemon", "bin"].map { Array($0.utf8) }).string == "bin,daemon,root")
        #expect(DeliveryFormat.isTemporary(75) && DeliveryFormat.isTemporary(74) && DeliveryFormat.isTemporary(71))
        #expect(!DeliveryFormat.isTemporary(67) && !DeliveryFormat.isTemporary(69) && !DeliveryFormat.isTemporary(0))
        #expect(DeliveryFormat.statusText(67) == "User unknown")
        #expect(DeliveryFormat.exitName(75) == "EX_TEMPFAIL")
    }

    @Test("-q selections: same letter ORs, different letters AND, ! negates")
    func selection() {
        let sel = QueueSelection(["Rdaemon", "Rbin", "Sroot", "0"].map { Array($0.utf8) })
        func m(_ id: String, _ s: String, _ r: [String]) -> Bool {
            sel.matches(id: Array(id.utf8), sender: Array(s.utf8), recipients: r.map { Array($0.utf8) })
        }
        #expect(m("X", "root", ["DAEMON"]))
        #expect(m("X", "root", ["bin"]))
        #expect(!m("X", "root", ["sys"]))
        #expect(!m("X", "joe", ["bin"]))
        let neg = QueueSelection([Array("!I6AU".utf8)])
        #expect(!neg.matches(id: Array("6AU2x".utf8), sender: [], recipients: []))
        #expect(neg.matches(id: Array("7AU2x".utf8), sender: [], recipients: []))
        #expect(QueueSelection([]).isEmpty)
        // queue IDs are matched with case, as sendmail does
        #expect(!QueueSelection([Array("I6au".utf8)]).matches(id: Array("6AU2x".utf8), sender: [], recipients: []))
    }
}
