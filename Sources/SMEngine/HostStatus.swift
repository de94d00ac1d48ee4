// SMEngine/HostStatus.swift
//
// `hoststat` (-bh) and `purgestat` (-bH) over HostStatusDirectory (relative
// names are below the queue directory, as in sendmail).  With no
// directory configured, or an empty one, both print nothing and exit 0,
// as sendmail does (one that is not on disk was set aside when the cf
// was read, with sendmail's "Warning: Cannot use HostStatusDirectory";
// so was one with ConnectionCacheSize=0, and SingleThreadDelivery
// without one: Engine.swift).
// purgestat walks the tree as sendmail's mci_purge_persistent does:
// a status file is removed once it is older than Timeout.hoststatus
// (default 30 minutes), a directory whose name ends in "." once it is
// empty and older than that (depth first, so a directory emptied in the
// same run has just changed and stays); fresh entries stay.
// hoststat lists each status file (found in directory order, as sendmail
// walks the tree; "com./example./mx" is host mx.example.com): the host,
// how long ago it was updated, and the result (the recorded reply, else
// "Deferred: <errno text>", else the sysexits text, else "OK"), each line
// cut at 79 bytes.  Writing status files: HostStatus+Record.swift.
// Promises: purgestat removes only entries below the configured
// directory; it never follows a link out of it.

import Glibc
import SMBase

extension Engine {
    /// HostStatusDirectory as a path (below QueueDirectory when relative); nil when unset.
    public var hostStatusDirectory: String? {
        guard var dir = config.options["HostStatusDirectory"].map({ $0.string }), !dir.isEmpty else { return nil }
        if !dir.hasPrefix("/") {
            let q = config.options["QueueDirectory"].map { $0.string } ?? "/var/spool/mqueue"
            dir = q + "/" + dir
        }
        return dir
    }

    /// Timeout.hoststatus in seconds (sendmail's MciInfoTimeout, default 30m).
    var hostStatusTimeout: Int {
        guard let v = config.options.subValues["Timeout.hoststatus"] else { return 30 * 60 }
        return Engine.convtime(v, defaultUnit: UInt8(ascii: "m"))
    }

    public func hostStatus(purge: Bool) -> SysExit {
        guard let dir = hostStatusDirectory else { return .ok }
        if purge {
            purgeHostStatus(dir, now: Int(time(nil)), timeout: hostStatusTimeout)
            return .ok
        }
        var files: [String] = []
        func walk(_ d: String) {
            for name in directoryEntryNames(d) {
                let path = d + "/" + name
                var st = stat()
                guard lstat(path, &st) == 0 else { continue }
                if (st.st_mode & S_IFMT) == S_IFDIR { walk(path) } else { files.append(path) }
            }
        }
        walk(dir)
        if files.isEmpty { return .ok }
        out.write(" -------------- Hostname --------------- How long ago ---------Results---------\n")
        let now = Int64(time(nil))
        for f in files {
            let fd = open(f, O_RDONLY)
            guard fd >= 0 else { continue }
            let locked = flock(fd, LOCK_SH | LOCK_NB) != 0
            let text = readAll(fd)
            close(fd)
            guard let st = HostStatusRecord(text) else {
                rewriter.systemError("\(f): could not read status file")
                continue
            }
            // host: the path below the directory, components reversed, dots dropped
            let rel = f.dropFirst(dir.count + 1)
            let host = rel.split(separator: "/").reversed()
                .map { $0.hasSuffix(".") ? String($0.dropLast()) : String($0) }.joined(separator: ".")
            var bytes: [UInt8] = [locked ? UInt8(ascii: "*") : 0x20]
            bytes += host.latin1Bytes
            if host.count < 39 { bytes += [UInt8](repeating: 0x20, count: 39 - host.count) }
            let ago = intervalText(now - st.updated).latin1Bytes
            bytes.append(0x20)
            if ago.count < 12 { bytes += [UInt8](repeating: 0x20, count: 12 - ago.count) }
            bytes += ago
            bytes.append(0x20)
            bytes += st.resultText
            if bytes.count > 79 { bytes = Array(bytes.prefix(79)) }
            out.write(bytes)
            out.write("\n")
        }
        return .ok
    }
}

