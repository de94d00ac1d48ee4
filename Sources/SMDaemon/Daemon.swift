// SMDaemon/Daemon.swift
//
// `sendmail -bd` / `-bD`: the listening SMTP daemon on SwiftNIO.
// One listener per DaemonPortOptions value (DaemonPort.swift); each
// accepted connection gets its own Engine cloned from the current
// prototype and an SMTPServer session (SMTPSessionHandler.swift).
// What the daemon itself does:
// - the pid file (PidFile; sendmail's default /run/sendmail.pid): the pid
//   and the command line, on two lines, written once the listeners are
//   up, removed at exit;
// - SIGTERM/SIGINT: stop accepting, let every session finish the command
//   it is running (a commit is never cut), close them, exit 0;
// - SIGHUP: load the cf again into a new prototype for new connections
//   (live sessions keep theirs; the listeners stay as they are), with a
//   new pool of map sets (MapSetPool.swift: the sessions take their map
//   sets from the pool of their configuration, not reopening the map
//   files and the service switch at each connection);
// - each accepted message is delivered in the background as DeliveryMode
//   says (nothing for queue-only and defer modes) by a small pool of
//   delivery workers (`DeliveryWorkers` below): copies of our own binary
//   (posix_spawn, no fork) that loaded the cf once and take queue IDs from
//   one shared pipe, each delivered as `sendmail -qI<id> -qf` would
//   (SMEngine/QueueWorker.swift).  They start with the first delivery; one
//   that dies is replaced within a second (what it held stays queued);
//   SIGHUP starts new ones with the new cf and lets the old ones finish
//   what they already have; a full pipe (or no worker) falls back to a
//   detached `sendmail -qI<id> -qf`; the children are reaped once a second;
// - MaxDaemonChildren (and children= per listener) as a concurrency
//   limit: at the limit the listeners stop accepting and a connection
//   already accepted waits unanswered until a session ends (sendmail
//   closes its socket instead, so its clients are refused), and the line
//   "rejecting connections on daemon <name>: <n> children, max <m>" is
//   logged;
// - queue IDs of all sessions come from one locked generator (unique in
//   the process).
// - ConnectionRateThrottle: at most N connections a second per listener
//   get their session at once, the next ones wait their turn (sendmail
//   sleeps before accepting more);
// - STARTTLS's TLS context, built at start and at each SIGHUP from the
//   cf's certificate options (DaemonTLS.swift); none: STARTTLS not offered.
// - `-bd -q<time>` (and -qp): the queue is also run at start and every
//   interval by the shared QueueRunSchedule (SMEngine/QueueDaemon.swift),
//   "SMTP+queueing@HH:MM:SS" in the start line; the run going is stopped
//   with the daemon;
// - ETRN's queue runs (startRun with -qR/-qG), detached like deliveries.
// - ident (RFC 1413) within Timeout.ident before the greeting (Ident.swift);
// - the content filter of each session (`makeFilter`; SMTPServer+Filter.swift).
// Not done: the control socket, milters themselves.
// Promises: no event loop thread ever blocks on disk or DNS (sessions run
// their commands on `pool`); run() returns the exit status.

import Dispatch
import Glibc
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SMBase
import SMConfig
import SMEngine
import SMTLS
import SMQueueFormat
import SMRules

public final class Daemon: @unchecked Sendable {
    public typealias Loader = @Sendable () -> Engine?

