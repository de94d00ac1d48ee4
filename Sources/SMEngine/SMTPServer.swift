// SMEngine/SMTPServer.swift
//
// `sendmail -bs`: an SMTP session on standard input and output, driven
// by the pure SMSMTP state machine.  This file gives the session what
// needs sendmail's semantics: the greeting from $e (SmtpGreetingMessage),
// the HELO/EHLO replies and the EHLO extension list, MAIL through
// setsender and its ESMTP parameters (SIZE, BODY, RET, ENVID, BY), RCPT
// through parseaddr + recipient() with NOTIFY/ORCPT, VRFY and EXPN, and
// DATA through Collector and the queue commit (QueueCommit.swift).
// With DeliveryMode q, d or b (the default), RCPT checks a recipient
// without expanding aliases or .forward files (sendmail's EF_VRFYONLY):
// with q or d the message stays queued, with b the child (or the daemon's
// delivery worker) expands them as a queue run does; with i RCPT expands
// them as sendmail does, so the qf holds the expansion.  With i the message accepted at DATA is
// delivered in the session after the durable commit and before the 250
// reply, as sendmail does (deliverBeforeReply, SMTPServer+Verb.swift;
// delivery errors mailed back); with b, under -bs, after the 250 in a
// forked child (deliverAccepted), and the daemon hands each accepted
// message to a delivery worker (acceptedIDs).  Lists with an owner-
// alias expanded at RCPT make the message split at DATA (OwnerSplit.swift):
// the owners' envelopes are queued first and delivered after it.
// Promises: 250 after DATA is sent only once the qf is durably in place;
// a failed commit is a 4xx reply and leaves nothing behind.  Engine
// errors become reply lines with their code and enhanced code.
// The policy rulesets check_mail, check_rcpt, check_vrfy and check_expn
// run on the argument as given, where sendmail runs them, with the macros
// sendmail sets for them ({mail_from} {mail_addr} {mail_mailer}
// {mail_host}, {rcpt_*}, {nrcpts} {nbadrcpts}, {addr_type}, and
// {client_addr}=0 for -bs); a $#error result is the reply.
// HELP reads the HelpFile as sendmail does.  Log lines (through the
// engine's sink): the from= line of a queued message (with proto=, and
// daemon= in the daemon), RCPT refusals, check_mail/check_rcpt
// rejections, VRFY/EXPN, a refused ETRN, the from= line (size=0) of a
// transaction left at QUIT, under the envelope's queue ID, which its
// first MAIL (or VRFY/EXPN) assigns; check_vrfy/check_expn/check_relay
// rejections without an ID, as sendmail logs them.
// In the daemon (SMDaemon) the same session runs per connection with the
// client's and listener's macros (SMTPServer+Connection.swift) and
// check_relay at connect.
// AUTH (SMTPServer+Auth.swift) hooks in at handle(), the EHLO list,
// MAIL's AUTH= and the qf A line.
// DATA text is dot-unstuffed as SMTP wants (every leading dot goes);
// RejectNUL refuses a message with a NUL byte (554 5.6.1).  The later
// policy stages (check_data, header checks, check_eoh, check_eom,
// check_etrn), the discard and quarantine verdicts of every stage,
// BadRcptThrottle and the from= line of an envelope dropped without a
// message are in SMTPServer+Policy.swift; a -M{client_addr} given on the
// command line stays the session's client address.
// STARTTLS (daemon only): SMTPServer+TLS.swift.  The content filter's
// hook at each stage (validate -> filter -> commit): SMTPServer+Filter.swift.
// ETRN starts a queue run through `startQueueRun` (the daemon's, or
// `-bs`'s detached `-qf` run, as sendmail's -bs runs the queue too).
// VERB (SMTPServer+Verb.swift): a verbose session's commands and its
// interactive deliveries (before DATA's 250) send their -v text as 050
// lines.  Not done: check_compat
// (a delivery-time stage).  The 451 text for a
// queue that cannot be written is ours, not verified against sendmail.

import Glibc
import SMBase
import SMRules
import SMConfig
import SMQueueFormat
import SMSMTP

public final class SMTPServer {
    let engine: Engine
    public internal(set) var session: SMTPServerSession
    var queue = SendQueue()
    var sender: ParsedAddress? = nil
    var mailOptions = SubmitOptions()
    var retSeen = false
    var envidSeen = false
    var declaredBody: [UInt8]? = nil
    /// MAIL's BY= (SMTPServer+DeliverBy.swift), the qf `!` line.
    var deliverBy = DeliverByState()
    /// The envelope's queue ID: given at its first MAIL command (sendmail
    /// logs RCPT errors under it), kept until the message is queued.
    var envelopeID: QueueID? = nil
    /// The process's queue ID sequence.
    var idGenerator = QueueIDGenerator(randomOffset: Int.random(in: 0..<QueueID.sequenceLimit))
    /// Addresses VRFY and EXPN handed to recipient() (they count in the
    /// next message's priority, as in sendmail).
    var verifiedCount = 0
    /// Recipients that reached recipient() and were refused.
    var refusedRecipients = 0
    /// MAIL FROM:'s address as given.
    var senderGiven: [UInt8] = []
    /// MAIL's SIZE= (sendmail's e_msgsize until the message is read).
    var declaredSize = 0
    /// Per recipient: NOTIFY flags and ORCPT, by identity.
    var rcptParams: [ObjectIdentifier: (notify: RecipientFlags?, orcpt: [UInt8]?)] = [:]
    let now: () -> time_t
    /// The message accepted by the last DATA, to deliver once its 250 is out.
    var accepted: (id: [UInt8], qdir: String, unbound: [(Int, QueueFile.Header)])? = nil
    /// The list owners' envelopes split off the accepted message
    /// (OwnerSplit.swift), delivered after it; `acceptedQueued`: the
    /// message itself kept recipients and was queued.
    var acceptedClones: [SubmittedEnvelope] = []
    var acceptedQueued = true
    /// ${daemon_flags}: "c u" for -bs (DirectSubmissionModifiers), the
    /// listener's M= letters in a daemon.
    var daemonFlags: [UInt8] = Array("c u".utf8)
    /// {daemon_name} of the listener (the from= line's daemon=); nil for -bs.
    var daemonName: [UInt8]? = nil
    /// The session was in DATA, with this much text, when the connection was lost.
    public var inData: Bool { session.phase == .data }
    /// Timeout.command and Timeout.datablock in seconds (sendmail's
    /// defaults: an hour each).
    /// (read once a session: the daemon's idle timer asks after every command)
    public private(set) lazy var commandTimeout: Int = timeoutOption("command", 3600)
    public private(set) lazy var dataTimeout: Int = timeoutOption("datablock", 3600)
    func timeoutOption(_ name: String, _ d: Int) -> Int {
        guard let v = engine.config.options.subValues["Timeout.\(name)"] else { return d }
        return Engine.seconds(v)
    }
    var collectedAtLoss: Int { session.collectedSize }
    /// DeliveryMode is queue-only or defer: RCPT does not expand aliases.
    var queueOnly = true
    /// The last HELO/EHLO argument and the protocol it implies ($s and $r
    /// from the next MAIL on).
    var heloName: [UInt8] = []
    var heloProtocol: [UInt8] = Array("SMTP".utf8)
    /// Where queue IDs come from when several sessions share a process
    /// (the daemon's locked generator); nil: this session's own sequence.
    public var queueIDSource: ((time_t) -> QueueID)? = nil
    /// Milliseconds the daemon waits before sending the greeting
    /// (greet_pause; set by `open()`).
    public internal(set) var greetPause = 0
    /// Starts a queue run in the background with these `-q` selections
    /// (ETRN; the daemon sets it); false when it could not be started.
    public var startQueueRun: (([[UInt8]]) -> Bool)? = nil
    /// IDs of the messages queued so far (the daemon starts their delivery).
    public var acceptedIDs: [[UInt8]] = []
    /// SMTP AUTH (SMTPServer+Auth.swift).
    let auth = SMTPAuthContext()
    /// Discard, quarantine and refusals of the message stages (+Policy).
    var policy = PolicyState()
    /// Features srv_features turned off, by upper-case letter (+Policy).
    var featuresOff: Set<UInt8> = []
    /// What the session's end logs (+Policy).
    var sessionNotes = SessionNotes()
    /// STARTTLS (SMTPServer+TLS.swift).
    public var tls = SMTPServerTLS()
    /// The content filter's hook at each stage (SMTPServer+Filter.swift).
    public var filter: SMTPStageFilter = NoFilter()
    var filterState = FilterState()
    /// VERB's verbose output and delivery (SMTPServer+Verb.swift).
    var verb = VerbState()

