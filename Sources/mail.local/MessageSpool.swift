// mail.local/MessageSpool.swift
//
// Copies one message from standard input into a spool in mbox form, as
// Debian's mail.local 8.17 (built with CONTENTLENGTH) does: a "From sender ctime" line, CRLF
// turned into LF at line ends, LMTP dot-unstuffing and the lone "."
// terminator, incoming Content-Length: headers dropped, a ">" before a
// first line that starts with "From ", a newline added to an unterminated
// last line, one blank line appended, and the header/body split recorded
// so delivery can insert "Content-Length: <body bytes>".
// Divergences on purpose: for an unterminated last line the real tool also
// writes stale buffer bytes (a NUL and old line fragments); we write only
// the line and its added newline.  The real tool always spools into an
// unlinked temporary file (/tmp/local.XXXXXX); we keep a message of up to
// `SpoolSink.memoryLimit` bytes in memory and move to such a file only
// beyond that (no file to create, write and read back per message; on a
// file system that scans recently freed inodes, as ext4 without a journal
// does, each created file costs more the busier the spool is).
// Promises: the mailbox bytes are the same either way; a file-backed
// message's descriptor is positioned anywhere (deliveries seek).
#if canImport(Glibc)
import Glibc
#endif
import SMBase

struct StoredMessage {
    enum Content {
        case memory([UInt8])
        /// An unlinked temporary file (the message beyond the memory limit).
        case file(Int32)
    }
    let content: Content
    /// Bytes before the header/body blank line (From line included).
    let headerLength: Int
    /// Body bytes, or -1 if no Content-Length header is to be inserted.
    let bodyLength: Int
    var contentLengthHeader: [UInt8] { Array("Content-Length: \(bodyLength)\n".utf8) }

    /// Closes the temporary file, if there is one.
    func release() {
        if case .file(let fd) = content { close(fd) }
    }
}

enum StoreOutcome {
    case stored(StoredMessage)
    /// Failed; `inBody` tells LMTP whether the 354 was already sent.
    case failed(inBody: Bool)
}

struct MessageSpool {
    let reporter: Reporter
    let input: InputReader
    let lmtp: Bool

    /// store(): `from` is the envelope sender for the From_ line.
    func store(from: [UInt8]) -> StoreOutcome {
        umask(0o077)
        if lmtp {
            reporter.out.append("354 Go ahead\r\n")
            reporter.out.flush()
        }

        var writer: SpoolSink? = SpoolSink()
        writer?.put(Array("From ".utf8) + from + [0x20] + Sys.ctimeLine(time(nil)))

        var headerLength = 0
        var eline = true         // only the very first line can be quoted (CONTENTLENGTH build)
        var fullLine = true      // current chunk ended the line
        var line: [UInt8] = []   // the last chunk, as the C code's buffer sees it
        var sawDot = false

        while let chunk = input.chunk(size: 2048) {
            let prevFull = fullLine
            line = chunk
            if prevFull && lmtp && line.first == 0x2E {
                if line == [0x2E, 0x0A] || line == [0x2E, 0x0D, 0x0A] { sawDot = true; break }
                line.removeFirst()
            }
            fullLine = false
            if let last = line.last {
                if last == 0x0A {
                    if line.count >= 2 && line[line.count - 2] == 0x0D {
                        line.removeLast(2); line.append(0x0A)
                    }
                    fullLine = true
                } else if last == 0x0D {
                    if let peek = input.getc() {
                        if peek == 0x0A { line[line.count - 1] = 0x0A; fullLine = true } else { input.ungetc() }
                    }
                }
            } else {
                fullLine = true
            }

            if prevFull && line.first == 0x0A && headerLength == 0 {
                eline = false
                headerLength = writer?.position ?? 0
            } else {
                if eline && line.hasPrefix(Array("From ".utf8)) { writer?.put([0x3E]) }
                eline = false
                if prevFull && headerLength == 0 && line.count >= 15
                    && Array(line[0..<15]).asciiCaseEquals(Array("Content-Length:".utf8)) {
                    line = []
                    continue
                }
            }
            if let w = writer {
                w.put(line)
                if let err = w.failedErrno {
                    if w.openFailed {
                        reporter.error("451 4.3.0", "Unable to open temporary file", errno: err)
                    } else {
                        reporter.error("451 4.3.0", "Temporary file write error", errno: err)
                    }
                    w.discard()
                    writer = nil
                }
            }
        }

        guard let w = writer else { return .failed(inBody: true) }
        if !sawDot {
            if lmtp { exit(SysExit.ok.rawValue) }  // premature EOF: toss the message
            // strchr(line, '\n') stops at the first NUL, as in the real tool.
            let visible = line.prefix { $0 != 0 }
            if !visible.contains(0x0A) { w.put([0x0A]) }
        }

        var hdr = headerLength
        var body = w.position
        if hdr == 0 && body > 0 {
            hdr = body; body = 0
        } else {
            body = body - hdr - 1
        }
        if !(hdr > 0 && body >= 0) { body = -1 }

        w.put([0x0A])
        w.flush()
        if let err = w.failedErrno {
            if w.openFailed {
                reporter.error("451 4.3.0", "Unable to open temporary file", errno: err)
            } else {
                reporter.error("451 4.3.0", "Temporary file flush error", errno: err)
            }
            w.discard()
            return .failed(inBody: true)
        }
        return .stored(StoredMessage(content: w.content, headerLength: hdr, bodyLength: body))
    }
}

/// Where a message waits for its mailboxes: in memory up to `memoryLimit`
/// bytes, beyond that in an unlinked /tmp/local.XXXXXX (the memory part
/// is written there first).  Remembers the first error.
final class SpoolSink {
    static let memoryLimit = 1 << 20
    private var buf: [UInt8] = []
    private var fd: Int32 = -1
    private(set) var position = 0
    private(set) var failedErrno: Int32?
    /// The failure was creating the temporary file.
    private(set) var openFailed = false

    init() { buf.reserveCapacity(8192) }

    func put(_ b: [UInt8]) {
        position += b.count
        guard failedErrno == nil else { return }
        buf += b
        if fd < 0 {
            if buf.count > SpoolSink.memoryLimit { spill() }
        } else if buf.count >= 65536 {
            flush()
        }
    }

    /// Moves the message to a temporary file (once it outgrew memory).
    private func spill() {
        var template = Array("/tmp/local.XXXXXX".utf8CString)
        let f = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if f < 0 {
            failedErrno = errno
            openFailed = true
            buf = []
            return
        }
        unlink(template)
        fd = f
        flush()
    }

    /// Writes what is buffered, if the message lives in a file.
    func flush() {
        guard fd >= 0 else { return }
        guard failedErrno == nil, !buf.isEmpty else { buf.removeAll(keepingCapacity: true); return }
        if let e = Sys.writeAll(fd, buf) { failedErrno = e }
        buf.removeAll(keepingCapacity: true)
    }

    /// The stored message (after a successful `flush()`).
    var content: StoredMessage.Content { fd >= 0 ? .file(fd) : .memory(buf) }

    /// Drops the message (after a failure).
    func discard() {
        if fd >= 0 { close(fd); fd = -1 }
        buf = []
    }
}
