// SMSMTP/SMTPServerSession.swift
//
// The server side of an SMTP session as an explicit state machine, with
// sendmail 8.17's reply texts for everything that does not need the
// engine: command sequence (503), missing arguments (501), unknown
// commands (500), NOOP, RSET, VERB, QUIT, and
// the DATA phase (lines are gathered until "."; the caller gets the text
// with dots still stuffed, LF line ends; a bare LF or CR in it gets
// Debian's 421 at the end and closes the session), and sendmail's
// slow-down of repeated commands (checksmtpattack: the wait each reply
// owes in `replyDelay`, the "possible SMTP attack" note, the 421 after 25
// unknown commands).  What needs addresses, rulesets
// or the queue comes back as an action for the caller, which reports the
// outcome with `mailAccepted()`, `recipientAccepted()`, `messageDone()`.
// Promises: pure (no I/O, no clock); every input line yields exactly the
// replies sendmail would send for it, in order, or an action.

import SMBase

public struct SMTPServerSession: Sendable {
    public enum Phase: Sendable, Equatable {
        /// Reading commands.  `mail`: a sender was accepted; `recipients`:
        /// how many recipients were accepted in this transaction.
        case command(mail: Bool, recipients: Int)
        /// Reading message text after 354.
        case data
        /// After QUIT (or a fatal error): nothing more is read.
        case closed
    }

    public enum Action: Sendable, Equatable {
        case reply(SMTPReply)
        /// HELO/EHLO with its domain: the caller builds the 250 reply.
        case hello(domain: [UInt8], extended: Bool)
        case mail(SMTPPathArgument)
        case recipient(SMTPPathArgument)
        /// "DATA" accepted: the caller sends 354 (and may refuse first).
        case startData
        /// The complete message text (dot-stuffing kept; "\n" line ends).
        case message([UInt8])
        /// HELP with its argument: the caller answers from its help file
        /// (SMTPHelp).
        case help([UInt8])
        case verify([UInt8])
        case expand([UInt8])
        /// RSET: the caller drops its transaction; the reply is included.
        case reset(SMTPReply)
        /// QUIT: reply, then close.
        case quit(SMTPReply)
        /// A fatal protocol error (421): reply, then close.
        case close(SMTPReply)
        /// ETRN accepted with its argument: the caller starts the queue
        /// run (`#group`, `@domain` or a host) and answers.
        case etrn([UInt8])
        /// A line of message text was taken; nothing to send.
        case none
    }

