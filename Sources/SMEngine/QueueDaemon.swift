// SMEngine/QueueDaemon.swift
//
// Periodic and persistent queue runners without -bd (`sendmail -q30m`,
// `sendmail -qp[time]`), as sendmail runs them: the command returns at
// once (exit 0, no output) and a detached process (its own session,
// stdio on /dev/null) carries on.  That process logs "starting daemon
// (8.17.1.9): queueing@HH:MM:SS" ("persistent-queueing@" for -qp) and,
// above LogLevel 9, "started as: <argv>"; writes the PidFile option's
// file (default /var/run/sendmail/mta/sendmail.pid, Debian's): its pid,
// a newline, the command line, a newline; then runs the queue at start
// and every interval (persistent: again 5 seconds after each run ends,
// whatever the interval, as measured on sendmail).  Each run is a child
// process of ours started with `-qf` (sendmail forks one), keeping the
// other arguments (-C, -O, selections).  SIGTERM (or SIGINT) stops it:
// the run in progress gets SIGTERM, the pid file is removed and, above
// LogLevel 9, "<id>: stopping daemon, reason=signal" is logged.
// The schedule itself (QueueRunSchedule: when the next run is due, the
// child of the run going) is shared with the SMTP daemon, which runs the
// queue the same way when started as `-bd -q<time>` (SMDaemon/Daemon.swift).
// Queue groups with an interval of their own (I=) are run when each is
// due: the first run takes all groups, later ones those whose interval
// has come round (the run is told their names, SENDMAIL_SWIFT_DUE_GROUPS).
// SIGHUP: the runner executes its command line again, as sendmail's
// restart does ("restarting <path> due to signal"): a new runner starts
// with the configuration as it is now, and this one ends.
// Decisions: a run still going when the next is due is not doubled (the
// next starts when it ends).
// Promises: signals are taken with sigtimedwait (no handler state), and
// the runs get an empty signal mask and default dispositions; spawned
// processes inherit no descriptor but stdio on /dev/null.

import Glibc
import SMBase
import SMRules

extension Engine {
    /// The environment variable that marks our detached runner process.
    public static let queueDaemonMarker = "SENDMAIL_SWIFT_QUEUE_DAEMON"

    /// The interval and persistence a `-q` argument list asks for.
    public func queueInterval(_ arguments: [[UInt8]]) -> (seconds: Int, persistent: Bool)? {
        for a in arguments {
            guard let c = a.first else { continue }
            if c == UInt8(ascii: "p") {
                let t = Self.seconds(Array(a.dropFirst()))
                return (t > 0 ? t : 1, true)
            }
            if isASCIIDigit(c) && Self.seconds(a) > 0 { return (Self.seconds(a), false) }
        }
        return nil
    }

    /// The command line of one run: each `-q<time>`/`-qp[time]` becomes
    /// `-qf` (a foreground run in the child); a daemon's `-bd`/`-bD` is
    /// left out.
    static func runArguments(_ argv: [[UInt8]]) -> [[UInt8]] {
        argv.enumerated().compactMap { i, a in
            if i > 0, a == Array("-bd".utf8) || a == Array("-bD".utf8) { return nil }
            guard i > 0, a.count > 2, a[0] == UInt8(ascii: "-"), a[1] == UInt8(ascii: "q") else { return a }
            let c = a[2]
            if c == UInt8(ascii: "p") || isASCIIDigit(c) { return Array("-qf".utf8) }
            return a
        }
    }

    /// The word after "starting daemon (8.17.1.9): " for a runner:
    /// "queueing@HH:MM:SS" or "persistent-queueing@HH:MM:SS".
    public static func queueingText(interval: Int, persistent: Bool) -> String {
        (persistent ? "persistent-queueing@" : "queueing@") + intervalText(Int64(interval))
    }

