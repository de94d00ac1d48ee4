// SMSMTP/SMTPClient.swift
//
// The client side of an SMTP (or LMTP) session as sendmail 8.17's
// usersmtp.c runs it, as an explicit state machine: the greeting, EHLO
// (LHLO for LMTP) when the mailer has F=a or the greeting says "ESMTP",
// falling back to HELO after a 5xx, the EHLO keyword list (PIPELINING,
// SIZE, 8BITMIME, DSN, ENHANCEDSTATUSCODES, STARTTLS, AUTH...), STARTTLS
// when the caller asks (the caller's handshake, then EHLO again), AUTH
// with a mechanism the caller picked (its challenges and answers), then
// per transaction MAIL with SIZE=/BODY=/ENVID=/RET= (the last two only
// when the peer offers DSN), AUTH= (the qf's, when the peer offers
// AUTH) and BY= (when it offers DELIVERBY), RCPT with NOTIFY=/ORCPT=
// (only with DSN; a recipient the caller marks `skip` is not named,
// `.recipientSkipped` stands in its place), pipelined as one
// batch of RCPTs and DATA when the peer offers PIPELINING, DATA, the
// message and its dot, LMTP's one reply per accepted recipient after the
// dot, RSET and QUIT.
// The caller (SMEngine/SMTPDelivery.swift) owns the socket: it gives the
// machine each complete reply (SMTPReplyReader assembles multi-line
// replies from lines) and carries out the actions it returns; `awaiting`
// names what the next reply answers, so the caller picks its Timeout.*.
// Promises: pure (no I/O, no clock); each reply yields the commands
// sendmail would send next, in order, and the per-recipient results.

import SMBase

/// One reply as read from the peer: its code and its lines (each line
/// whole, as received, without CR LF).
public struct SMTPClientReply: Sendable, Equatable {
    public var code: Int
    public var lines: [[UInt8]]
    public init(code: Int, lines: [[UInt8]]) { self.code = code; self.lines = lines }

    /// 2, 3, 4 or 5.
    public var type: Int { code / 100 }
    /// The last line without its "ddd " / "ddd-" prefix.
    public var text: [UInt8] { Array((lines.last ?? []).dropFirst(4)) }
    /// The last line whole ("550 5.1.1 <a>... User unknown").
    public var lastLine: [UInt8] { lines.last ?? [] }

    /// The enhanced status code at the start of the text (RFC 3463:
    /// class.subject.detail), if any.
    public var enhancedCode: [UInt8]? {
        let t = text
        var i = 0
        guard i < t.count, t[i] == UInt8(ascii: "2") || t[i] == UInt8(ascii: "4") || t[i] == UInt8(ascii: "5") else { return nil }
        i += 1
        for part in 0..<2 {
            guard i < t.count, t[i] == UInt8(ascii: ".") else { return nil }
            i += 1
            let start = i
            while i < t.count, smtpDigit(t[i]) { i += 1 }
            guard i > start, i - start <= 3 else { return nil }
            _ = part
        }
        guard i == t.count || t[i] == 0x20 else { return nil }
        return Array(t[0..<i])
    }

    /// The text with the enhanced code (and the space after it) removed.
    public var textWithoutEnhancedCode: [UInt8] {
        guard let e = enhancedCode else { return text }
        return Array(text.dropFirst(e.count).drop { $0 == 0x20 })
    }
}

@inline(__always) func smtpDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

/// Assembles replies from lines: "ddd-" continues, "ddd " (or "ddd")
/// ends.  A line that does not start with three digits ends the reply
/// with code 0 (a protocol error for the caller).
public struct SMTPReplyReader: Sendable {
    var pending: [[UInt8]] = []
    public init() {}

    /// Feeds one line (CR LF removed); returns the reply it completes.
    public mutating func feed(_ line: [UInt8]) -> SMTPClientReply? {
        pending.append(line)
        let digits = line.count >= 3 && line[0..<3].allSatisfy(smtpDigit)
        if digits && line.count > 3 && line[3] == UInt8(ascii: "-") { return nil }
        let code = digits ? Int(String(decoding: line[0..<3], as: UTF8.self)) ?? 0 : 0
        defer { pending = [] }
        return SMTPClientReply(code: code, lines: pending)
    }
}

