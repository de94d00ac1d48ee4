// SMDaemon/DaemonPort.swift
//
// One listener as a DaemonPortOptions value describes it ("Port=2525,
// Addr=127.0.0.1, Name=MTA, Family=inet, M=Ea"): every O
// DaemonPortOptions line of the cf is one listener (Debian's MTA on 25
// and MSA on 587); a -O DaemonPortOptions on the command line replaces
// the cf's.  None at all gives sendmail's default, "Daemon0" on port 25
// of every IPv4 address.  Keys are matched on their first letter as
// sendmail does (Name, Port, Addr, Family, Listen, Modifiers/M); the
// others (SndBufSize, InputMailFilters, children, DeliveryMode, ...) are
// kept but not used yet.
// Promises: pure; an unknown port name or address is a typed error
// naming the listener, never a crash.

import Glibc
import SMBase
import SMConfig

public struct DaemonPort: Sendable, Equatable {
    public var name: String
    public var port: Int
    /// Dotted quad or IPv6 text; nil: every address of the family.
    public var address: String?
    /// "inet" or "inet6".
    public var family: String
    /// The M= letters as given.
    public var modifiers: [UInt8]
    /// listen(2) backlog (Listen=, default 10 as in sendmail).
    public var backlog: Int
    /// DeliveryMode= for this listener (first letter), if set.
    public var deliveryMode: UInt8?
    /// children= (MaxDaemonChildren for this listener), if set.
    public var maxChildren: Int?

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// ${daemon_flags}: each modifier letter, upper-case ones doubled,
    /// separated by blanks ("Ea" -> "EE a").
    public var flagsMacro: [UInt8] {
        modifiers.filter { isASCIIAlnum($0) }.map { c -> [UInt8] in
            (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) ? [c, c] : [c]
        }.joined(separator: [0x20]).map { $0 }
    }

    /// The address text for {daemon_addr}: "0.0.0.0" / "::" when unbound.
    public var addressText: String { address ?? (family == "inet6" ? "::" : "0.0.0.0") }

    /// Parses one DaemonPortOptions value; `index` names it "Daemon<i>"
    /// when it has no Name=.
    public static func parse(_ value: [UInt8], index: Int) throws -> DaemonPort {
        var d = DaemonPort(name: "Daemon\(index)", port: 25, address: nil, family: "inet", modifiers: [],
                           backlog: 10, deliveryMode: nil, maxChildren: nil)
        var portText = "smtp"
        for item in value.split(separator: UInt8(ascii: ",")) {
            let field = Array(item).trimmingASCIISpace
            guard let eq = field.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = Array(field[..<eq]).trimmingASCIISpace.asciiLowercased.string
            let v = Array(field[(eq + 1)...]).trimmingASCIISpace.string
            switch key {
            case "name", "n": d.name = v
            case "port", "p": portText = v
            case "addr", "a": d.address = v
            case "family", "f": d.family = v.lowercased()
            case "listen", "l": d.backlog = Int(v) ?? 10
            case "modifier", "modifiers", "m": d.modifiers = Array(v.utf8)
            case "deliverymode", "d": d.deliveryMode = v.utf8.first
            case "children", "c": d.maxChildren = Int(v)
            default: break
            }
        }
        guard d.family == "inet" || d.family == "inet6" else {
            throw Failure(description: "daemon \(d.name): unsupported family \(d.family)")
        }
        if let n = Int(portText) {
            d.port = n
        } else if let se = getservbyname(portText, "tcp") {
            d.port = Int(UInt16(bigEndian: UInt16(truncatingIfNeeded: se.pointee.s_port)))
        } else if portText == "submission" {
            d.port = 587
        } else if portText == "smtp" {
            d.port = 25
        } else {
            throw Failure(description: "daemon \(d.name): invalid port number \(portText)")
        }
        if let a = d.address, !a.isEmpty, !a.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) {
            // a host name: its first address of the family
            guard let hp = gethostbyname2(a, d.family == "inet6" ? AF_INET6 : AF_INET),
                  let first = hp.pointee.h_addr_list?.pointee else {
                throw Failure(description: "daemon \(d.name): unknown host \(a)")
            }
            var buf = [CChar](repeating: 0, count: 64)
            inet_ntop(hp.pointee.h_addrtype, first, &buf, 64)
            d.address = cText(buf)
        }
        return d
    }

    /// Every listener of a loaded configuration, in order.
    public static func all(_ config: Configuration) throws -> [DaemonPort] {
        let values = config.options.history["DaemonPortOptions"] ?? []
        if values.isEmpty { return [try parse([], index: 0)] }
        return try values.enumerated().map { try parse($0.element, index: $0.offset) }
    }
}
