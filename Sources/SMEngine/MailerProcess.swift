// SMEngine/MailerProcess.swift
//
// Runs one mailer program the way sendmail's deliver() starts it: a child
// with the given uid/gid (supplementary groups reset to the gid), root
// directory (the mailer's /=: chroot() after the group is set and before
// the user is, EX_TEMPFAIL when it fails), working directory (inside that
// root), exactly the given environment, the message on its stdin, and
// its stdout and stderr collected through one pipe.  The child only calls
// async-signal-safe functions between fork() and execve(): every C string
// is built before fork.
// Promises: returns after the child has exited; never throws; an exec
// failure is reported as sendmail's child reports it (exit 71 for a local
// mailer or a transient errno, else 69) with the errno kept.

import Glibc

struct MailerProcess {
    struct Result {
        /// The exit status, or 128+signal when the child was killed.
        var status: Int32
        /// Everything the mailer wrote to stdout and stderr.
        var output: [UInt8]
        /// errno of a failed execve, chdir or setuid in the child.
        var childErrno: Int32?
    }

    var path: [UInt8]
    var argv: [[UInt8]]
    var environment: [[UInt8]]
    var uid: uid_t
    var gid: gid_t
    var directory: [UInt8]?
    /// The mailer's /= directory: the child's root.
    var rootDirectory: [UInt8]? = nil
    /// F=l: an exec failure is EX_OSERR (temporary) rather than EX_UNAVAILABLE.
    var localMailer = false

    private static func cString(_ b: [UInt8]) -> UnsafeMutablePointer<CChar> {
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: b.count + 1)
        for (i, c) in b.enumerated() { p[i] = CChar(bitPattern: c == 0 ? 0x20 : c) }
        p[b.count] = 0
        return p
    }

    private static func cArray(_ list: [[UInt8]]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let a = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: list.count + 1)
        for (i, s) in list.enumerated() { a[i] = cString(s) }
        a[list.count] = nil
        return a
    }

    /// pipe() with both ends close-on-exec.
    private static func makePipe(_ fds: inout [Int32]) -> Int32 {
        guard pipe(&fds) == 0 else { return -1 }
        for f in fds { _ = fcntl(f, F_SETFD, FD_CLOEXEC) }
        return 0
    }

    func run(input: [UInt8]) -> Result {
        let cPath = Self.cString(path)
        let cArgv = Self.cArray(argv)
        let cEnv = Self.cArray(environment)
        let cDir = directory.map { Self.cString($0) }
        let cRoot = rootDirectory.map { Self.cString($0) }
        defer {
            cPath.deallocate()
            for i in 0...argv.count { cArgv[i]?.deallocate() }
            cArgv.deallocate()
            for i in 0...environment.count { cEnv[i]?.deallocate() }
            cEnv.deallocate()
            cDir?.deallocate()
            cRoot?.deallocate()
        }
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard Self.makePipe(&inPipe) == 0 else { return Result(status: 71, output: [], childErrno: errno) }
        guard Self.makePipe(&outPipe) == 0 else {
            close(inPipe[0]); close(inPipe[1])
            return Result(status: 71, output: [], childErrno: errno)
        }
        guard Self.makePipe(&errPipe) == 0 else {
            close(inPipe[0]); close(inPipe[1]); close(outPipe[0]); close(outPipe[1])
            return Result(status: 71, output: [], childErrno: errno)
        }
        var groups: [gid_t] = [gid]
        let uid = self.uid, gid = self.gid
        let localMailer = self.localMailer
        let pid = fork()
        if pid == 0 {
            // child: async-signal-safe calls only
            var e: Int32 = 0
            dup2(inPipe[0], 0)
            dup2(outPipe[1], 1)
            dup2(outPipe[1], 2)
            signal(SIGPIPE, SIG_DFL)
            // nothing of ours leaks into the mailer (alias databases, locks)
            var fd: Int32 = 3
            while fd < 1024 {
                if fd != errPipe[1] { close(fd) }
                fd += 1
            }
            let privileged = getuid() == 0 || geteuid() == 0
            if privileged, setgroups(1, &groups) != 0 || setgid(gid) != 0 { e = errno }
            // openmailer(): chroot between the group and the user
            if e == 0, let r = cRoot, chroot(r) != 0 || chdir("/") != 0 { _exit(75) }
            if e == 0, privileged, setuid(uid) != 0 { e = errno }
            if e == 0, let d = cDir, chdir(d) != 0 { e = errno }
            if e == 0 {
                execve(cPath, cArgv, cEnv)
                e = errno
            }
            withUnsafeBytes(of: &e) { _ = write(errPipe[1], $0.baseAddress, 4) }
            let transient = e == EAGAIN || e == EINTR || e == ENOMEM || e == ENFILE || e == EMFILE || e == ETXTBSY
            _exit(transient || localMailer ? 71 : 69)
        }
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        if pid < 0 {
            let err = errno
            close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
            return Result(status: 71, output: [], childErrno: err)
        }
        var output: [UInt8] = []
        var written = 0
        var inFD = inPipe[1]
        var outFD = outPipe[0]
        if input.isEmpty { close(inFD); inFD = -1 }
        _ = fcntl(inPipe[1], F_SETFL, fcntl(inPipe[1], F_GETFL) | O_NONBLOCK)
        var buf = [UInt8](repeating: 0, count: 65536)
        while inFD >= 0 || outFD >= 0 {
            var fds: [pollfd] = []
            if inFD >= 0 { fds.append(pollfd(fd: inFD, events: Int16(POLLOUT), revents: 0)) }
            if outFD >= 0 { fds.append(pollfd(fd: outFD, events: Int16(POLLIN), revents: 0)) }
            let n = poll(&fds, nfds_t(fds.count), -1)
            if n < 0 { if errno == EINTR { continue }; break }
            for p in fds where p.revents != 0 {
                if p.fd == inFD {
                    let w = input[written...].withUnsafeBytes { write(inFD, $0.baseAddress, min($0.count, 65536)) }
                    if w > 0 { written += w }
                    if w < 0 && errno != EAGAIN && errno != EINTR { written = input.count }
                    if written >= input.count { close(inFD); inFD = -1 }
                } else if p.fd == outFD {
                    let r = buf.withUnsafeMutableBytes { read(outFD, $0.baseAddress, $0.count) }
                    if r > 0 { output += buf[0..<r] } else if r == 0 || (errno != EINTR && errno != EAGAIN) {
                        close(outFD); outFD = -1
                    }
                }
            }
        }
        var childErr: Int32 = 0
        let got = withUnsafeMutableBytes(of: &childErr) { read(errPipe[0], $0.baseAddress, 4) }
        close(errPipe[0])
        var st: Int32 = 0
        while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
        let status: Int32 = (st & 0x7F) == 0 ? (st >> 8) & 0xFF : 128 + (st & 0x7F)
        return Result(status: status, output: output, childErrno: got == 4 ? childErr : nil)
    }
}
