// mail.local/Sys.swift
//
// Thin wrappers over Glibc calls mail.local needs: full writes, errno
// text, ctime(3) dates, the process's login name, and the biff (comsat)
// notification.  Promises: no wrapper hides an error; each returns the
// errno it saw so callers can classify it as sendmail's e_to_sys does.
#if canImport(Glibc)
import Glibc
#endif

enum Sys {
    /// Writes every byte or returns the errno of the failing write.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                write(fd, raw.baseAddress! + off, bytes.count - off)
            }
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            off += n
        }
        return nil
    }

    /// strerror(3) text, as sm_errstring prints it for system errors.
    static func errorText(_ code: Int32) -> String {
        guard let p = strerror(code) else { return "Error \(code)" }
        return String(cString: p)
    }

    /// ctime(3) of `t` in the local time zone (TZ honoured), newline included.
    static func ctimeLine(_ t: time_t) -> [UInt8] {
        var t = t
        var buf = [CChar](repeating: 0, count: 64)
        guard ctime_r(&t, &buf) != nil else { return Array("???\n".utf8) }
        return buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    }

    /// The sender used when none is given: the login name if its uid is
    /// ours, else the name of our uid, else "???" (as the real mail.local).
    static func defaultSender() -> [UInt8] {
        let uid = getuid()
        if let l = getlogin(), let pw = getpwnam(l), pw.pointee.pw_uid == uid {
            return Array(String(cString: l).utf8)
        }
        if let pw = getpwuid(uid) { return Array(String(cString: pw.pointee.pw_name).utf8) }
        return Array("???".utf8)
    }

    /// The host name LMTP greets with ("localhost" if unset).
    static func hostName() -> String {
        var buf = [CChar](repeating: 0, count: 1024)
        _ = gethostname(&buf, 1023)
        let s = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return s.isEmpty ? "localhost" : s
    }
}

/// Notifies comsat ("biff" UDP service on localhost) of a delivery, as
/// mail.local does when the service is listed in /etc/services.  Silent.
final class Biff {
    private var address: sockaddr_in?
    private var sock: Int32 = -1

    init() {
        guard let sp = getservbyname("biff", "udp") else { return }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(truncatingIfNeeded: sp.pointee.s_port)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        address = a
    }

    /// Sends "user@offset\n" plus its NUL, as the real one does.
    func notify(user: [UInt8], offset: Int) {
        guard var a = address else { return }
        if sock < 0 { sock = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0) }
        if sock < 0 { return }
        let msg = user + Array("@\(offset)\n".utf8) + [0]
        _ = msg.withUnsafeBytes { raw in
            withUnsafePointer(to: &a) { ap in
                ap.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(sock, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }
}
