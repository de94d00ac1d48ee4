// SMEngine/OwnerSplit.swift
//
// Envelopes per list owner, as sendmail's sendall() makes them before it
// queues or delivers: every address of the send queue takes the owner of
// its nearest ancestor alias that has one (alias()'s q_owner,
// Recipients.swift), unless that owner is the envelope's sender as given;
// then, while some owner is left, the recipients of the last owner met
// in send-queue order (one alias's owner; an equal owner of another
// alias only when met right after it) leave the envelope for a clone of
// their own.  The original keeps the rest (possibly nothing).
// A clone is the original's qf with its own queue ID, the owner as
// sender (S line: mailer -f, Return-Path, From_), no M line, and its
// recipients' NOTIFY=SUCCESS requests dropped (FAILURE, DELAY and NEVER
// stay); its errors are mailed to the owner whatever ErrorMode says.
// Clones are queued before the original and logged as
// "<id>: <clone id>: clone: owner=<owner>"; delivered after it, the
// last split first.
// Promises: pure over the send queue (no files, no log).

import Glibc
import SMBase
import SMQueueFormat

/// The recipients one owner's envelope takes from the original.
struct OwnerSplit {
    var owner: [UInt8]
    /// Its addresses (sendable or failed), in send-queue order.
    var members: [Recipient]
}

extension Engine {
    /// sendall()'s owner passes over `queue` for an envelope from
    /// `sender` (the address as given, e_from.q_paddr): the splits in the
    /// order sendmail makes them (empty: no owner, nothing to split).
    func splitByOwner(_ queue: SendQueue, sender: [UInt8]) -> [OwnerSplit] {
        let entries = queue.entries
        // (owner alias, owner) of each entry: its own or its nearest ancestor's
        var owners: [(key: ObjectIdentifier, text: [UInt8])?] = entries.map { r in
            var a: Recipient? = r
            while let c = a, c.owner == nil { a = c.parent }
            guard let o = a, let text = o.owner else { return nil }
            return (ObjectIdentifier(o), text)
        }
        // an owner that alias() found at all asks for a receipt envelope
        // (EF_SENDRECEIPT), so that even a single owner is split off
        let anyOwner = owners.contains { $0 != nil }
        for (i, r) in entries.enumerated() where !r.state.isDead {
            if let o = owners[i], o.text == sender { owners[i] = nil }
        }
        guard anyOwner else { return [] }
        var cloned = Set<Int>()
        var splits: [OwnerSplit] = []
        while true {
            var owner: (key: ObjectIdentifier, text: [UInt8])? = nil
            var others = 1
            for i in entries.indices where !entries[i].state.isDead && !cloned.contains(i) {
                guard let o = owners[i] else { others += 1; continue }
                guard let cur = owner else { owner = o; continue }
                if cur.key != o.key {
                    if cur.text == o.text { owners[i] = cur } else { others += 1 }
                    owner = owners[i]
                }
            }
            guard let o = owner, others > 0 else { break }
            let members = entries.indices.filter {
                !entries[$0].state.isDead && !cloned.contains($0) && owners[$0]?.key == o.key
            }
            cloned.formUnion(members)
            splits.append(OwnerSplit(owner: o.text, members: members.map { entries[$0] }))
        }
        return splits
    }

    /// The envelope's transcript so far: the first `count` recorded
    /// errors with the mailing-list notes among them, in the order they
    /// were made (`successNotes`: which lists' "expanded to multiple
    /// addresses" lines are shown, those that asked for NOTIFY=SUCCESS).
    func transcriptWithListNotes(count: Int, successNotes: (Recipient) -> Bool = { _ in false }) -> [UInt8] {
        let errors = Array((rewriter.errorTranscript ?? []).prefix(count))
        let mailingListNotes = self.mailingListNotes.filter { n in n.successOf.map(successNotes) ?? true }
        var out: [UInt8] = []
        var k = 0
        for (i, e) in errors.enumerated() {
            while k < mailingListNotes.count && mailingListNotes[k].at <= i { out += mailingListNotes[k].line + [0x0A]; k += 1 }
            out += Array((e.line + "\n").utf8)
        }
        while k < mailingListNotes.count { out += mailingListNotes[k].line + [0x0A]; k += 1 }
        return out
    }

    /// "<id>: <clone id>: clone: owner=<owner>" for each clone, in split order.
    func logClones(id: [UInt8], _ clones: [(id: [UInt8], owner: [UInt8])]) {
        guard let sink = logSink, logLevel > 4 else { return }
        for c in clones { sink.log(priority: LOG_INFO, "\(id.string): \(c.id.string): clone: owner=\(c.owner.string)") }
    }

    /// A clone's failures from before its delivery lose NOTIFY=SUCCESS as
    /// its recipients do.
    func dropNotifyRequests(_ e: inout SubmissionErrors) {
        for i in e.failures.indices { e.failures[i].flags.remove(.notifySuccess) }
    }

    /// A clone's queue file: `qf` with the owner as sender, no M line, and
    /// `recipients` without NOTIFY=SUCCESS.
    func cloneControlFile(_ qf: QueueFile, owner: [UInt8], recipients: [QueueFile.Recipient]) -> QueueFile {
        var c = qf
        c.sender = owner
        c.message = nil
        // (measured: only NOTIFY=SUCCESS goes; FAILURE and DELAY stay)
        c.recipients = recipients.map { r in
            var r = r
            r.flags.remove(.notifySuccess)
            return r
        }
        return c
    }
}
