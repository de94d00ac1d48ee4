// SMEngine/Headers.swift
//
// The header list of a submitted message, as sendmail's chompheader and
// eatheader build it for the queue file:
//   1. every H line of the cf, in cf order, is a default (H_DEFAULT);
//   2. each header field of the message is appended in input order, and
//      removes a default of the same name unless the default is a forced
//      one (Received:, Return-Path:, ...: H_FORCE);
//   3. the defaults left are expanded ($a, $i, $t, $g, $x, $?x...) except
//      bind-late ones (Return-Path: keeps `$g` as 0201 'g'); a default
//      whose value expands to nothing is dropped (and returned, with its
//      place, for a delivery in the same process, which binds it again);
//      Resent-* defaults are kept only when the message has a Resent- header.
// Header fields from the message are stored as read (folding kept);
// address rewriting of header fields (rulesets 1/3, S=/R=) happens at
// delivery, not here.
// H lines whose value is `$>ruleset` are header checks
// (SMTPServer+Policy.swift), never added.
// Promises: pure over the configuration and the macro table it is given;
// the qf conditions are the H line's ?flags? letters or ?$x? / ?${name}?.

import SMBase
import SMRules
import SMConfig
import SMQueueFormat

public struct EnvelopeHeader: Sendable, Equatable {
    /// Bytes written between `H?` and `?`.
    public var condition: [UInt8]
    public var name: [UInt8]
    /// The value after the colon, leading blanks removed, folds kept.
    public var value: [UInt8]
    public var flags: HeaderFlags

    /// The queue file line's model.
    public var queueHeader: QueueFile.Header {
        QueueFile.Header(condition: condition, text: name + Array(": ".utf8) + value)
    }
}

public struct HeaderList: Sendable {
    /// A recipient header of the message's own other than Bcc: (the
    /// qf's EF_DELETE_BCC flag at submission).
    var hasVisibleRecipientHeader: Bool {
        headers.contains {
            !$0.flags.contains(.defaultValue) && $0.flags.contains(.recipient) && !$0.flags.contains(.bcc)
        }
    }

    public var headers: [EnvelopeHeader] = []

    /// The cf's H lines as defaults.
    public init(config: Configuration) {
        // H lines naming a check ruleset ($>name) are not headers
        for d in config.headers where !HeaderList.isCheck(d.value) {
            var cond = d.flags
            if let m = d.macroCondition {
                cond = m.count == 1 ? [UInt8(ascii: "$")] + m : Array("${".utf8) + m + [UInt8(ascii: "}")]
            }
            headers.append(EnvelopeHeader(condition: cond, name: d.name, value: d.value,
                                          flags: HeaderInfo.flags(for: d.name).union(.defaultValue)))
        }
    }

    /// Appends one header field of the message (sendmail's chompheader for
    /// a user header).
    public mutating func addMessageField(_ field: [UInt8]) {
        guard let (name, raw) = HeaderInfo.split(field) else { return }
        var v = raw[...]
        while let f = v.first, f == 0x20 || f == 0x09 { v = v.dropFirst() }
        let flags = HeaderInfo.flags(for: name)
        headers.removeAll { h in
            h.flags.contains(.defaultValue) && !h.flags.contains(.force) && h.name.asciiCaseEquals(name)
        }
        headers.append(EnvelopeHeader(condition: [], name: name, value: Array(v), flags: flags))
    }

    /// True when a message field (not a default) named `name` exists.
    public func hasMessageField(_ name: String) -> Bool {
        let n = Array(name.utf8)
        return headers.contains { !$0.flags.contains(.defaultValue) && $0.name.asciiCaseEquals(n) }
    }

    /// Message fields whose flags include any of `flags`, in order.
    public func messageFields(with flags: HeaderFlags) -> [EnvelopeHeader] {
        headers.filter { !$0.flags.contains(.defaultValue) && !$0.flags.isDisjoint(with: flags) }
    }

    /// eatheader: expands the defaults with `macros`.
    /// Returns the defaults left out because they expanded to nothing,
    /// each with the index it would have had: sendmail's in-memory
    /// envelope keeps them (unexpanded) and binds them again at a
    /// delivery in the same process.
    @discardableResult
    public mutating func expandDefaults(_ macros: MacroSource) -> [(Int, EnvelopeHeader)] {
        let resent = headers.contains { !$0.flags.contains(.defaultValue) && $0.flags.contains(.resent) }
        var out: [EnvelopeHeader] = []
        var dropped: [(Int, EnvelopeHeader)] = []
        for var h in headers {
            if h.flags.contains(.defaultValue) {
                if h.flags.contains(.resent) && !resent { continue }
                if !h.flags.contains(.bindLate) {
                    let unexpanded = h
                    h.value = expandMacros(h.value, macros)
                    if h.value.allSatisfy({ isASCIISpace($0) }) { dropped.append((out.count, unexpanded)); continue }
                }
            }
            out.append(h)
        }
        headers = out
        return dropped
    }
}
