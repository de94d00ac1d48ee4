// SMEngine/MailLog.swift
//
// sendmail's syslog lines, through an injected sink (syslog(3) by default,
// ident "sendmail", LOG_PID, facility mail — the same framing sendmail's
// own lines get, so log parsers see no difference).  The LogLevel option
// decides what is written, as in sendmail: the from= line of a queued
// message above level 4, its to=... stat=queued lines above level 8; for
// each mailer call (queue runs and deliveries at submission) the line
// "to=..., ctladdr=..., delay=..., xdelay=..., mailer=..., pri=...,
// relay=..., dsn=..., stat=..." above level 7 (Sent), 8 (deferred) or 6
// (failed); "<id>: <bounce id>: DSN: <text>" when a bounce is queued,
// above level 5; "<id>: <clone id>: clone: owner=<owner>" for each list
// owner's envelope split off (above 4; its to=... stat=queued lines come
// before the original's); a refused recipient's error and to= line (dsn=,
// reply=; ctladdr= for an alias's member; in the SMTP session that
// received the message, a file's or F=o mailer's ctladdr= is the
// controlling address as RCPT gave it, brackets kept, as sendmail's
// in-memory q_paddr: noteSessionControl);
// a recipient a queue run's expansion found unknown: its to= line without
// xdelay=, with reply= (above level 6).
// Promises: never blocks delivery on logging; the default sink opens the
// log once and writes one datagram per line.

import Glibc
import SMBase
import SMRules
import SMConfig
import SMQueueFormat

/// What a delivery line (`to=..., ctladdr=..., delay=..., stat=...`)
/// says about the message: its queue ID, creation time, the priority
/// sendmail shows, and the sender as the controlling address when a
/// recipient has none of its own.
struct DeliveryLogContext {
    var id: [UInt8]
    var creationTime: Int64
    var priority: Int64
    /// "name (uid/gid)" of the sender, when it is one.
    var senderControl: String?
}

/// Where log lines go: tests and daemons inject their own.
public protocol MailLogSink: AnyObject {
    func log(priority: Int32, _ line: String)
}

/// syslog(3), as sendmail uses it.
public final class SyslogSink: MailLogSink {
    private var opened = false
    /// openlog keeps the pointer: the ident must outlive every call.  One
    /// for the process (every engine, a daemon's one per session, makes a
    /// sink: an ident of its own per sink was never freed, 9 bytes lost a
    /// connection).
    nonisolated(unsafe) private static let ident: UnsafeMutablePointer<CChar> = strdup("sendmail")
    public init() {}
    public func log(priority: Int32, _ line: String) {
        if !opened {
            openlog(Self.ident, LOG_PID, LOG_MAIL)
            opened = true
        }
        line.withCString { c in withVaList([c]) { vsyslog(priority, "%s", $0) } }
    }
}

extension Engine {
    /// The LogLevel option (sendmail's default is 9).
    var logLevel: Int { intOption("LogLevel", 9) }

    /// sendmail's delay format: [days+]HH:MM:SS.
    static func delayText(_ seconds: Int64) -> String { intervalText(seconds) }