    public private(set) var phase: Phase = .command(mail: false, recipients: 0)
    /// $j, for the 221 text.
    public var hostName: [UInt8]
    /// The sendmail version for HELP's reply.
    public var version: String
    /// Collected message text.
    var text: [UInt8] = []
    /// Bytes of message text collected so far (LF line ends).
    public var collectedSize: Int { text.count }
    /// PrivacyOptions needmailhelo / needvrfyhelo / needexpnhelo: these
    /// commands are refused until HELO or EHLO.
    public var needHelo: Set<SMTPVerb> = []
    /// Commands PrivacyOptions turn off (novrfy, noexpn, noverb, noetrn):
    /// answered with sendmail's refusals.
    public var disabled: Set<SMTPVerb> = []
    /// MaxRecipientsPerMessage (0: no limit).
    public var maxRecipients = 0
    /// A HELO or EHLO was accepted.
    public private(set) var greeted = false
    /// sendmail's checksmtpattack() counters: HELO/EHLO (slowed from the
    /// 3rd), NOOP and VERB (MaxNOOPCommands, 20), VRFY and EXPN (6), ETRN
    /// (8); and unknown commands (the 26th closes the session).
    public struct AttackCounters: Sendable, Equatable {
        public var helo = 0, noop = 0, verify = 0, etrn = 0, bad = 0
    }
    public private(set) var attack = AttackCounters()
    /// MaxNOOPCommands (0: no limit).
    public var maxNoopCommands = 20
    /// What the last receive() asks of the caller: seconds the reply
    /// waits (sendmail sleeps 2^(count-limit) s, at least count/limit,
    /// at most 240), and the "possible SMTP attack" line to log (the
    /// command's name and its count) when a limit is first reached.
    public private(set) var replyDelay = 0
    public private(set) var attackNote: AttackNote? = nil
    public struct AttackNote: Sendable, Equatable {
        public var command: String
        public var count: Int
        public init(command: String, count: Int) { self.command = command; self.count = count }
    }
    /// A HELO or EHLO was followed by more input at once (a client that
    /// does not wait for the reply): it got "554 5.5.0 SMTP protocol
    /// error", and from then on commands other than HELO, EHLO, NOOP,
    /// RSET, QUIT and unknown ones get "550 5.0.0 Command rejected"
    /// (sendmail's null server; its EHLO offers only ENHANCEDSTATUSCODES).
    public private(set) var nullServer = false
    /// The last receive() refused a HELO or EHLO that came with more input
    /// behind it: its verb ("HELO" or "EHLO"), for the caller's "rejecting
    /// server EHLO from ... due to traffic before response" log line.
    public private(set) var trafficNote: String? = nil
    /// Some HELO or EHLO of this session was refused so (sendmail then
    /// does not log "did not issue MAIL/EXPN/VRFY/ETRN" at the end).
    public private(set) var refusedTraffic = false
    /// The refusal those commands get in a null-server session ("550
    /// 5.0.0 Command rejected", or check_relay's reply for the connection).
    public private(set) var nullServerReply = SMTPReply(550, "5.0.0", "Command rejected")

    public init(hostName: [UInt8], version: String) {
        self.hostName = hostName
        self.version = version
    }

    var hasMail: Bool { if case .command(let m, _) = phase { return m } else { return false } }
    var recipientCount: Int { if case .command(_, let n) = phase { return n } else { return 0 } }

    /// One line from the client (LF removed, CR kept).  `inputPending`:
    /// more input was already there when the line was taken.
    public mutating func receive(_ line: [UInt8], inputPending: Bool = false) -> Action {
        replyDelay = pendingDelay
        pendingDelay = 0
        attackNote = nil
        trafficNote = nil
        switch phase {
        case .closed:
            return .none
        case .data:
            // (the line without its CR is appended in place: no copy of
            // the line, and the text is handed over without one either)
            let n = line.count
            guard n > 0, line[n - 1] == 0x0D else {
                // Debian's sendmail refuses a bare LF (and a bare CR) in
                // message text as soon as it reads the line
                text = []
                phase = .closed
                return .close(SMTPReply(421, "4.5.0", "Bare linefeed (LF) not allowed"))
            }
            if line[..<(n - 1)].contains(0x0D) {
                text = []
                phase = .closed
                return .close(SMTPReply(421, "4.5.0", "Bare carriage return (CR) not allowed"))
            }
            text.append(contentsOf: line[..<(n - 1)])
            text.append(0x0A)
            if n == 2 && line[0] == UInt8(ascii: ".") {
                let msg = text
                text = []
                phase = .command(mail: false, recipients: 0)
                return .message(msg)
            }
            return .none
        case .command:
            return command(SMTPCommand.parse(line), inputPending: inputPending)
        }
    }

