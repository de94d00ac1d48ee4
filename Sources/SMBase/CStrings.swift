// SMBase/CStrings.swift
//
// NULL-terminated C string arrays (argv, envp) made from byte strings, for
// posix_spawn and exec.  Promises: each string is copied byte for byte and
// NUL-terminated; the array ends with nil; freeCStringArray releases what
// makeCStringArray allocated.

/// A C string array for `list`; release it with freeCStringArray.
public func makeCStringArray(_ list: [[UInt8]]) -> [UnsafeMutablePointer<CChar>?] {
    var out: [UnsafeMutablePointer<CChar>?] = list.map { bytes in
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
        p[bytes.count] = 0
        return p
    }
    out.append(nil)
    return out
}

/// Releases an array made by makeCStringArray.
public func freeCStringArray(_ array: [UnsafeMutablePointer<CChar>?]) {
    for p in array { p?.deallocate() }
}
