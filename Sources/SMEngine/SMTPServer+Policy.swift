// SMEngine/SMTPServer+Policy.swift
//
// The policy stages of an SMTP session after RCPT, where sendmail runs
// them (checked against sendmail 8.17 in differential -bs sessions):
//   - check_data at DATA, before the 354, on the number of RCPT commands
//     accepted; a refusal keeps the transaction (sender and recipients).
//   - header checks (cf H lines whose value is `$>ruleset`, or
//     `$>+ruleset` to keep comments), on each header field of the message
//     with {hdr_name}, {hdrlen} (bytes of the raw value) and {currHeader}
//     (the raw value, folds as blanks, in quotes) set; such H lines are
//     never added to a message.
//   - check_eoh on `nheaders $| hsize` (hsize: the header lines with their
//     newlines and the line that ended the header).
//   - check_eom on the message size, with {msg_size} and {msg_id} set.
//   - check_etrn on ETRN's argument.
//   - srv_features at the start of the session, on `{client_name} $| `:
//     a `$# letters` result turns off what its upper-case letters name
//     (B VERB, D DSN, E ETRN, P PIPELINING, X EXPN and with it VERB) in
//     the EHLO list and as commands, as the matching PrivacyOptions do.
// A ruleset result is a verdict: `$#error` (with `$@` enhanced code,
// TEMP as a 4xx text) is the reply; `$#discard` accepts the message with
// the usual 250 and drops it (no queue file); `$#error $@ quarantine
// $: reason` queues it as an hf file whose q line is the reason as the
// ruleset wrote it.  The same verdicts hold for check_mail/check_rcpt.
// When several stages refuse, the last refusal is the reply; a refusal
// wins over discard.  BadRcptThrottle: from the Nth refused recipient on,
// each RCPT waits a second (sendmail's flood throttle), with its log line.
// RejectNUL: a NUL byte in the message refuses it (554 5.6.1).
// Log lines: `ruleset=<name>, arg1=<arg>[, arg2=<arg>], relay=<$_>,
// reject=<reply>` / `discard` / `quarantine=<reason>` under the
// envelope's queue ID (check_etrn's without one); a message refused at
// its end logs its from= line, then `to=..., stat=<text>` per recipient;
// a discarded one `discarded`.  Every accepted MAIL whose transaction
// ends without a message (RSET, HELO/EHLO, QUIT, end of input) logs its
// from= line; end of input in a transaction logs `lost input channel`
// first; a session that never gave MAIL/EXPN/VRFY/ETRN logs so at its end.
// Not done: check_compat (sendmail runs it per recipient in the queue
// run's deliver(), on `sender $| recipient`; our queue runs do not call
// it yet), header checks on command-line submissions, check_relay.
// Found, not reproduced: after RSET sendmail has forgotten a
// -M{client_addr} (the client is local again and may relay); we keep it
// for the whole session.

import Glibc
import SMBase
import SMRules
import SMConfig
import SMQueueFormat
import SMSMTP

/// What a policy ruleset decided.
enum PolicyVerdict: Equatable {
    case accept
    case reject([String])
    case discard
    case quarantine([UInt8])
}

/// Per-transaction policy state (reset with the transaction).
struct PolicyState {
    /// A ruleset said $#discard: the message is accepted and dropped.
    var discard = false
    /// A ruleset said quarantine: the message goes into an hf file.
    var quarantine: [UInt8]? = nil
    /// A refusal from the message stages (header checks, eoh, eom).
    var messageRefusal: [String]? = nil
    /// The envelope's from= line was written (or needs none).
    var senderLogged = false
    /// The flood throttle's log line was written.
    var throttleLogged = false
}

/// What the end of the session logs.
struct SessionNotes {
    /// MAIL, EXPN, VRFY or ETRN was given (else "did not issue ...").
    var issued = false
    /// The last command's name ("startup" before any known one).
    var lastCommand = "startup"
}

/// One H line that is a header check.
struct HeaderCheck {
    var name: [UInt8]
    var ruleset: [UInt8]
    /// `$>+`: the value keeps its comments.
    var keepComments: Bool
}

