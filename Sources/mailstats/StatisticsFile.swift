// mailstats/StatisticsFile.swift
//
// sendmail 8.17's statistics file (StatusFile): the in-memory
// `struct statistics` of sendmail/mailstats.h written as is, which on
// x86_64 Linux is 1448 bytes, little-endian:
//     0 int   magic (0x1B1DE)        4 int  version (4)
//     8 time_t init time            16 short size of the structure (1448)
//    24 long  connections from      32 long connections to
//    40 long  connections rejected
//    48 long[25] messages from     248 long[25] kbytes from
//   448 long[25] messages to       648 long[25] kbytes to
//   848 long[25] rejected         1048 long[25] discarded
//  1248 long[25] quarantined      (MAXMAILERS = 25)
// (checked against files written by the real sendmail 8.17.1.9).
// Promises: decoding never reads past the bytes it was given; missing
// bytes read as zero.
import SMBase

struct StatisticsFile {
    static let magic: Int32 = 0x1B1DE
    static let version: Int32 = 4
    static let size = 1448
    static let maxMailers = 25

    var magic: Int32 = 0
    var version: Int32 = 0
    var initTime: Int64 = 0
    var structSize: Int16 = 0
    var connectionsFrom: Int64 = 0
    var connectionsTo: Int64 = 0
    var connectionsRejected: Int64 = 0
    var messagesFrom = [Int64](repeating: 0, count: maxMailers)
    var kbytesFrom = [Int64](repeating: 0, count: maxMailers)
    var messagesTo = [Int64](repeating: 0, count: maxMailers)
    var kbytesTo = [Int64](repeating: 0, count: maxMailers)
    var rejected = [Int64](repeating: 0, count: maxMailers)
    var discarded = [Int64](repeating: 0, count: maxMailers)
    var quarantined = [Int64](repeating: 0, count: maxMailers)

    init() {}

    /// Decodes what read(2) returned (possibly short).
    init(bytes: [UInt8]) {
        func le(_ off: Int, _ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<n where off + i < bytes.count { v |= UInt64(bytes[off + i]) << (8 * UInt64(i)) }
            return v
        }
        func i64(_ off: Int) -> Int64 { Int64(bitPattern: le(off, 8)) }
        func array(_ off: Int) -> [Int64] { (0..<StatisticsFile.maxMailers).map { i64(off + 8 * $0) } }
        magic = Int32(truncatingIfNeeded: le(0, 4))
        version = Int32(truncatingIfNeeded: le(4, 4))
        initTime = i64(8)
        structSize = Int16(truncatingIfNeeded: le(16, 2))
        connectionsFrom = i64(24)
        connectionsTo = i64(32)
        connectionsRejected = i64(40)
        messagesFrom = array(48)
        kbytesFrom = array(248)
        messagesTo = array(448)
        kbytesTo = array(648)
        rejected = array(848)
        discarded = array(1048)
        quarantined = array(1248)
    }

    /// The on-disk form (used by tests to build files).
    var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: StatisticsFile.size)
        func put(_ v: UInt64, _ off: Int, _ n: Int) { for i in 0..<n { out[off + i] = UInt8((v >> (8 * UInt64(i))) & 0xFF) } }
        put(UInt64(UInt32(bitPattern: magic)), 0, 4)
        put(UInt64(UInt32(bitPattern: version)), 4, 4)
        put(UInt64(bitPattern: initTime), 8, 8)
        put(UInt64(UInt16(bitPattern: structSize)), 16, 2)
        put(UInt64(bitPattern: connectionsFrom), 24, 8)
        put(UInt64(bitPattern: connectionsTo), 32, 8)
        put(UInt64(bitPattern: connectionsRejected), 40, 8)
        for (off, arr) in [(48, messagesFrom), (248, kbytesFrom), (448, messagesTo), (648, kbytesTo),
                           (848, rejected), (1048, discarded), (1248, quarantined)] {
            for (i, v) in arr.enumerated() { put(UInt64(bitPattern: v), off + 8 * i, 8) }
        }
        return out
    }
}