    let group: MultiThreadedEventLoopGroup
    let pool: NIOThreadPool
    let lock = NIOLock()
    /// Guarded by `lock`.
    var prototype: Engine
    /// The map sets the sessions over `prototype` share (MapSetPool.swift).
    /// Guarded by `lock`.
    var mapPool: MapSetPool
    /// STARTTLS's context from the prototype's configuration (DaemonTLS.swift).
    var tls: TLSServerContext?
    var currentTLS: TLSServerContext? { lock.withLock { tls } }
    var idGenerator = QueueIDGenerator(randomOffset: Int.random(in: 0..<QueueID.sequenceLimit))
    var sessions: [ObjectIdentifier: Channel] = [:]
    /// Connections whose session runs (counted against MaxDaemonChildren).
    var admitted: Set<ObjectIdentifier> = []
    /// ConnectionRateThrottle's window per listener: (second, connections).
    var rateWindows: [String: (second: Int64, count: Int)] = [:]
    /// Connections waiting for a free slot, in arrival order.
    var waiting: [(ObjectIdentifier, DaemonPort, @Sendable () -> Void)] = []
    var servers: [(DaemonPort, Channel)] = []
    var children: Set<pid_t> = []
    /// The current delivery workers (nil: none started since the last
    /// SIGHUP).  Guarded by `lock`.
    var workers: DeliveryWorkers? = nil
    /// Workers of earlier generations finishing their IDs (reaped only).
    var retiredWorkers: Set<pid_t> = []
    var paused: Set<String> = []
    var stopping = false

    let load: Loader
    let arguments: [[UInt8]]
    let startOptions: StartOptions
    let ports: [DaemonPort]
    let maxChildren: Int
    let rateThrottle: Int
    /// UseCompressedIPv6Addresses: how {client_addr} shows IPv6.
    let compressedIPv6: Bool
    let pidFile: String
    let done = DispatchSemaphore(value: 0)
    let signalQueue = DispatchQueue(label: "sendmail.daemon.signals")
    var signalSources: [DispatchSourceSignal] = []
    var reaper: DispatchSourceTimer? = nil
    /// `-bd -q<time>`: the queue runs the daemon starts (on signalQueue).
    var queueSchedule: QueueRunSchedule? = nil
    /// ControlSocketName's socket (ControlSocket.swift).
    var control: ControlSocket? = nil

