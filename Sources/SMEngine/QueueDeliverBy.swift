// SMEngine/QueueDeliverBy.swift
//
// What a delivery attempt does with a DELIVERBY deadline (the qf `!`
// line, RFC 2852), as sendmail 8.17 does it: a message in return mode
// (R) whose creation time plus its BY= seconds has passed is not
// delivered at all: every recipient still to be sent fails with DSN
// status 5.4.7 (one -v line "<address>... delivery time expired Ns",
// with the last one's address, as sendmail shows it), the
// transcript of the bounce says "Delivery time (Ns) expired" and
// "Message will be deleted from queue", and the DSN's per-message part
// has a Deliver-By-Date: (creation time + BY=) as every DSN of a message
// with a deadline has (deliverByDate).
// In notify mode (N), whatever the deadline, every recipient delivered
// is reported back in a return receipt: "relayed (Deliver-By notify
// mode)", 2.0.0 (noteDeliverByNotify).
// A recipient relayed with BY= to a DELIVERBY peer (SMTPDelivery.swift)
// gets no receipt.
// Not done: the log lines of an expiry.
// Promises: no I/O beyond the -v line; marks the send list only.

import Glibc
import SMBase
import SMQueueFormat

extension Engine {
    /// The deadline of a return-mode (R) message once it has passed.
    func expiredReturnDeadline(_ qf: QueueFile, now: time_t) -> Int64? {
        guard let by = qf.deliverBy, by.flag & 0x02 != 0, by.time > 0,
              Int64(now) > qf.creationTime + by.time else { return nil }
        return by.time
    }

    /// Before any mailer runs: an R message past its deadline fails for
    /// every pending recipient (5.4.7) and says so in the transcript.
    func expireDeliverBy(_ qf: QueueFile, list: [QueuedRecipient], now: time_t, verbose: Bool,
                         outcome: inout DeliveryOutcome) {
        guard let seconds = expiredReturnDeadline(qf, now: now) else { return }
        var last: QueuedRecipient? = nil
        for q in list where q.state == .pending {
            q.state = .failed
            var f = FailedRecipient(index: q.index, status: Array("5.4.7".utf8), user: q.address.user)
            f.expandedFrom = q.expandedFrom
            f.addrType = q.address.mailer?.addrType
            q.report = f
            last = q
        }
        guard let last else { return }
        // one -v line, named after the last one marked (as sendmail's e_to)
        if verbose { out.write("\(last.printable.string)... delivery time expired \(seconds)s\n") }
        let text = "Delivery time (\(seconds)s) expired"
        outcome.message = Array(text.utf8)
        outcome.messageIsDeferral = false
        outcome.transcript += Array("\(text)\nMessage will be deleted from queue\n".utf8)
    }

    /// Notify mode (N): each recipient sent in this attempt is reported
    /// to the sender as "relayed (Deliver-By notify mode)", 2.0.0, with
    /// "<address>... Deliver-by notify: relayed" in the transcript, as
    /// sendmail does whatever the deadline (its NOTIFY=SUCCESS receipt,
    /// if any, gives way to it).
    func noteDeliverByNotify(_ qf: QueueFile, list: [QueuedRecipient], outcome: inout DeliveryOutcome) {
        guard let by = qf.deliverBy, by.flag & 0x01 != 0 else { return }
        for q in list where q.state == .sent && !q.deliverByPassedOn {
            var f = FailedRecipient(index: q.index, status: Array("2.0.0".utf8), user: q.address.user,
                                    success: true, toMailbox: false)
            f.deliverByNotify = true
            // (relayed over SMTP: the RCPT reply's status, text and peer)
            if let r = q.relayedBy {
                f.status = r.status
                f.diagnostic = r.diagnostic
                f.remoteMTA = r.remoteMTA
            }
            f.expandedFrom = q.expandedFrom
            f.addrType = q.address.mailer?.addrType
            q.report = f
            outcome.transcript += q.printable + Array("... Deliver-by notify: relayed\n".utf8)
        }
    }

    /// The DSN's Deliver-By-Date: for a message with a deadline.
    func deliverByDate(_ qf: QueueFile) -> [UInt8]? {
        guard let by = qf.deliverBy, by.flag != 0 else { return nil }
        return arpaDate(time_t(qf.creationTime + by.time))
    }
}
