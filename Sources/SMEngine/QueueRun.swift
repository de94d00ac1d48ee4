// SMEngine/QueueRun.swift
//
// One queue run (`sendmail -q`, `-qf`, `-qI/-qR/-qS` with `!` negation,
// `-v`): lists the qf files of QueueDirectory (or its qf/ subdirectory),
// selects them (MinQueueAge unless a selection is given), orders them by
// priority (ties in directory order, as sendmail's stable sort leaves
// them), cuts the list at MaxQueueRunSize, and for each one takes an
// exclusive non-blocking flock (a locked entry is reported by -v and
// skipped), reads it, delivers it (Deliver.swift) and then either removes
// qf and df (all recipients done) or rewrites the qf with the remaining
// recipients and the new K/N/P/I/M values.  A qf that cannot be read is
// reported and renamed to Qf as sendmail's loseqfile() does.  A plain
// `-q` (no -v, no -qf) runs in a detached copy of ourselves started with
// `-qf`, as sendmail forks; `-q<time>` and `-qp` are refused (not written).
// Permanently failed recipients are returned to the sender first
// (Bounce.swift).
// Not yet: QueueSortOrder host/random/modification (priority is used), queue
// groups, -qG/-qQ/-qL.
// Promises: a qf is only ever replaced by tf -> fsync -> rename -> fsync
// of the directory while its lock is held, so a crash or kill leaves the
// old qf and the df intact; the df is never modified.

import Glibc
import SMBase
import SMRules
import SMQueueFormat

/// `-q` arguments: [!]I/R/S substring selections (same letter ORs,
/// different letters AND); IDs compare exactly, addresses without case.
public struct QueueSelection {
    public struct Item { public var letter: UInt8; public var negate: Bool; public var text: [UInt8] }
    public var items: [Item] = []
    public init(_ args: [[UInt8]]) {
        for a in args {
            var s = a[...]
            var neg = false
            if s.first == UInt8(ascii: "!") { neg = true; s = s.dropFirst() }
            guard let l = s.first, [UInt8(ascii: "I"), UInt8(ascii: "R"), UInt8(ascii: "S")].contains(l) else { continue }
            items.append(Item(letter: l, negate: neg, text: Array(s.dropFirst())))
        }
    }

    public var isEmpty: Bool { items.isEmpty }

    static func contains(_ hay: [UInt8], _ needle: [UInt8], foldCase: Bool = true) -> Bool {
        if needle.isEmpty { return true }
        let h = foldCase ? hay.asciiLowercased : hay, n = foldCase ? needle.asciiLowercased : needle
        guard h.count >= n.count else { return false }
        for i in 0...(h.count - n.count) where Array(h[i..<(i + n.count)]) == n { return true }
        return false
    }

    /// Whether an entry with this id, sender and recipients is selected.
    public func matches(id: [UInt8], sender: [UInt8], recipients: [[UInt8]]) -> Bool {
        for letter in [UInt8(ascii: "I"), UInt8(ascii: "R"), UInt8(ascii: "S")] {
            let group = items.filter { $0.letter == letter }
            if group.isEmpty { continue }
            let any = group.contains { item in
                let hit: Bool
                switch letter {
                case UInt8(ascii: "I"): hit = Self.contains(id, item.text, foldCase: false)  // IDs are case-sensitive
                case UInt8(ascii: "S"): hit = Self.contains(sender, item.text)
                default: hit = recipients.contains { Self.contains($0, item.text) }
                }
                return item.negate ? !hit : hit
            }
            if !any { return false }
        }
        return true
    }
}

extension Engine {
    /// sendmail's convtime for option values ("30m", "1h", default unit s).
    public static func seconds(_ s: [UInt8]) -> Int {
        var total = 0, cur = 0
        for b in s {
            if isASCIIDigit(b) { cur = cur * 10 + Int(b - 0x30); continue }
            switch b {
            case UInt8(ascii: "w"): total += cur * 604800
            case UInt8(ascii: "d"): total += cur * 86400
            case UInt8(ascii: "h"): total += cur * 3600
            case UInt8(ascii: "m"): total += cur * 60
            default: total += cur
            }
            cur = 0
        }
        return total + cur
    }