    func newQueueID(_ t: time_t) -> QueueID {
        if let src = queueIDSource { return src(t) }
        let qdir = (engine.config.options["QueueDirectory"] ?? []).string
        return engine.assignQueueID(qdir, now: t, pid: Int(getpid()), generator: &idGenerator)
    }

    public init(engine: Engine, connection: ConnectionInfo? = nil, now: @escaping () -> time_t = { time(nil) }) {
        self.engine = engine
        self.now = now
        let j = engine.rewriter.macros[Int(UInt8(ascii: "j"))] ?? []
        session = SMTPServerSession(hostName: j, version: sendmailVersion)
        engine.rewriter.quietNotices = !engine.verbose
        // queue-only, defer and background modes check recipients without
        // expanding aliases and .forward files (EF_VRFYONLY; with b the
        // delivering child or worker expands them, as a queue run);
        // interactive delivery expands them at RCPT, as sendmail does
        let mode = engine.deliveryMode
        queueOnly = mode != UInt8(ascii: "i")
        engine.verifyOnly = queueOnly
        if let c = connection {
            setConnectionMacros(c)
        } else {
            // the "client" of -bs: no address, no name (unless
            // -M{client_addr} gives one, as sendmail lets it)
            if engine.config.names.id(forName: Array("client_addr".utf8)).flatMap({ engine.rewriter.macros[$0] }) == nil {
                setMacro("{client_addr}", Array("0".utf8))
            }
            setMacro("{client_port}", Array("0".utf8))
            setMacro("{client_name}", [])
            setMacro("{client_resolve}", [])
            setMacro("{daemon_flags}", daemonFlags)
        }
        applyServerFeatures()
        engine.rewriter.sessionSystemError = { [weak self] text in self?.logSystemError(text) }
        if privacy("needmailhelo") { session.needHelo.insert(.mail) }
        if privacy("needvrfyhelo") { session.needHelo.insert(.vrfy) }
        if privacy("needexpnhelo") { session.needHelo.insert(.expn) }
        for (word, verb) in [("novrfy", SMTPVerb.vrfy), ("noexpn", .expn), ("noverb", .verb), ("noetrn", .etrn)]
        where privacy(word) {
            session.disabled.insert(verb)
        }
        // (VERB would give out what EXPN does)
        if privacy("noexpn") { session.disabled.insert(.verb) }
        session.maxRecipients = engine.intOption("MaxRecipientsPerMessage", 0)
        session.maxNoopCommands = engine.intOption("MaxNOOPCommands", 20)
    }

    func setMacro(_ name: String, _ v: [UInt8]?) { rw.defineMacro(Array(name.utf8), v) }

    /// {x_addr} {x_mailer} {x_host} of a parsed address (x: mail, rcpt).
    func setAddressMacros(_ prefix: String, _ a: ParsedAddress) {
        setMacro("{\(prefix)_addr}", a.user)
        setMacro("{\(prefix)_mailer}", a.mailerName)
        setMacro("{\(prefix)_host}", a.host ?? [])
    }

    /// Accepted and refused recipients ({nrcpts}, {nbadrcpts}).
    var acceptedCount = 0
    var badCount = 0
    func countBad() {
        badCount += 1
        setMacro("{nbadrcpts}", Array(String(badCount).utf8))
    }

    var rw: RewriteEngine { engine.rewriter }
    func macro(_ c: Character) -> [UInt8] { rw.macros[Int(c.asciiValue!)] ?? [] }

    /// The 220 greeting: $e expanded, "ESMTP" after its first word
    /// (another code and text: greet_pause's 554).
    public func greeting(code: Int = 220, text: [UInt8]? = nil) -> [UInt8] {
        rw.macros[Int(UInt8(ascii: "b"))] = arpaDate(now())
        // (the cf reader keeps option values in expansion form)
        let spec = text ?? engine.config.options["SmtpGreetingMessage"]
            ?? [Meta.macroExpand, UInt8(ascii: "j")] + Array(" Sendmail ".utf8) + [Meta.macroExpand, UInt8(ascii: "v")]
                + Array(" ready at ".utf8) + [Meta.macroExpand, UInt8(ascii: "b")]
        var g = expandMacros(spec, rw.macros)
        if !g.containsBytes(Array("ESMTP".utf8)) {
            if let sp = g.firstIndex(of: 0x20) {
                g = Array(g[..<sp]) + Array(" ESMTP".utf8) + Array(g[sp...])
            } else {
                g += Array(" ESMTP".utf8)
            }
        }
        return SMTPReply(code: code, enhanced: nil, lines: [g]).encoded
    }

    /// One line from the client; returns the bytes to send and whether
    /// the session is over.
    public func handle(_ line: [UInt8], inputPending: Bool = false) -> (reply: [UInt8], close: Bool) {
        replyDelay = 0
        // (a verbose session's engine output: 050 lines before the reply)
        return withVerboseOutput { handleLine(line, inputPending: inputPending) }
    }

    /// Whether `handle(line)` can neither wait for the disk, the network nor
    /// the resolver: no map, ruleset, filter, file or queue ID is involved,
    /// only the session's state and perhaps a log line.  The daemon runs
    /// such a command on its event loop instead of handing it to a pool
    /// thread and back.  NOOP and RSET; HELO and EHLO (no filter to tell;
    /// EHLO once the SASL mechanisms are known);
    /// DATA when the cf has no check_data; QUIT when it closes no relay
    /// connection and needs no queue ID for its log line.  Anything else,
    /// message text and AUTH exchanges included, answers false.
    public func handlesWithoutWaiting(_ line: [UInt8]) -> Bool {
        guard case .command = session.phase, filter is NoFilter, !engine.verbose else { return false }
        if case .exchanging = auth.state.phase { return false }
        switch SMTPCommand.parse(line).verb {
        case .noop, .rset, .helo:
            return true
        case .ehlo:
            // (its AUTH line lists the SASL library's mechanisms: made once,
            // when the session opened, unless srv_features said A)
            return auth.prepared || featuresOff.contains(UInt8(ascii: "A"))
        case .data:
            guard let rs = rw.rulesets.find(Array("check_data".utf8)) else { return true }
            return !rw.rulesets.hasRules(rs)
        case .quit:
            // (logSessionEnd names a queue ID, made when there is none)
            return engine.smtpConnections.isEmpty && (envelopeID != nil || sessionNotes.issued)
        default:
            return false
        }
    }

    /// Seconds the last reply is to wait before it is sent (sendmail's
    /// slow-down of a client repeating HELO, NOOP, VRFY...: the session
    /// state machine's replyDelay); the caller waits, the daemon without
    /// holding a thread.
    public internal(set) var replyDelay = 0

