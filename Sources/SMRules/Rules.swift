// SMRules/Rules.swift
//
// Rewrite rules and rulesets.  A rule keeps its tokens (for `=S` dumps and
// traces) and a compiled left-hand side: a list of match operations that
// the engine walks without re-tokenizing or re-parsing anything (its
// literals in a table of their own, with case-insensitive fingerprints,
// so that the operations are plain values).  Before a pattern is tried,
// the engine checks that the workspace has enough tokens and, by
// fingerprint, every literal (a 64-bit set) and the longest one (exactly,
// when the pattern does not start with a literal).  Ruleset
// names resolve to numbers as sendmail's `strtorwset` does (named sets
// without a number get 199, 198, ...).
// Promises: pure; compiled patterns hold only what matching needs.

import SMBase

/// One compiled left-hand-side element.
public enum PatternOp: Sendable, Equatable {
    case literal(Int)               // Rule.literals[n], lowercased; matches case-insensitively
    case zeroOrMore                 // $*
    case oneOrMore                  // $+
    case one                        // $-
    case inClass(Int)               // $=X, X's id
    case notInClass(Int)            // $~X
    case zero                       // $@ on the LHS: matches nothing
    case deferredMacro(Int)         // $&x on the LHS
}

/// A token's case-insensitive fingerprint (the engine compares these
/// before bytes) and its bit in a 64-bit set of fingerprints.  Equal
/// tokens (ignoring ASCII case) always have equal fingerprints; unequal
/// ones rarely do, so a match still confirms with the bytes.
public enum TokenHash {
    /// FNV-1a over the lowercased bytes, then mixed so that every bit of
    /// the result (and so the mask bit) depends on every byte.
    @inline(__always)
    public static func of(_ t: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in t { h = (h ^ UInt64(asciiLower(b))) &* 0x100_0000_01b3 }
        h ^= h >> 29
        h = h &* 0xbf58_476d_1ce4_e5b9
        return h ^ (h >> 32)
    }

    /// The fingerprint's bit in a set of 64.
    @inline(__always)
    public static func bit(_ h: UInt64) -> UInt64 { 1 << (h >> 58) }
}

/// What a rule does after it matches.
public enum RulePrefix: Sendable, Equatable {
    case repeatWhileMatching        // no prefix
    case once                       // $:
    case returnAfter                // $@
}

public struct Rule: Sendable {
    public var lhs: [[UInt8]]
    public var rhs: [[UInt8]]
    public var pattern: [PatternOp]
    /// The LHS's literal tokens, lowercased (PatternOp.literal indexes them).
    public var literals: [[UInt8]]
    /// A literal the workspace must hold for the rule to match (the
    /// longest), checked by fingerprint before the pattern is tried; nil when the pattern
    /// starts with a literal (the match fails at once there anyway) or has none.
    public var requiredLiteral: Int?
    /// The literals' fingerprints (TokenHash), by index.
    public var literalHashes: [UInt64]
    /// The union of the literals' fingerprint bits: a workspace whose
    /// token set lacks one of them cannot match.
    public var literalMask: UInt64
    /// The fewest tokens a workspace needs for the pattern to match (each
    /// literal, `$+`, `$-`, `$=` and `$~` takes at least one).
    public var minTokens: Int
    public var prefix: RulePrefix
    /// The RHS without its `$:`/`$@` prefix.
    public var template: [[UInt8]]
    /// The template tokens' fingerprints (TokenHash), by index: a
    /// rewritten workspace's fingerprints are made from these and the
    /// matched tokens' without hashing anything again.
    public var templateHashes: [UInt64]
    /// True if the template has `$[`, `$(`, `$>` or `$&` (slow path needed).
    public var templateNeedsWork: Bool
    public var line: Int

