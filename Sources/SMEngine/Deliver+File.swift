// SMEngine/Deliver+File.swift
//
// The *file* mailer (and P=[FILE] mailers) as sendmail's mailfile()
// writes a message to a file: /dev/null takes it unwritten;
// SafeFileEnvironment (else the mailer's /= directory) works as a chroot
// (SafeRoot: the name loses that prefix and is looked up inside); the
// writer's ids are chosen as sendmail's child chooses them (fileIDs) and
// the checks run as that user: an existing file with an execute bit, more
// than one link (unless DontBlameSendmail=FileDeliveryToHardLink) or, in
// a safe environment, one that is not a regular file fails silently with
// EX_CANTCREAT; a symbolic link is refused unless FileDeliveryToSymlink;
// a file to create needs a directory the writer may write.  With -X the
// lines written go to the traffic log, as sendmail's child logs them.
// Promises: never writes as root (DefaultUser instead); no partial
// message is left in the file (cut back on a write or fsync error); the
// file's mode, set-user/group-ID bits included, is put back after writing.

import Glibc
import SMBase
import SMRules
import SMConfig
import SMQueueFormat
import SMMime

extension Engine {
    /// mailfile(): appends the message to the file the recipient names.
    /// /dev/null takes it unwritten.  With SafeFileEnvironment (else the
    /// mailer's /= directory) the name loses that prefix and is looked up
    /// inside it as sendmail's chroot() would (no way out by `..` or a
    /// symbolic link).  The writer's ids are chosen as sendmail's child
    /// chooses them (fileIDs); as that user the target is checked: an
    /// existing file with an execute bit, more than one link (unless
    /// DontBlameSendmail=FileDeliveryToHardLink) or, in a safe
    /// environment, one that is not a regular file fails silently with
    /// EX_CANTCREAT; a symbolic link is refused ("Symbolic links not
    /// allowed") unless FileDeliveryToSymlink; a missing file is created
    /// with mode 0600; an open error is printed as "cannot open <file>:
    /// <reason>" (EX_TEMPFAIL when transient, else EX_CANTCREAT).  The
    /// file's mode (set-user/group-ID bits included) is put back after
    /// writing; a write or fsync that fails (a full disk) cuts the file
    /// back to its old end and defers the recipient (EX_IOERR).
    func deliverToFile(_ q: QueuedRecipient, mailer m: Mailer, qf: QueueFile, data: [UInt8],
                       verbose: Bool, path given: [UInt8]? = nil) -> (Int32, String) {
        let name = given ?? stripQuotes(q.address.user)
        rewriter.macros[Int(UInt8(ascii: "h"))] = nil
        rewriter.macros[Int(UInt8(ascii: "u"))] = name
        defineSenderMacro(qf, mailer: m)
        if name == Array("/dev/null".utf8) { return (0, "") }
        // the safe environment and the name inside it
        var root: [UInt8]? = nil
        var real = name
        var envDir: [UInt8]? = nil
        if var sfe = config.options["SafeFileEnvironment"] {
            while sfe.last == UInt8(ascii: "/") { sfe.removeLast() }
            if !sfe.isEmpty { envDir = sfe }
        }
        if envDir == nil, let rd = m.rootDir { envDir = expandMacros(rd, rewriter.macros) }
        if let dir = envDir {
            var f = name[...]
            if f.starts(with: dir) { f = f.dropFirst(dir.count) }
            if f.first == UInt8(ascii: "/") { f = f.dropFirst() }
            root = dir
            real = (dir.last == UInt8(ascii: "/") ? [] : [UInt8(ascii: "/")]) + f
        }
        let target = (root ?? []) + real
        var st0 = stat()
        var mode: mode_t = stat(target.string, &st0) == 0 ? st0.st_mode : 0o600
        // only an alias may lend the file's set-user/group-ID bits
        if q.ctlUID != nil && q.expandedFrom == nil { mode &= ~(S_ISUID | S_ISGID) }
        let (uid, gid) = fileIDs(m, q, mode: mode, owner: (st0.st_uid, st0.st_gid))
        let dbs = config.options.dontBlame
        let symlinkOK = dbs.contains("filedeliverytosymlink")
        let hardLinkOK = dbs.contains("filedeliverytohardlink")

        // as the target user: check, then open
        let ngroups = getgroups(0, nil)
        var savedGroups = [gid_t](repeating: 0, count: Int(max(ngroups, 0)))
        _ = getgroups(ngroups, &savedGroups)
        let asRoot = geteuid() == 0
        var g = [gid]
        if asRoot { _ = setgroups(1, &g); _ = setegid(gid); _ = seteuid(uid) }
        let opened = openTarget(real, root: root, mode: &mode, symlinkOK: symlinkOK, hardLinkOK: hardLinkOK)
        if asRoot { _ = seteuid(0); _ = setegid(getgid()); _ = setgroups(savedGroups.count, &savedGroups) }
        let fd: Int32
        switch opened {
        case .silent:
            return (SysExit.cantCreat.rawValue, "")
        case .failed(let reason, let transient):
            let text = "cannot open \(real.string): \(reason)"
            if verbose { out.write(text + "\n") }
            return (transient ? SysExit.tempFail.rawValue : SysExit.cantCreat.rawValue, "")
        case .opened(let f):
            fd = f
        }
        defer { close(fd) }
        var msg = messageBytes(qf, mailer: m, data: data)
        // the separating blank line, after a complete last line only (as F=b;
        // a body decoded by mime7to8() always ends with one)
        let decoded = m.has("9") && !m.has("7") && MIME7to8.applies(header: mimeFields(qf))
        if (data.last == 0x0A || decoded) && !m.has("b") { msg += m.eol }
        _ = flock(fd, LOCK_EX)
        // (-X: the lines as written, as sendmail's putline() logs them in
        // its mailfile() child; no EXEC, no [EOF])
        trafficLog?.wroteMessage(msg)
        // on failure the file is cut back to where the message began: no
        // partial message is left in a mailbox (a full disk)
        let start = lseek(fd, 0, SEEK_END)
        func failed() -> (Int32, String) {
            if start >= 0 { _ = ftruncate(fd, start) }
            return (SysExit.ioErr.rawValue, "")
        }
        var off = 0
        while off < msg.count {
            let n = msg[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return failed() }
            off += n
        }
        if fsync(fd) != 0 && errno != EINVAL { return failed() }
        // writing cleared the set-user/group-ID bits: put the mode back
        _ = fchmod(fd, mode & 0o7777)
        return (0, "")
    }