    init(prototype: Engine, ports: [DaemonPort], arguments: [[UInt8]], startOptions: StartOptions,
         queueInterval: (seconds: Int, persistent: Bool)?, load: @escaping Loader) {
        if let q = queueInterval {
            queueSchedule = QueueRunSchedule(argv: arguments, interval: q.seconds, persistent: q.persistent,
                                             groupIntervals: prototype.queueGroupIntervals())
        }
        self.prototype = prototype
        mapPool = MapSetPool(prototype: prototype)
        self.ports = ports
        self.arguments = arguments
        self.startOptions = startOptions
        self.load = load
        maxChildren = prototype.intOption("MaxDaemonChildren", 0)
        rateThrottle = prototype.intOption("ConnectionRateThrottle", 0)
        compressedIPv6 = prototype.config.options.bool("UseCompressedIPv6Addresses")
        pidFile = prototype.config.options["PidFile"].map {
            expandMacros($0, prototype.rewriter.macros).string
        } ?? "/run/sendmail.pid"
        tls = nil
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, System.coreCount))
        pool = NIOThreadPool(numberOfThreads: 32)
    }

    /// Runs the daemon until SIGTERM.  `ready` is called once the
    /// listeners are up (nil) or when they cannot be (the message).
    /// `queueInterval`: `-q<time>`/`-qp` given with -bd, the queue is run
    /// at start and then as that runner would.
    public static func run(prototype: Engine, arguments: [[UInt8]], startOptions: StartOptions,
                           queueInterval: (seconds: Int, persistent: Bool)? = nil,
                           load: @escaping Loader, ready: (String?) -> Void) -> SysExit {
        let ports: [DaemonPort]
        do { ports = try DaemonPort.all(prototype.config) } catch {
            ready("\(error)")
            return .config
        }
        let d = Daemon(prototype: prototype, ports: ports, arguments: arguments, startOptions: startOptions,
                       queueInterval: queueInterval, load: load)
        d.tls = tlsContext(prototype) { d.log(LOG_WARNING, $0) }
        return d.serve(ready: ready)
    }

    func serve(ready: (String?) -> Void) -> SysExit {
        signal(SIGPIPE, SIG_IGN)
        pool.start()
        for port in ports {
            do {
                let address = try SocketAddress(ipAddress: port.addressText, port: port.port)
                let ch = try bootstrap(port).bind(to: address).wait()
                servers.append((port, ch))
            } catch {
                let message = "opendaemonsocket: daemon \(port.name): cannot bind: \(error)"
                log(LOG_CRIT, "NOQUEUE: SYSERR(\(userName)): \(message)")
                ready(message)
                for (_, ch) in servers { try? ch.close().wait() }
                try? group.syncShutdownGracefully()
                try? pool.syncShutdownGracefully()
                return .osErr
            }
        }
        writePidFile()
        installSignals()
        let kind = queueSchedule.map { "SMTP+" + Engine.queueingText(interval: $0.interval, persistent: $0.persistent) } ?? "SMTP"
        if prototypeLogLevel > 0 { log(LOG_INFO, "starting daemon (\(sendmailVersion)): \(kind)") }
        if prototypeLogLevel > 9 { log(LOG_INFO, "started as: " + arguments.map { $0.string }.joined(separator: " ")) }
        control = ControlSocket.start(self, path: prototype.config.options["ControlSocketName"]?.string ?? "")
        ready(nil)
        done.wait()
        control?.stop()
        unlink(pidFile)
        // the listeners are closed, the pool's last tasks report back to
        // the loops, then the loops stop
        for (_, ch) in servers { try? ch.closeFuture.wait() }
        try? pool.syncShutdownGracefully()
        try? group.syncShutdownGracefully()
        return .ok
    }

    var userName: String {
        getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) } ?? "root"
    }

    func log(_ priority: Int32, _ line: String) {
        lock.withLock { prototype.logSink }?.log(priority: priority, line)
    }

    func bootstrap(_ port: DaemonPort) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: Int32(port.backlog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelInitializer { [self] channel in
                self.opened(channel, port: port)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SMTPLineHandler())
                    try channel.pipeline.syncOperations.addHandler(SMTPSessionHandler(daemon: self, port: port))
                }
            }
    }

    // MARK: sessions and the concurrency limit

    func limit(for port: DaemonPort) -> Int { port.maxChildren ?? maxChildren }

    func opened(_ channel: Channel, port: DaemonPort) {
        let key = ObjectIdentifier(channel)
        let shouldClose: Bool = lock.withLock {
            if stopping { return true }
            sessions[key] = channel
            return false
        }
        if shouldClose { channel.close(promise: nil); return }
        channel.closeFuture.whenComplete { [self] _ in self.closed(key) }
    }

    /// A connection is ready for its session: `start` runs now, or once
    /// a session ends when the limit is reached (the connection waits,
    /// unanswered, as it would in the listen backlog).
    func admit(_ channel: Channel, port: DaemonPort, start: @escaping @Sendable () -> Void) {
        // ConnectionRateThrottle: beyond N connections in one second on a
        // listener, the next ones wait for the following seconds
        if rateThrottle > 0 {
            let delay: Int64 = lock.withLock {
                let now = Int64(time(nil))
                var w = rateWindows[port.name] ?? (second: now, count: 0)
                if w.second < now { w = (now, 0) }
                w.count += 1
                rateWindows[port.name] = w
                return Int64((w.count - 1) / rateThrottle) - (now - w.second)
            }
            if delay > 0 {
                channel.eventLoop.scheduleTask(in: .seconds(delay)) { [self] in
                    self.admitNow(channel, port: port, start: start)
                }
                return
            }
        }
        admitNow(channel, port: port, start: start)
    }

    func admitNow(_ channel: Channel, port: DaemonPort, start: @escaping @Sendable () -> Void) {
        let key = ObjectIdentifier(channel)
        let max = limit(for: port)
        let (now, count): (Bool, Int) = lock.withLock {
            if max == 0 || admitted.count < max {
                admitted.insert(key)
                return (true, admitted.count)
            }
            waiting.append((key, port, start))
            return (false, admitted.count)
        }
        if now {
            start()
            if max > 0 && count >= max { pauseAccepting(count: count, max: max) }
        }
    }

    func closed(_ key: ObjectIdentifier) {
        let (next, resume, finished): ((@Sendable () -> Void)?, [Channel], Bool) = lock.withLock {
            sessions[key] = nil
            admitted.remove(key)
            waiting.removeAll { $0.0 == key }
            var next: (@Sendable () -> Void)? = nil
            if !stopping, let w = waiting.first, limit(for: w.1) == 0 || admitted.count < limit(for: w.1) {
                waiting.removeFirst()
                admitted.insert(w.0)
                next = w.2
            }
            var resume: [Channel] = []
            for (p, ch) in servers where paused.contains(p.name) && !stopping && waiting.isEmpty {
                let max = limit(for: p)
                if max == 0 || admitted.count < max { paused.remove(p.name); resume.append(ch) }
            }
            return (next, resume, stopping && sessions.isEmpty)
        }
        next?()
        for ch in resume { ch.setOption(.autoRead, value: true).whenComplete { _ in } }
        if finished { done.signal() }
    }

    func pauseAccepting(count: Int, max: Int) {
        let toPause: [(DaemonPort, Channel)] = lock.withLock {
            let list = servers.filter { !paused.contains($0.0.name) && limit(for: $0.0) > 0 && count >= limit(for: $0.0) }
            for (p, _) in list { paused.insert(p.name) }
            return list
        }
        for (p, ch) in toPause {
            ch.setOption(.autoRead, value: false).whenComplete { _ in }
            if prototypeLogLevel > 8 {
                log(LOG_INFO, "NOQUEUE: rejecting connections on daemon \(p.name): \(count) children, max \(max)")
            }
        }
    }

    var prototypeLogLevel: Int { lock.withLock { prototype.intOption("LogLevel", 9) } }

    /// Timeout.ident of the current configuration (sendmail's default 5s).
    var identTimeout: Int {
        lock.withLock { prototype.config.options.subValues["Timeout.ident"].map { Engine.seconds($0) } ?? 5 }
    }

    /// Makes each session's content filter (none: NoFilter).
    public var makeFilter: (@Sendable (ConnectionInfo) -> SMTPStageFilter)? = nil

    /// A session over a fresh engine from the current prototype, with a
    /// map set from the prototype's pool (given back when the lease goes).
    func makeSession(_ info: ConnectionInfo) -> (SMTPServer, MapSetLease) {
        let (proto, t, pool) = lock.withLock { (prototype, tls, mapPool) }
        let lease = pool.checkOut()
        let engine = Engine(prototype: proto, out: OutputBuffer(), maps: lease.maps)
        let server = SMTPServer(engine: engine, connection: info)
        server.tls.offered = t != nil
        server.startQueueRun = { [self] selections in self.startRun(selections) }
        if let f = makeFilter { server.filter = f(info) }
        let qdir = (engine.config.options["QueueDirectory"] ?? []).string
        server.queueIDSource = { [self] t in
            self.lock.withLock {
                engine.assignQueueID(qdir, now: t, pid: Int(getpid()), generator: &self.idGenerator)
            }
        }
        return (server, lease)
    }

    // MARK: background delivery

    /// Starts the delivery of a queued message unless the delivery mode
    /// (the listener's DeliveryMode=, else the option) only queues.
    func deliverInBackground(_ id: [UInt8], session: SMTPServer, port: DaemonPort) {
        let mode = port.deliveryMode ?? session.deliveryMode
        guard mode != UInt8(ascii: "q") && mode != UInt8(ascii: "d") else { return }
        // (the session's client goes with it: sendmail's child of the
        // session names it in its bounces' Received-From-MTA)
        handOn(id, client: Array(session.namedMacro("{client_name}").prefix(255)))
    }

    /// Gives a queued message to a delivery worker, or to a detached
    /// `-qI` run of its own when none can take it.
    func handOn(_ id: [UInt8], client: [UInt8]) {
        if id.count + client.count + 2 <= Engine.deliveryWorkerRecordSize,
           currentWorkers()?.submit(id + [0] + client) == true { return }
        _ = startRun([Array("-qI".utf8) + id],
                     marker: client.isEmpty ? nil : Engine.sessionClientVariable + "=" + client.string)
    }

    /// The delivery workers, started now if there are none (nil once
    /// stopping or when none can be started).
    func currentWorkers() -> DeliveryWorkers? {
        lock.withLock {
            if stopping || DeliveryWorkers.defaultCount == 0 { return nil }
            if workers == nil {
                workers = DeliveryWorkers(count: DeliveryWorkers.defaultCount) { fd in self.spawnWorker(fd) }
            }
            return workers
        }
    }

    /// Our binary as a delivery worker reading IDs from `fd` (made its
    /// descriptor 3), with the daemon's -C, -o/-O and -M.
    /// With spares on, the daemon collects the workers' reports of the
    /// spare files they park (QueueSpares.swift): the pipe's write end is
    /// their descriptor 4.
    func spawnWorker(_ fd: Int32) -> pid_t? {
        var passing = [fd]
        var markers = [Engine.deliveryWorkerVariable + "=3"]
        if let reports = QueueSpares.startCollecting() {
            passing.append(reports)
            markers.append(QueueSpares.reportVariable + "=4")
        }
        return spawnDetached(runArguments([]), passing: passing, markers: markers, ownSession: false)
    }

    /// A detached queue run of our own binary with the daemon's -C, -o/-O
    /// and -M and these selections (`-qI<id>`, ETRN's `-qR<match>` or
    /// `-qG<group>`); reaped by `reap`.
    func startRun(_ selections: [[UInt8]], marker: String? = nil) -> Bool {
        guard let pid = spawnDetached(runArguments(selections), markers: marker.map { [$0] } ?? []) else { return false }
        lock.withLock { _ = children.insert(pid) }
        return true
    }

    /// The command line of a queue run of ours with these selections.
    func runArguments(_ selections: [[UInt8]]) -> [[UInt8]] {
        var argv: [[UInt8]] = [Array("sendmail".utf8), Array("-C".utf8), Array(startOptions.configFile.utf8)]
        for (code, rest) in startOptions.commandLineOptions {
            argv.append(code == 0x20 ? Array("-O".utf8) + rest : Array("-o".utf8) + [code] + rest)
        }
        for m in startOptions.commandLineMacros { argv.append(Array("-M".utf8) + m) }
        argv += selections
        // -qf: this child is already detached (and reaped by us); without
        // it the run would start yet another copy of itself in the background
        argv.append(Array("-qf".utf8))
        return argv
    }

    /// `passing`: descriptors the child gets as its descriptors 3, 4, ...;
    /// `markers`: more environment variables ("NAME=value") for it.
    /// `ownSession`: the child starts a session of its own (setsid, as
    /// sendmail's detached children do); otherwise only a process group
    /// of its own, in the daemon's session.  The delivery workers take the
    /// second: with the kernel's session autogrouping (Debian's default,
    /// kernel.sched_autogroup_enabled=1) each session is one unit of fair
    /// CPU sharing, so four workers in sessions of their own would get
    /// four shares to the daemon's one, and a busy delivery would slow the
    /// acceptance of every client; in the daemon's session, acceptance and
    /// delivery share one.  A group of their own still keeps signals meant
    /// for a terminal's foreground group (`-bD`, Ctrl-C) away from them.
    func spawnDetached(_ argv: [[UInt8]], passing: [Int32] = [], markers: [String] = [],
                       ownSession: Bool = true) -> pid_t? {
        var actions = posix_spawn_file_actions_t()
        var attr = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attr)
        defer { posix_spawn_file_actions_destroy(&actions); posix_spawnattr_destroy(&attr) }
        for fd: Int32 in 0...2 {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        // (each source first copied above the targets, so that no dup2
        // overwrites a descriptor still to be passed)
        var spareFDs: [Int32] = []
        defer { for f in spareFDs { close(f) } }
        let sources = passing.map { fd -> Int32 in
            let c = fcntl(fd, F_DUPFD_CLOEXEC, Int32(3 + passing.count))
            if c >= 0 { spareFDs.append(c) }
            return c >= 0 ? c : fd
        }
        for (i, p) in sources.enumerated() { posix_spawn_file_actions_adddup2(&actions, p, Int32(3 + i)) }
        if ownSession {
            posix_spawnattr_setflags(&attr, 0x80)  // POSIX_SPAWN_SETSID (glibc)
        } else {
            posix_spawnattr_setpgroup(&attr, 0)
            posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
        }
        let cArgs = makeCStringArray(argv)
        defer { freeCStringArray(cArgs) }
        var pid: pid_t = 0
        if markers.isEmpty {
            return posix_spawn(&pid, "/proc/self/exe", &actions, &attr, cArgs, environ) == 0 ? pid : nil
        }
        // our environment (read, never changed: other threads may read it
        // too) and the markers
        var env: [UnsafeMutablePointer<CChar>?] = []
        var i = 0
        while let e = environ[i] { env.append(e); i += 1 }
        let added = markers.map { strdup($0) }
        defer { for m in added { free(m) } }
        env += added
        env.append(nil)
        return posix_spawn(&pid, "/proc/self/exe", &actions, &attr, cArgs, env) == 0 ? pid : nil
    }

    func reap() {
        let pids = lock.withLock { children }
        var gone: [pid_t] = []
        for pid in pids {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || (r < 0 && errno == ECHILD) { gone.append(pid) }
        }
        if !gone.isEmpty { lock.withLock { for p in gone { children.remove(p) } } }
        // workers that died are replaced (the current generation only)
        let (all, current) = lock.withLock { (retiredWorkers.union(workers?.pids ?? []), workers) }
        for pid in all {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            guard r == pid || (r < 0 && errno == ECHILD) else { continue }
            lock.withLock { _ = retiredWorkers.remove(pid) }
            if let w = current, w.pids.contains(pid) {
                w.replace(pid, stopping: lock.withLock { stopping })
            }
        }
    }

    // MARK: pid file and signals

    func writePidFile() {
        guard !pidFile.isEmpty else { return }
        let text = "\(getpid())\n" + arguments.map { $0.string }.joined(separator: " ") + "\n"
        let fd = open(pidFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            log(LOG_ERR, "NOQUEUE: SYSERR(\(userName)): Could not write pid file \(pidFile): \(String(cString: strerror(errno)))")
            return
        }
        _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    func installSignals() {
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            signal(sig, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: sig, queue: signalQueue)
            src.setEventHandler { [self] in
                if sig == SIGHUP { self.reload() } else { self.shutdown() }
            }
            src.resume()
            signalSources.append(src)
        }
        let t = DispatchSource.makeTimerSource(queue: signalQueue)
        t.schedule(deadline: .now() + 1, repeating: 1)
        t.setEventHandler { [self] in
            self.reap()
            if !self.lock.withLock({ self.stopping }) { _ = self.queueSchedule?.tick(now: time(nil)) }
        }
        t.resume()
        reaper = t
    }

    /// SIGHUP: a new prototype for new connections.
    func reload() {
        guard let e = load() else {
            log(LOG_ERR, "NOQUEUE: SYSERR(\(userName)): restart: cannot reload the configuration; keeping the old one")
            return
        }
        let t = Self.tlsContext(e) { self.log(LOG_WARNING, $0) }
        // new deliveries go to new workers, which read the new cf; the old
        // ones deliver what they already have, then see the pipe's end
        let newPool = MapSetPool(prototype: e)
        let (old, oldPool): (DeliveryWorkers?, MapSetPool) = lock.withLock {
            let oldPool = mapPool
            prototype = e; tls = t; mapPool = newPool
            defer { workers = nil }
            if let w = workers { retiredWorkers.formUnion(w.pids) }
            return (workers, oldPool)
        }
        // (what waited for room in the old pipe goes to the new workers)
        for record in old?.close() ?? [] {
            let id = Array(record.prefix { $0 != 0 })
            handOn(id, client: Array(record.dropFirst(id.count + 1)))
        }
        oldPool.retire()
        if e.intOption("LogLevel", 9) > 3 { log(LOG_INFO, "NOQUEUE: configuration reloaded (SIGHUP)") }
    }

    /// SIGTERM: stop accepting, end every session after its command.
    func shutdown() {
        let (servers, sessions): ([Channel], [Channel]) = lock.withLock {
            if stopping { return ([], []) }
            stopping = true
            return (self.servers.map { $0.1 }, Array(self.sessions.values))
        }
        if prototypeLogLevel > 9 { log(LOG_INFO, "NOQUEUE: stopping daemon, reason=signal") }
        // the workers finish what they have and exit
        let w: DeliveryWorkers? = lock.withLock { defer { workers = nil }; return workers }
        w?.close()
        // the queue run going gets SIGTERM too
        queueSchedule?.stop()   // (shutdown runs on signalQueue)
        for ch in servers { ch.close(promise: nil) }
        for ch in sessions { ch.pipeline.fireUserInboundEventTriggered(DaemonShutdownEvent()) }
        let empty = lock.withLock { self.sessions.isEmpty }
        if empty { done.signal() }
    }
}

