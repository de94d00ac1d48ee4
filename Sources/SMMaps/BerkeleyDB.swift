// SMMaps/BerkeleyDB.swift
//
// A thin, byte-oriented handle on one Berkeley DB 5.3 file (hash or
// btree), as sendmail's libsmdb opens them: read-only for map lookups and
// praliases, read-write (create/truncate) for makemap.  Promises: keys and
// values are passed through unchanged (no case folding, no NUL handling;
// callers decide); every failure is reported as libdb's error code, which
// `BerkeleyDB.errorString` turns into sendmail's wording.
import CBerkeleyDB
import Glibc

public final class BerkeleyDB {
    public enum Kind: Sendable, Equatable {
        case hash, btree, unknown

        var cType: DBTYPE {
            switch self {
            case .hash: return DB_HASH
            case .btree: return DB_BTREE
            case .unknown: return DB_UNKNOWN
            }
        }
    }

    /// What `put` answered.
    public enum PutResult: Equatable { case stored, keyExists, failed(Int32) }

    private var handle: OpaquePointer?

    /// Opens `path` (the full file name, `.db` included).
    /// `create`/`truncate` apply to write mode only.  Returns nil and
    /// sets `error` to libdb's code on failure.
    public init(path: String, kind: Kind, readOnly: Bool, create: Bool = false,
                truncate: Bool = false, mode: Int32 = 0o640, cacheSize: UInt32 = 1024 * 1024,
                hashElements: UInt32 = 0, allowDuplicates: Bool = false) throws(BerkeleyDBError) {
        var flags: UInt32 = 0
        if readOnly { flags |= UInt32(DB_RDONLY) }
        if create { flags |= UInt32(DB_CREATE) }
        if truncate { flags |= UInt32(DB_TRUNCATE) }
        var db: UnsafeMutablePointer<DB>?
        let rc = sm_db_open(&db, path, kind.cType, flags, mode, cacheSize, hashElements,
                            allowDuplicates ? 1 : 0)
        guard rc == 0, let db else { throw BerkeleyDBError(code: rc) }
        handle = OpaquePointer(db)
    }

    deinit { _ = close() }

    private var db: UnsafeMutablePointer<DB>? { handle.map { UnsafeMutablePointer<DB>($0) } }

    /// Closes the file; later calls do nothing.  Returns libdb's code.
    @discardableResult
    public func close() -> Int32 {
        guard let db else { return 0 }
        handle = nil
        return sm_db_close(db)
    }

    /// Flushes to disk.
    @discardableResult
    public func sync() -> Int32 {
        guard let db else { return 0 }
        return sm_db_sync(db)
    }

    /// The underlying file descriptor (for fstat and fchown), or -1.
    public var fileDescriptor: Int32 {
        guard let db else { return -1 }
        var fd: Int32 = -1
        _ = sm_db_fd(db, &fd)
        return fd
    }

    /// Looks `key` up: the value, nil when absent; throws on other errors.
    public func get(_ key: [UInt8]) throws(BerkeleyDBError) -> [UInt8]? {
        guard let db else { throw BerkeleyDBError(code: EINVAL) }
        var vp: UnsafeMutableRawPointer?
        var vlen: UInt32 = 0
        let rc = key.withUnsafeBytes { kb in
            sm_db_get(db, kb.baseAddress, UInt32(kb.count), &vp, &vlen)
        }
        if rc == DB_NOTFOUND || rc == DB_KEYEMPTY { return nil }
        guard rc == 0 else { throw BerkeleyDBError(code: rc) }
        guard let vp, vlen > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: vp, count: Int(vlen)))
    }

    /// Stores a pair; with `noOverwrite` an existing key is kept.
    public func put(_ key: [UInt8], _ value: [UInt8], noOverwrite: Bool) -> PutResult {
        guard let db else { return .failed(EINVAL) }
        let flags: UInt32 = noOverwrite ? UInt32(DB_NOOVERWRITE) : 0
        let rc = key.withUnsafeBytes { kb in
            value.withUnsafeBytes { vb in
                sm_db_put(db, kb.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt32(kb.count),
                          vb.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt32(vb.count), flags)
            }
        }
        if rc == 0 { return .stored }
        if rc == DB_KEYEXIST { return .keyExists }
        return .failed(rc)
    }

    /// Every pair in the file's own order (what a cursor walk returns).
    public func allPairs() throws(BerkeleyDBError) -> [(key: [UInt8], value: [UInt8])] {
        guard let db else { throw BerkeleyDBError(code: EINVAL) }
        var cursor: UnsafeMutablePointer<DBC>?
        let rc = sm_db_cursor(db, &cursor)
        guard rc == 0, let cursor else { throw BerkeleyDBError(code: rc) }
        defer { _ = sm_dbc_close(cursor) }
        var out: [(key: [UInt8], value: [UInt8])] = []
        while true {
            var kp: UnsafeMutableRawPointer?, vp: UnsafeMutableRawPointer?
            var kl: UInt32 = 0, vl: UInt32 = 0
            let r = sm_dbc_next(cursor, &kp, &kl, &vp, &vl)
            if r == DB_NOTFOUND { break }
            guard r == 0 else { throw BerkeleyDBError(code: r) }
            let k = kp.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(kl))) } ?? []
            let v = vp.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(vl))) } ?? []
            out.append((k, v))
        }
        return out
    }
}

/// A libdb error code (an errno value or one of DB_*'s negative codes).
public struct BerkeleyDBError: Error, Equatable, Sendable {
    public var code: Int32
    public init(code: Int32) { self.code = code }

    /// The text sendmail prints for it (strerror for errno values).
    public var message: String { BerkeleyDB.errorString(code) }
}

extension BerkeleyDB {
    /// strerror-style wording; libdb's own codes use db_strerror.
    public static func errorString(_ code: Int32) -> String {
        if code > 0, let s = strerror(code) { return String(cString: s) }
        if let s = db_strerror(code) { return String(cString: s) }
        return "Error \(code)"
    }
}
