// SMEngine/Deliver.swift
//
// Delivers one queued message (a QueueFile and its df bytes) with the
// configuration's mailers, as sendmail's dowork()/sendall()/deliver() do
// for a queue run: each undelivered recipient is parsed again as a
// recipient (a queue run has expanded them first, QueueExpand.swift; the
// local users it expanded run their mailer without a controlling user,
// uncontrolledRecipients), the send list is ordered by host, recipients of one F=m
// mailer (and one host, unless the mailer is local, F=l) are handed to a
// single mailer process whose argv comes from A=, the `*file*` mailer
// appends to the file itself (mailfile()), as does a mailer with
// P=[FILE] to the file its expanded A= argv[1] names, and the mailer's exit status
// decides each recipient's fate: 0 delivered, EX_TEMPFAIL/EX_IOERR/EX_OSERR
// kept for a later run, anything else failed.
// Before a recipient joins a mailer's list, check_compat judges it
// (CheckCompat.swift: refused as EX_DATAERR, or discarded).
// Mailers run as sendmail picks the ids (F=S: U= or RunAsUser's, else root; else the
// controlling user, the local sender, or DefaultUser overridden by U=; an
// address an alias expanded in this process runs as the sender), in
// the /= root when given, in the first existing D= directory (else the queue directory), with only
// AGENT=sendmail and the cf's E variables in the environment.  Headers are
// selected by ?flags?/?$x? (Bcc: left out when the qf says so, flag b),
// bound late ($g...; $f is the qf's sender through rulesets 3, 1 and 4, as
// setsender() makes it) and dequoted (METAQUOTE),
// address headers go through remotename() and commaize()'s folding.
// Promises: the caller's QueueFile is only changed in memory (the queue
// run rewrites the file); -v lines use sendmail's wording; [IPC] mailers
// and A= mailers without $u deliver over SMTP or LMTP (SMTPDelivery.swift).
// Mailer output and the per-recipient lines (errors with their reply and
// enhanced codes, deferrals, NOTIFY=SUCCESS deliveries) go into the
// outcome's transcript (the xf file's contents, kept in memory), and the
// recipients a DSN reports on are listed, in send-list order, with their
// status for the bounce (Bounce.swift).  Permanent failures are shown
// with ErrorMode=p even without -v; the last one's text is the M line.
// Each mailer call is logged as sendmail's logdelivery() does
// (MailLog.swift): to=, ctladdr= (a program none, a file its own
// controlling user, F=o the recipient's, others the sender when it is a
// local user or, at submission, the caller's ids), delay=, xdelay=,
// mailer=, pri=, relay= ($h), dsn=, stat=.  At submission
// (submissionDelivery) permanent failures are not printed: they go to
// the transcript only, as with sendmail's HoldErrs.
// The caller may have the transcript follow into an xf file (Transcript.swift).
// A mailer with F=7 gets the message through mime8to7() (SMMime) when it
// has 8-bit data and EightBitMode=m or it is MIME; L= splits long lines
// (DeliveryFormat); a mailer with F=9 (and not F=7) gets a quoted-printable
// or base64 text/plain message decoded by mime7to8() (SMMime).  The *file*
// mailer follows mailfile() (Deliver+File.swift: SafeFileEnvironment, the
// writer's ids, its refusals); RunAsUser is Deliver+RunAsUser.swift.
// Not yet: refusing 8-bit data for a 7-bit mailer without EightBitMode=m.

import Glibc
import SMBase
import SMRules
import SMConfig
import SMQueueFormat
import SMMime

/// What became of one delivery attempt of a queued message.
public struct DeliveryOutcome {
    /// Indices (into the qf's recipients) still to deliver later.
    public var remaining: [Int] = []
    /// True when some mailer was run (the attempt counts).
    public var attempted = false
    /// e_message: the text for the qf's `M` line.
    public var message: [UInt8]? = nil
    /// A failure the postmaster is told about (sendmail's EF_PM_NOTIFY).
    public var notifyPostmaster = false
    /// `message` is a deferral's text (a permanent failure's replaces it).
    public var messageIsDeferral = false
    /// What the mailers wrote and sendmail's error lines (the xf file).
    public var transcript: [UInt8] = []
    /// Recipients that failed permanently in this attempt.
    public var failures: [FailedRecipient] = []
    /// The message header as *file* would get it (putheader), for a bounce.
    public var returnedHeader: [UInt8]? = nil
    /// $u as the last mailer call left it (queueup binds defaults with it).
    public var lastUserMacro: [UInt8]? = nil
    /// The body as *file* would get it (F=E: `>From `), for a bounce.
    public var returnedBody: [UInt8] = []
    /// The recipients kept for later (deferred or not tried), in
    /// send-list order, as a delay warning or an expiry reports them.
    public var delayed: [FailedRecipient] = []
    /// The qf is written back even with no recipients left (an expired
    /// message whose recipients all said NOTIFY=NEVER).
    public var keepControlFile = false
    /// Per recipient index: the status text its qf entry keeps (the `M`
    /// line before it), set by an EX_IOERR deferral.
    public var recipientMessages: [Int: [UInt8]] = [:]
}

/// A recipient the DSN reports on: permanently failed, or delivered
/// with NOTIFY=SUCCESS (`success`); its qf index, DSN status and user.
public struct FailedRecipient {
    public var index: Int
    public var status: [UInt8]
    public var user: [UInt8]
    public var success = false
    public var toMailbox = true
    /// A success reported because of DELIVERBY's notify mode (QueueDeliverBy.swift).
    public var deliverByNotify = false
    public var expandedFrom: [UInt8]? = nil
    /// The mailer's T= address type (X-Actual-Recipient).
    public var addrType: [UInt8]? = nil
    /// (T= diagnostic type, text): the "(reason: ...)" and Diagnostic-Code.
    public var diagnostic: ([UInt8], [UInt8])? = nil
    /// Still queued (a delay warning's "Action: delayed").
    public var delayed = false
    /// Its place in the send list (the DSN's order).
    public var order = 0
    /// (MTA type, host): the Remote-MTA an SMTP reply came from.
    public var remoteMTA: ([UInt8], [UInt8])? = nil
    /// X-Actual-Recipient keeps the user's quotes (refused by recipient()
    /// before sendmail unquotes it).
    public var quotedUser = false
}