/// What the peer offered in its EHLO reply (sendmail's MCIF_* flags).
public struct SMTPExtensions: Sendable, Equatable {
    public var esmtp = false
    public var pipelining = false
    public var eightBitMIME = false
    public var dsn = false
    public var enhancedStatusCodes = false
    public var size = false
    /// SIZE's argument (0: no limit given).
    public var maxSize = 0
    public var verb = false
    public var startTLS = false
    public var auth: [UInt8]? = nil
    /// DELIVERBY (RFC 2852) and its minimum (0: none given).
    public var deliverBy = false
    public var minDeliverBy = 0
    public init() {}

    /// helo_options(): each line after the first is a keyword and its
    /// arguments.
    public static func parse(_ reply: SMTPClientReply) -> SMTPExtensions {
        var x = SMTPExtensions()
        x.esmtp = true
        for line in reply.lines.dropFirst() {
            let body = Array(line.dropFirst(4))
            let words = body.split(separator: 0x20, omittingEmptySubsequences: true).map { Array($0) }
            guard let kw = words.first.map({ String(decoding: $0, as: UTF8.self).uppercased() }) else { continue }
            switch kw {
            case "PIPELINING": x.pipelining = true
            case "8BITMIME": x.eightBitMIME = true
            case "DSN": x.dsn = true
            case "ENHANCEDSTATUSCODES": x.enhancedStatusCodes = true
            case "VERB": x.verb = true
            case "STARTTLS": x.startTLS = true
            case "SIZE":
                x.size = true
                if words.count > 1 { x.maxSize = Int(String(decoding: words[1], as: UTF8.self)) ?? 0 }
            case "AUTH":
                x.auth = Array(body.dropFirst(5))
            case "DELIVERBY":
                x.deliverBy = true
                if words.count > 1 { x.minDeliverBy = Int(String(decoding: words[1], as: UTF8.self)) ?? 0 }
            default: break
            }
        }
        return x
    }
}

public struct SMTPClient: Sendable {
    public struct Options: Sendable {
        /// $j: the name EHLO/HELO gives.
        public var heloName: [UInt8]
        /// Mailer flag a: EHLO even when the greeting does not say ESMTP.
        public var tryExtended = false
        /// LMTP: LHLO, no HELO fallback, a reply per recipient after DATA.
        public var lmtp = false
        public init(heloName: [UInt8], tryExtended: Bool = false, lmtp: Bool = false) {
            self.heloName = heloName; self.tryExtended = tryExtended; self.lmtp = lmtp
        }
    }

    /// One message's envelope as MAIL and RCPT carry it.
    public struct Envelope: Sendable {
        public var sender: [UInt8]
        /// e_msgsize, for SIZE= when the peer offers SIZE.
        public var size: Int
        /// The qf's body type (7BIT, 8BITMIME) for BODY= with 8BITMIME.
        public var bodyType: [UInt8]? = nil
        /// AUTH= (xtext; the qf's A line), sent when the peer offers AUTH.
        public var authParameter: [UInt8]? = nil
        /// ENVID= (xtext) and RET=FULL/HDRS, sent with DSN only.
        public var envelopeID: [UInt8]? = nil
        public var ret: [UInt8]? = nil
        /// BY= ("<seconds>;R" or ";N", T for trace), sent when the peer
        /// offers DELIVERBY.
        public var deliverBy: [UInt8]? = nil
        public var recipients: [Recipient]
        public init(sender: [UInt8], size: Int, recipients: [Recipient]) {
            self.sender = sender; self.size = size; self.recipients = recipients
        }
    }

    public struct Recipient: Sendable {
        public var address: [UInt8]
        /// NOTIFY=, e.g. "SUCCESS,FAILURE" or "NEVER" (nil: not given).
        public var notify: [UInt8]? = nil
        /// ORCPT= value ("rfc822;..." in xtext).
        public var orcpt: [UInt8]? = nil
        /// Not named to the peer (the caller refused it: tls_rcpt);
        /// `.recipientSkipped` stands where its RCPT would go.
        public var skip = false
        public init(address: [UInt8], notify: [UInt8]? = nil, orcpt: [UInt8]? = nil) {
            self.address = address; self.notify = notify; self.orcpt = orcpt
        }
    }