    /// Runs the queue once; returns the exit status.
    public func runQueue(arguments: [[UInt8]]) -> SysExit {
        let verbose = self.verbose
        guard let dirBytes = config.options["QueueDirectory"], !dirBytes.isEmpty else {
            rewriter.systemError("QueueDirectory (Q) option must be set")
            return .config
        }
        let dir = dirBytes.string
        guard chdir(dir) == 0 else {
            rewriter.systemError("can not chdir(\(dir)): \(String(cString: strerror(errno)))")
            return .config
        }
        signal(SIGPIPE, SIG_IGN)
        let (qfSub, dfSub) = QueueCommitter(directory: dir).subdirectories
        let qfDir = qfSub ? dir + "/qf" : dir
        let selection = QueueSelection(arguments)
        let minAge = Self.seconds(config.options["MinQueueAge"] ?? [])
        let now = time(nil)

        // orderq: read every qf to select and sort
        let names = controlFileNames(in: qfDir)
        var work: [(id: [UInt8], priority: Int64, ctime: Int64)] = []
        for name in names {
            let id = Array(name.utf8.dropFirst(2))
            let fd = open(qfDir + "/" + name, O_RDONLY | O_CLOEXEC)
            if fd < 0 { continue }
            let bytes = readAll(fd)
            close(fd)
            guard let qf = try? QueueFileReader.decode(bytes) else {
                work.append((id, 0, 0))   // read again (and lost) below
                continue
            }
            if !selection.matches(id: id, sender: qf.sender, recipients: qf.recipients.map { $0.address }) { continue }
            if selection.isEmpty && minAge > 0 && qf.attempts > 0 && Int64(now) - qf.lastAttempt < Int64(minAge) {
                continue
            }
            work.append((id, qf.priority, qf.creationTime))
        }
        // QueueSortOrder: priority (default), time (creation time),
        // filename (queue ID), none (directory order).  Equal keys keep the
        // directory's order: glibc's qsort is a stable merge sort.
        let order = (config.options["QueueSortOrder"] ?? []).asciiLowercased.first
        work = work.enumerated().sorted { a, b in
            let x = a.element, y = b.element
            switch order {
            case UInt8(ascii: "n"): return a.offset < b.offset
            case UInt8(ascii: "f"):
                return x.id != y.id ? x.id.lexicographicallyPrecedes(y.id) : a.offset < b.offset
            case UInt8(ascii: "t"):
                return x.ctime != y.ctime ? x.ctime < y.ctime : a.offset < b.offset
            default:
                return x.priority != y.priority ? x.priority < y.priority : a.offset < b.offset
            }
        }.map { $0.element }
        // MaxQueueRunSize: only the first N jobs of the sorted list
        if let v = config.options["MaxQueueRunSize"], let maxRun = Int(v.string), maxRun > 0, work.count > maxRun {
            work = Array(work.prefix(maxRun))
        }

        for (n, job) in work.enumerated() {
            let qfPath = qfDir + "/qf" + job.id.string
            let dfPath = (dfSub ? dir + "/df" : dir) + "/df" + job.id.string
            let fd = open(qfPath, O_RDWR | O_CLOEXEC)
            if fd < 0 { continue }
            if verbose {
                // sendmail names the job by the data file's directory
                let shown = dfSub ? dir + "/df" : dir
                out.write("\nRunning \(shown)/\(job.id.string) (sequence \(n + 1) of \(work.count))\n")
                out.flush()
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                if verbose { out.write("\(job.id.string): locked\n") }
                close(fd)
                continue
            }
            defer { close(fd) }
            // the run's exit status is the last job's (each job starts clean)
            exitStatus = .ok
            let bytes = readAll(fd)
            let qf: QueueFile
            do {
                qf = try QueueFileReader.decode(bytes)
            } catch {
                // queuename(): relative to the queue directory
                let name = Array(((qfSub ? "qf/" : "./") + "qf" + job.id.string).utf8)
                let text = error.message(fileName: name)
                if !text.isEmpty { rewriter.systemError(text.string) }
                if error.loseReason != nil {
                    _ = rename(qfPath, qfDir + "/Qf" + job.id.string)
                }
                continue
            }
            let dfd = open(dfPath, O_RDONLY | O_CLOEXEC)
            if dfd < 0 {
                // no data file: nothing can be delivered; keep the qf
                rewriter.systemError("readqf: cannot open \(dfPath): \(String(cString: strerror(errno)))")
                continue
            }
            let data = readAll(dfd)
            var dst = stat()
            _ = fstat(dfd, &dst)
            close(dfd)
            var outcome = deliver(qf, id: job.id, data: data, verbose: verbose, now: time(nil))
            // the bounce (or return receipt) is queued (durably) before the original goes
            if !outcome.failures.isEmpty,
               !returnToSender(qf, id: job.id, data: data, outcome: &outcome, qdir: dir, verbose: verbose, now: time(nil)) {
                // the bounce could not be queued: the message stays as it
                // was (its deliveries are repeated later, never lost)
                continue
            }
            if outcome.remaining.isEmpty {
                // everything done: remove the control file first, then the data
                _ = unlink(qfPath)
                _ = unlink(dfPath)
                continue
            }
            guard outcome.attempted else { continue }
            var updated = qf
            updated.recipients = keepRecipients(qf, outcome.remaining)
            updated.lastAttempt = Int64(time(nil))
            updated.attempts += 1
            let retry = Int64(config.options["RetryFactor"].flatMap { Int($0.string) } ?? 90000)
            updated.priority += retry
            let dev = UInt64(dst.st_dev)
            let major = Int64((dev >> 8) & 0xfff) | Int64((dev >> 32) & ~UInt64(0xfff))
            let minor = Int64(dev & 0xff) | Int64((dev >> 12) & ~UInt64(0xff))
            updated.dataInode = QueueFile.DataInode(major: major, minor: minor, inode: UInt64(dst.st_ino))
            if let m = outcome.message { updated.message = m }
            if !rewriteControlFile(updated, id: job.id, qfPath: qfPath, qfDir: qfDir) {
                rewriter.systemError("cannot rewrite \(qfPath): \(String(cString: strerror(errno)))")
            }
        }
        return exitStatus
    }

