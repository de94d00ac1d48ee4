// SMMimeTests/MIME8to7Tests.swift — the pure 8->7 conversion: recorded
// sendmail outputs (GoldenCases) reproduced byte for byte, and the rules
// one at a time (the encoding choice, quoted-printable's line breaking,
// base64's CRLF, boundaries, what is left alone).

import Testing
@testable import SMMime

/// Splits a message into header fields (folding kept) and body.
func split(_ message: [UInt8]) -> ([MIMEHeaderField], [UInt8]) {
    var fields: [MIMEHeaderField] = []
    var i = 0
    while i < message.count {
        var e = i
        while e < message.count, message[e] != 0x0A { e += 1 }
        let line = Array(message[i..<e])
        i = e + 1
        if line.isEmpty { break }
        if line.first == 0x20 || line.first == 0x09 {
            fields[fields.count - 1].value += [0x0A] + line
            continue
        }
        let colon = line.firstIndex(of: UInt8(ascii: ":"))!
        var v = line[(colon + 1)...]
        while v.first == 0x20 { v = v.dropFirst() }
        fields.append(MIMEHeaderField(name: Array(line[..<colon]), value: Array(v)))
    }
    return (fields, i < message.count ? Array(message[i...]) : [])
}

/// The message as the mailer gets it: kept fields, added fields, a blank
/// line, the converted body.
func render(_ message: [UInt8], queueID: String, escapeFrom: Bool = false) -> [UInt8] {
    let (fields, body) = split(message)
    var o = MIME8to7.Options(hostName: Array("vm.example.test".utf8), queueID: Array(queueID.utf8))
    o.escapeFrom = escapeFrom
    let r = MIME8to7.convert(header: fields, body: body, options: o)
    var out: [UInt8] = []
    for (k, f) in fields.enumerated() where !r.omitted.contains(k) { out += f.text + [0x0A] }
    for f in r.added { out += f.text + [0x0A] }
    return out + [0x0A] + r.body
}

func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

@Suite("MIME 8->7 as sendmail's mime8to7()")
struct MIME8to7Tests {
    @Test("recorded sendmail conversions", arguments: GoldenCases.all.map { $0.name })
    func golden(_ name: String) {
        let g = GoldenCases.all.first { $0.name == name }!
        let got = render(g.message, queueID: g.queueID)
        #expect(got == g.delivered, "\(name):\n\(text(got))")
    }