extension Daemon {
    /// The environment variable naming the pipe a detached daemon reports
    /// its start on.
    public static let readyVariable = "SENDMAIL_SWIFT_DAEMON_READY_FD"

    /// `-bd`: starts the same command line again as a detached child (new
    /// session, stdio on /dev/null) and waits until it says its listeners
    /// are up; the status to exit with (0 once the daemon runs).
    public static func detach(arguments: [[UInt8]], report: (String) -> Void) -> SysExit {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            report("daemon: cannot create pipe: \(String(cString: strerror(errno)))")
            return .osErr
        }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        // the write end is inherited by the child only
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        var attr = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attr)
        defer { posix_spawn_file_actions_destroy(&actions); posix_spawnattr_destroy(&attr) }
        for fd: Int32 in 0...2 {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        posix_spawnattr_setflags(&attr, 0x80)  // POSIX_SPAWN_SETSID (glibc)
        setenv(readyVariable, String(writeEnd), 1)
        let cArgs = makeCStringArray(arguments)
        defer { freeCStringArray(cArgs) }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/proc/self/exe", &actions, &attr, cArgs, environ)
        unsetenv(readyVariable)
        close(writeEnd)
        defer { close(readEnd) }
        guard rc == 0 else {
            report("daemon: cannot start: \(String(cString: strerror(rc)))")
            return .osErr
        }
        var answer: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 512)
        while true {
            let n = buf.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, 512) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            answer += buf[0..<n]
        }
        if answer == Array("ok".utf8) { return .ok }
        report(answer.isEmpty ? "daemon: exited before listening" : answer.string)
        // the child has given up (or died): collect it
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        return .osErr
    }
}

