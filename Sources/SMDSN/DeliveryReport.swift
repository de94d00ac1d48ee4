// SMDSN/DeliveryReport.swift
//
// The body of a delivery status notification as sendmail writes it when it
// returns mail (RFC 3462 multipart/report with an RFC 3464
// message/delivery-status part): the human-readable part (the warning
// banner for delay notices, "The original message was received at ...",
// the permanent / transient / successful address lists with their
// "(reason: ...)" and "(expanded from: ...)" lines, the transcript), the
// machine-readable part (per-message and per-recipient fields in
// sendmail's order), and the returned message or its header.  Without a
// MIME boundary the old plain-text layout is produced.
// Promises: pure; the caller supplies every value that depends on time,
// the host or the queue (dates are given already formatted, as sendmail's
// arpadate formats them); lines end with "\n"; the header of the returned
// message is given as the caller would write it (putheader), the body
// as it is in the df file.

import SMBase
import SMRules

public struct DeliveryReport: Sendable {
    /// One address of the original envelope, in queue order.
    public struct Recipient: Sendable {
        public enum Outcome: Sendable, Equatable {
            /// Permanent failure (QS_BADADDR).
            case failed
            /// Still queued; `notifyDelay` when a delay notice is due for it.
            case delayed
            case delivered(toList: Bool)
            case relayed
            case expanded
            /// Delivered in DELIVERBY notify mode (BY=...;N).
            case relayedDeliverBy
        }
        public var printable: [UInt8]              // q_paddr
        public var outcome: Outcome
        public var primary = true                  // QPRIMARY
        public var notifyFailure = true            // QPINGONFAILURE
        public var notifySuccess = false           // QPINGONSUCCESS
        public var hasNotify = false               // QHASNOTIFY (NOTIFY= given)
        public var reason: [UInt8]? = nil          // q_rstatus, for "(reason: ...)" and Diagnostic-Code
        public var expandedFrom: [UInt8]? = nil    // q_alias->q_paddr
        public var originalRecipient: [UInt8]? = nil // ORCPT
        public var finalRecipient: [UInt8]         // "rfc822; user@host"
        public var actualRecipient: [UInt8]? = nil // X-Actual-Recipient when it differs
        public var status: [UInt8]? = nil          // q_status
        public var remoteMTA: (type: [UInt8], host: [UInt8])? = nil
        public var diagnosticType: [UInt8] = Array("smtp".utf8)
        public var lastAttempt: [UInt8]            // formatted date
        public var willRetryUntil: [UInt8]? = nil  // formatted date, for delayed ones

        public init(printable: [UInt8], outcome: Outcome, finalRecipient: [UInt8], lastAttempt: [UInt8]) {
            self.printable = printable
            self.outcome = outcome
            self.finalRecipient = finalRecipient
            self.lastAttempt = lastAttempt
        }
    }

    public var boundary: [UInt8]?                  // nil: the old plain layout
    public var arrivalDate: [UInt8]                // formatted e_ctime of the original
    public var receivedFrom: [UInt8]               // $_ of the original
    public var postmasterNotice = false            // Subject starts "Postmaster "
    public var originalID: [UInt8]? = nil          // shown in postmaster copies
    public var fatalErrors = false                 // EF_FATALERRS|EF_SENDRECEIPT of the original
    public var errorMessageText: [UInt8]? = nil    // ErrorHeader text, already expanded
    public var transcript: [UInt8]? = nil          // the xf file; nil: unavailable
    public var envelopeID: [UInt8]? = nil          // ENVID, decoded
    public var reportingMTA: [UInt8]               // $j
    public var receivedFromMTA: (type: [UInt8], host: [UInt8])? = nil
    public var deliverByDate: [UInt8]? = nil
    public var recipients: [Recipient]
    /// The original message's header block as putheader writes it (each
    /// line ending in "\n"), nil when there was no df file.
    public var originalHeader: [UInt8]?
    public var originalBody: [UInt8]
    public var returnBody = true                   // not RET=HDRS
    /// Whether delayed recipients get the "transient non-fatal errors"
    /// list (sendmail's delay warnings from a queue run leave it out).
    public var listsDelayed = true
    /// Content-Transfer-Encoding for the returned message part ("8bit" for
    /// an 8-bit original, or the original's "binary").
    public var returnedEncoding: [UInt8]? = nil

