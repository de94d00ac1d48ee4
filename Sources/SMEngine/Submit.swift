// SMEngine/Submit.swift
//
// `sendmail [-t] [-i] [-f from] [-F name] [-N dsn] [-R ret] [-V envid]
// [-B body] rcpt... < message` (deliver mode): the message is collected
// from standard input, the envelope is built (sender through setsender,
// recipients through sendtolist with alias expansion; with -t also from
// To:/Cc:/Bcc:, Bcc: being deleted at delivery), the headers are
// completed from the cf's H lines, a queue ID is assigned and the message
// is committed to the queue (QueueCommit.swift); with Q lines in the cf,
// as one envelope per queue group and r= chunk (QueueGroups.swift).
// Then DeliveryMode decides (deliverSubmitted): i (and -v, whatever the
// mode) delivers at once through the queue run's deliverLockedEntry
// (QueueEntry.swift) before we exit; b (the default) forks a child that
// inherits the qf's lock and delivers while the caller already has its
// exit status; q and d leave it queued.  Lists with an owner- alias split
// the envelope as sendall() does (OwnerSplit.swift): each owner's envelope
// is queued (before the original, which is queued only if it kept
// recipients), logged, and delivered after the original with its errors
// mailed to the owner; one transcript runs through them all.  Not yet:
// delivery at submission of a message split across queue groups (Q
// lines): it is left to queue runs; owner splits with Q lines.
// Promises: returns success only after the qf is durably in place (before
// any delivery or fork); on a queue failure nothing is left behind and
// sendmail's messages and exit status are reported.  No more blocks free
// than MinFreeBlocks: sendmail's "Insufficient disk space; try again
// later", nothing written, EX_OSERR (sendmail's own exit status there
// varies and may be 0).  Messages and exit codes are sendmail's for: no
// recipients, no recipients in the header, bad recipients (the message is
// still queued with the error in its M line, exit status of the error).
//
// Errors in command-line recipients (and too many hops) return the
// message to the sender, with the delivery's own failures when it is
// delivered at once, as sendmail's savemail() does (QueueEntry.swift):
// ErrorMode=p in the foreground (queued or -odi) appends one copy to the
// local sender's ~/dead.letter (binding the cf's empty defaults into the
// qf too), otherwise (b, m, w, e, a sender that is no local user) one
// bounce lists them all (and only p prints them; e exits 0); q is
// silent.  With no recipient left nothing is queued and the errors are
// returned the same way from the envelope in memory; with too many hops
// ErrorMode=p saves the caller's copy (DeadLetter.swift).  Errors in -t
// header recipients keep the message
// queued (not delivered, whatever the mode) and are mailed back unless
// ErrorMode=q, as sendmail does.
// Their syslog lines ("<addr>... User unknown", "to=<addr>, ..., dsn=,
// reply=, stat=") precede the from= line.
// Untrusted users get sendmail's X-Authentication-Warning: headers
// (PrivacyOptions=authwarnings) and no AUTH= parameter.  Notices (0xx,
// 8xx) are shown only with -v, as sendmail does outside test mode.
// Queued with ErrorMode=q and a failed recipient, the cf's empty defaults
// are bound into the qf with $u the local sender's name, as sendmail's.
// Not done yet: ErrorMode=w writing to the user's terminal,
// "alias database unavailable" when the alias file is missing,
// MaxMessageSize, queue groups.

import Glibc
import SMBase
import SMRules
import SMConfig
import SMQueueFormat

/// One envelope queued at submission, to deliver now: the message's
/// own, or a list owner's (OwnerSplit.swift).
struct SubmittedEnvelope {
    var id: [UInt8]
    var errors: SubmissionErrors?
}

extension Engine {
    /// Runs the submission; `readInput` is called once, after the command
    /// line has been checked.
    public func submit(_ o: SubmitOptions, readInput: () -> [UInt8], now: time_t = time(nil),
                       pid: Int = Int(getpid())) -> SysExit {
        // a bad -B value makes the exit status EX_USAGE unless the message
        // met another error (sendmail then exits with that one)
        let status = submitMessage(o, readInput: readInput, now: now, pid: pid)
        return o.usageError && (status == .ok || status == .tempFail) ? .usage : status
    }

