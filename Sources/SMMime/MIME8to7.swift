// SMMime/MIME8to7.swift
//
// Converts an 8-bit MIME message to 7 bits as sendmail 8.17's mime8to7()
// writes it for a mailer or peer that takes 7 bits only (a local mailer
// with F=7; an SMTP server that does not offer 8BITMIME):
//   - an entity without 8-bit bytes passes unchanged (its
//     Content-Transfer-Encoding header is written again, last);
//   - an 8-bit entity is encoded as base64 when more than an eighth of its
//     bytes have the high bit set (line ends become CRLF first), else as
//     quoted-printable (76-column lines, trailing blanks and a lone "." as
//     =XX, "From " as "From=20" when the mailer escapes From lines), with
//     `Content-Transfer-Encoding:` and `X-MIME-Autoconverted: from 8bit to
//     ... by <host> id <queue id>` headers;
//   - multipart entities are walked part by part with their boundaries
//     (prologue and epilogue kept with the high bit stripped; parts of a
//     multipart/digest default to message/rfc822); message/rfc822 is
//     walked into once (a MIME-Version header added when missing);
//   - types in the "opaque" list (multipart/signed) and entities whose
//     encoding is not 7bit/8bit/binary are left alone;
//   - at the top, MIME-Version and `Content-Type: text/plain;
//     charset=<DefaultCharSet or unknown-8bit>` are added when missing.
// The input is the message's header fields and its body with LF line
// ends (a df file's bytes); the output says which input fields to leave
// out (Content-Transfer-Encoding), which to add after the others, and the
// body that follows the blank line, with LF line ends: the caller applies
// its own line ends, dot and From_ escaping and line-length limit.
// Promises: no I/O; total on any input (nesting deeper than 20 levels is
// passed through unconverted).

public enum MIME8to7 {
    public struct Options {
        /// $j: the host named in X-MIME-Autoconverted.
        public var hostName: [UInt8]
        /// The message's queue ID, named in X-MIME-Autoconverted.
        public var queueID: [UInt8]
        /// DefaultCharSet, for the Content-Type added to a plain message.
        public var defaultCharset: [UInt8] = Array("unknown-8bit".utf8)
        /// The mailer escapes "From " lines (F=E): quoted-printable
        /// writes such a line's blank as =20.
        public var escapeFrom = false
        /// sendmail's class $=e: encodings that may be converted.
        public var encodings: [[UInt8]] = ["7bit", "8bit", "binary"].map { Array($0.utf8) }
        /// sendmail's class $=n: types never converted.
        public var opaqueTypes: [[UInt8]] = [Array("multipart/signed".utf8)]
        /// sendmail's class $=s: message subtypes walked into.
        public var messageSubtypes: [[UInt8]] = [Array("rfc822".utf8)]
        /// Rewrites a field of a multipart's part header as the mailer's
        /// putheader() does (address fields through its rulesets); the
        /// header of an encapsulated message/rfc822 is written as it is.
        public var rewritePartField: ((MIMEHeaderField) -> MIMEHeaderField)? = nil

        public init(hostName: [UInt8], queueID: [UInt8]) {
            self.hostName = hostName
            self.queueID = queueID
        }
    }

    public struct Result: Equatable, Sendable {
        /// Indices of input fields not to write (Content-Transfer-Encoding).
        public var omitted: [Int]
        /// Fields to write after the kept ones, in order.
        public var added: [MIMEHeaderField]
        /// The body after the blank line, LF line ends.
        public var body: [UInt8]
    }

    /// True for the header sendmail leaves out while converting
    /// (Content-Transfer-Encoding), at the top and in every part.
    public static func isTransferEncoding(_ name: [UInt8]) -> Bool {
        MIMEText.equalFolded(name, "Content-Transfer-Encoding")
    }

    /// Converts `body` under `header` (see the file comment).
    public static func convert(header: [MIMEHeaderField], body: [UInt8], options: Options) -> Result {
        var c = Converter(body: body, options: options)
        if header.value(of: "MIME-Version") == nil { c.added.append(MIMEHeaderField("MIME-Version", "1.0")) }
        if header.value(of: "Content-Type") == nil {
            c.added.append(MIMEHeaderField(name: Array("Content-Type".utf8),
                                           value: Array("text/plain; charset=".utf8) + options.defaultCharset))
        }
        _ = c.entity(header, flags: [], level: 0)
        let omitted = header.indices.filter { isTransferEncoding(header[$0].name) }
        return Result(omitted: omitted, added: c.added, body: c.out)
    }
}