    func handleLine(_ line: [UInt8], inputPending: Bool) -> (reply: [UInt8], close: Bool) {
        if let r = authHandle(line) { return r }
        let inCommand = session.phase != .data
        if inCommand, session.phase != .closed, let r = commandTooLong(line) { return r }
        noteCommand(line)
        if let refused = checkETRN(line) { return refused }
        if inCommand, let r = startTLSCommand(line) { return (r, false) }
        let action = session.receive(line, inputPending: inputPending)
        replyDelay = session.replyDelay
        if let note = session.attackNote { logAttack(note) }
        if let verb = session.trafficNote { logTrafficBeforeResponse("server \(verb)") }
        switch action {
        case .none: return ([], false)
        case .reply(let r):
            if r.isError { noteError(String(decoding: r.encoded.dropLast(2), as: UTF8.self)) }
            if inCommand, r.isError { logRefusedETRN(line) }
            if inCommand { noteVerb(line, reply: r) }
            return (r.encoded, false)
        case .quit(let r), .close(let r):
            return endSession(r)
        case .reset(let r):
            logAbandonedTransaction()
            resetTransaction()
            return (r.encoded, false)
        case .hello(let domain, let extended):
            // a new greeting drops the transaction (not the envelope's message)
            let afterTLS = tlsGreetingPending()
            let keep = afterTLS ? nil : envelopeMessage
            if afterTLS { logAbandonedTransaction(withoutRecipients: true) }
            resetTransaction()
            envelopeMessage = keep
            if !session.nullServer, let refused = filtered(filter.helo(domain)) { return (refused, false) }
            return (hello(domain, extended: extended), false)
        case .mail(let p): return (mail(p), false)
        case .recipient(let p): return (recipient(p), false)
        case .startData:
            // Debian's sendmail 8.17.1.9 (its fix against SMTP smuggling)
            // refuses a client that sent more before the 354 and ends the
            // session, after the 503 checks and before check_data
            if inputPending { return trafficBeforeResponse() }
            if let refused = checkData() { return (refused, false) }
            if let refused = filtered(filter.data()) { return (refused, false) }
            session.dataStarted()
            return (SMTPReply(354, nil, "End data with <CR><LF>.<CR><LF>").encoded, false)
        case .message(let text):
            let reply = message(text)
            // (VERB or DeliveryMode i: delivered before the 250)
            deliverBeforeReply()
            return (reply, false)
        case .etrn(let arg): return (etrn(arg), false)
        case .help(let topic): return (help(topic), false)
        case .verify(let a): return (verify(a, expand: false), false)
        case .expand(let a): return (verify(a, expand: true), false)
        }
    }

    /// sendmail reads a command into a 2048-byte buffer: a command of
    /// 2047 characters or more (CR LF not counted) gets "421 4.7.0 <host>
    /// Command too long, possible attack <client>", logged as "<client>:
    /// SMTP violation, input too long: <bytes with CR LF>", and the
    /// session ends.  nil for a command that fits.
    func commandTooLong(_ line: [UInt8]) -> (reply: [UInt8], close: Bool)? {
        let length = line.count - (line.last == 0x0D ? 1 : 0)
        guard length >= 2047 else { return nil }
        if envelopeID == nil { envelopeID = newQueueID(now()) }
        if let sink = engine.logSink, engine.logLevel > 3, let id = envelopeID {
            sink.log(priority: LOG_INFO, "\(id.bytes.string): \(macro("_").string): SMTP violation, input too long: \(line.count + 1)")
        }
        session.close()
        return endSession(SMTPReply(421, "4.7.0", "\(macro("j").string) Command too long, possible attack \(macro("_").string)"))
    }

    /// DATA with more input already there: logged, 554 5.5.0 "SMTP
    /// protocol error", and the session ends (the envelope logged as an
    /// abandoned one).
    func trafficBeforeResponse() -> (reply: [UInt8], close: Bool) {
        logTrafficBeforeResponse("server DATA")
        session.close()
        return endSession(SMTPReply(554, "5.5.0", "SMTP protocol error"))
    }

    /// "<id>: rejecting <phase> from <client> [<addr>] due to traffic
    /// before response", as sendmail logs a client that did not wait for a
    /// reply it must wait for (HELO, EHLO, DATA).
    func logTrafficBeforeResponse(_ phase: String) {
        if envelopeID == nil { envelopeID = newQueueID(now()) }
        guard let sink = engine.logSink, let id = envelopeID else { return }
        sink.log(priority: LOG_INFO, "\(id.bytes.string): rejecting \(phase) from \(clientHostName) "
                 + "[\(namedMacro("{client_addr}").string)] due to traffic before response")
    }

    /// QUIT, or a reply that ends the session (sendmail's doquit): the
    /// envelope and session log lines, the filter and relay connections
    /// closed; the reply, and that the connection closes.
    func endSession(_ r: SMTPReply) -> (reply: [UInt8], close: Bool) {
        logAbandonedEnvelope()
        logSessionEnd()
        closeFilter()
        closeRelayConnections()
        return (r.encoded, true)
    }

    /// An accepted ETRN (check_etrn passed, logged): `#group` runs that
    /// queue group (459 when there is none), `@domain` the entries with a
    /// recipient containing "domain", a host those containing "@host",
    /// as sendmail's runqueue() with QueueLimitRecipient; the run is
    /// started through `startQueueRun` (none: answered only).
    func etrn(_ arg: [UInt8]) -> [UInt8] {
        if arg.first == UInt8(ascii: "#") {
            let name = Array(arg.dropFirst())
            guard engine.queueGroupDirectories().contains(where: { $0.name == name }) else {
                return error(459, "4.5.4", "Queue \(name.string) unknown")
            }
            _ = startQueueRun?([Array("-qG".utf8) + name])
            return SMTPReply(250, "2.0.0", "Queuing for queue group \(name.string) started").encoded
        }
        let match = arg.first == UInt8(ascii: "@") ? Array(arg.dropFirst()) : [UInt8(ascii: "@")] + arg
        _ = startQueueRun?([Array("-qR".utf8) + match])
        return SMTPReply(250, "2.0.0", "Queuing for node \(arg.string) started").encoded
    }

    /// "<relay>: ETRN <arg> [rejected]" under the envelope's ID, as
    /// sendmail logs an ETRN it refuses.
    func logRefusedETRN(_ line: [UInt8]) {
        let c = SMTPCommand.parse(line)
        guard c.verb == .etrn, !c.argument.isEmpty, session.disabled.contains(.etrn),
              let sink = engine.logSink, engine.logLevel > 5 else { return }
        if envelopeID == nil { envelopeID = newQueueID(now()) }
        engine.mailingListNotes = []
        sink.log(priority: LOG_INFO, "\(envelopeID!.bytes.string): \(macro("_").string): ETRN \(c.argument.string) [rejected]")
    }

    /// HELP from the HelpFile (read at each HELP, as sendmail does).
    func help(_ topic: [UInt8]) -> [UInt8] {
        let r = engine.helpReply(topic)
        if r.isError { noteError(String(decoding: r.encoded.dropLast(2), as: UTF8.self)) }
        return r.encoded
    }


    func resetTransaction() {
        logAbandonedEnvelope()
        abortFilter()
        filterState.discard = false
        queue = SendQueue()
        sender = nil
        declaredSize = 0
        mailOptions = SubmitOptions()
        retSeen = false
        envidSeen = false
        authResetEnvelope()
        declaredBody = nil
        deliverBy = DeliverByState()
        rcptParams = [:]
        envelopeMessage = nil
        refusedRecipients = 0
        verifiedCount = 0
        envelopeID = nil
        acceptedCount = 0
        badCount = 0
        for m in ["{nrcpts}", "{nbadrcpts}"] { setMacro(m, nil) }
        rw.lastUserError = nil
        rw.envelopeMessage = nil
        policy = PolicyState()
        verb.verifiedRecipients = false
    }