extension HeaderList {
    /// The ruleset an H line value names (`$>name`, `$>+name`), if it is
    /// a header check (the cf reader keeps `$>` as 0201 '>').
    static func checkRuleset(_ value: [UInt8]) -> (name: [UInt8], keepComments: Bool)? {
        var v = value[...]
        if v.first == Meta.callSubr { v = v.dropFirst() }
        else if v.count > 1, v.first == Meta.macroExpand, v[v.startIndex + 1] == UInt8(ascii: ">") { v = v.dropFirst(2) }
        else { return nil }
        let plus = v.first == UInt8(ascii: "+")
        if plus { v = v.dropFirst() }
        return (Array(Array(v).trimmingASCIISpace), plus)
    }

    static func isCheck(_ value: [UInt8]) -> Bool { checkRuleset(value) != nil }
}

/// What a policy ruleset's result says (rscheck): `$#discard`, `$#error
/// $@ quarantine $: reason`, another `$#error`, or nothing.
enum PolicyResult {
    case none
    case discard
    case quarantine([UInt8])
    case error
}

extension Engine {
    /// The header checks of the cf, by H line.
    var headerChecks: [HeaderCheck] {
        config.headers.compactMap { d in
            guard let (rs, plus) = HeaderList.checkRuleset(d.value) else { return nil }
            return HeaderCheck(name: d.name, ruleset: rs, keepComments: plus)
        }
    }

    /// {hdr_name}, {hdrlen} and {currHeader} (quoted, newlines as
    /// spaces) for a header check on `raw`, as sendmail sets them.
    func defineHeaderCheckMacros(name: [UInt8], raw: [UInt8]) {
        rewriter.defineMacro(Array("{hdr_name}".utf8), name)
        rewriter.defineMacro(Array("{hdrlen}".utf8), Array(String(raw.count).utf8))
        rewriter.defineMacro(Array("{currHeader}".utf8),
                             [UInt8(ascii: "\"")] + raw.map { $0 == 0x0A ? 0x20 : $0 } + [UInt8(ascii: "\"")])
    }

    /// The verdict a policy ruleset's rewritten workspace carries.
    func policyResult(_ pvp: [[UInt8]]) -> PolicyResult {
        guard pvp.count > 1, pvp[0] == [Meta.canonNet] else { return .none }
        if pvp[1].asciiCaseEquals(Array("discard".utf8)) { return .discard }
        guard pvp[1].asciiCaseEquals(Array("error".utf8)) else { return .none }
        if pvp.count > 3, pvp[2] == [Meta.canonHost], pvp[3].asciiCaseEquals(Array("quarantine".utf8)),
           let u = pvp.firstIndex(of: [Meta.canonUser]) {
            return .quarantine(rewriter.catAddr(pvp[(u + 1)...], sub: UInt8(ascii: " "), external: false,
                                                limit: Limits.maxName + 2))
        }
        return .error
    }
}

extension SMTPServer {

    /// The argument's tokens (as rscheck scans it).
    func policyTokens(_ arg: [UInt8], keepComments: Bool = true) -> [[UInt8]]? {
        let r = prescan(arg, delim: 0, table: keepComments ? rw.tables.noComment : rw.tables.external,
                        ignoreUnbalanced: false, eightBitAddrOK: engine.eightBitAddrOK,
                        report: { self.rw.userError($0) })
        return r.tokens
    }

    /// rscheck(): runs the named ruleset (when the cf has it) on `arg`,
    /// or on `arg $| arg2`.  The verdict; a refusal carries its reply lines.
    func policyVerdict(_ name: String, _ arg: [UInt8], _ arg2: [UInt8]? = nil, addrType: String? = nil,
                       keepComments: Bool = true) -> PolicyVerdict {
        guard let rs = rw.rulesets.find(Array(name.utf8)), rw.rulesets.hasRules(rs) else { return .accept }
        // {addr_type} stays set afterwards, as in sendmail
        if let t = addrType { setMacro("{addr_type}", Array(t.utf8)) }
        var verdict = PolicyVerdict.accept
        let replies = capturing {
            let saveTo = rw.currentAddress
            // only address checks report errors about an address
            rw.currentAddress = addrType == nil ? nil : arg
            defer { rw.currentAddress = saveTo }
            guard var pvp = policyTokens(arg, keepComments: keepComments) else { return }
            if let a2 = arg2 {
                guard let t2 = policyTokens(a2, keepComments: keepComments) else { return }
                pvp += [[Meta.condElse]] + t2
            }
            rw.rewrite(&pvp, ruleset: rs)
            switch engine.policyResult(pvp) {
            case .none: return
            case .discard: verdict = .discard
            case .quarantine(let reason): verdict = .quarantine(reason)
            case .error: _ = engine.buildAddress(pvp, flags: [])
            }
        }
        if !replies.isEmpty { return .reject(replies) }
        return verdict
    }

