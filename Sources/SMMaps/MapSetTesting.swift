// SMMaps/MapSetTesting.swift
//
// Small public entry points into internal algorithms, for unit tests and
// for callers that need them outside a map (the alias code uses
// map_rewrite-style appends).  Promises: thin forwards, no state.
public enum MapSetTesting {
    /// map_rewrite of `value` with argument vector `av` (av[0] = key).
    public static func rewrite(_ value: [UInt8], av: [[UInt8]]?, append: [UInt8]?) -> [UInt8] {
        MapRewrite.rewrite(value, av: av, append: append)
    }

    /// dequote_map's algorithm (nil when sendmail answers no match).
    public static func dequote(_ s: [UInt8], spaceSubstitute: UInt8 = 0) -> [UInt8]? {
        DequoteMapBackend.dequote(s, spaceSub: spaceSubstitute)
    }
}
