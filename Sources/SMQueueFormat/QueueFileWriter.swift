// SMQueueFormat/QueueFileWriter.swift
//
// Writes a `QueueFile` as the bytes sendmail's queueup() produces:
//   V T K N P [d] [I] [B] [q] [M] [F] $... S [Z] [A] [!]
//   per recipient: [M] [C] [Q] [r] R
//   H... .
// Values pass through the same newline cleaning as sendmail's
// denlstring(): in envelope and recipient lines every CR or LF becomes a
// space; in headers a LF not followed by SP or TAB becomes a space (folds
// are kept), so that what is written always reads back as one record.
// Promises: pure; never fails; output ends with ".\n"; for a model that
// `QueueFileReader` produced from sendmail's bytes, gives those bytes.

import SMBase

public enum QueueFileWriter {
    /// The complete control file.
    public static func encode(_ qf: QueueFile) -> [UInt8] {
        var o: [UInt8] = []
        o.reserveCapacity(1024)
        func line(_ letter: UInt8, _ value: [UInt8]) {
            o.append(letter); o += flatten(value); o.append(0x0A)
        }
        func number(_ letter: UInt8, _ v: some BinaryInteger) { line(letter, Array(String(v).utf8)) }

        number(0x56, qf.version)            // V
        number(0x54, qf.creationTime)       // T
        number(0x4B, qf.lastAttempt)        // K
        number(0x4E, qf.attempts)           // N
        number(0x50, qf.priority)           // P
        if let d = qf.dataDirectory { line(0x64, d) }
        if let i = qf.dataInode { line(0x49, Array("\(i.major)/\(i.minor)/\(i.inode)".utf8)) }
        if let b = qf.bodyType { line(0x42, b) }
        if let q = qf.quarantineReason, qf.quarantineLinePlacement == .afterBodyType { line(0x71, q) }
        if let m = qf.message { line(0x4D, m) }
        let f = flagLetters(qf.flags)
        if !f.isEmpty { line(0x46, f) }
        for m in qf.macros { line(0x24, macroName(m.name) + m.value) }
        if let q = qf.quarantineReason, qf.quarantineLinePlacement == .beforeSender { line(0x71, q) }
        line(0x53, qf.sender)
        if let z = qf.envelopeID { line(0x5A, z) }
        if let a = qf.authParameter { line(0x41, a) }
        if let by = qf.deliverBy { line(0x21, [by.flag, 0x20] + Array(String(by.time).utf8)) }
        for r in qf.recipients { encodeRecipient(r, into: &o) }
        for h in qf.headers { encodeHeader(h, into: &o) }
        o += [0x2E, 0x0A]
        return o
    }

    static func encodeRecipient(_ r: QueueFile.Recipient, into o: inout [UInt8]) {
        if let m = r.message { o.append(0x4D); o += flatten(m); o.append(0x0A) }
        switch r.controlLine {
        case nil: break
        case .reset?: o += [0x43, 0x0A]
        case .user(let u)?: o.append(0x43); o += flatten(u.raw); o.append(0x0A)
        }
        if let q = r.originalRecipient { o.append(0x51); o += flatten(q); o.append(0x0A) }
        if let fr = r.finalRecipient { o.append(0x72); o += flatten(fr); o.append(0x0A) }
        o.append(0x52)
        for (flag, letter) in RecipientFlags.letters where r.flags.contains(flag) { o.append(letter) }
        o += r.unknownFlagLetters.filter { $0 != 0x3A && $0 != 0x0A && $0 != 0x0D }
        o.append(0x3A)
        o += flatten(r.address)
        o.append(0x0A)
    }

    static func encodeHeader(_ h: QueueFile.Header, into o: inout [UInt8]) {
        o.append(0x48)
        if let c = h.condition {
            o.append(0x3F)
            o += flatten(c).filter { $0 != 0x3F }
            o.append(0x3F)
        }
        let t = h.text
        var i = 0
        while i < t.count {
            let b = t[i]
            if b == 0x0A {
                let next: UInt8? = i + 1 < t.count ? t[i + 1] : nil
                o.append(next == 0x20 || next == 0x09 ? 0x0A : 0x20)
            } else {
                o.append(b)
            }
            i += 1
        }
        o.append(0x0A)
    }

    /// `$x` for a one-byte name, `${name}` otherwise.
    static func macroName(_ name: [UInt8]) -> [UInt8] {
        name.count == 1 ? name : [0x7B] + name + [0x7D]
    }

    /// The `F` line letters in queueup() order.
    public static func flagLetters(_ f: EnvelopeFlags) -> [UInt8] {
        EnvelopeFlags.letters.compactMap { f.contains($0.0) ? $0.1 : nil }
    }

    /// denlstring(s, strict: true): CR and LF become spaces.
    static func flatten(_ v: [UInt8]) -> [UInt8] {
        guard v.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return v }
        return v.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 }
    }
}