    /// What the next reply answers (the caller's timeout for it).
    public enum Awaiting: Sendable, Equatable {
        case greeting, hello, helo, startTLS, auth, mail, rcpt(Int), data, dataEnd, lmtpRecipient(Int), rset, quit, nothing
    }

    public enum Action: Sendable, Equatable {
        /// Write this command line (CR LF added by the caller).
        case send([UInt8])
        /// Write the message (dot-stuffed, CR LF line ends) and ".".
        case sendMessage
        /// Greeting and HELO/EHLO done: a transaction may start.
        case ready
        /// STARTTLS answered 2xx: the caller runs the TLS handshake, then
        /// `restartAfterTLS()`.
        case tlsReady
        /// STARTTLS refused (the session goes on in clear, or not, as the
        /// caller's tls_server ruleset decides).
        case tlsRefused(SMTPClientReply)
        /// AUTH: a 334 challenge (base64-decoded); answer with
        /// `authResponse`.
        case authChallenge([UInt8])
        /// AUTH: 235.
        case authenticated(SMTPClientReply)
        /// AUTH: any other reply (535: the mechanism failed).
        case authFailed(SMTPClientReply)
        /// The session cannot be used: greeting or HELO refused.
        case sessionFailed(SMTPClientReply)
        /// MAIL refused: the whole transaction failed with it.
        case mailRefused(SMTPClientReply)
        /// A recipient's RCPT reply (index into the envelope).
        case recipient(Int, SMTPClientReply)
        /// A recipient marked `skip`, in its RCPT's place.
        case recipientSkipped(Int)
        /// DATA or the message refused (all accepted recipients).
        case dataRefused(SMTPClientReply)
        /// The reply after the dot (SMTP): the accepted recipients' fate.
        case messageDone(SMTPClientReply)
        /// LMTP: one accepted recipient's reply after the dot.
        case delivered(Int, SMTPClientReply)
        /// The transaction is over (after its last result).
        case transactionDone
        /// QUIT answered (or no answer expected): close.
        case closed
    }

    public let options: Options
    public private(set) var extensions = SMTPExtensions()
    /// The first word of the EHLO/HELO reply: the name the peer gives
    /// itself (the caller's mail-loop check compares it with $j).
    public private(set) var peerHelloName: [UInt8] = []
    /// The replies still owed, oldest first.
    public private(set) var expected: [Awaiting] = []
    public var awaiting: Awaiting { expected.first ?? .nothing }
    var envelope: Envelope? = nil
    /// Indices of recipients whose RCPT was accepted.
    public private(set) var accepted: [Int] = []
    var transactionFailed = false

    public init(options: Options) {
        self.options = options
        expected = [.greeting]
    }

