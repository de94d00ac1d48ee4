// SMEngine/QueueCommit.swift
//
// Puts one message into a queue directory durably, in the order that
// makes a crash harmless:
//   1. the df (body) is created exclusively, written, fsynced, closed,
//      and its directory fsynced;
//   2. the tf (the control file under its temporary name) likewise;
//   3. tf is renamed to qf, and the qf's directory is fsynced.
// A queue run only ever looks at qf files, so until step 3 completes the
// message does not exist for it; a qf never exists without its complete
// df.  On any failure before the rename the tf and df are removed and
// the caller gets sendmail's messages and a sysexits code, never success.
// Files get QueueFileMode (default 0600); the qf/ and df/ subdirectories
// are used when they exist, as sendmail does.
// Promises: `commit` returns nil only after the rename and the directory
// fsync succeeded.

import Glibc
import SMBase
import SMQueueFormat

public struct QueueCommitFailure: Error, Sendable {
    public var messages: [String]
    public var status: SysExit
}

public struct QueueCommitter: Sendable {
    public let directory: String
    public let fileMode: mode_t

    public init(directory: String, fileMode: mode_t = 0o600) {
        self.directory = directory
        self.fileMode = fileMode
    }

    static func isDirectory(_ p: String) -> Bool {
        var st = stat()
        return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether `qf/` (for control files) and `df/` exist.
    public var subdirectories: (qf: Bool, df: Bool) {
        (Self.isDirectory(directory + "/qf"), Self.isDirectory(directory + "/df"))
    }

    /// Relative name as sendmail prints it (it works in the queue directory).
    func shown(_ kind: QueueFileKind, _ id: [UInt8], sub: Bool) -> String {
        "./" + kind.relativePath(for: id, useSubdirectory: sub).string
    }

    /// Creates `path` exclusively and writes `data` to stable storage.
    /// Returns errno on failure (the file is removed again).
    func writeDurably(_ path: String, _ data: [UInt8]) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, fileMode)
        if fd < 0 { return errno }
        // the mode is exact, whatever the umask
        _ = fchmod(fd, fileMode)
        var off = 0
        while off < data.count {
            let n = data[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                close(fd); unlink(path)
                return e
            }
            off += n
        }
        if fsync(fd) != 0 {
            let e = errno
            close(fd); unlink(path)
            return e
        }
        if close(fd) != 0 {
            let e = errno
            unlink(path)
            return e
        }
        return 0
    }

    func fsyncDirectory(_ path: String) -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        if fd < 0 { return errno }
        defer { close(fd) }
        return fsync(fd) == 0 ? 0 : errno
    }

    /// Writes df, then tf, renames tf to qf (or to `kind`: hf for a
    /// quarantined message), fsyncs the directory.
    /// `EEXIST` on the df means the ID is taken: the caller picks another.
    public func commit(id: [UInt8], data: [UInt8], control: [UInt8],
                       kind: QueueFileKind = .control) -> QueueCommitFailure? {
        let sub = subdirectories
        let dfPath = QueueFileKind.data.path(in: Array(directory.utf8), id: id, useSubdirectory: sub.df).string
        let tfPath = QueueFileKind.temporary.path(in: Array(directory.utf8), id: id, useSubdirectory: sub.qf).string
        let qfPath = kind.path(in: Array(directory.utf8), id: id, useSubdirectory: sub.qf).string
        let uid = geteuid(), gid = getegid()

        let e1 = writeDurably(dfPath, data)
        if e1 != 0 {
            let reason = String(cString: strerror(e1))
            return QueueCommitFailure(messages: [
                "collect: Cannot write \(shown(.data, id, sub: sub.df)) (bfcommit, uid=\(uid), gid=\(gid)): \(reason)",
                "queueup: cannot create queue file \(shown(.control, id, sub: sub.qf)), euid=\(uid), fd=-1, fp=0x0: \(reason)",
            ], status: e1 == EEXIST ? .cantCreat : .osErr)
        }
        // the df's directory entry is on disk before any control file exists
        let dfDir = sub.df ? directory + "/df" : directory
        let e0 = fsyncDirectory(dfDir)
        if e0 != 0 {
            unlink(dfPath)
            return QueueCommitFailure(messages: [
                "queueup: cannot fsync(\(dfDir)): \(String(cString: strerror(e0)))",
            ], status: .osErr)
        }
        let e2 = writeDurably(tfPath, control)
        if e2 != 0 {
            unlink(dfPath)
            let reason = String(cString: strerror(e2))
            return QueueCommitFailure(messages: [
                "queueup: cannot create queue file \(shown(.temporary, id, sub: sub.qf)), euid=\(uid), fd=-1, fp=0x0: \(reason)",
            ], status: .osErr)
        }
        if rename(tfPath, qfPath) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(tfPath); unlink(dfPath)
            return QueueCommitFailure(messages: [
                "cannot rename(\(shown(.temporary, id, sub: sub.qf)), \(shown(.control, id, sub: sub.qf))): \(reason)",
            ], status: .osErr)
        }
        let qfDir = sub.qf ? directory + "/qf" : directory
        let e3 = fsyncDirectory(qfDir)
        if e3 != 0 {
            // the qf is in place but maybe not on disk: say so, fail
            return QueueCommitFailure(messages: [
                "queueup: cannot fsync(\(qfDir)): \(String(cString: strerror(e3)))",
            ], status: .osErr)
        }
        return nil
    }
}