    public init(lhs: [[UInt8]], rhs: [[UInt8]], line: Int) {
        self.lhs = lhs
        self.rhs = rhs
        self.line = line
        var ops: [PatternOp] = []
        var lits: [[UInt8]] = []
        ops.reserveCapacity(lhs.count)
        for t in lhs {
            let b0 = t.first ?? 0
            switch b0 {
            case Meta.matchZeroOrMore: ops.append(.zeroOrMore)
            case Meta.matchOneOrMore: ops.append(.oneOrMore)
            case Meta.matchOne: ops.append(.one)
            case Meta.matchClass: ops.append(.inClass(t.count > 1 ? Int(t[1]) : 0))
            case Meta.matchNotClass: ops.append(.notInClass(t.count > 1 ? Int(t[1]) : 0))
            case Meta.canonHost where t.count == 1: ops.append(.zero)
            case Meta.macroDeferred: ops.append(.deferredMacro(t.count > 1 ? Int(t[1]) : 0))
            default:
                ops.append(.literal(lits.count))
                lits.append(t.asciiLowercased)
            }
        }
        pattern = ops
        literals = lits
        literalHashes = lits.map(TokenHash.of)
        literalMask = literalHashes.reduce(0) { $0 | TokenHash.bit($1) }
        minTokens = ops.reduce(0) { n, op in
            switch op {
            case .literal, .one, .oneOrMore, .inClass, .notInClass: return n + 1
            case .zeroOrMore, .zero, .deferredMacro: return n
            }
        }
        if case .literal = ops.first { requiredLiteral = nil }
        else { requiredLiteral = lits.indices.max { lits[$0].count < lits[$1].count } }
        var body = rhs
        prefix = .repeatWhileMatching
        if let first = body.first, first.count == 1 {
            if first[0] == Meta.canonUser {
                prefix = .once
                body.removeFirst()
            } else if first[0] == Meta.canonHost {
                prefix = .returnAfter
                body.removeFirst()
            }
        }
        template = body
        templateHashes = body.map(TokenHash.of)
        templateNeedsWork = body.contains { t in
            guard let b = t.first else { return false }
            return b == Meta.hostBegin || b == Meta.lookupBegin || b == Meta.callSubr || b == Meta.macroDeferred
        }
    }

    /// Number of numbered wildcards ($* $+ $- $= $~) on the LHS.
    public var wildcardCount: Int {
        pattern.reduce(0) { n, op in
            switch op {
            case .zeroOrMore, .oneOrMore, .one, .inClass, .notInClass: return n + 1
            default: return n
            }
        }
    }
}

/// All rulesets of a configuration, by number, with sendmail's naming.
public struct RulesetTable: Sendable {
    public static let maxSets = Limits.maxRulesets
    public var rules: [[Rule]?] = Array(repeating: nil, count: Limits.maxRulesets)
    public var names: [[UInt8]?] = Array(repeating: nil, count: Limits.maxRulesets)
    private var byName: [ByteKey: Int] = [:]
    private var nextNamed = Limits.maxRulesets

    public init() {}

    /// The name sendmail prints for a ruleset: its name, or its number.
    public func displayName(_ n: Int) -> [UInt8] {
        if n >= 0 && n < names.count, let name = names[n] { return name }
        return Array(String(n).utf8)
    }

    /// True if ruleset `n` has at least one rule.
    public func hasRules(_ n: Int) -> Bool {
        n >= 0 && n < rules.count && !(rules[n]?.isEmpty ?? true)
    }