    /// The lines sendmail logs when a message has been queued:
    /// "<id>: from=..., size=..., class=..., nrcpts=...[, msgid=...][, bodytype=...][, proto=...], relay=..."
    /// and one "to=..., delay=..., mailer=..., pri=..., stat=queued" per recipient.
    public func logQueued(id: [UInt8], sender: [UInt8], size: Int, precedence: Int, nrcpts: Int, msgid: [UInt8]?,
                   bodyType: [UInt8]?, relay: [UInt8]?, recipients: [Recipient], priority: Int64, delay: Int64,
                   proto: [UInt8]? = nil, daemon: [UInt8]? = nil,
                   clones: [(id: [UInt8], owner: [UInt8], recipients: [Recipient])] = []) {
        guard let sink = logSink, logLevel > 4 else { return }
        let qid = id.string
        var from = "\(qid): from=\(Array(sender.prefix(200)).string), size=\(size), class=\(precedence), nrcpts=\(nrcpts)"
        if let m = msgid { from += ", msgid=\(Array(m.prefix(100)).string)" }
        if let b = bodyType { from += ", bodytype=\(b.string)" }
        if let p = proto { from += ", proto=\(p.string)" }
        if let d = daemon { from += ", daemon=\(d.string)" }
        if let r = relay { from += ", relay=\(Array(r.prefix(100)).string)" }
        sink.log(priority: LOG_INFO, from)
        // the list owners' envelopes split off
        for c in clones { sink.log(priority: LOG_INFO, "\(qid): \(c.id.string): clone: owner=\(c.owner.string)") }
        // (delivered at once: the delivery lines say what became of them)
        let mode = deliveryMode
        guard logLevel > 8, mode != UInt8(ascii: "i"), mode != UInt8(ascii: "b") else { return }
        // the clones' (last split first), then the original's
        for (id, list) in clones.reversed().map({ ($0.id.string, $0.recipients) }) + [(qid, recipients)] {
            for r in list {
                let line = "\(id): to=\(r.printable.string), delay=\(Self.delayText(delay)), "
                    + "mailer=\(r.address.mailerName.string), pri=\(priority), stat=queued"
                sink.log(priority: LOG_INFO, line)
            }
        }
    }

    /// logdelivery(): one line for the recipients of one mailer call.
    func logDelivery(_ group: [QueuedRecipient], mailer m: Mailer, status: Int32, text: String,
                     context: DeliveryLogContext, started: time_t, relay: String? = nil, dsn given: String? = nil,
                     reply: String? = nil) {
        let temporary = DeliveryFormat.isTemporary(status)
        guard let sink = logSink, logLevel > (temporary ? 8 : status == 0 ? 7 : 6), let first = group.first else { return }
        let now = Int64(time(nil))
        let toList = DeliveryFormat.toList(group.map { $0.printable })
        var line = ""
        // the controlling address: a program has none; a file or an F=o
        // mailer the recipient's own (the qf's C line), the others the sender
        var own: String? = nil
        // (in the SMTP session that received it: the address as RCPT gave it)
        if let n = first.ctlName, let u = first.ctlUID {
            own = "\((sessionControlNames[n] ?? n).string) (\(u)/\(first.ctlGID ?? 0))"
        }
        var ctl: String?
        if m.name == Array("prog".utf8) {
            ctl = nil
        } else if m.name == Array("*file*".utf8) {
            ctl = own
        } else if m.has("o") {
            ctl = own ?? context.senderControl
        } else {
            ctl = context.senderControl
        }
        // (what this queue run expanded itself: the alias, as in memory)
        // (an SMTP session's -odb child, expanding what RCPT verified,
        // shows none for a program, as sendmail's)
        if let t = expandedControlText[first.index],
           (m.name == Array("prog".utf8) && !submissionDelivery) || m.name == Array("*file*".utf8) || m.has("o") {
            ctl = t
        }
        if let c = ctl { line += ", ctladdr=\(c)" }
        line += ", delay=\(Self.delayText(max(0, now - context.creationTime)))"
        line += ", xdelay=\(Self.delayText(max(0, now - Int64(started))))"
        line += ", mailer=\(m.name.string), pri=\(context.priority)"
        if let relay { line += ", relay=\(relay)" } else if let h = first.address.host, !h.isEmpty { line += ", relay=\(h.string)" }
        let dsn: String
        if let given {
            dsn = given
        } else if status == 0 {
            dsn = "2.0.0"
        } else if temporary {
            dsn = "4.0.0"
        } else {
            // giveresponse(): the enhanced code of the exit status's text
            // ("5.0.0 Service unavailable" for EX_UNAVAILABLE), not the DSN's
            // markfailure() status; an exit status outside sysexits: 5.3.0
            dsn = sysexitsText[status].map { String($0.prefix { $0 != " " }) } ?? "5.3.0"
        }
        line += ", dsn=\(dsn)"
        // an SMTP mailer's failure: the peer's reply
        if status != 0, let reply { line += ", reply=\(reply)" }
        // (a long text shortened in its middle, as sendmail's MAXSHORTSTR)
        let stat = status == 0 ? (text.isEmpty ? "Sent" : text) : text
        line += ", stat=\(stat.utf8.count >= 203 ? shortenString(Array(stat.utf8), 203).string : stat)"
        for l in Self.toLines(toList, rest: Array(line.utf8)) { sink.log(priority: LOG_INFO, "\(context.id.string): \(l.string)") }
    }

