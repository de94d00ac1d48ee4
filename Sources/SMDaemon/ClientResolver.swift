// SMDaemon/ClientResolver.swift
//
// Who is connecting, as sendmail's daemon works it out before the
// greeting: the client's address and port, its name by reverse lookup
// (getnameinfo through the system resolver, thread-safe), confirmed by a
// forward lookup ({client_resolve} OK; FAIL or TEMP when there is no
// name, and the name is then "[addr]"; FORGED when the name does not map
// back to the address), and the local interface's name and address
// ({if_addr} stays unset on loopback, as in sendmail).  IPv6 addresses
// are written as sendmail writes them: "IPv6:0:0:0:0:0:0:0:1"; then the
// ident lookup (Ident.swift) within Timeout.ident.
// Promises: blocking (DNS): call it off the event loop only.

import Glibc
import NIOCore
import SMEngine

/// A NUL-terminated C buffer as text.
func cText(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

enum ClientResolver {
    /// An address as sendmail's anynet_ntoa writes it: dotted quad, or
    /// "IPv6:" and eight hex groups (uncompressed unless
    /// UseCompressedIPv6Addresses is set).
    static func text(_ a: SocketAddress?, compressed: Bool = false) -> String {
        guard let a else { return "0.0.0.0" }
        if case .v6(let v6) = a {
            var addr = v6.address.sin6_addr
            return ipv6Text(withUnsafeBytes(of: &addr) { Array($0) }, compressed: compressed)
        }
        return a.ipAddress ?? "0.0.0.0"
    }

    static func ipv6Text(_ bytes: [UInt8], compressed: Bool) -> String {
        if compressed {
            var buf = [CChar](repeating: 0, count: 64)
            _ = bytes.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, &buf, 64) }
            return "IPv6:" + cText(buf)
        }
        let groups = stride(from: 0, to: 16, by: 2).map { String(Int(bytes[$0]) << 8 | Int(bytes[$0 + 1]), radix: 16) }
        return "IPv6:" + groups.joined(separator: ":")
    }

    /// A listener's address text ("::1", "0.0.0.0") as anynet_ntoa writes it.
    static func listenerText(_ port: DaemonPort, compressed: Bool) -> String {
        guard port.family == "inet6" else { return port.addressText }
        var addr = in6_addr()
        guard inet_pton(AF_INET6, port.addressText, &addr) == 1 else { return port.addressText }
        return ipv6Text(withUnsafeBytes(of: &addr) { Array($0) }, compressed: compressed)
    }

    /// Reverse lookup: the name, or nil with whether the failure was temporary.
    static func name(of address: SocketAddress) -> (name: String?, temporary: Bool) {
        var buf = [CChar](repeating: 0, count: 1025)
        let rc: Int32 = address.withSockAddr { sa, len in
            getnameinfo(sa, socklen_t(len), &buf, 1025, nil, 0, NI_NAMEREQD)
        }
        if rc == 0 { return (cText(buf), false) }
        return (nil, rc == EAI_AGAIN)
    }

    /// Whether `name` resolves back to `ip`.
    static func confirms(_ name: String, _ ip: String) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>? = nil
        guard getaddrinfo(name, nil, &hints, &res) == 0, let first = res else { return false }
        defer { freeaddrinfo(res) }
        var cur: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cur {
            var buf = [CChar](repeating: 0, count: 64)
            if getnameinfo(ai.pointee.ai_addr, ai.pointee.ai_addrlen, &buf, 64, nil, 0, NI_NUMERICHOST) == 0,
               cText(buf) == ip {
                return true
            }
            cur = ai.pointee.ai_next
        }
        return false
    }

    static func isLoopback(_ a: SocketAddress?) -> Bool {
        guard let ip = a?.ipAddress else { return false }
        return ip.hasPrefix("127.") || ip == "::1"
    }

    static func connectionInfo(remote: SocketAddress?, local: SocketAddress?, port: DaemonPort,
                               compressedIPv6: Bool, identTimeout: Int = 0) -> ConnectionInfo {
        let ip = text(remote, compressed: compressedIPv6)
        var clientName = "[\(ip)]"
        var resolve = "FAIL"
        if let r = remote {
            let (n, temporary) = name(of: r)
            if let n {
                clientName = n
                resolve = confirms(n, r.ipAddress ?? "") ? "OK" : "FORGED"
            } else if temporary {
                resolve = "TEMP"
            }
        }
        var ifName = "[\(text(local, compressed: compressedIPv6))]"
        if let l = local, let n = name(of: l).name { ifName = n }
        let loop = isLoopback(local)
        let family: String? = local.map { a -> String in
            if case .v6 = a { return String(AF_INET6) }
            return String(AF_INET)
        }
        var info = ConnectionInfo(
            clientAddress: Array(ip.utf8), clientPort: remote?.port ?? 0, clientName: Array(clientName.utf8),
            clientResolve: Array(resolve.utf8), daemonName: Array(port.name.utf8),
            daemonAddress: Array(listenerText(port, compressed: compressedIPv6).utf8), daemonPort: port.port, daemonFamily: Array(port.family.utf8),
            daemonFlags: port.flagsMacro, interfaceName: Array(ifName.utf8),
            interfaceAddress: loop ? nil : Array(text(local, compressed: compressedIPv6).utf8), interfaceFamily: loop ? nil : family.map { Array($0.utf8) })
        info.identUser = Ident.lookup(remote: remote, local: local, timeout: identTimeout)
        return info
    }
}
