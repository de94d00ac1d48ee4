// SMMaps/DequoteMap.swift
//
// The dequote class: removes double quotes from a key, answering only when
// there was at least one quote and the result is still a well-formed
// token string (balanced <> and (), no trailing backslash, no white space
// unless -s gave a substitute for SP).  Promises: map.c's dequote_map,
// byte for byte; the -a string is appended, %-substitution is not done.
import SMRules
import SMBase

final class DequoteMapBackend: MapBackend {
    func open(_ map: SendmailMap) -> Bool { true }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        guard let v = Self.dequote(key, spaceSub: map.spec.spaceSub) else {
            return MapAnswer(nil, 0)
        }
        return MapAnswer(map.rewrite(v, av: nil), 0)
    }

    static func dequote(_ name: [UInt8], spaceSub: UInt8) -> [UInt8]? {
        var out: [UInt8] = []
        var angle = 0, comment = 0, quotes = 0, spaces = 0
        var quoteMode = false, bslash = false
        for var c in name {
            if c == 0 { break }
            if bslash { bslash = false; out.append(c); continue }
            if c == 0x20 && spaceSub != 0 { c = spaceSub }
            switch c {
            case UInt8(ascii: "\\"): bslash = true
            case UInt8(ascii: "("): comment += 1
            case UInt8(ascii: ")"):
                if comment <= 0 { return nil }
                comment -= 1
            case 0x20, 0x09: spaces += 1
            default: break
            }
            if comment > 0 { out.append(c); continue }
            switch c {
            case UInt8(ascii: "\""):
                quoteMode.toggle(); quotes += 1; continue
            case UInt8(ascii: "<"): angle += 1
            case UInt8(ascii: ">"):
                if angle <= 0 { return nil }
                angle -= 1
            default: break
            }
            out.append(c)
        }
        if angle != 0 || comment != 0 || bslash || quoteMode || quotes <= 0 || spaces != 0 { return nil }
        return out
    }
}