/// mci_traverse_persistent with mci_purge_persistent: entries in
/// directory order, a directory's contents before the directory.
func purgeHostStatus(_ dir: String, now: Int, timeout: Int) {
    for name in directoryEntryNames(dir) {
        let path = dir + "/" + name
        var st = stat()
        guard lstat(path, &st) == 0 else { continue }
        let isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
        if isDirectory { purgeHostStatus(path, now: now, timeout: timeout) }
        // the age is taken after the contents went (stat, as sendmail does)
        guard stat(path, &st) == 0, now - st.st_mtim.tv_sec > timeout else { continue }
        if isDirectory {
            if name.hasSuffix(".") { _ = rmdir(path) }
        } else {
            _ = unlink(path)
        }
    }
}

/// One host status file: V0, E errno, H h_errno, S exit status, D DSN
/// status, R reply text, U update time, ending with ".".
public struct HostStatusRecord: Sendable, Equatable {
    public var errno: Int32 = 0
    public var hErrno: Int32 = 0
    public var exitStatus: Int32 = 0
    public var dsn: [UInt8]? = nil
    public var reply: [UInt8]? = nil
    public var updated: Int64 = 0

    public init(errno: Int32 = 0, hErrno: Int32 = 0, exitStatus: Int32 = 0, dsn: [UInt8]? = nil,
                reply: [UInt8]? = nil, updated: Int64) {
        self.errno = errno
        self.hErrno = hErrno
        self.exitStatus = exitStatus
        self.dsn = dsn
        self.reply = reply
        self.updated = updated
    }

    /// Parses a status file; nil when it is not one (no V0 or no ".").
    public init?(_ text: [UInt8]) {
        var sawVersion = false, sawEnd = false
        for raw in text.split(separator: 0x0A, omittingEmptySubsequences: false) {
            guard let tag = raw.first else { continue }
            let v = Array(raw.dropFirst())
            switch tag {
            case UInt8(ascii: "V"): sawVersion = v == [UInt8(ascii: "0")]
            case UInt8(ascii: "E"): errno = Int32(v.string) ?? 0
            case UInt8(ascii: "H"): hErrno = Int32(v.string) ?? 0
            case UInt8(ascii: "S"): exitStatus = Int32(v.string) ?? 0
            case UInt8(ascii: "D"): dsn = v
            case UInt8(ascii: "R"): reply = v
            case UInt8(ascii: "U"): updated = Int64(v.string) ?? 0
            case UInt8(ascii: "."): sawEnd = true
            default: return nil
            }
            if sawEnd { break }
        }
        guard sawVersion, sawEnd else { return nil }
    }

    /// The "Results" column.
    var resultText: [UInt8] {
        if let r = reply { return r }
        if errno != 0 { return Array("Deferred: \(String(cString: strerror(errno)))".utf8) }
        if exitStatus != 0 {
            if let t = sysexitsText[exitStatus] { return Array(t.utf8) }
            return Array("Unknown status \(exitStatus)".utf8)
        }
        return Array("OK".utf8)
    }
}

/// sendmail's texts for the sysexits codes, without the reply code.
let sysexitsText: [Int32: String] = [
    64: "5.0.0 Bad usage", 65: "5.6.0 Data format error", 66: "5.3.0 Cannot open input",
    67: "5.1.1 User unknown", 68: "5.1.2 Host unknown", 69: "5.0.0 Service unavailable",
    70: "5.3.0 Internal error", 71: "4.0.0 Operating system error", 72: "5.3.5 System file missing",
    73: "5.0.0 Can't create output", 74: "4.0.0 I/O error", 75: "4.0.0 Deferred",
    76: "5.5.0 Remote protocol error", 77: "5.0.0 Insufficient permission", 78: "5.3.5 Local configuration error",
]

/// sendmail's pintvl(…, brief): [days+]HH:MM:SS.
func intervalText(_ seconds: Int64) -> String {
    var s = max(0, seconds)
    let days = s / 86400; s %= 86400
    let h = s / 3600, m = (s % 3600) / 60, sec = s % 60
    func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return (days > 0 ? "\(days)+" : "") + "\(two(h)):\(two(m)):\(two(sec))"
}
