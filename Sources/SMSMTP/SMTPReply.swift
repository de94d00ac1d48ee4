// SMSMTP/SMTPReply.swift
//
// An SMTP reply: a three-digit code, an optional enhanced status code
// (RFC 3463) and one or more text lines, encoded as sendmail writes
// them: "250-" on every line but the last, "250 " on the last, each
// line ended by CR LF, the enhanced code repeated on every line.
// Promises: pure; `encoded` is the exact bytes for the wire.

public struct SMTPReply: Sendable, Equatable {
    public var code: Int
    public var enhanced: String?
    public var lines: [[UInt8]]

    public init(_ code: Int, _ enhanced: String?, _ text: String) {
        self.code = code
        self.enhanced = enhanced
        self.lines = [Array(text.utf8)]
    }

    public init(code: Int, enhanced: String?, lines: [[UInt8]]) {
        self.code = code
        self.enhanced = enhanced
        self.lines = lines
    }

    public var isError: Bool { code >= 400 }

    public var encoded: [UInt8] {
        var out: [UInt8] = []
        for (i, l) in lines.enumerated() {
            out += Array(String(code).utf8)
            out.append(i == lines.count - 1 ? 0x20 : UInt8(ascii: "-"))
            if let e = enhanced { out += Array(e.utf8) + [0x20] }
            out += l
            out += [0x0D, 0x0A]
        }
        return out
    }
}
