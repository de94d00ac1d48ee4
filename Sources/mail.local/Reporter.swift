// mail.local/Reporter.swift
//
// Error reporting and the exit status, with the real mail.local's rules:
// every reported error first classifies the current errno (temporary
// errors make the status EX_TEMPFAIL, which then sticks; anything else
// makes it EX_UNAVAILABLE), messages go to stderr prefixed "mail.local: "
// (or, in LMTP mode, to stdout as "<code> <text>\r\n"), and errors may be
// held back until the caller decides which recipient they belong to.
// Promises: the status only ever moves as e_to_sys moves it.
#if canImport(Glibc)
import Glibc
#endif
import SMBase

final class Reporter {
    var exitValue: Int32 = SysExit.ok.rawValue
    var lmtpMode = false
    var holdErrors = false
    var bounceQuota = false
    private var held: [UInt8] = []
    let out: OutputBuffer

    init(out: OutputBuffer) { self.out = out }

    /// errno values the real mail.local treats as temporary.
    static let temporaryErrnos: Set<Int32> = [
        EAGAIN, EBUSY, EUSERS, ECONNABORTED, ECONNREFUSED, ECONNRESET, EDEADLK,
        EFBIG, EHOSTDOWN, EHOSTUNREACH, EMFILE, ENETDOWN, ENETRESET, ENETUNREACH,
        ENFILE, ENOBUFS, ENOMEM, ENOSPC, EROFS, ESTALE, ETIMEDOUT,
    ]

    /// sendmail's e_to_sys: classify `err` into the exit status.
    @discardableResult
    func classify(_ err: Int32) -> Int32 {
        if exitValue == SysExit.tempFail.rawValue { return exitValue }
        if err == EDQUOT {
            exitValue = bounceQuota ? SysExit.unavailable.rawValue : SysExit.tempFail.rawValue
        } else if Reporter.temporaryErrnos.contains(err) {
            exitValue = SysExit.tempFail.rawValue
        } else {
            exitValue = SysExit.unavailable.rawValue
        }
        return exitValue
    }

    /// mailerr: `code` is the LMTP reply prefix ("451 4.3.0"), nil for none.
    func error(_ code: String?, _ text: String, errno err: Int32 = 0) {
        classify(err)
        var msg: [UInt8] = []
        if lmtpMode, let code { msg += Array((code + " ").utf8) }
        msg += text.latin1Bytes
        held = msg
        if !holdErrors { flush() }
    }

    /// flush_error: print the last held error.
    func flush() {
        if lmtpMode {
            out.append(held + [0x0D, 0x0A])
        } else {
            let line = (exitValue != SysExit.usage.rawValue ? Array("mail.local: ".utf8) : []) + held + [0x0A]
            _ = Sys.writeAll(2, line)
        }
    }
}

/// Buffered stdout, flushed before every read in LMTP mode (as stdio is).
final class OutputBuffer {
    private var buf: [UInt8] = []
    func append(_ b: [UInt8]) { buf += b }
    func append(_ s: String) { buf += Array(s.utf8) }
    func flush() {
        if buf.isEmpty { return }
        _ = Sys.writeAll(1, buf)
        buf.removeAll(keepingCapacity: true)
    }
}
