// SMEngine/QueueExpand.swift
//
// A queue run's recipients, as sendmail's readqf() makes them: each `R`
// line is parsed and handed to recipient() (Recipients.swift) with the
// controlling user of the `C` line before it as its parent, so that an
// address queued unexpanded (an SMTP session in queue-only mode, `-odq`,
// keeps RCPT addresses as given: sendmail's EF_VRFYONLY) is expanded now:
// aliases, :include:, .forward, ruleset 5, the password file, duplicate
// suppression, with -v's "aliased to" lines and the alias file's notices.
// The result is a queue file whose recipients are the sendable send
// queue (what is delivered, logged, bounced and written back):
//   - an `R` line that stays as it is keeps its line (flags, `r`, `Q`,
//     `M`) and its controlling user;
//   - so does one ruleset 5 hands to another mailer (MAIL_HUB,
//     LUSER_RELAY), whose resolved address is delivered;
//   - every entry's address goes to the delivery as parsed here
//     (`mapped`): it is parsed once, as readqf() parses each R line once;
//   - an expansion gets the DSN flags and `r`/`Q` lines of the `R` line
//     it came from (sendtolist's inherited attributes), P when it is the
//     only address of a primary one, A unless it came from an :include:
//     list, and the C line of getctladdr (an alias: DefaultUser's uid, the
//     process's gid);
//   - addresses that fail (User unknown, a loop, a program without a
//     controlling user) are returned as failures with their transcript
//     lines, to be bounced in the same run as sendmail does.
// Addresses an alias with an owner expanded to leave the queue file
// for list owners' envelopes (clones, OwnerSplit.swift), returned with
// their own recipients and failures.
// Promises: a qf whose recipients need no expansion (as written at
// submission) comes back with the same recipients in the same order;
// nothing here delivers or writes a file.

import Glibc
import SMBase
import SMRules
import SMQueueFormat

extension Engine {
    /// What the expansion of a queued message's recipients gave.
    struct QueuedExpansion {
        /// The message with its recipients replaced by the send queue.
        var qf: QueueFile
        /// Addresses that failed while being expanded.
        var errors: SubmissionErrors
        /// The recipients differ from the qf's (the qf must be rewritten).
        var changed: Bool
        /// Expanded addresses (but programs, files and F=o mailers'):
        /// their C line is written as queueup() writes it, but in this run
        /// they have no controlling user (the mailer runs as the sender
        /// when that is a local user, as measured against sendmail).
        var uncontrolled: Set<Int> = []
        /// The others' ctladdr= for the log ("<alias> (uid/gid)").
        var controlText: [Int: String] = [:]
        /// The envelopes of list owners split off (OwnerSplit.swift), in
        /// the order sendmail splits them.
        var clones: [OwnerClone] = []
        /// Each recipient's address as this expansion parsed it, which the
        /// delivery uses instead of parsing the qf line again (sendmail's
        /// readqf() parses each R line once and delivers the send queue it
        /// made). For addresses ruleset 5 handed to another mailer
        /// (LUSER_RELAY, MAIL_HUB, LOCAL_RELAY) the qf line keeps the local
        /// name, as sendmail's, while the delivery goes as resolved here; a
        /// local name the password file matched only by its case is
        /// delivered under the login name.
        var mapped: [Int: ParsedAddress] = [:]
        /// The entries that were the qf's own (not expanded in this run):
        /// readqf() hands them to recipient() at alias level 0, so they
        /// are QPRIMARY for the DSN's success and delay entries, whatever
        /// their P flag.
        var fromQueue: Set<Int> = []
    }

    /// A list owner's envelope made by a queue run's expansion: queued
    /// under its own ID and delivered after the original, in this run.
    struct OwnerClone {
        var owner: [UInt8]
        var expansion: QueuedExpansion
    }

