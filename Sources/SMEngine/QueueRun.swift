// SMEngine/QueueRun.swift
//
// One queue run (`sendmail -q`, `-qf`, `-qI/-qR/-qS` with `!` negation,
// `-qG<group>`, `-v`): skipped when the load average holds all work back
// (QueueLA, QueueFactor); runs the queue groups by sendmail's work groups
// (QueueGroups.swift: most runners first; as many work groups as
// MaxQueueChildren allows, each taking its groups in turn): without -v,
// several work groups (or groups) each run in a child of ours at the same
// time, and a group with F=f has its jobs done by up to R= runner
// children, each taking every R-th job of the ordered list (sendmail's
// runner_work), the parent waiting for them (SIGTERM passed on); with -v
// everything runs here, in order.  A group's N= is added to our niceness
// before its jobs.  A periodic runner's run may be told which groups are
// due (their I=, QueueDaemon.swift); the others are left alone.  For each queue group (mailers always run in
// QueueDirectory) it lists the qf files
// of its directory (or its qf/ subdirectory), selects them (MinQueueAge unless a selection is given), orders them as
// QueueSortOrder says (QueueOrder.swift) after cutting the directory's
// list at MaxQueueRunSize, and for each one takes an
// exclusive non-blocking flock (a locked entry is reported by -v and
// skipped), and delivers it with deliverLockedEntry (QueueEntry.swift,
// shared with deliveries at submission): qf and df removed when all
// recipients are done, else the qf rewritten with the remaining recipients
// and the new K/N/P/I/M values; a qf that cannot be read is reported and
// renamed to Qf as sendmail's loseqfile() does.  A plain
// `-q` (no -v, no -qf) runs in a detached copy of ourselves started with
// `-qf`, as sendmail forks; `-q<time>` and `-qp` start a detached runner
// that repeats such runs (QueueDaemon.swift).
// Permanently failed recipients are returned to the sender first
// (Bounce.swift).  Each mailer call is logged (MailLog.swift).
// Older than Timeout.queuewarn, the sender gets one delay warning; older
// than Timeout.queuereturn, what is left is returned (QueueTimeouts.swift,
// applyAgeLimits below).
// A job's transcript longer than XscriptFileBufferSize is also kept in
// xf<id> until the job is done (Transcript.swift).
// CheckpointInterval (default 10): after that many recipients delivered,
// with others still to try, the qf is replaced by one without them (its tf
// written and fsynced before the mailer runs, renamed as soon as it
// succeeds), so a crash repeats at most the deliveries since the last
// checkpoint.  A tf left by
// a killed rewrite is taken over (it is not locked by anyone).
// Decisions: child runs are copies of ourselves started with the run's
// command line (fork without exec is not safe in Swift): a work group's is
// told its index, a runner is handed its job IDs on a pipe (descriptor 3);
// a run that forks children exits 0 whatever its jobs did (sendmail's
// parent does not collect their status).
// Above LogLevel 69 each group's run is logged ("runqueue <dir>, pid=,
// forkflag=" 1 in a work group's own process).  The work list's log lines
// as sendmail's: "grew WorkList for <dir> to
// <n>" each 1000 entries past the first 1000 (LogLevel above 1), "WorkList
// for <dir> maxed out at <MaxQueueRunSize>" (LogLevel above 0).
// -qQ and -qL runs take the quarantined (hf) or lost (Qf) entries
// instead of the qf ones (Engine.controlPrefix), as sendmail's QueueMode.
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
        foldCase ? hay.asciiLowercased.containsBytes(needle.asciiLowercased) : hay.containsBytes(needle)
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

    /// The environment variables that make a `-qf` run one work group of
    /// the run that started it (its index), or one runner's share of a
    /// queue group's jobs (read from descriptor 3).
    public static let workGroupVariable = "SENDMAIL_SWIFT_WORK_GROUP"
    public static let runnerShareVariable = "SENDMAIL_SWIFT_RUNNER_SHARE"
    /// The environment variable naming the queue groups (comma-separated)
    /// a periodic runner's run is for (the others are not due yet).
    public static let dueGroupsVariable = "SENDMAIL_SWIFT_DUE_GROUPS"

    /// Runs the queue once (every queue group, or the one `-qG<name>`
    /// names); returns the exit status.  The groups are run by work
    /// groups (QueueGroups.swift), in order, as long as their runners fit
    /// in MaxQueueChildren; without -v, several work groups (or several
    /// groups in one) are each run by a child of ours, at the same time.
    public func runQueue(arguments: [[UInt8]]) -> SysExit {
        guard let dirBytes = config.options["QueueDirectory"], !dirBytes.isEmpty else {
            rewriter.systemError("QueueDirectory (Q) option must be set")
            return .config
        }
        let bounceDirectory = dirBytes.string
        // a -qI run standing in for the SMTP daemon's delivery worker: its
        // bounces name the session's client (Received-From-MTA)
        if let v = getenv(Self.sessionClientVariable) {
            realHostName = Array(String(cString: v).utf8)
            unsetenv(Self.sessionClientVariable)
        }
        // -qQ runs the quarantined entries (hf), -qL the lost ones (Qf),
        // as sendmail's QueueMode: delivered as any other; one deferred
        // keeps its kind of control file
        if arguments.contains(where: { $0.first == UInt8(ascii: "Q") }) { controlPrefix = "hf" }
        else if arguments.contains(where: { $0.first == UInt8(ascii: "L") }) { controlPrefix = "Qf" }
        // (the SMTP sessions the run's jobs opened end with the run)
        defer { if !smtpConnections.isEmpty { closeSMTPConnections(verbose: verbose) } }
        if getenv(Self.runnerShareVariable) != nil {
            unsetenv(Self.runnerShareVariable)
            return runRunnerShare(fd: 3, bounceDirectory: bounceDirectory)
        }
        var workGroupIndex: Int? = nil
        if let v = getenv(Self.workGroupVariable) {
            workGroupIndex = Int(String(cString: v))
            unsetenv(Self.workGroupVariable)
        }
        var groups = queueGroupRuns()
        let work = workGroups(&groups)
        var due: Set<Int>? = nil
        if let v = getenv(Self.dueGroupsVariable) {
            let names = String(cString: v).split(separator: ",").map { Array($0.utf8) }
            due = Set(groups.indices.filter { names.contains(groups[$0].name) })
            unsetenv(Self.dueGroupsVariable)
        }
        let dueNames = due.map { d in [(Self.dueGroupsVariable, d.sorted().map { groups[$0].name.string }.joined(separator: ","))] } ?? []
        var only: Int? = nil
        if let g = arguments.last(where: { $0.first == UInt8(ascii: "G") }) {
            let name = Array(g.dropFirst())
            guard let k = groups.firstIndex(where: { $0.name == name }) else {
                rewriter.userError("Queue group \(name.string) unknown")
                return exitStatus
            }
            only = k
        }
        // no work would be taken at this load: the run is skipped
        if shouldQueue(priority: Int64(intOption("RecipientFactor", 30000))) {
            let text = "Skipping queue run -- load average too high"
            if verbose { out.write(text + "\n\n") }
            if logLevel > 8 { logSink?.log(priority: LOG_INFO, "runqueue: " + text) }
            return exitStatus
        }
        // -qG: that group's work group, that group only, even with R=0
        if let k = only, let wg = work.first(where: { $0.members.contains(k) }) {
            return runWorkGroup(wg, groups: groups, only: [k], force: true, arguments: arguments, bounceDirectory: bounceDirectory)
        }
        if let w = workGroupIndex, work.indices.contains(w) {
            return runWorkGroup(work[w], groups: groups, only: due, force: false, forked: true, arguments: arguments,
                                bounceDirectory: bounceDirectory)
        }
        let forks = !verbose && (work.count > 1 || work[0].members.count > 1)
        let most = atoiOption("MaxQueueChildren", 0)
        var active = 0
        var status = SysExit.ok
        var children: [pid_t] = []
        for (w, wg) in work.enumerated() {
            if most > 0 && active + wg.maxActive > most { break }
            active += wg.maxActive
            // (a periodic runner's run: the groups not due are left alone)
            if let due, !wg.members.contains(where: { due.contains($0) }) { continue }
            if forks {
                if let pid = Self.spawnSelf(Self.runnerArguments(), detach: false,
                                            environment: [(Self.workGroupVariable, String(w))] + dueNames) {
                    children.append(pid)
                } else if logLevel > 8 {
                    logSink?.log(priority: LOG_INFO, "runqueue: Skipping queue run -- fork() failed: \(String(cString: strerror(errno)))")
                }
            } else {
                status = runWorkGroup(wg, groups: groups, only: due, force: false, arguments: arguments,
                                      bounceDirectory: bounceDirectory)
                if status == .config { return status }
            }
        }
        Self.waitForRunners(children)
        return status
    }

    /// Our command line for a child run: as the run's (`-q<time>` as
    /// `-qf`), in the foreground.
    static func runnerArguments() -> [[UInt8]] {
        var argv = runArguments(Swift.CommandLine.arguments.map { Array($0.utf8) })
        if !argv.contains(Array("-qf".utf8)) { argv.append(Array("-qf".utf8)) }
        return argv
    }

    /// Waits for the runners started; SIGTERM or SIGINT meanwhile is
    /// passed on to them (as sendmail's runners_sigterm), and they are
    /// still waited for.
    static func waitForRunners(_ started: [pid_t]) {
        guard !started.isEmpty else { return }
        var set = sigset_t(), old = sigset_t()
        sigemptyset(&set)
        for s in [SIGTERM, SIGINT, SIGCHLD] { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        var left = Set(started)
        while !left.isEmpty {
            for pid in left {
                var st: Int32 = 0
                let r = waitpid(pid, &st, WNOHANG)
                if r == pid || (r < 0 && errno == ECHILD) { left.remove(pid) }
            }
            if left.isEmpty { break }
            var info = siginfo_t()
            var wait = timespec(tv_sec: 1, tv_nsec: 0)
            let sig = sigtimedwait(&set, &info, &wait)
            if sig == SIGTERM || sig == SIGINT {
                for pid in left { kill(pid, SIGTERM) }
            }
        }
    }

    /// One work group: its queue groups one after the other (`only`: those
    /// alone).  Each group's niceness is added (N=), its jobs listed
    /// and ordered; without -v a group with F=f has them done by up to R=
    /// runners at once, children of ours each taking every R-th job
    /// (sendmail's runner_work), and waits for them; else they are done
    /// here when it has runners (or is forced by -qG).
    func runWorkGroup(_ wg: WorkGroup, groups: [QueueGroupRun], only: Set<Int>?, force: Bool, forked: Bool = false,
                      arguments: [[UInt8]], bounceDirectory: String) -> SysExit {
        var status = SysExit.ok
        for k in wg.members where only?.contains(k) ?? true {
            let g = groups[k]
            if g.nice > 0 { _ = nice(Int32(clamping: g.nice)) }
            if logLevel > 69 {
                let shown = QueueCommitter(directory: g.path).subdirectories.df ? g.path + "/df" : g.path
                logSink?.log(priority: LOG_DEBUG, "runqueue \(shown), pid=\(getpid()), forkflag=\(forked ? 1 : 0)")
            }
            guard let jobs = gatherQueue(g.path, arguments: arguments, bounceDirectory: bounceDirectory) else { return .config }
            if !verbose && g.forks {
                var n = g.runners
                if n == 0 && force { n = 1 }
                n = min(n, jobs.count)
                var children: [pid_t] = []
                for r in 0..<max(n, 0) {
                    let share = stride(from: r, to: jobs.count, by: n).map { jobs[$0].id }
                    if let pid = startRunner(directory: g.path, ids: share) { children.append(pid) }
                }
                Self.waitForRunners(children)
            } else if g.runners > 0 || force {
                status = deliverJobs(jobs.map { $0.id }, directory: g.path, bounceDirectory: bounceDirectory)
                if status == .config { return status }
            }
        }
        return status
    }

    /// A runner child for `ids` of the group in `directory` (given on a
    /// pipe: the directory, then one ID a line).
    func startRunner(directory: String, ids: [[UInt8]]) -> pid_t? {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let pid = Self.spawnSelf(Self.runnerArguments(), detach: false,
                                 environment: [(Self.runnerShareVariable, "3")], passing: fds[0])
        close(fds[0])
        if pid != nil {
            var text = Array(directory.utf8) + [0x0A]
            for id in ids { text += id + [0x0A] }
            var off = 0
            while off < text.count {
                let n = text[off...].withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
                if n < 0 { if errno == EINTR { continue }; break }
                off += n
            }
        } else if logLevel > 0 {
            logSink?.log(priority: LOG_ERR, "run_work_group: cannot fork: \(String(cString: strerror(errno)))")
        }
        close(fds[1])
        return pid
    }

    /// A runner child's share: the jobs its parent gave on `fd`.
    func runRunnerShare(fd: Int32, bounceDirectory: String) -> SysExit {
        let text = readAll(fd)
        close(fd)
        let lines = text.split(separator: 0x0A).map { Array($0) }
        guard let dir = lines.first else { return .ok }
        var st = stat()
        guard stat(dir.string, &st) == 0, chdir(bounceDirectory) == 0 else { return .config }
        signal(SIGPIPE, SIG_IGN)
        return deliverJobs(Array(lines.dropFirst()), directory: dir.string, bounceDirectory: bounceDirectory)
    }

    /// One queue group's directory, listed, selected and ordered (nil
    /// after the error when it cannot be used).
    func gatherQueue(_ dir: String, arguments: [[UInt8]], bounceDirectory: String) -> [QueueJobKey]? {
        // (mailers run in QueueDirectory whatever the group, as sendmail's)
        var st = stat()
        guard stat(dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, chdir(bounceDirectory) == 0 else {
            rewriter.systemError("can not chdir(\(dir)): \(String(cString: strerror(errno)))")
            return nil
        }
        signal(SIGPIPE, SIG_IGN)
        let (qfSub, _) = QueueCommitter(directory: dir).subdirectories
        let qfDir = qfSub ? dir + "/qf" : dir
        let selection = QueueSelection(arguments)
        let minAge = Self.seconds(config.options["MinQueueAge"] ?? [])
        let now = time(nil)

        // gatherq: read every qf to select and sort; sendmail's work list
        // grows by 1000 entries (logged) and stops at MaxQueueRunSize (logged)
        let shown = QueueCommitter(directory: dir).subdirectories.df ? dir + "/df" : dir
        var byID = selection
        byID.items = byID.items.filter { $0.letter == UInt8(ascii: "I") }
        let maxRun = config.options["MaxQueueRunSize"].flatMap { Int($0.string) } ?? 0
        let names = controlFileNames(in: qfDir, prefix: controlPrefix)
        var work: [QueueJobKey] = []
        for name in names {
            let id = Array(name.utf8.dropFirst(2))
            if !byID.matches(id: id, sender: [], recipients: []) { continue }
            if maxRun > 0 && work.count >= maxRun {
                if logLevel > 0 { logSink?.log(priority: LOG_WARNING, "WorkList for \(shown) maxed out at \(maxRun)") }
                break
            }
            if work.count >= Self.workListSize {
                if Self.workListSize == 0 {
                    Self.workListSize = 1000
                } else {
                    Self.workListSize += 1000
                    if logLevel > 1 { logSink?.log(priority: LOG_INFO, "grew WorkList for \(shown) to \(Self.workListSize)") }
                }
            }
            let fd = open(qfDir + "/" + name, O_RDONLY | O_CLOEXEC)
            if fd < 0 { continue }
            let bytes = readAll(fd)
            var st = stat()
            _ = fstat(fd, &st)
            close(fd)
            guard let qf = try? QueueFileReader.decode(bytes) else {
                work.append(QueueJobKey(id: id, qf: nil, mtime: Int64(st.st_mtim.tv_sec)))   // read again (and lost) below
                continue
            }
            if !selection.matches(id: id, sender: qf.sender, recipients: qf.recipients.map { $0.address }) { continue }
            if selection.isEmpty && minAge > 0 && qf.attempts > 0 && Int64(now) - qf.lastAttempt < Int64(minAge) {
                continue
            }
            work.append(QueueJobKey(id: id, qf: qf, mtime: Int64(st.st_mtim.tv_sec)))
        }
        // (MaxQueueRunSize: the first N jobs in directory order, then sorted)
        return orderQueue(work) { $0 }
    }

    /// sendmail's WorkListSize: how many entries its work list has room
    /// for in this process (it grows, never shrinks).
    nonisolated(unsafe) static var workListSize = 0

    /// The jobs `ids` of the group in `directory`, in this order: each
    /// locked without waiting (a locked one is passed over) and delivered.
    /// Bounces and warnings are queued in `bounceDirectory` (the default
    /// group's).
    func deliverJobs(_ ids: [[UInt8]], directory dir: String, bounceDirectory: String) -> SysExit {
        let verbose = self.verbose
        let (qfSub, dfSub) = QueueCommitter(directory: dir).subdirectories
        let qfDir = qfSub ? dir + "/qf" : dir
        for (n, id) in ids.enumerated() {
            let qfPath = qfDir + "/" + controlPrefix + id.string
            let fd = open(qfPath, O_RDWR | O_CLOEXEC)
            if fd < 0 { continue }
            if verbose {
                // sendmail names the job by the data file's directory
                let shown = dfSub ? dir + "/df" : dir
                out.write("\nRunning \(shown)/\(id.string) (sequence \(n + 1) of \(ids.count))\n")
                out.flush()
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                if verbose { out.write("\(id.string): locked\n") }
                close(fd)
                continue
            }
            defer { close(fd) }
            // the run's exit status is the last job's (each job starts clean)
            exitStatus = .ok
            deliverLockedEntry(id: id, fd: fd, qdir: dir, how: .queueRun, verbose: verbose,
                               bounceDirectory: bounceDirectory)
        }
        return exitStatus
    }

    /// The queue groups' directories: the default group ("mqueue",
    /// QueueDirectory, or the path a `Qmqueue` line gives it), then the
    /// cf's Q lines in order.
    public func queueGroupDirectories() -> [(name: [UInt8], path: String)] {
        var groups: [(name: [UInt8], path: String)] = [(Array("mqueue".utf8), (config.options["QueueDirectory"] ?? []).string)]
        for g in config.queueGroups {
            let path = (g.fields.last { $0.code == UInt8(ascii: "P") }?.value ?? []).string
            if g.name == Array("mqueue".utf8) { groups[0].path = path } else { groups.append((g.name, path)) }
        }
        return groups
    }

    /// The groups a `-qG<name>` argument selects (all without one); nil
    /// after "Queue group <name> unknown" (printed; the exit status stays).
    func selectedQueueGroups(_ arguments: [[UInt8]]) -> [(name: [UInt8], path: String)]? {
        let all = queueGroupDirectories()
        guard let g = arguments.last(where: { $0.first == UInt8(ascii: "G") }) else { return all }
        let name = Array(g.dropFirst())
        guard let found = all.first(where: { $0.name == name }) else {
            rewriter.userError("Queue group \(name.string) unknown")
            return nil
        }
        return [found]
    }

    /// The kept recipients with their C lines recomputed, so that each
    /// keeps the controlling user it had.
    func keepRecipients(_ qf: QueueFile, _ keep: [Int]) -> [QueueFile.Recipient] {
        let effective = qf.effectiveControllingUsers
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
        guard let fd = writeTemporaryControlFile(qf, id: id, qfDir: qfDir) else { return false }
        return commitTemporaryControlFile(fd, id: id, qfPath: qfPath, qfDir: qfDir)
    }

    /// The tf made to replace a qf: rename over it, fsync the directory.
    func commitTemporaryControlFile(_ fd: Int32, id: [UInt8], qfPath: String, qfDir: String) -> Bool {
        let tfPath = qfDir + "/tf" + id.string
        defer { close(fd) }
        if rename(tfPath, qfPath) != 0 { _ = unlink(tfPath); return false }
        let dfd = open(qfDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
        return true
    }

    /// A prepared tf that is not wanted after all.
    func discardTemporaryControlFile(_ fd: Int32, id: [UInt8], qfDir: String) {
        _ = unlink(qfDir + "/tf" + id.string)
        close(fd)
    }

    /// tf written and fsynced, still locked and open (nil: it could not be).
    func writeTemporaryControlFile(_ qf: QueueFile, id: [UInt8], qfDir: String) -> Int32? {
        let tfPath = qfDir + "/tf" + id.string
        let mode = queueFileMode
        var fd = open(tfPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0 && errno == EEXIST {
            // a tf left by a process killed while writing it: we hold the
            // qf's lock, so nobody else is writing it; take it over unless
            // some process still has it locked
            let old = open(tfPath, O_WRONLY | O_CLOEXEC)
            if old >= 0 && flock(old, LOCK_EX | LOCK_NB) == 0 {
                _ = unlink(tfPath)
                fd = open(tfPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            }
            if old >= 0 { close(old) }
        }
        guard fd >= 0 else { return nil }
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
        if !ok { close(fd); _ = unlink(tfPath); return nil }
        return fd
    }
}

extension Engine {
    /// What the `-q` arguments ask for: one run now in the foreground
    /// (`-v`, `-qf`), one run in a background process (plain `-q`, or
    /// only selections), or a periodic/persistent runner (QueueDaemon.swift).
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
        spawnSelf(arguments + [Array("-qf".utf8)], detach: true) != nil
    }
}

extension Engine {
    /// dropenvelope()'s age checks after an attempt that left recipients
    /// queued: older than Timeout.queuereturn, they all fail (4.4.7,
    /// "Cannot send message for ...") and go back with the failures;
    /// older than Timeout.queuewarn, the sender gets one warning (unless
    /// already warned, `F w`) listing the NOTIFY=DELAY ones.  Returns the
    /// warning to send, if any; updates the outcome's failures,
    /// remaining recipients, message and transcript.
    func applyAgeLimits(_ qf: QueueFile, outcome: inout DeliveryOutcome, verbose: Bool, now: time_t) -> DelayWarning? {
        guard !outcome.remaining.isEmpty else { return nil }
        let (warn, ret) = queueTimeouts(timeoutClass(qf))
        let age = Int64(now) - qf.creationTime
        if age > Int64(ret) {
            // none of them wants a failure notice: they are dropped
            // silently and the qf is written back without them (sendmail
            // removes such an empty qf in its next run)
            if !outcome.delayed.contains(where: {
                $0.index < qf.recipients.count && qf.recipients[$0.index].flags.contains(.notifyFailure) }) {
                outcome.remaining = []
                outcome.delayed = []
                outcome.keepControlFile = true
                return nil
            }
            let text = "Cannot send message for \(Self.wordedInterval(ret))"
            if verbose { out.write(text + "\n") }
            outcome.message = Array(text.utf8)
            outcome.transcript += Array("Message could not be delivered for \(Self.wordedInterval(ret))\nMessage will be deleted from queue\n".utf8)
            let expired = outcome.delayed.map { d -> FailedRecipient in
                var f = d
                f.delayed = false
                f.status = Array("4.4.7".utf8)
                return f
            }
            outcome.failures = (outcome.failures + expired).sorted { $0.order < $1.order }
            outcome.remaining = []
            outcome.delayed = []
            return nil
        }
        guard warn > 0, age > Int64(warn), !qf.flags.contains(.warningSent), !qf.flags.contains(.response),
              precedenceClass(qf) >= 0 else { return nil }
        var sender = qf.sender
        if sender.first == UInt8(ascii: "<"), sender.last == UInt8(ascii: ">") { sender = Array(sender.dropFirst().dropLast()) }
        let lower = sender.asciiLowercased
        if sender.isEmpty || lower.starts(with: Array("owner-".utf8))
            || (lower.count > 8 && lower.suffix(8).elementsEqual(Array("-request".utf8))) { return nil }
        let pinged = outcome.delayed.filter {
            $0.index < qf.recipients.count && qf.recipients[$0.index].flags.contains(.notifyDelay)
        }
        if pinged.isEmpty { return nil }
        let text = "Warning: could not send message for past \(Self.wordedInterval(warn))"
        if verbose { out.write(text + "\n") }
        outcome.message = Array(text.utf8)
        outcome.messageIsDeferral = false
        outcome.transcript += Array(("Warning: message still undelivered after \(Self.wordedInterval(warn))\n"
            + "Will keep trying until message is \(Self.wordedInterval(ret)) old\n").utf8)
        return DelayWarning(subject: Array(text.utf8), recipients: pinged,
                            retryUntil: arpaDate(time_t(qf.creationTime) + time_t(ret)))
    }
}
