// SMQueueFormat/MailqFormatter.swift
//
// The `mailq` / `sendmail -bp` listing of one queue directory, byte for
// byte as sendmail's print_single_queue() and printqueue() write it.
// Like sendmail, each entry is listed from the raw control-file lines
// (read as fgets() with a 2048-byte buffer would), so a damaged file is
// listed as far as it goes; an overload takes decoded models.
// Promises: pure; the caller supplies df sizes (-1 when there is none),
// each entry's status character, the order (sendmail sorts by
// QueueSortOrder first; see `sortedByPriority`) and the UTC offset used for
// ctime().

import SMBase

public struct MailqEntry: Sendable {
    /// The queue ID (file name without `qf`).
    public var id: [UInt8]
    /// The raw control file; nil when it could not be opened.
    public var controlFile: [UInt8]?
    /// Size of the df file; -1 when it does not exist.
    public var dataFileSize: Int64
    public var status: Status
    /// `P` as gatherq() reads it (used by `-v` and sorting).
    public var priority: Int64
    /// Printed when `controlFile` is nil (` (job completed)`, ...).
    public var openError: OpenError = .jobCompleted

    /// The character after the ID.
    public enum Status: UInt8, Sendable {
        case normal = 0x20       // ' '
        case locked = 0x2A       // '*': another process holds the lock
        case lost = 0x3F         // '?': listing Qf files (-qL)
        case tooYoung = 0x2D     // '-': tried less than MinQueueAge ago
        case wouldQueue = 0x58   // 'X': load too high (shouldqueue)
    }

    public enum OpenError: Sendable {
        case permissionDenied, jobCompleted
        case other([UInt8])
    }

    public init(id: [UInt8], controlFile: [UInt8]?, dataFileSize: Int64,
                status: Status = .normal, priority: Int64? = nil) {
        self.id = id
        self.controlFile = controlFile
        self.dataFileSize = dataFileSize
        self.status = status
        self.priority = priority ?? MailqEntry.priority(of: controlFile ?? [])
    }

    /// An entry from a decoded model (encoded the way sendmail writes it).
    public init(id: [UInt8], file: QueueFile, dataFileSize: Int64, status: Status = .normal) {
        self.init(id: id, controlFile: QueueFileWriter.encode(file), dataFileSize: dataFileSize,
                  status: status, priority: file.priority)
    }

    /// The last `P` line's value (atol), or 0x7fffffff when there is none
    /// (gatherq's value for jobs still being created).
    public static func priority(of qf: [UInt8]) -> Int64 {
        var p: Int64 = 0x7FFF_FFFF
        for line in qf.split(separator: 0x0A) where line.first == 0x50 {
            p = QueueFileReader.State.atol(Array(line.dropFirst()))
        }
        return p
    }
}

public struct MailqFormatter: Sendable {
    /// The queue directory as sendmail prints it.
    public var directory: [UInt8]
    /// `-v`: priorities, controlling users, per-recipient messages.
    public var verbose: Bool
    /// MaxQueueRunSize (0 = no limit): adds ", only N printed".
    public var maxQueueRun: Int
    /// Seconds east of UTC for the Q-Time column (TZ).
    public var utcOffset: @Sendable (Int64) -> Int

    public init(directory: [UInt8], verbose: Bool = false, maxQueueRun: Int = 0,
                utcOffset: @escaping @Sendable (Int64) -> Int = { _ in 0 }) {
        self.directory = directory
        self.verbose = verbose
        self.maxQueueRun = maxQueueRun
        self.utcOffset = utcOffset
    }

    /// The whole output for a single queue directory, including the
    /// `Total requests:` line printqueue() adds.  `requestCount` is how
    /// many entries gatherq() found (defaults to `entries.count`).
    public func format(_ entries: [MailqEntry], requestCount: Int? = nil) -> [UInt8] {
        let n = requestCount ?? entries.count
        var o = formatDirectory(entries, requestCount: n)
        o += Array("\t\tTotal requests: \(n > 0 ? n : 0)\n".utf8)
        return o
    }

    /// print_single_queue(): one directory without the total line.
    public func formatDirectory(_ entries: [MailqEntry], requestCount n: Int) -> [UInt8] {
        if n <= 0 { return directory + Array(" is empty\n".utf8) }
        var o: [UInt8] = [0x09, 0x09] + directory + Array(" (\(n) request\(n == 1 ? "" : "s")".utf8)
        if maxQueueRun > 0 && n > maxQueueRun { o += Array(", only \(maxQueueRun) printed".utf8) }
        o += Array(verbose
            ? ")\n-----Q-ID----- --Size-- -Priority- ---Q-Time--- --------Sender/Recipient--------\n".utf8
            : ")\n-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------\n".utf8)
        for e in entries { o += formatEntry(e) }
        return o
    }

