// SMEngine/QueueEntry.swift
//
// Delivering one queue entry under its lock: the one function a queue
// run (QueueRun.swift) and a delivery at submission time (Submit.swift,
// SMTPServer.swift: DeliveryMode i and b) share.  The caller has opened
// the qf read-write and holds its exclusive flock; this reads qf and df,
// in a queue run hands each recipient to recipient() again as readqf()
// does (QueueExpand.swift: unexpanded SMTP -odq recipients are expanded,
// the send queue replaces the qf's list, expansion failures are bounced
// with the delivery's), delivers (Deliver.swift; the transcript into an xf file once it is long,
// CheckpointInterval checkpoints of the qf), applies a queue run's age
// limits (delay warnings, expiry), disposes of permanent failures, then removes
// qf and df (all recipients done) or rewrites the qf with the rest (also
// when only the expansion changed the recipients).
// A queue run whose expansion found lists with owners queues their
// envelopes (clones, OwnerSplit.swift: own qf, df linked) before
// delivering and delivers them after the original, from the run's
// expansion, sharing its transcript; at submission the caller hands the
// clones over (deliverSubmitted).  At submission (and in a run, for what
// it expanded) an address an alias expanded runs its mailer as the sender.
// Failures: a queue run always mails them back (Bounce.swift); at
// submission ErrorMode decides as sendmail's savemail() does: p (in the
// foreground) appends the message (as the *file* mailer would write it,
// fileMailerCopy) to the sender's ~/dead.letter when the
// sender is a local user (else mails it back), m/e/w (and p in the
// background or an SMTP session) mail it back, q drops them.
// A queue run's rewritten qf gets RetryFactor added to its priority and
// the df's inode (I line); at submission neither (sendmail's envelope
// still has the priority it was queued with, and no inode), except in the
// child of an SMTP session (DeliveryMode b), which writes the inode.
// Known difference: that child's priority is a little higher in
// sendmail's (about the size of the headers the cf added; no formula
// found); ours keeps the qf's.
// Promises: the qf is only replaced by rewriteControlFile (tf, fsync,
// rename, directory fsync) and only removed after every failure it
// reports on has been returned (bounce durably queued or dead.letter
// written); an entry whose bounce cannot be queued is left as it was.

import Glibc
import SMBase
import SMRules
import SMConfig
import SMQueueFormat

/// Recipients that failed before the message was queued (command-line
/// errors: not in the qf), reported together with the delivery's
/// failures, as sendmail's envelope keeps them.
struct SubmissionErrors {
    struct Failure {
        var printable: [UInt8]
        var flags: RecipientFlags
        var status: [UInt8]
        /// The reply ("550 5.1.1 User unknown"): the DSN's reason.
        var reply: [UInt8]
        /// A queue run's expansion failure: the `r`/`Q` lines of the qf
        /// entry it came from, the alias, the user and the mailer's T=.
        var finalRecipient: [UInt8]? = nil
        var originalRecipient: [UInt8]? = nil
        var expandedFrom: [UInt8]? = nil
        var user: [UInt8]? = nil
        var addrType: [UInt8]? = nil
        var diagnosticType: [UInt8]? = nil
        /// No reason or Diagnostic-Code in the DSN (sendmail's q_rstatus
        /// unset: refused programs and files), the user as written.
        var withoutReason = false
        /// Its log line's ctladdr= and mailer=.
        var logControl: String? = nil
        var mailerName: [UInt8]? = nil
    }
    var failures: [Failure] = []
    /// Their lines for the transcript ("550 5.1.1 x... User unknown").
    var transcript: [UInt8] = []
    /// The envelope's message (e_message) they left.
    var message: [UInt8]? = nil
    /// Mailed back whatever ErrorMode says (errors in -t header recipients).
    var mailed = false
    /// The envelope of a list owner (OwnerSplit.swift): its errors are
    /// mailed to the owner even with ErrorMode=q, and its sender never has
    /// the caller's ids.
    var owner = false
    /// The envelope's transcript up to this delivery, when it shares one
    /// with list owners' envelopes (the errors above and "Message delivered
    /// to mailing list" lines in their order, then what the envelopes
    /// delivered before this one wrote): it replaces `transcript`.
    var leadingTranscript: [UInt8]? = nil
}