    func privacy(_ word: String) -> Bool {
        if featureOff(word) { return true }
        return privacyWords.contains { $0 == word || ($0 == "goaway" && word != "noetrn" && word != "noreceipts") }
    }

    /// PrivacyOptions' words, lowercased (read once a session).
    lazy var privacyWords: [String] = (engine.config.options["PrivacyOptions"] ?? []).asciiLowercased
        .split(whereSeparator: { $0 == UInt8(ascii: ",") || isASCIISpace($0) }).map { Array($0).string }

    var maxMessageSize: Int { engine.intOption("MaxMessageSize", 0) }

    func hello(_ domain: [UInt8], extended: Bool) -> [UInt8] {
        // $s and $r are set from these at MAIL, as sendmail does
        heloName = domain
        heloProtocol = Array((extended ? "ESMTP" : "SMTP").utf8) + (extended && tls.active ? [UInt8(ascii: "S")] : [])
            + (extended && auth.state.isAuthenticated ? [UInt8(ascii: "A")] : [])
        let first = Array("\(macro("j").string) Hello \(macro("_").string), pleased to meet you".utf8)
        guard extended else { return SMTPReply(code: 250, enhanced: nil, lines: [first]).encoded }
        if session.nullServer {
            return SMTPReply(code: 250, enhanced: nil, lines: [first, Array("ENHANCEDSTATUSCODES".utf8)]).encoded
        }
        var lines = [first, Array("ENHANCEDSTATUSCODES".utf8)]
        if !featuresOff.contains(UInt8(ascii: "P")) { lines.append(Array("PIPELINING".utf8)) }
        if !privacy("noexpn") { lines.append(Array("EXPN".utf8)) }
        if !privacy("noverb") && !privacy("noexpn") { lines.append(Array("VERB".utf8)) }
        lines.append(Array("8BITMIME".utf8))
        lines.append(Array((maxMessageSize > 0 ? "SIZE \(maxMessageSize)" : "SIZE").utf8))
        if !privacy("noreceipts") { lines.append(Array("DSN".utf8)) }
        if !privacy("noetrn") && !session.disabled.contains(.etrn) { lines.append(Array("ETRN".utf8)) }
        // (AUTH before STARTTLS, as sendmail lists them)
        if let a = authEHLOKeyword() { lines.append(a) }
        if let k = startTLSKeyword { lines.append(k) }
        if let k = deliverByKeyword { lines.append(k) }
        lines.append(Array("HELP".utf8))
        return SMTPReply(code: 250, enhanced: nil, lines: lines).encoded
    }

    /// Runs `body` with engine messages captured as reply lines.
    func capturing(_ body: () -> Void) -> [String] {
        rw.smtpReplies = []
        body()
        let r = rw.smtpReplies ?? []
        rw.smtpReplies = nil
        // (a verbose session's 050 notices go to the client at once)
        return sendNotices(r)
    }

    func lines(_ ls: [String]) -> [UInt8] {
        for l in ls { noteError(l) }
        return ls.flatMap { Array($0.latin1Bytes) + [0x0D, 0x0A] }
    }

    /// The envelope's message (the qf M line): a 5xx reply replaces it, a
    /// 4xx one only fills it when empty.
    var envelopeMessage: String? = nil

    /// Records an error reply line ("553 5.1.2 text") as e_message.
    func noteError(_ line: String) {
        guard let c = line.first, c == "4" || c == "5" else { return }
        let (_, _, text) = stripReplyCode(line)
        if c == "5" || envelopeMessage == nil { envelopeMessage = text }
        lastRecipientError = text
    }

    func error(_ code: Int, _ enhanced: String, _ text: String) -> [UInt8] {
        let r = SMTPReply(code, enhanced, text)
        noteError(String(decoding: r.encoded.dropLast(2), as: UTF8.self))
        return r.encoded
    }

    /// A notice line under the envelope's queue ID (sendmail's usrerr and
    /// rejection log lines).
    func logNotice(_ text: String) {
        guard let sink = engine.logSink, engine.logLevel > 3 else { return }
        let id = envelopeID.map { $0.bytes.string } ?? "NOQUEUE"
        sink.log(priority: LOG_NOTICE, "\(id): \(text)")
    }

    /// "ruleset=..., arg1=..., relay=..., reject=<reply>" for a policy refusal.
    func logRejection(_ ruleset: String, _ arg: [UInt8], _ replies: [String], arg2: [UInt8]? = nil,
                      withID: Bool = true) {
        guard let r = replies.last else { return }
        let second = arg2.map { ", arg2=\($0.string)" } ?? ""
        let text = "ruleset=\(ruleset), arg1=\(arg.string)\(second), relay=\(macro("_").string), reject=\(r)"
        if withID {
            logNotice(text)
        } else if let sink = engine.logSink, engine.logLevel > 3 {
            // (sendmail names no envelope for check_relay, check_vrfy, check_expn)
            sink.log(priority: LOG_NOTICE, text)
        }
    }

    /// The reply text without code and enhanced code.
    func replyText(_ line: String) -> String { stripReplyCode(line).text }