    /// One entry, ending with "\n".
    public func formatEntry(_ e: MailqEntry) -> [UInt8] {
        var o = Fmt.padLeft(e.id, 13)
        guard let qf = e.controlFile else {
            switch e.openError {
            case .permissionDenied: o += Array(" (permission denied)\n".utf8)
            case .jobCompleted: o += Array(" (job completed)\n".utf8)
            case .other(let s): o += Array(" (".utf8) + s + Array(")\n".utf8)
            }
            return o
        }
        o.append(e.status.rawValue)
        var submit: Int64 = 0
        var quarmsg: [UInt8] = [], statmsg: [UInt8] = [], bodytype: [UInt8] = []
        var qfver: Int64 = 0
        var warned = false
        let width = verbose ? 100 : 60
        for line in Fmt.fgetsLines(qf) {
            let body = Array(line.dropFirst())
            switch line.first {
            case 0x56?: qfver = QueueFileReader.State.atol(body)
            case 0x4D?: statmsg = Array(body.prefix(2047))
            case 0x71?: quarmsg = Array(body.prefix(2047))
            case 0x42?: bodytype = Array(body.prefix(256))
            case 0x53?:
                let tm = CivilTime(unixTime: submit, utcOffset: utcOffset(submit)).ctime
                if verbose {
                    o += Fmt.padLeft(Array(String(e.dataFileSize).utf8), 8) + [0x20]
                    o += Fmt.padLeft(Array(String(e.priority).utf8), 10)
                    o.append(warned ? 0x2B : 0x20)
                    o += Array(tm[4..<16]) + [0x20]
                    o += Fmt.prtstr(body, 78)
                } else {
                    o += Fmt.padLeft(Array(String(e.dataFileSize).utf8), 8) + [0x20]
                    o += Array(tm[0..<16]) + [0x20]
                    o += Fmt.prtstr(body, 39)
                }
                if !quarmsg.isEmpty {
                    o += Array("\n     QUARANTINE: ".utf8) + Array(quarmsg.prefix(width))
                    quarmsg = []
                }
                if !statmsg.isEmpty || !bodytype.isEmpty {
                    o += Array("\n    ".utf8) + Fmt.padLeft(Array(bodytype.prefix(10)), 10)
                    if !statmsg.isEmpty { o += Array("   (".utf8) + Array(statmsg.prefix(width)) + [0x29] }
                    statmsg = []
                }
            case 0x43?:
                if verbose { o += Array("\n\t\t\t\t\t\t(---".utf8) + Array(body.prefix(64)) + Array("---)".utf8) }
            case 0x52?:
                var p = body[...]
                if qfver >= 1 {
                    guard let c = p.firstIndex(of: 0x3A) else { break }
                    p = p[(c + 1)...]
                }
                if verbose {
                    o += Array("\n\t\t\t\t\t\t".utf8) + Fmt.prtstr(Array(p), 71)
                } else {
                    o += Array("\n\t\t\t\t\t ".utf8) + Fmt.prtstr(Array(p), 38)
                }
                if verbose && !statmsg.isEmpty {
                    o += Array("\n\t\t (".utf8) + Array(statmsg.prefix(100)) + [0x29]
                    statmsg = []
                }
            case 0x54?: submit = QueueFileReader.State.atol(body)
            case 0x46?: if body.contains(0x77) { warned = true }
            default: break
            }
        }
        if submit == 0 { o += Array(" (no control file)".utf8) }
        o.append(0x0A)
        return o
    }

    /// sendmail's default order (QueueSortOrder=priority): ascending `P`;
    /// equal priorities keep their given order.
    public static func sortedByPriority(_ entries: [MailqEntry]) -> [MailqEntry] {
        entries.enumerated().sorted { a, b in
            a.element.priority != b.element.priority ? a.element.priority < b.element.priority : a.offset < b.offset
        }.map(\.element)
    }
}

/// printf-style helpers with C semantics on bytes.
enum Fmt {
    /// `%Ns`: right-aligned in N columns, never truncated.
    static func padLeft(_ s: [UInt8], _ n: Int) -> [UInt8] {
        s.count >= n ? s : [UInt8](repeating: 0x20, count: n - s.count) + s
    }

    /// The lines sm_io_fgets(buf, 2048) returns, with fixcrlf() applied:
    /// at most 2047 bytes each; the trailing LF (or CR LF) removed; a NUL
    /// ends the C string.
    static func fgetsLines(_ data: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var i = 0
        while i < data.count {
            var j = i
            while j < data.count, j - i < 2047, data[j] != 0x0A { j += 1 }
            var line: [UInt8]
            if j < data.count, data[j] == 0x0A, j - i < 2047 {
                line = Array(data[i..<j]); i = j + 1
                if line.last == 0x0D { line.removeLast() }
            } else {
                line = Array(data[i..<j]); i = j
            }
            if let z = line.firstIndex(of: 0) { line = Array(line[..<z]) }
            lines.append(line)
        }
        return lines
    }

    /// sendmail's prtstr(s, ml): at most `ml` columns; `\` doubled,
    /// non-printable bytes as `\ooo`.
    static func prtstr(_ s: [UInt8], _ max: Int) -> [UInt8] {
        var o: [UInt8] = []
        var ml = max
        for c in s {
            if ml <= 0 || c == 0 { break }
            ml -= 1
            if c == 0x5C {
                if ml > 0 { ml -= 1; o += [0x5C, 0x5C] } else { ml -= 1 }
            } else if c >= 0x20 && c < 0x7F {
                o.append(c)
            } else {
                ml -= 3
                if ml > 0 {
                    o.append(0x5C)
                    o.append(0x30 + (c >> 6))
                    o.append(0x30 + ((c >> 3) & 7))
                    o.append(0x30 + (c & 7))
                }
            }
        }
        return o
    }
}