extension Engine {
    /// Who asked for the delivery of a queue entry.
    enum EntryDelivery: Equatable {
        /// A queue run (`-q`).
        case queueRun
        /// At submission, the caller waiting (DeliveryMode i, -v).
        case foreground
        /// At submission, in a background process (DeliveryMode b).
        case background
        /// After an SMTP session's DATA (-bs, DeliveryMode i), in the
        /// session's process: errors cannot be printed, they are mailed.
        case session
        /// After an SMTP session's DATA with DeliveryMode b, in a child:
        /// a rewritten qf gets the df's inode, as sendmail's.
        case sessionChild
    }

    /// Delivers queue entry `id` of queue directory `qdir`; `fd` is its qf,
    /// open read-write and exclusively locked by the caller (who closes it).
    /// `unbound`: at submission, the cf's defaults that expanded to
    /// nothing, with their index among the qf's headers: sendmail's
    /// envelope in memory keeps them, binds them at delivery, and binds
    /// them into a rewritten qf with the macros the delivery left.
    /// `submissionErrors`: failures from before the commit, to report too.
    @discardableResult
    func deliverLockedEntry(id: [UInt8], fd: Int32, qdir: String, how: EntryDelivery, verbose: Bool,
                            unbound: [(Int, QueueFile.Header)] = [], submissionErrors: SubmissionErrors? = nil,
                            deliverNow: Bool = true, bounceDirectory: String? = nil) -> [UInt8] {
        // the job's SMTP sessions end with it (after its bounce); a queue
        // run (and an SMTP session) keeps them for its next jobs and ends
        // them at its end
        jobDepth += 1
        defer {
            jobDepth -= 1
            // (an SMTP session keeps them for its next messages and closes
            // them when it ends: SMTPServer.closeRelayConnections)
            if jobDepth == 0 && how != .queueRun && how != .session && !smtpConnections.isEmpty {
                closeSMTPConnections(verbose: verbose)
            }
        }
        var clones: [(id: [UInt8], expansion: QueuedExpansion)] = []
        var shared = deliverEntry(id: id, fd: fd, qdir: qdir, how: how, verbose: verbose, unbound: unbound,
                                  submissionErrors: submissionErrors, deliverNow: deliverNow,
                                  bounceDirectory: bounceDirectory, clones: &clones)
        // a queue run's list owners' envelopes: after the original, the
        // last split first, sharing its transcript
        let (qfSub, _) = QueueCommitter(directory: qdir).subdirectories
        for c in clones.reversed() {
            let path = (qfSub ? qdir + "/qf" : qdir) + "/qf" + c.id.string
            let cfd = open(path, O_RDWR | O_CLOEXEC)
            guard cfd >= 0 else { continue }
            defer { close(cfd) }
            guard flock(cfd, LOCK_EX | LOCK_NB) == 0 else { continue }
            var e = c.expansion
            e.errors.leadingTranscript = shared
            var none: [(id: [UInt8], expansion: QueuedExpansion)] = []
            shared = deliverEntry(id: c.id, fd: cfd, qdir: qdir, how: how, verbose: verbose, submissionErrors: nil,
                                  bounceDirectory: bounceDirectory, expanded: e, clones: &none)
        }
        return shared
    }