/// What ended an entity: a boundary of some enclosing multipart, its
/// closing form, or the end of the body (sendmail's MBT_*).
enum MIMEBoundary { case notSeparator, intermediate, final }

struct ConversionFlags: OptionSet {
    let rawValue: Int
    static let noEightBit = ConversionFlags(rawValue: 1)
    static let digest = ConversionFlags(rawValue: 2)
}

struct Converter {
    let body: [UInt8]
    let options: MIME8to7.Options
    var pos = 0
    var out: [UInt8] = []
    var added: [MIMEHeaderField] = []
    /// The top entity's header is still open: lines go to `added`.
    var topHeader = true
    var boundaries: [[UInt8]] = []
    static let maxNesting = 20

    init(body: [UInt8], options: MIME8to7.Options) {
        self.body = body
        self.options = options
    }

    // MARK: output

    mutating func headerLine(_ f: MIMEHeaderField) {
        if topHeader { added.append(f) } else { out += f.text; out.append(0x0A) }
    }

    mutating func endHeader() {
        if topHeader { topHeader = false } else { out.append(0x0A) }
    }

    mutating func line(_ l: ArraySlice<UInt8>, strip: Bool = false) {
        if strip { out += l.map { $0 & 0x7F } } else { out += l }
        if l.last != 0x0A { out.append(0x0A) }
    }

    // MARK: input

    /// The next line with its LF (the last may lack it); nil at the end.
    mutating func nextLine() -> ArraySlice<UInt8>? {
        guard pos < body.count else { return nil }
        var e = pos
        while e < body.count, body[e] != 0x0A { e += 1 }
        if e < body.count { e += 1 }
        defer { pos = e }
        return body[pos..<e]
    }

    /// mimeboundary(): whether `line` separates parts of an enclosing multipart.
    func boundaryType(_ line: ArraySlice<UInt8>) -> MIMEBoundary {
        guard !boundaries.isEmpty, line.count >= 2, line.first == 0x2D, line[line.startIndex + 1] == 0x2D else {
            return .notSeparator
        }
        var l = line
        if l.last == 0x0A { l = l.dropLast() }
        while let c = l.last, c == 0x20 || c == 0x09 { l = l.dropLast() }
        let rest = Array(l.dropFirst(2))
        if boundaries.contains(rest) { return .intermediate }
        if l.count > 2, rest.count >= 2, rest.suffix(2) == [0x2D, 0x2D], boundaries.contains(Array(rest.dropLast(2))) {
            return .final
        }
        return .notSeparator
    }

    /// A part's header fields (up to and including the blank line; a line
    /// that is no header field ends it and is lost, as sendmail's collect()
    /// loses it).
    mutating func partHeader() -> [MIMEHeaderField] {
        var fields: [MIMEHeaderField] = []
        while pos < body.count {
            guard let l = nextLine() else { break }
            var text = l
            if text.last == 0x0A { text = text.dropLast() }
            if text.isEmpty { break }
            if let c = text.first, c == 0x20 || c == 0x09, !fields.isEmpty {
                fields[fields.count - 1].value += [0x0A] + text
                continue
            }
            guard let colon = text.firstIndex(of: UInt8(ascii: ":")), colon > text.startIndex,
                  !text[..<colon].contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else {
                break
            }
            var v = text[(colon + 1)...]
            while let c = v.first, c == 0x20 || c == 0x09 { v = v.dropFirst() }
            fields.append(MIMEHeaderField(name: Array(text[..<colon]), value: Array(v)))
        }
        return fields
    }

    /// putheader() for a part: every field but Content-Transfer-Encoding
    /// (`rewrite`: a multipart's part, whose fields the caller may rewrite).
    mutating func writeHeader(_ fields: [MIMEHeaderField], rewrite: Bool = false) {
        for f in fields where !MIME8to7.isTransferEncoding(f.name) {
            if rewrite, let r = options.rewritePartField { headerLine(r(f)) } else { headerLine(f) }
        }
    }

    func inClass(_ word: [UInt8], _ list: [[UInt8]]) -> Bool {
        list.contains { MIMEText.equalFolded($0, word) }
    }

    // MARK: conversion

