// SMQueueFormat/QueueFileKind.swift
//
// The kinds of file a queue entry is made of and their names: the kind
// letter, `f`, then the queue ID (`qf6AU1kR6Q016114`).  With the `qf/`,
// `df/` and `xf/` subdirectories of a queue directory present, control
// files (qf tf hf Qf) go in `qf/`, data files in `df/`, transcripts in
// `xf/`.
// Promises: names are built from bytes only; `parse(fileName:)` accepts
// exactly what `fileName(for:)` produces (with any ID bytes).

import SMBase

public enum QueueFileKind: UInt8, Sendable, CaseIterable {
    /// `qf`: the control file of a queued message.
    case control = 0x71      // q
    /// `df`: the message body.
    case data = 0x64         // d
    /// `tf`: a control file being rewritten.
    case temporary = 0x74    // t
    /// `xf`: the transcript of the current delivery attempt.
    case transcript = 0x78   // x
    /// `hf`: a quarantined ("held") control file.
    case quarantined = 0x68  // h
    /// `Qf`: a lost control file that needs a human.
    case lost = 0x51         // Q

    /// The two-byte prefix, e.g. `qf`.
    public var prefix: [UInt8] { [rawValue, 0x66] }

    /// Which subdirectory the kind lives in when it exists.
    public var subdirectory: [UInt8] {
        switch self {
        case .data: return Array("df".utf8)
        case .transcript: return Array("xf".utf8)
        case .control, .temporary, .quarantined, .lost: return Array("qf".utf8)
        }
    }

    /// True for the kinds that hold a control file (qf, tf, hf, Qf).
    public var isControlFile: Bool { self != .data && self != .transcript }

    /// `<letter>f<id>`.
    public func fileName(for id: [UInt8]) -> [UInt8] { prefix + id }

    /// The path relative to the queue directory: `fileName` alone, or
    /// under the kind's subdirectory when `useSubdirectory` is true
    /// (sendmail checks whether `qf/`, `df/`, `xf/` exist).
    public func relativePath(for id: [UInt8], useSubdirectory: Bool) -> [UInt8] {
        useSubdirectory ? subdirectory + [0x2F] + fileName(for: id) : fileName(for: id)
    }

    /// `dir/[sub/]name` as sendmail's queuename() builds it.
    public func path(in directory: [UInt8], id: [UInt8], useSubdirectory: Bool) -> [UInt8] {
        directory + [0x2F] + relativePath(for: id, useSubdirectory: useSubdirectory)
    }

    /// Splits a directory entry name into kind and ID; nil for other names.
    public static func parse(fileName: [UInt8]) -> (kind: QueueFileKind, id: [UInt8])? {
        guard fileName.count > 2, fileName[1] == 0x66,
              let kind = QueueFileKind(rawValue: fileName[0]) else { return nil }
        return (kind, Array(fileName[2...]))
    }
}
