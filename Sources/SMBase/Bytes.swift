// SMBase/Bytes.swift
//
// Byte-string helpers.  Wire and file data are `[UInt8]`, never `String`:
// sendmail compares bytes with ASCII case folding only, and so do we.
// Promises: no function here allocates unless it returns a new array, and
// nothing here interprets bytes >= 0x80.

/// ASCII lowercase of one byte; other bytes are returned unchanged.
@inlinable
public func asciiLower(_ b: UInt8) -> UInt8 {
    (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b
}

/// ASCII uppercase of one byte; other bytes are returned unchanged.
@inlinable
public func asciiUpper(_ b: UInt8) -> UInt8 {
    (b >= 0x61 && b <= 0x7A) ? b & ~0x20 : b
}

extension Array where Element == UInt8 {
    /// The bytes of a Swift string (UTF-8).
    @inlinable
    public init(_ s: String) { self = Array(s.utf8) }

    /// ASCII-lowercased copy.
    @inlinable
    public var asciiLowercased: [UInt8] { map(asciiLower) }

    /// ASCII-uppercased copy.
    @inlinable
    public var asciiUppercased: [UInt8] { map(asciiUpper) }

    /// Whether `needle` occurs in these bytes, exactly (sendmail's
    /// strstr); an empty needle always does.
    @inlinable
    public func containsBytes(_ needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        guard count >= needle.count else { return false }
        for i in 0...(count - needle.count) where self[i..<(i + needle.count)].elementsEqual(needle) { return true }
        return false
    }

    /// Compares with ASCII case folding, as sendmail's `sm_strcasecmp`.
    @inlinable
    public func asciiCaseEquals(_ other: [UInt8]) -> Bool {
        if count != other.count { return false }
        for i in indices where asciiLower(self[i]) != asciiLower(other[i]) { return false }
        return true
    }

    /// The bytes as a String, one code point per byte (Latin-1), so that
    /// no byte is lost or repaired; `latin1Bytes` turns it back.  For
    /// messages and diagnostics only, never for comparisons or paths.
    @inlinable
    public var string: String {
        // ASCII (paths, IDs, most text): the same String, decoded in one go
        if allSatisfy({ $0 < 0x80 }) { return String(decoding: self, as: UTF8.self) }
        return String(String.UnicodeScalarView(self.map { Unicode.Scalar($0) }))
    }

    /// True if the array starts with `prefix` (exact bytes).
    @inlinable
    public func hasPrefix(_ prefix: [UInt8]) -> Bool {
        count >= prefix.count && self[0..<prefix.count].elementsEqual(prefix)
    }

    /// Splits on bytes for which `isSeparator` holds, dropping empty pieces.
    @inlinable
    public func splitWords(_ isSeparator: (UInt8) -> Bool = isASCIISpace) -> [[UInt8]] {
        split(whereSeparator: isSeparator).map(Array.init)
    }

    /// Removes leading and trailing ASCII whitespace.
    @inlinable
    public var trimmingASCIISpace: [UInt8] {
        var lo = startIndex, hi = endIndex
        while lo < hi, isASCIISpace(self[lo]) { lo += 1 }
        while hi > lo, isASCIISpace(self[hi - 1]) { hi -= 1 }
        return Array(self[lo..<hi])
    }
}

/// SP, HT, NL, VT, FF, CR: C's isspace in the C locale.
@inlinable
public func isASCIISpace(_ b: UInt8) -> Bool {
    b == 0x20 || (b >= 0x09 && b <= 0x0D)
}

@inlinable
public func isASCIIDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

/// RFC 3461 xtext as sendmail's xtextok() accepts it: printable ASCII
/// but "=", and "+" only before two hex digits (either case).
public func isXtext(_ s: [UInt8]) -> Bool {
    func hex(_ c: UInt8) -> Bool { isASCIIDigit(c) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x66) }
    var i = 0
    while i < s.count {
        let c = s[i]
        if c == UInt8(ascii: "+") {
            guard i + 2 < s.count, hex(s[i + 1]), hex(s[i + 2]) else { return false }
            i += 3
            continue
        }
        if c < 0x21 || c > 0x7E || c == UInt8(ascii: "=") { return false }
        i += 1
    }
    return true
}

@inlinable
public func isASCIIAlpha(_ b: UInt8) -> Bool {
    (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
}

@inlinable
public func isASCIIAlnum(_ b: UInt8) -> Bool { isASCIIAlpha(b) || isASCIIDigit(b) }

extension String {
    /// Inverse of `[UInt8].string`: code points below 256 become one byte
    /// each; anything else is written as UTF-8.
    @inlinable
    public var latin1Bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        for u in unicodeScalars {
            if u.value < 256 { out.append(UInt8(u.value)) } else { out.append(contentsOf: String(u).utf8) }
        }
        return out
    }
}

/// A byte string as a dictionary key, hashed in one pass over its bytes
/// (an `[UInt8]` key feeds the hasher one element at a time).  Equality
/// is exact; the hash is stable within a process, like every Hasher's.
public struct ByteKey: Hashable, Sendable {
    public var bytes: [UInt8]

    @inlinable
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    @inlinable
    public static func == (a: ByteKey, b: ByteKey) -> Bool { a.bytes == b.bytes }
}