    /// A verdict's side effects on the transaction, and its log line.
    /// Returns the reply lines of a refusal, [] to go on.
    func applyVerdict(_ v: PolicyVerdict, ruleset: String, arg: [UInt8], arg2: [UInt8]? = nil,
                      noID: Bool = false) -> [String] {
        // (the line is made only when it is written: most verdicts accept)
        func log(_ outcome: String) {
            guard let sink = engine.logSink, engine.logLevel > 3 else { return }
            // (a newline of a folded header shows as \n)
            var text = "ruleset=\(ruleset), arg1=\(arg.flatMap { $0 == 0x0A ? [0x5C, 0x6E] : [$0] }.string), "
            if let a2 = arg2 { text += "arg2=\(a2.string), " }
            text += "relay=\(macro("_").string), " + outcome
            // (ETRN's lines carry no queue ID at all)
            if noID { sink.log(priority: LOG_NOTICE, text) } else { logNotice(text) }
        }
        switch v {
        case .accept: return []
        case .reject(let r):
            if let last = r.last { log("reject=" + last) }
            return r
        case .discard:
            policy.discard = true
            log("discard")
            return []
        case .quarantine(let reason):
            policy.quarantine = reason
            log("quarantine=" + reason.string)
            return []
        }
    }

    /// A transaction (an accepted MAIL) that ends without a message
    /// (RSET, HELO/EHLO, QUIT, after a refused DATA): sendmail logs its
    /// from= line, with or without recipients.
    func logAbandonedEnvelope(size: Int? = nil) {
        defer { policy.senderLogged = true }
        guard !policy.senderLogged, let s = sender, let id = envelopeID else { return }
        let n = engine.countedRecipients(queue) + verifiedCount
        engine.logQueued(id: id.bytes, sender: s.printable, size: size ?? declaredSize, precedence: 0, nrcpts: n, msgid: nil,
                         bodyType: declaredBody, relay: macro("_"), recipients: [], priority: 0, delay: 0,
                         proto: macro("r"), daemon: daemonName)
    }

    /// check_eom and the verdicts of the message stages, once the from=
    /// line is logged: the reply of a refusal (each recipient logged with
    /// its stat=), or of a discarded message; nil to queue it.
    func endOfMessagePolicy(size: Int, messageID: [UInt8]?, id: [UInt8], priority: Int64) -> [UInt8]? {
        if policy.messageRefusal == nil { checkEOM(size: size, messageID: messageID) }
        if let refused = policy.messageRefusal {
            if let sink = engine.logSink, engine.logLevel > 4, let last = refused.last {
                let text = replyText(last)
                for r in queue.entries where r.state.isSendable {
                    sink.log(priority: LOG_INFO, "\(id.string): to=\(r.printable.string), delay=00:00:00, pri=\(priority), stat=\(text)")
                }
            }
            return lines(refused)
        }
        if policy.discard {
            if let sink = engine.logSink, engine.logLevel > 4 { sink.log(priority: LOG_INFO, "\(id.string): discarded") }
            return SMTPReply(250, "2.0.0", "\(id.string) Message accepted for delivery").encoded
        }
        return nil
    }