    func mail(_ p: SMTPPathArgument) -> [UInt8] {
        // a listener with M=a takes mail from authenticated clients only
        if daemonFlags.contains(UInt8(ascii: "a")) && !auth.state.isAuthenticated {
            return error(530, "5.7.0", "Authentication required")
        }
        if envelopeID == nil { envelopeID = newQueueID(now()) }
        // $s and $r (a client that never said HELO/EHLO: as sendmail sets
        // them), then the one parse of the sender, with {addr_type} "e s"
        // as in sendmail's setsender()
        if !session.greeted {
            rw.macros[Int(UInt8(ascii: "s"))] = Array("localhost".utf8)
            rw.macros[Int(UInt8(ascii: "r"))] = Array((auth.state.isAuthenticated ? "ESMTPA" : "SMTP").utf8)
        } else {
            rw.macros[Int(UInt8(ascii: "s"))] = heloName
            rw.macros[Int(UInt8(ascii: "r"))] = heloProtocol
        }
        let addrType = engine.config.names.id(forName: Array("addr_type".utf8))
        if let id = addrType { rw.macros[id] = Array("e s".utf8) }
        var parsed: ParsedAddress? = nil
        // the address must parse (sendmail's first error is the reply)
        var first: ParsedAddress? = nil
        var errs = capturing { first = engine.parseAddress(p.address, flags: [.sender], isRecipient: false) }
        if let e = errs.first {
            if let id = addrType { rw.macros[id] = nil }
            return lines([e])
        }
        // nothing but a comment: the sender is $n
        var shown = p.address
        if first == nil {
            shown = expandMacros([Meta.macroExpand, UInt8(ascii: "n")], rw.macros)
            errs = capturing { first = engine.parseAddress(shown, flags: [.sender], isRecipient: false) }
        }
        setMacro("{mail_from}", shown)
        errs = capturing { parsed = engine.setSender(shown, alreadyParsed: first) }
        if let e = errs.first { return lines([e]) }
        if let a = first { setAddressMacros("mail", a) }
        // the envelope has its sender now: a refusal below (a parameter,
        // check_mail, the size limit, a filter) leaves it to be logged
        // (from=, nrcpts=0) at RSET, HELO or QUIT, unless another MAIL
        // replaces it, as sendmail's
        sender = parsed
        senderGiven = shown
        var size = 0
        for param in p.parameters {
            let kw = param.keyword.asciiUppercased.string
            let v = param.value ?? []
            if (kw == "RET" || kw == "ENVID") && privacy("noreceipts") {
                return error(504, "5.7.0", "Sorry, \(kw) not supported, we do not allow DSN")
            }
            switch kw {
            case "SIZE":
                // strtol(): leading digits; out of range is refused
                guard param.value != nil else { return error(501, "5.5.2", "SIZE requires a value") }
                guard let n = Self.sizeValue(v) else { return error(552, "5.2.3", "Message size exceeds maximum value") }
                guard n >= 0 else { return error(552, "5.2.3", "Message size invalid") }
                size = n
                declaredSize = size
            case "BODY":
                guard param.value != nil else { return error(501, "5.5.2", "BODY requires a value") }
                let b = v.asciiUppercased.string
                guard b == "7BIT" || b == "8BITMIME" else { return error(501, "5.5.4", "Unknown BODY type \(v.string)") }
                declaredBody = v.asciiUppercased
            case "RET":
                guard param.value != nil else { return error(501, "5.5.2", "RET requires a value") }
                if retSeen { return error(501, "5.5.0", "Duplicate RET parameter") }
                retSeen = true
                let r = v.asciiUppercased.string
                guard r == "HDRS" || r == "FULL" else { return error(501, "5.5.2", "Bad argument \"\(v.string)\" to RET") }
                mailOptions.ret = v
            case "AUTH":
                if let e = authMailParameter(param.value, address: p.address) { return e }
            case "BY" where deliverByMin >= 0:
                if let e = deliverByParameter(param.value) { return e }
            case "ENVID":
                guard param.value != nil else { return error(501, "5.5.2", "ENVID requires a value") }
                guard isXtext(v) else { return error(501, "5.5.4", "Syntax error in ENVID parameter value") }
                if envidSeen { return error(501, "5.5.0", "Duplicate ENVID parameter") }
                envidSeen = true
                mailOptions.envid = v
            default:
                return error(555, "5.5.4", "\(shownKeyword(param.keyword).string) parameter unrecognized")
            }
        }
        // the policy ruleset after the parameters, before the size limit
        let refused = policyCheck("check_mail", p.address, addrType: "e s")
        if !refused.isEmpty { logRejection("check_mail", p.address, refused); return lines(refused) }
        if maxMessageSize > 0 && size > maxMessageSize {
            return error(552, "5.2.3", "Message size exceeds fixed maximum message size (\(maxMessageSize))")
        }
        if lowOnSpace(declaredSize: size) {
            return error(452, "4.4.5", "Insufficient disk space; try again later")
        }
        if let refused = filtered(filter.mail(p.address, parameters: p.parameters.map {
            $0.keyword + ($0.value.map { [UInt8(ascii: "=")] + $0 } ?? [])
        })) { return refused }
        filterState.inTransaction = true
        setMacro("{nrcpts}", Array("0".utf8))
        session.mailAccepted()
        return SMTPReply(250, "2.1.0", "\(shown.string)... Sender ok").encoded
    }

    /// sendmail's enoughdiskspace() at MAIL: the queue directory's file
    /// system must have MinFreeBlocks (0 unless set) free blocks beyond
    /// the blocks of the declared SIZE; when not, "low on space (<client>
    /// needs <size> bytes + <n> blocks in <dir>), max avail: <blocks>" is
    /// logged (LOG_ALERT) and true returned.
    func lowOnSpace(declaredSize size: Int) -> Bool {
        let minFree = engine.intOption("MinFreeBlocks", 0)
        if minFree <= 0 && size <= 0 { return false }
        let qdir = (engine.config.options["QueueDirectory"] ?? []).string
        var fs = statvfs()
        guard statvfs(qdir, &fs) == 0, fs.f_frsize > 0 else { return false }
        let avail = Int(fs.f_bavail)
        guard avail < minFree + size / Int(fs.f_frsize) else { return false }
        if envelopeID == nil { envelopeID = newQueueID(now()) }
        if let sink = engine.logSink, engine.logLevel > 0, let id = envelopeID {
            sink.log(priority: LOG_ALERT, "\(id.bytes.string): low on space (\(clientHostName) needs "
                     + "\(size) bytes + \(minFree) blocks in \(qdir)), max avail: \(avail)")
        }
        return true
    }

    /// rscheck(): runs the named ruleset (when the cf has it) on `arg`;
    /// the error replies a $#error result gives, or [] to go on.
    func policyCheck(_ name: String, _ arg: [UInt8], addrType: String? = nil) -> [String] {
        let v = policyVerdict(name, arg, addrType: addrType)
        if case .reject(let r) = v { return r }
        _ = applyVerdict(v, ruleset: name, arg: arg)
        return []
    }

    /// A parameter's keyword as sendmail names it: its leading letters,
    /// digits and dashes ("<a@b>" has none).
    func shownKeyword(_ k: [UInt8]) -> [UInt8] {
        Array(k.prefix { isASCIIAlnum($0) || $0 == UInt8(ascii: "-") })
    }

    /// RCPT: the reply; a refusal other than a policy one is logged with
    /// its text, as sendmail does.
    func recipient(_ p: SMTPPathArgument) -> [UInt8] {
        throttleBadRecipients()
        let before = badCount
        let reply = recipientReply(p)
        if badCount > before, !policyRejected, let t = lastRecipientError {
            logNotice(t)
        }
        lastRecipientError = nil
        policyRejected = false
        return reply
    }

    /// The text of the last error reply (for RCPT's log line).
    var lastRecipientError: String? = nil
    /// RCPT was refused by check_rcpt (logged as such).
    var policyRejected = false

    /// SIZE's value as sendmail reads it, with strtol(3) in base 10 (the
    /// leading digits, 0 without any); nil when it overflows upward
    /// (LONG_MAX with ERANGE, "exceeds maximum value").
    static func sizeValue(_ v: [UInt8]) -> Int? {
        errno = 0
        let n = String(decoding: v, as: UTF8.self).withCString { Glibc.strtol($0, nil, 10) }
        return n == Int.max && errno == ERANGE ? nil : n
    }

    /// sendmail's isatom(): printable ASCII without specials, not empty.
    static func isAtom(_ s: ArraySlice<UInt8>) -> Bool {
        !s.isEmpty && s.allSatisfy { $0 > 0x20 && $0 < 0x7F && !Array("()<>@,;:\\\".[]".utf8).contains($0) }
    }