    func submitMessage(_ o: SubmitOptions, readInput: () -> [UInt8], now: time_t, pid: Int) -> SysExit {
        let rw = rewriter
        rw.lastUserError = nil
        rw.quietNotices = !verbose
        defer { rw.quietNotices = false }
        let qdir = (config.options["QueueDirectory"] ?? []).string
        let errorMode = config.options["ErrorMode"]?.first ?? UInt8(ascii: "p")
        guard QueueCommitter.isDirectory(qdir) else {
            // what chdir() would say
            var st = stat()
            let err = stat(qdir, &st) == 0 ? ENOTDIR : errno
            let reason = String(cString: strerror(err))
            rw.currentAddress = nil
            // ErrorMode=q: not even this is shown
            if errorMode != UInt8(ascii: "q") { rw.out.writeMessage("can not chdir(\(qdir)/): \(reason)") }
            return .config
        }
        if o.recipients.isEmpty && !o.readRecipients {
            rw.currentAddress = nil
            rw.userError("Recipient names must be specified")
            return .usage
        }

        // sender
        let sender = setSender(o.from)
        if let name = o.fullName, let m = sender.mailer, m.has("w"), getpwnam(sender.user.string) != nil {
            rw.macros[Int(UInt8(ascii: "x"))] = name
        }
        // a sender that does not parse is a usage error (the message still
        // goes, from the fallback sender, with the error in its M line)
        if rw.lastUserError != nil { rw.setStatus(.usage) }
        let fMacro = rw.macros[Int(UInt8(ascii: "f"))] ?? []

        let message = Collector.collect(readInput(), ignoreDots: config.options.bool("IgnoreDots"),
                                        maxHeadersLength: maxHeadersLength)

        // (the generator goes on for the envelopes of other queue groups)
        var idGenerator = QueueIDGenerator(randomOffset: Int.random(in: 0..<QueueID.sequenceLimit))
        let qid = assignQueueID(qdir, now: now, pid: pid, generator: &idGenerator)

        // macros for this envelope
        let date = arpaDate(now)
        if let d = message.fromLineDate {
            // the zone as arpadate() gives it for the current time
            let zone = date.split(separator: 0x20, maxSplits: 5).dropFirst(5).first.map { Array($0) } ?? Array("GMT".utf8)
            rw.macros[Int(UInt8(ascii: "a"))] = d + [0x20] + zone
        } else {
            rw.macros[Int(UInt8(ascii: "a"))] = date
        }
        rw.macros[Int(UInt8(ascii: "b"))] = date
        rw.macros[Int(UInt8(ascii: "i"))] = qid.bytes
        rw.macros[Int(UInt8(ascii: "t"))] = messageIDTime(now)
        let daemonFlags = config.names.id(forName: Array("daemon_flags".utf8))
        if let id = daemonFlags { rw.macros[id] = Array("c u".utf8) }

        // recipients from the command line
        let queue = SendQueue()
        let saveSuppress = rw.suppressErrors
        // only ErrorMode p shows them (m, w and e mail the errors back)
        if errorMode != UInt8(ascii: "p") { rw.suppressErrors = true }
        let senderError = rw.lastUserError
        rw.lastUserError = nil
        // the recipients' errors, for a report after delivery (modes i, b)
        rw.errorTranscript = []
        defer { rw.errorTranscript = nil }
        mailingListNotes = []
        for r in o.recipients { sendToList(r, parent: nil, queue: queue, aliasLevel: 0) }
        rw.suppressErrors = saveSuppress
        // errors in command-line recipients are returned to the sender:
        // with ErrorMode=p a copy goes to ~/dead.letter
        // (only when the sender is the user running us; errors for another
        // sender would be mailed to it: not done yet)
        let senderIsCaller = (sender.mailer?.has("l") ?? false) && sender.user == options.realUserName
        let returnToSender = rw.lastUserError != nil && errorMode == UInt8(ascii: "p") && senderIsCaller
        // (errors in header recipients, -t, are not returned)
        let commandLineErrors = rw.lastUserError != nil ? (rw.errorTranscript ?? []).count : 0
        // errors so far and no status yet: a usage error, as sendmail's
        // main() says after the command line's recipients (a program or
        // file named directly; a user unknown has its own status)
        if rw.lastUserError != nil && rw.exitStatus == .ok && errorMode == UInt8(ascii: "p") { rw.exitStatus = .usage }
        if rw.lastUserError == nil { rw.lastUserError = senderError }

        // headers
        var headers = HeaderList(config: config)
        for w in authenticationWarnings(from: o.from, sender: sender) {
            headers.headers.append(EnvelopeHeader(condition: [], name: Array("X-Authentication-Warning".utf8),
                                                  value: w, flags: HeaderInfo.flags(for: Array("X-Authentication-Warning".utf8))))
        }
        for f in message.headerFields { headers.addMessageField(f) }
        // header checks (H lines with $>), as sendmail's collect() runs
        // them on a submission too: a refusal's text is shown now
        let headerCheck = commandLineHeaderChecks(message.headerFields, id: qid.bytes)
        rw.macros[Int(UInt8(ascii: "u"))] = nil
        // `for $u` only for a single primary address
        let primaries = queue.entries.filter { $0.primary }
        if primaries.count == 1 { rw.macros[Int(UInt8(ascii: "u"))] = primaries[0].printable }
        rw.macros[Int(UInt8(ascii: "g"))] = fMacro
        let unboundDefaults = headers.expandDefaults(rw.macros)
        rw.macros[Int(UInt8(ascii: "u"))] = nil

        // -t: recipients from the header
        var headerErrors = false
        if o.readRecipients {
            let before = rw.lastUserError
            rw.lastUserError = nil
            // with Resent- headers only the Resent- recipients count
            var fields = headers.messageFields(with: .recipient)
            if headers.headers.contains(where: { !$0.flags.contains(.defaultValue) && $0.flags.contains(.resent) }) {
                fields = fields.filter { $0.flags.contains(.resent) }
            }
            for h in fields {
                sendToList(h.value.map { $0 == 0x0A ? 0x20 : $0 }, parent: nil, queue: queue, aliasLevel: 0)
            }
            headerErrors = rw.lastUserError != nil
            if rw.lastUserError == nil { rw.lastUserError = before }
        }
        // hop count: every trace header (the cf's Received: included);
        // too many, and the message is returned, never queued.  (-h does
        // not add to it: sendmail counts the headers afresh.)
        let hops = headers.headers.filter { $0.flags.contains(.trace) }.count
        if hops > intOption("MaxHopCount", 25) {
            if errorMode == UInt8(ascii: "p") && senderIsCaller { saveDeadLetter(headers, body: message.body, now: now) }
            return .unavailable
        }
        if message.headersTooLarge {
            return refuseLongHeader(o, message: message, headers: headers, queue: queue, sender: sender, qid: qid,
                                    qdir: qdir, now: now)
        }
        if let outcome = headerCheck {
            return queueCheckedMessage(outcome, o, message: message, headers: headers, queue: queue, sender: sender,
                                       qid: qid, qdir: qdir, now: now)
        }
        let sendable = queue.entries.filter { $0.state.isSendable }
        if sendable.isEmpty {
            if o.readRecipients && queue.entries.isEmpty {
                rw.currentAddress = nil
                rw.userError("No recipient addresses found in header")
            } else if commandLineErrors > 0 {
                // the errors go back as a delivery's would (not with
                // ErrorMode=q); the from= line is logged, the message is
                // not queued
                let qf = controlFile(o, message: message, headers: headers, queue: queue, sender: sender,
                                     headerErrors: headerErrors, bccFlag: false, now: now)
                let errors = submissionErrors(queue, count: commandLineErrors, notify: o.notify)
                logRecipientErrors(id: qid.bytes, queue: queue, delay: Int64(time(nil)) - Int64(now))
                logQueued(id: qid.bytes, sender: qf.sender, size: message.size, precedence: precedenceClass(headers),
                          nrcpts: countedRecipients(queue), msgid: messageID(headers), bodyType: o.bodyType,
                          relay: rw.macros[Int(UInt8(ascii: "_"))], recipients: [], priority: qf.priority,
                          delay: Int64(time(nil)) - Int64(now))
                if errorMode == UInt8(ascii: "q") { return exitStatus }
                returnUnqueued(qf, id: qid.bytes, data: message.body, qdir: qdir, errors: errors,
                               unbound: unboundDefaults.map { ($0.0, $0.1.queueHeader) })
                return errorMode == UInt8(ascii: "e") ? .ok : exitStatus
            }
            if returnToSender { saveDeadLetter(headers, body: message.body, now: now) }
            return exitStatus
        }

        let hasVisibleRecipientHeader = headers.hasVisibleRecipientHeader
        addRecipientHeaderIfNeeded(&headers, queue)

        // list owners: their recipients leave for envelopes of their own
        // (not yet with Q lines)
        let splits = config.queueGroups.isEmpty ? splitByOwner(queue, sender: sender.printable.isEmpty ? fMacro : sender.printable) : []
        let cloned = Set(splits.flatMap { $0.members.map { ObjectIdentifier($0) } })
        let qf = controlFile(o, message: message, headers: headers, queue: queue, sender: sender,
                             headerErrors: headerErrors, bccFlag: hasVisibleRecipientHeader, now: now, except: cloned)
        let mode = queueFileMode
        // enoughdiskspace(): no more blocks free than MinFreeBlocks (0 by
        // default) and the message is refused before anything is written,
        // with sendmail's words.  sendmail then exits 0, the message lost;
        // we exit EX_OSERR as for a write that fails.
        var fs = statvfs()
        if statvfs(qdir, &fs) == 0, Int64(fs.f_bavail) <= Int64(intOption("MinFreeBlocks", 0)) {
            rw.currentAddress = nil
            rw.out.writeMessage("Insufficient disk space; try again later")
            return .osErr
        }
        let committer = QueueCommitter(directory: qdir, fileMode: mode)
        // the owners' envelopes first (as sendmail, so that a crash loses
        // no recipient), then the original when it kept any
        var clones: [(id: [UInt8], owner: [UInt8], members: [Recipient])] = []
        for split in splits {
            let cid = assignQueueID(qdir, now: now, pid: pid, generator: &idGenerator).bytes
            let members = Set(split.members.map { ObjectIdentifier($0) })
            let cqf = cloneControlFile(qf, owner: split.owner,
                                       recipients: queueRecipients(queue, notify: notifyFlags(o.notify), only: members))
            if let failure = committer.commit(id: cid, data: message.body, control: QueueFileWriter.encode(cqf)) {
                rw.currentAddress = nil
                for m in failure.messages { rw.out.writeMessage(m) }
                return failure.status
            }
            clones.append((cid, split.owner, split.members))
        }
        let originalQueued = splits.isEmpty || !qf.recipients.isEmpty
        // with Q lines: one envelope per queue group (and r= chunk)
        if originalQueued, let failure = config.queueGroups.isEmpty
            ? committer.commit(id: qid.bytes, data: message.body, control: QueueFileWriter.encode(qf))
            : commitAcrossQueueGroups(qf, id: qid, data: message.body, mode: mode, now: now, pid: pid, generator: &idGenerator) {
            rw.currentAddress = nil
            for m in failure.messages { rw.out.writeMessage(m) }
            return failure.status
        }
        let msgid = messageID(headers)
        // (a delivery now announces collect()'s size in SMTP's SIZE=)
        envelopeSizes[qid.bytes] = message.size
        // (a -t header recipient's error is not logged itself)
        logRecipientErrors(id: qid.bytes, queue: queue, delay: Int64(time(nil)) - Int64(now), noticeCount: commandLineErrors)
        logQueued(id: qid.bytes, sender: qf.sender, size: message.size, precedence: precedenceClass(headers),
                  nrcpts: countedRecipients(queue), msgid: msgid, bodyType: o.bodyType,
                  relay: rw.macros[Int(UInt8(ascii: "_"))], recipients: sendable.filter { !cloned.contains(ObjectIdentifier($0)) },
                  priority: qf.priority, delay: Int64(time(nil)) - Int64(now),
                  clones: clones.map { ($0.id, $0.owner, $0.members.filter { $0.state.isSendable }) })
        let delivery = deliveryMode
        // errors in -t header recipients: the message is only queued, the
        // errors are mailed back (whatever ErrorMode, q aside)
        // (with Q lines the envelopes may sit in several groups' directories:
        // not delivered at submission yet, the queue runs deliver them)
        let deliverNow = (delivery == UInt8(ascii: "i") || delivery == UInt8(ascii: "b")) && !headerErrors
            && config.queueGroups.isEmpty
        // queued with ErrorMode=p: the caller's errors go to its
        // ~/dead.letter, as a delivery's would (below); otherwise nothing
        // more happens now
        let returned = headerErrors ? (rw.errorTranscript ?? []).count : commandLineErrors
        // queued with ErrorMode=q and a failed recipient: nothing is
        // returned, but the cf's empty defaults are bound into the qf with
        // $u the local sender's name, as sendmail's qf has them
        let bindQuietly = !deliverNow && returned > 0 && errorMode == UInt8(ascii: "q") && !unboundDefaults.isEmpty
            && !headerErrors
        if !deliverNow && !(returned > 0 && errorMode != UInt8(ascii: "q")) && !bindQuietly {
            return exitStatus
        }
        // delivered now (or ErrorMode=m): the recipients' errors are
        // returned with the delivery's (one dead.letter or one bounce)
        var errors = SubmissionErrors()
        if errorMode != UInt8(ascii: "q") || bindQuietly {
            errors = submissionErrors(queue, count: returned, notify: o.notify, except: cloned)
            errors.mailed = headerErrors
        }
        // (with owners, one transcript for all envelopes, as sendmail's
        // split envelopes share the original's)
        // (and with NOTIFY=SUCCESS, the lists expanded to several addresses)
        let successNotes = notifyFlags(o.notify)?.contains(.notifySuccess) == true
            && mailingListNotes.contains { $0.successOf != nil }
        if !clones.isEmpty || successNotes {
            errors.leadingTranscript = transcriptWithListNotes(count: returned, successNotes: { _ in successNotes })
        }
        // an owner's errors always go to the owner
        let cloneEnvelopes: [SubmittedEnvelope] = clones.reversed().map { c in
            var e = submissionErrors(queue, count: returned, notify: o.notify, only: Set(c.members.map { ObjectIdentifier($0) }))
            dropNotifyRequests(&e)
            e.owner = true
            // (a clone starts without the original's e_message)
            e.message = nil
            e.leadingTranscript = errors.leadingTranscript
            return SubmittedEnvelope(id: c.id, errors: e)
        }
        // an original left with failures only: they are returned first
        if !originalQueued && !errors.failures.isEmpty && deliverNow {
            var first = errors
            if let t = errors.leadingTranscript { first.transcript = t }
            returnUnqueued(qf, id: qid.bytes, data: message.body, qdir: qdir, errors: first,
                           unbound: unboundDefaults.map { ($0.0, $0.1.queueHeader) })
        }
        deliverSubmitted(id: originalQueued ? qid.bytes : nil, qdir: qdir, unbound: unboundDefaults.map { ($0.0, $0.1.queueHeader) },
                         submissionErrors: errors, deliverNow: deliverNow, clones: cloneEnvelopes)
        // ErrorMode=e (BERKnet): the errors were mailed, the exit status is 0
        if errorMode == UInt8(ascii: "e") { return .ok }
        return exitStatus
    }

