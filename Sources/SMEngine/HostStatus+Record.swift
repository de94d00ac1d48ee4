// SMEngine/HostStatus+Record.swift
//
// Writing host status files (HostStatusDirectory) as sendmail does after
// a connection attempt (mci.c: mci_generate_persistent_path,
// mci_write_persistent, mci_store_persistent), called by SMTPDelivery after
// each attempt: `Engine.recordHostStatus(host:...)`; `HostStatusFile.read`
// reads one back (a recent failure is passed over).
// The file for a host is its name's labels in reverse order, each but the
// last one followed by ".", lower-cased, "/" turned into ":", brackets
// and trailing dots dropped ("mx.Example.COM." -> "com./example./mx",
// "[127.0.0.2]" -> "2./0./0./127", "[IPv6:::1]" -> "ipv6:::1"); its text is
// "V0", E<errno>, H<h_errno>, S<sysexits status>, D<DSN status> and
// R<reply> when known, U<time of the update>, ".", one per line.
// What sendmail 8.17 records (Tests/Fixtures/oracle/hoststat/written.README):
// connection refused E111 S75 D4.4.1; host name lookup failure E11 H2 S75
// D4.4.3; a 421 greeting S75 D4.5.0 and an empty R; a 5xx greeting S69
// D5.5.0 R<the reply>; a session that reached RCPT S0 whatever the
// recipients got.
// SingleThreadDelivery (mci_lock_host): `HostStatusFile.lock` makes and
// locks a host's file for the whole session (another process holding it:
// `.busy`, someone is talking to the host); the status is then written
// through that descriptor, and `unlock` lets it go.
// Promises: directories are made mode 0755, files 0600; a file is
// rewritten in place under an exclusive flock(2) (what hoststat's "*"
// tests) and never left partly written by a failed write of ours; a
// name sendmail would not store (empty, leading dot, "..", a bad
// address literal) writes nothing.

import Glibc
import SMBase

extension HostStatusFile.Outcome: Error {}

extension HostStatusRecord {
    /// mci_write_persistent: the file's bytes.
    public var encoded: [UInt8] {
        var o: [UInt8] = Array("V0\nE\(errno)\nH\(hErrno)\nS\(exitStatus)\n".utf8)
        if let d = dsn { o += [UInt8(ascii: "D")] + d + [0x0A] }
        if let r = reply { o += [UInt8(ascii: "R")] + r + [0x0A] }
        o += Array("U\(updated)\n.\n".utf8)
        return o
    }
}

public enum HostStatusFile {
    /// mci_generate_persistent_path: the path below the status directory,
    /// one element per directory level; nil for names sendmail does not store.
    public static func relativePath(host: [UInt8]) -> [String]? {
        guard let first = host.first, first != UInt8(ascii: ".") else { return nil }
        let bracketed = first == UInt8(ascii: "[")
        var name = bracketed ? Array(host.dropFirst()) : host
        while let last = name.last, last == UInt8(ascii: ".") || (bracketed && last == UInt8(ascii: "]")) {
            name.removeLast()
        }
        if bracketed && !isAddressLiteral(name) { return nil }
        if name.isEmpty { return nil }
        for i in 0..<(name.count - 1) where name[i] == UInt8(ascii: ".") && name[i + 1] == UInt8(ascii: ".") {
            return nil
        }
        let labels = name.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        var out: [String] = []
        for (i, label) in labels.reversed().enumerated() {
            var b = label.map { c -> UInt8 in
                if c >= 0x41 && c <= 0x5A { return c + 0x20 }
                return c == UInt8(ascii: "/") ? UInt8(ascii: ":") : c
            }
            if i < labels.count - 1 { b.append(UInt8(ascii: ".")) }
            out.append(String(decoding: b, as: UTF8.self))
        }
        return out
    }

    /// inet_addr() accepts it, or it is an IPv6 address (with or without "IPv6:").
    static func isAddressLiteral(_ name: [UInt8]) -> Bool {
        let s = String(decoding: name, as: UTF8.self)
        if inet_addr(s) != INADDR_NONE { return true }
        var t = Substring(s)
        if t.lowercased().hasPrefix("ipv6:") { t = t.dropFirst(5) }
        var a6 = in6_addr()
        return inet_pton(AF_INET6, String(t), &a6) == 1
    }

