// SMEngine/MailLog.swift
//
// sendmail's syslog lines, through an injected sink (syslog(3) by default,
// ident "sendmail", LOG_PID, facility mail — the same framing sendmail's
// own lines get, so log parsers see no difference).  The LogLevel option
// decides what is written, as in sendmail: the from= line of a queued
// message above level 4, its to=... stat=queued lines above level 8.
// Promises: never blocks delivery on logging; the default sink opens the
// log once and writes one datagram per line.

import Glibc
import SMBase
import SMQueueFormat

/// Where log lines go: tests and daemons inject their own.
public protocol MailLogSink: AnyObject {
    func log(priority: Int32, _ line: String)
}

/// syslog(3), as sendmail uses it.
public final class SyslogSink: MailLogSink {
    private var opened = false
    /// openlog keeps the pointer: the ident must outlive every call.
    private let ident: UnsafeMutablePointer<CChar> = strdup("sendmail")
    public init() {}
    public func log(priority: Int32, _ line: String) {
        if !opened {
            openlog(ident, LOG_PID, LOG_MAIL)
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
                   proto: [UInt8]? = nil, daemon: [UInt8]? = nil) {
        guard let sink = logSink, logLevel > 4 else { return }
        let qid = id.string
        var from = "\(qid): from=\(Array(sender.prefix(200)).string), size=\(size), class=\(precedence), nrcpts=\(nrcpts)"
        if let m = msgid { from += ", msgid=\(Array(m.prefix(100)).string)" }
        if let b = bodyType { from += ", bodytype=\(b.string)" }
        if let p = proto { from += ", proto=\(p.string)" }
        if let d = daemon { from += ", daemon=\(d.string)" }
        if let r = relay { from += ", relay=\(Array(r.prefix(100)).string)" }
        sink.log(priority: LOG_INFO, from)
        guard logLevel > 8 else { return }
        for r in recipients {
            let line = "\(qid): to=\(r.printable.string), delay=\(Self.delayText(delay)), "
                + "mailer=\(r.address.mailerName.string), pri=\(priority), stat=queued"
            sink.log(priority: LOG_INFO, line)
        }
    }
}