final class QueuedRecipient {
    enum State { case pending, sent, failed, deferred, untouched }
    let index: Int
    let printable: [UInt8]
    var address: ParsedAddress
    var ctlUID: Int?
    var ctlGID: Int?
    /// The controlling user's name (the qf's C line), for the log.
    var ctlName: [UInt8]?
    /// The alias it was expanded from (the qf's C line), for the DSN.
    var expandedFrom: [UInt8]?
    var state: State = .pending
    /// Sent with BY= to a DELIVERBY peer (no notify-mode receipt).
    var deliverByPassedOn = false
    /// Relayed over SMTP: the RCPT reply's status, the reply and the
    /// peer, for a notify-mode receipt.
    var relayedBy: (status: [UInt8], diagnostic: ([UInt8], [UInt8]), remoteMTA: ([UInt8], [UInt8])?)? = nil
    /// check_compat has let it through (CheckCompat.swift).
    var compatChecked = false
    /// What the DSN says about it (set when it failed or was delivered).
    var report: FailedRecipient? = nil
    /// What a delay warning says about it (set when it was deferred).
    var delay: FailedRecipient? = nil
    /// uid/gid of the envelope sender when it is a local user.
    var senderIDs: (uid_t, gid_t)? = nil
    init(index: Int, printable: [UInt8], address: ParsedAddress) {
        self.index = index; self.printable = printable; self.address = address
    }
}

extension Engine {
    func macroID(_ name: [UInt8]) -> Int? { config.names.id(forName: name) }

    /// DefaultUser as uid/gid (sendmail's DefUid/DefGid).
    func defaultIDs() -> (uid_t, gid_t) {
        guard let v = config.options["DefaultUser"], !v.isEmpty else { return (1, 1) }
        let parts = v.split(separator: UInt8(ascii: ":"), maxSplits: 1).map { Array($0) }
        var uid: uid_t = 1, gid: gid_t = 1
        let u = parts[0]
        if let n = UInt32(u.string) { uid = n } else if let pw = getpwnam(u.string) {
            uid = pw.pointee.pw_uid; gid = pw.pointee.pw_gid
        }
        if parts.count > 1 {
            let g = parts[1]
            if let n = UInt32(g.string) { gid = n } else if let gr = getgrnam(g.string) { gid = gr.pointee.gr_gid }
        }
        return (uid, gid)
    }

    /// ctime() of `t` without the newline (sendmail's $d).
    func ctimeText(_ t: time_t) -> [UInt8] {
        var tt = t
        var buf = [CChar](repeating: 0, count: 64)
        guard ctime_r(&tt, &buf) != nil else { return [] }
        var s = Array(String(cString: buf).utf8)
        if s.last == 0x0A { s.removeLast() }
        return s
    }

    /// A checkpoint of the qf during an attempt, in two steps around the
    /// mailer whose success would complete CheckpointInterval deliveries:
    /// `prepare` (before it runs) with the recipients delivered should it
    /// succeed, then `commit` (it did) or `discard` (it did not).
    public enum CheckpointStep { case prepare([Int]), commit, discard }

    /// Delivers what can be delivered of `qf`; `verbose` prints sendmail's
    /// -v transcript lines; `logPriority` is the priority the delivery
    /// lines show (a queue run's has RetryFactor added; nil: the qf's).
    /// `checkpoint`, when given, is told (sendmail's
    /// CheckpointInterval, default 10) each time that many more recipients
    /// are about to be delivered while others are still to be tried, with
    /// the indices of the recipients delivered by then that need no success
    /// DSN: the queue run drops them from the qf at once, so that a crash
    /// later in the attempt does not deliver them again.
    public func deliver(_ qf: QueueFile, id: [UInt8], data: [UInt8], verbose: Bool, now: time_t,
                        logPriority: Int64? = nil, checkpoint: ((CheckpointStep) -> Void)? = nil) -> DeliveryOutcome {
        deliver(qf, id: id, data: data, verbose: verbose, now: now, logPriority: logPriority, transcriptFile: nil,
                checkpoint: checkpoint)
    }

