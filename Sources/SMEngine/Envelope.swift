// SMEngine/Envelope.swift
//
// The envelope of a message submitted on the command line and its
// rendering as a queue control file, as sendmail's queueup() writes it
// for a fresh message: V T K0 N0 P [B] [M] F $macros S [Z] [A], then per
// sendable recipient [C] r R, then the headers.
//   - Priority: msgsize - class*ClassFactor + nrcpts*RecipientFactor
//     (class from a Precedence: header and the cf's P lines).
//   - R flags: P primary (given on the command line or in a header, or
//     the only good address an alias of such an address expanded to), N/S/F/D
//     from -N (FD when -N is not given), A for alias expansions (not for
//     members of an :include: list).
//   - C lines (controlling user) as printctladdr: written only when the
//     (uid, gid, alias) changes; a bare C when an unexpanded address
//     follows an expanded one; `:alias` for uid 0.
//   - r line: `<addrtype>; <top-level address>`: its user part when that
//     has a domain, else the address as given, qualified with $j.
// Promises: pure over the send queue and values it is given (reads the
// password file for uids only).

import Glibc
import SMBase
import SMRules
import SMConfig
import SMQueueFormat

/// What the command line says about the envelope.
public struct SubmitOptions: Sendable {
    public var from: [UInt8]? = nil
    public var fullName: [UInt8]? = nil
    public var readRecipients = false
    public var notify: [UInt8]? = nil
    public var ret: [UInt8]? = nil
    public var envid: [UInt8]? = nil
    public var bodyType: [UInt8]? = nil
    public var recipients: [[UInt8]] = []
    /// A command-line error that does not stop the submission (-B).
    public var usageError = false
    public init() {}
}

/// DSN NOTIFY= as recipient flags (nil: -N not given).
public func notifyFlags(_ spec: [UInt8]?) -> RecipientFlags? {
    guard let spec else { return nil }
    var f: RecipientFlags = [.hasNotify]
    for word in spec.split(separator: UInt8(ascii: ",")) {
        switch Array(word).asciiLowercased.string {
        case "success": f.insert(.notifySuccess)
        case "failure": f.insert(.notifyFailure)
        case "delay": f.insert(.notifyDelay)
        default: break
        }
    }
    return f
}

extension Engine {
    /// getctladdr: the nearest address (itself or an ancestor) with a
    /// known uid: a local user with a password entry, or an alias, which
    /// runs as DefaultUser (with the process's gid); (name, uid, gid).
    func controllingUser(_ r: Recipient) -> (name: [UInt8], uid: Int, gid: Int)? {
        var q: Recipient? = r
        while let c = q {
            if c.state != .expanded, let m = c.address.mailer, m.has("w"), let pw = getpwnam(c.address.user.string) {
                return (Array(String(cString: pw.pointee.pw_name).utf8), Int(pw.pointee.pw_uid), Int(pw.pointee.pw_gid))
            }
            if c.state == .expanded {
                return (c.address.user, defaultUID(), Int(getgid()))
            }
            q = c.parent
        }
        return nil
    }

    /// The uid of DefaultUser (user, user:group, uid:gid; default 1).
    func defaultUID() -> Int {
        guard let v = config.options["DefaultUser"], !v.isEmpty else { return 1 }
        let user = Array(v.prefix { $0 != UInt8(ascii: ":") })
        if !user.isEmpty, user.allSatisfy(isASCIIDigit) { return Int(user.string) ?? 1 }
        if let pw = getpwnam(user.string) { return Int(pw.pointee.pw_uid) }
        return 1
    }

    /// The qf's `r` line for `r`: its top-level address's type and user
    /// part when that has a domain, else the address as given, qualified
    /// with $j when it has none.
    func finalRecipientLine(_ r: Recipient, j j0: [UInt8]? = nil) -> [UInt8] {
        let j = j0 ?? rewriter.macros[Int(UInt8(ascii: "j"))] ?? []
        var top = r
        while let p = top.parent { top = p }
        let at = UInt8(ascii: "@")
        var final = top.address.user.contains(at) ? top.address.user : top.printable
        if !final.contains(at) { final += [at] + j }
        let addrType = top.address.mailer?.addrType ?? Array("rfc822".utf8)
        return addrType + Array("; ".utf8) + final
    }

    /// The queue file's recipients for the sendable entries of `queue`.
    /// `only`: just these entries (an owner's envelope), `except`: not these.
    func queueRecipients(_ queue: SendQueue, notify: RecipientFlags?, only: Set<ObjectIdentifier>? = nil,
                         except: Set<ObjectIdentifier> = []) -> [QueueFile.Recipient] {
        var out: [QueueFile.Recipient] = []
        var last: (uid: Int, gid: Int, ctl: ObjectIdentifier?) = (0, 0, nil)
        let j = rewriter.macros[Int(UInt8(ascii: "j"))] ?? []
        for r in queue.entries where r.state.isSendable && !except.contains(ObjectIdentifier(r))
            && (only?.contains(ObjectIdentifier(r)) ?? true) {
            var qr = QueueFile.Recipient(address: r.printable, flags: [])
            qr.message = r.message
            if let parent = r.parent {
                let cu = controllingUser(r)
                let key = (cu?.uid ?? 0, cu?.gid ?? 0, Optional(ObjectIdentifier(parent)))
                if key.0 != last.uid || key.1 != last.gid || key.2 != last.ctl {
                    qr.controlLine = .user(QueueFile.ControllingUser(user: cu?.name, uid: key.0, gid: key.1,
                                                                     alias: parent.printable))
                    last = key
                }
            } else if last.ctl != nil {
                qr.controlLine = .reset
                last = (0, 0, nil)
            }
            qr.finalRecipient = finalRecipientLine(r, j: j)
            var flags: RecipientFlags = r.queuedWithPFlag ? [.primary] : []
            flags.formUnion(notify ?? [.notifyFailure, .notifyDelay])
            // A: expanded from an alias (not from an :include: list)
            if let p = r.parent, p.address.mailerName != Array("*include*".utf8) { flags.insert(.alias) }
            qr.flags = flags
            out.append(qr)
        }
        return out
    }