    @Test("an 8-bit plain message: MIME-Version and Content-Type added, quoted-printable")
    // (2 of 22 bytes 8-bit: not more than an eighth)
    func plainAdded() {
        let (fields, body) = split(Array("Subject: x\n\ncaf\u{e9} au lait, please\n".utf8))
        var o = MIME8to7.Options(hostName: Array("h.example".utf8), queueID: Array("ID1".utf8))
        o.defaultCharset = Array("utf-8".utf8)
        let r = MIME8to7.convert(header: fields, body: body, options: o)
        #expect(r.omitted == [])
        #expect(r.added.map { text($0.text) } == [
            "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "X-MIME-Autoconverted: from 8bit to quoted-printable by h.example id ID1",
        ])
        #expect(text(r.body) == "caf=C3=A9 au lait, please\n")
    }

    @Test("more than an eighth of 8-bit bytes: base64 of the content with CRLF line ends, 72 a line")
    func base64Choice() {
        let body: [UInt8] = [0xFF, 0xFE, 0x0A]
        let r = MIME8to7.convert(header: [MIMEHeaderField("Content-Type", "application/x")], body: body,
                                 options: .init(hostName: [0x68], queueID: [0x69]))
        #expect(r.added.map { text($0.text) } == ["MIME-Version: 1.0", "Content-Transfer-Encoding: base64",
                                                 "X-MIME-Autoconverted: from 8bit to base64 by h id i"])
        #expect(text(r.body) == "//4NCg==\n")
        let long = [UInt8](repeating: 0xC0, count: 60)
        let lines = text(MIME8to7.convert(header: [], body: long, options: .init(hostName: [], queueID: [])).body)
            .split(separator: "\n")
        #expect(lines.map { $0.count } == [72, 8])
    }

    @Test("an eighth or less: quoted-printable; trailing blanks, a lone dot, = and soft breaks")
    func quotedPrintableRules() {
        let body = Array("a \nb\t\n.\nx=y\n".utf8) + [0xE9, 0x0A] + Array(repeating: UInt8(ascii: "z"), count: 80) + [0x0A]
        let r = MIME8to7.convert(header: [], body: body, options: .init(hostName: [], queueID: []))
        #expect(text(r.body) == "a=20\nb=09\n=2E\nx=3Dy\n=E9\n" + String(repeating: "z", count: 73) + "=\nzzzzzzz\n")
    }

    @Test("From at the start of a line: From=20 only for a mailer that escapes From lines")
    func fromEscape() {
        let (fields, body) = split(Array("Subject: x\n\nFrom me, \u{e9}t\u{e9} and some more plain text\n".utf8))
        let plain = MIME8to7.convert(header: fields, body: body, options: .init(hostName: [], queueID: []))
        var o = MIME8to7.Options(hostName: [], queueID: [])
        o.escapeFrom = true
        let escaped = MIME8to7.convert(header: fields, body: body, options: o)
        #expect(text(plain.body) == "From me, =C3=A9t=C3=A9 and some more plain text\n")
        #expect(text(escaped.body) == "From=20me, =C3=A9t=C3=A9 and some more plain text\n")
    }

    @Test("7-bit content passes unchanged; its Content-Transfer-Encoding is written again")
    func sevenBitPart() {
        let fields = [MIMEHeaderField("MIME-Version", "1.0"), MIMEHeaderField("Content-Transfer-Encoding", "7bit"),
                      MIMEHeaderField("Content-Type", "text/plain")]
        let r = MIME8to7.convert(header: fields, body: Array("plain\n".utf8), options: .init(hostName: [], queueID: []))
        #expect(r.omitted == [1])
        #expect(r.added.map { text($0.text) } == ["Content-Transfer-Encoding: 7bit"])
        #expect(text(r.body) == "plain\n")
    }

    @Test("an encoding outside 7bit/8bit/binary and multipart/signed are left alone")
    func leftAlone() {
        let body: [UInt8] = Array("--s\n\n".utf8) + [0xE9, 0x0A] + Array("--s--\n".utf8)
        let signed = [MIMEHeaderField("Content-Type", "multipart/signed; boundary=s")]
        let r = MIME8to7.convert(header: signed, body: body, options: .init(hostName: [], queueID: []))
        #expect(r.body == body)
        let b64 = [MIMEHeaderField("Content-Type", "text/plain"), MIMEHeaderField("Content-Transfer-Encoding", "BASE64")]
        let r2 = MIME8to7.convert(header: b64, body: [0xE9, 0x0A], options: .init(hostName: [], queueID: []))
        #expect(r2.added.map { text($0.text) } == ["MIME-Version: 1.0", "Content-Transfer-Encoding: BASE64"])
        #expect(r2.body == [0xE9, 0x0A])
    }

    @Test("Content-Type parameters: comments dropped, quoted strings unquoted, names without case")
    func contentType() {
        let ct = MIMEContentType(Array("Multipart/Mixed (c) ; BOUNDARY = \"a \\\"b\" ; x=y".utf8))
        #expect(ct.map { text($0.type) } == "Multipart")
        #expect(ct.map { text($0.subtype) } == "Mixed")
        #expect(ct?.parameter("boundary").map(text) == "a \"b")
        #expect(ct?.parameter("X").map(text) == "y")
        #expect(MIMEContentType(Array("  (only a comment) ".utf8)) == nil)
        #expect(MIME8to7.isTransferEncoding(Array("content-transfer-ENCODING".utf8)))
    }

    @Test("a part header ended by a line that is no field: the line is lost, as in sendmail")
    func oddPartHeader() {
        let body = Array("--zz\nContent-Type: text/plain\nnot a field\n--zz--\n".utf8)
        let r = MIME8to7.convert(header: [MIMEHeaderField("Content-Type", "multipart/mixed; boundary=zz")], body: body,
                                 options: .init(hostName: [], queueID: []))
        #expect(text(r.body) == "--zz\nContent-Type: text/plain\n\n--zz--\n")
    }

    @Test("nesting deeper than 20 levels and a body without its closing boundary do not trap")
    func deepAndBroken() {
        var body: [UInt8] = []
        for k in 0..<30 { body += Array("--b\(k)\nContent-Type: multipart/mixed; boundary=b\(k + 1)\n\n".utf8) }
        body += [0xE9, 0x0A]
        let r = MIME8to7.convert(header: [MIMEHeaderField("Content-Type", "multipart/mixed; boundary=b0")], body: body,
                                 options: .init(hostName: [], queueID: []))
        #expect(!r.body.isEmpty)
        #expect(text(r.body).hasSuffix("--b0--\n"))
    }
}