    /// As above; `transcriptFile` follows the transcript after each mailer.
    func deliver(_ qf: QueueFile, id: [UInt8], data: [UInt8], verbose: Bool, now: time_t, logPriority: Int64? = nil,
                 transcriptFile: TranscriptFile?, checkpoint: ((CheckpointStep) -> Void)? = nil) -> DeliveryOutcome {
        var outcome = DeliveryOutcome()
        // envelope macros, for this message only
        let savedMacros = rewriter.macros
        defer { rewriter.macros = savedMacros }
        rewriter.macros[Int(UInt8(ascii: "i"))] = id
        for m in qf.macros { if let mid = macroID(m.name) { rewriter.macros[mid] = m.value } }
        rewriter.macros[Int(UInt8(ascii: "f"))] = envelopeFromMacro(qf.sender)
        rewriter.macros[Int(UInt8(ascii: "d"))] = ctimeText(now)
        rewriter.macros[Int(UInt8(ascii: "b"))] = arpaDate(now)
        rewriter.macros[Int(UInt8(ascii: "t"))] = nil

        let senderIDs = senderPasswordIDs(qf.sender)
        let list = sendList(qf, senderIDs: senderIDs, verbose: verbose)
        var senderControl: String? = nil
        if let (u, g) = senderIDs {
            senderControl = "\(qf.sender.string) (\(u)/\(g))"
        } else if submissionDelivery, !sessionDelivery, !deliveringClone, !qf.sender.isEmpty, qf.sender != Array("<>".utf8) {
            // at submission the sender has the caller's ids
            senderControl = "\(qf.sender.string) (\(options.realUID)/\(getgid()))"
        }
        let log = DeliveryLogContext(id: id, creationTime: qf.creationTime, priority: logPriority ?? qf.priority,
                                     senderControl: senderControl)
        let interval = config.options["CheckpointInterval"].map { Int($0.string) ?? 0 } ?? 10
        var sentSinceCheckpoint = 0
        // DELIVERBY R past its deadline: nothing is sent (QueueDeliverBy.swift)
        expireDeliverBy(qf, list: list, now: now, verbose: verbose, outcome: &outcome)
        for (k, first) in list.enumerated() where first.state == .pending {
            guard let m = first.address.mailer else { first.state = .failed; continue }
            if m.path == Array("[IPC]".utf8) || (m.path != Array("[FILE]".utf8) && DeliveryFormat.speaksSMTP(m.argv)) {
                // SMTP/LMTP: one transaction per host, over TCP or the
                // mailer program's pipe (SMTPDelivery.swift)
                // (recipients of other hosts too, by host signature)
                let (group, coattail) = smtpGroup(list, from: k, mailer: m)
                deliverSMTP(group, mailer: m, qf: qf, data: data, verbose: verbose, outcome: &outcome,
                            notifySuccess: Set(qf.recipients.indices.filter { qf.recipients[$0].flags.contains(.notifySuccess) }),
                            log: log, coattail: coattail)
                transcriptFile?.update(outcome.transcript)
                out.flush()
                continue
            }
            // check_compat for each recipient as the mailer's list is built
            guard checkCompat(first, mailer: m, sender: qf.sender, verbose: verbose, outcome: &outcome, log: log) else {
                continue
            }
            // P=[FILE] on another mailer: one recipient at a time, appended
            // to the file its expanded argv[1] names
            let fileMailer = m.path == Array("[FILE]".utf8) && m.name != Array("*file*".utf8)
            let group = (fileMailer ? [first] : self.group(list, from: k, mailer: m)).filter {
                $0 === first || checkCompat($0, mailer: m, sender: qf.sender, verbose: verbose, outcome: &outcome, log: log)
            }
            outcome.attempted = true
            // a checkpoint if this group's success completes the interval
            // and others are still to be tried afterwards
            var checkpointing = false
            if let checkpoint, interval > 0, sentSinceCheckpoint + group.count >= interval {
                let members = Set(group.map { $0.index })
                if list[(k + 1)...].contains(where: { $0.state == .pending && !members.contains($0.index) }) {
                    let sent = list.filter { ($0.state == .sent || members.contains($0.index))
                        && !qf.recipients[$0.index].flags.contains(.notifySuccess) }.map { $0.index }.sorted()
                    checkpoint(.prepare(sent))
                    checkpointing = true
                }
            }
            let started = time(nil)
            let (status, text) = m.name == Array("*file*".utf8)
                ? deliverToFile(first, mailer: m, qf: qf, data: data, verbose: verbose)
                : fileMailer ? deliverToFile(first, mailer: m, qf: qf, data: data, verbose: verbose,
                                             path: fileMailerPath(first, mailer: m, qf: qf))
                : runMailer(group, mailer: m, qf: qf, data: data, verbose: verbose, transcript: &outcome.transcript)
            record(status, text, group: group, mailer: m, verbose: verbose, outcome: &outcome,
                   notifySuccess: Set(qf.recipients.indices.filter { qf.recipients[$0].flags.contains(.notifySuccess) }),
                   log: log, started: started)
            transcriptFile?.update(outcome.transcript)
            if checkpointing { checkpoint?(status == 0 ? .commit : .discard) }
            if status == 0 {
                sentSinceCheckpoint = checkpointing ? 0 : sentSinceCheckpoint + group.count
            }
            out.flush()
        }
        outcome.lastUserMacro = rewriter.macros[Int(UInt8(ascii: "u"))]
        // DELIVERBY N: a receipt for what was sent (QueueDeliverBy.swift)
        noteDeliverByNotify(qf, list: list, outcome: &outcome)
        // DSN entries in send-list order
        for (k, q) in list.enumerated() { q.report?.order = k; q.delay?.order = k }
        outcome.failures = list.compactMap { $0.report }
        outcome.delayed = list.enumerated().filter { $0.element.state == .deferred || $0.element.state == .untouched }.map { k, q in
            var d = q.delay ?? FailedRecipient(index: q.index, status: Array("4.0.0".utf8), user: q.address.user)
            d.delayed = true
            d.order = k
            d.expandedFrom = q.expandedFrom
            if d.addrType == nil { d.addrType = q.address.mailer?.addrType }
            return d
        }
        if !outcome.failures.isEmpty || !outcome.delayed.isEmpty, let fm = config.mailer(named: Array("*file*".utf8)) {
            rewriter.macros[Int(UInt8(ascii: "h"))] = nil
            rewriter.macros[Int(UInt8(ascii: "u"))] = nil
            defineSenderMacro(qf, mailer: fm)
            outcome.returnedHeader = headerBytes(qf, mailer: fm)
            outcome.returnedBody = DeliveryFormat.body(data, mailerFlags: fm.flags, eol: fm.eol)
        }
        outcome.remaining = list.filter { $0.state == .deferred || $0.state == .untouched }.map { $0.index }.sorted()
        return outcome
    }

