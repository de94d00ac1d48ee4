// SMEngine/Bounce.swift
//
// Returning a message to its sender after a queue run failed some of its
// recipients permanently (sendmail's returntosender() with ErrorMode=m,
// the queue run's mode): the failed recipients whose NOTIFY includes
// FAILURE (the default) are listed in a delivery status notification
// (SMDSN.DeliveryReport) with the delivery transcript; a new envelope from
// $n (MAILER-DAEMON) to the original sender gets the cf's H-line defaults,
// then To:, MIME-Version:, Content-Type: multipart/report (boundary
// "<id>.<time>/<$j>"), Content-Transfer-Encoding: 8bit for an 8-bit
// original, Subject: and Auto-Submitted:, is committed to the queue
// (QueueCommitter: df, tf, fsyncs, rename) and delivered at once in the
// same run, as sendmail does; what remains of it stays queued.
// Headers whose default expands to nothing are left out of the qf but
// kept (bound at delivery) for the delivery in this run, as sendmail's
// in-memory envelope keeps them.  With -X the report's body is written
// to the traffic log as it goes into the df ("PPPPP >>> " lines), as
// sendmail's putline() logs it.
// The log line's text is the envelope's message, "Unable to deliver mail"
// when it has none (a list owner's envelope).
// A message from <> is reported to the postmaster instead ("Postmaster
// notify", with the original's queue ID), and so is a bounce that fails
// or whose sender cannot receive (a double bounce).  EX_SOFTWARE and
// EX_CONFIG failures send the postmaster a copy; with the PostmasterCopy
// option its address gets a separate headers-only notice.
// In a queue run the report is mailed whatever ErrorMode says (sendmail
// does so for p, q and m alike; only the printing of errors differs).
// NOTIFY=SUCCESS deliveries without failures give a return receipt.
// A delay warning (QueueRun.swift's applyAgeLimits) is the same report
// with the still-queued NOTIFY=DELAY recipients as "Action: delayed"
// (Will-Retry-Until), successes and failures of the run merged in, the
// warning as Subject: and "auto-generated (warning-timeout)"; like
// sendmail's, it does not list them as "transient non-fatal errors".
// Promises: the bounce's qf exists (durably) before the caller removes
// the original; when it cannot be queued the caller keeps the original
// as it was.  The bounce's priority is the original's size (e_msgsize:
// as received, or re-read from the queue) plus 1024 plus RecipientFactor,
// as sendmail's.  Not yet: a postmaster notice that fails is dropped
// (sendmail's savemail() falls back to dead.letter / Qf), the SMTP
// reason/Remote-MTA fields.

import Glibc
import SMBase
import SMRules
import SMConfig
import SMDSN
import SMQueueFormat

