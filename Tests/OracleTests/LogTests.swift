// LogTests.swift — syslog lines against the real sendmail: a queued
// submission (from=…, to=… stat=queued), deliveries at submission (-odi,
// -odb) and by a queue run (to=…, ctladdr=…, delay=…, xdelay=…, mailer=…,
// pri=…, relay=…, dsn=…, stat=…; a bounce's "<id>: <id>: DSN: …"; the
// lines of a recipient refused at submission).  Each binary runs in the
// sandbox with a unix datagram socket of the test's own bind-mounted over
// /dev/log, and the lines received must be identical once the pid, the
// time stamp, the queue IDs (in order of appearance), delay= and xdelay=
// are normalised, and the pri= of a bounce's own delivery (a known
// difference: sendmail counts a few more bytes in a bounce's priority).
// The bind needs a /dev/log to mount over: when the machine has none (no
// syslog daemon, as in CI), the test creates an empty file there, which
// behaves for every other program like no /dev/log at all.
// Promises: fails (never skips) when a prerequisite is missing.

import Foundation
import Testing

/// A bound AF_UNIX datagram socket collecting what is sent to it.
/// Linux queues only net.unix.max_dgram_qlen (10) datagrams: a program
/// that logs more waits in syslog(3) until they are read, so a long run
/// needs startDraining().
final class DatagramCollector: @unchecked Sendable {
    let path: String
    let fd: Int32
    private let lock = NSLock()
    private var received: [String] = []
    private var stopping = false
    private var finished = false
    private var draining = false