    /// The undelivered recipients of `qf`, ordered by host as recipient()
    /// keeps sendmail's send queue: each as the run's expansion parsed it
    /// (`mappedRecipients`), else parsed here as a recipient.
    func sendList(_ qf: QueueFile, senderIDs: (uid_t, gid_t)?, verbose: Bool) -> [QueuedRecipient] {
        var list: [QueuedRecipient] = []
        let controlling = qf.effectiveControllingUsers
        for (i, r) in qf.recipients.enumerated() {
            let ctl = controlling[i]
            let saved = rewriter.suppressErrors
            rewriter.suppressErrors = !verbose
            // (parsed once, as readqf() does; ruleset 5's mapping is not
            // made again from the qf line)
            let parsed = mappedRecipients[i] ?? parseAddress(r.address, flags: [], isRecipient: true)
            rewriter.suppressErrors = saved
            guard let a = parsed else {
                let q = QueuedRecipient(index: i, printable: r.address,
                                        address: ParsedAddress(mailer: nil, mailerName: [], host: nil, user: [], printable: r.address))
                q.state = .failed
                list.append(q)
                continue
            }
            let q = QueuedRecipient(index: i, printable: r.address, address: a)
            if let c = ctl, !uncontrolledRecipients.contains(i) {
                q.ctlUID = c.uid; q.ctlGID = c.gid; q.ctlName = c.user
                q.expandedFrom = c.alias.isEmpty ? nil : c.alias
            } else if let c = ctl, !c.alias.isEmpty {
                // (no controlling user in memory, but the alias is known)
                q.expandedFrom = c.alias
            }
            q.senderIDs = senderIDs
            if a.badAddress || a.mailer == nil { q.state = .failed }
            if a.queueUp { q.state = .deferred }
            var at = list.count
            for (j, e) in list.enumerated() where SendQueue.compareHost(a.host, e.address.host) < 0 {
                at = j
                break
            }
            list.insert(q, at: at)
        }
        return list
    }

    /// The recipients one mailer process gets: with F=m, the later pending
    /// ones of the same mailer and host (any host for F=l; the same
    /// controlling user for F=o), at most r= of them.
    func group(_ list: [QueuedRecipient], from k: Int, mailer m: Mailer) -> [QueuedRecipient] {
        let first = list[k]
        var group = [first]
        guard m.has("m") else { return group }
        for q in list[(k + 1)...] where q.state == .pending && q.address.mailerName == m.name {
            if group.count >= max(m.maxRcpt, 1) { break }
            if !m.has("l") {
                guard let h1 = first.address.host, let h2 = q.address.host, h1.asciiCaseEquals(h2) else {
                    if first.address.host == nil && q.address.host == nil { group.append(q) }
                    continue
                }
            }
            if m.has("o") && (q.ctlUID != first.ctlUID) { continue }
            group.append(q)
        }
        return group
    }

    /// The recipients a -v line or error names ("a,b... "): sendmail's
    /// e_to as message() shows it, shortened in its middle to MAXSHORTSTR.
    func messageRecipients(_ group: [QueuedRecipient]) -> String {
        shortenString(DeliveryFormat.toList(group.map { $0.printable }), 203).string
    }

    /// giveresponse()/markfailure(): the fate of a group after its mailer
    /// exited with `status`, the -v line, e_message and ExitStat.
    func record(_ status: Int32, _ text0: String, group: [QueuedRecipient], mailer m: Mailer, verbose: Bool,
                outcome: inout DeliveryOutcome, notifySuccess: Set<Int> = [], log: DeliveryLogContext? = nil,
                started: time_t = time(nil), relay: String? = nil, dsn: String? = nil, reply: String? = nil) {
        var text = text0
        defer {
            if let log {
                logDelivery(group, mailer: m, status: status, text: text, context: log, started: started,
                            relay: relay, dsn: dsn, reply: reply)
            }
        }
        let to = messageRecipients(group)
        if status == 0 {
            for q in group { q.state = .sent }
            // ("Sent (reply text)" for SMTP mailers)
            if verbose { out.write("\(to)... \(text.isEmpty ? "Sent" : text)\n") }
            // (in sendmail's tochain order: the group's last first)
            for q in group.reversed() where notifySuccess.contains(q.index) {
                let local = m.has("l")
                q.report = FailedRecipient(index: q.index, status: Array((local ? "2.1.5" : "2.0.0").utf8),
                                           user: q.address.user, success: true, toMailbox: local)
                q.report?.expandedFrom = q.expandedFrom
                let what = local ? "Successfully delivered" : "relayed; expect no further notifications"
                outcome.transcript += q.printable + Array("... \(what)\n".utf8)
            }
        } else if DeliveryFormat.isTemporary(status) {
            for q in group {
                q.state = .deferred
                // markfailure(): EX_TEMPFAIL 4.2.0, EX_OSERR/EX_IOERR 4.5.0
                var d = FailedRecipient(index: q.index, status: Array((status == SysExit.tempFail.rawValue ? "4.2.0" : "4.5.0").utf8),
                                        user: q.address.user)
                d.addrType = m.addrType
                if let dt = m.diagType { d.diagnostic = (dt, Array("\(status)".utf8)) }
                q.delay = d
            }
            if status == SysExit.tempFail.rawValue {
                if text.isEmpty {
                    text = "Deferred: \(m.name.string) mailer (\(m.path.string)) exited with \(DeliveryFormat.exitName(status))"
                }
                if verbose { out.write("\(to)... \(text)\n") }
                if outcome.message == nil { outcome.message = Array(text.utf8); outcome.messageIsDeferral = true }
                outcome.transcript += Array("\(to)... \(text)\n".utf8)
            } else {
                // EX_OSERR, EX_IOERR: kept for later, reported as message() does
                if text.isEmpty { text = DeliveryFormat.statusText(status) ?? "" }
                if verbose { out.write("\(text)\n") }
                outcome.message = Array(text.utf8)
                outcome.messageIsDeferral = false
                outcome.transcript += Array("\(text)\n".utf8)
                // EX_IOERR (the *file* mailer's write error) is also kept
                // with the recipient; EX_OSERR (a failed exec) is not
                if status == SysExit.ioErr.rawValue {
                    for q in group { outcome.recipientMessages[q.index] = Array(text.utf8) }
                }
            }
            rewriter.setStatus(SysExit(rawValue: status) ?? .tempFail)
        } else {
            for q in group { q.state = .failed }
            if text.isEmpty { text = DeliveryFormat.statusText(status) ?? "unknown mailer error \(status)" }
            let enhanced = sysexitsText[status].map { String($0.prefix { $0 != " " }) } ?? "5.3.0"
            // usrerr-style texts carry the address; the last permanent
            // failure's text is e_message (a deferral's only fills it)
            // (shown with ErrorMode=p, the default, -v or not; never otherwise)
            // (at submission sendmail holds them for the transcript)
            let show = (config.options["ErrorMode"]?.first ?? UInt8(ascii: "p")) == UInt8(ascii: "p")
                && !submissionDelivery
            if [66, 67, 68, 73, 77].contains(status) {
                if show { out.write("\(to)... \(text)\n") }
                outcome.message = Array(text.utf8)
                outcome.messageIsDeferral = false
                outcome.transcript += Array("550 \(enhanced) \(to)... \(text)\n".utf8)
            } else if status == 64 || status == 65 {
                if show { out.write("\(text)\n") }
                outcome.message = Array(text.utf8)
                outcome.messageIsDeferral = false
                outcome.transcript += Array("\(status == 64 ? 500 : 501) \(enhanced) \(text)\n".utf8)
            } else {
                if show { out.write("\(text)\n") }
                outcome.message = Array(text.utf8)
                outcome.messageIsDeferral = false
                outcome.transcript += Array("554 \(enhanced) \(text)\n".utf8)
            }
            rewriter.setStatus(SysExit(rawValue: status) ?? .unavailable)
            // EX_SOFTWARE, EX_CONFIG: the postmaster gets the bounce too
            if status == 70 || status == 78 { outcome.notifyPostmaster = true }
            // the sender is owed a DSN (Bounce.swift); the qf drops them
            for q in group {
                var f = FailedRecipient(index: q.index, status: Self.dsnStatus(status), user: q.address.user)
                f.expandedFrom = q.expandedFrom
                f.addrType = m.addrType
                // a mailer with a T= diagnostic type reports its exit status
                if let dt = m.diagType { f.diagnostic = (dt, Array("\(status)".utf8)) }
                q.report = f
            }
        }
    }