    /// deliverLockedEntry for one envelope; `expanded`: a clone's
    /// recipients as the run's expansion made them (not expanded again);
    /// `clones`: the clones this expansion queued.
    func deliverEntry(id: [UInt8], fd: Int32, qdir: String, how: EntryDelivery, verbose: Bool,
                      unbound: [(Int, QueueFile.Header)] = [], submissionErrors: SubmissionErrors? = nil,
                      deliverNow: Bool = true, bounceDirectory: String? = nil, expanded: QueuedExpansion? = nil,
                      clones: inout [(id: [UInt8], expansion: QueuedExpansion)]) -> [UInt8] {
        let (qfSub, dfSub) = QueueCommitter(directory: qdir).subdirectories
        let qfDir = qfSub ? qdir + "/qf" : qdir
        let qfPath = qfDir + "/" + controlPrefix + id.string
        let dfPath = (dfSub ? qdir + "/df" : qdir) + "/df" + id.string
        _ = lseek(fd, 0, SEEK_SET)
        let bytes = readAll(fd)
        let decoded: QueueFile
        do {
            decoded = try QueueFileReader.decode(bytes)
        } catch {
            // queuename(): relative to the queue directory
            let name = Array(((qfSub ? "qf/" : "./") + "qf" + id.string).utf8)
            let text = error.message(fileName: name)
            if !text.isEmpty { rewriter.systemError(text.string) }
            if error.loseReason != nil {
                _ = rename(qfPath, qfDir + "/Qf" + id.string)
            }
            return []
        }
        let dfd = open(dfPath, O_RDONLY | O_CLOEXEC)
        if dfd < 0 {
            // no data file: nothing can be delivered; keep the qf
            rewriter.systemError("readqf: cannot open \(dfPath): \(String(cString: strerror(errno)))")
            return []
        }
        let data = readAll(dfd)
        var dst = stat()
        _ = fstat(dfd, &dst)
        close(dfd)
        // a queue run hands every recipient to recipient() again, as
        // readqf() does (QueueExpand.swift): what was queued unexpanded
        // is expanded now, and the send queue replaces the qf's list (so
        // does the child of an SMTP session with DeliveryMode b, whose RCPT
        // only verified them)
        var expansion: QueuedExpansion? = expanded
        if expansion == nil && (how == .queueRun || how == .sessionChild) && deliverNow {
            expansion = expandQueuedRecipients(decoded, id: id, verbose: verbose)
        }
        // list owners' envelopes: queued (df linked) before anything is
        // delivered, so that a crash loses none of their recipients
        for c in expansion?.clones ?? [] {
            let cid = assignQueueID(qdir, now: time(nil), pid: Int(getpid())).bytes
            let cdf = (dfSub ? qdir + "/df" : qdir) + "/df" + cid.string
            guard link(dfPath, cdf) == 0,
                  rewriteControlFile(c.expansion.qf, id: cid, qfPath: qfDir + "/qf" + cid.string, qfDir: qfDir) else {
                _ = unlink(cdf)
                rewriter.systemError("cannot queue a clone of \(id.string): \(String(cString: strerror(errno)))")
                return []
            }
            if logLevel > 4 { logSink?.log(priority: LOG_INFO, "\(id.string): \(cid.string): clone: owner=\(c.owner.string)") }
            clones.append((cid, c.expansion))
        }
        // ... and the original rewritten without their recipients at once
        // (as sendmail queues it again): a crash during its delivery does
        // not split them off a second time
        if !clones.isEmpty, let e = expansion {
            _ = rewriteControlFile(e.qf, id: id, qfPath: qfPath, qfDir: qfDir)
        }
        let qf = expansion?.qf ?? decoded
        let expansionChanged = expansion?.changed ?? false
        queueReadRecipients = expansion?.fromQueue ?? []
        defer { queueReadRecipients = [] }
        let retry = Int64(config.options["RetryFactor"].flatMap { Int($0.string) } ?? 90000)
        entryDelivery = how
        var live = qf
        live.headers = Self.merge(qf.headers, unbound)
        var priority = qf.priority
        if how == .queueRun { priority += retry }
        var outcome = DeliveryOutcome()
        // the transcript goes to xf<id> once it outgrows its buffer; the
        // file is removed when the job is done
        let xfDir = QueueCommitter.isDirectory(qdir + "/xf") ? qdir + "/xf" : qdir
        let xfMode = queueFileMode
        let xscript = TranscriptFile(path: xfDir + "/xf" + id.string,
                                     limit: intOption("XscriptFileBufferSize", 4096), mode: xfMode)
        defer { xscript.remove() }
        if deliverNow {
            // CheckpointInterval: delivered recipients leave the qf during
            // the attempt; the tf is written before the mailer runs and
            // renamed as soon as it succeeds, so that a crash between the
            // two repeats as little as possible
            var prepared: Int32? = nil
            uncontrolledRecipients = expansion?.uncontrolled
                ?? (how != .queueRun ? aliasedLocalUsers(qf) : [])
            expandedControlText = expansion?.controlText ?? [:]
            mappedRecipients = expansion?.mapped ?? [:]
            defer { uncontrolledRecipients = []; expandedControlText = [:]; mappedRecipients = [:] }
            for f in expansion?.errors.failures ?? [] {
                logExpansionFailure(id: id, f, creationTime: qf.creationTime, priority: priority)
            }
            deliveringClone = submissionErrors?.owner ?? false
            defer { deliveringClone = false }
            outcome = deliver(live, id: id, data: data, verbose: verbose, now: time(nil), logPriority: priority,
                              transcriptFile: xscript) { step in
                switch step {
                case .prepare(let sent):
                    var partial = qf
                    let done = Set(sent)
                    partial.recipients = self.keepRecipients(qf, qf.recipients.indices.filter { !done.contains($0) })
                    prepared = self.writeTemporaryControlFile(partial, id: id, qfDir: qfDir)
                case .commit:
                    if let fd = prepared { _ = self.commitTemporaryControlFile(fd, id: id, qfPath: qfPath, qfDir: qfDir) }
                    prepared = nil
                case .discard:
                    if let fd = prepared { self.discardTemporaryControlFile(fd, id: id, qfDir: qfDir) }
                    prepared = nil
                }
            }
        } else {
            // queue only: nothing is delivered (only errors are returned)
            outcome.remaining = Array(qf.recipients.indices)
        }
        entryDelivery = nil
        if var se = submissionErrors {
            if se.leadingTranscript != nil { se.transcript = [] }
            addSubmissionErrors(se, to: &live, outcome: &outcome, id: id, data: data)
            if let lead = se.leadingTranscript { outcome.transcript = lead + outcome.transcript }
        }
        if var se = expansion?.errors {
            if se.leadingTranscript != nil { se.transcript = [] }
            if !se.failures.isEmpty { addSubmissionErrors(se, to: &live, outcome: &outcome, id: id, data: data) }
            if let lead = se.leadingTranscript { outcome.transcript = lead + outcome.transcript }
        }
        // a queue run: older than Timeout.queuewarn, one delay warning;
        // older than Timeout.queuereturn, what is left is returned
        let warning = how == .queueRun ? applyAgeLimits(qf, outcome: &outcome, verbose: verbose, now: time(nil)) : nil
        xscript.update(outcome.transcript)
        if !outcome.failures.isEmpty || warning != nil,
           !returnFailures(live, id: id, data: data, outcome: &outcome, qdir: bounceDirectory ?? qdir,
                           how: how, verbose: verbose, mail: submissionErrors?.mailed ?? false, warning: warning,
                           ownerEnvelope: submissionErrors?.owner ?? false) {
            // the bounce could not be queued: the message stays as it
            // was (its deliveries are repeated later, never lost)
            return outcome.transcript
        }
        if outcome.remaining.isEmpty && !outcome.keepControlFile {
            // everything done: remove the control file first, then the data
            // (kept as spares for the next messages: QueueSpares.swift)
            QueueSpares.retire(control: qfPath, data: dfPath)
            return outcome.transcript
        }
        // nothing delivered: the qf stays as it is, unless a dead.letter
        // copy bound the cf's empty defaults (queued with ErrorMode=p:
        // sendmail's qf then has them, bound with the user's $u)
        let boundByDeadLetter = !deliverNow && !unbound.isEmpty && outcome.lastUserMacro != nil
        guard outcome.attempted || boundByDeadLetter || expansionChanged else { return outcome.transcript }
        var updated = qf
        if !unbound.isEmpty && how != .session {
            // queueup() binds the defaults with $u of the last mailer call
            var macros = rewriter.macros
            macros[Int(UInt8(ascii: "u"))] = outcome.lastUserMacro
            let bound = unbound.compactMap { (k, h) -> (Int, QueueFile.Header)? in
                let name = Array(h.text.prefix { $0 != UInt8(ascii: ":") })
                var value = Array(h.text.dropFirst(name.count + 1))
                while let f = value.first, f == 0x20 || f == 0x09 { value.removeFirst() }
                let v = expandMacros(value, macros)
                if v.allSatisfy({ isASCIISpace($0) }) { return nil }
                return (k, QueueFile.Header(condition: h.condition, text: name + Array(": ".utf8) + v))
            }
            updated.headers = Self.merge(qf.headers, bound)
        }
        if outcome.attempted || expansionChanged {
            updated.recipients = keepRecipients(qf, outcome.remaining)
            for (k, i) in outcome.remaining.enumerated() {
                if let m = outcome.recipientMessages[i] { updated.recipients[k].message = m }
            }
            if let m = outcome.message { updated.message = m }
        }
        if outcome.attempted {
            updated.lastAttempt = Int64(time(nil))
            updated.attempts += 1
        }
        if warning != nil { updated.flags.insert(.warningSent) }
        if outcome.attempted && (how == .queueRun || how == .sessionChild) {
            updated.priority = priority
            let dev = UInt64(dst.st_dev)
            let major = Int64((dev >> 8) & 0xfff) | Int64((dev >> 32) & ~UInt64(0xfff))
            let minor = Int64(dev & 0xff) | Int64((dev >> 12) & ~UInt64(0xff))
            updated.dataInode = QueueFile.DataInode(major: major, minor: minor, inode: UInt64(dst.st_ino))
        }
        if !rewriteControlFile(updated, id: id, qfPath: qfPath, qfDir: qfDir) {
            rewriter.systemError("cannot rewrite \(qfPath): \(String(cString: strerror(errno)))")
        }
        return outcome.transcript
    }