    /// logdelivery()'s to= lines: a list longer than the syslog buffer
    /// (1024) less 100 less the rest of the line is cut at its last comma
    /// before that length, "to=<part>, [more]<rest>", until what is left
    /// fits (and that is cut at the length if it has no comma in reach).
    static func toLines(_ to: [UInt8], rest: [UInt8]) -> [[UInt8]] {
        let limit = max(0, 1024 - 100 - rest.count)
        var lines: [[UInt8]] = []
        var p = to[...]
        while p.count >= limit {
            var q = p.startIndex + limit
            while q > p.startIndex && (q >= p.endIndex || p[q] != UInt8(ascii: ",")) { q -= 1 }
            if q == p.startIndex { break }
            lines.append(Array("to=".utf8) + p[...q] + Array(" [more]".utf8) + rest)
            p = p[(q + 1)...]
        }
        lines.append(Array("to=".utf8) + p.prefix(limit) + rest)
        return lines
    }

    /// A recipient a queue run's expansion failed with a reply (User
    /// unknown; a refused program or file logs nothing, as sendmail's):
    /// "to=, ctladdr=, delay=, mailer=, pri=, dsn=, reply=, stat=".
    func logExpansionFailure(id: [UInt8], _ f: SubmissionErrors.Failure, creationTime: Int64, priority: Int64) {
        guard let sink = logSink, logLevel > 6, !f.withoutReason else { return }
        var line = "\(id.string): to=\(f.printable.string)"
        if let c = f.logControl { line += ", ctladdr=\(c)" }
        line += ", delay=\(Self.delayText(max(0, Int64(time(nil)) - creationTime)))"
        line += ", mailer=\((f.mailerName ?? []).string), pri=\(priority), dsn=\(f.status.string)"
        line += ", reply=\(f.reply.string)"
        let (_, _, text) = stripReplyCode(f.reply.string)
        line += ", stat=\(text)"
        sink.log(priority: LOG_INFO, line)
    }

    /// The line of a queued bounce: "<id>: <bounce id>: DSN: <text>"
    /// ("postmaster notify" for a message from <>, "return to sender"
    /// when its sender cannot receive it).
    func logReturn(id: [UInt8], bounceID: [UInt8], notice: String, text: [UInt8]) {
        guard let sink = logSink, logLevel > 5 else { return }
        sink.log(priority: LOG_INFO, "\(id.string): \(bounceID.string): \(notice): \(text.string)")
    }
}

extension Engine {
    /// An SMTP session accepted recipients into `queue`: the printable
    /// form of each one's controlling address (getctladdr's, as
    /// controllingUser walks) noted under its C line name, for the
    /// ctladdr= of deliveries in this process.
    func noteSessionControl(_ queue: SendQueue) {
        for r in queue.entries where r.parent != nil {
            var q: Recipient? = r
            while let c = q {
                if c.state != .expanded, let m = c.address.mailer, m.has("w"), let pw = getpwnam(c.address.user.string) {
                    sessionControlNames[Array(String(cString: pw.pointee.pw_name).utf8)] = c.printable
                    break
                }
                if c.state == .expanded {
                    sessionControlNames[c.address.user] = c.printable
                    break
                }
                q = c.parent
            }
        }
    }
}