    /// markfailure(): the DSN status of a permanent mailer exit status.
    static func dsnStatus(_ status: Int32) -> [UInt8] {
        let s: String
        switch status {
        case 64: s = "5.5.4"
        case 65: s = "5.5.2"
        case 67: s = "5.1.1"
        case 68: s = "5.1.2"
        case 66, 73, 77: s = "5.3.0"
        case 69, 70, 72, 76, 78: s = "5.5.0"
        default: s = "5.0.0"
        }
        return Array(s.utf8)
    }

    /// The uid/gid a mailer runs as: for F=S the U= ids (else root's);
    /// otherwise the controlling user, else the sender when it is a local
    /// user, else DefaultUser with U= overriding it.
    func mailerIDs(_ m: Mailer, _ q: QueuedRecipient) -> (uid_t, gid_t) {
        var (du, dg) = defaultIDs()
        if m.has("S") {
            let runAs = runAsIDs()
            return (m.uid >= 0 ? uid_t(m.uid) : runAs.uid, m.gid >= 0 ? gid_t(m.gid) : runAs.gid)
        }
        if m.uid >= 0 && (q.ctlUID ?? 0) == 0 && (q.senderIDs?.0 ?? 0) == 0 {
            du = uid_t(m.uid)
            if m.gid >= 0 { dg = gid_t(m.gid) }
            return (du, dg)
        }
        if let u = q.ctlUID, u != 0 {
            let g = q.ctlGID ?? 0
            return (uid_t(u), g != 0 ? gid_t(g) : dg)
        }
        // no controlling user: the sender's, when it is a local user
        if let (u, g) = q.senderIDs, u != 0 { return (u, g != 0 ? g : dg) }
        return (du, dg)
    }

    /// setsender(): a sender that resolves to the local mailer and names
    /// a password entry lends its uid/gid to deliveries without a
    /// controlling user.
    func senderPasswordIDs(_ sender: [UInt8]) -> (uid_t, gid_t)? {
        guard !sender.isEmpty, sender != Array("<>".utf8) else { return nil }
        let saved = rewriter.suppressErrors
        rewriter.suppressErrors = true
        defer { rewriter.suppressErrors = saved }
        guard let a = parseAddress(sender, flags: [.sender], isRecipient: false),
              a.mailerName == Array("local".utf8), !a.badAddress,
              let pw = getpwnam(stripQuotes(a.user).string) else { return nil }
        return (pw.pointee.pw_uid, pw.pointee.pw_gid)
    }

    /// $u for a recipient: quotes removed for F=s mailers, the `|` of a
    /// program dropped.
    func userMacro(_ q: QueuedRecipient, mailer m: Mailer) -> [UInt8] {
        var u = q.address.user
        if m.has("s") || m.name == Array("prog".utf8) { u = stripQuotes(u) }
        if m.name == Array("prog".utf8), u.first == UInt8(ascii: "|") { u.removeFirst() }
        return u
    }

    /// The From_ line (UnixFromLine, "From $g  $d") unless F=n; F=U's
    /// form comes from Deliver+UUCP.swift.
    func fromLine(_ m: Mailer) -> [UInt8] {
        if m.has("n") { return [] }
        var template = config.options["UnixFromLine"] ?? []
        if template.isEmpty {
            template = Array("From ".utf8) + [Meta.macroExpand, UInt8(ascii: "g")] + Array("  ".utf8)
                + [Meta.macroExpand, UInt8(ascii: "d")]
        }
        if m.has("U"), let ugly = uucpFromTemplate() { template = ugly }
        let line = expandMacros(template, rewriter.macros)
        var out: [UInt8] = []
        DeliveryFormat.putLine(line[...], into: &out, limit: m.lineLimit, eol: m.eol, strip: m.has("7"))
        return out
    }