    /// At submission the send queue in memory gives the addresses an alias
    /// expanded to no controlling user of their own for their mailer: it
    /// runs as the sender (a local user), else DefaultUser, as in a queue
    /// run that expanded them (measured against sendmail); programs and
    /// files keep the alias's.  The qf recipients under a C line whose
    /// mailer is neither prog, *file* nor F=o.
    func aliasedLocalUsers(_ qf: QueueFile) -> Set<Int> {
        var out = Set<Int>()
        let controlling = qf.effectiveControllingUsers
        for (i, r) in qf.recipients.enumerated() {
            let ctl = controlling[i]
            guard let c = ctl, !c.alias.isEmpty else { continue }
            // (programs and files keep the alias's ids, F=o mailers the recipient's)
            let saved = rewriter.suppressErrors
            rewriter.suppressErrors = true
            let m = parseAddress(r.address, flags: [], isRecipient: true)?.mailer
            rewriter.suppressErrors = saved
            if let m, runsAsSender(m) { out.insert(i) }
        }
        return out
    }

    /// Whether an address an alias expanded in memory runs its mailer as
    /// the sender: all but programs and files (the alias's ids) and F=o
    /// mailers (the recipient's).
    func runsAsSender(_ m: Mailer) -> Bool {
        m.name != Array("prog".utf8) && m.name != Array("*file*".utf8) && !m.has("o")
    }

