// SMMaps/MapRewrite.swift
//
// sendmail's map_rewrite: the value of a successful lookup with `%0`..`%9`
// replaced by the lookup's arguments (av[0] is the key), `%%` turned into
// `%`, `%` before any other byte kept as is, and the map's -a string
// appended.  Promises: byte-exact with map.c, including its quirks: a NUL
// in the value ends it, a missing argument expands to nothing, and with no
// argument vector (match-only, aliases) the value is copied untouched.
enum MapRewrite {
    static func rewrite(_ s: [UInt8], av: [[UInt8]]?, append: [UInt8]?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.count + (append?.count ?? 0))
        if let av {
            var i = 0
            while i < s.count {
                var c = s[i]; i += 1
                if c == 0 { break }
                if c != UInt8(ascii: "%") { out.append(c); continue }
                if i >= s.count || s[i] == 0 {
                    c = UInt8(ascii: "%")
                    if i < s.count { i += 1 }
                } else {
                    c = s[i]; i += 1
                }
                if c == UInt8(ascii: "%") { out.append(c); continue }
                guard c >= 0x30 && c <= 0x39 else {
                    out.append(UInt8(ascii: "%")); out.append(c); continue
                }
                let n = Int(c - 0x30)
                if n < av.count {
                    for b in av[n] { if b == 0 { break }; out.append(b) }
                }
            }
        } else {
            out.append(contentsOf: s)
        }
        if let append {
            for b in append { if b == 0 { break }; out.append(b) }
        } else if av == nil, let z = out.firstIndex(of: 0) {
            out.removeSubrange(z...)
        }
        if let z = out.firstIndex(of: 0) { out.removeSubrange(z...) }
        return out
    }
}