    /// The first `count` recorded recipient errors as failures to return.
    /// `only`/`except` as queueRecipients' (an owner's envelope).
    func submissionErrors(_ queue: SendQueue, count: Int, notify: [UInt8]?, only: Set<ObjectIdentifier>? = nil,
                          except: Set<ObjectIdentifier> = []) -> SubmissionErrors {
        var errors = SubmissionErrors()
        let transcript = Array((rewriter.errorTranscript ?? []).prefix(count))
        for e in transcript { errors.transcript += Array((e.line + "\n").utf8) }
        let flags: RecipientFlags = notifyFlags(notify) ?? [.notifyFailure, .notifyDelay]
        for r in queue.entries where r.state == .badAddress && !except.contains(ObjectIdentifier(r))
            && (only?.contains(ObjectIdentifier(r)) ?? true) {
            guard let e = transcript.last(where: { $0.address == r.printable }) else { continue }
            var f = SubmissionErrors.Failure(printable: r.printable, flags: (r.primary ? RecipientFlags.primary : []).union(flags),
                                             status: r.status ?? Array("5.0.0".utf8), reply: Array(e.reply.utf8))
            // an alias's member: the DSN names the alias (Final-Recipient,
            // "expanded from:") and the member (X-Actual-Recipient)
            if let p = r.parent, p.address.mailerName != Array("*include*".utf8) {
                f.finalRecipient = finalRecipientLine(r)
                f.expandedFrom = p.printable
                f.user = r.address.user
                f.addrType = r.address.mailer?.addrType
                f.diagnosticType = r.address.mailer?.diagType
            }
            errors.failures.append(f)
        }
        errors.message = rewriter.lastUserError.map { Array($0.utf8) }
        return errors
    }

