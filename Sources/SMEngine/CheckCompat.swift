// SMEngine/CheckCompat.swift
//
// The check_compat ruleset, as sendmail's deliver() runs it for each
// recipient right before its mailer is called (in a queue run and at
// submission alike): the argument is `sender $| recipient` (the
// envelope sender and the recipient as written, comments removed).
//   - `$#error`: the rule's reply ("553 5.7.1 addr... text"; without
//     `$@` sendmail's 553 5.3.0) goes to the transcript (and is shown
//     where delivery errors are shown), then the recipient fails as with a
//     mailer's EX_DATAERR: "Data format error", DSN 5.5.2 whatever the
//     reply's code (a 4xx reply too, as measured against sendmail);
//   - `$#discard`: the recipient is dropped silently (done, no DSN);
//   - a temporary failure of the ruleset itself (a map that cannot be
//     reached) is ignored: whatever the rules made of it stands (measured:
//     sendmail delivers).
// Log lines: `ruleset=check_compat, arg1=<sender>, arg2=<recipient>,
// relay=<$_>, reject=<reply>` (or `discard`), then the failed
// recipient's to= line, without ctladdr=.
// Promises: no ruleset check_compat in the cf, or one that falls off
// its end, lets every recipient through untouched.

import Glibc
import SMBase
import SMRules
import SMConfig

extension Engine {
    /// Runs check_compat for `q` (once); true when it may be delivered.
    /// Otherwise its outcome is recorded (failed or discarded).
    func checkCompat(_ q: QueuedRecipient, mailer m: Mailer, sender: [UInt8], verbose: Bool,
                     outcome: inout DeliveryOutcome, log: DeliveryLogContext) -> Bool {
        if q.compatChecked { return true }
        q.compatChecked = true
        let rw = rewriter
        guard let rs = rw.rulesets.find(Array("check_compat".utf8)), rw.rulesets.hasRules(rs) else { return true }
        let started = time(nil)
        func tokens(_ s: [UInt8]) -> [[UInt8]]? {
            prescan(s, delim: 0, table: rw.tables.external, ignoreUnbalanced: false,
                    eightBitAddrOK: eightBitAddrOK, report: { _ in }).tokens
        }
        let saveTo = rw.currentAddress
        let saveReplies = rw.smtpReplies
        let saveError = rw.lastUserError
        defer { rw.currentAddress = saveTo; rw.smtpReplies = saveReplies; rw.lastUserError = saveError }
        rw.currentAddress = q.printable
        rw.smtpReplies = []
        var discard = false
        if var pvp = tokens(sender), let t2 = tokens(q.printable) {
            pvp += [[Meta.condElse]] + t2
            _ = rw.rewrite(&pvp, ruleset: rs)
            if pvp.count > 1, pvp[0] == [Meta.canonNet] {
                if pvp[1].asciiCaseEquals(Array("discard".utf8)) {
                    discard = true
                } else if pvp[1].asciiCaseEquals(Array("error".utf8)) {
                    _ = buildAddress(pvp, flags: [])
                }
            }
        }
        let replies = rw.smtpReplies ?? []
        rw.smtpReplies = saveReplies
        let head = "\(log.id.string): ruleset=check_compat, arg1=\(sender.string), arg2=\(q.printable.string), "
            + "relay=\((rw.macros[Int(UInt8(ascii: "_"))] ?? []).string), "
        // (the failure's to= line names no controlling address)
        var plain = log
        plain.senderControl = nil
        if let reply = replies.last {
            if logLevel > 3 { logSink?.log(priority: LOG_NOTICE, head + "reject=" + reply) }
            let show = (config.options["ErrorMode"]?.first ?? UInt8(ascii: "p")) == UInt8(ascii: "p") && !submissionDelivery
            for r in replies {
                if show { out.write(stripReplyCode(r).text + "\n") }
                outcome.transcript += Array((r + "\n").utf8)
            }
            // (its to= line: dsn=5.5.2, the DSN's status, not EX_DATAERR's text's)
            record(SysExit.dataErr.rawValue, "", group: [q], mailer: m, verbose: verbose, outcome: &outcome,
                   log: plain, started: started, dsn: "5.5.2")
            return false
        }
        if discard {
            if logLevel > 3 { logSink?.log(priority: LOG_NOTICE, head + "discard") }
            q.state = .sent
            return false
        }
        return true
    }
}
