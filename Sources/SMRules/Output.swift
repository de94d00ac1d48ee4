// SMRules/Output.swift
//
// Where the engine writes what sendmail would print: -bt traces, user
// errors and system errors.  A buffer the caller flushes; tests read it.
// Promises: messages are formatted as sendmail prints them outside SMTP:
// the reply code and enhanced status code are dropped, and the current
// address ("e_to") is put in front as "addr... ".

import SMBase

public final class OutputBuffer: @unchecked Sendable {
    public var bytes: [UInt8] = []
    /// Called when `bytes` should be written out (e.g. before blocking).
    public var flushHandler: (([UInt8]) -> Void)?
    /// Sees every write as it is made (the -X traffic log).
    public var tee: (([UInt8]) -> Void)?

    public init(flushHandler: (([UInt8]) -> Void)? = nil) {
        self.flushHandler = flushHandler
    }

    @inlinable
    public func write(_ b: [UInt8]) {
        bytes.append(contentsOf: b)
        if let tee { tee(b) }
    }

    public func write(_ s: String) { write(s.latin1Bytes) }

    /// A message line the way sendmail's error output writes it: every
    /// byte with its high bit cleared.
    public func writeMessage(_ s: String) {
        // the masked text is a C string: a byte that masks to NUL ends it
        write(Array(s.latin1Bytes.lazy.map { $0 & 0x7F }.prefix { $0 != 0 }) + [0x0A])
    }

    public func flush() {
        if let h = flushHandler, !bytes.isEmpty {
            h(bytes)
            bytes.removeAll(keepingCapacity: true)
        }
    }

    /// Takes the buffered bytes out.
    public func take() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }
}

/// Splits "553 5.1.3 text" into its parts as sendmail's putoutmsg does:
/// a three-digit code and a space or dash, then an enhanced status code
/// ([245].d{1,3}.d{1,3}) followed by a space or the end.
public func stripReplyCode(_ msg: String) -> (code: String?, enhanced: String?, text: String) {
    let b = msg.latin1Bytes
    guard b.count >= 4, isASCIIDigit(b[0]), isASCIIDigit(b[1]), isASCIIDigit(b[2]),
          b[3] == UInt8(ascii: " ") || b[3] == UInt8(ascii: "-") else {
        return (nil, nil, msg)
    }
    let code = Array(b[0..<3]).string
    let rest = Array(b[4...])
    if let l = enhancedCodeLength(rest, delimiter: UInt8(ascii: " ")) {
        return (code, Array(rest[0..<l]).string, Array(rest[(l + 1)...]).string)
    }
    if let l = enhancedCodeLength(rest, delimiter: 0), l == rest.count {
        return (code, rest.string, "")
    }
    return (code, nil, rest.string)
}

/// sendmail's isenhsc: the length of an enhanced status code at the start
/// of `s` that is followed by `delimiter` (0 = end of string).
public func enhancedCodeLength(_ s: [UInt8], delimiter: UInt8) -> Int? {
    guard s.count >= 2, s[0] == UInt8(ascii: "2") || s[0] == UInt8(ascii: "4") || s[0] == UInt8(ascii: "5"),
          s[1] == UInt8(ascii: ".") else { return nil }
    func at(_ i: Int) -> UInt8 { i < s.count ? s[i] : 0 }
    var l = 2, h = 0
    while h < 3 && isASCIIDigit(at(l + h)) { h += 1 }
    if h == 0 || at(l + h) != UInt8(ascii: ".") { return nil }
    l += h + 1
    h = 0
    while h < 3 && isASCIIDigit(at(l + h)) { h += 1 }
    if h == 0 || at(l + h) != delimiter { return nil }
    return l + h
}

/// The "file: line N: " sendmail's fmtmsg puts in front of a message while
/// a file is read; a long file name is shortened to 83 bytes (40, "...",
/// 40) as sendmail shortens it.
public func fileLinePrefix(_ fileName: String, _ line: Int) -> String {
    shortenString(fileName.latin1Bytes, 83).string + ": line \(line): "
}
