// mail.local/MailboxWriter.swift
//
// Appends a stored message to one user's mailbox as the real mail.local
// 8.17 does: look the user up, refuse links, symlinks, non-regular files
// and mailboxes owned by someone else, create a missing mailbox 0600
// owned by the user (and the user's group), then as the user (effective
// uid): open for append, check it is the same file, fcntl-lock the whole
// file (lockf, as Debian builds it), take the "<mbox>.lock" dot lock,
// append (inserting the Content-Length header), fsync, and on any failure
// truncate back to the size it had before.  Messages and reply codes are
// the real tool's; in LMTP mode a success prints "250 2.1.5 <user> Ok".
// Promises: the mailbox never keeps a partial message we wrote (a message
// of up to 16 MB is appended with one write(2), so not even when the
// process is killed with SIGKILL mid-delivery).
#if canImport(Glibc)
import Glibc
#endif
import SMBase

struct MailboxWriter {
    let reporter: Reporter
    let database: UserDatabase
    /// Spool directory (default /var/mail); ignored with `homeMailFile`.
    let spool: String
    /// `-h filename`: deliver to ~user/filename.
    let homeMailFile: String?
    let biff: Biff?

    func deliver(_ message: StoredMessage, to rawName: [UInt8]) {
        let user: MailboxUser
        switch database.lookup(rawName) {
        case .found(let u):
            user = u
        case .noUser:
            reporter.error("550 5.1.1", "\(rawName.string): User unknown")
            if reporter.exitValue != SysExit.tempFail.rawValue { reporter.exitValue = SysExit.unavailable.rawValue }
            return
        case .tempFail:
            reporter.error("451 4.3.0", "\(rawName.string): User database failure; retry later")
            reporter.exitValue = SysExit.tempFail.rawValue
            return
        }
        endpwent()

        // Keep the name short and printable for the path.
        var name = Array(rawName.prefix(40))
        for i in name.indices {
            if name[i] >= 0x80 { name[i] &= 0x7F } else if name[i] < 0x20 || name[i] == 0x7F { name[i] = 0x2E }
        }
        let nameText = name.string

        let path: String
        if let file = homeMailFile {
            if user.home.isEmpty {
                reporter.error("550 5.1.1", "\(nameText): User missing home directory")
                return
            }
            path = user.home.string + "/" + file
        } else {
            path = spool + "/" + nameText
        }
        if path.utf8.count >= Int(PATH_MAX) {
            reporter.error("550 5.1.1", "\(nameText): Invalid mailbox path")
            return
        }

        var sb = stat()
        while true {
            if lstat(path, &sb) < 0 {
                let mbfd = open(path, O_APPEND | O_CREAT | O_EXCL | O_WRONLY, 0o600)
                let saved = errno
                if lstat(path, &sb) < 0 {
                    reporter.exitValue = SysExit.cantCreat.rawValue
                    reporter.error("550 5.2.0", "\(path): lstat: file changed after open")
                    if mbfd >= 0 { close(mbfd) }
                    return
                }
                if mbfd < 0 {
                    if saved == EEXIST { continue }
                    reporter.error("450 4.2.0", "Create \(path): \(Sys.errorText(saved))", errno: saved)
                    return
                }
                if fchown(mbfd, user.uid, user.gid) < 0 {
                    let e = errno
                    reporter.error("451 4.3.0", "chown \(user.uid).\(user.gid): \(nameText)", errno: e)
                    close(mbfd)
                    return
                }
                sb.st_uid = user.uid
                close(mbfd)
            } else if sb.st_nlink != 1 {
                reporter.error("550 5.2.0", "\(path): too many links")
                return
            } else if (sb.st_mode & S_IFMT) != S_IFREG {
                reporter.error("550 5.2.0", "\(path): irregular file")
                return
            } else if sb.st_uid != user.uid {
                reporter.exitValue = SysExit.cantCreat.rawValue
                reporter.error("550 5.2.0", "\(path): wrong ownership (\(Int32(bitPattern: sb.st_uid)))")
                return
            }
            break
        }

        // Become the user (effective uid) for quota checks.
        if setreuid(0, user.uid) < 0 {
            let e = errno
            reporter.error("450 4.2.0", "setreuid(0, \(Int32(bitPattern: user.uid))): \(Sys.errorText(e)) (r=\(getuid()), e=\(geteuid()))", errno: e)
            return
        }
        let dotLock = DotLock(mailboxPath: path)
        defer {
            _ = setreuid(0, 0)
            dotLock.release()
        }

        let mbfd = open(path, O_APPEND | O_WRONLY, 0)
        if mbfd < 0 {
            let e = errno
            reporter.error("450 4.2.0", "Append \(path): \(Sys.errorText(e))", errno: e)
            return
        }
        var fsb = stat()
        if fstat(mbfd, &fsb) < 0 || fsb.st_nlink != 1 || sb.st_nlink != 1 || (fsb.st_mode & S_IFMT) != S_IFREG
            || sb.st_dev != fsb.st_dev || sb.st_ino != fsb.st_ino || sb.st_uid != fsb.st_uid {
            reporter.exitValue = SysExit.tempFail.rawValue
            reporter.error("550 5.2.0", "\(path): fstat: file changed after open")
            close(mbfd)
            return
        }

        // lockf(F_LOCK): an fcntl write lock from the current offset (0) to EOF and beyond.
        var fl = flock()
        fl.l_type = Int16(F_WRLCK)
        fl.l_whence = Int16(SEEK_CUR)
        fl.l_start = 0
        fl.l_len = 0
        while fcntl(mbfd, F_SETLKW, &fl) < 0 {
            let e = errno
            if e == EINTR { continue }
            reporter.error("450 4.2.0", "Lock \(path): \(Sys.errorText(e))", errno: e)
            close(mbfd)
            return
        }

        let (lockCode, lockErrno) = dotLock.acquire()
        if lockCode != 0 {
            var code = "551 5.3.0"
            if lockCode == SysExit.tempFail.rawValue || reporter.classify(lockCode) == SysExit.tempFail.rawValue {
                reporter.exitValue = SysExit.tempFail.rawValue
                code = "451 4.3.0"
            }
            reporter.error(code, "lockmailbox \(nameText) failed; error code \(lockCode) \(lockErrno > 0 ? Sys.errorText(lockErrno) : "")", errno: lockErrno)
            close(mbfd)
            return
        }

        let startOffset = lseek(mbfd, 0, SEEK_END)
        if case .file(let fd) = message.content, lseek(fd, 0, SEEK_SET) == -1 {
            let e = errno
            reporter.error("450 4.2.0", "Temporary file seek error: \(Sys.errorText(e))", errno: e)
            close(mbfd)
            return
        }

        func failAndTruncate() {
            if startOffset >= 0 { _ = ftruncate(mbfd, startOffset) }
            close(mbfd)
        }

        if let (e, isRead) = copy(message, to: mbfd) {
            if isRead {
                reporter.error("450 4.2.0", "Temporary file read error: \(Sys.errorText(e))", errno: e)
            } else {
                let code = (e == EDQUOT && reporter.bounceQuota) ? "552 5.2.2" : "450 4.2.0"
                reporter.error(code, "Write \(path): \(Sys.errorText(e))", errno: e)
            }
            failAndTruncate()
            return
        }
        if fsync(mbfd) < 0 {
            let e = errno
            reporter.error("450 4.2.0", "Sync \(path): \(Sys.errorText(e))", errno: e)
            failAndTruncate()
            return
        }
        var after = stat()
        let curSize = fstat(mbfd, &after) < 0 ? 0 : after.st_size
        dotLock.release()
        if close(mbfd) != 0 {
            let e = errno
            let code = (e == EDQUOT && reporter.bounceQuota) ? "552 5.2.2" : "450 4.2.0"
            reporter.error(code, "Close \(path): \(Sys.errorText(e))", errno: e)
            // Re-open and truncate only if nobody else changed the mailbox.
            let fd2 = open(path, O_WRONLY, 0)
            var st2 = stat()
            if fd2 >= 0, curSize != 0, fstat(fd2, &st2) == 0, st2.st_size == curSize,
               st2.st_dev == fsb.st_dev, st2.st_ino == fsb.st_ino {
                _ = ftruncate(fd2, startOffset)
            }
            if fd2 >= 0 { close(fd2) }
            return
        }
        biff?.notify(user: name, offset: Int(startOffset))
        if reporter.lmtpMode { reporter.out.append("250 2.1.5 \(nameText) Ok\r\n") }
    }