    /// Feeds a reply; returns what to do.
    public mutating func receive(_ reply: SMTPClientReply) -> [Action] {
        guard !expected.isEmpty else { return [] }
        let what = expected.removeFirst()
        switch what {
        case .greeting:
            guard reply.type == 2 else { return [.sessionFailed(reply)] }
            let esmtp = Array("ESMTP".utf8)
            let says = reply.lines.contains { l in
                l.count >= esmtp.count && (0...(l.count - esmtp.count)).contains { Array(l[$0..<($0 + esmtp.count)]) == esmtp }
            }
            if options.lmtp {
                expected = [.hello]
                return [.send(Array("LHLO ".utf8) + options.heloName)]
            }
            if options.tryExtended || says {
                expected = [.hello]
                return [.send(Array("EHLO ".utf8) + options.heloName)]
            }
            expected = [.helo]
            return [.send(Array("HELO ".utf8) + options.heloName)]
        case .hello:
            if reply.type == 2 {
                extensions = SMTPExtensions.parse(reply)
                peerHelloName = Self.firstWord(reply)
                return [.ready]
            }
            if reply.type == 5 && !options.lmtp {
                expected = [.helo]
                return [.send(Array("HELO ".utf8) + options.heloName)]
            }
            return [.sessionFailed(reply)]
        case .helo:
            guard reply.type == 2 else { return [.sessionFailed(reply)] }
            extensions = SMTPExtensions()
            peerHelloName = Self.firstWord(reply)
            return [.ready]
        case .startTLS:
            return reply.type == 2 ? [.tlsReady] : [.tlsRefused(reply)]
        case .auth:
            if reply.code == 334 {
                let t = reply.text
                return [.authChallenge(Self.base64Decode(t) ?? [])]
            }
            return reply.type == 2 ? [.authenticated(reply)] : [.authFailed(reply)]
        case .mail:
            guard reply.type == 2 else {
                transactionFailed = true
                return [.mailRefused(reply), .transactionDone]
            }
            return recipientsAfterMail()
        case .rcpt(let i):
            var actions: [Action] = [.recipient(i, reply)]
            if reply.type == 2 { accepted.append(i) }
            if !extensions.pipelining { actions += nextRecipient(from: i + 1) }
            return actions
        case .data:
            if reply.code == 354 {
                expected = [.dataEnd]
                return [.sendMessage]
            }
            // refused (or nobody to send to): the transaction is reset
            expected = [.rset]
            if accepted.isEmpty { return [.send(Array("RSET".utf8))] }
            return [.dataRefused(reply), .send(Array("RSET".utf8))]
        case .dataEnd:
            if accepted.isEmpty { return [.transactionDone] }
            if options.lmtp {
                // the first recipient's reply; one more per other recipient
                var actions: [Action] = [.delivered(accepted[0], reply)]
                expected = accepted.dropFirst().map { .lmtpRecipient($0) }
                if expected.isEmpty { actions.append(.transactionDone) }
                return actions
            }
            return [.messageDone(reply), .transactionDone]
        case .lmtpRecipient(let i):
            var actions: [Action] = [.delivered(i, reply)]
            if expected.isEmpty { actions.append(.transactionDone) }
            return actions
        case .rset:
            return [.transactionDone]
        case .quit:
            return [.closed]
        case .nothing:
            return []
        }
    }

    /// Starts a transaction (after `.ready` or a finished one).
    public mutating func begin(_ e: Envelope) -> [Action] {
        envelope = e
        accepted = []
        transactionFailed = false
        expected = [.mail]
        return [.send(mailCommand(e))]
    }

    /// STARTTLS (after `.ready`, when the peer offers it); its reply is
    /// `.tlsReady` or `.tlsRefused`.
    public mutating func startTLS() -> [Action] {
        expected = [.startTLS]
        return [.send(Array("STARTTLS".utf8))]
    }

    /// The handshake is done: what the peer offered in clear is
    /// forgotten, and EHLO (LHLO) is sent again; `.ready` follows.
    public mutating func restartAfterTLS() -> [Action] {
        extensions = SMTPExtensions()
        expected = [.hello]
        return [.send(Array((options.lmtp ? "LHLO " : "EHLO ").utf8) + options.heloName)]
    }

    /// AUTH mechanism [initial response]; `.authChallenge`,
    /// `.authenticated` or `.authFailed` follows.
    public mutating func auth(_ mechanism: [UInt8], initialResponse: [UInt8]?) -> [Action] {
        expected = [.auth]
        var c = Array("AUTH ".utf8) + mechanism
        if let r = initialResponse { c += [0x20] + (r.isEmpty ? [UInt8(ascii: "=")] : Self.base64Encode(r)) }
        return [.send(c)]
    }

    /// The answer to a challenge, base64-encoded.
    public mutating func authResponse(_ data: [UInt8]) -> [Action] {
        expected = [.auth]
        return [.send(Self.base64Encode(data))]
    }

