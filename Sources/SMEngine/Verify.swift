// SMEngine/Verify.swift
//
// `sendmail -bv`: each argument is a comma-separated recipient list; every
// address is parsed as a recipient, checked as sendmail's recipient()
// checks a command-line address (no programs, files or :include: given
// directly; local users with F=w must exist), duplicates dropped, and
// every surviving address is reported "deliverable" at the end, in queue
// order.  Alias and .forward expansion belong to the delivery core and
// are not done here yet.
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
        var queue: [ParsedAddress] = []
        for arg in operands {
            var pos = 0
            let list = arg
            while pos < list.count {
                // skip the separators between list members
                while pos < list.count, list[pos] == UInt8(ascii: ",") || isASCIISpace(list[pos]) { pos += 1 }
                if pos >= list.count { break }
                let scan = prescan(list, from: pos, delim: UInt8(ascii: ","), table: rw.tables.external,
                                   ignoreUnbalanced: true, report: { _ in })
                var end = scan.end
                if end <= pos { end = pos + 1 }
                var one = Array(list[pos..<min(end, list.count)])
                while let l = one.last, isASCIISpace(l) { one.removeLast() }
                pos = end
                if one.isEmpty { continue }
                guard var a = parseAddress(one, flags: [], isRecipient: true) else { continue }
                if !a.badAddress {
                    rw.currentAddress = one
                    if a.mailerName == Array("prog".utf8) {
                        rw.userError("550 5.7.1 Cannot mail directly to programs")
                        a.badAddress = true
                    } else if a.mailerName == Array("*file*".utf8) {
                        rw.userError("550 5.7.1 Cannot mail directly to files")
                        a.badAddress = true
                    } else if a.mailerName == Array("*include*".utf8) {
                        rw.userError("550 5.7.1 Cannot mail directly to :include:s")
                        a.badAddress = true
                    }
                    rw.currentAddress = nil
                }
                if a.badAddress { continue }
                if !a.isError, queue.contains(where: { $0.mailerName == a.mailerName && $0.user == a.user && $0.host == a.host }) {
                    continue
                }
                if let m = a.mailer, m.has("w"), !a.queueUp {
                    if getpwnam(a.user.string) == nil {
                        rw.currentAddress = one
                        rw.userError("550 5.1.1 User unknown")
                        rw.setStatus(.noUser)
                        rw.currentAddress = nil
                        a.badAddress = true
                    }
                }
                queue.append(a)
            }
        }
        for a in queue where !a.badAddress {
            rw.currentAddress = a.printable
            if let h = a.host, !h.isEmpty {
                rw.notice("deliverable: mailer \(a.mailerName.string), host \(h.string), user \(a.user.string)")
            } else {
                rw.notice("deliverable: mailer \(a.mailerName.string), user \(a.user.string)")
            }
            rw.currentAddress = nil
        }
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
