// SMMaps/Getopt.swift
//
// A getopt(3) for makemap and praliases that behaves like glibc's: options
// may follow operands (arguments are permuted) until "--", and errors are
// worded "<argv0>: invalid option -- 'x'" / "<argv0>: option requires an
// argument -- 'x'".  Promises: no global state, so it is safe in Swift 6.
public struct Getopt {
    public enum Item: Equatable { case option(Character, String?), error(String) }

    /// Parses `args` (without argv[0]) against an optstring like "C:f:".
    /// Returns the options in order and the operands.
    public static func parse(_ args: [String], _ optstring: String, argv0: String) -> (items: [Item], operands: [String]) {
        var wantsArg: [Character: Bool] = [:]
        let chars: [Character] = optstring.map { $0 }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            let takes = i + 1 < chars.count && chars[i + 1] == ":"
            wantsArg[c] = takes
            i += takes ? 2 : 1
        }
        var items: [Item] = []
        var operands: [String] = []
        var k = 0
        while k < args.count {
            let a = args[k]
            k += 1
            if a == "--" { operands.append(contentsOf: args[k...]); break }
            guard a.hasPrefix("-"), a.count > 1 else { operands.append(a); continue }
            var letters: [Character] = a.dropFirst().map { $0 }
            while !letters.isEmpty {
                let c = letters.removeFirst()
                guard let takes = wantsArg[c] else {
                    items.append(.error("\(argv0): invalid option -- '\(c)'\n"))
                    continue
                }
                if !takes { items.append(.option(c, nil)); continue }
                if !letters.isEmpty {
                    items.append(.option(c, String(letters))); letters = []
                } else if k < args.count {
                    items.append(.option(c, args[k])); k += 1
                } else {
                    items.append(.error("\(argv0): option requires an argument -- '\(c)'\n"))
                }
            }
        }
        return (items, operands)
    }
}

/// Unbuffered writes to stdout/stderr without touching C's FILE globals.
public enum StdIO {
    public static func write(_ fd: Int32, _ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { _writeShim(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            off += n
        }
    }
    public static func out(_ s: String) { write(1, Array(s.utf8)) }
    public static func err(_ s: String) { write(2, Array(s.utf8)) }
}

import Glibc
@inline(__always) func _writeShim(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int {
    Glibc.write(fd, p, n)
}
