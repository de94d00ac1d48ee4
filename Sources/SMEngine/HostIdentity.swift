// SMEngine/HostIdentity.swift
//
// Who this host is, as sendmail works it out at start-up: the canonical
// host name ($w, $j, $m), the UUCP node name ($k), the host's aliases and
// addresses, and the interface addresses added to $=w.  The system calls
// are behind a protocol so tests can inject a fixed identity.
// Promises: no DNS lookup beyond what sendmail itself makes at start-up.

import Glibc
import SMBase

public protocol HostIdentitySource {
    /// gethostname().
    func hostName() -> [UInt8]
    /// uname() nodename.
    func nodeName() -> [UInt8]
    /// gethostbyname(name): canonical name, aliases and "[addr]" strings.
    func lookupHost(_ name: [UInt8]) -> (canonical: [UInt8], aliases: [[UInt8]], addresses: [[UInt8]])?
    /// IPv4 interface addresses that are up: (dotted quad, is loopback).
    func interfaceAddresses() -> [(address: [UInt8], loopback: Bool)]
    /// gethostbyaddr for an IPv4 dotted quad: name and aliases.
    func reverseLookup(_ address: [UInt8]) -> [[UInt8]]
}

public struct SystemHostIdentity: HostIdentitySource {
    public init() {}

    public func hostName() -> [UInt8] {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, 255) == 0 else { return Array("localhost".utf8) }
        return Array(String(cString: buf).utf8)
    }

    public func nodeName() -> [UInt8] {
        var u = utsname()
        guard uname(&u) == 0 else { return hostName() }
        return withUnsafePointer(to: &u.nodename) { p in
            p.withMemoryRebound(to: CChar.self, capacity: 65) { Array(String(cString: $0).utf8) }
        }
    }

    public func lookupHost(_ name: [UInt8]) -> (canonical: [UInt8], aliases: [[UInt8]], addresses: [[UInt8]])? {
        guard let hp = gethostbyname(name.string) else { return nil }
        let canonical = Array(String(cString: hp.pointee.h_name).utf8)
        var aliases: [[UInt8]] = []
        if var a = hp.pointee.h_aliases {
            while let s = a.pointee {
                aliases.append(Array(String(cString: s).utf8))
                a += 1
            }
        }
        var addresses: [[UInt8]] = []
        if hp.pointee.h_addrtype == AF_INET, hp.pointee.h_length == 4, var l = hp.pointee.h_addr_list {
            while let ap = l.pointee {
                var ina = in_addr()
                memcpy(&ina, ap, 4)
                addresses.append(Array("[\(String(cString: inet_ntoa(ina)))]".utf8))
                l += 1
            }
        }
        return (canonical, aliases, addresses)
    }

    public func interfaceAddresses() -> [(address: [UInt8], loopback: Bool)] {
        var result: [(address: [UInt8], loopback: Bool)] = []
        var ifap: UnsafeMutablePointer<ifaddrs>? = nil
        guard getifaddrs(&ifap) == 0, let first = ifap else { return [] }
        defer { freeifaddrs(ifap) }
        var cur: UnsafeMutablePointer<ifaddrs>? = first
        while let i = cur {
            defer { cur = i.pointee.ifa_next }
            guard let sa = i.pointee.ifa_addr, sa.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            let flags = Int32(bitPattern: i.pointee.ifa_flags)
            guard flags & Int32(IFF_UP) != 0 else { continue }
            let sin = UnsafeRawPointer(sa).assumingMemoryBound(to: sockaddr_in.self).pointee
            let s = String(cString: inet_ntoa(sin.sin_addr))
            result.append((Array(s.utf8), flags & Int32(IFF_LOOPBACK) != 0))
        }
        return result
    }

    public func reverseLookup(_ address: [UInt8]) -> [[UInt8]] {
        var ina = in_addr()
        guard inet_aton(address.string, &ina) != 0 else { return [] }
        guard let hp = withUnsafePointer(to: &ina, { gethostbyaddr($0, 4, AF_INET) }) else { return [] }
        var names = [Array(String(cString: hp.pointee.h_name).utf8)]
        if var a = hp.pointee.h_aliases {
            while let s = a.pointee {
                names.append(Array(String(cString: s).utf8))
                a += 1
            }
        }
        return names
    }
}