    /// The uid/gid mailfile() writes a file as: for F=S the mailer's U=
    /// (else RunAsUser's ids); otherwise a set-user-ID file's owner, the
    /// controlling user (an alias's DefaultUser), U=, DefaultUser, and
    /// for the group a set-group-ID file's group, the controlling user's,
    /// U=, DefaultUser's; root is never used (DefaultUser instead).
    func fileIDs(_ m: Mailer, _ q: QueuedRecipient, mode: mode_t, owner: (uid_t, gid_t)) -> (uid_t, gid_t) {
        let (du, dg) = defaultIDs()
        let runAs = runAsIDs()
        var uid: uid_t, gid: gid_t
        // the controlling address (else the sender, when a local user)
        let ctl: (uid_t, gid_t)? = q.ctlUID.map { (uid_t($0), gid_t(q.ctlGID ?? 0)) } ?? q.senderIDs
        if m.has("S") {
            uid = m.uid >= 0 ? uid_t(m.uid) : runAs.uid
            gid = m.gid >= 0 ? gid_t(m.gid) : runAs.gid
        } else {
            if mode & S_ISUID != 0 { uid = owner.0 } else if let c = ctl, c.0 != 0 { uid = c.0 }
            else if m.uid >= 0 { uid = uid_t(m.uid) } else { uid = du }
            if mode & S_ISGID != 0 { gid = owner.1 } else if let c = ctl, c.0 == du, c.1 == 0 { gid = dg }
            else if let c = ctl, c.0 != 0 { gid = c.1 } else if m.gid >= 0 { gid = gid_t(m.gid) } else { gid = dg }
        }
        if uid == 0 { uid = du }
        if gid == 0 { gid = dg }
        return (uid, gid)
    }