    /// posix_spawn of /proc/self/exe with `argv` and stdio on /dev/null;
    /// `detach`: in a new session; `mark`: with the daemon marker in the
    /// environment.
    static func spawnSelf(_ argv: [[UInt8]], detach: Bool, mark: Bool = false,
                          environment: [(String, String)] = [], passing passed: Int32? = nil) -> pid_t? {
        var actions = posix_spawn_file_actions_t()
        var attr = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attr)
        defer { posix_spawn_file_actions_destroy(&actions); posix_spawnattr_destroy(&attr) }
        for fd: Int32 in 0...2 {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        // nothing else inherited (a caller's pipe would wait for us), but
        // `passed`, which the child finds as descriptor 3
        for fd in openDescriptors() where fd > 2 && fd != passed && (passed == nil || fd != 3) {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        if let p = passed {
            posix_spawn_file_actions_adddup2(&actions, p, 3)
            if p != 3 { posix_spawn_file_actions_addclose(&actions, p) }
        }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if detach { flags |= 0x80 }   // POSIX_SPAWN_SETSID (glibc)
        posix_spawnattr_setflags(&attr, Int16(flags))
        let cArgs = makeCStringArray(argv)
        defer { freeCStringArray(cArgs) }
        if mark { setenv(queueDaemonMarker, "1", 1) }
        defer { if mark { unsetenv(queueDaemonMarker) } }
        for (k, v) in environment { setenv(k, v, 1) }
        defer { for (k, _) in environment { unsetenv(k) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/proc/self/exe", &actions, &attr, cArgs, environ)
        return rc == 0 ? pid : nil
    }

    /// Our open descriptors (from /proc/self/fd).
    static func openDescriptors() -> [Int32] {
        guard let d = opendir("/proc/self/fd") else { return [] }
        let own = dirfd(d)
        var fds: [Int32] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let n = Int32(name), n != own { fds.append(n) }
        }
        closedir(d)
        return fds
    }

    /// The parent's side of `-q<time>`: start the detached runner.
    public static func startQueueDaemon(argv: [[UInt8]]) -> Bool {
        spawnSelf(argv, detach: true, mark: true) != nil
    }

    /// The detached runner (never returns).  `argv` is our command line.
    public func runQueueDaemon(argv: [[UInt8]], interval: Int, persistent: Bool) -> Never {
        unsetenv(Self.queueDaemonMarker)
        var blocked = sigset_t()
        sigemptyset(&blocked)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&blocked, s) }
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        signal(SIGPIPE, SIG_IGN)

        let kind = Self.queueingText(interval: interval, persistent: persistent)
        let commandLine = argv.map { $0.string }.joined(separator: " ")
        // an ID for the stop line, as sendmail's envelope gets one at start
        let qdir = config.options["QueueDirectory"].map { $0.string } ?? "."
        let stopID = assignQueueID(qdir, now: time(nil), pid: Int(getppid() > 1 ? getppid() : getpid())).bytes.string
        logSink?.log(priority: LOG_INFO, "starting daemon (\(sendmailVersion)): \(kind)")
        if logLevel > 9 { logSink?.log(priority: LOG_INFO, "started as: \(commandLine)") }
        var pidFile = config.options["PidFile"].map { expandMacros($0, rewriter.macros) } ?? Array("/var/run/sendmail/mta/sendmail.pid".utf8)
        while let l = pidFile.last, isASCIISpace(l) { pidFile.removeLast() }
        let pidPath = pidFile.string
        if !pidPath.isEmpty {
            let fd = open(pidPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if fd >= 0 {
                let text = Array("\(getpid())\n\(commandLine)\n".utf8)
                _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
            } else if logLevel > 0 {
                logSink?.log(priority: LOG_ERR, "Could not open \(pidPath): \(String(cString: strerror(errno)))")
            }
        }

        var schedule = QueueRunSchedule(argv: argv, interval: interval, persistent: persistent,
                                        groupIntervals: queueGroupIntervals())
        while true {
            // until the next run is due, or (a run going) until it ends
            var wait = timespec(tv_sec: schedule.tick(now: time(nil)), tv_nsec: 0)
            if wait.tv_sec == 0 { wait.tv_nsec = 10_000_000 }
            var info = siginfo_t()
            let sig = sigtimedwait(&blocked, &info, &wait)
            if sig == SIGTERM || sig == SIGINT {
                schedule.stop()
                if !pidPath.isEmpty { _ = unlink(pidPath) }
                if logLevel > 9 { logSink?.log(priority: LOG_INFO, "\(stopID): stopping daemon, reason=signal") }
                exit(0)
            }
            if sig == SIGHUP { restartQueueDaemon(argv: argv) }
        }
    }
}

extension Engine {
    /// SIGHUP: sendmail's restart_daemon(): the same command line executed
    /// again (which starts a new runner, with the configuration as it is
    /// now, and this process ends); the run going carries on.  Needs the
    /// command's full path, as sendmail's does.
    func restartQueueDaemon(argv: [[UInt8]]) -> Never {
        let path = argv.first.map { $0.string } ?? ""
        guard path.hasPrefix("/") else {
            if logLevel > 3 { logSink?.log(priority: LOG_INFO, "could not restart: need full path") }
            exit(SysExit.osFile.rawValue)
        }
        if logLevel > 3 { logSink?.log(priority: LOG_INFO, "restarting \(path) due to signal") }
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        signal(SIGPIPE, SIG_DFL)
        let cArgs = makeCStringArray(argv)
        execv(path, cArgs)
        let why = String(cString: strerror(errno))
        logSink?.log(priority: LOG_ALERT, "could not exec \(path): \(why)")
        exit(SysExit.osFile.rawValue)
    }
}

/// When a periodic (`-q<time>`) or persistent (`-qp`) runner starts its
/// next queue run, and the run going: each run is `-qf` in a child of
/// ours with the rest of the command line (Engine.runArguments).  The
/// first run is due at once; a periodic one every interval after the
/// previous start (never two at once), a persistent one 5 seconds after
/// the previous ended.  Not thread-safe: one owner calls it.
public struct QueueRunSchedule {
    public let interval: Int
    public let persistent: Bool
    let runArgv: [[UInt8]]
    public private(set) var child: pid_t? = nil
    var nextRun: time_t
    /// Queue groups with intervals of their own (I=): each group's
    /// interval (I=, else the runner's) and when it is due next; empty
    /// when every group goes by the runner's interval.
    var groupTimes: [(name: [UInt8], interval: Int, next: time_t)] = []