    /// Copies the stored message, inserting the Content-Length header after
    /// the headers.  Returns (errno, wasReadError) on failure.  The message
    /// goes out in one write(2) (up to 16 MB at a time): a process killed
    /// outright (SIGKILL, which leaves no chance to truncate) does not
    /// leave the headers of a message without its body in the mailbox.
    private func copy(_ m: StoredMessage, to out: Int32) -> (Int32, Bool)? {
        let fd: Int32
        switch m.content {
        case .memory(let bytes):
            guard m.bodyLength >= 0 else { return Sys.writeAll(out, bytes).map { ($0, false) } }
            var whole: [UInt8] = []
            whole.reserveCapacity(bytes.count + 32)
            whole += bytes[..<m.headerLength]
            whole += m.contentLengthHeader
            whole += bytes[m.headerLength...]
            return Sys.writeAll(out, whole).map { ($0, false) }
        case .file(let f):
            fd = f
        }
        var headerLeft = m.bodyLength >= 0 ? m.headerLength : -1
        var buf = [UInt8](repeating: 0, count: 65536)
        var pending: [UInt8] = []
        let limit = 16 << 20
        while true {
            if headerLeft == 0 {
                pending += m.contentLengthHeader
                headerLeft = -1
                continue
            }
            let want = (headerLeft > 0 && headerLeft < buf.count) ? headerLeft : buf.count
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, want) }
            if n < 0 { if errno == EINTR { continue }; return (errno, true) }
            if n == 0 { break }
            if headerLeft > 0 { headerLeft -= n }
            pending += buf[0..<n]
            if pending.count >= limit {
                if let e = Sys.writeAll(out, pending) { return (e, false) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        if let e = Sys.writeAll(out, pending) { return (e, false) }
        return nil
    }
}
