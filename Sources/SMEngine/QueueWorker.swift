// SMEngine/QueueWorker.swift
//
// The SMTP daemon's delivery workers (started by SMDaemon/Daemon.swift):
// a long-lived copy of our binary that loaded the cf once and reads queue
// IDs from a pipe the daemon shares among its workers, one fixed-size
// record per ID (the ID, NUL, the accepting session's client name, NUL-
// padded to `deliveryWorkerRecordSize` bytes, at most PIPE_BUF, written
// in one write(), so every read takes exactly one whole record; the
// client name is the bounces' Received-From-MTA, as sendmail's child of
// the session has it).
// Each ID is delivered as a `sendmail -qI<id> -qf` run delivers it, over
// a fresh Engine cloned from the loaded one (nothing one delivery sets is
// seen by the next but its open sessions, below): the run is skipped when the load average holds all
// work back (the same log line), the queue group whose directory holds
// qf<id> is found, the qf is opened read-write and exclusively locked
// without waiting (taken: whoever holds it delivers it), and
// deliverLockedEntry (QueueEntry.swift) delivers it as a queue run does,
// with the mailers in QueueDirectory.  Unlike that run, the rest of the
// queue is not listed and read for each message.
// The worker's SMTP/LMTP sessions outlive each message's Engine, as a
// sendmail queue run's connection cache (mci) outlives its jobs: they
// are handed from one Engine to the next, so relayed messages share one
// TCP connection and FEATURE(local_lmtp)'s `mail.local -l` runs once per
// worker; SMTPDelivery.swift's cache keeps at most ConnectionCacheSize of
// them, closes those idle for ConnectionCacheTimeout and probes each with
// RSET before reuse (a dead one: a new connection, nothing lost).  A
// worker that has had no ID for workerIdleSeconds (ConnectionCacheTimeout,
// at most 10 s: an idle daemon does not hold its peers' connections for
// minutes) ends its sessions (QUIT), as a queue run does at its end.
// The messages' Engines also share one map set (open databases, the hosts
// file parsed once) as a queue run's messages do; it is renewed once it is
// workerIdleSeconds old, so that a map whose open failed (sendmail's
// "bogus" map) or a changed service switch is seen again soon.
// End of input (the daemon closed the pipe: SIGHUP, SIGTERM or its exit):
// the worker ends its sessions (QUIT) and exits.
// Promises: the worker never writes a queue file itself; a worker killed
// at any point loses nothing (deliverLockedEntry's promises: the entry
// stays queued for the next queue run).

import Glibc
import SMBase
import SMQueueFormat
import SMMaps

extension Engine {
    /// The environment variable that makes a `-qf` run a delivery worker;
    /// its value is the descriptor of the pipe to read IDs from.
    public static let deliveryWorkerVariable = "SENDMAIL_SWIFT_DELIVERY_WORKER"
    /// Bytes per queue ID record in the workers' pipe (at most PIPE_BUF,
    /// so that each write is atomic).
    public static let deliveryWorkerRecordSize = 320
    /// The environment variable that gives a `-qI` run started in a
    /// worker's stead the accepting session's client name.
    public static let sessionClientVariable = "SENDMAIL_SWIFT_SESSION_CLIENT"

    /// How long a worker without work keeps its sessions open:
    /// ConnectionCacheTimeout (default 5m), at most 10 s.
    public var workerIdleSeconds: Int {
        let t = config.options["ConnectionCacheTimeout"].map { Engine.seconds($0) } ?? 300
        return max(0, min(t, 10))
    }

    /// The nice(2) increment of a delivery worker (and so of the mailers
    /// it starts): 10, or SENDMAIL_SWIFT_WORKER_NICE (0 to 19).  When both
    /// cores are busy, the accepting daemon (whose 250 a client waits
    /// for) comes first and the deliveries use what it leaves; an
    /// accepted message is on disk, so a delivery that waits loses
    /// nothing.  When the machine has time to spare the increment changes
    /// nothing.  (Measured: local delivery, 2,000 messages over 20
    /// sessions, 3 rounds: accepted 0.90 of postfix's rate without it,
    /// 0.99 with it, end to end and CPU the same.)
    static let deliveryWorkerNice: Int32 = {
        guard let v = getenv("SENDMAIL_SWIFT_WORKER_NICE"), let n = Int32(String(cString: v)), (0...19).contains(n) else { return 10 }
        return n
    }()