    /// readqf()'s recipient() calls for every recipient of `qf`.
    func expandQueuedRecipients(_ qf: QueueFile, id: [UInt8], verbose: Bool) -> QueuedExpansion {
        let rw = rewriter
        let savedMacros = rw.macros
        let savedTranscript = rw.errorTranscript
        let savedSuppress = rw.suppressErrors
        let savedError = rw.lastUserError
        defer {
            rw.macros = savedMacros
            rw.errorTranscript = savedTranscript
            rw.suppressErrors = savedSuppress
        }
        rw.macros[Int(UInt8(ascii: "i"))] = id
        for m in qf.macros { if let mid = macroID(m.name) { rw.macros[mid] = m.value } }
        rw.macros[Int(UInt8(ascii: "f"))] = qf.sender
        rw.errorTranscript = []
        mailingListNotes = []
        // (user errors are shown in a foreground run even without -v)
        rw.suppressErrors = false
        rw.lastUserError = nil

        let queue = SendQueue()
        // the qf's own entries: their index and controlling user
        var originals: [ObjectIdentifier: (index: Int, ctl: QueueFile.ControllingUser?)] = [:]
        var ctl: QueueFile.ControllingUser? = nil
        var ctlParent: Recipient? = nil
        var unparsed: [Int] = []
        for (i, r) in qf.recipients.enumerated() {
            switch r.controlLine {
            case .reset?: ctl = nil; ctlParent = nil
            case .user(let u)?:
                ctl = u
                let a = ParsedAddress(mailer: nil, mailerName: [], host: nil, user: u.user ?? [], printable: u.alias)
                let p = Recipient(a, parent: nil)
                p.state = .expanded
                ctlParent = p
            case nil: break
            }
            guard let a = parseAddress(r.address, flags: [], isRecipient: true) else {
                unparsed.append(i)
                continue
            }
            let new = Recipient(a, parent: ctlParent)
            new.message = r.message
            originals[ObjectIdentifier(new)] = (i, ctl)
            let kept = recipient(new, queue: queue, aliasLevel: 0)
            // the qf's P flag stays as written
            if kept === new { new.primary = r.flags.contains(.primary) }
        }
        let transcript = rw.errorTranscript ?? []
        let message = rw.lastUserError
        rw.lastUserError = savedError ?? message

        // list owners: their recipients leave for envelopes of their own
        let splits = splitByOwner(queue, sender: qf.sender)
        let cloned = Set(splits.flatMap { $0.members.map { ObjectIdentifier($0) } })
        let j = rw.macros[Int(UInt8(ascii: "j"))] ?? []
        let at = UInt8(ascii: "@")
        /// The qf entry an address was expanded from.
        func origin(_ r: Recipient) -> Int? {
            var q: Recipient? = r
            while let c = q {
                if let o = originals[ObjectIdentifier(c)] { return o.index }
                q = c.parent
            }
            return nil
        }
        let inherited: RecipientFlags = [.hasNotify, .notifySuccess, .notifyFailure, .notifyDelay]
        /// The send queue entries `keep` accepts as queue file recipients,
        /// with their failures.
        func envelope(_ keep: (Recipient) -> Bool) -> (recipients: [QueueFile.Recipient], last: QueueFile.ControllingUser??,
                                                       uncontrolled: Set<Int>, controlText: [Int: String],
                                                       mapped: [Int: ParsedAddress], errors: SubmissionErrors, fromQueue: Set<Int>) {
            var out: [QueueFile.Recipient] = []
            var last: QueueFile.ControllingUser?? = .none
            var uncontrolled: Set<Int> = []
            var controlText: [Int: String] = [:]
            var mapped: [Int: ParsedAddress] = [:]
            var fromQueue: Set<Int> = []
            for r in queue.entries where r.state.isSendable && keep(r) {
                var qr: QueueFile.Recipient
                var effective: QueueFile.ControllingUser?
                // (a qf entry ruleset 5 handed to another mailer keeps its line)
                let replaced = r.parent.flatMap { $0.state == .replaced ? originals[ObjectIdentifier($0)] : nil }
                if let o = originals[ObjectIdentifier(r)] ?? replaced {
                    qr = qf.recipients[o.index]
                    effective = o.ctl
                    fromQueue.insert(out.count)
                } else {
                    qr = QueueFile.Recipient(address: r.printable, flags: [])
                    qr.message = r.message
                    var flags: RecipientFlags = r.queuedWithPFlag ? [.primary] : []
                    if let k = origin(r) {
                        let top = qf.recipients[k]
                        flags.formUnion(top.flags.intersection(inherited))
                        qr.finalRecipient = top.finalRecipient
                        qr.originalRecipient = top.originalRecipient
                        if qr.finalRecipient == nil {
                            let addr = Array(top.address.filter { $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") })
                            qr.finalRecipient = Array("rfc822; ".utf8) + addr + (addr.contains(at) ? [] : [at] + j)
                        }
                    }
                    if let p = r.parent, p.address.mailerName != Array("*include*".utf8) { flags.insert(.alias) }
                    qr.flags = flags
                    if let m = r.address.mailer, runsAsSender(m) { uncontrolled.insert(out.count) }
                    let cu = controllingUser(r)
                    if let p = r.parent { controlText[out.count] = "\(p.printable.string) (\(cu?.uid ?? 0)/\(cu?.gid ?? 0))" }
                    effective = QueueFile.ControllingUser(user: cu?.name, uid: cu?.uid ?? 0, gid: cu?.gid ?? 0,
                                                          alias: r.parent?.printable ?? [])
                }
                if case .some(let l) = last, l == effective {
                    qr.controlLine = nil
                } else if case .none = last, effective == nil {
                    qr.controlLine = nil
                } else {
                    qr.controlLine = effective.map { .user($0) } ?? .reset
                }
                last = .some(effective)
                mapped[out.count] = r.address
                out.append(qr)
            }

            // the failures, with what the bounce says about them
            var errors = SubmissionErrors()
            for e in transcript { errors.transcript += Array((e.line + "\n").utf8) }
            for r in queue.entries where r.state == .badAddress && keep(r) {
                guard let e = transcript.last(where: { $0.address == r.printable }) else { continue }
                var f = SubmissionErrors.Failure(printable: r.printable, flags: [], status: r.status ?? Array("5.0.0".utf8),
                                                 reply: Array(e.reply.utf8))
                if let k = origin(r) {
                    let top = qf.recipients[k]
                    f.flags = top.flags.intersection(inherited)
                    if originals[ObjectIdentifier(r)] != nil { f.flags.formUnion(top.flags.intersection([.primary])) }
                    f.finalRecipient = top.finalRecipient
                    f.originalRecipient = top.originalRecipient
                }
                if originals[ObjectIdentifier(r)] == nil, let p = r.parent { f.expandedFrom = p.printable }
                f.user = r.address.user
                f.addrType = r.address.mailer?.addrType
                f.diagnosticType = r.address.mailer?.diagType
                f.mailerName = r.address.mailerName
                if let p = r.parent, let cu = controllingUser(r) { f.logControl = "\(p.printable.string) (\(cu.uid)/\(cu.gid))" }
                // only the password file's "User unknown" gives the DSN a reason
                f.withoutReason = !e.reply.hasSuffix("User unknown")
                errors.failures.append(f)
            }
            errors.message = errors.failures.isEmpty ? nil : message.map { Array($0.utf8) }
            return (out, last, uncontrolled, controlText, mapped, errors, fromQueue)
        }
        var (out, last, uncontrolled, controlText, mapped, errors, fromQueue) = envelope { !cloned.contains(ObjectIdentifier($0)) }
        // (one transcript for the envelope and its clones, the mailing-list
        // notes among the errors)
        // (a list's "expanded to multiple addresses" when the qf entry it
        // came from asked for NOTIFY=SUCCESS)
        let wantsSuccess: (Recipient) -> Bool = { r in
            origin(r).map { qf.recipients[$0].flags.contains(.notifySuccess) } ?? false
        }
        let lead: [UInt8]? = mailingListNotes.contains(where: { n in n.successOf.map(wantsSuccess) ?? true })
            ? transcriptWithListNotes(count: transcript.count, successNotes: wantsSuccess) : nil
        errors.leadingTranscript = lead
        var clones: [OwnerClone] = []
        for split in splits {
            let members = Set(split.members.map { ObjectIdentifier($0) })
            let e = envelope { members.contains(ObjectIdentifier($0)) }
            var cloneErrors = e.errors
            dropNotifyRequests(&cloneErrors)
            cloneErrors.owner = true
            cloneErrors.message = nil
            cloneErrors.leadingTranscript = lead ?? []
            let cqf = cloneControlFile(qf, owner: split.owner, recipients: e.recipients)
            clones.append(OwnerClone(owner: split.owner,
                                     expansion: QueuedExpansion(qf: cqf, errors: cloneErrors, changed: false,
                                                                uncontrolled: e.uncontrolled, controlText: e.controlText,
                                                                mapped: e.mapped)))
        }
        // R lines that no longer parse stay as they are (the delivery fails them)
        for i in unparsed {
            var qr = qf.recipients[i]
            if case .some(let l) = last, l != nil { qr.controlLine = .reset } else { qr.controlLine = nil }
            last = .some(nil)
            fromQueue.insert(out.count)
            out.append(qr)
        }
        var expanded = qf
        expanded.recipients = out
        return QueuedExpansion(qf: expanded, errors: errors, changed: out != qf.recipients, uncontrolled: uncontrolled,
                               controlText: controlText, clones: clones, mapped: mapped, fromQueue: fromQueue)
    }
}
