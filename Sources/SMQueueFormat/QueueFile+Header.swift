// SMQueueFormat/QueueFile+Header.swift
//
// A header line of a queue file: `H?<condition>?<Name>:<value>`.  The
// condition is a set of mailer-flag letters (`?P?`, `?DFx?`), a macro
// (`?$j?`, `?${auth_type}?`), or empty.  Continuation lines stay in the
// value as "\n" + the leading whitespace, exactly as queueup() writes
// them.
// Promises: pure values; `text` is the bytes after the condition and is
// what gets written; `name`/`value` are views of it.

import SMBase

extension QueueFile {
    public struct Header: Sendable, Equatable {
        /// The bytes between `H?` and the next `?`; nil when the line has
        /// no `?...?` part (sendmail always writes one, but reads both).
        public var condition: [UInt8]?
        /// `Name:value` with folding kept.
        public var text: [UInt8]

        public init(condition: [UInt8]? = [], text: [UInt8]) {
            self.condition = condition
            self.text = text
        }

        /// `Name` and ` value` (value as written after the colon).
        public init(condition: [UInt8]? = [], name: [UInt8], value: [UInt8]) {
            self.init(condition: condition, text: name + [0x3A] + value)
        }

        /// The field name (bytes before the first colon).
        public var name: [UInt8] {
            if let c = text.firstIndex(of: 0x3A) { return Array(text[..<c]) }
            return text
        }

        /// Everything after the first colon (usually starts with a space).
        public var value: [UInt8] {
            if let c = text.firstIndex(of: 0x3A) { return Array(text[(c + 1)...]) }
            return []
        }

        /// The macro named by a `$x` / `${name}` condition, else nil.
        public var conditionMacro: [UInt8]? {
            guard let c = condition, c.first == 0x24, c.count >= 2 else { return nil }
            if c[1] == 0x7B, c.last == 0x7D, c.count >= 3 { return Array(c[2..<(c.count - 1)]) }
            return Array(c[1...])
        }

        /// The mailer-flag letters of a flag condition (empty if none).
        public var conditionFlags: [UInt8] {
            guard let c = condition, c.first != 0x24 else { return [] }
            return c
        }
    }
}
