// SMRules/Classes.swift
//
// Classes ($=X): sets of words, matched case-insensitively.  Listing a class
// (`$=w` in -bt) follows sendmail's symbol-table order (its hash function,
// 2003 buckets, insertion order within a bucket), so the output is the same
// line for line.  Promises: pure; lookups are O(1).

import SMBase

public final class ClassTable: @unchecked Sendable {
    struct Entry {
        var name: [UInt8]      // as first entered
        var bucket: Int
        var seq: Int
        var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    }
    private var index: [ByteKey: Int] = [:]   // lowercased word -> entry
    private var entries: [Entry] = []
    /// Longest member (in bytes) of each class, to bound `$=X` matching.
    private var longest = [Int](repeating: 0, count: 256)

    public init() {}

    /// sendmail's stab hash for a class entry (symbol type 1).
    static func bucket(of word: [UInt8]) -> Int {
        var h = 1
        for b in word { h = ((h << 1) ^ Int(asciiLower(b))) % 2003 }
        return h
    }

    /// sendmail's setclass: a word that is `$=X` (MATCHCLASS + id) copies
    /// class X into class `id`; any other word is added.
    public func add(_ word: [UInt8], to id: Int) {
        if word.first == Meta.matchClass {
            guard word.count >= 2 else { return }
            let src = Int(word[1])
            for i in entries.indices where Self.has(entries[i], src) { setBit(i, id) }
            return
        }
        addWord(word, to: id)
    }

    /// The byte length of the longest word in class `id`.
    @inline(__always)
    public func longestWord(in id: Int) -> Int { longest[id & 0xFF] }

    /// Membership test for a word that is already lowercased.
    @inline(__always)
    public func containsLowercased(_ key: [UInt8], in id: Int) -> Bool {
        guard let i = index[ByteKey(key)] else { return false }
        return Self.has(entries[i], id)
    }

    private func setBit(_ i: Int, _ id: Int) {
        longest[id & 0xFF] = max(longest[id & 0xFF], entries[i].name.count)
        let bit = UInt64(1) << UInt64(id & 63)
        switch (id & 0xFF) >> 6 {
        case 0: entries[i].bits.0 |= bit
        case 1: entries[i].bits.1 |= bit
        case 2: entries[i].bits.2 |= bit
        default: entries[i].bits.3 |= bit
        }
    }

    private func addWord(_ word: [UInt8], to id: Int) {
        let key = word.asciiLowercased
        let i: Int
        if let existing = index[ByteKey(key)] {
            i = existing
        } else {
            i = entries.count
            entries.append(Entry(name: word, bucket: Self.bucket(of: word), seq: i))
            index[ByteKey(key)] = i
        }
        setBit(i, id)
    }

    @inline(__always)
    private static func has(_ e: Entry, _ id: Int) -> Bool {
        let bit = UInt64(1) << UInt64(id & 63)
        switch (id & 0xFF) >> 6 {
        case 0: return e.bits.0 & bit != 0
        case 1: return e.bits.1 & bit != 0
        case 2: return e.bits.2 & bit != 0
        default: return e.bits.3 & bit != 0
        }
    }

    /// True if `word` (any case) is in class `id`.
    public func contains(_ word: [UInt8], in id: Int) -> Bool {
        guard let i = index[ByteKey(word.asciiLowercased)] else { return false }
        return Self.has(entries[i], id)
    }

    /// The words of class `id` in sendmail's listing order.
    public func members(of id: Int) -> [[UInt8]] {
        entries.filter { Self.has($0, id) }
            .sorted { ($0.bucket, $0.seq) < ($1.bucket, $1.seq) }
            .map(\.name)
    }

    /// True if class `id` has any member.
    public func isEmpty(_ id: Int) -> Bool { !entries.contains { Self.has($0, id) } }
}
