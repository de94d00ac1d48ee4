// SMEngine/QueueSpares.swift
//
// Spare queue files: the qf and df of a message that left the queue are
// kept, emptied, as `.spare<N>` in their directory (N below `slots`,
// 128 unless SENDMAIL_SWIFT_QUEUE_SPARES says otherwise; 0 turns this off),
// and a new message's df or tf is made by renaming a spare to its name
// instead of creating a file.  A message costs no inode allocation and no
// inode release while spares are there.  Why: creating a file is the
// dearest step of accepting a message when many files were deleted in the
// last minute (ext4 without a journal passes over every recently freed
// inode, and in the kernel the directory's lock is held meanwhile), and
// an MTA deletes two files a message.
//
// Promises:
// - A spare is always empty (it is truncated before it gets a spare's
//   name) and is a regular file with one link, owned by us; a claimed file
//   that is not (or that another process still holds a flock on, such as
//   the delivery that retired it) is removed and a new file created.
// - Claiming never replaces a file: the rename fails with EEXIST when the
//   name is taken (renameat2 RENAME_NOREPLACE), exactly where
//   open(O_CREAT|O_EXCL) would, so queue IDs stay unique.
// - Retiring keeps sendmail's order and crash safety: the control file
//   leaves the queue's names first (renamed to `.retire<pid>-<n>`, then
//   emptied), so a crash at any point leaves either the whole message or
//   none of it, never an empty or partial qf; the df is emptied only once no
//   qf names it, and only when it has no other link (a list owner's clone
//   shares it).  A crash can leave a `.retire<pid>-<n>` file behind: it is
//   no queue file (sendmail and we read only qf, df, tf, xf, hf, Qf names),
//   and a later process with that pid reuses the name.
// - Where renameat2 is not supported (EINVAL, ENOSYS) spares are switched
//   off for the process and files are created and unlinked as before.
// - sendmail's queue readers skip the spares (their names start with a
//   dot), so a site can switch back with them in place.

import CLinux
import Glibc

public enum QueueSpares {
    /// Slots per directory (`.spare0` to `.spare<slots-1>`); guarded by
    /// `mutex` (tests change it).
    nonisolated(unsafe) static var slots: Int = {
        if let v = getenv("SENDMAIL_SWIFT_QUEUE_SPARES"), let n = Int(String(cString: v)), n >= 0 { return min(n, 4096) }
        return 128
    }()
    /// How many slots one claim or one retirement tries.
    static let probes = 6

    nonisolated(unsafe) static let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()
    /// Guarded by `mutex`: an xorshift state for where probes start.  The
    /// daemon claims and the delivery processes retire, each process on its
    /// own, so no process knows which slots are full: starting at a random
    /// slot, a claim finds a spare in one of its probes unless the pool is
    /// nearly empty (then the file is created) and a retirement finds a
    /// free slot unless it is nearly full (then the file is unlinked);
    /// with claims and retirements at the same rate the pool stays about
    /// half full and 1 in 64 of either misses.
    nonisolated(unsafe) static var random: UInt64 = UInt64(UInt32(bitPattern: getpid())) << 32 | UInt64(time(nil) & 0xffff_ffff) | 1
    nonisolated(unsafe) static var unsupported = false
    nonisolated(unsafe) static var retireSequence = 0
    /// Guarded by `mutex`: after a claim that found no spare, the next
    /// `skipClaims` claims do not look (1, 2, 4 ... 32 after misses in a
    /// row; 0 again after a hit), so that an empty pool (a queue filling
    /// up) costs a few failed renames now and then, not six a file.
    nonisolated(unsafe) static var skipClaims = 0
    nonisolated(unsafe) static var missBackoff = 0