    /// Failures from before the commit, reported first, as recipients of
    /// the envelope that are not in the qf.
    func addSubmissionErrors(_ se: SubmissionErrors, to live: inout QueueFile, outcome: inout DeliveryOutcome,
                             id: [UInt8], data: [UInt8]) {
        guard !se.failures.isEmpty else { return }
        // reported first, as recipients of the envelope not written to the qf
        var first: [FailedRecipient] = []
        for f in se.failures {
            var qr = QueueFile.Recipient(address: f.printable, flags: f.flags)
            qr.finalRecipient = f.finalRecipient
            qr.originalRecipient = f.originalRecipient
            live.recipients.append(qr)
            var r = FailedRecipient(index: live.recipients.count - 1, status: f.status, user: f.user ?? f.printable)
            if !f.withoutReason { r.diagnostic = (f.diagnosticType ?? Array("smtp".utf8), f.reply) }
            r.quotedUser = f.withoutReason
            r.expandedFrom = f.expandedFrom
            r.addrType = f.addrType
            first.append(r)
        }
        outcome.failures = first + outcome.failures
        outcome.transcript = se.transcript + outcome.transcript
        if outcome.message == nil || outcome.messageIsDeferral { outcome.message = se.message }
        if outcome.returnedHeader == nil, let fm = config.mailer(named: Array("*file*".utf8)) {
            let saved = rewriter.macros
            rewriter.macros[Int(UInt8(ascii: "i"))] = id
            for m in live.macros { if let mid = macroID(m.name) { rewriter.macros[mid] = m.value } }
            rewriter.macros[Int(UInt8(ascii: "f"))] = live.sender
            rewriter.macros[Int(UInt8(ascii: "u"))] = nil
            rewriter.macros[Int(UInt8(ascii: "h"))] = nil
            defineSenderMacro(live, mailer: fm)
            outcome.returnedHeader = headerBytes(live, mailer: fm)
            outcome.returnedBody = DeliveryFormat.body(data, mailerFlags: fm.flags, eol: fm.eol)
            rewriter.macros = saved
        }
    }