/// pipe2(2) (not exported by the Glibc module): both ends close-on-exec
/// from the start, so no child spawned meanwhile by another thread gets them.
@_silgen_name("pipe2")
func systemPipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32

/// The daemon's delivery workers of one configuration: a pipe whose read
/// end they all share (and the daemon keeps, so that IDs not yet taken
/// survive a worker's death) and their pids.  IDs are written as one
/// record each, never waiting: a full pipe refuses the ID.
final class DeliveryWorkers: @unchecked Sendable {
    /// Deliveries in parallel (each mostly waits for the mailer and its
    /// fsync); SENDMAIL_SWIFT_DELIVERY_WORKERS (1 to 64) overrides it for
    /// benchmarks, 0 for none (each message a `-qI` run, as when no
    /// worker can take it).
    static let defaultCount: Int = {
        guard let v = getenv("SENDMAIL_SWIFT_DELIVERY_WORKERS"), let n = Int(String(cString: v)), (0...64).contains(n) else { return 4 }
        return n
    }()
    /// The pipe's size: 1 MiB (about 3,000 records; the kernel's
    /// pipe-max-size), or SENDMAIL_SWIFT_WORKER_PIPE_BYTES (4096 and up:
    /// the tests fill a small pipe to reach the backlog).
    static let pipeBytes: Int32 = {
        guard let v = getenv("SENDMAIL_SWIFT_WORKER_PIPE_BYTES"), let n = Int32(String(cString: v)), n >= 4096 else { return 1 << 20 }
        return n
    }()
    let lock = NIOLock()
    var readEnd: Int32 = -1
    var writeEnd: Int32 = -1
    /// Guarded by `lock`.
    var running: Set<pid_t> = []
    let spawn: (Int32) -> pid_t?

