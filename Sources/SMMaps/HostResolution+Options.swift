// SMMaps/HostResolution+Options.swift
//
// The resolver settings a cf gives sendmail: ResolverOptions (`I`: resolver
// flags such as `-DNSRCH` or `+AAONLY` applied in order over what
// /etc/resolv.conf set, plus sendmail's own HasWildcardMX and
// WorkAroundBrokenAAAA words), and how they reach a MapEnvironment
// together with DontExpandCnames, TryNullMXList and FallbackMXhost.
// Promises: pure parsing; flags the resolver library does not know are
// reported back, never guessed.

/// ResolverOptions, parsed.
public struct ResolverSettings: Sendable, Equatable {
    /// Flag bits to set (true) or clear (false), in the order given.
    public var flagOperations: [(bits: UInt, set: Bool)] = []
    public var hasWildcardMX: Bool? = nil
    public var workAroundBrokenAAAA: Bool? = nil
    /// Words that name no resolver flag ("readcf: I option value %s unrecognized").
    public var unrecognized: [[UInt8]] = []

    public static func == (a: ResolverSettings, b: ResolverSettings) -> Bool {
        a.flagOperations.map(\.bits) == b.flagOperations.map(\.bits)
            && a.flagOperations.map(\.set) == b.flagOperations.map(\.set)
            && a.hasWildcardMX == b.hasWildcardMX && a.workAroundBrokenAAAA == b.workAroundBrokenAAAA
            && a.unrecognized == b.unrecognized
    }

    /// The resolver flags sendmail knows by name (glibc's RES_ values).
    static let flags: [(String, UInt)] = [
        ("debug", 0x2), ("aaonly", 0x4), ("usevc", 0x8), ("primary", 0x10), ("igntc", 0x20),
        ("recurse", 0x40), ("defnames", 0x80), ("stayopen", 0x100), ("dnsrch", 0x200),
        ("use_edns0", 0x100000), ("use_dnssec", 0x800000), ("trustad", 0x2000000), ("true", 0),
    ]

    public init() {}

    /// Parses the option's value: words separated by spaces, each `+word`,
    /// `-word` (clear) or `word` (set).
    public init(_ value: [UInt8]) {
        for raw in value.split(separator: UInt8(ascii: " ")) {
            var word = Array(raw)
            var set = true
            if word.first == UInt8(ascii: "-") { set = false; word.removeFirst() }
            else if word.first == UInt8(ascii: "+") { word.removeFirst() }
            let lower = String(decoding: word.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 + 0x20 : $0 }, as: UTF8.self)
            if lower == "haswildcardmx" { hasWildcardMX = set; continue }
            if lower == "workaroundbrokenaaaa" { workAroundBrokenAAAA = set; continue }
            if let f = Self.flags.first(where: { $0.0 == lower }) {
                flagOperations.append((f.1, set))
            } else {
                unrecognized.append(word)
            }
        }
    }

    /// The resolver options word after these operations.
    public func apply(to options: UInt) -> UInt {
        var o = options
        for op in flagOperations { if op.set { o |= op.bits } else { o &= ~op.bits } }
        return o
    }
}