    /// No recipient left to queue the message for: its command-line
    /// errors are returned at once (~/dead.letter or a bounce, as a
    /// delivery's would be), from the envelope in memory; nothing of the
    /// message itself is written to the queue.
    func returnUnqueued(_ qf: QueueFile, id: [UInt8], data: [UInt8], qdir: String, errors: SubmissionErrors,
                        unbound: [(Int, QueueFile.Header)]) {
        var live = qf
        live.headers = Self.merge(qf.headers, unbound)
        var outcome = DeliveryOutcome()
        addSubmissionErrors(errors, to: &live, outcome: &outcome, id: id, data: data)
        guard !outcome.failures.isEmpty else { return }
        let cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { if cwd >= 0 { _ = fchdir(cwd); close(cwd) } }
        guard chdir(qdir) == 0 else { return }
        signal(SIGPIPE, SIG_IGN)
        _ = returnFailures(live, id: id, data: data, outcome: &outcome, qdir: qdir, how: .foreground, verbose: verbose,
                           mail: errors.mailed)
    }

    /// The lines sendmail logs for recipients refused at submission: the
    /// error itself, and a to= line with its DSN status and reply.
    func logRecipientErrors(id: [UInt8], queue: SendQueue, delay: Int64, priority: Int64 = 0, noticeCount: Int = .max) {
        guard let sink = logSink, let errors = rewriter.errorTranscript else { return }
        for (n, e) in errors.enumerated() {
            if n < noticeCount && logLevel > 3 {
                let (_, _, text) = stripReplyCode(e.reply)
                let shown = e.address.map { shortenString($0, 203).string + "... " } ?? ""
                sink.log(priority: LOG_NOTICE, "\(id.string): \(shown)\(text)")
            }
            guard logLevel > 6, let a = e.address,
                  let r = queue.entries.first(where: { $0.state == .badAddress && $0.printable == a }),
                  !r.refusedWithoutStatus else { continue }
            let (_, _, text) = stripReplyCode(e.reply)
            // (an alias's member: the alias as controlling address)
            let ctl = r.parent.flatMap { p in controllingUser(r).map { ", ctladdr=\(p.printable.string) (\($0.uid)/\($0.gid))" } } ?? ""
            sink.log(priority: LOG_INFO, "\(id.string): to=\(a.string)\(ctl), delay=\(Self.delayText(delay)), "
                     + "mailer=\(r.address.mailerName.string), pri=\(priority), dsn=\((r.status ?? Array("5.0.0".utf8)).string), "
                     + "reply=\(e.reply), stat=\(text)")
        }
    }

