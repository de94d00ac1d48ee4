// SMDaemon/ControlSocket.swift
//
// sendmail's control socket (the ControlSocketName option; Debian's cf sets
// it, and its init script's `status`/`control` and smcontrol.pl talk to
// it): a UNIX stream socket, mode 0660, where each connection gives one
// command line and gets its answer (CRLF lines), then is closed.  The
// commands, in any case, as measured on sendmail 8.17:
//   HELP      the HelpFile's "control" lines (or "502 5.3.0 ... HELP not
//             implemented")
//   STATUS    "<sessions>/<MaxDaemonChildren>/<free KB in QueueDirectory>/
//             <load average>", then "<pid> accepting connections"
//   MSTAT     "C:<sessions>", "M:<MaxDaemonChildren>", "L:<load>",
//             "Q:NOTCONFIGURED:-1", "D:0/./<free KB>", "P:<pid> accepting
//             connections"
//   SHUTDOWN  "OK", then as SIGTERM;  RESTART  "OK", then as SIGHUP
//   MEMDUMP   sendmail's "Memory dump unavailable." text
//   other     "Bad command (<word>)"
// Decisions: our sessions are not processes, so STATUS and MSTAT list the
// daemon alone where sendmail lists its children too ("control socket
// server child", one per SMTP session); RESTART reloads the cf as SIGHUP
// does (live sessions go on) where sendmail executes itself again.  A
// socket whose directory anyone may write to is refused with sendmail's
// log line ("daemon could not open control socket <path>: World writable
// directory").
// Promises: a thread of its own with a blocking accept (control traffic is
// rare); a client gets 5 s to send its line; the socket file is removed
// when the daemon stops.

import Dispatch
import Glibc
import SMBase
import SMEngine

final class ControlSocket: @unchecked Sendable {
    let path: String
    let fd: Int32
    weak var daemon: Daemon?

    private init(path: String, fd: Int32, daemon: Daemon) {
        self.path = path
        self.fd = fd
        self.daemon = daemon
    }

    /// The socket ControlSocketName names, listening (nil: none, or it
    /// could not be made, logged as sendmail logs it).
    static func start(_ d: Daemon, path: String) -> ControlSocket? {
        guard !path.isEmpty else { return nil }
        let dir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        var st = stat()
        if stat(dir.isEmpty ? "/" : dir, &st) == 0, st.st_mode & S_IWOTH != 0 {
            d.log(LOG_WARNING, "daemon could not open control socket \(path): World writable directory")
            return nil
        }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            d.log(LOG_WARNING, "daemon could not open control socket \(path): File name too long")
            return nil
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        // (an old socket goes; anything else there is left alone)
        var old = stat()
        if lstat(path, &old) == 0 {
            guard old.st_mode & S_IFMT == S_IFSOCK else {
                d.log(LOG_WARNING, "daemon could not open control socket \(path): not a socket")
                close(fd)
                return nil
            }
            _ = unlink(path)
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, chmod(path, 0o660) == 0, listen(fd, 8) == 0 else {
            d.log(LOG_WARNING, "daemon could not open control socket \(path): \(String(cString: strerror(errno)))")
            close(fd)
            return nil
        }
        let c = ControlSocket(path: path, fd: fd, daemon: d)
        DispatchQueue(label: "sendmail.control-socket").async { c.serve() }
        return c
    }

    /// Stops listening and removes the socket file.
    func stop() {
        _ = unlink(path)
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    func serve() {
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 {
                if errno == EINTR { continue }
                return
            }
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            var tv = timeval(tv_sec: 5, tv_usec: 0)
            _ = setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let line = readLine(c)
            let (reply, after) = answer(line)
            _ = reply.withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
            close(c)
            after?()
        }
    }

    /// One line (without its CR LF), at most 1 KB.
    func readLine(_ c: Int32) -> [UInt8] {
        var line: [UInt8] = []
        var b: UInt8 = 0
        while line.count < 1024, read(c, &b, 1) == 1 {
            if b == 0x0A { break }
            line.append(b)
        }
        if line.last == 0x0D { line.removeLast() }
        return line
    }

    /// The reply to a command, and what the daemon does once it is sent.
    func answer(_ line: [UInt8]) -> (reply: [UInt8], then: (() -> Void)?) {
        let word = Array(line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }).first ?? [])
        func lines(_ ls: [String]) -> [UInt8] { Array(ls.map { $0 + "\r\n" }.joined().utf8) }
        guard let d = daemon else { return ([], nil) }
        switch word.string.lowercased() {
        case "help":
            return (d.currentPrototype.helpReply(Array("control".utf8)).encoded, nil)
        case "status":
            let s = d.controlStatus()
            return (lines(["\(s.sessions)/\(d.maxChildren)/\(s.freeKB)/\(s.load)", "\(getpid()) accepting connections"]), nil)
        case "mstat":
            let s = d.controlStatus()
            return (lines(["C:\(s.sessions)", "M:\(d.maxChildren)", "L:\(s.load)", "Q:NOTCONFIGURED:-1",
                           "D:0/./\(s.freeKB)", "P:\(getpid()) accepting connections"]), nil)
        case "shutdown":
            return (lines(["OK"]), { d.signalQueue.async { d.shutdown() } })
        case "restart":
            return (lines(["OK"]), { d.signalQueue.async { d.reload() } })
        case "memdump":
            return (lines(["Memory dump unavailable.", "To fix, run sendmail with -dsm_check_heap.4"]), nil)
        default:
            return (lines(["Bad command (\(word.string))"]), nil)
        }
    }
}

extension Daemon {
    var currentPrototype: Engine { lock.withLock { prototype } }

    /// What STATUS and MSTAT report: the sessions open, the free space
    /// of QueueDirectory in KB, the load average.
    func controlStatus() -> (sessions: Int, freeKB: Int, load: Int) {
        let (n, qdir) = lock.withLock { (sessions.count, prototype.config.options["QueueDirectory"]?.string ?? ".") }
        var fs = statvfs()
        let free = statvfs(qdir, &fs) == 0 ? Int(UInt64(fs.f_bavail) * UInt64(fs.f_frsize) / 1024) : 0
        return (n, free, systemLoadAverage())
    }
}