@Suite("MIME 7->8 as sendmail's mime7to8()")
struct MIME7to8Tests {
    func convert(_ message: String) -> (MIMEConversion, [MIMEHeaderField]) {
        let (fields, body) = split(Array(message.utf8))
        return (MIME7to8.convert(header: fields, body: body, hostName: Array("h".utf8), queueID: Array("Q".utf8)), fields)
    }

    @Test("only quoted-printable or base64 (exactly, any case) text/plain at the top")
    func applies() {
        func header(_ ct: String?, _ cte: String) -> [MIMEHeaderField] {
            (ct.map { [MIMEHeaderField("Content-Type", $0)] } ?? []) + [MIMEHeaderField("Content-Transfer-Encoding", cte)]
        }
        #expect(MIME7to8.applies(header: header("Text/Plain (c); charset=x", "Base64")))
        #expect(MIME7to8.applies(header: header("text/plain", "quoted-printable")))
        #expect(!MIME7to8.applies(header: header("text/plainx", "base64")))
        #expect(!MIME7to8.applies(header: header("text / plain", "base64")))
        #expect(!MIME7to8.applies(header: header("text/html", "base64")))
        #expect(!MIME7to8.applies(header: header(nil, "base64")))
        #expect(!MIME7to8.applies(header: header("text/plain", "base64 ")))
        #expect(!MIME7to8.applies(header: header("text/plain", "quoted-printable (c)")))
    }

    @Test("quoted-printable: soft breaks and bad escapes join lines; a line end is added")
    func quotedPrintable() {
        let (r, fields) = convert("Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\na=\nb\nc=3\nd=XYe\n")
        #expect(r.omitted == [1] && fields.count == 2)
        #expect(r.added.map { text($0.text) } == ["Content-Transfer-Encoding: 8bit",
                                                 "X-MIME-Autoconverted: from quoted-printable to 8bit by h id Q"])
        #expect(text(r.body) == "ab\ncd\n")
        #expect(convert("Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nx=E9\ny\n").0.body
                == [0x78, 0xE9, 0x0A, 0x79, 0x0A, 0x0A])
        #expect(text(convert("Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nend=").0.body) == "end\n")
    }

    @Test("base64: CR LF to LF, a last line ended, a blank line after")
    func base64() {
        let h = "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
        #expect(convert(h + "YQpiDQpjDQ0K\n").0.body == Array("a\nb\nc\r\n\n".utf8))
        #expect(text(convert(h + "YW Jj\nZA==\nZWY=\n").0.body) == "abcdef\n\n")
        #expect(text(convert(h).0.body) == "\n")
    }
}
