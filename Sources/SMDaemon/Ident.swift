// SMDaemon/Ident.swift
//
// The RFC 1413 lookup sendmail's daemon makes before the greeting
// (getauthinfo): a TCP connection from the listener's address to the
// client's port 113, the query "<client port>,<our port>\r\n", one reply
// line; a reply "<ports> : USERID : <os>[, charset] : <user>" gives the
// user, anything else (ERROR, garbage, no answer, a refused connection)
// none.  The whole exchange is bounded by Timeout.ident (sendmail's
// default 5s; 0 turns the lookup off).  The user is cleaned as sendmail
// cleans it for US-ASCII (only letters, digits and !#$%&'*+-./^_`{|}~
// kept); another charset keeps it as sent.  The session then shows the
// client as "user@" before the usual "name [addr]" in `$_`.
// Promises: blocking (up to the timeout): call it off the event loop
// only; the socket is always closed.

import Glibc
import NIOCore

enum Ident {
    /// The user the client's ident server names, or nil.
    static func lookup(remote: SocketAddress?, local: SocketAddress?, timeout: Int) -> [UInt8]? {
        guard timeout > 0, let remote, let local, let rport = remote.port, let lport = local.port else { return nil }
        let deadline = monotonicMillis() + Int64(timeout) * 1000
        let family: Int32
        switch remote {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        default: return nil
        }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // from the address the client reached, any port
        var from = local
        from = (try? SocketAddress(ipAddress: local.ipAddress ?? "", port: 0)) ?? from
        guard from.withSockAddr({ bind(fd, $0, socklen_t($1)) }) == 0 else { return nil }
        guard let to = try? SocketAddress(ipAddress: remote.ipAddress ?? "", port: 113) else { return nil }
        let rc = to.withSockAddr { connect(fd, $0, socklen_t($1)) }
        if rc != 0 {
            guard errno == EINPROGRESS, wait(fd, Int16(POLLOUT), until: deadline) else { return nil }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0, err == 0 else { return nil }
        }
        let query = Array("\(rport),\(lport)\r\n".utf8)
        var sent = 0
        while sent < query.count {
            let n = query[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { sent += n; continue }
            guard n < 0, errno == EAGAIN || errno == EINTR, wait(fd, Int16(POLLOUT), until: deadline) else { return nil }
        }
        var reply: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 512)
        while !reply.contains(0x0A) && reply.count < 1024 {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 512, 0) }
            if n > 0 { reply += buf[0..<n]; continue }
            if n == 0 { break }
            guard errno == EAGAIN || errno == EINTR, wait(fd, Int16(POLLIN), until: deadline) else { return nil }
        }
        return user(fromReply: reply)
    }

    /// The user of a USERID reply line, cleaned as sendmail cleans it.
    static func user(fromReply raw: [UInt8]) -> [UInt8]? {
        var line = raw
        if let nl = line.firstIndex(of: 0x0A) { line = Array(line[..<nl]) }
        if line.last == 0x0D { line.removeLast() }
        // <ports> : USERID : <os>[,charset] : <user>
        guard let c1 = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        var rest = Array(line[(c1 + 1)...]).drop { $0 == 0x20 || $0 == 0x09 }
        guard rest.count >= 6, Array(rest.prefix(6)).map({ $0 | 0x20 }) == Array("userid".utf8) else { return nil }
        rest = rest.dropFirst(6).drop { $0 == 0x20 || $0 == 0x09 }
        guard rest.first == UInt8(ascii: ":") else { return nil }
        rest = rest.dropFirst()
        guard let c3 = rest.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let system = Array(rest[..<c3])
        var charset = Array("US-ASCII".utf8)
        if let comma = system.firstIndex(of: UInt8(ascii: ",")) {
            charset = Array(system[(comma + 1)...].drop { $0 == 0x20 || $0 == 0x09 })
            while let l = charset.last, l == 0x20 || l == 0x09 { charset.removeLast() }
        }
        let name = Array(rest[(c3 + 1)...].drop { $0 == 0x20 || $0 == 0x09 })
        let ascii = charset.count >= 8 && Array(charset.prefix(8)).map({ $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }) == Array("US-ASCII".utf8)
        let allowed = Set(Array("!#$%&'*+-./^_`{|}~".utf8))
        let user = ascii ? name.filter { $0 < 0x80 && (isalnum(Int32($0)) != 0 || allowed.contains($0)) } : name
        return user.isEmpty ? nil : Array(user.prefix(255))
    }

    static func wait(_ fd: Int32, _ events: Int16, until deadline: Int64) -> Bool {
        while true {
            let left = deadline - monotonicMillis()
            guard left > 0 else { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let r = poll(&p, 1, Int32(min(left, 60_000)))
            if r > 0 { return true }
            if r < 0 && errno == EINTR { continue }
            if r == 0 { continue }
            return false
        }
    }

    static func monotonicMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
