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

    public init(flushHandler: (([UInt8]) -> Void)? = nil) {
        self.flushHandler = flushHandler
    }

    @inlinable
    public func write(_ b: [UInt8]) { bytes.append(contentsOf: b) }

    public func write(_ s: String) { bytes.append(contentsOf: s.latin1Bytes) }

    /// A message line the way sendmail's error output writes it: every
    /// byte with its high bit cleared.
    public func writeMessage(_ s: String) {
        bytes.append(contentsOf: s.latin1Bytes.map { $0 & 0x7F })
        bytes.append(0x0A)
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

/// Splits "553 5.1.3 text" into its parts.  Returns the text after the
/// reply code and an enhanced code, when present.
public func stripReplyCode(_ msg: String) -> (code: String?, enhanced: String?, text: String) {
    let b = Array(msg.utf8)
    guard b.count >= 4, isASCIIDigit(b[0]), isASCIIDigit(b[1]), isASCIIDigit(b[2]),
          b[3] == UInt8(ascii: " ") || b[3] == UInt8(ascii: "-") else {
        return (nil, nil, msg)
    }
    let code = String(decoding: b[0..<3], as: UTF8.self)
    var i = 4
    // enhanced status code: d.d{1,3}.d{1,3} followed by a space
    var j = i
    func digits() -> Int { let s = j; while j < b.count, isASCIIDigit(b[j]) { j += 1 }; return j - s }
    if digits() >= 1, j < b.count, b[j] == UInt8(ascii: "."), ({ j += 1; return digits() }() >= 1),
       j < b.count, b[j] == UInt8(ascii: "."), ({ j += 1; return digits() }() >= 1),
       j < b.count, b[j] == UInt8(ascii: " ") {
        let enh = String(decoding: b[i..<j], as: UTF8.self)
        i = j + 1
        return (code, enh, String(decoding: b[i...], as: UTF8.self))
    }
    return (code, nil, String(decoding: b[i...], as: UTF8.self))
}
