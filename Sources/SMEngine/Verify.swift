// SMEngine/Verify.swift
//
// `sendmail -bv`: each argument is a comma-separated recipient list,
// expanded into the send queue as for a message (Recipients.swift:
// aliases, :include:, .forward, ruleset 5, the password file); every
// address that could be sent is then reported "deliverable", in queue
// order, envelope by envelope when lists with owners split it
// (OwnerSplit.swift).
// Promises: messages and exit status as sendmail's verify mode.

import Glibc
import SMBase
import SMRules
import SMConfig

extension Engine {
    /// Runs verify mode over the operands; returns the exit status.
    public func verify(_ operands: [[UInt8]]) -> SysExit {
        let rw = rewriter
        if operands.isEmpty {
            rw.currentAddress = nil
            rw.userError("Recipient names must be specified")
            return .usage
        }
        let queue = SendQueue()
        rw.lastUserError = nil
        for arg in operands {
            sendToList(arg, parent: nil, queue: queue, aliasLevel: 0)
        }
        // list owners split the envelope: the original's addresses come
        // first, then each owner's envelope, the last split first
        let splits = splitByOwner(queue, sender: options.realUserName)
        let cloned = Set(splits.flatMap { $0.members.map { ObjectIdentifier($0) } })
        let ordered = queue.entries.filter { !cloned.contains(ObjectIdentifier($0)) }
            + splits.reversed().flatMap { $0.members }
        for r in ordered where r.state.isSendable {
            rw.currentAddress = r.printable
            let a = r.address
            if let h = a.host, !h.isEmpty {
                rw.notice("deliverable: mailer \(a.mailerName.string), host \(h.string), user \(a.user.string)")
            } else {
                rw.notice("deliverable: mailer \(a.mailerName.string), user \(a.user.string)")
            }
            rw.currentAddress = nil
        }
        // an error message without a status of its own makes the run a usage error
        if rw.lastUserError != nil { rw.setStatus(.usage) }
        return exitStatus
    }

    /// Checks sendmail does after reading the cf outside test mode.
    public func postReadChecks() {
        if config.options["QueueDirectory"].map({ $0.isEmpty }) ?? true {
            rewriter.systemError("QueueDirectory (Q) option must be set")
            exitStatus = .config
        }
    }
}
