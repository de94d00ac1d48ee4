// LogTests.swift — the syslog lines of a queued submission (from=…,
// to=… stat=queued), against the real sendmail: each binary runs in the
// sandbox with a unix datagram socket of the test's own bind-mounted over
// /dev/log, and the lines received must be identical once the pid, the
// time stamp and the queue ID are normalised.
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
        return s
    }

    @Test("a queued submission: from= and to= ... stat=queued lines", arguments: [
        (["root", "daemon"], "Subject: x\nMessage-Id: <abc@x>\n\nbody\n", [String]()),
        (["a@relay.example"], "Subject: x\n\nbody\n", ["-B8BITMIME"]),
        (["staff"], "Subject: x\nPrecedence: bulk\n\nbody\n", ["-f", "daemon"]),
    ])
    func queuedSubmission(_ rcpts: [String], _ message: String, _ flags: [String]) throws {
        if access("/dev/log", F_OK) != 0 {
            let fd = open("/dev/log", O_CREAT | O_WRONLY, 0o644)
            #expect(fd >= 0, "cannot create /dev/log to mount over: \(String(cString: strerror(errno)))")
            if fd >= 0 { close(fd) }
        }
        let tag = rcpts.joined(separator: "_").filter { $0.isLetter || $0 == "_" }
        // one scratch directory per case: the cases run in parallel
        let (cf, dir) = try SubmitTests.prepareWithAliases(Configuration(name: "log-\(tag)", source: .cf("cf/submit.cf")))
        var lines: [String: [String]] = [:]
        for (who, binary) in [("real", OracleEnvironment.oraclePath), ("ours", try OracleEnvironment.binaryUnderTest())] {
            let q = try Faults.freshDirectory(dir, "q-\(tag)-\(who)")
            let collector = try DatagramCollector(path: dir.appendingPathComponent("log-\(who).sock").path)
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
}