    /// mime8to7() for one entity whose header has been written (but for
    /// the fields this adds); returns what ended it.
    mutating func entity(_ header: [MIMEHeaderField], flags inFlags: ConversionFlags, level: Int) -> MIMEBoundary {
        var flags = inFlags
        let cte = header.value(of: "Content-Transfer-Encoding").flatMap(MIMEText.encodingToken)
        let ctValue = header.value(of: "Content-Type")
            ?? Array((flags.contains(.digest) ? "message/rfc822" : "text/plain").utf8)
        let ct = MIMEContentType(ctValue)
        let type = ct?.type ?? [], subtype = ct?.subtype ?? []
        if inClass(type + [UInt8(ascii: "/")] + subtype, options.opaqueTypes) || (cte.map { !inClass($0, options.encodings) } ?? false)
            || level > Self.maxNesting {
            flags.insert(.noEightBit)
        }
        if MIMEText.equalFolded(type, "multipart"), !flags.contains(.noEightBit),
           let boundary = ct?.parameter("boundary"), !boundary.isEmpty {
            return multipart(boundary: boundary, digest: MIMEText.equalFolded(subtype, "digest"), flags: flags, level: level)
        }
        if MIMEText.equalFolded(type, "message") {
            if !inClass(subtype, options.messageSubtypes) {
                flags.insert(.noEightBit)
            } else {
                endHeader()
                let inner = partHeader()
                writeHeader(inner)
                if inner.value(of: "MIME-Version") == nil { headerLine(MIMEHeaderField("MIME-Version", "1.0")) }
                var f = flags
                f.remove(.digest)
                return entity(inner, flags: f, level: level + 1)
            }
        }
        // count the entity's bytes and those with the high bit set
        var size = 0, high = 0
        if !flags.contains(.noEightBit) {
            let start = pos
            while let l = nextLine() {
                if boundaryType(l) != .notSeparator { break }
                size += l.count
                for b in l where b >= 0x80 { high += 1 }
                if size >= 4096 && high > size / 4 { break }
            }
            pos = start
        }
        if high == 0 {
            if let cte { headerLine(MIMEHeaderField(name: Array("Content-Transfer-Encoding".utf8), value: cte)) }
            endHeader()
            while let l = nextLine() {
                let bt = boundaryType(l)
                if bt != .notSeparator { return bt }
                line(l)
            }
            return .final
        }
        let (content, bt) = section()
        let base64 = size / 8 < high
        let name = base64 ? "base64" : "quoted-printable"
        headerLine(MIMEHeaderField("Content-Transfer-Encoding", name))
        headerLine(MIMEHeaderField(name: Array("X-MIME-Autoconverted".utf8),
                                   value: Array("from 8bit to \(name) by ".utf8) + options.hostName
                                       + Array(" id ".utf8) + options.queueID))
        endHeader()
        if base64 {
            out += MIMEEncoding.base64Lines(content)
        } else {
            out += MIMEEncoding.quotedPrintable(content, escapeFrom: options.escapeFrom, inMultipart: !boundaries.isEmpty)
        }
        return bt
    }

    /// The bytes of an entity up to the next boundary line (which is
    /// consumed; the line end before it belongs to it), as mime_getchar()
    /// delivers them, and what ended them.
    mutating func section() -> ([UInt8], MIMEBoundary) {
        var content: [UInt8] = []
        while let l = nextLine() {
            let bt = boundaryType(l)
            if bt != .notSeparator {
                if content.last == 0x0A { content.removeLast() }
                return (content, bt)
            }
            content += l
        }
        return (content, .final)
    }

    mutating func multipart(boundary: [UInt8], digest: Bool, flags inFlags: ConversionFlags, level: Int) -> MIMEBoundary {
        var flags = inFlags
        if digest { flags.insert(.digest) }
        boundaries.append(boundary)
        endHeader()
        // the prologue
        var bt = MIMEBoundary.final
        var sawBoundary = false
        while let l = nextLine() {
            bt = boundaryType(l)
            if bt != .notSeparator { sawBoundary = true; break }
            line(l, strip: true)
        }
        if !sawBoundary { bt = .final }
        while bt != .final {
            out += [0x2D, 0x2D] + boundary + [0x0A]
            let h = partHeader()
            writeHeader(h, rewrite: true)
            bt = entity(h, flags: flags, level: level + 1)
        }
        out += [0x2D, 0x2D] + boundary + [0x2D, 0x2D, 0x0A]
        boundaries.removeLast()
        // the epilogue
        while let l = nextLine() {
            let b = boundaryType(l)
            if b != .notSeparator { return b }
            line(l, strip: true)
        }
        return .final
    }
}