    /// srv_features: the letters of its `$#` result.
    func applyServerFeatures() {
        guard let rs = rw.rulesets.find(Array("srv_features".utf8)), rw.rulesets.hasRules(rs) else { return }
        let name = engine.config.names.id(forName: Array("client_name".utf8)).flatMap { rw.macros[$0] } ?? []
        _ = capturing {
            // (an empty client name scans to no tokens)
            var pvp = name.isEmpty ? [] : (policyTokens(name) ?? [])
            pvp += [[Meta.condElse]]
            rw.rewrite(&pvp, ruleset: rs)
            guard pvp.first == [Meta.canonNet] else { return }
            for t in pvp.dropFirst() { for c in t where c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") { featuresOff.insert(c) } }
        }
    }

    /// A PrivacyOptions word that srv_features' letters imply.
    func featureOff(_ word: String) -> Bool {
        let letters: String
        switch word {
        case "noetrn": letters = "E"
        case "noexpn": letters = "X"
        case "noverb": letters = "BX"   // VERB goes with EXPN
        case "noreceipts": letters = "D"
        default: return false
        }
        return letters.utf8.contains { featuresOff.contains($0) }
    }

    /// Notes a command line for the session-end log lines.
    func noteCommand(_ line: [UInt8]) {
        guard session.phase != .data, session.phase != .closed else { return }
        let c = SMTPCommand.parse(line)
        switch c.verb {
        case .mail, .expn, .vrfy, .etrn: sessionNotes.issued = true
        default: break
        }
        sessionNotes.lastCommand = c.verb == .unknown ? "startup" : c.verb.rawValue.lowercased()
    }

    /// End of input in a transaction: sendmail's lost-input line, then
    /// the envelope's from= line.
    func logLostInput() {
        guard sender != nil, !policy.senderLogged else { return }
        if let sink = engine.logSink, engine.logLevel > 1, let id = envelopeID {
            sink.log(priority: LOG_NOTICE,
                     "\(id.bytes.string): lost input channel from \(macro("_").string) to stdin after \(sessionNotes.lastCommand)")
        }
        logAbandonedEnvelope()
    }

    /// QUIT or end of input: a client that never tried MAIL, EXPN, VRFY
    /// or ETRN is logged as such (under a queue ID of its own).
    func logSessionEnd() {
        guard !sessionNotes.issued, let sink = engine.logSink, engine.logLevel > 5 else { return }
        // (a daemon's null server does not say it)
        if daemonName != nil && session.nullServer { return }
        // (nor a session that talked before a HELO/EHLO reply)
        if session.refusedTraffic { return }
        sessionNotes.issued = true
        if envelopeID == nil { envelopeID = newQueueID(now()) }
        guard let id = envelopeID else { return }
        let to = daemonName.map { String(decoding: $0, as: UTF8.self) } ?? "stdin"
        sink.log(priority: LOG_INFO, "\(id.bytes.string): \(macro("_").string) did not issue MAIL/EXPN/VRFY/ETRN during connection to \(to)")
    }

    /// check_data at DATA: the reply when refused.
    func checkData() -> [UInt8]? {
        let n = Array(String(acceptedCount).utf8)
        if let id = envelopeID { rw.macros[Int(UInt8(ascii: "i"))] = id.bytes }
        let r = applyVerdict(policyVerdict("check_data", n), ruleset: "check_data", arg: n)
        return r.isEmpty ? nil : lines(r)
    }

    /// ETRN: check_etrn's refusal, when the command is an ETRN the
    /// session would run.
    func checkETRN(_ line: [UInt8]) -> (reply: [UInt8], close: Bool)? {
        guard session.phase != .data, !session.nullServer else { return nil }
        let c = SMTPCommand.parse(line)
        guard c.verb == .etrn, !session.disabled.contains(.etrn), !c.argument.isEmpty else { return nil }
        // (the slow-down's count comes first, then check_etrn)
        let stop = session.countETRN()
        if let note = session.attackNote { logAttack(note) }
        if case .close(let r)? = stop {
            replyDelay = session.takePendingDelay()
            return endSession(r)
        }
        let r = applyVerdict(policyVerdict("check_etrn", c.argument), ruleset: "check_etrn", arg: c.argument, noID: true)
        if !r.isEmpty { replyDelay = session.takePendingDelay(); return (lines(r), false) }
        // the accepted ETRN is logged under the envelope's queue ID
        if envelopeID == nil {
            let qdir = (engine.config.options["QueueDirectory"] ?? []).string
            envelopeID = engine.assignQueueID(qdir, now: now(), pid: Int(getpid()), generator: &idGenerator)
        }
        if let sink = engine.logSink, engine.logLevel > 5, let id = envelopeID {
            sink.log(priority: LOG_INFO, "\(id.bytes.string): \(macro("_").string): ETRN \(c.argument.string)")
        }
        return nil
    }

    /// Header checks and check_eoh on the collected message.
    func checkHeaders(_ msg: CollectedMessage, text: [UInt8]) {
        for m in ["{hdr_name}", "{hdrlen}", "{currHeader}", "{msg_id}", "{msg_size}"] { setMacro(m, nil) }
        let checks = engine.headerChecks
        for f in msg.headerFields {
            guard let (name, raw) = HeaderInfo.split(f),
                  let c = checks.first(where: { $0.name.asciiCaseEquals(name) }) else { continue }
            engine.defineHeaderCheckMacros(name: name, raw: raw)
            // the raw value (folds kept) is the argument, as in sendmail
            let value = raw
            noteMessageVerdict(policyVerdict(c.ruleset.string, value, keepComments: c.keepComments),
                               ruleset: c.ruleset.string, arg: value)
        }
        let n = Array(String(msg.headerFields.count).utf8)
        let size = Array(String(headerSize(msg, text: text)).utf8)
        noteMessageVerdict(policyVerdict("check_eoh", n, size), ruleset: "check_eoh", arg: n, arg2: size)
    }

    /// check_eom on the message's size.
    func checkEOM(size: Int, messageID: [UInt8]?) {
        let s = Array(String(size).utf8)
        setMacro("{msg_size}", s)
        setMacro("{msg_id}", messageID)
        noteMessageVerdict(policyVerdict("check_eom", s), ruleset: "check_eom", arg: s)
    }

    func noteMessageVerdict(_ v: PolicyVerdict, ruleset: String, arg: [UInt8], arg2: [UInt8]? = nil) {
        let r = applyVerdict(v, ruleset: ruleset, arg: arg, arg2: arg2)
        if !r.isEmpty { policy.messageRefusal = r }
    }

    /// RejectNUL: a NUL byte in the message refuses it (after the from=
    /// line, as a refusal of the message stages).
    func checkNUL(_ text: [UInt8]) {
        guard let v = engine.config.options["RejectNUL"], parseBool(v), text.contains(0) else { return }
        policy.messageRefusal = ["554 5.6.1 NUL byte not allowed"]
    }

    /// SMTP's dot-unstuffing: every line that starts with a dot loses it
    /// ("." alone, the end, is dropped), so that Collector keeps the rest.
    func smtpUnstuffed(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var lines = text.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        if let l = lines.last, Array(l) == [UInt8(ascii: ".")] { lines.removeLast() }
        for l in lines {
            out += l.first == UInt8(ascii: ".") ? l.dropFirst() : l
            out.append(0x0A)
        }
        return out
    }

    /// sendmail's header size for check_eoh: the header lines with their
    /// newlines, and the line that ended the header (the blank line, or
    /// the first body line).
    func headerSize(_ msg: CollectedMessage, text: [UInt8]) -> Int {
        var physical = 0, bytes = 0
        for f in msg.headerFields {
            physical += 1 + f.filter { $0 == 0x0A }.count
            bytes += f.count + 1
        }
        // and the line after them (the text's line number `physical`),
        // found without splitting the text: a last line that is the final
        // "." is not part of the message
        var start = 0, k = 0
        while k < physical && start < text.count {
            start = (text[start...].firstIndex(of: 0x0A) ?? text.count - 1) + 1
            k += 1
        }
        guard k == physical, start < text.count else { return bytes }
        let end = text[start...].firstIndex(of: 0x0A) ?? text.count
        var length = end - start
        if end >= text.count - 1 && length == 1 && text[start] == UInt8(ascii: ".") { return bytes }
        if length > 0 && text[start] == UInt8(ascii: ".") { length -= 1 }
        return bytes + length + 1
    }

    /// BadRcptThrottle: sendmail waits a second before answering each RCPT
    /// once that many recipients were refused, and logs when it starts.
    func throttleBadRecipients() {
        let limit = engine.intOption("BadRcptThrottle", 0)
        guard limit > 0, badCount >= limit else { return }
        if badCount == limit && !policy.throttleLogged {
            policy.throttleLogged = true
            if let sink = engine.logSink, engine.logLevel > 5 {
                let id = envelopeID.map { $0.bytes.string } ?? "NOQUEUE"
                sink.log(priority: LOG_INFO, "\(id): \(macro("_").string): Possible SMTP RCPT flood, throttling.")
            }
        }
        sleep(1)
    }
}