    /// putheader(): the selected headers, macros expanded where the value
    /// holds a macro reference, address headers rewritten for the mailer.
    func headerBytes(_ qf: QueueFile, mailer m: Mailer, omitTransferEncoding: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        for h in qf.headers {
            // converting to 7 bits: mime8to7() writes its own
            if omitTransferEncoding, MIME8to7.isTransferEncoding(h.name) { continue }
            // EF_DELETE_BCC (qf flag b): Bcc: is not passed on
            if qf.flags.contains(.deleteBcc),
               HeaderInfo.flags(for: Array(h.text.prefix { $0 != UInt8(ascii: ":") })).contains(.bcc) { continue }
            guard DeliveryFormat.headerSelected(h, mailerFlags: m.flags, macroDefined: { name in
                // (an empty value is none: a daemon's ${daemon_flags}
                // without M= letters, an empty qf ${daemon_flags} line)
                guard let id = self.macroID(name) else { return false }
                return !(self.rewriter.macros[id]?.isEmpty ?? true)
            }) else { continue }
            let name = h.name
            // the qf quotes bytes 0x80-0x9F and 0xFF of the message with
            // METAQUOTE (0377); an unquoted $x is a macro to bind now
            var value = h.value
            if DeliveryFormat.hasUnquotedMacro(value) {
                value = expandMacros(value, rewriter.macros)
            }
            value = DeliveryFormat.dequote(value)
            let flags = HeaderInfo.flags(for: name)
            if (flags.contains(.from) || flags.contains(.recipient)) && !flags.contains(.bcc) {
                value = [0x20] + commaize(value, field: name, mailer: m, sender: flags.contains(.from))
            }
            out += DeliveryFormat.headerLines(name: name, value: value, eol: m.eol, lineLimit: m.lineLimit, strip: m.has("7"))
        }
        // EightBitMode=m: an 8-bit message that is not MIME is labelled
        // as such for a mailer without F=8 (unless mime8to7() converts it,
        // or it may not be MIMEd: an RFC 1049 Content-Type)
        if !omitTransferEncoding, eightBitMode == UInt8(ascii: "m"), qf.flags.contains(.has8Bit), !m.has("8"),
           !hasHeader(qf, "MIME-Version"), !notMIMEable(qf) {
            var added: [(String, [UInt8])] = [("MIME-Version", Array("1.0".utf8))]
            if !hasHeader(qf, "Content-Type") { added.append(("Content-Type", Array("text/plain; charset=".utf8) + defaultCharset)) }
            if !hasHeader(qf, "Content-Transfer-Encoding") { added.append(("Content-Transfer-Encoding", Array("8bit".utf8))) }
            for (n, v) in added {
                out += DeliveryFormat.headerLines(name: Array(n.utf8), value: v, eol: m.eol, lineLimit: m.lineLimit, strip: m.has("7"))
            }
        }
        return out
    }

    /// EightBitMode's letter, lower case (nil: not set).
    var eightBitMode: UInt8? { config.options["EightBitMode"]?.first.map { $0 | 0x20 } }

    /// DefaultCharSet, else unknown-8bit (defcharset()).
    var defaultCharset: [UInt8] {
        if let cs = config.options["DefaultCharSet"], !cs.isEmpty { return cs }
        return Array("unknown-8bit".utf8)
    }

    func hasHeader(_ qf: QueueFile, _ name: String) -> Bool {
        qf.headers.contains { $0.name.asciiCaseEquals(Array(name.utf8)) }
    }

    /// commaize(): each address of an address header through remotename()
    /// for the mailer, joined with ", "; a name that would pass column 78
    /// (or L=-2 when smaller) starts a new line indented by 8 spaces.
    func commaize(_ value: [UInt8], field: [UInt8], mailer m: Mailer, sender: Bool) -> [UInt8] {
        var parts: [[UInt8]] = []
        var cur: [UInt8] = []
        var depthAngle = 0, depthParen = 0, quoted = false, escaped = false
        for b in value {
            if escaped { cur.append(b); escaped = false; continue }
            switch b {
            case UInt8(ascii: "\\"): escaped = true; cur.append(b)
            case UInt8(ascii: "\""): quoted.toggle(); cur.append(b)
            case UInt8(ascii: "<") where !quoted && depthParen == 0: depthAngle += 1; cur.append(b)
            case UInt8(ascii: ">") where !quoted && depthParen == 0: depthAngle = max(0, depthAngle - 1); cur.append(b)
            case UInt8(ascii: "(") where !quoted: depthParen += 1; cur.append(b)
            case UInt8(ascii: ")") where !quoted: depthParen = max(0, depthParen - 1); cur.append(b)
            case UInt8(ascii: ",") where !quoted && depthAngle == 0 && depthParen == 0:
                parts.append(cur); cur = []
            case 0x0A: cur.append(0x20)
            default: cur.append(b)
            }
        }
        parts.append(cur)
        var result: [UInt8] = []
        var omax = m.lineLimit - 2
        if omax < 0 || omax > 78 { omax = 78 }
        var opos = field.count + 2
        var firstOne = true
        for p in parts {
            var s = p[...]
            while let c = s.first, c == 0x20 || c == 0x09 { s = s.dropFirst() }
            while let c = s.last, c == 0x20 || c == 0x09 { s = s.dropLast() }
            if s.isEmpty { continue }
            var flags: AddressFlags = [.header]
            if sender { flags.insert(.sender) }
            let name = remoteName(Array(s), mailer: m, flags: flags).0.latin1Bytes
            opos += name.count + (firstOne ? 0 : 2)
            if opos > omax && !firstOne {
                result += Array(",\n        ".utf8)
                opos = 8 + name.count
            } else if !firstOne {
                result += Array(", ".utf8)
            }
            result += name
            firstOne = false
        }
        return result
    }

