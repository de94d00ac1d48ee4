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
// For queue runs: each group's run parameters (QueueGroupRun: R=, F=f, N=,
// I=, MaxRunnersPerQueue and NiceQueueRun as defaults) and sendmail's
// makeworkgroups() packing of the groups into work groups under
// MaxQueueChildren (QueueRun.swift runs them).
// Promises: all envelopes are committed or none is (a failure removes
// the ones already made).

import Glibc
import SMBase
import SMRules
import SMQueueFormat
import SMConfig

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

/// A queue group as queue runs use it (sendmail's QUEUEGRP): R= runners
/// (else MaxRunnersPerQueue, else 1; the default group without a Q line:
/// MaxRunnersPerQueue as it is), F=f (runners are forked), N= (else
/// NiceQueueRun) and I= (seconds; 0: the runner's own interval).
struct QueueGroupRun: Equatable {
    var name: [UInt8]
    var path: String
    var runners: Int
    var forks: Bool
    var nice: Int
    var interval: Int
}

/// sendmail's work group: queue groups run by one process one after the
/// other, at most `maxActive` runners counted against MaxQueueChildren.
struct WorkGroup: Equatable {
    var members: [Int] = []
    var maxActive = 0
    var lowInterval = 0
}

extension Engine {
    /// An option's value as atoi() reads it.
    func atoiOption(_ name: String, _ otherwise: Int) -> Int {
        guard let v = config.options[name] else { return otherwise }
        return CfReader.leadingInt(v)
    }

    /// The queue groups in queueGroupDirectories() order with their run
    /// parameters.
    func queueGroupRuns() -> [QueueGroupRun] {
        let perQueue = atoiOption("MaxRunnersPerQueue", 1)
        let niceDefault = atoiOption("NiceQueueRun", 0)
        return queueGroupDirectories().map { g in
            guard let def = config.queueGroups.last(where: { $0.name == g.name }) else {
                return QueueGroupRun(name: g.name, path: g.path, runners: perQueue, forks: false, nice: niceDefault, interval: 0)
            }
            func field(_ c: Character) -> [UInt8]? { def.fields.last { $0.code == UInt8(ascii: c.unicodeScalars.first!) }?.value }
            let runners = field("R").map { CfReader.leadingInt($0) } ?? (perQueue > 0 ? perQueue : 1)
            let forks = def.fields.contains { $0.code == UInt8(ascii: "F") && $0.value.contains(UInt8(ascii: "f")) }
            let nice = field("N").map { CfReader.leadingInt($0) } ?? niceDefault
            let interval = field("I").map { Engine.convtime($0, defaultUnit: UInt8(ascii: "m")) } ?? 0
            return QueueGroupRun(name: g.name, path: g.path, runners: runners, forks: forks, nice: nice, interval: interval)
        }
    }

    /// Each queue group's own interval (I=, seconds; 0: none), for a
    /// periodic runner's schedule (QueueRunSchedule).
    public func queueGroupIntervals() -> [(name: [UInt8], seconds: Int)] {
        queueGroupRuns().map { ($0.name, $0.interval) }
    }

    /// sendmail's makeworkgroups(): with only the default group, one work
    /// group; else the groups by runners, most first (stable), as many
    /// work groups as fit in MaxQueueChildren (at least 1, at most 50),
    /// filled to and fro; a work group's first group sets its maxActive
    /// (its runners cut to MaxQueueChildren).  `groups` get those cuts.
    func workGroups(_ groups: inout [QueueGroupRun]) -> [WorkGroup] {
        let most = atoiOption("MaxQueueChildren", 0)
        if groups.count == 1 && groups[0].name == Array("mqueue".utf8) {
            if most > 0 && groups[0].runners > most { groups[0].runners = most }
            return [WorkGroup(members: [0], maxActive: groups[0].runners, lowInterval: groups[0].interval)]
        }
        let order = groups.indices.enumerated().sorted {
            groups[$0.element].runners != groups[$1.element].runners
                ? groups[$0.element].runners > groups[$1.element].runners : $0.offset < $1.offset
        }.map { $0.element }
        var count = 0, total = 0
        for h in order {
            total += groups[h].runners
            if most <= 0 || total <= most { count += 1 } else { break }
        }
        count = min(max(count, 1), 50)
        var work = [WorkGroup](repeating: WorkGroup(), count: count)
        var j = 0, step = 1
        for h in order {
            if j >= count { step = -1; j = count - 1 } else if j < 0 { j = 0; step = 1 }
            work[j].members.append(h)
            if work[j].maxActive == 0 {
                if most > 0 && groups[h].runners > most { groups[h].runners = most }
                work[j].maxActive = groups[h].runners
            }
            // (sendmail keeps the largest, though it calls it the lowest)
            if groups[h].interval > 0 && work[j].lowInterval < groups[h].interval { work[j].lowInterval = groups[h].interval }
            j += step
        }
        return work
    }
}
