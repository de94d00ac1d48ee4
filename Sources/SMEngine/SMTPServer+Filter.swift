// SMEngine/SMTPServer+Filter.swift
//
// The hook at each SMTP stage for content filters (the milters that come
// next): SMTPStageFilter is injected into a session (`filter`; the
// default, NoFilter, accepts everything and costs nothing).  At every
// stage the order is validate -> filter -> commit: the session's own
// checks and policy rulesets run first (a refusal there never reaches
// the filter), then the filter sees the stage, then the session commits
// it (greeting sent, HELO name kept, sender/recipient entered, 354 sent,
// message queued).  A filter's `.reject(reply)` is the client's reply
// and the stage is not committed; `.discard` (from MAIL on) lets the
// transaction go on and drops the message at its end with the usual 250,
// as `$#discard` does.
// Stages and where they are called (SMTPServer.swift, +Connection):
//   connect  after check_relay and greet_pause's wait is decided; a
//            rejection makes the session sendmail's null server with a
//            554 greeting (5xx) or ends it with the reply (4xx);
//   helo     after the argument is checked, before the 250;
//   mail     after check_mail and the size limit, before the sender is kept;
//   rcpt     after check_rcpt, before the recipient enters the envelope;
//   data     after check_data, before the 354;
//   header, eoh, body, eom   once the message is read and its policy
//            stages (header checks, check_eoh, check_eom) passed, before
//            the queue commit: each header field, the end of the header,
//            the body (one chunk), the end of the message;
//   abort    a transaction that had a MAIL ends without being committed
//            (RSET, HELO/EHLO, a refused message, QUIT, loss);
//   close    the session ends (QUIT, a 421, loss, timeout), once.
// Promises: no I/O here; the filter is called on the session's thread,
// one stage at a time, in protocol order.

import SMBase
import SMConfig
import SMRules
import SMSMTP

/// A filter's answer at one stage.
public enum StageVerdict: Sendable, Equatable {
    /// Go on: the session commits the stage.
    case proceed
    /// Refuse the stage with this reply (4xx or 5xx).
    case reject(SMTPReply)
    /// Accept, and drop the message at its end (from MAIL on).
    case discard
}

/// What a content filter sees of a session (see the file comment).  Every
/// method has a default that proceeds, so a filter implements only the
/// stages it cares about.
public protocol SMTPStageFilter: AnyObject {
    func connect(hostName: [UInt8], address: [UInt8], port: Int) -> StageVerdict
    func helo(_ domain: [UInt8]) -> StageVerdict
    func mail(_ sender: [UInt8], parameters: [[UInt8]]) -> StageVerdict
    func rcpt(_ recipient: [UInt8], parameters: [[UInt8]]) -> StageVerdict
    func data() -> StageVerdict
    func header(name: [UInt8], value: [UInt8]) -> StageVerdict
    func endOfHeaders() -> StageVerdict
    func body(_ chunk: [UInt8]) -> StageVerdict
    func endOfMessage() -> StageVerdict
    func abort()
    func close()
}

extension SMTPStageFilter {
    public func connect(hostName: [UInt8], address: [UInt8], port: Int) -> StageVerdict { .proceed }
    public func helo(_ domain: [UInt8]) -> StageVerdict { .proceed }
    public func mail(_ sender: [UInt8], parameters: [[UInt8]]) -> StageVerdict { .proceed }
    public func rcpt(_ recipient: [UInt8], parameters: [[UInt8]]) -> StageVerdict { .proceed }
    public func data() -> StageVerdict { .proceed }
    public func header(name: [UInt8], value: [UInt8]) -> StageVerdict { .proceed }
    public func endOfHeaders() -> StageVerdict { .proceed }
    public func body(_ chunk: [UInt8]) -> StageVerdict { .proceed }
    public func endOfMessage() -> StageVerdict { .proceed }
    public func abort() {}
    public func close() {}
}

/// The default: no filter.
public final class NoFilter: SMTPStageFilter {
    public init() {}
}

/// The session's filter bookkeeping (held by SMTPServer as `filterState`).
struct FilterState {
    /// A MAIL was committed and its transaction is not over.
    var inTransaction = false
    /// A stage said discard.
    var discard = false
    var closed = false
}

extension SMTPServer {
    /// The filter's verdict as a reply to send, or nil to commit
    /// (`.discard` is remembered for the end of the message).
    func filtered(_ v: StageVerdict) -> [UInt8]? {
        switch v {
        case .proceed: return nil
        case .discard:
            filterState.discard = true
            return nil
        case .reject(let r):
            noteError(String(decoding: r.encoded.dropLast(2), as: UTF8.self))
            return r.encoded
        }
    }

    /// The connect stage; nil to greet as usual.
    func filterConnect() -> (reply: [UInt8], close: Bool)? {
        let v = filter.connect(hostName: namedMacro("{client_name}"), address: namedMacro("{client_addr}"),
                               port: Int(namedMacro("{client_port}").string) ?? 0)
        guard case .reject(let r) = v else { return nil }
        if r.code < 500 { closeFilter(); return (r.encoded, true) }
        session.refuseConnection(SMTPReply(550, "5.0.0", "Command rejected"))
        greetPause = 0
        return (greeting(code: 554, text: [Meta.macroExpand, UInt8(ascii: "j")] + Array(" not accepting messages".utf8)), false)
    }

    /// The message stages (header, eoh, body, eom) on a message whose own
    /// checks passed; the refusal to send, or nil to commit.
    func filterMessage(_ msg: CollectedMessage) -> [UInt8]? {
        for f in msg.headerFields {
            guard let (name, raw) = HeaderInfo.split(f) else { continue }
            if let r = filtered(filter.header(name: name, value: raw)) { return r }
        }
        if let r = filtered(filter.endOfHeaders()) { return r }
        if let r = filtered(filter.body(msg.body)) { return r }
        return filtered(filter.endOfMessage())
    }

    /// The transaction ends uncommitted: `abort` (once).
    func abortFilter() {
        guard filterState.inTransaction else { return }
        filterState.inTransaction = false
        filterState.discard = false
        filter.abort()
    }

    /// The session ends: `abort` for an open transaction, then `close` (once).
    func closeFilter() {
        guard !filterState.closed else { return }
        abortFilter()
        filterState.closed = true
        filter.close()
    }
}