extension Engine {
    /// Sends the bounce owed for `outcome`'s failures of message `qf`
    /// (queue ID `id`, body `data`) to its sender; `qdir` is the queue
    /// directory.  Returns false when the bounce could not be queued.
    @discardableResult
    func returnToSender(_ qf: QueueFile, id: [UInt8], data: [UInt8], outcome: inout DeliveryOutcome,
                        qdir: String, verbose: Bool, now: time_t, depth: Int = 0,
                        copyTo: [UInt8]? = nil, warning: DelayWarning? = nil) -> Bool {
        // a postmaster notice that fails is not reported again (sendmail
        // would save it as dead.letter or Qf: not written)
        if depth >= 2 { return true }
        if qf.flags.contains(.response), qf.headers.contains(where: {
            $0.text.starts(with: Array("Subject: Postmaster notify".utf8)) }) { return true }
        var wanted = outcome.failures.filter { f in
            f.index < qf.recipients.count
                && (f.deliverByNotify || qf.recipients[f.index].flags.contains(f.success ? .notifySuccess : .notifyFailure))
        }
        // a delay warning reports the recipients still queued too, in
        // send-list order
        if let w = warning {
            wanted = (wanted + w.recipients).sorted { $0.order < $1.order }
        }
        if wanted.isEmpty { return true }
        // only successes: a return receipt (headers only)
        let receipt = !wanted.contains(where: { !$0.success })
        let original = qf.sender
        // a message from <>, or from a sender that cannot receive (a bounce
        // from MAILER-DAEMON), goes to the postmaster instead
        var toPostmaster = original.isEmpty || original == Array("<>".utf8) || copyTo != nil
        if receipt && toPostmaster { return true }    // no receipts for <> or copies
        // what the log line calls it
        var notice = receipt ? "DSN" : toPostmaster && copyTo == nil ? "postmaster notify" : depth > 0 ? "return to sender" : "DSN"
        var transcript = outcome.transcript
        if !toPostmaster {
            let quiet = rewriter.quietNotices, suppress = rewriter.suppressErrors
            rewriter.quietNotices = true
            rewriter.suppressErrors = true
            let probe = SendQueue()
            _ = sendToList(original, parent: nil, queue: probe, aliasLevel: 0)
            rewriter.quietNotices = quiet
            rewriter.suppressErrors = suppress
            if !probe.entries.contains(where: { $0.state.isSendable }) {
                // once more, to say why (as sendmail does, in the transcript too)
                rewriter.quietNotices = !verbose
                let savedError = rewriter.lastUserError
                rewriter.lastUserError = nil
                let savedTranscript = rewriter.errorTranscript
                rewriter.errorTranscript = []
                let refused = SendQueue()
                _ = sendToList(original, parent: nil, queue: refused, aliasLevel: 0)
                // logged as a recipient refused (without the notice line)
                logRecipientErrors(id: id, queue: refused, delay: Int64(now) - qf.creationTime,
                                   priority: qf.priority, noticeCount: 0)
                rewriter.errorTranscript = savedTranscript
                notice = "return to sender"
                if var e = rewriter.lastUserError {
                    if !e.contains("... ") { e = String(decoding: original, as: UTF8.self) + "... " + e }
                    let code = e.hasSuffix("User unknown") ? "550 5.1.1 " : "550 5.0.0 "
                    transcript += Array((code + e + "\n").utf8)
                }
                rewriter.lastUserError = savedError
                rewriter.quietNotices = quiet
                toPostmaster = true
            }
        }
        let sender = copyTo ?? (toPostmaster ? Array("postmaster".utf8) : original)
        let j = rewriter.macros[Int(UInt8(ascii: "j"))] ?? []
        let at = UInt8(ascii: "@")
        let lastAttempt = arpaDate(now)

        // the report
        var rcpts: [DeliveryReport.Recipient] = []
        for f in wanted {
            let r = qf.recipients[f.index]
            var final = r.finalRecipient
            if final == nil {
                final = Array("rfc822; ".utf8) + r.address + (r.address.contains(at) ? [] : [at] + j)
            }
            var d = DeliveryReport.Recipient(printable: r.address,
                                             outcome: f.deliverByNotify ? .relayedDeliverBy
                                                 : f.success ? (f.toMailbox ? .delivered(toList: false) : .relayed)
                                                 : f.delayed ? .delayed : .failed,
                                             finalRecipient: final!,
                                             lastAttempt: lastAttempt)
            if f.delayed { d.willRetryUntil = warning?.retryUntil }
            // (QPRIMARY: the P flag, or read from the qf by this run)
            d.primary = r.flags.contains(.primary) || queueReadRecipients.contains(f.index)
            d.notifyFailure = r.flags.contains(.notifyFailure)
            d.notifySuccess = r.flags.contains(.notifySuccess) || f.deliverByNotify
            d.hasNotify = r.flags.contains(.hasNotify)
            d.originalRecipient = r.originalRecipient
            d.status = f.status
            let user = f.user
            if let t = f.addrType, !t.asciiCaseEquals(Array("rfc822".utf8)) {
                d.actualRecipient = t + Array("; ".utf8) + (f.quotedUser ? user : stripQuotes(user))
            } else {
                // (a program or file: the user recipient() unquoted)
                let bare = stripQuotes(user)
                let shown = !f.quotedUser && (bare.first == UInt8(ascii: "|") || bare.first == UInt8(ascii: "/")) ? bare : user
                d.actualRecipient = Array("rfc822; ".utf8) + shown + (shown.contains(at) ? [] : [at] + j)
            }
            d.expandedFrom = f.expandedFrom
            if let (type, text) = f.diagnostic {
                d.reason = text
                d.diagnosticType = type
            }
            if let (type, host) = f.remoteMTA { d.remoteMTA = (type: type, host: host) }
            rcpts.append(d)
        }
        let bid = assignQueueID(qdir, now: now, pid: Int(getpid())).bytes
        let boundary = bid + Array(".\(now)/".utf8) + j
        let receivedFrom = qf.macros.first { $0.name == [UInt8(ascii: "_")] }?.value ?? []
        var report = DeliveryReport(boundary: boundary, arrivalDate: arpaDate(time_t(qf.creationTime)),
                                    receivedFrom: receivedFrom, reportingMTA: j, recipients: rcpts,
                                    originalHeader: outcome.returnedHeader, originalBody: outcome.returnedBody)
        report.transcript = transcript
        report.deliverByDate = deliverByDate(qf)
        if toPostmaster {
            report.postmasterNotice = true
            report.originalID = id
        }
        report.envelopeID = qf.envelopeID.map(unxtext)
        if let host = realHostName, !host.isEmpty {
            // (the type: the original sender's mailer's T=, dns by default)
            let saved = rewriter.suppressErrors
            rewriter.suppressErrors = true
            let m = parseAddress(qf.sender, flags: [.sender], isRecipient: false)?.mailer
            rewriter.suppressErrors = saved
            report.receivedFromMTA = (m?.mtaType ?? Array("dns".utf8), host)
        }
        report.returnBody = !qf.flags.contains(.noBodyReturn) && !receipt && copyTo == nil
            // (8-bit data sendmail may neither MIME nor pass: headers only)
            && !(qf.flags.contains(.has8Bit) && notMIMEable(qf) && eightBitMode != nil && eightBitMode != UInt8(ascii: "p"))
        report.fatalErrors = receipt
        report.listsDelayed = false
        let eightBit = qf.flags.contains(.has8Bit)
        if eightBit { report.returnedEncoding = Array("8bit".utf8) }
        let body = report.body()

        // the envelope's macros, for the headers
        let saved = rewriter.macros
        defer { rewriter.macros = saved }
        let daemon = rewriter.macros[Int(UInt8(ascii: "n"))].flatMap { $0.isEmpty ? nil : $0 } ?? Array("MAILER-DAEMON".utf8)
        rewriter.macros[Int(UInt8(ascii: "i"))] = bid
        rewriter.macros[Int(UInt8(ascii: "a"))] = arpaDate(now)
        rewriter.macros[Int(UInt8(ascii: "b"))] = arpaDate(now)
        rewriter.macros[Int(UInt8(ascii: "t"))] = messageIDTime(now)
        rewriter.macros[Int(UInt8(ascii: "x"))] = Array("Mail Delivery Subsystem".utf8)
        rewriter.macros[Int(UInt8(ascii: "f"))] = daemon
        rewriter.macros[Int(UInt8(ascii: "g"))] = daemon
        rewriter.macros[Int(UInt8(ascii: "u"))] = nil
        // the bounce's own envelope: made here, from localhost
        rewriter.macros[Int(UInt8(ascii: "_"))] = Array("localhost".utf8)
        rewriter.macros[Int(UInt8(ascii: "s"))] = Array("localhost".utf8)
        rewriter.macros[Int(UInt8(ascii: "r"))] = nil
        var queued: [QueueFile.Header] = []
        var inMemory: [QueueFile.Header] = []
        var unbound: Set<Int> = []          // indices into inMemory
        for d in HeaderList(config: config).headers {
            if d.flags.contains(.resent) { continue }
            var h = d
            if !d.flags.contains(.bindLate) {
                h.value = expandMacros(d.value, rewriter.macros)
                if h.value.allSatisfy({ isASCIISpace($0) }) {
                    unbound.insert(inMemory.count)
                    inMemory.append(d.queueHeader)   // bound again at delivery
                    continue
                }
            }
            queued.append(h.queueHeader)
            inMemory.append(h.queueHeader)
        }
        func add(_ name: String, _ value: [UInt8]) {
            let h = QueueFile.Header(condition: [], text: Array("\(name): ".utf8) + value)
            queued.append(h)
            inMemory.append(h)
        }
        // EX_SOFTWARE/EX_CONFIG: a copy for the postmaster, its To: line
        // after the sender's, or before when the postmaster's alias
        // names the sender (as sendmail's duplicate handling orders them)
        let pmCopy = outcome.notifyPostmaster && !toPostmaster
        let pm = Array("postmaster".utf8)
        let quiet = rewriter.quietNotices, suppress = rewriter.suppressErrors
        var pmFirst = false
        if pmCopy {
            // a silent look at both expansions first
            rewriter.quietNotices = true
            rewriter.suppressErrors = true
            let probe = SendQueue()
            _ = sendToList(sender, parent: nil, queue: probe, aliasLevel: 0)
            let senderOnly = Set(probe.entries.filter { $0.state.isSendable }.map { $0.printable })
            let probePM = SendQueue()
            _ = sendToList(pm, parent: nil, queue: probePM, aliasLevel: 0)
            let pmTargets = probePM.entries.filter { $0.state.isSendable }.map { $0.printable }
            pmFirst = pmTargets.contains { senderOnly.contains($0) }
            rewriter.suppressErrors = suppress
        }
        rewriter.quietNotices = !verbose
        quietDuplicates = true
        defer { quietDuplicates = false }
        let rcptQueue = SendQueue()
        // (the postmaster's expansion comes first in sendmail's queue)
        for a in pmCopy ? [pm, sender] : [sender] {
            _ = sendToList(a, parent: nil, queue: rcptQueue, aliasLevel: 0)
        }
        rewriter.quietNotices = quiet
        if pmFirst { add("To", pm) }
        add("To", sender)
        if pmCopy && !pmFirst { add("To", pm) }
        add("MIME-Version", Array("1.0".utf8))
        add("Content-Type", Array("multipart/report; report-type=delivery-status;\n\tboundary=\"".utf8) + boundary + [0x22])
        if eightBit { add("Content-Transfer-Encoding", Array("8bit".utf8)) }
        if let w = warning, !toPostmaster {
            add("Subject", w.subject)
            add("Auto-Submitted", Array("auto-generated (warning-timeout)".utf8))
        } else {
            add("Subject", Array((toPostmaster ? "Postmaster notify: see transcript for details"
                                               : receipt ? "Return receipt" : "Returned mail: see transcript for details").utf8))
            add("Auto-Submitted", Array((toPostmaster ? "auto-generated (postmaster-notification)"
                                                      : receipt ? "auto-generated (return-receipt)" : "auto-generated (failure)").utf8))
        }

        var b = QueueFile()
        b.creationTime = Int64(now)
        // (returntosender(): the original's e_msgsize and 1024 more, as its
        // size below; with one recipient's RecipientFactor)
        b.priority = Int64(messageSize(qf, id: id, data: data) + 1024 + intOption("RecipientFactor", 30000))
        // (an 8-bit original does not make the bounce's envelope 8-bit)
        b.flags = [.response, .split]
        // a return receipt carries no body: its qf says so (F n), as sendmail's
        if receipt { b.flags.insert(.noBodyReturn) }
        var macros = [QueueFile.Macro(name: [UInt8(ascii: "_")], value: Array("localhost".utf8)),
                      QueueFile.Macro(name: [UInt8(ascii: "r")], value: []),
                      QueueFile.Macro(name: [UInt8(ascii: "s")], value: Array("localhost".utf8))]
        if let df = qf.macros.first(where: { $0.name == Array("daemon_flags".utf8) }) { macros.append(df) }
        b.macros = macros
        b.sender = daemon
        // the recipient as sendtolist() takes it (aliases expanded, -v
        // shows "aliased to")
        b.recipients = queueRecipients(rcptQueue, notify: [.notifyFailure])
        // nobody to return it to: not written (sendmail's savemail())
        if b.recipients.isEmpty { return true }
        b.headers = queued

        let mode = queueFileMode
        let committer = QueueCommitter(directory: qdir, fileMode: mode)
        // (-X: errbody()'s lines go through putline() into the traffic log
        // as they are written to the df)
        trafficLog?.wroteMessage(body)
        if let failure = committer.commit(id: bid, data: body, control: QueueFileWriter.encode(b)) {
            for m in failure.messages { rewriter.systemError(m) }
            return false
        }
        logReturn(id: id, bounceID: bid, notice: notice,
                  text: receipt ? Array("Return receipt".utf8) : outcome.message ?? Array("Unable to deliver mail".utf8))
        if depth == 0, let hook = bounceQueued, let to = b.recipients.first?.address { hook(bid, to) }
        let sub = committer.subdirectories
        let qfPath = QueueFileKind.control.path(in: Array(qdir.utf8), id: bid, useSubdirectory: sub.qf).string
        let dfPath = QueueFileKind.data.path(in: Array(qdir.utf8), id: bid, useSubdirectory: sub.df).string
        rewriter.macros = saved

        // delivered at once, from the in-memory envelope
        var live = b
        live.headers = inMemory
        // (returntosender(): its size is the original's and 1024 more)
        envelopeSizes[bid] = messageSize(qf, id: id, data: data) + 1024
        var result = deliver(live, id: bid, data: body, verbose: verbose, now: time(nil))
        // a bounce that fails: a notice to the postmaster (double bounce)
        if result.failures.contains(where: { !$0.success }) {
            var failed = live
            failed.flags.insert(.response)
            if !returnToSender(failed, id: bid, data: body, outcome: &result, qdir: qdir, verbose: verbose,
                               now: time(nil), depth: depth + 1) {
                return true   // the notice could not be queued: the bounce stays as it is, for a later run
            }
        }
        // PostmasterCopy: a headers-only notice of the failure, separately
        if depth == 0, copyTo == nil, !receipt, warning == nil,
           let pc = config.options["PostmasterCopy"], !pc.isEmpty {
            var copyOutcome = outcome
            returnToSender(qf, id: id, data: data, outcome: &copyOutcome, qdir: qdir, verbose: verbose,
                           now: now, depth: 1, copyTo: pc)
        }
        if result.remaining.isEmpty {
            QueueSpares.retire(control: qfPath, data: dfPath)
            return true
        }
        guard result.attempted else { return true }
        var updated = b
        updated.recipients = keepRecipients(b, result.remaining)
        updated.lastAttempt = Int64(time(nil))
        updated.attempts += 1
        // (an attempt made while the bounce is created does not add RetryFactor)
        var dst = stat()
        if stat(dfPath, &dst) == 0 {
            let dev = UInt64(dst.st_dev)
            let major = Int64((dev >> 8) & 0xfff) | Int64((dev >> 32) & ~UInt64(0xfff))
            let minor = Int64(dev & 0xff) | Int64((dev >> 12) & ~UInt64(0xff))
            updated.dataInode = QueueFile.DataInode(major: major, minor: minor, inode: UInt64(dst.st_ino))
        }
        if let m = result.message { updated.message = m }
        // queueup() binds the defaults left unbound with the macros the
        // delivery left ($u of the last mailer call)
        var macrosNow = rewriter.macros
        macrosNow[Int(UInt8(ascii: "i"))] = bid
        macrosNow[Int(UInt8(ascii: "x"))] = Array("Mail Delivery Subsystem".utf8)
        macrosNow[Int(UInt8(ascii: "f"))] = daemon
        macrosNow[Int(UInt8(ascii: "u"))] = result.lastUserMacro
        updated.headers = []
        for (k, h) in inMemory.enumerated() {
            guard unbound.contains(k) else { updated.headers.append(h); continue }
            let name = Array(h.text.prefix { $0 != UInt8(ascii: ":") })
            var value = Array(h.text.dropFirst(name.count + 1))
            while let f = value.first, f == 0x20 || f == 0x09 { value.removeFirst() }
            let bound = expandMacros(value, macrosNow)
            if bound.allSatisfy({ isASCIISpace($0) }) { continue }
            updated.headers.append(QueueFile.Header(condition: h.condition, text: name + Array(": ".utf8) + bound))
        }
        let qfDir = sub.qf ? qdir + "/qf" : qdir
        if !rewriteControlFile(updated, id: bid, qfPath: qfPath, qfDir: qfDir) {
            rewriter.systemError("cannot rewrite \(qfPath): \(String(cString: strerror(errno)))")
        }
        return true
    }
}

/// A delay warning's subject ("Warning: could not send message for past
/// 4 hours"), the recipients it reports as delayed and their
/// Will-Retry-Until date.
struct DelayWarning {
    var subject: [UInt8]
    var recipients: [FailedRecipient]
    var retryUntil: [UInt8]
}

/// RFC 3461 xtext decoded: "+XX" (two hex digits) becomes that byte.
func unxtext(_ s: [UInt8]) -> [UInt8] {
    func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
    var out: [UInt8] = []
    var i = 0
    while i < s.count {
        if s[i] == UInt8(ascii: "+"), i + 2 < s.count,
           let h = hex(s[i + 1]), let l = hex(s[i + 2]) {
            out.append(h << 4 | l)
            i += 3
        } else {
            out.append(s[i])
            i += 1
        }
    }
    return out
}