    /// The queue control file of a freshly collected message.
    func controlFile(_ o: SubmitOptions, message: CollectedMessage, headers: HeaderList, queue: SendQueue,
                     sender: ParsedAddress, headerErrors: Bool, bccFlag hasVisibleRecipientHeader: Bool,
                     now: time_t, except: Set<ObjectIdentifier> = []) -> QueueFile {
        let rw = rewriter
        let fMacro = rw.macros[Int(UInt8(ascii: "f"))] ?? []
        var qf = QueueFile()
        qf.creationTime = Int64(now)
        let classFactor = intOption("ClassFactor", 1800)
        let rcptFactor = intOption("RecipientFactor", 30000)
        let precedence = precedenceClass(headers)
        qf.priority = Int64(message.size - precedence * classFactor + countedRecipients(queue) * rcptFactor)
        if o.bodyType != nil { qf.bodyType = Array((message.has8Bit ? "8BITMIME" : "7BIT").utf8) }
        // e_message: the last user error, else a deferred map lookup
        if let m = rw.lastUserError ?? rw.envelopeMessage { qf.message = Array(m.latin1Bytes) }
        var flags: EnvelopeFlags = []
        if message.has8Bit { flags.insert(.has8Bit) }
        if hasVisibleRecipientHeader { flags.insert(.deleteBcc) }
        // a negative precedence never returns the body
        if precedence < 0 { flags.insert(.noBodyReturn) }
        if let r = o.ret {
            flags.insert(.retParameter)
            if r.asciiCaseEquals(Array("hdrs".utf8)) { flags.insert(.noBodyReturn) }
        }
        if !headerErrors { flags.insert(.split) }
        qf.flags = flags
        qf.macros = persistentMacros()
        qf.sender = sender.printable.isEmpty ? fMacro : sender.printable
        qf.envelopeID = o.envid
        // AUTH=: $f (qualified with $j), unless an untrusted user set the sender
        if !fMacro.isEmpty && !senderSetByUntrustedUser(from: o.from, sender: sender) {
            let j = rw.macros[Int(UInt8(ascii: "j"))] ?? []
            qf.authParameter = xtextify(fMacro.contains(UInt8(ascii: "@")) ? fMacro : fMacro + [UInt8(ascii: "@")] + j,
                                        taboo: [UInt8(ascii: "=")])
        }
        qf.recipients = queueRecipients(queue, notify: notifyFlags(o.notify), except: except)
        qf.headers = headers.headers.map { $0.queueHeader }
        return qf
    }

    /// The precedence class of the first Precedence: value (0 when
    /// unknown), as sendmail's hvalue() finds it.
    func precedenceClass(_ headers: HeaderList) -> Int {
        guard let h = headers.headers.first(where: { $0.name.asciiCaseEquals(Array("Precedence".utf8)) }) else { return 0 }
        let v = Array(h.value.prefix { !isASCIISpace($0) })
        return config.priorities.first(where: { $0.name.asciiCaseEquals(v) })?.value ?? 0
    }

    /// QueueFileMode (octal), 0600 when unset or unreadable: the mode of
    /// the queue files this process writes.
    var queueFileMode: mode_t {
        config.options["QueueFileMode"].flatMap { mode_t($0.string.trimmingSpaces, radix: 8) } ?? 0o600
    }

    /// MaxHeadersLength: 32768 when the cf does not set it (sendmail's
    /// MAXHDRSLEN); 0 or less: no limit.
    /// MaxHeadersLength as sendmail reads it (atoi: "2000x" is 2000,
    /// garbage 0); 0 or less: no limit.
    public var maxHeadersLength: Int {
        guard let v = config.options["MaxHeadersLength"] else { return 32768 }
        return max(0, CfReader.leadingInt(v))
    }

    public func intOption(_ name: String, _ d: Int) -> Int {
        guard let v = config.options[name] else { return d }
        return Int(v.string.trimmingSpaces) ?? d
    }
}

/// RFC 3461 xtext: bytes outside '!'...'~', '+', '\\', '(' and `taboo`
/// become "+XX".
func xtextify(_ s: [UInt8], taboo: [UInt8] = []) -> [UInt8] {
    let hex = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for c in s {
        if c < 0x21 || c > 0x7E || c == UInt8(ascii: "+") || c == UInt8(ascii: "\\") || c == UInt8(ascii: "(")
            || taboo.contains(c) {
            out += [UInt8(ascii: "+"), hex[Int(c >> 4)], hex[Int(c & 15)]]
        } else {
            out.append(c)
        }
    }
    return out
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