    mutating func command(_ c: SMTPCommand, inputPending: Bool) -> Action {
        let arg = c.argument
        if (c.verb == .helo || c.verb == .ehlo) && inputPending {
            nullServer = true
            refusedTraffic = true
            trafficNote = c.verb == .helo ? "HELO" : "EHLO"
            return .reply(SMTPReply(554, "5.5.0", "SMTP protocol error"))
        }
        if nullServer {
            switch c.verb {
            case .helo, .ehlo, .noop, .rset, .quit, .unknown: break
            default: return .reply(nullServerReply)
            }
        }
        switch c.verb {
        case .helo, .ehlo:
            if let stop = slowDown(\.helo, limit: 3, name: "HELO/EHLO", waitNow: true) { return stop }
            guard !arg.isEmpty else {
                return .reply(SMTPReply(501, "5.0.0", "\(c.verb.rawValue.uppercased()) requires domain address"))
            }
            guard Self.validDomain(arg) else { return .reply(SMTPReply(501, "5.0.0", "Invalid domain name")) }
            greeted = true
            // a greeting starts afresh: any transaction is dropped
            phase = .command(mail: false, recipients: 0)
            return .hello(domain: arg, extended: c.verb == .ehlo)
        case .send, .soml, .saml, .turn:
            return .reply(SMTPReply(502, "5.5.1", "Command not implemented: \"\(c.line.string)\""))
        case .mail:
            if hasMail { return .reply(SMTPReply(503, "5.5.0", "Sender already specified")) }
            if needHelo.contains(.mail) && !greeted { return .reply(SMTPReply(503, "5.0.0", "Polite people say HELO first")) }
            let (p, scanned) = SMTPPathParser.parse(arg, keyword: "from")
            guard let path = p else {
                return .reply(SMTPReply(501, "5.5.2", "Syntax error in parameters scanning \"\(scanned.string)\""))
            }
            return .mail(path)
        case .rcpt:
            guard hasMail else { return .reply(SMTPReply(503, "5.0.0", "Need MAIL before RCPT")) }
            if maxRecipients > 0 && recipientCount >= maxRecipients {
                return .reply(SMTPReply(452, "4.5.3", "Too many recipients"))
            }
            let (p, scanned) = SMTPPathParser.parse(arg, keyword: "to")
            guard let path = p else {
                return .reply(SMTPReply(501, "5.5.2", "Syntax error in parameters scanning \"\(scanned.string)\""))
            }
            return .recipient(path)
        case .data:
            guard hasMail else { return .reply(SMTPReply(503, "5.0.0", "Need MAIL command")) }
            guard recipientCount > 0 else { return .reply(SMTPReply(503, "5.0.0", "Need RCPT (recipient)")) }
            return .startData
        case .rset:
            phase = .command(mail: false, recipients: 0)
            return .reset(SMTPReply(250, "2.0.0", "Reset state"))
        case .noop:
            if let stop = slowDown(\.noop, limit: maxNoopCommands, name: "NOOP", waitNow: true) { return stop }
            return .reply(SMTPReply(250, "2.0.0", "OK"))
        case .quit:
            phase = .closed
            return .quit(SMTPReply(221, "2.0.0", "\(hostName.string) closing connection"))
        case .help:
            return .help(arg)
        case .vrfy, .expn:
            _ = slowDown(\.verify, limit: 6, name: c.verb == .vrfy ? "VRFY" : "EXPN", waitNow: false)
            if needHelo.contains(c.verb) && !greeted {
                return .reply(SMTPReply(503, "5.0.0", "I demand that you introduce yourself first"))
            }
            guard !arg.isEmpty else { return .reply(SMTPReply(501, "5.5.2", "Argument required")) }
            if disabled.contains(c.verb) {
                return .reply(c.verb == .vrfy
                    ? SMTPReply(252, "2.5.2", "Cannot VRFY user; try RCPT to attempt delivery (or try finger)")
                    : SMTPReply(502, "5.7.0", "Sorry, we do not allow this operation"))
            }
            return c.verb == .vrfy ? .verify(arg) : .expand(arg)
        case .verb:
            if disabled.contains(.verb) { return .reply(SMTPReply(502, "5.7.0", "Verbose unavailable")) }
            if let stop = slowDown(\.noop, limit: maxNoopCommands, name: "VERB", waitNow: true) { return stop }
            return .reply(SMTPReply(250, "2.0.0", "Verbose mode"))
        case .etrn:
            if disabled.contains(.etrn) { return .reply(SMTPReply(502, "5.7.0", "Sorry, we do not allow this operation")) }
            guard !arg.isEmpty else { return .reply(SMTPReply(500, "5.5.2", "Parameter required")) }
            // (counted by the caller's countETRN(), before check_etrn)
            return .etrn(arg)
        case .unknown:
            attack.bad += 1
            if attack.bad > 25 { return tooManyBadCommands() }
            // the line is echoed with the eighth bit of every byte cleared
            return .reply(SMTPReply(code: 500, enhanced: "5.5.1",
                                    lines: [Array("Command unrecognized: \"".utf8) + c.line.map { $0 & 0x7F } + [0x22]]))
        }
    }

