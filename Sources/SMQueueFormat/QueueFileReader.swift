// SMQueueFormat/QueueFileReader.swift
//
// Reads a control file the way sendmail's readqf() does, incrementally:
// feed it chunks of any size, then call `finish()`.  Records are lines;
// a line starting with SP or TAB continues the previous record (the
// "\n" is kept in the value); CR LF counts as LF.  Line numbers in errors
// count every LF consumed so far, as sendmail's LineNumber does.
// Record letters: V T K N P d I B q M F $ S Z A ! C Q r R H . and the
// obsolete D E L (ignored).  Anything else is a `bad line`; anything
// after `.` is a SECURITY ALERT.
// Promises: pure (bytes in, model or error out); never traps on any
// input; the result does not depend on how the input was chunked; after
// an error every later call rethrows the same error.

import SMBase

public struct QueueFileReader: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0
    private var scan = 0
    private var linesConsumed = 0
    private var failure: QueueFileError?
    private var state = State()

    public init() {}

    /// Decodes a complete file.
    public static func decode(_ bytes: [UInt8]) throws(QueueFileError) -> QueueFile {
        var r = QueueFileReader()
        try r.feed(bytes)
        return try r.finish()
    }

    /// Adds bytes; processes every record that is known to be complete.
    public mutating func feed(_ chunk: [UInt8]) throws(QueueFileError) {
        if let f = failure { throw f }
        buffer += chunk
        while let nl = buffer[scan...].firstIndex(of: 0x0A) {
            guard nl + 1 < buffer.count else { scan = nl; break }
            let next = buffer[nl + 1]
            if next == 0x20 || next == 0x09 { scan = nl + 1; continue }
            try take(upTo: nl, consumed: nl + 1)
        }
        if scan < start { scan = start }
        if start > 65_536 {
            buffer.removeFirst(start)
            scan -= start
            start = 0
        }
    }

    /// Ends the input and returns the model.
    public mutating func finish() throws(QueueFileError) -> QueueFile {
        if let f = failure { throw f }
        if start < buffer.count {
            let end = buffer.last == 0x0A ? buffer.count - 1 : buffer.count
            try take(upTo: end, consumed: buffer.count)
        }
        if linesConsumed == 0 { try fail(.empty) }
        if !state.nomore { try fail(.incomplete) }
        return state.file
    }

    private mutating func fail(_ e: QueueFileError) throws(QueueFileError) -> Never {
        failure = e
        throw e
    }

    /// Processes buffer[start..<end] as one record; `consumed` is where
    /// the next record starts.
    private mutating func take(upTo end: Int, consumed: Int) throws(QueueFileError) {
        var rec: [UInt8] = []
        // (a record without CR, nearly every one, is copied whole; its
        // continuation lines are counted in the same pass)
        var hasCR = false, newlines = 0
        let first = start
        buffer.withUnsafeBufferPointer { b in
            for i in first..<end {
                let c = b[i]
                if c == 0x0A { newlines += 1 } else if c == 0x0D { hasCR = true }
            }
        }
        if !hasCR {
            rec = Array(buffer[start..<end])
            linesConsumed += newlines
        } else {
            rec.reserveCapacity(end - start)
            var i = start
            while i < end {
                let b = buffer[i]
                if b == 0x0D, i + 1 < consumed, buffer[i + 1] == 0x0A {
                    i += 1
                    continue
                }
                if b == 0x0A { linesConsumed += 1 }
                rec.append(b)
                i += 1
            }
        }
        if end < consumed { linesConsumed += 1 }
        start = consumed
        scan = consumed
        do throws(QueueFileError) {
            try state.process(rec, lineNumber: linesConsumed)
        } catch {
            try fail(error)
        }
    }
}

extension QueueFileReader {
    /// What readqf() keeps between lines.
    struct State: Sendable {
        var file = QueueFile()
        var nomore = false
        var sawSender = false
        var sawLaterEnvelopeLine = false
        var pending = QueueFile.Recipient(address: [])