    /// sendmail's strtorwset.  `enter` creates named sets (S lines, S=/R=
    /// of mailers); without it an unknown name answers nil.  Returns the
    /// ruleset number and the index after the name.
    public mutating func resolve(_ s: [UInt8], from start: Int = 0, enter: Bool,
                                 report: (String) -> Void) -> (number: Int?, end: Int) {
        var p = start
        let n = s.count
        while p < n, isASCIISpace(s[p]) { p += 1 }
        let q = p
        if p >= n || s[p] >= 0x80 {
            report("invalid ruleset name: \"\(Array(s[q..<min(n, q + 20)]).string)\"")
            return (nil, p)
        }
        if isASCIIDigit(s[p]) {
            var v = 0
            while p < n, isASCIIDigit(s[p]) { v = min(v * 10 + Int(s[p] - 48), 1_000_000); p += 1 }
            if v >= Self.maxSets / 2 {
                report("bad ruleset \(v) (\(Self.maxSets / 2) max)")
                return (nil, p)
            }
            return (v, p)
        }
        while p < n, s[p] < 0x80, isASCIIAlnum(s[p]) || s[p] == UInt8(ascii: "_") { p += 1 }
        if q == p || !isASCIIAlpha(s[q]) {
            report("invalid ruleset name: \"\(Array(s[q..<min(n, q + 20)]).string)\"")
            return (nil, p)
        }
        let name = Array(s[q..<p])
        while p < n, isASCIISpace(s[p]) { p += 1 }
        let delim: UInt8 = p < n ? s[p] : 0
        let existing = byName[ByteKey(name)]
        if existing == nil && !enter { return (nil, p) }
        var number: Int? = nil
        var end = p
        if enter && delim == UInt8(ascii: "=") {
            p += 1
            while p < n, isASCIISpace(s[p]) { p += 1 }
            if p >= n || !isASCIIDigit(s[p]) {
                report("bad ruleset definition \"\(Array(s[q...]).string)\" (number required after `=')")
            } else {
                var v = 0
                while p < n, isASCIIDigit(s[p]) { v = min(v * 10 + Int(s[p] - 48), 1_000_000); p += 1 }
                if v >= Self.maxSets / 2 {
                    report("bad ruleset number \(v) in \"\(Array(s[q...]).string)\" (\(Self.maxSets / 2) max)")
                } else {
                    number = v
                }
            }
            end = p
        } else {
            if let e = existing, e >= 0 {
                number = e
            } else {
                nextNamed -= 1
                if nextNamed < Self.maxSets / 2 {
                    report("\(name.string): too many named rulesets (\(Self.maxSets / 2) max)")
                } else {
                    number = nextNamed
                }
            }
        }
        if let e = existing, e >= 0, let num = number, num != e {
            report("\(name.string): ruleset changed value (old \(e), new \(num))")
            number = e
        } else if let num = number {
            byName[ByteKey(name)] = num
        } else if existing == nil {
            byName[ByteKey(name)] = -1
        }
        if enter, let num = number {
            names[num] = name
        }
        return (number, end)
    }

    /// Looks a ruleset up by name or number without creating it
    /// (strtorwset with ST_FIND); `report` gets sendmail's errors.
    public func find(_ s: [UInt8], report: ((String) -> Void)? = nil) -> Int? {
        var p = 0
        let n = s.count
        while p < n, isASCIISpace(s[p]) { p += 1 }
        if p < n && s[p] >= 0x80 {
            report?("invalid ruleset name: \"\(Array(s[p..<min(n, p + 20)]).string)\"")
            return nil
        }
        if p < n && isASCIIDigit(s[p]) {
            var v = 0
            while p < n, isASCIIDigit(s[p]) { v = min(v * 10 + Int(s[p] - 48), 1_000_000_000); p += 1 }
            if v >= Self.maxSets / 2 {
                report?("bad ruleset \(v) (\(Self.maxSets / 2) max)")
                return nil
            }
            return v
        }
        let q = p
        while p < n, s[p] < 0x80, isASCIIAlnum(s[p]) || s[p] == UInt8(ascii: "_") { p += 1 }
        guard q < p, isASCIIAlpha(s[q]) else {
            report?("invalid ruleset name: \"\(Array(s[q..<min(n, q + 20)]).string)\"")
            return nil
        }
        if let v = byName[ByteKey(Array(s[q..<p]))], v >= 0 { return v }
        return nil
    }

    /// Appends a rule to ruleset `n`.
    public mutating func append(_ rule: Rule, to n: Int) {
        if rules[n] == nil { rules[n] = [] }
        rules[n]!.append(rule)
    }
}
