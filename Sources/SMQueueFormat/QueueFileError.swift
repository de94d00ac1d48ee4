// SMQueueFormat/QueueFileError.swift
//
// Why a control file could not be read, with the texts sendmail's
// readqf() logs (syserr) and the reason it gives when it renames the
// file to Qf ("lost").
// Promises: pure values; `message(fileName:)` reproduces sendmail's
// wording byte for byte, shortening long lines as shortenstring() does.

import SMBase

public enum QueueFileError: Error, Sendable, Equatable {
    /// A line whose first byte is not a known record letter.
    case badLine(lineNumber: Int, line: [UInt8])
    /// `V` greater than 8.
    case unsupportedVersion(Int)
    /// Any line after the `.` terminator, or an `A`/`B` line sendmail
    /// refuses (not xtext / not a body type).
    case bogusData(line: [UInt8])
    /// An `F` line starting with `From `.
    case bogusFromLine(line: [UInt8])
    /// The file ended without the `.` line.
    case incomplete
    /// No complete line at all (sendmail then clears the entry).
    case empty

    /// The syserr() text sendmail logs for this error about file `qf`.
    public func message(fileName qf: [UInt8]) -> [UInt8] {
        switch self {
        case .badLine(let n, let line):
            return Array("readqf: ".utf8) + qf + Array(": line \(n): bad line \"".utf8)
                + QueueFileError.shorten(line) + [0x22]
        case .unsupportedVersion(let v):
            return Array("Version number in queue file (\(v)) greater than max (\(QueueFile.currentVersion))".utf8)
        case .bogusData(let line):
            return Array("SECURITY ALERT: extra or bogus data in queue file: ".utf8) + line
        case .bogusFromLine(let line):
            return Array("SECURITY ALERT: bogus qf line ".utf8) + line
        case .incomplete:
            return Array("readqf: ".utf8) + qf + Array(": incomplete queue file read".utf8)
        case .empty:
            return []
        }
    }

    /// The reason passed to loseqfile() (logged as `Losing <qf>: <why>`);
    /// nil where sendmail leaves the file alone.
    public var loseReason: String? {
        switch self {
        case .badLine: return "unrecognized line"
        case .unsupportedVersion: return "unsupported queue file version"
        case .bogusData, .bogusFromLine: return "bogus queue line"
        case .incomplete, .empty: return nil
        }
    }

    /// shortenstring(s, MAXSHORTSTR = 203): strings of 203 bytes or more
    /// keep their first and last 100 bytes around "...".
    static func shorten(_ s: [UInt8]) -> [UInt8] {
        let m = 203
        if s.count < m { return s }
        let half = (m - 3) / 2
        return Array(s[..<half]) + Array("...".utf8) + Array(s[(s.count - half)...])
    }
}
