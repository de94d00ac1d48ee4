// SMEngine/QueueCommit.swift
//
// Puts one message into a queue directory durably, in the order that
// makes a crash harmless, and lets concurrent commits (the daemon's
// sessions, each on its own pool thread) share the directory flushes
// ("group commit"):
//   1. the df (body) is created exclusively, written and fsynced;
//   2. the tf (the control file under its temporary name) likewise;
//      concurrent sessions fsync their own files at the same time (a
//      journalling file system such as ext4 merges such fsyncs into shared
//      journal commits; without a journal each is its own write);
//   3. the df's directory is synced through `DirectorySync`, which makes
//      every caller that arrives while a sync of that directory is running
//      share the next one: the first of them (the leader) fsyncs the
//      directory once for the whole batch, the others wait for its
//      result.  A sync that starts after a caller's arrival covers all
//      that caller did in the directory before it arrived (its df entry);
//   4. tf is renamed to qf, and the qf's directory is synced the same way
//      (one fsync covers every rename of the batch).
// Creating a file and renaming take the directory's lock in the kernel,
// which waiters spin on while the holder allocates an inode (slow on ext4
// without a journal when many inodes were deleted recently); so in this
// process the creates and renames of one directory are serialized by a
// mutex of our own (`DirectorySync.exclusive`), where waiters sleep.
// So: the df and its directory entry are on disk before any qf names
// them; the qf is on disk before `commit` returns; a fsync that fails
// fails every commit it covered, and each of them cleans up its own
// files.  A queue run only ever looks at qf files, so until step 4 the
// message does not exist for it; a crash before it leaves at most a df
// and a tf, never a qf without its complete df.  The files' bytes and
// names are the same as before group commit; only the number of
// directory fsyncs differs (two per batch instead of two per message).
// On any failure before the rename the tf and df are removed and the
// caller gets sendmail's messages and a sysexits code, never success.
// Files get QueueFileMode (default 0600); the qf/ and df/ subdirectories
// are used when they exist, as sendmail does.
// Why not more sharing: a fsync of a file only flushes that file, so the
// df and tf fsyncs stay one per file; syncfs() would flush a whole batch at
// once but also everything else dirty on the file system (other programs'
// writes would delay our 250s), and sync_file_range() does not make
// metadata durable.  On the benchmark machine (ext4 without a journal,
// where the fsync of a new file also writes its directory) batches are
// small: 2,000 messages over 20 sessions took about 3.6 fsyncs per
// message instead of 4.
// Promises: `commit` returns nil only after the df, the qf and both
// directory entries are durable (the qf's directory synced after the
// rename); a caller alone (command-line submission) does the same four
// fsyncs as before (df, tf, directory, directory after the rename; the
// first directory fsync now comes after the tf's instead of before it).

import Glibc
import SMBase
import SMQueueFormat

public struct QueueCommitFailure: Error, Sendable {
    public var messages: [String]
    public var status: SysExit
}

/// Group commit of directory fsyncs.  `sync(path)` returns once a fsync of
/// the directory that began after the call has succeeded (0) or failed
/// (its errno).  Callers arriving while one runs wait for the next, which
/// the first of them runs for all.
public final class DirectorySync: @unchecked Sendable {
    final class Ticket {
        var done = false
        var error: Int32 = 0
    }

    let path: String
    let mutex: UnsafeMutablePointer<pthread_mutex_t>
    let cond: UnsafeMutablePointer<pthread_cond_t>
    /// Guarded by `mutex`: callers not yet covered by a running fsync.
    var waiting: [Ticket] = []
    var running = false

    init(path: String) {
        self.path = path
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    nonisolated(unsafe) static var registry: [String: DirectorySync] = [:]
    nonisolated(unsafe) static var registryMutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()

    /// The one syncer of directory `path` in this process.
    public static func of(_ path: String) -> DirectorySync {
        pthread_mutex_lock(registryMutex)
        defer { pthread_mutex_unlock(registryMutex) }
        if let s = registry[path] { return s }
        let s = DirectorySync(path: path)
        registry[path] = s
        return s
    }

    /// Serializes creates and renames in the directory (see the top).
    let createMutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()

    public func exclusive<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(createMutex)
        defer { pthread_mutex_unlock(createMutex) }
        return body()
    }

