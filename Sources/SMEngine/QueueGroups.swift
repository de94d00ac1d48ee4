// SMEngine/QueueGroups.swift
//
// Placing a queued message in queue groups (sendmail's
// split_across_queue_groups and split_within_queue): each recipient's
// group is what the `queuegroup` ruleset gives for its user part
// (`$# name`), else its mailer's Q=, else the default group
// (QueueDirectory).  A
// message whose recipients fall in several groups, or more than a group's
// r= per envelope, becomes several envelopes: the same qf apart from the
// R lines, each with its own df.  The default group's envelope (else the
// first group's) keeps the queue ID; the others get the next IDs of the
// same sequence, groups in the cf's order, recipients in queue order.
// Verified against sendmail 8.17 (QueueRunnerTests).  Used for command-line
// submissions: a message taken over SMTP in queue-only mode stays whole in
// the default group, as sendmail leaves it.  Differences: the data files
// are copies where sendmail hard-links them.
// Promises: all envelopes are committed or none is (a failure removes
// the ones already made).

import Glibc
import SMBase
import SMRules
import SMQueueFormat

extension Engine {
    /// The queue group a queued recipient belongs to (an index into
    /// queueGroupDirectories(); 0 is the default group).
    func queueGroupIndex(of address: [UInt8], groups: [(name: [UInt8], path: String)]) -> Int {
        let saved = rewriter.suppressErrors, quiet = rewriter.quietNotices
        rewriter.suppressErrors = true
        rewriter.quietNotices = true
        defer { rewriter.suppressErrors = saved; rewriter.quietNotices = quiet }
        guard let a = parseAddress(address, flags: [], isRecipient: true) else { return 0 }
        var name: [UInt8]? = nil
        if let rs = rewriter.rulesets.find(Array("queuegroup".utf8)), rewriter.rulesets.hasRules(rs) {
            let r = prescan(a.user, delim: 0, table: rewriter.tables.noComment, ignoreUnbalanced: false,
                            eightBitAddrOK: eightBitAddrOK, report: { _ in })
            if var pvp = r.tokens {
                rewriter.rewrite(&pvp, ruleset: rs)
                if pvp.count > 1, pvp[0] == [Meta.canonNet] { name = pvp[1] }
            }
        }
        guard let n = name ?? a.mailer?.queueGroup else { return 0 }
        return groups.firstIndex { $0.name.asciiCaseEquals(n) } ?? 0
    }

    /// The envelopes `qf` is queued as: (group directory, recipient
    /// indices), the one keeping the queue ID first.
    func queueGroupParts(_ qf: QueueFile) -> [(path: String, indices: [Int])] {
        let groups = queueGroupDirectories()
        if groups.count == 1 { return [(groups[0].path, Array(qf.recipients.indices))] }
        var byGroup: [Int: [Int]] = [:]
        for (i, r) in qf.recipients.enumerated() {
            byGroup[queueGroupIndex(of: r.address, groups: groups), default: []].append(i)
        }
        var parts: [(path: String, indices: [Int])] = []
        for g in byGroup.keys.sorted() {
            let members = byGroup[g]!
            var perEnvelope = 0
            if g > 0 || config.queueGroups.contains(where: { $0.name == Array("mqueue".utf8) }) {
                let def = config.queueGroups.first { $0.name.asciiCaseEquals(groups[g].name) }
                perEnvelope = def?.fields.last { $0.code == UInt8(ascii: "r") }.flatMap { Int($0.value.string) } ?? 0
            }
            var start = 0
            while start < members.count {
                let end = perEnvelope > 0 ? min(start + perEnvelope, members.count) : members.count
                parts.append((groups[g].path, Array(members[start..<end])))
                start = end
            }
        }
        return parts
    }

    /// Commits `qf` (body `data`) as the envelopes queueGroupParts()
    /// gives; the first keeps `id`, the others take `generator`'s next
    /// IDs.  Returns the failure of the first envelope that could not be
    /// committed (the others are removed again), or nil.
    func commitAcrossQueueGroups(_ qf: QueueFile, id: QueueID, data: [UInt8], mode: mode_t, now: time_t, pid: Int,
                                 generator: inout QueueIDGenerator) -> QueueCommitFailure? {
        let parts = queueGroupParts(qf)
        var made: [(QueueCommitter, [UInt8])] = []
        for (k, part) in parts.enumerated() {
            let pid8 = k == 0 ? id : assignQueueID(part.path, now: now, pid: pid, generator: &generator)
            var envelope = qf
            if part.indices != Array(qf.recipients.indices) { envelope.recipients = keepRecipients(qf, part.indices) }
            let committer = QueueCommitter(directory: part.path, fileMode: mode)
            if let failure = committer.commit(id: pid8.bytes, data: data, control: QueueFileWriter.encode(envelope)) {
                for (c, mid) in made.reversed() {
                    let sub = c.subdirectories
                    _ = unlink(QueueFileKind.control.path(in: Array(c.directory.utf8), id: mid, useSubdirectory: sub.qf).string)
                    _ = unlink(QueueFileKind.data.path(in: Array(c.directory.utf8), id: mid, useSubdirectory: sub.df).string)
                }
                return failure
            }
            made.append((committer, pid8.bytes))
        }
        return nil
    }
}