    /// DeliveryMode as set (-od, -O DeliveryMode=, the cf): i, b (the
    /// default), q or d; `Od` alone is i, and -v makes it i.
    public var deliveryMode: UInt8 {
        if verbose { return UInt8(ascii: "i") }
        guard let v = config.options["DeliveryMode"] else { return UInt8(ascii: "b") }
        guard let c = v.first(where: { !isASCIISpace($0) }) else { return UInt8(ascii: "i") }
        return c | 0x20
    }

    /// After the durable commit of message `id`: with DeliveryMode i it is
    /// delivered now, with b in a forked child (the caller already has its
    /// status), with q and d it stays queued.  The qf is locked before the
    /// fork and the child inherits the lock, so no queue run can take the
    /// entry in between.  fork() is safe here: the process has a single
    /// thread (no Dispatch, no tasks), and the child needs the loaded
    /// configuration and the very options we run with (re-executing
    /// ourselves would have to rebuild -C, -O, -o, -M, -d from argv).
    /// `inSession`: after an SMTP DATA (errors are mailed, never printed).
    /// In the queue-only modes (or `deliverNow` false) only errors are
    /// returned, if any.
    func deliverSubmitted(id: [UInt8]?, qdir: String, unbound: [(Int, QueueFile.Header)] = [], inSession: Bool = false,
                          submissionErrors: SubmissionErrors? = nil, deliverNow asked: Bool = true,
                          clones: [SubmittedEnvelope] = []) {
        var mode = deliveryMode
        let deliverNow = (mode == UInt8(ascii: "i") || mode == UInt8(ascii: "b")) && asked
        if !deliverNow { mode = UInt8(ascii: "q") }
        // the original first, then the owners' envelopes (last split first)
        var envelopes: [SubmittedEnvelope] = []
        if let id { envelopes.append(SubmittedEnvelope(id: id, errors: submissionErrors)) }
        envelopes += clones
        envelopes = envelopes.filter { deliverNow || !($0.errors?.failures.isEmpty ?? true) }
        guard !envelopes.isEmpty else { return }
        let sub = QueueCommitter(directory: qdir).subdirectories
        // each qf locked now (a child inherits the locks); one that someone
        // else (a queue run) has is left to it
        var locked: [(SubmittedEnvelope, Int32)] = []
        defer { for (_, fd) in locked { close(fd) } }
        for e in envelopes {
            let qfPath = QueueFileKind.control.path(in: Array(qdir.utf8), id: e.id, useSubdirectory: sub.qf).string
            let fd = open(qfPath, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { continue }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { close(fd); continue }
            locked.append((e, fd))
        }
        guard !locked.isEmpty else { return }
        // mailers run in the queue directory, as in a queue run; the
        // caller's (an SMTP session's) working directory comes back after
        let cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { if cwd >= 0 { _ = fchdir(cwd); close(cwd) } }
        guard chdir(qdir) == 0 else { return }
        signal(SIGPIPE, SIG_IGN)
        if mode != UInt8(ascii: "b") {
            var shared: [UInt8]? = nil
            for (e, fd) in locked {
                var errors = e.errors
                if let t = shared { errors?.leadingTranscript = t }
                let t = deliverLockedEntry(id: e.id, fd: fd, qdir: qdir, how: inSession ? .session : .foreground,
                                           verbose: verbose, unbound: unbound, submissionErrors: errors,
                                           deliverNow: deliverNow)
                if errors?.leadingTranscript != nil { shared = t }
            }
            return
        }
        out.flush()
        let pid = fork()
        guard pid == 0 else { return }   // the parent (or no child: a queue run delivers it later)
        // the child: its own session, no terminal, nothing shown, and none
        // of the descriptors the caller gave us (a caller waiting for the
        // end of a pipe must not wait for the delivery); ours (the locked
        // qf, open maps) stay
        _ = setsid()
        let null = open("/dev/null", O_RDWR)
        if null >= 0 {
            for target: Int32 in 0...2 { _ = dup2(null, target) }
            if null > 2 { close(null) }
        }
        let ours = Set(locked.map { $0.1 })
        for other in options.inheritedDescriptors where !ours.contains(other) { close(other) }
        var shared: [UInt8]? = nil
        for (e, fd) in locked {
            var errors = e.errors
            if let t = shared { errors?.leadingTranscript = t }
            let t = deliverLockedEntry(id: e.id, fd: fd, qdir: qdir, how: inSession ? .sessionChild : .background,
                                       verbose: false, unbound: unbound, submissionErrors: errors)
            if errors?.leadingTranscript != nil { shared = t }
        }
        out.flush()
        _exit(0)
    }

    /// The Message-Id: header's value, trimmed, for the from= line.
    func messageID(_ headers: HeaderList) -> [UInt8]? {
        headers.headers.last(where: { $0.name.asciiCaseEquals(Array("Message-Id".utf8)) }).map { h -> [UInt8] in
            var v = h.value
            while let f = v.first, isASCIISpace(f) { v.removeFirst() }
            while let l = v.last, isASCIISpace(l) { v.removeLast() }
            return v
        }
    }

    /// A fresh queue ID: sendmail's sequence from a random start, skipping
    /// IDs whose df or qf already exist (the O_EXCL create still guards).
    func assignQueueID(_ qdir: String, now: time_t, pid: Int) -> QueueID {
        var gen = QueueIDGenerator(randomOffset: Int.random(in: 0..<QueueID.sequenceLimit))
        return assignQueueID(qdir, now: now, pid: pid, generator: &gen)
    }

    /// The same with the process's generator (several messages in one
    /// process, as in an SMTP session, get consecutive IDs).
    public func assignQueueID(_ qdir: String, now: time_t, pid: Int, generator gen: inout QueueIDGenerator) -> QueueID {
        var qid: QueueID
        if let q = gen.next(now: Int64(now), pid: pid) {
            qid = q
        } else {
            // the sequence is used up within this second: wait for the next
            var t = now
            repeat { sleep(1); t = time(nil) } while t == now
            qid = gen.next(now: Int64(t), pid: pid)!
        }
        let dir = Array(qdir.utf8)
        let sub = QueueCommitter(directory: qdir).subdirectories
        func taken(_ id: QueueID) -> Bool {
            access(QueueFileKind.data.path(in: dir, id: id.bytes, useSubdirectory: sub.df).string, F_OK) == 0
                || access(QueueFileKind.control.path(in: dir, id: id.bytes, useSubdirectory: sub.qf).string, F_OK) == 0
        }
        var tries = 0
        while taken(qid) && tries < QueueID.sequenceLimit {
            qid = gen.next(now: Int64(now), pid: pid) ?? qid
            tries += 1
        }
        return qid
    }

    /// -f by a user not in $=t, naming someone other than that local user.
    func senderSetByUntrustedUser(from: [UInt8]?, sender: ParsedAddress) -> Bool {
        guard from != nil else { return false }
        let user = options.realUserName
        if config.classes.contains(user, in: Int(UInt8(ascii: "t"))) { return false }
        return !((sender.mailer?.has("l") ?? false) && sender.user == user)
    }

    /// PrivacyOptions=authwarnings (or goaway): X-Authentication-Warning:
    /// values for what an untrusted user did on the command line, in
    /// sendmail's order: -f, a queue directory, -C.
    func authenticationWarnings(from: [UInt8]?, sender: ParsedAddress) -> [[UInt8]] {
        let privacy = (config.options["PrivacyOptions"] ?? []).asciiLowercased
            .split(whereSeparator: { $0 == UInt8(ascii: ",") || isASCIISpace($0) }).map { Array($0).string }
        guard privacy.contains("authwarnings") || privacy.contains("goaway") else { return [] }
        let user = options.realUserName
        let j = (rewriter.macros[Int(UInt8(ascii: "j"))] ?? []).string
        var out: [String] = []
        if let f = from, senderSetByUntrustedUser(from: from, sender: sender) {
            out.append("\(j): \(user.string) set sender to \(f.string) using -f")
        }
        guard options.realUID != 0 else { return out.map { Array($0.utf8) } }
        let trusted = config.classes.contains(user, in: Int(UInt8(ascii: "t")))
        let queueOnCommandLine = options.commandLineOptions.contains { code, rest in
            code == UInt8(ascii: "Q") || (code == UInt8(ascii: " ")
                && rest.asciiLowercased.starts(with: Array("queuedirectory".utf8)))
        }
        if queueOnCommandLine, !trusted, let q = config.options["QueueDirectory"] {
            out.append("\(j): Processed from queue \(q.string)")
        }
        if options.configGivenOnCommandLine {
            out.append("\(j): Processed by \(user.string) with -C \(options.configFile)")
        }
        return out.map { Array($0.utf8) }
    }

    /// NoRecipientAction: what to add when the message has no recipient
    /// header at all (To:, Cc:, Bcc:, Resent-*, Apparently-To:).
    func addRecipientHeaderIfNeeded(_ headers: inout HeaderList, _ queue: SendQueue) {
        guard headers.messageFields(with: .recipient).isEmpty,
              let action = config.options["NoRecipientAction"]?.asciiLowercased.string else { return }
        func add(_ name: String, _ value: [UInt8]) {
            headers.headers.append(EnvelopeHeader(condition: [], name: Array(name.utf8), value: value,
                                                  flags: HeaderInfo.flags(for: Array(name.utf8))))
        }
        switch action {
        case "add-to", "add-apparently-to":
            let name = action == "add-to" ? "To" : "Apparently-To"
            for r in queue.entries.reversed() where r.parent == nil { add(name, r.printable) }
        case "add-bcc": add("Bcc", [0x20])
        case "add-to-undisclosed": add("To", Array("undisclosed-recipients:;".utf8))
        default: break
        }
    }

    /// e_nrcpts: addresses accepted into the send queue (not those that
    /// failed to parse, not duplicates, not those expanded into others).
    func countedRecipients(_ queue: SendQueue) -> Int {
        queue.entries.filter { r in
            !r.address.badAddress && !r.address.isError && r.state != .expanded && r.state != .included
                && r.state != .duplicate && !r.uncounted
        }.count
    }

    /// `$t`: YYYYMMDDhhmm in local time.
    func messageIDTime(_ t: time_t) -> [UInt8] {
        var tt = t
        var tmv = tm()
        localtime_r(&tt, &tmv)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return Array("\(tmv.tm_year + 1900)\(two(tmv.tm_mon + 1))\(two(tmv.tm_mday))\(two(tmv.tm_hour))\(two(tmv.tm_min))".utf8)
    }

    /// The `$` lines: the defined macros of class {persistentMacros}, by id.
    func persistentMacros() -> [QueueFile.Macro] {
        guard let cls = config.names.id(forName: Array("{persistentMacros}".utf8)) else { return [] }
        var ids: [Int] = []
        for w in config.classes.members(of: cls) {
            if let id = config.names.id(forName: w) { ids.append(id) }
        }
        var out: [QueueFile.Macro] = []
        for id in Set(ids).sorted() {
            guard let v = rewriter.macros[id] else { continue }
            out.append(QueueFile.Macro(name: config.names.name(of: id), value: v))
        }
        return out
    }
}

/// What a header check decided about a command-line submission.
enum SubmissionCheckOutcome {
    /// `$#error` with a 5xx (or no) code: the text was shown.
    case refused
    /// `$#error` with a 4xx code: the text was shown.
    case deferred
    /// `$#discard`.
    case discarded
    /// `$#error $@ quarantine $: reason`.
    case quarantined([UInt8])
}

extension Engine {
    /// Runs the cf's header checks on a submission's header fields, as
    /// sendmail's collect() does for any input: {hdr_name}, {hdrlen} and
    /// {currHeader} set, the raw value (folds kept) scanned as rscheck
    /// scans it.  A `$#error` is shown as a user error (its text only,
    /// outside SMTP) and becomes the envelope's message; the last
    /// verdict of the headers counts.  nil when every check passed.
    func commandLineHeaderChecks(_ fields: [[UInt8]], id: [UInt8], address: [UInt8]? = nil) -> SubmissionCheckOutcome? {
        let checks = headerChecks
        guard !checks.isEmpty else { return nil }
        let rw = rewriter
        var outcome: SubmissionCheckOutcome? = nil
        for f in fields {
            guard let (name, raw) = HeaderInfo.split(f),
                  let c = checks.first(where: { $0.name.asciiCaseEquals(name) }),
                  let rs = rw.rulesets.find(c.ruleset), rw.rulesets.hasRules(rs) else { continue }
            defineHeaderCheckMacros(name: name, raw: raw)
            let saveTo = rw.currentAddress
            rw.currentAddress = address
            defer { rw.currentAddress = saveTo }
            let scanned = prescan(raw, delim: 0, table: c.keepComments ? rw.tables.noComment : rw.tables.external,
                                  ignoreUnbalanced: false, eightBitAddrOK: eightBitAddrOK,
                                  report: { rw.userError($0) })
            guard var pvp = scanned.tokens else { continue }
            rw.rewrite(&pvp, ruleset: rs)
            // "ruleset=..., arg1=..., relay=..., <verdict>" as rscheck logs it
            // (a newline of a folded header shows as \n)
            func log(_ verdict: String) {
                guard let sink = logSink, logLevel > 3 else { return }
                let arg = raw.flatMap { $0 == 0x0A ? [0x5C, 0x6E] : [$0] }.string
                let relay = (rw.macros[Int(UInt8(ascii: "_"))] ?? []).string
                sink.log(priority: LOG_NOTICE, "\(id.string): ruleset=\(c.ruleset.string), arg1=\(arg), relay=\(relay), \(verdict)")
            }
            switch policyResult(pvp) {
            case .none:
                continue
            case .discard:
                outcome = .discarded
                log("discard")
            case .quarantine(let reason):
                outcome = .quarantined(reason)
                log("quarantine=" + reason.string)
            case .error:
                // (the $@ code: 4 defers, anything else refuses)
                let temporary = pvp.count > 3 && pvp[2] == [Meta.canonHost] && pvp[3].first == UInt8(ascii: "4")
                let before = rw.errorTranscript?.count ?? 0
                _ = buildAddress(pvp, flags: [])
                if let e = rw.errorTranscript?.dropFirst(before).last { log("reject=" + e.line) }
                outcome = temporary ? .deferred : .refused
            }
        }
        return outcome
    }

