// SMMime/MIME7to8.swift
//
// Decodes a quoted-printable or base64 text/plain message to 8 bits as
// sendmail 8.17's mime7to8() does for a mailer with F=9 (the *file* and
// prog mailers have it): only the top entity, and only when its
// Content-Transfer-Encoding is exactly "quoted-printable" or "base64"
// (any case) and its Content-Type starts with "text/plain".  The header
// loses its Content-Transfer-Encoding and gets `Content-Transfer-Encoding:
// 8bit` and `X-MIME-Autoconverted: from <encoding> to 8bit by <host> id
// <queue id>`.  The body, as sendmail writes it:
//   - quoted-printable: =XX decoded (blanks and other bytes between the
//     two digits skipped), a soft line break ("=" then the line end) or an
//     "=" not followed by a hex digit joins the line to the next one and
//     drops the rest of the input line;
//   - base64: whitespace skipped, groups decoded, a CR before each LF
//     dropped; a last line without its end gets one, and a blank line
//     always follows;
//   - the decoded text is ended by a line end.
// Promises: no I/O; total on any input.

/// Header fields to leave out and to add, and the body after the blank line.
public typealias MIMEConversion = MIME8to7.Result

public enum MIME7to8 {
    /// Whether mime7to8() applies to a message with this header.
    public static func applies(header: [MIMEHeaderField]) -> Bool {
        encoding(header) != nil && isPlainText(header)
    }

    /// The top entity's encoding when it is one mime7to8() decodes.
    static func encoding(_ header: [MIMEHeaderField]) -> [UInt8]? {
        guard var v = header.value(of: "Content-Transfer-Encoding")?[...] else { return nil }
        while let c = v.first, c == 0x20 || c == 0x09 { v = v.dropFirst() }
        let e = Array(v)
        return MIMEText.equalFolded(e, "quoted-printable") || MIMEText.equalFolded(e, "base64") ? e : nil
    }

    static func isPlainText(_ header: [MIMEHeaderField]) -> Bool {
        guard var v = header.value(of: "Content-Type")?[...] else { return false }
        while let c = v.first, c == 0x20 || c == 0x09 { v = v.dropFirst() }
        let prefix = Array("text/plain".utf8)
        guard v.count >= prefix.count, MIMEText.equalFolded(Array(v.prefix(prefix.count)), prefix) else { return false }
        guard let next = v.dropFirst(prefix.count).first else { return true }
        let wordByte = (next >= 0x30 && next <= 0x39) || (next | 0x20 >= 0x61 && next | 0x20 <= 0x7A)
            || [UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "+"), UInt8(ascii: "_")].contains(next)
        return !wordByte
    }

    /// Decodes `body` under `header` (see the file comment); a header it
    /// does not apply to gives the body unchanged and no fields.
    public static func convert(header: [MIMEHeaderField], body: [UInt8], hostName: [UInt8], queueID: [UInt8]) -> MIMEConversion {
        guard let cte = encoding(header), isPlainText(header) else {
            return MIMEConversion(omitted: [], added: [], body: body)
        }
        let omitted = header.indices.filter { MIME8to7.isTransferEncoding(header[$0].name) }
        let added = [MIMEHeaderField("Content-Transfer-Encoding", "8bit"),
                     MIMEHeaderField(name: Array("X-MIME-Autoconverted".utf8),
                                     value: Array("from ".utf8) + cte + Array(" to 8bit by ".utf8) + hostName
                                         + Array(" id ".utf8) + queueID)]
        let decoded = MIMEText.equalFolded(cte, "base64") ? fromBase64(body) : fromQuotedPrintable(body)
        return MIMEConversion(omitted: omitted, added: added, body: decoded)
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    static func fromQuotedPrintable(_ body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var start = 0
        while start < body.count {
            var end = start
            while end < body.count, body[end] != 0x0A { end += 1 }
            if end < body.count { end += 1 }
            let line = body[start..<end]
            start = end
            var i = line.startIndex
            decoding: while i < line.endIndex {
                let c = line[i]
                i += 1
                if c == UInt8(ascii: "=") {
                    guard i < line.endIndex else { break }
                    let c1 = line[i]
                    i += 1
                    // a soft line break, or no hex digit: the rest goes
                    guard c1 != 0x0A, let high = hexValue(c1) else { break decoding }
                    var low: UInt8? = nil
                    while i < line.endIndex {
                        let x = line[i]
                        i += 1
                        if let v = hexValue(x) { low = v; break }
                    }
                    guard let low else { break decoding }
                    out.append(high << 4 | low)
                } else {
                    out.append(c)
                    if c == 0x0A { break }
                }
            }
        }
        out.append(0x0A)
        return out
    }

    static let base64Values: [Int] = {
        var t = [Int](repeating: -1, count: 128)
        for (k, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = k }
        return t
    }()

    static func fromBase64(_ body: [UInt8]) -> [UInt8] {
        func value(_ c: UInt8) -> Int { c < 128 ? base64Values[Int(c)] : -1 }
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }
        var decoded: [UInt8] = []
        var i = 0
        func next() -> UInt8? {
            while i < body.count {
                let c = body[i]
                i += 1
                if !isSpace(c) { return c }
            }
            return nil
        }
        while let c1 = next() {
            guard let c2 = next(), let c3 = next(), let c4 = next() else { break }
            if c1 == UInt8(ascii: "=") || c2 == UInt8(ascii: "=") { continue }
            let v1 = value(c1), v2 = value(c2)
            decoded.append(UInt8(truncatingIfNeeded: (v1 << 2) | ((v2 & 0x30) >> 4)))
            if c3 == UInt8(ascii: "=") { continue }
            let v3 = value(c3)
            decoded.append(UInt8(truncatingIfNeeded: ((v2 & 0x0F) << 4) | ((v3 & 0x3C) >> 2)))
            if c4 == UInt8(ascii: "=") { continue }
            decoded.append(UInt8(truncatingIfNeeded: ((v3 & 0x03) << 6) | value(c4)))
        }
        // CR LF -> LF
        var out: [UInt8] = []
        out.reserveCapacity(decoded.count + 2)
        for (k, b) in decoded.enumerated() {
            if b == 0x0D, k + 1 < decoded.count, decoded[k + 1] == 0x0A { continue }
            out.append(b)
        }
        if let last = out.last, last != 0x0A { out.append(0x0A) }
        out.append(0x0A)
        return out
    }
}
