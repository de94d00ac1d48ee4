// SMMaps/ArithMap.swift
//
// The arith class: the key is an operator (+ - * / % | & l = r) and the
// first two `$@` arguments are the operands (strtol base 0).  Comparisons
// answer TRUE or FALSE.  Promises: map.c's rules: fewer than two operands
// or an unknown operator is status 78; division or modulo by zero and an
// empty random range answer nothing with status 0.
import SMRules
import Glibc

final class ArithMapBackend: MapBackend {
    func open(_ map: SendmailMap) -> Bool { true }

    static func strtol0(_ s: [UInt8]) -> Int {
        strtol(String(decoding: s, as: UTF8.self), nil, 0)
    }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        let ops = av.dropFirst().prefix(2).map(Self.strtol0)
        guard ops.count == 2, let op = key.first else { return MapAnswer(nil, 78) }
        let a = ops[0], b = ops[1]
        let r: Int
        switch op {
        case UInt8(ascii: "|"): r = a | b
        case UInt8(ascii: "&"): r = a & b
        case UInt8(ascii: "%"):
            if b == 0 { return MapAnswer(nil, 0) }
            r = a % b
        case UInt8(ascii: "+"): r = a &+ b
        case UInt8(ascii: "-"): r = a &- b
        case UInt8(ascii: "*"): r = a &* b
        case UInt8(ascii: "/"):
            if b == 0 { return MapAnswer(nil, 0) }
            r = a / b
        case UInt8(ascii: "l"): return MapAnswer(Array((a < b ? "TRUE" : "FALSE").utf8), 0)
        case UInt8(ascii: "="): return MapAnswer(Array((a == b ? "TRUE" : "FALSE").utf8), 0)
        case UInt8(ascii: "r"):
            let range = b - a + 1
            if range <= 0 { return MapAnswer(nil, 0) }
            r = Int(random()) % range + a
        default: return MapAnswer(nil, 78)
        }
        return MapAnswer(Array(String(r).utf8), 0)
    }
}