    /// A submission a header check stopped: refused, it is queued without
    /// its recipients and the exit status is EX_DATAERR; deferred, it is
    /// queued with them; either way with the check's text as its message,
    /// not split (no `s` flag) and not delivered now, whatever the
    /// delivery mode.  Quarantined, it goes into an hf file with its
    /// reason; discarded, nothing is written.
    func queueCheckedMessage(_ outcome: SubmissionCheckOutcome, _ o: SubmitOptions, message: CollectedMessage,
                             headers: HeaderList, queue: SendQueue, sender: ParsedAddress, qid: QueueID,
                             qdir: String, now: time_t) -> SysExit {
        var headers = headers
        if case .discarded = outcome {
            let qf = controlFile(o, message: message, headers: headers, queue: queue, sender: sender,
                                 headerErrors: true, bccFlag: false, now: now)
            logCheckedMessage(outcome, o, qf: qf, message: message, headers: headers, queue: queue, id: qid.bytes, now: now)
            return exitStatus
        }
        let hasVisibleRecipientHeader = headers.hasVisibleRecipientHeader
        addRecipientHeaderIfNeeded(&headers, queue)
        var qf = controlFile(o, message: message, headers: headers, queue: queue, sender: sender,
                             headerErrors: true, bccFlag: hasVisibleRecipientHeader, now: now)
        var kind = QueueFileKind.control
        switch outcome {
        case .refused:
            qf.recipients = []
            rewriter.setStatus(.dataErr)
        case .quarantined(let reason):
            qf.quarantineReason = reason
            qf.message = nil
            qf.flags.insert(.split)
            kind = .quarantined
            // (delivery was tried at once in modes i and b: the K line)
            let delivery = deliveryMode
            if delivery == UInt8(ascii: "i") || delivery == UInt8(ascii: "b") { qf.lastAttempt = Int64(now) }
        default:
            break
        }
        let mode = queueFileMode
        if let failure = QueueCommitter(directory: qdir, fileMode: mode)
            .commit(id: qid.bytes, data: message.body, control: QueueFileWriter.encode(qf), kind: kind) {
            rewriter.currentAddress = nil
            for m in failure.messages { rewriter.out.writeMessage(m) }
            return failure.status
        }
        logCheckedMessage(outcome, o, qf: qf, message: message, headers: headers, queue: queue, id: qid.bytes, now: now)
        if case .refused = outcome { returnRefused(o, qf: qf, message: message, queue: queue, id: qid.bytes, qdir: qdir) }
        return exitStatus
    }

