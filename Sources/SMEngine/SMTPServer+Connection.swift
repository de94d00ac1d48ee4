// SMEngine/SMTPServer+Connection.swift
//
// What the daemon knows about a connection before the first byte, and
// how it reaches the session: ConnectionInfo carries the client's and the
// listener's addresses and names; the session sets from it the macros
// sendmail's daemon sets per connection ({client_addr} {client_port}
// {client_name} {client_resolve} {daemon_name} {daemon_addr}
// {daemon_port} {daemon_family} {daemon_flags} {if_name}, {if_addr} and
// {if_family} unless the interface is loopback, and $_ as
// "name [addr]" with "(may be forged)" when the name does not map back,
// "user@" before it when the client's ident server named a user).
// `open()` runs check_relay ("client_name $| client_addr") when the cf
// has it and gives the first reply: the greeting, or a 421 that ends the
// session; after another refusal the greeting is the usual one, EHLO
// offers only ENHANCEDSTATUSCODES and every command but HELO, EHLO, NOOP,
// RSET and QUIT gets the ruleset's reply (sendmail's null server).
// The refusal's log line names an IPv4 client's address as arg2 unless a
// dns map answered an A record during the ruleset (FEATURE(dnsbl)): then
// that answer, as sendmail's inet_ntoa() buffer shows it.
// Then greet_pause (same argument) when the greeting is a 220: a `$# n`
// result asks the daemon to wait n milliseconds before the greeting
// (`greetPause`); a client that sends anything meanwhile gets sendmail's
// 554 greeting, its log line and the null server
// (`preGreetingTraffic`).
// The listener's M=E turns ETRN off (not offered, refused); M=a refuses
// MAIL with "530 5.7.0 Authentication required" until the client
// authenticated.
// Promises: no I/O here; resolving names is the caller's business.

import Glibc
import SMBase
import SMRules
import SMMaps
import SMSMTP

public struct ConnectionInfo: Sendable {
    public var clientAddress: [UInt8]
    public var clientPort: Int
    /// The reverse-resolved name, or "[addr]" when there is none.
    public var clientName: [UInt8]
    /// OK, FAIL, FORGED or TEMP.
    public var clientResolve: [UInt8]
    public var daemonName: [UInt8]
    public var daemonAddress: [UInt8]
    public var daemonPort: Int
    public var daemonFamily: [UInt8]
    /// ${daemon_flags}: the M= letters, upper-case ones doubled.
    public var daemonFlags: [UInt8]
    public var interfaceName: [UInt8]
    /// The local address; nil for loopback (sendmail leaves {if_addr} unset).
    public var interfaceAddress: [UInt8]?
    public var interfaceFamily: [UInt8]?
    /// The user the client's ident server named (RFC 1413), if any.
    public var identUser: [UInt8]? = nil

    public init(clientAddress: [UInt8], clientPort: Int, clientName: [UInt8], clientResolve: [UInt8],
                daemonName: [UInt8], daemonAddress: [UInt8], daemonPort: Int, daemonFamily: [UInt8],
                daemonFlags: [UInt8], interfaceName: [UInt8], interfaceAddress: [UInt8]?, interfaceFamily: [UInt8]?) {
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.clientName = clientName
        self.clientResolve = clientResolve
        self.daemonName = daemonName
        self.daemonAddress = daemonAddress
        self.daemonPort = daemonPort
        self.daemonFamily = daemonFamily
        self.daemonFlags = daemonFlags
        self.interfaceName = interfaceName
        self.interfaceAddress = interfaceAddress
        self.interfaceFamily = interfaceFamily
    }
}

extension SMTPServer {
    func setConnectionMacros(_ c: ConnectionInfo) {
        daemonFlags = c.daemonFlags
        daemonName = c.daemonName
        if c.daemonFlags.contains(UInt8(ascii: "E")) { session.disabled.insert(.etrn) }
        setMacro("{client_addr}", c.clientAddress)
        setMacro("{client_port}", Array(String(c.clientPort).utf8))
        setMacro("{client_name}", c.clientName)
        setMacro("{client_ptr}", c.clientName)
        setMacro("{client_resolve}", c.clientResolve)
        setMacro("{daemon_name}", c.daemonName)
        setMacro("{daemon_addr}", c.daemonAddress)
        setMacro("{daemon_port}", Array(String(c.daemonPort).utf8))
        setMacro("{daemon_family}", c.daemonFamily)
        setMacro("{daemon_flags}", c.daemonFlags)
        setMacro("{if_name}", c.interfaceName)
        setMacro("{if_addr}", c.interfaceAddress)
        setMacro("{if_family}", c.interfaceFamily)
        var who = c.clientName.first == UInt8(ascii: "[") ? c.clientName
            : c.clientName + Array(" [".utf8) + c.clientAddress + [UInt8(ascii: "]")]
        if c.clientResolve == Array("FORGED".utf8) { who += Array(" (may be forged)".utf8) }
        if let u = c.identUser { who = u + [UInt8(ascii: "@")] + who }
        rw.macros[Int(UInt8(ascii: "_"))] = who
    }