    /// mci_read_persistent: the host's recorded status, nil when there is
    /// no (readable) file for it.
    public static func read(host: [UInt8], directory: String) -> HostStatusRecord? {
        guard let rel = relativePath(host: host) else { return nil }
        let fd = open(directory + "/" + rel.joined(separator: "/"), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return HostStatusRecord(readAll(fd))
    }

    public enum Outcome: Equatable, Sendable {
        case written(path: String)
        /// The host's name cannot be stored (see relativePath).
        case unstorable
        /// Another process holds the file's lock (a connection in progress).
        case locked
        case failed(errno: Int32)
    }

    /// The host's file, its directories made (else why not: not stored,
    /// or the errno of a directory that could not be made).
    static func filePath(host: [UInt8], directory: String) -> Result<String, Outcome> {
        guard let rel = relativePath(host: host) else { return .failure(.unstorable) }
        var path = directory
        for element in rel.dropLast() {
            path += "/" + element
            if mkdir(path, 0o755) != 0 && Glibc.errno != EEXIST { return .failure(.failed(errno: Glibc.errno)) }
        }
        return .success(path + "/" + rel[rel.count - 1])
    }

    /// The host status files this process holds locked for its sessions
    /// (SingleThreadDelivery), by path: their descriptors.
    nonisolated(unsafe) static var held: [String: Int32] = [:]

    public enum LockOutcome: Equatable, Sendable {
        case held(path: String)
        /// Another process holds it: someone is talking to the host.
        case busy
        /// Not stored (see relativePath) or not lockable: no lock.
        case none
    }

    /// mci_lock_host_statfile: the host's file, made if need be, locked
    /// without waiting and kept open until unlock(path:).
    public static func lock(host: [UInt8], directory: String) -> LockOutcome {
        guard case .success(let path) = filePath(host: host, directory: directory) else { return .none }
        if held[path] != nil { return .held(path: path) }
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return .none }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { close(fd); return .none }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let busy = Glibc.errno == EWOULDBLOCK
            close(fd)
            return busy ? .busy : .none
        }
        held[path] = fd
        return .held(path: path)
    }

    /// mci_load_persistent's shared lock fails: the host's file exists
    /// and another process holds it locked (a session to the host).
    public static func lockedElsewhere(host: [UInt8], directory: String) -> Bool {
        guard let rel = relativePath(host: host) else { return false }
        let path = directory + "/" + rel.joined(separator: "/")
        if held[path] != nil { return false }
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_SH | LOCK_NB) != 0 && Glibc.errno == EWOULDBLOCK
    }

    /// Lets the host's file go (closing it drops the lock).
    public static func unlock(path: String) {
        if let fd = held.removeValue(forKey: path) { close(fd) }
    }

    /// Creates the directories and rewrites the host's file with `record`
    /// (through the descriptor this process holds it locked with, if any).
    public static func write(_ record: HostStatusRecord, host: [UInt8], directory: String) -> Outcome {
        let path: String
        switch filePath(host: host, directory: directory) {
        case .success(let p): path = p
        case .failure(let o): return o
        }
        let fd: Int32
        if let h = held[path] {
            fd = h
        } else {
            fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return .failed(errno: Glibc.errno) }
        }
        let mine = held[path] == nil
        defer { if mine { close(fd) } }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return .failed(errno: EINVAL) }
        if mine, flock(fd, LOCK_EX | LOCK_NB) != 0 {
            return Glibc.errno == EWOULDBLOCK ? .locked : .failed(errno: Glibc.errno)
        }
        defer { if mine { _ = flock(fd, LOCK_UN) } }
        let bytes = record.encoded
        guard ftruncate(fd, 0) == 0 else { return .failed(errno: Glibc.errno) }
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(off)) }
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                let e = Glibc.errno
                _ = ftruncate(fd, 0)   // unreadable rather than a wrong status
                return .failed(errno: e)
            }
            off += n
        }
        return .written(path: path)
    }
}

extension Engine {
    /// Records the outcome of a connection attempt to `host` in
    /// HostStatusDirectory (nothing when the option is unset): the sysexits
    /// status (`exitStatus`, 0 after a usable session), the DSN status
    /// ("4.4.1"), the server's reply when there was one, errno and h_errno
    /// of a failed connection or lookup.  `now` is the update time.
    @discardableResult
    public func recordHostStatus(host: [UInt8], exitStatus: Int32, dsn: [UInt8]?, reply: [UInt8]?,
                                 errno: Int32 = 0, hErrno: Int32 = 0,
                                 now: Int64 = Int64(time(nil))) -> HostStatusFile.Outcome? {
        guard let dir = hostStatusDirectory else { return nil }
        let record = HostStatusRecord(errno: errno, hErrno: hErrno, exitStatus: exitStatus, dsn: dsn,
                                      reply: reply, updated: now)
        return HostStatusFile.write(record, host: host, directory: dir)
    }
}