    /// $f of a queued message, as setsender() defines it when the qf is
    /// read (or kept from MAIL in a session): the S line through rulesets
    /// 3, 1 and 4, a route address bracketed again unless its mailer has
    /// F=d.  So `<root>` given at MAIL (the S line keeps it as given) is
    /// `root` with a ruleset 3 that drops the brackets, whatever the
    /// mailer's S=.  `<>` and an empty sender stay as they are.
    func envelopeFromMacro(_ sender: [UInt8]) -> [UInt8] {
        if sender.isEmpty || sender == Array("<>".utf8) { return sender }
        let rw = rewriter
        let addrType = config.names.id(forName: Array("addr_type".utf8))
        let savedType = addrType.flatMap { rw.macros[$0] }
        let savedAddress = rw.currentAddress
        defer {
            if let id = addrType { rw.macros[id] = savedType }
            rw.currentAddress = savedAddress
        }
        if let id = addrType { rw.macros[id] = Array("e s".utf8) }
        let pr = prescan(sender, delim: 0, table: rw.tables.internal, ignoreUnbalanced: false,
                         eightBitAddrOK: eightBitAddrOK, report: { _ in })
        guard var pvp = pr.tokens else { return sender }
        rw.rewrite(&pvp, ruleset: 3)
        rw.rewrite(&pvp, ruleset: 1)
        rw.rewrite(&pvp, ruleset: 4)
        var bp = rw.catAddr(pvp[...], sub: nil, external: false, limit: Limits.maxName)
        if bp.first == UInt8(ascii: "@") {
            let quiet = rw.suppressErrors
            rw.suppressErrors = true
            let noBracket = parseAddress(sender, flags: [.sender], isRecipient: false)?.mailer?.has("d") ?? false
            rw.suppressErrors = quiet
            if !noBracket { bp = [UInt8(ascii: "<")] + bp + [UInt8(ascii: ">")] }
        }
        return bp
    }

    /// Sets $g for mailer `m` (the sender through rulesets 1 and S=).
    func defineSenderMacro(_ qf: QueueFile, mailer m: Mailer) {
        let (g, _) = remoteName(qf.sender, mailer: m, flags: [.sender, .canonical])
        rewriter.macros[Int(UInt8(ascii: "g"))] = g.latin1Bytes
    }

    /// The whole message as a mailer gets it.
    func messageBytes(_ qf: QueueFile, mailer m: Mailer, data: [UInt8]) -> [UInt8] {
        fromLine(m) + messageContent(qf, mailer: m, data: data, convert8to7: converts8to7(qf, mailer: m))
    }

    /// The header and body as a mailer gets them (after any From_ line);
    /// `convert8to7`: the body through mime8to7() (the SMTP client also
    /// asks for it, for a peer without 8BITMIME).
    func messageContent(_ qf: QueueFile, mailer m: Mailer, data: [UInt8], convert8to7: Bool) -> [UInt8] {
        var msg: [UInt8] = []
        if convert8to7 {
            // deliver()/putbody(): MCIF_CVT8TO7, the body through mime8to7()
            msg += headerBytes(qf, mailer: m, omitTransferEncoding: true)
            let fields = mimeFields(qf)
            var options = MIME8to7.Options(hostName: rewriter.macros[Int(UInt8(ascii: "j"))] ?? [],
                                           queueID: rewriter.macros[Int(UInt8(ascii: "i"))] ?? [])
            options.defaultCharset = defaultCharset
            options.escapeFrom = m.has("E")
            for (letter, keyPath) in [(UInt8(ascii: "e"), \MIME8to7.Options.encodings),
                                      (UInt8(ascii: "n"), \MIME8to7.Options.opaqueTypes),
                                      (UInt8(ascii: "s"), \MIME8to7.Options.messageSubtypes)] {
                options[keyPath: keyPath] += config.classes.members(of: Int(letter))
            }
            // a part's address fields go through the mailer's rulesets
            options.rewritePartField = { [unowned self] f in
                let flags = HeaderInfo.flags(for: f.name)
                guard (flags.contains(.from) || flags.contains(.recipient)) && !flags.contains(.bcc) else { return f }
                return MIMEHeaderField(name: f.name, value: commaize(f.value, field: f.name, mailer: m, sender: flags.contains(.from)))
            }
            let r = MIME8to7.convert(header: fields, body: data, options: options)
            for f in r.added {
                msg += DeliveryFormat.headerLines(name: f.name, value: f.value, eol: m.eol, lineLimit: m.lineLimit, strip: m.has("7"))
            }
            msg += m.eol
            msg += DeliveryFormat.body(r.body, mailerFlags: m.flags.subtracting([UInt8(ascii: "b")]), eol: m.eol, lineLimit: m.lineLimit)
            return msg
        }
        if m.has("9") && !m.has("7") {
            // F=9: a quoted-printable or base64 text/plain message decoded (mime7to8())
            let fields = mimeFields(qf)
            if MIME7to8.applies(header: fields) {
                msg += headerBytes(qf, mailer: m, omitTransferEncoding: true)
                let r = MIME7to8.convert(header: fields, body: data, hostName: rewriter.macros[Int(UInt8(ascii: "j"))] ?? [],
                                         queueID: rewriter.macros[Int(UInt8(ascii: "i"))] ?? [])
                for f in r.added {
                    msg += DeliveryFormat.headerLines(name: f.name, value: f.value, eol: m.eol, lineLimit: m.lineLimit)
                }
                msg += m.eol
                msg += DeliveryFormat.body(r.body, mailerFlags: m.flags.subtracting([UInt8(ascii: "b")]), eol: m.eol,
                                           lineLimit: m.lineLimit)
                return msg
            }
        }
        msg += headerBytes(qf, mailer: m)
        msg += m.eol
        msg += DeliveryFormat.body(data, mailerFlags: m.flags, eol: m.eol, lineLimit: m.lineLimit)
        return msg
    }

