// SMEngine/SMTPServer+Verb.swift
//
// VERB (and `-v -bs`): the session turns verbose and its messages are
// delivered interactively, as sendmail 8.17's VERB does (Verbose on,
// DeliveryMode i whatever the option says).  From then on:
// - RCPT expands aliases (never verify-only) and what sendmail's
//   message() prints with code 050 reaches the client as "050 " lines
//   before the command's reply ("050 <pipe>... aliased to ...", EXPN's
//   "050 list... aliased to ...");
// - DATA's message is delivered in the session before the 250 is sent
//   (so is any session's with DeliveryMode i, VERB or not, silently):
//   the delivery's -v transcript (Connecting to, Sent, Deferred, an SMTP
//   mailer's ">>> " commands and the next hop's replies, the bounce's own
//   delivery) goes to the client line by line as "050 " lines as it is
//   written, then "250 2.0.0 <id> Message accepted for delivery".  Errors
//   are mailed back, never shown (the session's HoldErrs).
// - A transaction with recipients accepted before VERB in a mode that
//   only verifies them at RCPT (q, d, b) is queued as sendmail's
//   "double queue" does: the 250 at once, then a detached queue run of
//   the message (-qI<id>), which expands them; nothing more is shown.
// Where the 050 lines go: `verboseOutput` (the daemon writes them to the
// connection in order with its replies); nil: the engine's output, flushed
// at each line (-bs: stdout, through the -X traffic log).
// In the daemon the delivery runs in the session (on its pool thread),
// not in the delivery workers; its bounces name the client in
// Received-From-MTA, as sendmail's session process does.
// Every session (verbose or not) keeps the SMTP connections its
// deliveries opened for its next messages and QUITs them silently when
// it ends (closeRelayConnections), as sendmail's connection cache does.
// Promises: only a verbose session is touched; every line the engine
// writes while a verbose session handles a command or delivers becomes
// one CR LF-terminated 050 line, in the order written, before the
// command's reply.

import SMBase
import SMRules
import SMSMTP

/// What VERB changes in a session.
struct VerbState {
    /// Where 050 lines go (nil: the engine's output).
    var output: (([UInt8]) -> Void)? = nil
    /// Inside `withVerboseOutput`: the tee the engine's output had.
    var active = false
    var savedTee: (([UInt8]) -> Void)? = nil
    /// Text written without its newline yet.
    var partial: [UInt8] = []
    /// A recipient of the transaction was accepted while RCPT only
    /// verified (not interactive, not verbose): DATA double-queues.
    var verifiedRecipients = false
    /// ... noted when DATA accepted the message.
    var doubleQueue = false
}

extension SMTPServer {
    /// The session is verbose (VERB, or -v on the command line).
    public var isVerbose: Bool { engine.verbose }

    /// Where the daemon wants the 050 lines (called on the thread that
    /// runs the command, before the command's reply is returned).
    public var verboseOutput: (([UInt8]) -> Void)? {
        get { verb.output }
        set { verb.output = newValue }
    }

    /// A VERB line the state machine accepted (250): verbose and
    /// interactive from now on.
    func noteVerb(_ line: [UInt8], reply: SMTPReply) {
        guard reply.code == 250, SMTPCommand.parse(line).verb == .verb else { return }
        engine.sessionVerbose = true
        rw.quietNotices = false
        queueOnly = false
        engine.verifyOnly = false
    }

    /// RCPT accepted a recipient: noted when it was only verified.
    func noteRecipientForVerb() {
        if engine.verifyOnly || engine.deliveryMode != UInt8(ascii: "i") { verb.verifiedRecipients = true }
    }

    /// Runs `body` with everything the engine writes turned into 050
    /// lines (only in a verbose session).
    func withVerboseOutput<T>(_ body: () -> T) -> T {
        guard engine.verbose, !verb.active else { return body() }
        let out = engine.out
        // (what is already buffered, replies of -bs, goes first)
        verb.savedTee = out.tee
        verb.active = true
        out.tee = { [unowned self, unowned out] b in
            out.bytes.removeLast(b.count)
            self.verboseText(b)
        }
        defer {
            out.tee = verb.savedTee
            verb.savedTee = nil
            verb.active = false
            if !verb.partial.isEmpty {
                let rest = verb.partial
                verb.partial = []
                sendVerbose(Array("050 ".utf8) + rest + [0x0D, 0x0A])
            }
        }
        return body()
    }

    /// Engine output: each complete line as a 050 line.
    func verboseText(_ b: [UInt8]) {
        verb.partial += b
        while let nl = verb.partial.firstIndex(of: 0x0A) {
            let line = Array(verb.partial[..<nl])
            verb.partial.removeSubrange(...nl)
            sendVerbose(Array("050 ".utf8) + line + [0x0D, 0x0A])
        }
    }

    /// One or more complete lines to the client now.
    func sendVerbose(_ bytes: [UInt8]) {
        if let o = verb.output { o(bytes); return }
        let out = engine.out
        if verb.active {
            out.bytes += bytes
            verb.savedTee?(bytes)
        } else {
            out.write(bytes)
        }
        out.flush()
    }

    /// The 0xx lines of captured engine messages go to the client at
    /// once (verbose sessions); the rest is returned.
    func sendNotices(_ lines: [String]) -> [String] {
        guard engine.verbose, lines.contains(where: { $0.hasPrefix("0") }) else { return lines }
        var rest: [String] = []
        for l in lines {
            if l.hasPrefix("0") { sendVerbose(Array(l.latin1Bytes) + [0x0D, 0x0A]) } else { rest.append(l) }
        }
        return rest
    }

    /// DATA accepted a message (and split the owners' envelopes off it)
    /// in a verbose session, or in any session with DeliveryMode i (as
    /// sendmail's smtp() delivers before its reply): delivered now, after
    /// the durable commit and before the 250, unless recipients were only
    /// verified at RCPT (then a queue run of each after it, as sendmail's
    /// double queueing).
    func deliverBeforeReply() {
        let interactive = engine.deliveryMode == UInt8(ascii: "i") && !queueOnly
        guard engine.verbose || interactive, let a = accepted else { return }
        let ids = [a.id] + acceptedClones.map { $0.id }
        // (not the daemon's background delivery)
        acceptedIDs.removeAll { ids.contains($0) }
        if verb.doubleQueue {
            accepted = nil
            acceptedClones = []
            for i in ids { _ = startQueueRun?([Array("-qI".utf8) + i]) }
            return
        }
        // (a daemon's session: its client in the bounces' Received-From-MTA)
        engine.realHostName = daemonName != nil ? namedMacro("{client_name}") : nil
        defer { engine.realHostName = nil }
        deliverAccepted()
    }

    /// The session ends: the SMTP connections its deliveries kept for its
    /// next messages (sendmail's connection cache; "Using cached ESMTP
    /// connection" in a verbose session) get their QUIT, silently.
    func closeRelayConnections() {
        if !engine.smtpConnections.isEmpty { engine.closeSMTPConnections(verbose: false) }
    }
}
