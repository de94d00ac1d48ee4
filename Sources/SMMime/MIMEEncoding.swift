// SMMime/MIMEEncoding.swift
//
// The two content transfer encodings as sendmail's mime8to7() writes
// them: base64 in lines of 72 characters over the content with every LF
// turned into CRLF, and quoted-printable with its soft line breaks after
// column 72-75 (a "." is never left alone at the start of a line), =XX
// for control bytes (but TAB), "=" and bytes 0x7F-0xFF, trailing blanks
// encoded, a line holding only "." written "=2E", and optionally "From "
// at the start of a line written "From=20".
// Promises: no I/O; output is 7-bit with LF line ends.

enum MIMEEncoding {
    static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let hex = Array("0123456789ABCDEF".utf8)

    /// base64 of `content` (LF -> CRLF), 72 characters a line, each ended by LF.
    static func base64Lines(_ content: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(content.count + content.count / 20)
        for b in content {
            if b == 0x0A { bytes += [0x0D, 0x0A] } else { bytes.append(b) }
        }
        var out: [UInt8] = []
        var lineLength = 0
        var i = 0
        while i < bytes.count {
            if lineLength > 71 { out.append(0x0A); lineLength = 0 }
            let b0 = bytes[i]
            let b1: UInt8? = i + 1 < bytes.count ? bytes[i + 1] : nil
            let b2: UInt8? = i + 2 < bytes.count ? bytes[i + 2] : nil
            out.append(base64Alphabet[Int(b0 >> 2)])
            out.append(base64Alphabet[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
            out.append(b1.map { base64Alphabet[Int(($0 & 0x0F) << 2 | (b2 ?? 0) >> 6)] } ?? UInt8(ascii: "="))
            out.append(b2.map { base64Alphabet[Int($0 & 0x3F)] } ?? UInt8(ascii: "="))
            lineLength += 4
            i += 3
        }
        if lineLength > 0 { out.append(0x0A) }
        return out
    }

    static func needsEncoding(_ b: UInt8) -> Bool {
        (b < 0x20 && b != 0x09) || b >= 0x7F || b == UInt8(ascii: "=")
    }

    /// quoted-printable of `content`; `inMultipart`: the entity is
    /// followed by a boundary, so an empty line ends it (the line end
    /// before the boundary).
    static func quotedPrintable(_ content: [UInt8], escapeFrom: Bool, inMultipart: Bool) -> [UInt8] {
        var out: [UInt8] = []
        var line: [UInt8] = []
        var lineLength = 0
        var fromState = 0
        // the byte before (a blank is held back until the next one shows
        // whether it ends the line)
        var previous: UInt8 = 0x0A
        func encoded(_ b: UInt8) -> [UInt8] { [UInt8(ascii: "="), hex[Int(b >> 4)], hex[Int(b & 0x0F)]] }
        for b in content {
            if b == 0x0A {
                if previous == 0x20 || previous == 0x09 { line += encoded(previous) }
                if line == [UInt8(ascii: ".")] { line = encoded(UInt8(ascii: ".")) }
                out += line + [0x0A]
                line = []
                lineLength = 0
                fromState = 0
                previous = b
                continue
            }
            if previous == 0x20 && lineLength == 4 && fromState == 4 && escapeFrom {
                line += encoded(0x20)
                lineLength += 3
            } else if previous == 0x20 || previous == 0x09 {
                line.append(previous)
                lineLength += 1
            }
            if lineLength > 72 && (lineLength > 75 || b != UInt8(ascii: ".") || (lineLength > 73 && previous == UInt8(ascii: "."))) {
                let movesDot = lineLength > 73 && previous == UInt8(ascii: ".")
                if movesDot { line.removeLast() } else { previous = 0x0A }
                out += line + [UInt8(ascii: "="), 0x0A]
                line = []
                lineLength = 0
                fromState = 0
                if movesDot { line.append(UInt8(ascii: ".")); lineLength = 1 }
            }
            if needsEncoding(b) {
                line += encoded(b)
                lineLength += 3
            } else if b != 0x20 && b != 0x09 {
                let from = Array("From".utf8)
                if lineLength < 4 && b == from[lineLength] { fromState += 1 }
                line.append(b)
                lineLength += 1
            }
            previous = b
        }
        if previous == 0x20 || previous == 0x09 {
            line += encoded(previous)
            lineLength += 3
        }
        if lineLength > 0 || inMultipart { out += line + [0x0A] }
        return out
    }
}