    /// A submission whose header went past MaxHeadersLength: sendmail's
    /// collect() says "Headers too large (N max)" (552 5.6.0), queues
    /// nothing and mails the message back to its sender at once, whatever
    /// the delivery mode and ErrorMode, with the header fields read before
    /// the limit and no body (the collector dropped the rest); the exit
    /// status is not changed by it (0 when nothing else failed).
    /// Not compared with the oracle: the syslog lines of such a submission.
    func refuseLongHeader(_ o: SubmitOptions, message: CollectedMessage, headers: HeaderList, queue: SendQueue,
                          sender: ParsedAddress, qid: QueueID, qdir: String, now: time_t) -> SysExit {
        let rw = rewriter
        let status = rw.exitStatus
        let suppress = rw.suppressErrors
        rw.suppressErrors = false
        rw.currentAddress = nil
        let text = "Headers too large (\(maxHeadersLength) max)"
        rw.userError("552 5.6.0 " + text)
        rw.suppressErrors = suppress
        rw.exitStatus = status
        var qf = controlFile(o, message: message, headers: headers, queue: queue, sender: sender,
                             headerErrors: true, bccFlag: false, now: now)
        qf.message = Array(text.utf8)
        // (the refusal's reply is the last of the transcript submitMessage keeps)
        returnRefused(o, qf: qf, message: message, queue: queue, id: qid.bytes, qdir: qdir)
        return exitStatus
    }

