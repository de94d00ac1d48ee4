// sendmail/PendingBytes.swift
//
// Standard input read ahead of its use (-bs, -bt): lines come off the
// front without moving the bytes behind them; what was consumed is
// dropped once per read.  Taking every line of a large pipelined input
// (a batch of messages sent to `sendmail -bs`) is linear, where removing
// each line from the front of an array moved the rest every time.
// Promises: bytes come out in order, each exactly once.

struct PendingBytes {
    private var bytes: [UInt8] = []
    private var start = 0

    var isEmpty: Bool { start == bytes.count }
    var count: Int { bytes.count - start }

    /// Adds what a read returned (dropping the consumed prefix first).
    mutating func append(_ more: ArraySlice<UInt8>) {
        if start > 0 {
            bytes.removeSubrange(..<start)
            start = 0
        }
        bytes.append(contentsOf: more)
    }

    /// The offset of the first `byte` from the unconsumed start.
    func firstIndex(of byte: UInt8) -> Int? {
        bytes[start...].firstIndex(of: byte).map { $0 - start }
    }

    /// The next `n` bytes, then `skip` more are dropped (a line's newline).
    mutating func take(_ n: Int, skipping skip: Int = 0) -> [UInt8] {
        precondition(n + skip <= count, "taking more than is pending")
        let out = Array(bytes[start..<(start + n)])
        start += n + skip
        return out
    }

    /// Everything not yet consumed.
    mutating func takeAll() -> [UInt8] { take(count) }
}