    var pids: Set<pid_t> { lock.withLock { running } }

    init?(count: Int, spawn: @escaping (Int32) -> pid_t?) {
        self.spawn = spawn
        var fds: [Int32] = [0, 0]
        guard systemPipe2(&fds, O_CLOEXEC) == 0 else { return nil }
        (readEnd, writeEnd) = (fds[0], fds[1])
        _ = fcntl(writeEnd, F_SETFL, fcntl(writeEnd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(writeEnd, 1031 /* F_SETPIPE_SZ */, Self.pipeBytes)
        for _ in 0..<count { if let pid = spawn(readEnd) { running.insert(pid) } }
        if running.isEmpty { close(); return nil }
    }

    /// Records the pipe had no room for, oldest first, fed to it by
    /// `feeder` as the workers make room.  Guarded by `lock`.
    var backlog = CircularBuffer<[UInt8]>()
    var feeding = false
    let feeder = DispatchQueue(label: "delivery-worker-feeder")
    /// How many records wait in the backlog at most (about 30 bytes
    /// each); beyond it `submit` refuses, and the caller starts a queue
    /// run for the message instead.
    static let backlogLimit = 100_000

    /// Hands a record (the ID, NUL, the session's client name) to
    /// whichever worker reads next; false when it cannot be (closed, or
    /// backlogLimit records already wait).  The pipe holds about 3,000
    /// records; when acceptance runs ahead of delivery for longer (a
    /// burst of 10,000 messages does), the records wait in `backlog`, in
    /// order, instead of each starting a process of its own; a record
    /// lost with the daemon loses no message, which stays queued for the
    /// next queue run.
    func submit(_ fields: [UInt8]) -> Bool {
        enum Outcome { case written, queued(startFeeder: Bool), refused }
        let outcome: Outcome = lock.withLock {
            guard writeEnd >= 0 else { return .refused }
            if backlog.isEmpty && writeRecord(fields) { return .written }
            guard backlog.count < Self.backlogLimit else { return .refused }
            backlog.append(fields)
            if feeding { return .queued(startFeeder: false) }
            feeding = true
            return .queued(startFeeder: true)
        }
        switch outcome {
        case .written: return true
        case .refused: return false
        case .queued(let start):
            if start { feeder.async { self.feed() } }
            return true
        }
    }

    /// One record into the pipe without waiting; false when it is full.
    /// Called with `lock` held.
    private func writeRecord(_ fields: [UInt8]) -> Bool {
        var record = fields + [UInt8](repeating: 0, count: Engine.deliveryWorkerRecordSize - fields.count)
        while true {
            let n = record.withUnsafeMutableBytes { write(writeEnd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            return n == record.count
        }
    }

    /// The feeder: moves the backlog into the pipe as room appears, then
    /// ends (the next overflow starts it again).
    private func feed() {
        while true {
            let (fd, more): (Int32, Bool) = lock.withLock {
                while let first = backlog.first, writeEnd >= 0, writeRecord(first) { backlog.removeFirst() }
                // (close() empties the backlog, and nothing joins it after)
                if backlog.isEmpty || writeEnd < 0 {
                    feeding = false
                    return (-1, false)
                }
                return (writeEnd, true)
            }
            guard more else { return }
            // (a descriptor closed meanwhile at worst makes this wait end
            // early or time out: the next pass sees writeEnd < 0)
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&p, 1, 1000)
        }
    }

    /// A worker has exited: another one takes its place (none once the
    /// daemon stops or the pipe is closed).
    func replace(_ pid: pid_t, stopping: Bool) {
        lock.withLock {
            running.remove(pid)
            guard !stopping, readEnd >= 0, let new = spawn(readEnd) else { return }
            running.insert(new)
        }
    }

    /// No more IDs: the workers deliver what is in the pipe, then exit.
    /// Returns the records still waiting in the backlog (a reload hands
    /// them to the new workers; at a stop their messages stay queued for
    /// the next queue run, as sendmail leaves them).
    @discardableResult
    func close() -> [[UInt8]] {
        lock.withLock {
            if writeEnd >= 0 { Glibc.close(writeEnd) }
            if readEnd >= 0 { Glibc.close(readEnd) }
            writeEnd = -1
            readEnd = -1
            defer { backlog.removeAll() }
            return Array(backlog)
        }
    }
}