    /// The message as the *file* mailer appends it to the file of user
    /// `user` (savemail()'s ~/dead.letter): From_ line, headers, body,
    /// the separating empty line.
    func fileMailerCopy(_ qf: QueueFile, id: [UInt8], data: [UInt8], user: [UInt8], now: time_t) -> [UInt8]? {
        guard let fm = config.mailer(named: Array("*file*".utf8)) else { return nil }
        let savedMacros = rewriter.macros
        defer { rewriter.macros = savedMacros }
        rewriter.macros[Int(UInt8(ascii: "i"))] = id
        for m in qf.macros { if let mid = macroID(m.name) { rewriter.macros[mid] = m.value } }
        rewriter.macros[Int(UInt8(ascii: "f"))] = qf.sender
        rewriter.macros[Int(UInt8(ascii: "d"))] = ctimeText(now)
        rewriter.macros[Int(UInt8(ascii: "b"))] = arpaDate(now)
        rewriter.macros[Int(UInt8(ascii: "h"))] = nil
        rewriter.macros[Int(UInt8(ascii: "u"))] = user
        defineSenderMacro(qf, mailer: fm)
        var msg = messageBytes(qf, mailer: fm, data: data)
        if data.last == 0x0A && !fm.has("b") { msg += fm.eol }
        return msg
    }

    /// `headers` with `extra` inserted, each before the index it names.
    static func merge(_ headers: [QueueFile.Header], _ extra: [(Int, QueueFile.Header)]) -> [QueueFile.Header] {
        if extra.isEmpty { return headers }
        var out: [QueueFile.Header] = []
        var k = 0
        for (i, h) in headers.enumerated() {
            while k < extra.count && extra[k].0 == i { out.append(extra[k].1); k += 1 }
            out.append(h)
        }
        while k < extra.count { out.append(extra[k].1); k += 1 }
        return out
    }

    /// savemail(): what becomes of the permanent failures (and return
    /// receipts) of one delivery.  False when a bounce was owed and could
    /// not be queued.
    func returnFailures(_ qf: QueueFile, id: [UInt8], data: [UInt8], outcome: inout DeliveryOutcome,
                        qdir: String, how: EntryDelivery, verbose: Bool, mail: Bool = false,
                        warning: DelayWarning? = nil, ownerEnvelope: Bool = false) -> Bool {
        var mode = config.options["ErrorMode"]?.first ?? UInt8(ascii: "p")
        if mail && mode != UInt8(ascii: "q") { mode = UInt8(ascii: "m") }
        // (an owner's envelope: sendmail sets its error mode to m)
        if ownerEnvelope { mode = UInt8(ascii: "m") }
        if how == .queueRun || (how != .foreground && mode == UInt8(ascii: "p")) { mode = UInt8(ascii: "m") }
        let failed = outcome.failures.contains { !$0.success }
        switch mode {
        case UInt8(ascii: "q") where failed:
            // (nothing returned; queued without delivery, the cf's empty
            // defaults are bound with $u the local sender's name)
            if !outcome.attempted, how != .queueRun, let (user, _) = localSender(qf.sender) { outcome.lastUserMacro = user }
            return true
        case UInt8(ascii: "p") where failed:
            // a local sender (with a home) gets the message in ~/dead.letter
            if let (user, home) = localSender(qf.sender),
               let text = fileMailerCopy(qf, id: id, data: data, user: user, now: time(nil)),
               appendDeadLetter(text, path: (home == "/" ? "" : home) + "/dead.letter") {
                if !outcome.attempted { outcome.lastUserMacro = user }
                return true
            }
        default:
            break
        }
        // (at submission, why the sender cannot get it is not shown)
        let suppress = rewriter.suppressErrors
        if how != .queueRun { rewriter.suppressErrors = true }
        defer { rewriter.suppressErrors = suppress }
        return returnToSender(qf, id: id, data: data, outcome: &outcome, qdir: qdir, verbose: verbose, now: time(nil),
                              warning: warning)
    }

    /// The user name and home directory of a sender that is a local user.
    func localSender(_ sender: [UInt8]) -> ([UInt8], String)? {
        guard !sender.isEmpty, sender != Array("<>".utf8) else { return nil }
        let saved = rewriter.suppressErrors
        rewriter.suppressErrors = true
        defer { rewriter.suppressErrors = saved }
        guard let a = parseAddress(sender, flags: [.sender], isRecipient: false),
              let m = a.mailer, m.has("l"), !a.badAddress,
              let pw = getpwnam(stripQuotes(a.user).string) else { return nil }
        return (Array(String(cString: pw.pointee.pw_name).utf8), String(cString: pw.pointee.pw_dir))
    }
}
