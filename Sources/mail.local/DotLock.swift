// mail.local/DotLock.swift
//
// The "<mailbox>.lock" dot lock Debian's mail.local takes through
// liblockfile's maillock(): a file holding "0\n" in the spool directory is
// link(2)ed to the lock name (NFS-safe: success is judged by the link
// count), with growing sleeps between tries (5 s more each time, at most
// 60 s, 15 retries), and a lock older than 5 minutes is removed as stale.
//
// Decisions where we differ from Debian's tool:
// - The file the lock is linked from is made once per spool directory and
//   owner and kept for the process's life (an LMTP session delivers many
//   messages), its time stamp renewed before each link so the lock looks
//   as young as it is; liblockfile makes and removes one per attempt.  On
//   a file system that scans recently freed inodes (ext4 without a
//   journal) every created file costs more the busier the directory is.
//   The files are removed at exit and on SIGTERM, SIGINT and SIGHUP.
// - When the user may not create files in the spool directory (Debian's
//   /var/mail is root:mail 2775), the whole lock (link file, link, unlock)
//   is taken as root, as Debian's setgid dotlockfile helper would; Debian's
//   mail.local gives up there at once with "lockmailbox ... failed; error
//   code 75".
// Promises: `release()` removes only a lock this object made.
#if canImport(Glibc)
import Glibc
#endif
import SMBase

final class DotLock {
    let lockPath: String
    private(set) var held = false
    /// The lock was taken with root's effective uid.
    private var heldAsRoot = false
    static let retries = 15
    static let staleAfter: time_t = 300

    init(mailboxPath: String) { lockPath = mailboxPath + ".lock" }

    /// 0 on success, else EX_TEMPFAIL (errno 0) or an errno, as
    /// mail.local's lockmbox reports them.
    func acquire() -> (code: Int32, errno: Int32) {
        if held { return (0, 0) }
        let dir: String
        if let slash = lockPath.lastIndex(of: "/") { dir = String(lockPath[..<slash]) } else { dir = "." }
        var asRoot = geteuid() != 0 && LinkSources.refused(in: dir)
        for attempt in 0...DotLock.retries {
            // As the user first; as root once the user may not create there.
            var source: String? = nil
            if !asRoot {
                source = LinkSources.source(in: dir)
                if source == nil && errno == EACCES && geteuid() != 0 { asRoot = true }
            }
            let linked: Bool? = DotLock.privileged(asRoot) {
                if asRoot { source = LinkSources.source(in: dir) }
                guard let src = source else { return nil }
                _ = link(src, lockPath)
                var st = stat()
                return lstat(src, &st) == 0 && st.st_nlink == 2
            }
            guard let ok = linked else { return (SysExit.tempFail.rawValue, 0) }
            if ok { held = true; heldAsRoot = asRoot; return (0, 0) }
            if attempt == DotLock.retries { break }
            // Stale lock?
            var ls = stat()
            if lstat(lockPath, &ls) == 0, time(nil) - ls.st_mtim.tv_sec > DotLock.staleAfter {
                DotLock.privileged(asRoot) { _ = unlink(lockPath) }
                continue
            }
            sleep(UInt32(min(5 * (attempt + 1), 60)))
        }
        return (SysExit.tempFail.rawValue, 0)
    }

    func release() {
        if held { DotLock.privileged(heldAsRoot) { _ = unlink(lockPath) } }
        held = false
    }

    /// Runs `body` with root's effective uid when `asRoot` (the real uid is
    /// root's: mail.local runs as root and acts as the user by setreuid).
    private static func privileged<T>(_ asRoot: Bool, _ body: () -> T) -> T {
        let euid = geteuid()
        guard asRoot, euid != 0, seteuid(0) == 0 else { return body() }
        defer { _ = seteuid(euid) }
        return body()
    }
}

/// The files dot locks are linked from: one per spool directory and
/// effective uid (the kernel's protected_hardlinks refuses a link to
/// another user's file), each holding "0\n".
enum LinkSources {
    private struct Key: Hashable { let dir: String; let uid: uid_t }
    nonisolated(unsafe) private static var sources: [Key: String] = [:]
    /// Directories where creating a file failed with EACCES, by uid.
    nonisolated(unsafe) private static var refusedKeys: Set<Key> = []
    /// Every file made, as C strings for the signal handler (fixed room,
    /// allocated before any handler can run).
    nonisolated(unsafe) private static var made = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
    nonisolated(unsafe) private static var madeCount = 0
    private static let capacity = 16
    nonisolated(unsafe) private static var serial = 0
    nonisolated(unsafe) private static var installed = false

    /// A link source in `dir` for the current effective uid, made if
    /// needed, its time stamp renewed.  nil with errno set on failure.
    static func source(in dir: String) -> String? {
        let key = Key(dir: dir, uid: geteuid())
        if let path = sources[key] {
            var st = stat()
            if lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_nlink == 1, st.st_uid == key.uid,
               utimensat(AT_FDCWD, path, nil, AT_SYMLINK_NOFOLLOW) == 0 {
                return path
            }
            // Gone, or still linked somewhere: use a new one.
            sources[key] = nil
        }
        // (a session delivering to many owners: start afresh; no lock is
        // held while a new one is taken)
        if madeCount >= capacity { forgetAll() }
        serial += 1
        let path = "\(dir)/.lk\(getpid())\(Int(time(nil)) & 15)\(serial)"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            let e = errno
            if e == EACCES { refusedKeys.insert(key) }
            errno = e
            return nil
        }
        let ok = Sys.writeAll(fd, Array("0\n".utf8)) == nil
        close(fd)
        if !ok { unlink(path); errno = EIO; return nil }
        remember(path)
        sources[key] = path
        return path
    }

    /// Creating a link source in `dir` was refused to the current euid.
    static func refused(in dir: String) -> Bool { refusedKeys.contains(Key(dir: dir, uid: geteuid())) }

    private static func remember(_ path: String) {
        made[madeCount] = strdup(path)
        madeCount += 1
        if !installed {
            installed = true
            atexit { LinkSources.removeAll() }
            for sig in [SIGTERM, SIGINT, SIGHUP] {
                signal(sig) { s in
                    LinkSources.removeAll()
                    signal(s, SIG_DFL)
                    raise(s)
                }
            }
        }
    }

    /// Removes every link source and forgets it.
    private static func forgetAll() {
        removeAll()
        let n = madeCount
        madeCount = 0
        for i in 0..<n { free(made[i]); made[i] = nil }
        sources = [:]
    }

    /// Removes every link source (as root if we can: some were made so).
    static func removeAll() {
        let euid = geteuid()
        if euid != 0 { _ = seteuid(0) }
        for i in 0..<madeCount {
            if let p = made[i] { unlink(p) }
        }
        if euid != 0 { _ = seteuid(euid) }
    }
}
