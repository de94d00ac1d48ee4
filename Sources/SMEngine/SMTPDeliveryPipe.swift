// SMEngine/SMTPDeliveryPipe.swift
//
// The transport of mailers whose A= has no $u and that are no [IPC]
// mailer: a program that speaks SMTP, or LMTP with F=z (FEATURE(local_lmtp)'s
// `mail.local -l`), on its standard input and output.  The program is
// started as sendmail's deliver() starts a mailer (the uid/gid, directory
// and environment runMailer gives it), the session runs through
// SMTPDelivery.swift as over a socket, and closing the transport waits for
// the program to exit.  Its standard error is the caller's.
// Promises: between fork() and execve() the child calls only
// async-signal-safe functions; every C string is built before fork.

import Glibc
import SMBase
import SMConfig
import SMRules

/// A mailer program's stdin/stdout as an SMTP transport.
final class PipeTransport: SMTPTransport {
    let pid: pid_t
    let toChild: Int32
    let fromChild: SocketTransport
    var closed = false

    init(pid: pid_t, toChild: Int32, fromChild: Int32) {
        self.pid = pid; self.toChild = toChild
        self.fromChild = SocketTransport(fd: fromChild)
    }

    /// Starts `path` with `argv`; nil and the errno when it cannot.
    static func start(path: [UInt8], argv: [[UInt8]], environment: [[UInt8]], uid: uid_t, gid: gid_t,
                      directory: [UInt8]?) -> (PipeTransport?, Int32) {
        func cString(_ b: [UInt8]) -> UnsafeMutablePointer<CChar> {
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: b.count + 1)
            for (i, c) in b.enumerated() { p[i] = CChar(bitPattern: c == 0 ? 0x20 : c) }
            p[b.count] = 0
            return p
        }
        func cArray(_ list: [[UInt8]]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
            let a = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: list.count + 1)
            for (i, s) in list.enumerated() { a[i] = cString(s) }
            a[list.count] = nil
            return a
        }
        let cPath = cString(path), cArgv = cArray(argv), cEnv = cArray(environment)
        let cDir = directory.map { cString($0) }
        defer {
            cPath.deallocate()
            for i in 0...argv.count { cArgv[i]?.deallocate() }
            cArgv.deallocate()
            for i in 0...environment.count { cEnv[i]?.deallocate() }
            cEnv.deallocate()
            cDir?.deallocate()
        }
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1]
        guard pipe(&inPipe) == 0 else { return (nil, errno) }
        guard pipe(&outPipe) == 0 else { let e = errno; Glibc.close(inPipe[0]); Glibc.close(inPipe[1]); return (nil, e) }
        for f in inPipe + outPipe { _ = fcntl(f, F_SETFD, FD_CLOEXEC) }
        var groups: [gid_t] = [gid]
        let pid = fork()
        if pid == 0 {
            dup2(inPipe[0], 0)
            dup2(outPipe[1], 1)
            signal(SIGPIPE, SIG_DFL)
            var fd: Int32 = 3
            while fd < 1024 { Glibc.close(fd); fd += 1 }
            if getuid() == 0 || geteuid() == 0 {
                if setgroups(1, &groups) != 0 || setgid(gid) != 0 || setuid(uid) != 0 { _exit(71) }
            }
            if let d = cDir, chdir(d) != 0 { _exit(71) }
            execve(cPath, cArgv, cEnv)
            _exit(71)
        }
        Glibc.close(inPipe[0]); Glibc.close(outPipe[1])
        if pid < 0 {
            let e = errno
            Glibc.close(inPipe[1]); Glibc.close(outPipe[0])
            return (nil, e)
        }
        return (PipeTransport(pid: pid, toChild: inPipe[1], fromChild: outPipe[0]), 0)
    }

    func write(_ bytes: [UInt8], timeout: Int) -> Int32 {
        var off = 0
        while off < bytes.count {
            var p = pollfd(fd: toChild, events: Int16(POLLOUT), revents: 0)
            let n = poll(&p, 1, Int32(max(timeout, 1)) * 1000)
            if n == 0 { return ETIMEDOUT }
            if n < 0 { if errno == EINTR { continue }; return errno }
            let w = bytes[off...].withUnsafeBytes { Glibc.write(toChild, $0.baseAddress, $0.count) }
            if w < 0 { if errno == EINTR || errno == EAGAIN { continue }; return errno }
            off += w
        }
        return 0
    }

    func readLine(timeout: Int) -> SMTPLineResult { fromChild.readLine(timeout: timeout) }

    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(toChild)
        fromChild.close()
        var st: Int32 = 0
        while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
    }
}

extension Engine {
    /// Starts a mailer program that speaks SMTP/LMTP for `group`, with
    /// the argv, ids, directory and environment runMailer would give it.
    func startSMTPMailer(_ group: [QueuedRecipient], mailer m: Mailer) -> (PipeTransport?, Int32) {
        let macros = rewriter.macros
        let argv = m.argv.map { expandMacros($0, macros) }
        var env: [[UInt8]] = [Array("AGENT=sendmail".utf8)]
        for (name, value) in config.environment {
            if let v = value {
                env.append(name + [UInt8(ascii: "=")] + v)
            } else if let v = getenv(name.string) {
                env.append(name + [UInt8(ascii: "=")] + Array(String(cString: v).utf8))
            }
        }
        let (uid, gid) = mailerIDs(m, submissionDelivery ? group[0] : group[group.count - 1])
        var dir: [UInt8]? = nil
        if let d = m.execDir {
            for candidate in expandMacros(d, rewriter.macros).split(separator: UInt8(ascii: ":")) {
                var st = stat()
                if stat(String(decoding: candidate, as: UTF8.self), &st) == 0 { dir = Array(candidate); break }
            }
        }
        trafficLog?.exec(argv)
        return PipeTransport.start(path: m.path, argv: argv, environment: env, uid: uid, gid: gid, directory: dir)
    }
}
