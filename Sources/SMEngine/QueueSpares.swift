// SMEngine/QueueSpares.swift
//
// Spare queue files: the qf and df of a message that left the queue are
// kept, emptied, as `.spare<N>` in their directory (N below `slots`,
// 16384 unless SENDMAIL_SWIFT_QUEUE_SPARES says otherwise; 0 turns this
// off), and a new message's df or tf is made by renaming a spare to its
// name instead of creating a file.  A message costs no inode allocation
// and no inode release while spares are there.  Why: creating a file is
// the dearest step of accepting a message when many files were deleted in
// the last minute (ext4 without a journal passes over every recently freed
// inode, and in the kernel the directory's lock is held meanwhile), and an
// MTA deletes two files a message.  The pool is large enough to hold the
// files of a backlog of 8,000 messages, so a burst that queued faster than
// it was delivered leaves its files for the next one; it only grows while
// a backlog drains (a retirement parks, nothing claims), so it holds about
// as many files as the queue held at its peak, never more than `slots`.
//
// Finding spares: the SMTP daemon is the collector.  Its delivery workers
// report each spare they park on a pipe the daemon gave them (a record of
// slot and directory), and the daemon claims those first; when it knows of
// none it reads the directory for `.spare` names: once a minute, or every
// 5 seconds while its claims keep finding nothing (reports lost to a full
// pipe).  It reads the pipe whenever it knows of no spare and every 32
// claims, and the pipe holds 1 MB (some 30,000 reports).
// Every other process (a command-line submission, a queue run of its own)
// probes a few slots from a random start, looking with a stat before it
// renames, so that a probe of an empty slot does not take the directory's
// lock in the kernel.  Parking always probes so (random start, a stat
// first), and reports the slot when it has a pipe to report on.
//
// Promises:
// - A spare is always empty (it is truncated before it gets a spare's
//   name) and is a regular file with one link, owned by us; a claimed file
//   that is not (or that another process still holds a flock on, such as
//   the delivery that retired it) is removed and a new file created.
// - Claiming never replaces a file: the rename fails with EEXIST when the
//   name is taken (renameat2 RENAME_NOREPLACE), exactly where
//   open(O_CREAT|O_EXCL) would, so queue IDs stay unique.  A report is
//   only a hint: a reported slot that is empty again (another process
//   claimed it) costs one failed rename, nothing else.
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
        if let v = getenv("SENDMAIL_SWIFT_QUEUE_SPARES"), let n = Int(String(cString: v)), n >= 0 { return min(n, 65536) }
        return 16384
    }()
    /// How many slots one probing claim or one retirement tries.
    static let probes = 6
    /// How many reported slots one claim tries before it gives up.
    static let reportedTries = 8
    /// The environment variable that gives a delivery worker the
    /// descriptor of its report pipe.
    public static let reportVariable = "SENDMAIL_SWIFT_SPARE_REPORTS"

    nonisolated(unsafe) static let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()
    /// Guarded by `mutex`: an xorshift state for where probes start.  No
    /// prober knows which slots are full: starting at a random slot, a
    /// claim finds a spare in one of its probes unless the pool is nearly
    /// empty (then the file is created) and a retirement finds a free slot
    /// unless it is nearly full (then the file is unlinked).
    nonisolated(unsafe) static var random: UInt64 = UInt64(UInt32(bitPattern: getpid())) << 32 | UInt64(time(nil) & 0xffff_ffff) | 1
    nonisolated(unsafe) static var unsupported = false
    nonisolated(unsafe) static var retireSequence = 0
    /// Guarded by `mutex`: after a probing claim that found no spare, the
    /// next `skipClaims` probing claims do not look (1, 2, 4 ... 32 after
    /// misses in a row; 0 again after a hit), so that an empty pool (a
    /// queue filling up) costs a few failed probes now and then, not six a
    /// file.
    nonisolated(unsafe) static var skipClaims = 0
    nonisolated(unsafe) static var missBackoff = 0

    // MARK: - Reports (the collector's state, guarded by `mutex`)

    /// The collector's read end of the report pipe (-1: not a collector).
    nonisolated(unsafe) static var reportRead: Int32 = -1
    /// The write end: the one the collector hands its workers, or in a
    /// worker the one it was given (-1: no reports).
    nonisolated(unsafe) static var reportWrite: Int32 = -1
    /// Where the pipe is read into (guarded by `mutex`).
    nonisolated(unsafe) static let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16384, alignment: 8)
    /// Bytes read from the pipe that do not make a whole record yet.
    nonisolated(unsafe) static var pendingReport: [UInt8] = []
    /// Directory -> slots reported (or found by a scan) to hold a spare.
    nonisolated(unsafe) static var known: [String: [Int32]] = [:]
    /// Directory -> when the collector last read it for spares.
    nonisolated(unsafe) static var lastScan: [String: time_t] = [:]
    /// Claims that found nothing known since the last scan.
    nonisolated(unsafe) static var missesSinceScan = 0
    /// Claims since the pipe was last read.
    nonisolated(unsafe) static var claimsSinceDrain = 0
    /// Seconds between two scans of one directory.
    static let scanInterval: time_t = 60

    /// Counts, for tests: claims served from a report or a scan, claims
    /// served by a probe, and claims that found nothing.
    nonisolated(unsafe) static var claimedKnown = 0
    nonisolated(unsafe) static var claimedProbed = 0
    nonisolated(unsafe) static var claimMisses = 0

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

    /// Where a probing claim starts, or nil when it does not look (spares
    /// off, or skipped after misses).
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

    /// A probing claim found a spare (the back-off ends) or found none (the
    /// next 1, 2, 4 ... 32 probing claims skip looking).
    static func noteClaim(found: Bool) {
        pthread_mutex_lock(mutex)
        missBackoff = found ? 0 : min(max(missBackoff * 2, 1), 32)
        if !found { skipClaims = missBackoff }
        if found { claimedProbed += 1 } else { claimMisses += 1 }
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

    /// For tests: `count` slots, no claims skipped, no reports known.
    static func setSlotsForTesting(_ count: Int) {
        pthread_mutex_lock(mutex)
        slots = count; skipClaims = 0; missBackoff = 0
        forgetKnownLocked()
        claimedKnown = 0; claimedProbed = 0; claimMisses = 0
        pthread_mutex_unlock(mutex)
    }

    /// For tests: the collector forgets every spare it knew of and when it
    /// last read the pipe and the directories.  Called with `mutex` held.
    static func forgetKnownLocked() {
        known = [:]; lastScan = [:]; pendingReport = []; missesSinceScan = 0; claimsSinceDrain = 0
    }

    /// For tests: this process stops being the collector.
    static func stopCollectingForTesting() {
        pthread_mutex_lock(mutex)
        if reportRead >= 0 { close(reportRead); close(reportWrite) }
        reportRead = -1; reportWrite = -1
        forgetKnownLocked()
        pthread_mutex_unlock(mutex)
    }

    static func noteUnsupported() {
        pthread_mutex_lock(mutex)
        unsupported = true
        pthread_mutex_unlock(mutex)
    }

    /// True if nothing has the name `path` (a stat, which takes no lock
    /// in the kernel, unlike a rename that fails).
    @inline(__always)
    static func absent(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) != 0 && errno == ENOENT
    }

    // MARK: - The report pipe

    /// Makes this process the collector: spares its workers park are
    /// reported on a pipe it reads.  Returns the pipe's write end for the
    /// workers (close-on-exec here; the spawn gives it to them), or nil
    /// when spares are off or no pipe could be made.
    public static func startCollecting() -> Int32? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard slots > 0 && !unsupported else { return nil }
        if reportRead >= 0 { return reportWrite }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        for f in fds {
            _ = fcntl(f, F_SETFD, FD_CLOEXEC)
            _ = fcntl(f, F_SETFL, fcntl(f, F_GETFL) | O_NONBLOCK)
        }
        // room for the reports of a whole pool (about 30 bytes each) parked
        // while the daemon claims nothing (a backlog being delivered after
        // a burst): 1 MB, the most an unprivileged process may set
        // (F_SETPIPE_SZ; the default 64 KB is kept where it is refused)
        _ = fcntl(fds[1], 1031 /* F_SETPIPE_SZ */, Int32(1 << 20))
        reportRead = fds[0]
        reportWrite = fds[1]
        return fds[1]
    }

    /// A delivery worker: reports go to `fd` (inherited from the daemon,
    /// made close-on-exec so that no mailer inherits it).  Anything but a
    /// pipe is ignored.
    public static func reportTo(fd: Int32) {
        var st = stat()
        guard fd >= 0, fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFIFO else { return }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        pthread_mutex_lock(mutex)
        reportWrite = fd
        pthread_mutex_unlock(mutex)
    }

    /// One report: the slot (4 bytes), the directory's length (2 bytes),
    /// the directory; one write, so records from several workers never mix
    /// (a pipe write of up to PIPE_BUF bytes is atomic).  A full pipe drops
    /// the report: the spare is found by the next scan.
    static func report(_ directory: String, _ slot: Int) {
        pthread_mutex_lock(mutex)
        let (rd, wr) = (reportRead, reportWrite)
        if rd >= 0 {
            // the collector parked it itself
            noteKnownLocked(directory, [Int32(slot)])
            pthread_mutex_unlock(mutex)
            return
        }
        pthread_mutex_unlock(mutex)
        if wr >= 0 { writeReport(wr, directory, slot) }
    }

    /// Writes one report record to `fd`.
    static func writeReport(_ fd: Int32, _ directory: String, _ slot: Int) {
        let dir = Array(directory.utf8)
        guard dir.count + 6 <= Int(PIPE_BUF) else { return }
        var record = [UInt8](repeating: 0, count: 6)
        let s = UInt32(slot), n = UInt16(dir.count)
        record[0] = UInt8(s & 0xff); record[1] = UInt8((s >> 8) & 0xff)
        record[2] = UInt8((s >> 16) & 0xff); record[3] = UInt8(s >> 24)
        record[4] = UInt8(n & 0xff); record[5] = UInt8(n >> 8)
        record += dir
        _ = record.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Adds slots to what the collector knows of `directory`, keeping at
    /// most `slots` of them (the oldest go: a directory it never claims in
    /// must not grow the list for ever).  Called with `mutex` held.
    static func noteKnownLocked(_ directory: String, _ new: [Int32]) {
        // (changed in place: a copy taken out of the dictionary would copy
        // the whole list at every report)
        known[directory, default: []].append(contentsOf: new)
        let excess = known[directory]!.count - max(slots, 1)
        if excess > 0 { known[directory]!.removeFirst(excess) }
    }

    /// The collector takes in what the pipe holds.  Called with `mutex`
    /// held.
    static func drainReportsLocked() {
        guard reportRead >= 0 else { return }
        while true {
            let n = read(reportRead, readBuffer.baseAddress, readBuffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            pendingReport += readBuffer[0..<n]
            if n < readBuffer.count { break }
        }
        var at = 0
        let p = pendingReport
        while p.count - at >= 6 {
            let slot = Int32(p[at]) | Int32(p[at + 1]) << 8 | Int32(p[at + 2]) << 16 | Int32(p[at + 3]) << 24
            let len = Int(p[at + 4]) | Int(p[at + 5]) << 8
            guard p.count - at - 6 >= len else { break }
            let dir = String(decoding: p[(at + 6)..<(at + 6 + len)], as: UTF8.self)
            if slot >= 0 && Int(slot) < slots { noteKnownLocked(dir, [slot]) }
            at += 6 + len
        }
        pendingReport = at == p.count ? [] : Array(p[at...])
    }

    /// The next slot of `directory` known to hold a spare, for the
    /// collector: from the reports, else from a scan of the directory when
    /// the last one is a minute old.  nil: none known (or not a collector).
    static func nextKnown(_ directory: String) -> Int? {
        pthread_mutex_lock(mutex)
        guard reportRead >= 0, slots > 0, !unsupported else { pthread_mutex_unlock(mutex); return nil }
        // (the pipe is read when nothing is known, and every 32 claims
        // anyway: a pipe left full would drop the workers' reports)
        claimsSinceDrain += 1
        if claimsSinceDrain >= 32 || known[directory]?.isEmpty ?? true {
            claimsSinceDrain = 0
            drainReportsLocked()
        }
        if let s = known[directory]?.popLast() { pthread_mutex_unlock(mutex); return Int(s) }
        // (a scan when the last is a minute old, or 5 s old when claims
        // have found nothing 64 times since: reports were lost)
        let now = time(nil)
        missesSinceScan += 1
        if let last = lastScan[directory], now - last < scanInterval && (now - last < 5 || missesSinceScan < 64) {
            pthread_mutex_unlock(mutex)
            return nil
        }
        missesSinceScan = 0
        lastScan[directory] = now
        let limit = slots
        pthread_mutex_unlock(mutex)
        let found = scan(directory, below: limit)
        pthread_mutex_lock(mutex)
        noteKnownLocked(directory, found)
        let s = known[directory]?.popLast()
        pthread_mutex_unlock(mutex)
        return s.map(Int.init)
    }

    /// The slots of the `.spare<N>` files in `directory` (N below `limit`).
    static func scan(_ directory: String, below limit: Int) -> [Int32] {
        guard let d = opendir(directory) else { return [] }
        defer { closedir(d) }
        let prefix = Array(".spare".utf8)
        var found: [Int32] = []
        while let entry = readdir(d) {
            let slot: Int? = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                guard raw.count > prefix.count, raw.prefix(prefix.count).elementsEqual(prefix) else { return nil }
                var n = 0, digits = 0
                for b in raw.dropFirst(prefix.count) {
                    if b == 0 { break }
                    guard b >= 0x30 && b <= 0x39, digits < 6 else { return nil }
                    n = n * 10 + Int(b - 0x30); digits += 1
                }
                return digits > 0 ? n : nil
            }
            if let s = slot, s < limit { found.append(Int32(s)) }
        }
        return found
    }

    // MARK: - Claiming and parking

    /// Renames a spare of `directory` to `path` and opens it for writing.
    /// Returns the descriptor (an empty file of ours, `mode`), -EEXIST when
    /// `path` exists (the ID is taken), or nil when no spare was found (the
    /// caller creates the file).
    static func claim(into path: String, directory: String, mode: mode_t) -> Int32? {
        // the collector: the slots it was told of
        var tries = 0
        while tries < reportedTries, let slot = nextKnown(directory) {
            tries += 1
            switch take(spareName(directory, slot), into: path, mode: mode) {
            case .taken(let fd):
                pthread_mutex_lock(mutex); claimedKnown += 1; pthread_mutex_unlock(mutex)
                return fd
            case .exists:
                // the ID is taken; the spare stays where it is
                pthread_mutex_lock(mutex); noteKnownLocked(directory, [Int32(slot)]); pthread_mutex_unlock(mutex)
                return -EEXIST
            case .gone: continue
            case .unusable: return nil
            }
        }
        if tries > 0 || isCollector {
            pthread_mutex_lock(mutex); claimMisses += 1; pthread_mutex_unlock(mutex)
            return nil
        }
        // anyone else: probe
        guard let (first, slots) = claimStart() else { return nil }
        for i in 0..<min(probes, slots) {
            let spare = spareName(directory, (first + i) % slots)
            if absent(spare) { continue }
            switch take(spare, into: path, mode: mode) {
            case .taken(let fd): noteClaim(found: true); return fd
            case .exists: return -EEXIST
            case .gone: continue
            case .unusable: noteClaim(found: true); return nil
            }
        }
        noteClaim(found: false)
        return nil
    }

    static var isCollector: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return reportRead >= 0
    }

    enum Take {
        case taken(Int32)   // renamed to the path and open
        case exists         // the path is taken
        case gone           // no spare by that name
        case unusable       // renamed but not fit (removed), or renames unsupported
    }

    /// Renames `spare` to `path` (never replacing it) and opens it, when
    /// it is an empty regular file of ours that nothing holds a lock on.
    static func take(_ spare: String, into path: String, mode: mode_t) -> Take {
        if sm_rename_noreplace(spare, path) != 0 {
            switch errno {
            case ENOENT: return .gone
            case EEXIST: return .exists
            case EINVAL, ENOSYS: noteUnsupported(); return .unusable
            default: return .unusable
            }
        }
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 { _ = unlink(path); return .unusable }
        var st = stat()
        if fstat(fd, &st) != 0 || (st.st_mode & S_IFMT) != S_IFREG || st.st_nlink != 1
            || st.st_uid != geteuid() || st.st_size != 0 || flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            _ = unlink(path)
            return .unusable
        }
        _ = flock(fd, LOCK_UN)
        _ = fchmod(fd, mode)
        return .taken(fd)
    }

    /// Gives `path` (empty, one link, no queue name any more) a spare's
    /// name in `directory`, or unlinks it when every slot tried is taken.
    static func park(_ path: String, directory: String) {
        pthread_mutex_lock(mutex)
        let (first, slots) = startLocked()
        pthread_mutex_unlock(mutex)
        for i in 0..<min(probes, slots) {
            let slot = (first + i) % slots
            let spare = spareName(directory, slot)
            if !absent(spare) { continue }
            if sm_rename_noreplace(path, spare) == 0 {
                report(directory, slot)
                return
            }
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
