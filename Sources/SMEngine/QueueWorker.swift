// SMEngine/QueueWorker.swift
//
// The SMTP daemon's delivery workers (started by SMDaemon/Daemon.swift):
// a long-lived copy of our binary that loaded the cf once and reads queue
// IDs from a pipe the daemon shares among its workers, one fixed-size
// record per ID (the ID, NUL-padded to `deliveryWorkerRecordSize` bytes,
// written in one write(), so every read takes exactly one whole record).
// Each ID is delivered as a `sendmail -qI<id> -qf` run delivers it, over
// a fresh Engine cloned from the loaded one (nothing one delivery sets is
// seen by the next): the run is skipped when the load average holds all
// work back (the same log line), the queue group whose directory holds
// qf<id> is found, the qf is opened read-write and exclusively locked
// without waiting (taken: whoever holds it delivers it), and
// deliverLockedEntry (QueueEntry.swift) delivers it as a queue run does,
// with the mailers in QueueDirectory.  Unlike that run, the rest of the
// queue is not listed and read for each message.
// End of input (the daemon closed the pipe: SIGHUP, SIGTERM or its exit):
// the worker exits.
// Promises: the worker never writes a queue file itself; a worker killed
// at any point loses nothing (deliverLockedEntry's promises: the entry
// stays queued for the next queue run).

import Glibc
import SMBase
import SMQueueFormat

extension Engine {
    /// The environment variable that makes a `-qf` run a delivery worker;
    /// its value is the descriptor of the pipe to read IDs from.
    public static let deliveryWorkerVariable = "SENDMAIL_SWIFT_DELIVERY_WORKER"
    /// Bytes per queue ID record in the workers' pipe (at most PIPE_BUF,
    /// so that each write is atomic).
    public static let deliveryWorkerRecordSize = 64

    /// Reads ID records from `fd` until its end, delivering each one;
    /// returns the exit status (always ok: failures are in the log and
    /// the queue).
    public func runDeliveryWorker(fd: Int32) -> SysExit {
        let size = Self.deliveryWorkerRecordSize
        var record = [UInt8](repeating: 0, count: size)
        signal(SIGPIPE, SIG_IGN)
        while true {
            let n = record.withUnsafeMutableBytes { read(fd, $0.baseAddress, size) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            guard n == size else { continue }   // never written so (whole records only)
            let id = Array(record.prefix { $0 != 0 })
            guard !id.isEmpty, !id.contains(UInt8(ascii: "/")) else { continue }
            let e = Engine(prototype: self, out: out)
            e.deliverQueuedEntry(id)
            // each message is a queue run of its own: its SMTP sessions end
            // with it (QUIT), as a `-qI<id>` run's do at its end
            if !e.smtpConnections.isEmpty { e.closeSMTPConnections(verbose: false) }
            out.flush()
        }
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