    /// A refused submission is mailed back to its sender at once, as
    /// sendmail does (whatever the delivery mode and ErrorMode): a DSN
    /// naming its recipients (status 5.0.0, no diagnostic), the refusal as
    /// its transcript.  The returned headers go through the header checks
    /// again under the bounce's ID, its recipient as the address: logged
    /// and shown, with no effect, as sendmail's.
    func returnRefused(_ o: SubmitOptions, qf: QueueFile, message: CollectedMessage, queue: SendQueue,
                       id: [UInt8], qdir: String) {
        let rw = rewriter
        guard let text = qf.message,
              let reply = rw.errorTranscript?.last(where: { $0.address == nil })?.reply else { return }
        let sendable = queue.entries.filter { $0.state.isSendable }
        let listed = queueRecipients(queue, notify: notifyFlags(o.notify))
        var errors = SubmissionErrors()
        for (r, q) in zip(sendable, listed) {
            var f = SubmissionErrors.Failure(printable: r.printable, flags: q.flags, status: Array("5.0.0".utf8),
                                             reply: Array(reply.utf8))
            f.finalRecipient = q.finalRecipient
            f.withoutReason = true
            errors.failures.append(f)
        }
        errors.transcript = Array((reply + "\n").utf8)
        errors.message = text
        errors.mailed = true
        let fields = message.headerFields
        // (the bounce's size, for its priority: collect()'s and 1024 more)
        envelopeSizes[id] = message.size
        let saveError = rw.lastUserError, saveStatus = rw.exitStatus
        bounceQueued = { [unowned self] bid, to in
            let suppress = rw.suppressErrors, transcript = rw.errorTranscript, current = rw.currentAddress
            rw.suppressErrors = false
            rw.errorTranscript = []
            _ = self.commandLineHeaderChecks(fields, id: bid, address: to)
            rw.suppressErrors = suppress
            rw.errorTranscript = transcript
            rw.currentAddress = current
        }
        returnUnqueued(qf, id: id, data: message.body, qdir: qdir, errors: errors, unbound: [])
        bounceQueued = nil
        rw.lastUserError = saveError
        rw.exitStatus = saveStatus
    }

    /// The from= line of a submission a header check stopped, then its
    /// recipients' lines: a refusal's or deferral's text as their stat=
    /// (command-line recipients only), quarantined with the reason, or
    /// "discarded".
    func logCheckedMessage(_ outcome: SubmissionCheckOutcome, _ o: SubmitOptions, qf: QueueFile, message: CollectedMessage,
                           headers: HeaderList, queue: SendQueue, id: [UInt8], now: time_t) {
        let delay = Int64(time(nil)) - Int64(now)
        logQueued(id: id, sender: qf.sender, size: message.size, precedence: precedenceClass(headers),
                  nrcpts: countedRecipients(queue), msgid: messageID(headers), bodyType: o.bodyType,
                  relay: rewriter.macros[Int(UInt8(ascii: "_"))], recipients: [], priority: qf.priority, delay: delay)
        guard let sink = logSink, logLevel > 4 else { return }
        let sendable = queue.entries.filter { $0.state.isSendable }
        switch outcome {
        case .discarded:
            sink.log(priority: LOG_INFO, "\(id.string): discarded")
        case .quarantined(let reason):
            for r in sendable {
                sink.log(priority: LOG_INFO, "\(id.string): to=\(r.printable.string), delay=\(Self.delayText(delay)), "
                         + "mailer=\(r.address.mailerName.string), pri=\(qf.priority), quarantine=\(reason.string), stat=quarantined")
            }
        case .refused, .deferred:
            // (-t: the header's recipients get none)
            guard !o.readRecipients, let text = rewriter.lastUserError else { return }
            for r in sendable {
                sink.log(priority: LOG_INFO, "\(id.string): to=\(r.printable.string), delay=\(Self.delayText(delay)), "
                         + "pri=\(qf.priority), stat=\(text)")
            }
        }
    }
}
