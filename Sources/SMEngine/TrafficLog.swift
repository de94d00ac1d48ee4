// SMEngine/TrafficLog.swift
//
// sendmail's traffic log (`-X file`): every line the process reads from
// its client or a mailer and every line it writes to them, one log line
// each, "PPPPP <<< line" for what was read, "PPPPP >>> line" for what was
// written, "PPPPP === EXEC argv" when a mailer starts (PPPPP: the pid,
// at least five digits with leading zeros).  What is logged, as sendmail
// 8.17 logs it: the -bs session (commands and DATA lines as read, CR
// kept; replies without their CR LF), the message read by a command-line
// submission (its end of file logged as "[EOF]"; a lone "." ends it
// unless dots are ignored), the lines sendmail prints (-v
// transcript, errors), and a mailer's dialogue (the message written to
// it, what it printed, then "<<< [EOF]").
// Promises: the file is opened for appending (created mode 0666 less the
// umask) as sendmail's fopen(.., "a") does; each log line is one write(2)
// so that concurrent processes' lines never mix; a file that cannot be
// opened is reported and ignored, as sendmail does.

import Glibc
import SMBase
import SMRules

public final class TrafficLog {
    let fd: Int32
    let prefix: [UInt8]
    /// A partial output line waiting for its newline.
    var pendingOutput: [UInt8] = []

    /// Opens `path` for appending; nil (after printing sendmail's
    /// message to `out`) when it cannot be opened.
    public init?(path: [UInt8], out: OutputBuffer) {
        let f = open(path.string, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o666)
        if f < 0 {
            let e = String(cString: strerror(errno))
            out.write("cannot open \(path.string): \(e)\n")
            return nil
        }
        fd = f
        let pid = String(getpid())
        prefix = Array((String(repeating: "0", count: max(0, 5 - pid.count)) + pid).utf8)
    }

    deinit { close(fd) }

    func emit(_ tag: String, _ line: [UInt8]) {
        let bytes = prefix + Array(" \(tag) ".utf8) + line + [0x0A]
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            off += n
        }
    }

    /// A line read (without its LF; a CR before it is kept).
    public func read(_ line: [UInt8]) { emit("<<<", line) }

    /// Bytes written to the client or a mailer: one log line per line,
    /// CR LF or LF removed; a partial line waits for the rest.
    public func wrote(_ bytes: [UInt8]) {
        pendingOutput += bytes
        while let nl = pendingOutput.firstIndex(of: 0x0A) {
            var line = Array(pendingOutput[..<nl])
            if line.last == 0x0D { line.removeLast() }
            pendingOutput.removeSubrange(...nl)
            emit(">>>", line)
        }
    }

    /// A mailer started with `argv`.
    public func exec(_ argv: [[UInt8]]) {
        emit("===", Array("EXEC ".utf8) + Array(argv.joined(separator: [0x20])))
    }

    /// The message written to a mailer, line by line.
    public func wroteMessage(_ bytes: [UInt8]) {
        var rest = bytes[...]
        while let nl = rest.firstIndex(of: 0x0A) {
            var line = Array(rest[..<nl])
            if line.last == 0x0D { line.removeLast() }
            emit(">>>", line)
            rest = rest[(nl + 1)...]
        }
        if !rest.isEmpty { emit(">>>", Array(rest)) }
    }

    /// What a mailer printed, line by line, then its end of file.
    public func mailerOutput(_ bytes: [UInt8]) {
        var rest = bytes[...]
        while let nl = rest.firstIndex(of: 0x0A) {
            read(Array(rest[..<nl]))
            rest = rest[(nl + 1)...]
        }
        if !rest.isEmpty { read(Array(rest)) }
        read(Array("[EOF]".utf8))
    }

    /// The message a command-line submission read, as collect() logs it:
    /// line by line (a CR kept) up to a lone "." (unless `ignoreDots`),
    /// then what follows the last newline with "[EOF]" (alone after a
    /// complete last line).  collect()'s quirk is kept: a CR that is not
    /// followed by LF logs the byte after it twice.
    public func submittedMessage(_ data: [UInt8], ignoreDots: Bool) {
        var line: [UInt8] = []
        var i = 0
        while i < data.count {
            let c = data[i]
            i += 1
            if c == 0x0A {
                read(line)
                if !ignoreDots && (line == [UInt8(ascii: ".")] || line == [UInt8(ascii: "."), 0x0D]) { return }
                line = []
                continue
            }
            line.append(c)
            if c == 0x0D, i < data.count, data[i] != 0x0A { line.append(data[i]) }
        }
        read(line + Array("[EOF]".utf8))
    }
}

extension Engine {
    /// `-X path`: logs from now on what this process reads and writes.
    public func startTrafficLog(_ path: [UInt8]) {
        guard let log = TrafficLog(path: path, out: out) else { return }
        trafficLog = log
        out.tee = { [unowned log] in log.wrote($0) }
    }

    /// The input of a command-line submission, as collect() logs it.
    public func logSubmittedInput(_ data: [UInt8]) {
        trafficLog?.submittedMessage(data, ignoreDots: config.options.bool("IgnoreDots"))
    }
}