    static var enabled: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return slots > 0 && !unsupported
    }

    static func spareName(_ directory: String, _ slot: Int) -> String {
        directory + "/.spare" + String(slot)
    }

    /// A random slot to start probing at, and the slot count (0: none).
    /// Called with `mutex` held.
    static func startLocked() -> (first: Int, slots: Int) {
        random ^= random << 13
        random ^= random >> 7
        random ^= random << 17
        return (slots > 0 ? Int(random % UInt64(slots)) : 0, slots)
    }

    /// Where a claim starts, or nil when it does not look (spares off, or
    /// skipped after misses).
    static func claimStart() -> (first: Int, slots: Int)? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if skipClaims > 0 {
            skipClaims -= 1
            return nil
        }
        guard slots > 0 && !unsupported else { return nil }
        return startLocked()
    }

    /// A claim found a spare (the back-off ends) or found none (the next
    /// 1, 2, 4 ... 32 claims skip looking).
    static func noteClaim(found: Bool) {
        pthread_mutex_lock(mutex)
        missBackoff = found ? 0 : min(max(missBackoff * 2, 1), 32)
        if !found { skipClaims = missBackoff }
        pthread_mutex_unlock(mutex)
    }

    /// A name of this process's own for a control file being emptied
    /// (threads of one process take turns through 64 of them).
    static func retireName(_ directory: String) -> String {
        pthread_mutex_lock(mutex)
        retireSequence = (retireSequence + 1) % 64
        let n = retireSequence
        pthread_mutex_unlock(mutex)
        return directory + "/.retire" + String(getpid()) + "-" + String(n)
    }

    /// For tests: `count` slots, no claims skipped.
    static func setSlotsForTesting(_ count: Int) {
        pthread_mutex_lock(mutex)
        slots = count; skipClaims = 0; missBackoff = 0
        pthread_mutex_unlock(mutex)
    }

    static func noteUnsupported() {
        pthread_mutex_lock(mutex)
        unsupported = true
        pthread_mutex_unlock(mutex)
    }

    /// Renames a spare of `directory` to `path` and opens it for writing.
    /// Returns the descriptor (an empty file of ours, `mode`), -EEXIST when
    /// `path` exists (the ID is taken), or nil when no spare was found (the
    /// caller creates the file).
    static func claim(into path: String, directory: String, mode: mode_t) -> Int32? {
        guard let (first, slots) = claimStart() else { return nil }
        for i in 0..<min(probes, slots) {
            let slot = (first + i) % slots
            if sm_rename_noreplace(spareName(directory, slot), path) != 0 {
                switch errno {
                case ENOENT: continue
                case EEXIST: return -EEXIST
                case EINVAL, ENOSYS: noteUnsupported(); return nil
                default: return nil
                }
            }
            noteClaim(found: true)
            let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
            if fd < 0 { _ = unlink(path); return nil }
            var st = stat()
            if fstat(fd, &st) != 0 || (st.st_mode & S_IFMT) != S_IFREG || st.st_nlink != 1
                || st.st_uid != geteuid() || st.st_size != 0 || flock(fd, LOCK_EX | LOCK_NB) != 0 {
                close(fd)
                _ = unlink(path)
                return nil
            }
            _ = flock(fd, LOCK_UN)
            _ = fchmod(fd, mode)
            return fd
        }
        noteClaim(found: false)
        return nil
    }

    /// Gives `path` (empty, one link, no queue name any more) a spare's
    /// name in `directory`, or unlinks it when every slot tried is taken.
    static func park(_ path: String, directory: String) {
        pthread_mutex_lock(mutex)
        let (first, slots) = startLocked()
        pthread_mutex_unlock(mutex)
        for i in 0..<min(probes, slots) {
            let slot = (first + i) % slots
            if sm_rename_noreplace(path, spareName(directory, slot)) == 0 { return }
            if errno != EEXIST {
                if errno == EINVAL || errno == ENOSYS { noteUnsupported() }
                break
            }
        }
        _ = unlink(path)
    }

    static func directoryOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// A message's files once it has left the queue: the control file
    /// first (the message is gone once its qf is), then the data file.
    /// Kept as spares where possible, else unlinked, as sendmail does.
    public static func retire(control qfPath: String, data dfPath: String) {
        guard enabled else {
            _ = unlink(qfPath)
            _ = unlink(dfPath)
            return
        }
        let qfDir = directoryOf(qfPath)
        let held = retireName(qfDir)
        if rename(qfPath, held) == 0 {
            if truncate(held, 0) == 0 { park(held, directory: qfDir) } else { _ = unlink(held) }
        } else {
            _ = unlink(qfPath)
        }
        var st = stat()
        if lstat(dfPath, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_nlink == 1, st.st_uid == geteuid(),
           truncate(dfPath, 0) == 0 {
            park(dfPath, directory: directoryOf(dfPath))
        } else {
            _ = unlink(dfPath)
        }
    }
}