    /// The message's header fields as SMMime takes them.
    func mimeFields(_ qf: QueueFile) -> [MIMEHeaderField] {
        qf.headers.map { h in
            var v = DeliveryFormat.dequote(h.value)[...]
            while let c = v.first, c == 0x20 || c == 0x09 { v = v.dropFirst() }
            return MIMEHeaderField(name: h.name, value: Array(v))
        }
    }

    /// Whether the message goes through mime8to7() for mailer `m`: it
    /// has 8-bit data, the mailer takes 7 bits (F=7), and EightBitMode=m
    /// or the message is MIME (BODY=8BITMIME or a MIME-Version header).
    func converts8to7(_ qf: QueueFile, mailer m: Mailer) -> Bool {
        guard qf.flags.contains(.has8Bit), m.has("7") else { return false }
        if eightBitMode == UInt8(ascii: "m") { return true }
        if let b = qf.bodyType, b.asciiCaseEquals(Array("8BITMIME".utf8)) { return true }
        return hasHeader(qf, "MIME-Version")
    }

    /// Runs a program mailer for `group`; returns its exit status and a
    /// message text (empty: use the status's standard text).
    func runMailer(_ group: [QueuedRecipient], mailer m: Mailer, qf: QueueFile, data: [UInt8],
                   verbose: Bool, transcript: inout [UInt8]) -> (Int32, String) {
        let first = group[0]
        rewriter.macros[Int(UInt8(ascii: "h"))] = first.address.host
        defineSenderMacro(qf, mailer: m)
        // $u as sendmail leaves it after building the list: the last one
        rewriter.macros[Int(UInt8(ascii: "u"))] = userMacro(group[group.count - 1], mailer: m)
        let to = messageRecipients(group)
        if verbose {
            if let h = first.address.host, !h.isEmpty {
                out.write("\(to)... Connecting to \(h.string) via \(m.name.string)...\n")
            } else {
                out.write("\(to)... Connecting to \(m.name.string)...\n")
            }
            out.flush()
        }
        var macros = rewriter.macros
        var argv = DeliveryFormat.buildArgv(template: m.argv, users: group.map { userMacro($0, mailer: m) }) { word, user in
            if let u = user { macros[Int(UInt8(ascii: "u"))] = u }
            return expandMacros(word, macros)
        }
        // F=f / F=r: "-f sender" (or "-r") right after argv[0]; a queue run
        // always knows its sender, so sendmail always adds it
        if m.has("f") || m.has("r"), !argv.isEmpty {
            let flag = Array((m.has("f") ? "-f" : "-r").utf8)
            argv.insert(contentsOf: [flag, rewriter.macros[Int(UInt8(ascii: "g"))] ?? []], at: 1)
        }
        let message = messageBytes(qf, mailer: m, data: data)
        var env: [[UInt8]] = [Array("AGENT=sendmail".utf8)]
        for (name, value) in config.environment {
            if let v = value {
                env.append(name + [UInt8(ascii: "=")] + v)
            } else if let v = getenv(name.string) {
                env.append(name + [UInt8(ascii: "=")] + Array(String(cString: v).utf8))
            }
        }
        // the ids come from the head of sendmail's tochain: in a queue run
        // the recipient added last (the first one the -v "to" list shows);
        // at submission, as measured, the first one
        let (uid, gid) = mailerIDs(m, submissionDelivery ? group[0] : group[group.count - 1])
        // the mailer's /= root, and the first D= directory that exists (inside it)
        let root = m.rootDir.map { expandMacros($0, rewriter.macros) }.flatMap { $0.isEmpty ? nil : $0 }
        var dir: [UInt8]? = nil
        if let d = m.execDir {
            for candidate in expandMacros(d, rewriter.macros).split(separator: UInt8(ascii: ":")) {
                var st = stat()
                if stat(String(decoding: (root ?? []) + candidate, as: UTF8.self), &st) == 0 { dir = Array(candidate); break }
            }
        }
        if let refusal = runAsRefusal(m) {
            if verbose { out.write(refusal + "\n") }
            transcript += Array((refusal + "\n").utf8)
            return (SysExit.tempFail.rawValue, "")
        }
        if let root {
            // openmailer(): a root that cannot be entered defers the mailer
            var st = stat()
            let err: Int32 = stat(root.string, &st) != 0 ? errno : (st.st_mode & S_IFMT) != S_IFDIR ? ENOTDIR : 0
            if err != 0 {
                let text = "openmailer: Cannot chroot(\(root.string)): \(String(cString: strerror(err)))"
                if verbose { out.write(text + "\n") }
                transcript += Array((text + "\n").utf8)
                return (SysExit.tempFail.rawValue, "")
            }
        }
        var proc = MailerProcess(path: m.path, argv: argv, environment: env, uid: uid, gid: gid, directory: dir)
        proc.rootDirectory = root
        proc.localMailer = m.has("l")
        // the mailer's output belongs in the transcript (xf) that a bounce
        // quotes; -v does not show it
        trafficLog?.exec(argv)
        trafficLog?.wroteMessage(message)
        let r = proc.run(input: message)
        trafficLog?.mailerOutput(r.output)
        transcript += r.output
        if let last = r.output.last, last != 0x0A { transcript.append(0x0A) }
        return (r.status, "")
    }


    /// The file a P=[FILE] mailer writes for `q`: its A= argv[1] with $u
    /// (and $h) of the recipient.
    func fileMailerPath(_ q: QueuedRecipient, mailer m: Mailer, qf: QueueFile) -> [UInt8] {
        var macros = rewriter.macros
        macros[Int(UInt8(ascii: "h"))] = q.address.host
        let argv = DeliveryFormat.buildArgv(template: m.argv, users: [userMacro(q, mailer: m)]) { word, user in
            if let u = user { macros[Int(UInt8(ascii: "u"))] = u }
            return expandMacros(word, macros)
        }
        return argv.count > 1 ? argv[1] : []
    }
}