    static func fsyncDirectory(_ path: String) -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { return errno }
        defer { close(fd) }
        return fsync(fd) == 0 ? 0 : errno
    }

    /// Everything done in the directory before this call is durable (0),
    /// or the errno of the fsync that should have made it so.
    public func sync() -> Int32 {
        let ticket = Ticket()
        pthread_mutex_lock(mutex)
        waiting.append(ticket)
        while !ticket.done {
            if running {
                pthread_cond_wait(cond, mutex)
                continue
            }
            // the leader: one fsync for every caller waiting now
            running = true
            let batch = waiting
            waiting = []
            pthread_mutex_unlock(mutex)
            let e = Self.fsyncDirectory(path)
            pthread_mutex_lock(mutex)
            for t in batch {
                t.done = true
                t.error = e
            }
            running = false
            pthread_cond_broadcast(cond)
        }
        pthread_mutex_unlock(mutex)
        return ticket.error
    }
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

    /// Creates `path` exclusively and writes `data`, not synced.
    /// Returns the open descriptor, or -errno (the file removed).
    /// With `dir`, a spare file of the directory is taken when there is
    /// one (QueueSpares.swift), with the same EEXIST as a create.
    func createAndWrite(_ path: String, _ data: [UInt8], in dir: DirectorySync? = nil) -> Int32 {
        let create = { () -> Int32 in
            if let d = dir, let fd = QueueSpares.claim(into: path, directory: d.path, mode: self.fileMode) { return fd }
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, self.fileMode)
            return fd < 0 ? -errno : fd
        }
        let fd = dir.map { $0.exclusive(create) } ?? create()
        if fd < 0 { return fd }
        // the mode is exact, whatever the umask
        _ = fchmod(fd, fileMode)
        var off = 0
        while off < data.count {
            let n = data[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                close(fd); unlink(path)
                return -e
            }
            off += n
        }
        return fd
    }

    /// fsync and close `fd`: 0 or errno.
    func syncAndClose(_ fd: Int32) -> Int32 {
        if fsync(fd) != 0 {
            let e = errno
            close(fd)
            return e
        }
        return close(fd) != 0 ? errno : 0
    }

    /// Creates `path` exclusively and writes `data` to stable storage.
    /// Returns errno on failure (the file is removed again).
    func writeDurably(_ path: String, _ data: [UInt8]) -> Int32 {
        let fd = createAndWrite(path, data)
        if fd < 0 { return -fd }
        let e = syncAndClose(fd)
        if e != 0 { unlink(path) }
        return e
    }

    func fsyncDirectory(_ path: String) -> Int32 {
        DirectorySync.fsyncDirectory(path)
    }

    /// Writes and syncs df, then tf, syncs the df's directory, renames tf
    /// to qf (or to `kind`: hf for a quarantined message), syncs the qf's
    /// directory (the order in the top comment).
    /// `EEXIST` on the df means the ID is taken: the caller picks another.
    public func commit(id: [UInt8], data: [UInt8], control: [UInt8],
                       kind: QueueFileKind = .control) -> QueueCommitFailure? {
        let sub = subdirectories
        let dfPath = QueueFileKind.data.path(in: Array(directory.utf8), id: id, useSubdirectory: sub.df).string
        let tfPath = QueueFileKind.temporary.path(in: Array(directory.utf8), id: id, useSubdirectory: sub.qf).string
        let qfPath = kind.path(in: Array(directory.utf8), id: id, useSubdirectory: sub.qf).string
        let uid = geteuid(), gid = getegid()

        func dfFailure(_ e: Int32) -> QueueCommitFailure {
            let reason = String(cString: strerror(e))
            return QueueCommitFailure(messages: [
                "collect: Cannot write \(shown(.data, id, sub: sub.df)) (bfcommit, uid=\(uid), gid=\(gid)): \(reason)",
                "queueup: cannot create queue file \(shown(.control, id, sub: sub.qf)), euid=\(uid), fd=-1, fp=0x0: \(reason)",
            ], status: e == EEXIST ? .cantCreat : .osErr)
        }
        func tfFailure(_ e: Int32) -> QueueCommitFailure {
            let reason = String(cString: strerror(e))
            return QueueCommitFailure(messages: [
                "queueup: cannot create queue file \(shown(.temporary, id, sub: sub.qf)), euid=\(uid), fd=-1, fp=0x0: \(reason)",
            ], status: .osErr)
        }

        let dfDir = sub.df ? directory + "/df" : directory
        let qfDir = sub.qf ? directory + "/qf" : directory
        let dfSync = DirectorySync.of(dfDir), qfSync = DirectorySync.of(qfDir)
        let dfFD = createAndWrite(dfPath, data, in: dfSync)
        if dfFD < 0 { return dfFailure(-dfFD) }
        let e1 = syncAndClose(dfFD)
        if e1 != 0 {
            unlink(dfPath)
            return dfFailure(e1)
        }
        let tfFD = createAndWrite(tfPath, control, in: qfSync)
        if tfFD < 0 {
            unlink(dfPath)
            return tfFailure(-tfFD)
        }
        let e2 = syncAndClose(tfFD)
        if e2 != 0 {
            unlink(tfPath); unlink(dfPath)
            return tfFailure(e2)
        }
        // the df's directory entry is on disk before any control file names it
        let e0 = dfSync.sync()
        if e0 != 0 {
            unlink(tfPath); unlink(dfPath)
            return QueueCommitFailure(messages: [
                "queueup: cannot fsync(\(dfDir)): \(String(cString: strerror(e0)))",
            ], status: .osErr)
        }
        let renamed: Int32 = qfSync.exclusive { rename(tfPath, qfPath) == 0 ? 0 : errno }
        if renamed != 0 {
            let reason = String(cString: strerror(renamed))
            unlink(tfPath); unlink(dfPath)
            return QueueCommitFailure(messages: [
                "cannot rename(\(shown(.temporary, id, sub: sub.qf)), \(shown(.control, id, sub: sub.qf))): \(reason)",
            ], status: .osErr)
        }
        let e3 = qfSync.sync()
        if e3 != 0 {
            // the qf is in place but maybe not on disk: say so, fail
            return QueueCommitFailure(messages: [
                "queueup: cannot fsync(\(qfDir)): \(String(cString: strerror(e3)))",
            ], status: .osErr)
        }
        return nil
    }
}