    /// Reads ID records from `fd` until its end, delivering each one;
    /// returns the exit status (always ok: failures are in the log and
    /// the queue).
    public func runDeliveryWorker(fd: Int32) -> SysExit {
        let size = Self.deliveryWorkerRecordSize
        var record = [UInt8](repeating: 0, count: size)
        signal(SIGPIPE, SIG_IGN)
        if Self.deliveryWorkerNice > 0 { _ = nice(Self.deliveryWorkerNice) }
        // (the workers share the pipe: another may take the ID poll()
        // announced, so a read must not wait)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let idle = workerIdleSeconds
        // the sessions kept between messages (the connection cache)
        var cached: [SMTPConnection?] = []
        // the map set the messages share, and when it was made
        var sharedMaps: MapSet? = nil
        var mapsMade: time_t = 0
        func endSessions() {
            guard cached.contains(where: { $0 != nil }) else { return }
            connectionSlots = cached
            cached = []
            closeSMTPConnections(verbose: false)
        }
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, cached.contains(where: { $0 != nil }) ? Int32(idle * 1000) : -1)
            if ready < 0 { if errno == EINTR { continue }; break }
            if ready == 0 { endSessions(); continue }   // idle: QUIT
            let n = record.withUnsafeMutableBytes { read(fd, $0.baseAddress, size) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if n <= 0 { break }
            guard n == size else { continue }   // never written so (whole records only)
            let id = Array(record.prefix { $0 != 0 })
            guard !id.isEmpty, !id.contains(UInt8(ascii: "/")) else { continue }
            let client = Array(record.dropFirst(id.count + 1).prefix { $0 != 0 })
            let now = time(nil)
            // (renewed after a while, and when a file it read changed:
            // a makemap or newaliases since the last message)
            if sharedMaps == nil || now - mapsMade >= time_t(max(idle, 1)) || !(sharedMaps?.isCurrent ?? false) {
                sharedMaps = MapSet(declarations: config.maps, environment: maps.environment)
                mapsMade = now
            }
            let e = Engine(prototype: self, out: out, maps: sharedMaps)
            e.connectionSlots = cached
            // (its bounces name the session's client, as sendmail's child
            // of the session does)
            e.realHostName = client.isEmpty ? nil : client
            e.deliverQueuedEntry(id)
            cached = e.connectionSlots
            e.connectionSlots = []
            out.flush()
        }
        endSessions()
        return .ok
    }

    /// One queued entry, as `-qI<id>` delivers it (see the file comment).
    func deliverQueuedEntry(_ id: [UInt8]) {
        guard let dirBytes = config.options["QueueDirectory"], !dirBytes.isEmpty else { return }
        if shouldQueue(priority: Int64(intOption("RecipientFactor", 30000))) {
            if logLevel > 8 { logSink?.log(priority: LOG_INFO, "runqueue: Skipping queue run -- load average too high") }
            return
        }
        let bounceDirectory = dirBytes.string
        for g in queueGroupDirectories() {
            let (qfSub, _) = QueueCommitter(directory: g.path).subdirectories
            let qfPath = (qfSub ? g.path + "/qf" : g.path) + "/qf" + id.string
            let fd = open(qfPath, O_RDWR | O_CLOEXEC)
            if fd < 0 { continue }
            defer { close(fd) }
            guard chdir(bounceDirectory) == 0 else {
                rewriter.systemError("can not chdir(\(g.path)): \(String(cString: strerror(errno)))")
                return
            }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return }
            exitStatus = .ok
            deliverLockedEntry(id: id, fd: fd, qdir: g.path, how: .queueRun, verbose: false,
                               bounceDirectory: bounceDirectory)
            return
        }
    }
}