    enum FileOpen { case opened(Int32), silent, failed(String, transient: Bool) }

    /// mailfile()'s checks and safefopen() on `real` (inside `root` when
    /// given); `mode` becomes the mode to put back after writing.
    func openTarget(_ real: [UInt8], root: [UInt8]?, mode: inout mode_t, symlinkOK: Bool, hardLinkOK: Bool) -> FileOpen {
        func text(_ e: Int32) -> String { String(cString: strerror(e)) }
        var dirFD: Int32 = AT_FDCWD
        var leaf = real
        // a link whose target is missing: the exclusive create fails
        // (EEXIST) as open() does on it outside a safe environment
        var leafIsLink = false
        if let root {
            switch SafeRoot.resolveParent(real, root: root) {
            case .success(let (fd, last)):
                dirFD = fd; leaf = last
            case .failure(let e):
                return .failed(text(e.code), transient: false)
            }
            var st = stat()
            leafIsLink = fstatat(dirFD, leaf.string, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
            if leafIsLink && symlinkOK, case .success(let (fd, last)) = SafeRoot.resolveParent(real, root: root, followLast: true) {
                // the link's target, if it exists
                if fstatat(fd, last.string, &st, 0) == 0 {
                    close(dirFD)
                    dirFD = fd; leaf = last; leafIsLink = false
                } else {
                    close(fd)
                }
            }
        }
        defer { if dirFD != AT_FDCWD { close(dirFD) } }
        var st = stat()
        // (a link left unresolved in a safe environment leads nowhere inside it)
        let err = leafIsLink && symlinkOK ? -1 : fstatat(dirFD, leaf.string, &st, symlinkOK ? 0 : AT_SYMLINK_NOFOLLOW)
        var flags = O_WRONLY | O_APPEND | O_CLOEXEC
        if err < 0 {
            // safefile(): a file to create needs a directory the writer may write
            var parent = "."
            if dirFD == AT_FDCWD {
                let slash = leaf.lastIndex(of: UInt8(ascii: "/"))
                parent = slash.map { $0 == 0 ? "/" : Array(leaf[..<$0]).string } ?? "."
            }
            if geteuid() != 0 && faccessat(dirFD, parent, W_OK, AT_EACCESS) != 0 && errno == EACCES {
                return .failed(text(EACCES), transient: false)
            }
            if leafIsLink { return .failed(text(EEXIST), transient: false) }
            mode = 0o600
            flags |= O_CREAT | O_EXCL
        } else if mode & (S_IXUSR | S_IXGRP | S_IXOTH) != 0 || (!hardLinkOK && st.st_nlink != 1)
                    || (root != nil && (mode & S_IFMT) != S_IFREG) {
            return .silent
        } else {
            mode = st.st_mode
        }
        if err == 0 && (st.st_mode & S_IFMT) == S_IFLNK { return .failed("Symbolic links not allowed", transient: false) }
        if !symlinkOK { flags |= O_NOFOLLOW }
        let fd = openat(dirFD, leaf.string, flags, 0o600)
        if fd < 0 {
            let e = errno
            // transienterror()
            let transient = [EIO, ENXIO, EAGAIN, ENOMEM, ENODEV, ENFILE, EMFILE, ENOSPC, ETIMEDOUT, ESTALE, ENOBUFS,
                             EDQUOT, ENOSR].contains(e)
            return .failed(e == ELOOP && !symlinkOK ? "Symbolic links not allowed" : text(e), transient: transient)
        }
        return .opened(fd)
    }
}