    func recipientReply(_ p: SMTPPathArgument) -> [UInt8] {
        var notify: RecipientFlags? = nil
        var orcpt: [UInt8]? = nil
        var r: Recipient? = nil
        var errs = capturing {
            if let a = engine.parseAddress(p.address, flags: [], isRecipient: true) { r = Recipient(a, parent: nil) }
        }
        if !errs.isEmpty { countBad(); return lines(errs) }
        if r == nil { countBad(); return error(501, "5.0.0", "Missing recipient") }
        for param in p.parameters {
            let kw = param.keyword.asciiUppercased.string
            let v = param.value ?? []
            if (kw == "NOTIFY" || kw == "ORCPT") && privacy("noreceipts") {
                countBad()
                return error(504, "5.7.0", "Sorry, \(kw) not supported, we do not allow DSN")
            }
            switch kw {
            case "NOTIFY":
                // rcpt_esmtp_args(): NEVER alone, or a list of SUCCESS,
                // FAILURE and DELAY; the word that is none of them is named
                guard let v = param.value else { countBad(); return error(501, "5.5.2", "NOTIFY requires a value") }
                var f: RecipientFlags = [.hasNotify]
                if !v.asciiCaseEquals(Array("never".utf8)) {
                    for w in v.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                        switch Array(w).asciiUppercased.string {
                        case "SUCCESS": f.insert(.notifySuccess)
                        case "FAILURE": f.insert(.notifyFailure)
                        case "DELAY": f.insert(.notifyDelay)
                        default: countBad(); return error(501, "5.5.4", "Bad argument \"\(Array(w).string)\"  to NOTIFY")
                        }
                    }
                }
                notify = f
            case "ORCPT":
                // an atom, ";", xtext (RFC 3461 4.2)
                guard let v = param.value else { countBad(); return error(501, "5.5.2", "ORCPT requires a value") }
                if orcpt != nil { countBad(); return error(501, "5.5.0", "Duplicate ORCPT parameter") }
                guard let semi = v.firstIndex(of: UInt8(ascii: ";")), Self.isAtom(v[..<semi]), isXtext(Array(v[(semi + 1)...])) else {
                    countBad()
                    return error(501, "5.5.4", "Syntax error in ORCPT parameter value")
                }
                orcpt = v
            default:
                countBad()
                return error(555, "5.5.4", "\(shownKeyword(param.keyword).string) parameter unrecognized")
            }
        }
        if let a = r?.address { setAddressMacros("rcpt", a) }
        let refused = policyCheck("check_rcpt", p.address, addrType: "e r")
        if !refused.isEmpty {
            countBad()
            policyRejected = true
            logRejection("check_rcpt", p.address, refused)
            return lines(refused)
        }
        if let refused = filtered(filter.rcpt(p.address, parameters: p.parameters.map {
            $0.keyword + ($0.value.map { [UInt8(ascii: "=")] + $0 } ?? [])
        })) { countBad(); return refused }
        var placed: Recipient? = nil
        // an unknown user is a reply, not the exit status
        let saveStatus = rw.exitStatus
        errs = capturing { placed = engine.recipient(r!, queue: queue, aliasLevel: 0) }
        rw.exitStatus = saveStatus
        // (an alias or :include: expanded at RCPT is accepted too)
        if let q = placed, q.state.isSendable || (!queueOnly && (q.state == .expanded || q.state == .included)) {
            if errs.isEmpty {
                if rcptParams[ObjectIdentifier(q)] == nil { rcptParams[ObjectIdentifier(q)] = (notify, orcpt) }
                session.recipientAccepted()
                noteRecipientForVerb()
                engine.noteSessionControl(queue)
                acceptedCount += 1
                setMacro("{nrcpts}", Array(String(engine.countedRecipients(queue) + verifiedCount).utf8))
                let queued = q.state == .queueUp ? " (will queue)" : ""
                // a duplicate is answered with the address the envelope
                // already has, as it was given (sendmail's q_paddr of the
                // entry recipient() found)
                let shown = q === r ? p.address : q.printable
                return SMTPReply(250, "2.1.5", "\(shown.string)... Recipient ok\(queued)").encoded
            }
        }
        // a refused recipient does not stay in the envelope
        // (it still counts against `for $u` in Received:)
        if let q = placed, q === r, !q.state.isSendable { queue.remove(q); refusedRecipients += 1 }
        countBad()
        if !errs.isEmpty { return lines(errs) }
        return error(550, "5.1.1", "\(p.address.string)... User unknown")
    }

    func verify(_ arg: [UInt8], expand: Bool) -> [UInt8] {
        // logged under the envelope's queue ID (given now if it has none)
        if envelopeID == nil { envelopeID = newQueueID(now()) }
        if let sink = engine.logSink, engine.logLevel > 5, let id = envelopeID {
            sink.log(priority: LOG_INFO, "\(id.bytes.string): \(macro("_").string): \(expand ? "EXPN" : "VRFY") \(arg.string)")
        }
        let refused = policyCheck(expand ? "check_expn" : "check_vrfy", arg)
        if !refused.isEmpty {
            logRejection(expand ? "check_expn" : "check_vrfy", arg, refused, withID: false)
            return lines(refused)
        }
        let vq = SendQueue()
        engine.verifyOnly = !expand
        let saveStatus = rw.exitStatus
        defer { engine.verifyOnly = queueOnly; rw.exitStatus = saveStatus }
        let errs = capturing { engine.sendToList(arg, parent: nil, queue: vq, aliasLevel: 0) }
        // they went through recipient() on this envelope: e_nrcpts counts them
        verifiedCount += engine.countedRecipients(vq)
        if !errs.isEmpty { return lines(errs) }
        let j = macro("j")
        var out: [[UInt8]] = []
        // VRFY: 252 (cannot verify) for an address whose mailer lacks
        // F=q, line by line as sendmail's printvrfyaddr(); EXPN: 250
        var codes: [Int] = []
        for r in vq.entries where r.state.isSendable {
            codes.append(!expand && !(r.address.mailer?.has("q") ?? false) ? 252 : 250)
            // the user part, qualified (with $j for a local user, else with
            // the host) unless it already names a domain
            var addr = r.address.user
            if addr.contains(UInt8(ascii: "@")) {
            } else if r.address.mailer?.has("l") ?? false { addr += [UInt8(ascii: "@")] + j }
            else if let h = r.address.host { addr += [UInt8(ascii: "@")] + h }
            var text = [UInt8(ascii: "<")] + addr + [UInt8(ascii: ">")]
            // (the full name of a user recipient() looked up: not of an
            // alias VRFY only verified)
            if r.state != .verified, r.address.mailer?.has("w") ?? false, let pw = getpwnam(r.address.user.string) {
                let gecos = String(cString: pw.pointee.pw_gecos)
                let full = gecos.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                if !full.isEmpty { text = Array(full.utf8) + [0x20] + text }
            }
            out.append(text)
        }
        if out.isEmpty { return SMTPReply(550, "5.1.1", "\(arg.string)... User unknown").encoded }
        var reply: [UInt8] = []
        for (i, line) in out.enumerated() {
            var one = SMTPReply(code: codes[i], enhanced: "2.1.5", lines: [line]).encoded
            if i < out.count - 1 { one[3] = UInt8(ascii: "-") }
            reply += one
        }
        return reply
    }

    /// DATA's text: collect, headers, qf, durable commit.
    func message(_ text: [UInt8]) -> [UInt8] {
        defer { resetTransaction(); session.transactionEnded() }
        policy.senderLogged = true
        let t = now()
        let qdir = (engine.config.options["QueueDirectory"] ?? []).string
        let limit = engine.maxHeadersLength
        let msg = Collector.collect(smtpUnstuffed(text), ignoreDots: true, maxHeadersLength: limit)
        if maxMessageSize > 0 && msg.size > maxMessageSize {
            return error(552, "5.2.3", "Message exceeds maximum fixed size (\(maxMessageSize))")
        }
        if msg.headersTooLarge {
            // sendmail logs it as collect() meets it, before the from= line;
            // the message is then refused as its message stages refuse it
            if envelopeID == nil { envelopeID = newQueueID(t) }
            if let sink = engine.logSink, let id = envelopeID {
                sink.log(priority: LOG_NOTICE, "\(id.bytes.string): headers too large (\(limit) max) from "
                         + "\(clientHostName) during message collect")
            }
            policy.messageRefusal = ["552 5.6.0 Headers too large (\(limit) max)"]
        }
        checkHeaders(msg, text: text)
        if !msg.headersTooLarge { checkNUL(text) }
        let qid = envelopeID ?? newQueueID(t)
        let date = arpaDate(t)
        rw.macros[Int(UInt8(ascii: "a"))] = date
        rw.macros[Int(UInt8(ascii: "b"))] = date
        rw.macros[Int(UInt8(ascii: "i"))] = qid.bytes
        rw.macros[Int(UInt8(ascii: "t"))] = engine.messageIDTime(t)
        if let id = engine.config.names.id(forName: Array("daemon_flags".utf8)) { rw.macros[id] = daemonFlags }
        let fMacro = macro("f")
        var headers = HeaderList(config: engine.config)
        for f in msg.headerFields { headers.addMessageField(f) }
        rw.macros[Int(UInt8(ascii: "u"))] = nil
        // (an alias RCPT expanded counts: sendmail's e_origrcpt)
        let primaries = queue.entries.filter {
            $0.primary && ($0.state.isSendable || $0.state == .expanded || $0.state == .included)
        }
        // `for $u` only when one RCPT was accepted and nothing else (refused
        // recipients, VRFY/EXPN addresses) went into the envelope
        if primaries.count == 1 && acceptedCount == 1 && refusedRecipients == 0 && verifiedCount == 0 { rw.macros[Int(UInt8(ascii: "u"))] = primaries[0].printable }
        rw.macros[Int(UInt8(ascii: "g"))] = fMacro
        let unbound = headers.expandDefaults(rw.macros)
        rw.macros[Int(UInt8(ascii: "u"))] = nil
        // EF_DELETE_BCC: a recipient header of the message other than Bcc:
        // and other than Resent-* (as sendmail decides it)
        let visible = headers.headers.contains {
            !$0.flags.contains(.defaultValue) && $0.flags.contains(.recipient) && !$0.flags.contains(.bcc)
                && !$0.flags.contains(.resent)
        }
        engine.addRecipientHeaderIfNeeded(&headers, queue)
        let msgid = headers.headers.last(where: { $0.name.asciiCaseEquals(Array("Message-Id".utf8)) }).map {
            Array($0.value.trimmingASCIISpace)
        }
        var o = mailOptions
        o.bodyType = declaredBody
        rw.lastUserError = envelopeMessage
        var qf = engine.controlFile(o, message: msg, headers: headers, queue: queue,
                                    sender: sender ?? ParsedAddress(mailer: nil, mailerName: [], host: nil, user: [], printable: []),
                                    headerErrors: false, bccFlag: visible, now: t)
        qf.authParameter = authQueueParameter
        qf.deliverBy = deliverBy.queueValue
        qf.priority += Int64(verifiedCount * engine.intOption("RecipientFactor", 30000))
        // per-recipient NOTIFY and ORCPT
        let sendable = queue.entries.filter { $0.state.isSendable }
        for (i, r) in sendable.enumerated() where i < qf.recipients.count {
            guard let p = rcptParams[ObjectIdentifier(r)] else { continue }
            if let n = p.notify {
                qf.recipients[i].flags.subtract([.notifyFailure, .notifyDelay, .notifySuccess, .hasNotify])
                qf.recipients[i].flags.formUnion(n)
            }
            qf.recipients[i].originalRecipient = p.orcpt
        }
        // the final recipient of an SMTP address: the user part with a
        // domain, else the address without its angle brackets, with $j
        let j = macro("j")
        // (for an alias expanded at RCPT: the address the client gave)
        for (i, r0) in sendable.enumerated() where i < qf.recipients.count {
            var r = r0
            while let p = r.parent { r = p }
            let at = UInt8(ascii: "@")
            var final = r.address.user.contains(at) ? r.address.user : r.printable
            if final.first == UInt8(ascii: "<"), final.last == UInt8(ascii: ">") { final = Array(final.dropFirst().dropLast()) }
            if !final.contains(at) { final += [at] + j }
            qf.recipients[i].finalRecipient = (r.address.mailer?.addrType ?? Array("rfc822".utf8)) + Array("; ".utf8) + final
        }
        // from= once the message is read; then check_eom and the verdicts
        engine.logQueued(id: qid.bytes, sender: qf.sender, size: msg.size, precedence: engine.precedenceClass(headers),
                         nrcpts: engine.countedRecipients(queue) + verifiedCount, msgid: msgid, bodyType: declaredBody,
                         relay: macro("_"), recipients: [], priority: qf.priority, delay: 0, proto: macro("r"),
                         daemon: daemonName)
        if let refused = endOfMessagePolicy(size: msg.size, messageID: msgid, id: qid.bytes, priority: qf.priority) {
            return refused
        }
        // validated: the filter's turn, then the commit
        if let refused = filterMessage(msg) { return refused }
        if filterState.discard {
            if let sink = engine.logSink, engine.logLevel > 4 { sink.log(priority: LOG_INFO, "\(qid.bytes.string): discarded") }
            filterState.inTransaction = false
            return SMTPReply(250, "2.0.0", "\(qid.bytes.string) Message accepted for delivery").encoded
        }
        qf.quarantineReason = policy.quarantine
        // a quarantined envelope is not split (no EF_SPLIT)
        if policy.quarantine != nil { qf.flags.remove(.split) }
        // list owners (aliases expanded at RCPT): their recipients go into
        // envelopes of their own, queued first (not yet with Q lines)
        var clones: [(id: [UInt8], owner: [UInt8], qf: QueueFile)] = []
        if policy.quarantine == nil && engine.config.queueGroups.isEmpty {
            var index: [ObjectIdentifier: Int] = [:]
            for (i, r) in sendable.enumerated() { index[ObjectIdentifier(r)] = i }
            var taken = Set<Int>()
            for split in engine.splitByOwner(queue, sender: qf.sender) {
                let members = split.members.compactMap { index[ObjectIdentifier($0)] }.filter { $0 < qf.recipients.count }.sorted()
                taken.formUnion(members)
                clones.append((newQueueID(t).bytes, split.owner,
                               engine.cloneControlFile(qf, owner: split.owner, recipients: engine.keepRecipients(qf, members))))
            }
            if !taken.isEmpty { qf.recipients = engine.keepRecipients(qf, qf.recipients.indices.filter { !taken.contains($0) }) }
        }
        let mode = engine.queueFileMode
        let committer = QueueCommitter(directory: qdir, fileMode: mode)
        for c in clones where committer.commit(id: c.id, data: msg.body, control: QueueFileWriter.encode(c.qf)) != nil {
            return SMTPReply(451, "4.3.0", "Temporary failure: cannot queue message").encoded
        }
        let originalQueued = clones.isEmpty || !qf.recipients.isEmpty
        if originalQueued, committer.commit(id: qid.bytes, data: msg.body, control: QueueFileWriter.encode(qf),
                                            kind: policy.quarantine == nil ? .control : .quarantined) != nil {
            return SMTPReply(451, "4.3.0", "Temporary failure: cannot queue message").encoded
        }
        engine.logClones(id: qid.bytes, clones.map { ($0.id, $0.owner) })
        // (e_msgsize: SIZE= when this process relays it)
        engine.envelopeSizes[qid.bytes] = msg.size
        filterState.inTransaction = false
        // (a quarantined message waits in its hf file: nothing to deliver)
        if policy.quarantine == nil {
            if originalQueued { acceptedIDs.append(qid.bytes) }
            acceptedIDs += clones.reversed().map { $0.id }
            accepted = (qid.bytes, qdir, unbound.map { ($0.0, $0.1.queueHeader) })
            acceptedQueued = originalQueued
            // (in a session the transcript starts at DATA: alias()'s
            // "Message delivered to mailing list" lines at RCPT are not in it)
            acceptedClones = clones.reversed().map { c in
                var e = SubmissionErrors()
                e.owner = true
                e.leadingTranscript = []
                return SubmittedEnvelope(id: c.id, errors: e)
            }
            // (VERB: delivered before the 250, SMTPServer+Verb.swift)
            verb.doubleQueue = verb.verifiedRecipients
            logQueuedOnly(id: qid.bytes, sendable: sendable, priority: qf.priority, queued: originalQueued)
        }
        return SMTPReply(250, "2.0.0", "\(qid.bytes.string) Message accepted for delivery").encoded
    }

    /// DeliveryMode q or d (sendmail's sendall() in queue-only mode): a
    /// "to=..., delay=00:00:00, mailer=..., pri=..., stat=queued" line for
    /// each recipient, above LogLevel 8, when none of them waits for its
    /// alias expansion (a mailer with F=A): with one that does, the oracle
    /// logs none (observed with Debian's sendmail 8.17.1.9: an envelope
    /// to esmtp recipients only is logged, one with a local recipient too
    /// is not).
    func logQueuedOnly(id: [UInt8], sendable: [Recipient], priority: Int64, queued: Bool) {
        let mode = engine.deliveryMode
        guard queued, mode == UInt8(ascii: "q") || mode == UInt8(ascii: "d"), let sink = engine.logSink, engine.logLevel > 8,
              !sendable.isEmpty, !sendable.contains(where: { $0.address.mailer?.has("A") ?? true }) else { return }
        // (not modelled: with -odd the oracle adds "dsn=4.4.3" when a
        // lookup of the routing was deferred, as for a mailertable route)
        for r in sendable {
            sink.log(priority: LOG_INFO, "\(id.string): to=\(r.printable.string), delay=00:00:00, "
                     + "mailer=\(r.address.mailerName.string), pri=\(priority), stat=queued")
        }
    }

    /// To be called once a reply has been written: delivers the message
    /// its DATA accepted (DeliveryMode i: now; b: in a child), flushing
    /// the replies first.
    public func deliverAccepted() {
        guard let a = accepted else { return }
        accepted = nil
        engine.out.flush()
        let quiet = rw.quietNotices
        // (b: sendmail's child reads the message back from the qf)
        var errors: SubmissionErrors? = nil
        if !acceptedClones.isEmpty {
            var e = SubmissionErrors()
            e.leadingTranscript = []
            errors = e
        }
        // (b: the child expands what RCPT only verified, as a queue run)
        let verify = engine.verifyOnly
        engine.verifyOnly = false
        defer { engine.verifyOnly = verify }
        engine.deliverSubmitted(id: acceptedQueued ? a.id : nil, qdir: a.qdir,
                                unbound: engine.deliveryMode == UInt8(ascii: "b") ? [] : a.unbound,
                                inSession: true, submissionErrors: errors, clones: acceptedClones)
        acceptedClones = []
        rw.quietNotices = quiet
    }

    /// An envelope dropped without a message (QUIT, RSET, a lost
    /// connection, the first HELO/EHLO after STARTTLS): its from= line,
    /// once (SMTPServer+Policy.swift; with or without recipients).
    func logAbandonedTransaction(size: Int? = nil, withoutRecipients: Bool = false) { logAbandonedEnvelope(size: size) }

    /// A session that never issued MAIL, EXPN, VRFY or ETRN is logged
    /// when it ends, as sendmail does (SMTPServer+Policy.swift).
    func logIdleSession() { logSessionEnd() }

    /// A daemon connection lost without QUIT: in DATA, sendmail's collect
    /// lines and the envelope (from=, with the size collected so far);
    /// else the envelope of an open transaction.
    public func connectionLost() {
        defer { closeFilter(); closeRelayConnections() }
        let wasInData = inData
        let size = collectedAtLoss
        session.close()
        guard let sink = engine.logSink else { return }
        if let id = envelopeID, sender != nil, wasInData {
            let text = id.bytes.string
            if engine.logLevel > 1 { sink.log(priority: LOG_WARNING, "\(text): collect: premature EOM: unexpected close") }
            if engine.logLevel > 3 {
                sink.log(priority: LOG_NOTICE, "\(text): collect: relay=\(namedMacro("{client_name}").string), from=\(senderGiven.string), info=unexpected close")
            }
            logAbandonedTransaction(size: size)
            return
        }
        logAbandonedTransaction()
        logIdleSession()
    }

    /// "<id>: <client>: possible SMTP attack: command=X, count=N", as
    /// sendmail logs a command's limit reached (LogLevel above 5).
    func logAttack(_ note: SMTPServerSession.AttackNote) {
        guard let sink = engine.logSink, engine.logLevel > 5 else { return }
        if envelopeID == nil { envelopeID = newQueueID(now()) }
        let id = envelopeID!.bytes.string
        sink.log(priority: LOG_INFO, "\(id): \(macro("_").string): possible SMTP attack: command=\(note.command), count=\(note.count)")
    }

    /// "<id>: SYSERR(<user>): <text>" at LOG_CRIT, as sendmail's syserr()
    /// logs under the envelope's ID (NOQUEUE before there is one).
    func logSystemError(_ text: String) {
        guard let sink = engine.logSink else { return }
        let id = envelopeID.map { $0.bytes.string } ?? "NOQUEUE"
        sink.log(priority: LOG_CRIT, "\(id): SYSERR(\(engine.options.realUserName.string)): \(text)")
    }

    /// The client said nothing for Timeout.command (or Timeout.datablock
    /// in DATA): sendmail's log lines, and the reply to send before the
    /// connection is closed (none while reading a command).
    public func readTimeout() -> [UInt8] {
        defer { closeFilter(); closeRelayConnections() }
        let sink = engine.logSink
        let client = namedMacro("{client_name}").string
        if envelopeID == nil { envelopeID = newQueueID(now()) }
        let id = envelopeID!.bytes.string
        if inData {
            let size = session.collectedSize
            session.close()
            let text = "collect: relay=\(client), from=\(senderGiven.string), info=read timeout"
            let user = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? "root"
            sink?.log(priority: LOG_CRIT, "\(id): SYSERR(\(user)): \(text)")
            logAbandonedTransaction(size: size)
            return SMTPReply(421, "4.4.1", text).encoded
        }
        session.close()
        if engine.logLevel > 1 {
            sink?.log(priority: LOG_NOTICE, "\(id): timeout waiting for input from \(client) during server cmd read")
        }
        logAbandonedTransaction()
        logIdleSession()
        return []
    }

    /// The input ended without QUIT: in the middle of DATA sendmail says
    /// why it gives up; then it exits with its status.
    public func endOfInput() -> (reply: [UInt8], status: SysExit) {
        defer { closeFilter(); closeRelayConnections() }
        var reply: [UInt8] = []
        if session.phase == .data {
            reply = SMTPReply(421, "4.4.1", "collect: relay=localhost, from=\(senderGiven.string), info=unexpected close").encoded
        }
        if session.phase != .data && session.phase != .closed {
            logLostInput()
            logSessionEnd()
        }
        session.close()
        return (reply, engine.exitStatus)
    }

    /// The exit status after QUIT.
    public var exitStatus: SysExit { engine.exitStatus }
}

extension Engine {
    /// sendmail's help(): the HelpFile's lines for `topic` (read at each
    /// call), or its refusals; SMTP's HELP and the control socket's.
    public func helpReply(_ topic: [UInt8]) -> SMTPReply {
        var file: [UInt8]? = nil
        if let path = config.options["HelpFile"], !path.isEmpty, let fp = fopen(path.string, "r") {
            defer { fclose(fp) }
            var data: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 8192)
            while true {
                let n = buf.withUnsafeMutableBytes { fread($0.baseAddress, 1, 8192, fp) }
                if n <= 0 { break }
                data += buf[0..<n]
            }
            file = data
        }
        let names = config.names
        return SMTPHelp.reply(helpFile: file, argument: topic, version: sendmailVersion, expand: {
            expandMacros(translateDollars($0, names: names, report: { _ in }), self.rewriter.macros)
        })
    }
}
