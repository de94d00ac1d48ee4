// mail.local/DotLock.swift
//
// The "<mailbox>.lock" dot lock Debian's mail.local takes through
// liblockfile's maillock(): write "0\n" to a unique temporary file in the
// spool directory, link(2) it to the lock name (NFS-safe: success is
// judged by the link count), retry with growing sleeps (5 s more each
// time, at most 60 s, 15 retries), and remove a lock older than 5 minutes
// as stale.  Promises: `release()` removes only a lock this object made.
#if canImport(Glibc)
import Glibc
#endif
import SMBase

final class DotLock {
    let lockPath: String
    private(set) var held = false
    static let retries = 15
    static let staleAfter: time_t = 300

    init(mailboxPath: String) { lockPath = mailboxPath + ".lock" }

    /// 0 on success, else EX_TEMPFAIL (errno 0) or an errno, as
    /// mail.local's lockmbox reports them.
    func acquire() -> (code: Int32, errno: Int32) {
        if held { return (0, 0) }
        let dir: String
        if let slash = lockPath.lastIndex(of: "/") { dir = String(lockPath[..<slash]) } else { dir = "." }
        for attempt in 0...DotLock.retries {
            let tmp = "\(dir)/.lk\(getpid())\(Int(time(nil)) & 15)\(attempt)"
            var fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd < 0 && errno == EACCES && geteuid() != 0 {
                // Not writable as the user: take it as root, as Debian's
                // setgid dotlockfile helper would.
                let euid = geteuid()
                if seteuid(0) == 0 {
                    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
                    _ = seteuid(euid)
                }
            }
            if fd < 0 { return (SysExit.tempFail.rawValue, 0) }
            let ok = Sys.writeAll(fd, Array("0\n".utf8)) == nil
            close(fd)
            if !ok { unlink(tmp); return (SysExit.tempFail.rawValue, 0) }
            _ = link(tmp, lockPath)
            var st = stat()
            let linked = lstat(tmp, &st) == 0 && st.st_nlink == 2
            unlink(tmp)
            if linked { held = true; return (0, 0) }
            if attempt == DotLock.retries { break }
            // Stale lock?
            var ls = stat()
            if lstat(lockPath, &ls) == 0, time(nil) - ls.st_mtim.tv_sec > DotLock.staleAfter {
                unlink(lockPath)
                continue
            }
            sleep(UInt32(min(5 * (attempt + 1), 60)))
        }
        return (SysExit.tempFail.rawValue, 0)
    }

    func release() {
        if held { unlink(lockPath) }
        held = false
    }
}