    /// Reads what arrives on a background thread until drain().
    func startDraining() {
        draining = true
        Thread.detachNewThread { [self] in
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, 50) > 0 {
                    let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if n > 0 {
                        lock.lock(); received.append(String(decoding: buf[0..<n], as: UTF8.self)); lock.unlock()
                    }
                    continue
                }
                lock.lock(); let stop = stopping; lock.unlock()
                if stop { break }
            }
            lock.lock(); finished = true; lock.unlock()
        }
    }

    init(path: String) throws {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { throw HarnessError("socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw HarnessError("bind \(path): \(String(cString: strerror(errno)))") }
        chmod(path, 0o666)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// Everything received so far, one string per datagram.
    func drain() -> [String] {
        var out: [String] = []
        if draining {
            lock.lock(); stopping = true; lock.unlock()
            while true {
                lock.lock(); let done = finished; lock.unlock()
                if done { break }
                usleep(10_000)
            }
            out = received
        }
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out.append(String(decoding: buf[0..<n], as: UTF8.self))
        }
        return out
    }

    deinit { close(fd); unlink(path) }
}

@Suite("syslog lines: identical to sendmail's")
struct LogTests {
    /// "<22>Nov 30 02:35:58 sendmail[29218]: 6AU2Zwng029218: from=…" with
    /// the time, pid and queue ID replaced.
    static func normalise(_ line: String, id: String?) -> String {
        var s = line
        if let r = s.range(of: #"^<\d+>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d "#, options: .regularExpression) {
            s.replaceSubrange(r, with: String(s[r].prefix { $0 != ">" }) + "> TIME ")
        }
        s = s.replacingOccurrences(of: #"\[\d+\]"#, with: "[PID]", options: .regularExpression)
        if let id { s = s.replacingOccurrences(of: id, with: "QID") }
        // the time a submission or delivery took
        s = s.replacingOccurrences(of: #"(x?delay)=[0-9+:]+"#, with: "$1=D", options: .regularExpression)
        // the minute in a Message-Id (the two runs may straddle one)
        s = s.replacingOccurrences(of: #"msgid=<[0-9]{12}\."#, with: "msgid=<TIME.", options: .regularExpression)
        return s
    }

    /// Lines with every queue ID replaced by QID1, QID2… in order of
    /// appearance; a bounce's (QID2…) delivery lines lose their pri=.
    static func normaliseIDs(_ lines: [String]) -> [String] {
        var ids: [String: String] = [:]
        let re = try! NSRegularExpression(pattern: #"[0-9A-Za-z]{8}[0-9]{6,}"#)
        return lines.map { line in
            var s = normalise(line, id: nil)
            let ns = s as NSString
            for m in re.matches(in: s, range: NSRange(location: 0, length: ns.length)) {
                let id = ns.substring(with: m.range)
                if ids[id] == nil { ids[id] = "QID\(ids.count + 1)" }
            }
            for (id, name) in ids { s = s.replacingOccurrences(of: id, with: name) }
            if !s.contains(": QID1: ") {
                s = s.replacingOccurrences(of: #", pri=\d+,"#, with: ", pri=P,", options: .regularExpression)
            }
            return s
        }
    }

    /// /dev/log must exist to be mounted over: without a syslog daemon
    /// (CI) an empty file does, which any other program sees as no log.
    static func ensureDevLog() {
        if access("/dev/log", F_OK) != 0 {
            let fd = open("/dev/log", O_CREAT | O_WRONLY, 0o644)
            #expect(fd >= 0, "cannot create /dev/log to mount over: \(String(cString: strerror(errno)))")
            if fd >= 0 { close(fd) }
        }
    }

    @Test("a queued submission: from= and to= ... stat=queued lines", arguments: [
        (["root", "daemon"], "Subject: x\nMessage-Id: <abc@x>\n\nbody\n", [String]()),
        (["a@relay.example"], "Subject: x\n\nbody\n", ["-B8BITMIME"]),
        (["staff"], "Subject: x\nPrecedence: bulk\n\nbody\n", ["-f", "daemon"]),
    ])
    func queuedSubmission(_ rcpts: [String], _ message: String, _ flags: [String]) throws {
        Self.ensureDevLog()
        let tag = rcpts.joined(separator: "_").filter { $0.isLetter || $0 == "_" }
        // one scratch directory per case: the cases run in parallel
        let (cf, dir) = try SubmitTests.prepareWithAliases(Configuration(name: "log-\(tag)", source: .cf("cf/submit.cf")))
        var lines: [String: [String]] = [:]
        for (who, binary) in [("real", OracleEnvironment.oraclePath), ("ours", try OracleEnvironment.binaryUnderTest())] {
            let q = try Faults.freshDirectory(dir, "q-\(tag)-\(who)")
            let collector = try DatagramCollector(path: dir.appendingPathComponent("log-\(who).sock").path)
            // (read while the binary runs: only 10 datagrams wait in the socket)
            collector.startDraining()
            var options = SandboxOptions()
            options.modeFlag = "-odq"
            options.devLog = collector.path
            options.extraArguments = ["-OQueueDirectory=\(q.path)", "-oi"] + flags + rcpts
            let r = try Sandbox.run(binary: binary, cf: cf, input: Array(message.utf8), options: options,
                                    runDir: Workspace.shared.runs, tag: "log-\(tag).\(who)")
            #expect(r.status == 0, "\(who): \(String(decoding: r.stdout + r.stderr, as: UTF8.self))")
            let id = try FileManager.default.contentsOfDirectory(atPath: q.path).first { $0.hasPrefix("qf") }
                .map { String($0.dropFirst(2)) }
            lines[who] = collector.drain().map { Self.normalise($0, id: id) }
        }
        let real = lines["real"] ?? [], ours = lines["ours"] ?? []
        #expect(real.contains { $0.contains(": from=") }, "the real sendmail logged nothing: \(real)")
        #expect(ours == real)
    }

    /// Delivery cases on deliver.cf: (tag, mode flags and recipients,
    /// whether a queue run delivers).
    static let deliveryCases: [(String, [String], Bool)] = [
        // local users (grouped), an alias to a pipe, a file, a local
        // mailer without F=w; ctladdr= as sendmail decides it
        ("odi-sent", ["-odi", "-f", "bin", "root", "list", "pipe", "file", "x@local2"], false),
        // a mailer failing with EX_NOUSER (the bounce: DSN line and its
        // delivery), a failing program, a deferral, a user unknown at
        // submission, from a sender that is no local user
        ("odi-failures", ["-odi", "-f", "s@okhost", "c@nouser", "shprog", "a@tempfail", "nosuchuser", "root"], false),
        ("odb-failures", ["-odb", "-f", "root", "c@nouser", "a@tempfail", "root"], false),
        ("odq-unknown", ["-odq", "-f", "root", "nosuchuser", "root"], false),
        ("odq-all-unknown", ["-odq", "-f", "s@okhost", "nosuchuser"], false),
        // EX_UNAVAILABLE, EX_SOFTWARE, EX_DATAERR, EX_CONFIG: dsn= is the
        // exit status text's code (5.0.0, 5.3.0, 5.6.0, 5.3.5), not the
        // DSN's 5.5.0/5.5.2; at submission and in a run
        ("odi-unavailable", ["-odi", "-f", "root", "c@unavail", "d@software", "a@code65", "b@code78", "root"], false),
        ("queue-run-unavailable", ["-f", "root", "c@unavail", "d@software"], true),
        // a return receipt, a postmaster notice (from <>), a double bounce
        // (its sender refused: "return to sender")
        ("odi-receipt", ["-odi", "-N", "success", "-f", "bin", "root"], false),
        ("odi-null-sender", ["-odi", "-f", "<>", "c@nouser"], false),
        ("odi-double-bounce", ["-odi", "-f", "s@nouser", "c@nouser"], false),
        // a queue run: priority with RetryFactor, ctladdr of a local sender
        ("queue-run", ["-f", "bin", "root", "c@nouser", "a@tempfail", "pipe", "file", "x@local2"], true),
        ("queue-run-remote-sender", ["-f", "s@okhost", "root", "c@nouser", "list"], true),
    ]

    @Test("delivery lines (submission and queue run): to=, ctladdr=, xdelay=, mailer=, pri=, relay=, dsn=, stat=, DSN:",
          arguments: LogTests.deliveryCases)
    func deliveryLines(_ tag: String, _ arguments: [String], _ queueRun: Bool) throws {
        let lines = try Self.deliveryLogs(tag, arguments, queueRun)
        let real = Self.normaliseIDs(lines.real), ours = Self.normaliseIDs(lines.ours)
        #expect(real.contains { $0.contains(", stat=") && !$0.contains("stat=queued") },
                "the real sendmail logged no delivery: \(real)")
        #expect(ours == real)
    }

    /// A bounce's priority (pri= of its delivery, P of its qf) is the
    /// original's size as sendmail holds it (as received, or re-read from
    /// the queue: the df and the qf's header lines) plus 1024 plus
    /// RecipientFactor: compared unnormalised.
    @Test("a bounce's own pri= (at submission and in a queue run)", arguments: [
        ("bounce-pri-odi", ["-odi", "-oem", "-f", "root", "c@nouser", "root"], false),
        ("bounce-pri-run", ["-f", "root", "c@nouser", "d@unavail"], true),
    ])
    func bouncePriority(_ tag: String, _ arguments: [String], _ queueRun: Bool) throws {
        let lines = try Self.deliveryLogs(tag, arguments, queueRun)
        func shown(_ l: [String]) -> [String] {
            l.map { Self.normalise($0, id: nil) }.filter { $0.contains("pri=") }.map {
                $0.replacingOccurrences(of: #"[0-9A-Za-z]{8}[0-9]{6,}"#, with: "QID", options: .regularExpression)
            }
        }
        let real = shown(lines.real), ours = shown(lines.ours)
        // (the bounce's delivery: a to= line without ctladdr=, sent)
        #expect(lines.real.contains { $0.contains(": DSN: ") }
                    && real.contains { $0.contains("mailer=local") && !$0.contains("ctladdr=") && $0.contains("stat=Sent") },
                "the oracle's bounce was not delivered: \(lines.real)")
        #expect(ours == real)
    }

    /// Runs one delivery case with each binary; the raw syslog lines.
    static func deliveryLogs(_ tag: String, _ arguments: [String], _ queueRun: Bool) throws -> (real: [String], ours: [String]) {
        Self.ensureDevLog()
        let (cf, dir) = try SubmitDeliveryTests.prepare("log-\(tag)")
        let d = dir.path
        var options = SandboxOptions()
        options.rootHome = d + "/home"
        if queueRun {
            // the real sendmail queues it once; each binary runs a copy
            try SubmitDeliveryTests.freshDirectories(d)
            options.modeFlag = "-odq"
            options.extraArguments = ["-oi"] + arguments
            let r = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: SubmitDeliveryTests.message,
                                    options: options, runDir: Workspace.shared.runs, tag: "log-\(tag).submit")
            #expect(r.status == 0, "the oracle did not queue: \(String(decoding: r.stdout, as: UTF8.self))")
            try SubmitDeliveryTests.shell("rm -rf '\(d)/q.start' && cp -a '\(d)/q' '\(d)/q.start'")
        }
        var lines: [String: [String]] = [:]
        for (who, binary) in [("real", OracleEnvironment.oraclePath), ("ours", try OracleEnvironment.binaryUnderTest())] {
            if queueRun {
                try SubmitDeliveryTests.shell("rm -rf '\(d)/q' '\(d)/out'/* '\(d)/box'/* '\(d)/home'/* && cp -a '\(d)/q.start' '\(d)/q'")
            } else {
                try SubmitDeliveryTests.freshDirectories(d)
            }
            let collector = try DatagramCollector(path: dir.appendingPathComponent("log-\(who).sock").path)
            // (read while the binary runs: only 10 datagrams wait in the socket)
            collector.startDraining()
            options.devLog = collector.path
            options.modeFlag = queueRun ? "-qf" : "-bm"
            options.extraArguments = ["-OLogLevel=9"] + (queueRun ? [] : ["-oi"] + arguments)
            _ = try Sandbox.run(binary: binary, cf: cf, input: queueRun ? [] : SubmitDeliveryTests.message,
                                options: options, runDir: Workspace.shared.runs, tag: "log-\(tag).\(who)")
            if arguments.contains("-odb") {
                #expect(SubmitDeliveryTests.waitForBackground(d), "\(who): the background delivery did not finish")
            }
            lines[who] = collector.drain()
        }
        return (lines["real"] ?? [], lines["ours"] ?? [])
    }
}