    /// ETRN's count (limit 8), which sendmail takes before check_etrn
    /// and its log line: the caller asks for it first, then gives the
    /// line to receive().  The wait and the note are in `replyDelay` and
    /// `attackNote` until then; a 421 closes the session.
    public mutating func countETRN() -> Action? {
        replyDelay = 0
        attackNote = nil
        let stop = slowDown(\.etrn, limit: 8, name: "ETRN", waitNow: true)
        pendingDelay = replyDelay
        return stop
    }
    var pendingDelay = 0
    /// The wait countETRN() set, when no receive() follows (the caller
    /// refused the ETRN itself).
    public mutating func takePendingDelay() -> Int {
        defer { pendingDelay = 0 }
        return pendingDelay
    }

    /// What closes a session sendmail takes for an attack.
    mutating func tooManyBadCommands() -> Action {
        phase = .closed
        return .close(SMTPReply(421, "4.7.0", "\(hostName.string) Too many bad commands; closing connection"))
    }

    /// checksmtpattack(): counts the command; from the limit on, the
    /// reply waits max(count/limit, 2^(count-limit)) s (at most 240), and
    /// the limit itself is noted for the log.  A wait-now command whose
    /// remaining wait reaches 80% of 240 s ends the session (after it).
    mutating func slowDown(_ counter: WritableKeyPath<AttackCounters, Int>, limit: Int, name: String,
                           waitNow: Bool) -> Action? {
        guard limit > 0 else { return nil }
        attack[keyPath: counter] += 1
        let n = attack[keyPath: counter]
        guard n >= limit else { return nil }
        if n == limit { attackNote = AttackNote(command: name, count: n) }
        let shift = n - limit
        var s = shift > 8 ? 240 : 1 << shift
        if s >= 240 { s = 240 }
        let first = n / limit
        var rest = s - first
        if rest >= 240 || rest < 0 { rest = 0 }
        replyDelay = first + rest
        if waitNow && rest > 0 && Double(rest) >= 240 * 0.8 { return tooManyBadCommands() }
        return nil
    }

    /// A HELO/EHLO argument: letters, digits and "[].-_#:" only (an
    /// address literal included), trailing blanks allowed.
    static func validDomain(_ arg: [UInt8]) -> Bool {
        var a = arg
        while let l = a.last, l == 0x20 || l == 0x09 { a.removeLast() }
        return !a.isEmpty && a.allSatisfy { isASCIIAlnum($0) || Array("[].-_#:".utf8).contains($0) }
    }

    /// The connection was refused at connect (check_relay): the session
    /// goes on as a null server whose refusals are `reply`.
    public mutating func refuseConnection(_ reply: SMTPReply) {
        nullServer = true
        nullServerReply = reply
    }

    /// The sender was accepted (after the caller's 250).
    public mutating func mailAccepted() {
        if case .command(_, let n) = phase { phase = .command(mail: true, recipients: n) }
    }

    /// A recipient was accepted.
    public mutating func recipientAccepted() {
        if case .command(let m, let n) = phase { phase = .command(mail: m, recipients: n + 1) }
    }

    /// The caller sent 354: message text follows.
    public mutating func dataStarted() {
        phase = .data
        text = []
        text.reserveCapacity(4096)
    }

    /// The transaction ended (message queued or refused).
    public mutating func transactionEnded() {
        phase = .command(mail: false, recipients: 0)
    }

    /// The input ended or the caller gives up.
    public mutating func close() { phase = .closed }
}