    public init(boundary: [UInt8]?, arrivalDate: [UInt8], receivedFrom: [UInt8], reportingMTA: [UInt8],
                recipients: [Recipient], originalHeader: [UInt8]?, originalBody: [UInt8]) {
        self.boundary = boundary
        self.arrivalDate = arrivalDate
        self.receivedFrom = receivedFrom
        self.reportingMTA = reportingMTA
        self.recipients = recipients
        self.originalHeader = originalHeader
        self.originalBody = originalBody
    }

    /// The report body.
    public func body() -> [UInt8] {
        var o: [UInt8] = []
        func line(_ s: [UInt8]) { o += s; o.append(0x0A) }
        func line(_ s: String) { line(s.latin1Bytes) }
        func short(_ s: [UInt8]) -> [UInt8] { shortenString(s, 203) }

        if let b = boundary {
            line("This is a MIME-encapsulated message")
            line("")
            line(Array("--".utf8) + b)
            line("")
        }
        let anyFailed = recipients.contains { $0.outcome == .failed }
        if !postmasterNotice && !anyFailed && !fatalErrors {
            line("    **********************************************")
            line("    **      THIS IS A WARNING MESSAGE ONLY      **")
            line("    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **")
            line("    **********************************************")
            line("")
        }
        line(Array("The original message was received at ".utf8) + arrivalDate)
        line(Array("from ".utf8) + receivedFrom)
        if postmasterNotice, let id = originalID { line(Array("with id ".utf8) + id) }
        line("")
        if let text = errorMessageText {
            line(text)
            line("")
        }

        // permanent fatal errors
        var header = true
        for r in recipients where r.outcome == .failed && r.notifyFailure {
            if header { line("   ----- The following addresses had permanent fatal errors -----"); header = false }
            line(short(r.printable))
            if let why = r.reason { line(Array("    (reason: ".utf8) + short(Self.exitStatusText(why)) + [0x29]) }
            if let p = r.expandedFrom { line(Array("    (expanded from: ".utf8) + short(p) + [0x29]) }
        }
        if !header { line("") }

        // transient non-fatal errors
        header = true
        for r in recipients where r.outcome == .delayed && r.primary && listsDelayed {
            if header { line("   ----- The following addresses had transient non-fatal errors -----"); header = false }
            line(short(r.printable))
            if let p = r.expandedFrom { line(Array("    (expanded from: ".utf8) + short(p) + [0x29]) }
        }
        if !header { line("") }

        // successful delivery notifications
        header = true
        for r in recipients where r.outcome != .failed && r.outcome != .delayed && r.primary && r.notifySuccess {
            let what: String
            switch r.outcome {
            case .relayed: what = "relayed to non-DSN-aware mailer"
            case .delivered(let list): what = list ? "successfully delivered to mailing list" : "successfully delivered to mailbox"
            case .expanded: what = "expanded by alias"
            case .relayedDeliverBy: what = "Deliver-By notify: relayed"
            default: continue
            }
            if header { line("   ----- The following addresses had successful delivery notifications -----"); header = false }
            line(short(r.printable) + Array("  (\(what))".utf8))
            if let p = r.expandedFrom { line(Array("    (expanded from: ".utf8) + short(p) + [0x29]) }
        }
        if !header { line("") }

        // transcript
        if let t = transcript {
            if !t.isEmpty {
                line("   ----- Transcript of session follows -----")
                o += t
                if t.last != 0x0A { o.append(0x0A) }
            }
        } else {
            line("   ----- Transcript of session is unavailable -----")
        }

        // machine-readable part
        if let b = boundary {
            line("")
            line(Array("--".utf8) + b)
            line("Content-Type: message/delivery-status")
            line("")
            if let id = envelopeID { line(Array("Original-Envelope-Id: ".utf8) + id.prefix(800)) }
            line(Array("Reporting-MTA: dns; ".utf8) + reportingMTA.prefix(800))
            if let m = receivedFromMTA { line(Array("Received-From-MTA: ".utf8) + m.type + Array("; ".utf8) + m.host.prefix(800)) }
            line(Array("Arrival-Date: ".utf8) + arrivalDate)
            if let d = deliverByDate { line(Array("Deliver-By-Date: ".utf8) + d) }
            for r in recipients {
                let action: String
                switch r.outcome {
                case .failed:
                    if r.hasNotify && !r.notifyFailure { continue }
                    action = "failed"
                case _ where !r.primary: continue
                case .delivered(let list): action = list ? "delivered (to mailing list)" : "delivered (to mailbox)"
                case .relayed: action = "relayed (to non-DSN-aware mailer)"
                case .expanded: action = "expanded (to multi-recipient alias)"
                case .relayedDeliverBy: action = "relayed (Deliver-By notify mode)"
                case .delayed: action = "delayed"
                }
                line("")
                if let o = r.originalRecipient { line(Array("Original-Recipient: ".utf8) + o.prefix(800)) }
                line(Array("Final-Recipient: ".utf8) + r.finalRecipient)
                if let a = r.actualRecipient, a != r.finalRecipient { line(Array("X-Actual-Recipient: ".utf8) + a) }
                line("Action: \(action)")
                let status = r.status ?? Array((r.outcome == .failed ? "5.0.0" : (r.outcome == .delayed ? "4.0.0" : "2.0.0")).utf8)
                line(Array("Status: ".utf8) + status)
                if let m = r.remoteMTA {
                    var l = Array("Remote-MTA: ".utf8) + m.type + Array("; ".utf8) + m.host.prefix(800)
                    if l.last == UInt8(ascii: ".") { l.removeLast() }
                    line(l)
                }
                if let why = r.reason { line(Array("Diagnostic-Code: ".utf8) + r.diagnosticType + Array("; ".utf8) + why.prefix(800)) }
                line(Array("Last-Attempt-Date: ".utf8) + r.lastAttempt)
                if r.outcome == .delayed, let until = r.willRetryUntil { line(Array("Will-Retry-Until: ".utf8) + until) }
            }
        }

        // the original message
        line("")
        if let hdr = originalHeader {
            if let b = boundary {
                line(Array("--".utf8) + b)
                line(returnBody ? "Content-Type: message/rfc822" : "Content-Type: text/rfc822-headers")
                if let enc = returnedEncoding { line(Array("Content-Transfer-Encoding: ".utf8) + enc) }
            } else {
                line(returnBody ? "   ----- Original message follows -----" : "   ----- Message header follows -----")
            }
            line("")
            o += hdr
            if returnBody {
                line("")
                o += originalBody
                if !originalBody.isEmpty && originalBody.last != 0x0A { o.append(0x0A) }
            } else if boundary == nil {
                line("")
                line("   ----- Message body suppressed -----")
            }
        } else if boundary == nil {
            line("  ----- No message was collected -----")
        }
        if let b = boundary {
            line("")
            line(Array("--".utf8) + b + Array("--".utf8))
        }
        line("")
        return o
    }

    /// sendmail's exitstat(): a bare sysexits number in a status text is
    /// shown as its message ("67" -> "User unknown"); others as they are.
    static func exitStatusText(_ s: [UInt8]) -> [UInt8] {
        guard !s.isEmpty, s.count <= 3, s.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let n = Int(String(decoding: s, as: UTF8.self)), n >= 64, n - 64 < sysexitsMessages.count else { return s }
        return Array(sysexitsMessages[n - 64].utf8)
    }

    /// The sysexits messages, EX_USAGE (64) to EX_CONFIG (78).
    static let sysexitsMessages = [
        "Command line usage error", "Data format error", "Cannot open input", "User unknown", "Host unknown",
        "Service unavailable", "Internal error", "Operating system error", "System file missing",
        "Can't create output", "I/O error", "Deferred", "Remote protocol error", "Insufficient permission",
        "Local configuration error",
    ]
}