    /// `groupIntervals`: each queue group's I= in seconds (0: none).
    public init(argv: [[UInt8]], interval: Int, persistent: Bool, now: time_t = time(nil),
                groupIntervals: [(name: [UInt8], seconds: Int)] = []) {
        self.interval = interval
        self.persistent = persistent
        runArgv = Engine.runArguments(argv)
        nextRun = now
        if !persistent, groupIntervals.contains(where: { $0.seconds > 0 && $0.seconds != interval }) {
            groupTimes = groupIntervals.map { ($0.name, $0.seconds > 0 ? $0.seconds : interval, now) }
        }
    }

    /// Reaps a finished run and starts the next when it is due; the
    /// seconds until something is due again (a run going: 1).
    public mutating func tick(now: time_t) -> Int {
        if let c = child {
            var st: Int32 = 0
            let r = waitpid(c, &st, WNOHANG)
            if r == c || (r < 0 && errno == ECHILD) {
                child = nil
                if persistent { nextRun = now + 5 }
            }
        }
        if !groupTimes.isEmpty {
            // each group when it is due (sendmail's qg_nextrun); the run
            // is told which, unless all are
            let due = groupTimes.indices.filter { groupTimes[$0].next <= now }
            if child == nil && !due.isEmpty {
                let names = due.map { groupTimes[$0].name.string }.joined(separator: ",")
                child = Engine.spawnSelf(runArgv, detach: false,
                                         environment: due.count == groupTimes.count ? [] : [(Engine.dueGroupsVariable, names)])
                for k in due {
                    while groupTimes[k].next <= now { groupTimes[k].next += time_t(max(groupTimes[k].interval, 1)) }
                }
            }
            let next = groupTimes.map { $0.next }.min() ?? now
            return child == nil ? max(Int(next - time(nil)), 0) : 1
        }
        if child == nil && now >= nextRun {
            child = Engine.spawnSelf(runArgv, detach: false)
            if !persistent { nextRun = now + time_t(interval) }
        }
        return child == nil ? max(Int(nextRun - time(nil)), 0) : 1
    }

    /// SIGTERM to the run going, and waits for it.
    public mutating func stop() {
        guard let c = child else { return }
        kill(c, SIGTERM)
        var st: Int32 = 0
        _ = waitpid(c, &st, 0)
        child = nil
    }
}