    /// The session's first reply (see the file comment) and whether the
    /// connection ends after it.
    public func open() -> (reply: [UInt8], close: Bool) {
        let arg = namedMacro("{client_name}") + [Meta.condElse] + namedMacro("{client_addr}")
        _ = InetNtoaBuffer.take()
        let refused = policyCheck("check_relay", arg)
        // an IPv4 client's address text is inet_ntoa()'s static buffer in
        // sendmail: a dns map's A answer during the ruleset overwrites it
        let answered = InetNtoaBuffer.take()
        guard let first = refused.first else {
            greetPause = greetPauseMillis()
            if let r = filterConnect() { return r }
            // the AUTH mechanisms (the SASL library) now, with the rest of
            // the session's start, not at the first EHLO: EHLO then calls
            // nothing that may wait and the daemon answers it on its loop
            if !featuresOff.contains(UInt8(ascii: "A")) { authPrepare() }
            return (greeting(), false)
        }
        let ipv4 = !namedMacro("{client_addr}").contains(UInt8(ascii: ":"))
        logRejection("check_relay", namedMacro("{client_name}"), refused,
                     arg2: ipv4 ? answered ?? namedMacro("{client_addr}") : namedMacro("{client_addr}"), withID: false)
        if first.hasPrefix("421") {
            return (lines(refused), true)
        }
        let (code, enhanced, text) = stripReplyCode(first)
        session.refuseConnection(SMTPReply(code: Int(code ?? "550") ?? 550, enhanced: enhanced,
                                           lines: [Array(text.latin1Bytes)]))
        return (greeting(), false)
    }

    /// greet_pause on "{client_name} $| {client_addr}": the milliseconds
    /// of a `$# n` result (at most five minutes, as sendmail caps it),
    /// else 0.
    func greetPauseMillis() -> Int {
        guard let rs = rw.rulesets.find(Array("greet_pause".utf8)), rw.rulesets.hasRules(rs) else { return 0 }
        let name = namedMacro("{client_name}"), addr = namedMacro("{client_addr}")
        var ms = 0
        _ = capturing {
            var pvp = name.isEmpty ? [] : (policyTokens(name) ?? [])
            pvp += [[Meta.condElse]] + (addr.isEmpty ? [] : (policyTokens(addr) ?? []))
            rw.rewrite(&pvp, ruleset: rs)
            guard pvp.count > 1, pvp[0] == [Meta.canonNet] else { return }
            // strtol: the leading digits
            ms = Int(String(decoding: pvp[1].prefix { isASCIIDigit($0) }, as: UTF8.self)) ?? 0
        }
        return min(ms, 300_000)
    }

    /// The client sent something during the greet_pause wait: logged as
    /// sendmail logs it, the session becomes a null server answering
    /// "550 5.0.0 Command rejected", and its greeting is a 554 (returned).
    /// `seconds`: the wait until the traffic came, rounded.
    public func preGreetingTraffic(afterSeconds seconds: Int) -> [UInt8] {
        if envelopeID == nil { envelopeID = newQueueID(now()) }
        if let sink = engine.logSink, let id = envelopeID {
            sink.log(priority: LOG_INFO, "\(id.bytes.string): rejecting commands from \(namedMacro("{client_name}").string) "
                     + "[\(namedMacro("{client_addr}").string)] due to pre-greeting traffic after \(seconds) seconds")
        }
        session.refuseConnection(SMTPReply(550, "5.0.0", "Command rejected"))
        greetPause = 0
        return greeting(code: 554, text: [Meta.macroExpand, UInt8(ascii: "j")] + Array(" not accepting messages".utf8))
    }

    /// DeliveryMode's letter (sendmail's default: i, interactive).
    public var deliveryMode: UInt8 {
        engine.config.options["DeliveryMode"]?.first ?? UInt8(ascii: "i")
    }

    /// sendmail's CurHostName in its log lines: the client's name, or
    /// "localhost" for `-bs` (no network client).
    var clientHostName: String {
        let name = namedMacro("{client_name}")
        return name.isEmpty ? "localhost" : name.string
    }

    public func namedMacro(_ name: String) -> [UInt8] {
        guard let id = engine.config.names.id(forName: Array(name.dropFirst().dropLast().utf8)) else { return [] }
        return rw.macros[id] ?? []
    }
}