    /// The kept recipients with their C lines recomputed, so that each
    /// keeps the controlling user it had.
    func keepRecipients(_ qf: QueueFile, _ keep: [Int]) -> [QueueFile.Recipient] {
        var effective: [QueueFile.ControllingUser?] = []
        var ctl: QueueFile.ControllingUser? = nil
        for r in qf.recipients {
            switch r.controlLine {
            case .reset?: ctl = nil
            case .user(let u)?: ctl = u
            case nil: break
            }
            effective.append(ctl)
        }
        var out: [QueueFile.Recipient] = []
        var last: QueueFile.ControllingUser? = nil
        for i in keep {
            var r = qf.recipients[i]
            let e = effective[i]
            if e != last {
                r.controlLine = e.map { .user($0) } ?? .reset
            } else {
                r.controlLine = nil
            }
            last = e
            out.append(r)
        }
        return out
    }

    /// tf -> fsync -> rename over qf -> fsync of the directory.
    func rewriteControlFile(_ qf: QueueFile, id: [UInt8], qfPath: String, qfDir: String) -> Bool {
        let tfPath = qfDir + "/tf" + id.string
        var mode: mode_t = 0o600
        if let m = config.options["QueueFileMode"], let v = UInt32(m.string, radix: 8) { mode = mode_t(v) }
        let fd = open(tfPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { return false }
        _ = flock(fd, LOCK_EX)
        let bytes = QueueFileWriter.encode(qf)
        var off = 0
        var ok = true
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; ok = false; break }
            off += n
        }
        if ok && fsync(fd) != 0 { ok = false }
        if !ok { close(fd); _ = unlink(tfPath); return false }
        if rename(tfPath, qfPath) != 0 { close(fd); _ = unlink(tfPath); return false }
        close(fd)
        let dfd = open(qfDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
        return true
    }
}

extension Engine {
    /// What the `-q` arguments ask for: one run now in the foreground
    /// (`-v`, `-qf`), one run in a background process (plain `-q`, or
    /// only selections), or a periodic/persistent runner (not written).
    public enum QueueRunMode: Equatable { case foreground, background, periodic }

    public func queueRunMode(_ arguments: [[UInt8]]) -> QueueRunMode {
        var mode: QueueRunMode = verbose ? .foreground : .background
        for a in arguments {
            guard let c = a.first else { continue }
            if c == UInt8(ascii: "f") { mode = .foreground }
            if c == UInt8(ascii: "p") { return .periodic }
            if isASCIIDigit(c) && Self.seconds(a) > 0 { return .periodic }
        }
        return mode
    }

    /// sendmail forks a child for a plain `-q` and returns at once; we
    /// start ourselves again with `-qf` (fork without exec is not safe in
    /// Swift), detached in a new session with stdio on /dev/null.
    /// Returns false when the process cannot be started.
    public static func startBackgroundQueueRun(arguments: [[UInt8]]) -> Bool {
        var actions = posix_spawn_file_actions_t()
        var attr = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attr)
        defer { posix_spawn_file_actions_destroy(&actions); posix_spawnattr_destroy(&attr) }
        for fd: Int32 in 0...2 {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        posix_spawnattr_setflags(&attr, 0x80)  // POSIX_SPAWN_SETSID (glibc)
        let argv = Array(arguments.dropFirst()) + [Array("-qf".utf8)]
        var cArgs: [UnsafeMutablePointer<CChar>?] = ([Array("sendmail".utf8)] + argv).map { bytes in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
            p[bytes.count] = 0
            return p
        }
        cArgs.append(nil)
        defer { for p in cArgs { p?.deallocate() } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/proc/self/exe", &actions, &attr, cArgs, environ)
        return rc == 0
    }
}