        mutating func process(_ rec: [UInt8], lineNumber: Int) throws(QueueFileError) {
            if nomore { throw .bogusData(line: rec) }
            let body = Array(rec.dropFirst())
            switch rec.first {
            case 0x41?: // A
                guard isXtext(body) else { throw .bogusData(line: rec) }
                file.authParameter = body
            case 0x42?: // B
                guard Self.bodyTypeOK(body) else { throw .bogusData(line: rec) }
                file.bodyType = body
            case 0x43?: // C
                pending.controlLine = body.isEmpty ? .reset : .user(.init(raw: body))
            case 0x44?, 0x45?, 0x4C?: // D E L: obsolete, ignored
                break
            case 0x64?: // d
                file.dataDirectory = body
            case 0x46?: // F
                if rec.hasPrefix(Array("From ".utf8)) { throw .bogusFromLine(line: rec) }
                for c in body {
                    if let f = EnvelopeFlags.letters.first(where: { $0.1 == c }) { file.flags.insert(f.0) }
                }
                sawLaterEnvelopeLine = true
            case 0x71?: // q
                file.quarantineReason = body
                file.quarantineLinePlacement = sawLaterEnvelopeLine ? .beforeSender : .afterBodyType
            case 0x48?: // H
                file.headers.append(Self.header(body))
            case 0x49?: // I
                file.dataInode = Self.inode(body)
            case 0x4B?: file.lastAttempt = Self.atol(body)  // K
            case 0x4E?: file.attempts = Int(truncatingIfNeeded: Self.atol(body))  // N
            case 0x50?: file.priority = Self.atol(body)  // P
            case 0x54?: file.creationTime = Self.atol(body)  // T
            case 0x4D?: // M
                if sawSender { pending.message = body } else { file.message = body; sawLaterEnvelopeLine = true }
            case 0x51?: pending.originalRecipient = body  // Q
            case 0x72?: pending.finalRecipient = body  // r
            case 0x52?: // R
                recipient(body)
            case 0x53?: // S
                file.sender = body
                sawSender = true
            case 0x56?: // V
                let v = Int(truncatingIfNeeded: Self.atol(body))
                if v > QueueFile.currentVersion { throw .unsupportedVersion(v) }
                file.version = v
            case 0x5A?: file.envelopeID = body  // Z
            case 0x21?: // !
                let flag = body.first ?? 0
                let t = body.count > 2 ? Self.atol(Array(body[2...])) : 0
                file.deliverBy = .init(flag: flag, time: t)
            case 0x24?: // $
                if let m = Self.macro(body) { file.macros.append(m) }
                sawLaterEnvelopeLine = true
            case 0x2E?: // .
                nomore = true
            default:
                throw .badLine(lineNumber: lineNumber, line: rec)
            }
        }

        /// An `R` line: flags up to the colon, then the address.  Without
        /// a colon sendmail parses no address and drops the line.
        mutating func recipient(_ body: [UInt8]) {
            defer { pending = QueueFile.Recipient(address: []) }
            guard let colon = body.firstIndex(of: 0x3A) else { return }
            var r = pending
            r.flags = []
            r.unknownFlagLetters = []
            for c in body[..<colon] {
                if let f = RecipientFlags.letters.first(where: { $0.1 == c }) { r.flags.insert(f.0) } else { r.unknownFlagLetters.append(c) }
            }
            r.address = Array(body[(colon + 1)...])
            file.recipients.append(r)
        }

        static func header(_ body: [UInt8]) -> QueueFile.Header {
            if body.first == 0x3F, let close = body.dropFirst().firstIndex(of: 0x3F) {
                return .init(condition: Array(body[1..<close]), text: Array(body[(close + 1)...]))
            }
            return .init(condition: nil, text: body)
        }

        /// `$x value` or `${name}value`; nil where macid_parse() gives 0.
        static func macro(_ body: [UInt8]) -> QueueFile.Macro? {
            guard let first = body.first, first != 0x0A else { return nil }
            if first == 0x7B {
                guard let close = body.firstIndex(of: 0x7D), close > 1 else { return nil }
                return .init(name: Array(body[1..<close]), value: Array(body[(close + 1)...]))
            }
            return .init(name: [first], value: Array(body.dropFirst()))
        }

        static func inode(_ b: [UInt8]) -> QueueFile.DataInode? {
            let parts = b.split(separator: 0x2F, omittingEmptySubsequences: false)
            guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isASCIIDigit) }),
                  let maj = Int64(String(decoding: parts[0], as: UTF8.self)),
                  let min = Int64(String(decoding: parts[1], as: UTF8.self)),
                  let ino = UInt64(String(decoding: parts[2], as: UTF8.self)) else { return nil }
            return .init(major: maj, minor: min, inode: ino)
        }

        /// C's atol(): optional space and sign, then digits; 0 if none;
        /// saturates instead of overflowing.
        static func atol(_ s: [UInt8]) -> Int64 {
            var i = 0, neg = false
            var v: Int64 = 0
            while i < s.count, isASCIISpace(s[i]) { i += 1 }
            if i < s.count, s[i] == 0x2B || s[i] == 0x2D { neg = s[i] == 0x2D; i += 1 }
            while i < s.count, isASCIIDigit(s[i]) {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(s[i] - 0x30))
                if o1 || o2 { return neg ? Int64.min : Int64.max }
                v = a
                i += 1
            }
            return neg ? -v : v
        }

        /// check_bodytype(): `7BIT` or `8BITMIME`, any case.
        static func bodyTypeOK(_ s: [UInt8]) -> Bool {
            s.asciiCaseEquals(Array("7BIT".utf8)) || s.asciiCaseEquals(Array("8BITMIME".utf8))
        }
    }
}
