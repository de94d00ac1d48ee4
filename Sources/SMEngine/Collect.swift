// SMEngine/Collect.swift
//
// sendmail's collect() for a message read from standard input: splits
// the input into header fields and body, the way command-line
// submission does it.
//   - Lines end at LF; a CR just before the LF is dropped (CRLF and LF
//     input give the same queue files).  A last line without LF keeps
//     having none.
//   - Unless IgnoreDots (-i, -oi) is set, a line holding only "." ends
//     the message and a leading ".." loses one dot.
//   - The header is the run of lines from the top that look like
//     "Name: value" (continuation lines start with SP or TAB); an empty
//     line ends it and is not part of the body; any other line ends it
//     and starts the body.
//   - The message size (for the priority) counts the bytes kept: header
//     lines with their newlines, the separator, the body.
//   - Any byte with the eighth bit set marks the message 8-bit.
// Promises: pure (bytes in, values out); never fails.
//
//   - A first line starting with "From " (a UNIX From_ line) is dropped
//     (counted in the size); a ctime date in it ("Mon Nov 30 00:00:00
//     2026") becomes the origination date $a, as sendmail's eatfrom().
//   - MaxHeadersLength (`maxHeadersLength`, 0: no limit): sendmail counts
//     each byte it reads while in the header (CR dropped, LF counted; the
//     line that ends the header counts too) and refuses the message once
//     a byte comes when the count has reached the limit.  The header
//     field in progress and everything after it are then dropped (only
//     counted in the size) and `headersTooLarge` is set.
// Not modelled: the MaxMessageSize limit (the caller checks it),
// SaveFromLine.

import SMBase
import SMConfig

public struct CollectedMessage: Sendable, Equatable {
    /// Header fields in input order: the whole field, folding kept as
    /// "\n" + the continuation line (no trailing newline).
    public var headerFields: [[UInt8]] = []
    /// The body as it goes into the df file.
    public var body: [UInt8] = []
    /// sendmail's e_msgsize.
    public var size: Int = 0
    /// EF_HAS8BIT.
    public var has8Bit = false
    /// The ctime date of a leading From_ line, as "Mon, 30 Nov 2026 00:00:00"
    /// (the caller adds the zone as arpadate does).
    public var fromLineDate: [UInt8]? = nil
    /// The header went past MaxHeadersLength (sendmail's "552 5.6.0
    /// Headers too large (N max)").
    public var headersTooLarge = false

    public init() {}
}

public enum Collector {
    /// Collects `input` as sendmail does for `sendmail [-i] rcpt... < input`.
    public static func collect(_ input: [UInt8], ignoreDots: Bool, maxHeadersLength: Int = 0) -> CollectedMessage {
        var msg = CollectedMessage()
        var inHeader = true
        var headerBytes = 0
        var start = 0
        let n = input.count
        while start < n {
            var end = start
            while end < n, input[end] != 0x0A { end += 1 }
            let hasNewline = end < n
            var line = Array(input[start..<end])
            start = hasNewline ? end + 1 : end
            if hasNewline, line.last == 0x0D { line.removeLast() }
            if !ignoreDots, line.first == UInt8(ascii: ".") {
                if line.count == 1 { break }
                if line[1] == UInt8(ascii: ".") { line.removeFirst() }
            }
            if line.contains(where: { $0 >= 0x80 }) { msg.has8Bit = true }
            if inHeader && msg.size == 0 && line.starts(with: Array("From ".utf8)) {
                msg.fromLineDate = ctimeDate(in: line)
                msg.size += line.count + (hasNewline ? 1 : 0)
                continue
            }
            if inHeader && maxHeadersLength > 0 && !msg.headersTooLarge {
                // the line's last byte (its LF, or its last character)
                // is read with this many header bytes counted before it
                let lineBytes = line.count + (hasNewline ? 1 : 0)
                if headerBytes + lineBytes - 1 >= maxHeadersLength {
                    msg.headersTooLarge = true
                } else {
                    headerBytes += lineBytes
                }
            }
            if msg.headersTooLarge {
                // (the body is still empty: the limit is met in the header)
                msg.size += line.count + (hasNewline ? 1 : 0)
                continue
            }
            if inHeader {
                if line.isEmpty && hasNewline {
                    inHeader = false
                    msg.size += 1
                    continue
                }
                if let f = line.first, f == 0x20 || f == 0x09, !msg.headerFields.isEmpty {
                    msg.headerFields[msg.headerFields.count - 1] += [0x0A] + line
                    msg.size += line.count + 1
                    continue
                }
                if HeaderInfo.split(line) != nil {
                    msg.headerFields.append(line)
                    msg.size += line.count + (hasNewline ? 1 : 0)
                    continue
                }
                inHeader = false
            }
            msg.body += line
            if hasNewline { msg.body.append(0x0A) }
            msg.size += line.count + (hasNewline ? 1 : 0)
        }
        return msg
    }

    static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].map { Array($0.utf8) }
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .map { Array($0.utf8) }

    /// eatfrom(): the first "Www Mmm" in the line starts a ctime date;
    /// returns it as "Www, d Mmm yyyy hh:mm:ss", or nil.
    static func ctimeDate(in line: [UInt8]) -> [UInt8]? {
        var i = 5
        while i + 7 <= line.count {
            let day = Array(line[i..<(i + 3)]), mon = Array(line[(i + 4)..<(i + 7)])
            if (i == 0 || line[i - 1] == 0x20), days.contains(day), line[i + 3] == 0x20, months.contains(mon) {
                let words = line[i...].split(separator: 0x20).map { Array($0) }
                guard words.count >= 5, words[3].count == 8, words[3][2] == UInt8(ascii: ":"),
                      words[2].allSatisfy(isASCIIDigit), words[4].prefix(4).allSatisfy(isASCIIDigit) else { return nil }
                var d = words[2]
                while d.count > 1 && d.first == UInt8(ascii: "0") { d.removeFirst() }
                return day + Array(", ".utf8) + d + [0x20] + mon + [0x20] + Array(words[4].prefix(4)) + [0x20] + words[3]
            }
            i += 1
        }
        return nil
    }
}