    static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func base64Encode(_ d: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < d.count {
            let n = min(3, d.count - i)
            let b0 = d[i], b1 = n > 1 ? d[i + 1] : 0, b2 = n > 2 ? d[i + 2] : 0
            out.append(base64Alphabet[Int(b0 >> 2)])
            out.append(base64Alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(n > 1 ? base64Alphabet[Int((b1 & 15) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(n > 2 ? base64Alphabet[Int(b2 & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return out
    }

    /// nil: not base64.
    public static func base64Decode(_ s: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var acc: UInt32 = 0, bits = 0
        for c in s {
            if c == UInt8(ascii: "=") { break }
            guard let v = base64Alphabet.firstIndex(of: c) else { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((acc >> UInt32(bits)) & 0xFF))
            }
        }
        return out
    }

    /// RSET; its reply (any) ends with `.transactionDone`.
    public mutating func reset() -> [Action] {
        expected.append(.rset)
        return [.send(Array("RSET".utf8))]
    }

    /// QUIT.
    public mutating func quit() -> [Action] {
        expected = [.quit]
        return [.send(Array("QUIT".utf8))]
    }

    /// The caller lost the connection or timed out: nothing more is owed.
    public mutating func abandon() { expected = [] }

    static func firstWord(_ r: SMTPClientReply) -> [UInt8] {
        Array((r.lines.first ?? []).dropFirst(4).prefix { $0 != 0x20 })
    }

    /// MAIL From:<sender> with the parameters the peer offers.
    public func mailCommand(_ e: Envelope) -> [UInt8] {
        var c = Array("MAIL From:<".utf8) + e.sender + [UInt8(ascii: ">")]
        if extensions.size { c += Array(" SIZE=\(e.size)".utf8) }
        if extensions.eightBitMIME, let b = e.bodyType, !b.isEmpty { c += Array(" BODY=".utf8) + b }
        if extensions.dsn {
            if let id = e.envelopeID { c += Array(" ENVID=".utf8) + id }
            if let r = e.ret { c += Array(" RET=".utf8) + r }
        }
        if extensions.auth != nil, let a = e.authParameter, !a.isEmpty { c += Array(" AUTH=".utf8) + a }
        if extensions.deliverBy, let b = e.deliverBy { c += Array(" BY=".utf8) + b }
        return c
    }

    /// RCPT To:<address> with NOTIFY/ORCPT when the peer offers DSN.
    public func rcptCommand(_ i: Int) -> [UInt8] {
        guard let r = envelope?.recipients[i] else { return [] }
        var c = Array("RCPT To:<".utf8) + r.address + [UInt8(ascii: ">")]
        if extensions.dsn {
            if let n = r.notify { c += Array(" NOTIFY=".utf8) + n }
            if let o = r.orcpt { c += Array(" ORCPT=".utf8) + o }
        }
        return c
    }

    mutating func recipientsAfterMail() -> [Action] {
        let n = envelope?.recipients.count ?? 0
        guard n > 0 else { return [.transactionDone] }
        if extensions.pipelining {
            let named = (0..<n).filter { envelope?.recipients[$0].skip != true }
            let actions: [Action] = (0..<n).map { envelope?.recipients[$0].skip == true ? .recipientSkipped($0) : .send(rcptCommand($0)) }
            if named.isEmpty {
                // nobody to name: the transaction is reset
                expected = [.rset]
                return actions + [.send(Array("RSET".utf8))]
            }
            expected = named.map { .rcpt($0) } + [.data]
            return actions + [.send(Array("DATA".utf8))]
        }
        return nextRecipient(from: 0)
    }

    /// Without PIPELINING: the skipped recipients from `i` on, then the
    /// next RCPT, or DATA (RSET when nobody was accepted).
    mutating func nextRecipient(from i: Int) -> [Action] {
        let n = envelope?.recipients.count ?? 0
        var actions: [Action] = []
        var j = i
        while j < n, envelope?.recipients[j].skip == true {
            actions.append(.recipientSkipped(j))
            j += 1
        }
        if j < n {
            expected = [.rcpt(j)]
            actions.append(.send(rcptCommand(j)))
        } else if accepted.isEmpty {
            expected = [.rset]
            actions.append(.send(Array("RSET".utf8)))
        } else {
            expected = [.data]
            actions.append(.send(Array("DATA".utf8)))
        }
        return actions
    }

    /// The message with leading dots doubled and CR LF line ends, as it
    /// goes after 354 (without the final dot); for message bytes that are
    /// not already prepared (the engine's mailers with F=X do it).
    public static func dotStuffed(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + 64)
        var atLineStart = true
        var i = 0
        while i < message.count {
            let b = message[i]
            if atLineStart && b == UInt8(ascii: ".") { out.append(b) }
            if b == 0x0A {
                if out.last != 0x0D { out.append(0x0D) }
                out.append(0x0A)
                atLineStart = true
            } else {
                out.append(b)
                atLineStart = false
            }
            i += 1
        }
        if !atLineStart { out += [0x0D, 0x0A] }
        return out
    }
}
