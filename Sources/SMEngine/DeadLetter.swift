// SMEngine/DeadLetter.swift
//
// ErrorMode=p (the default) after command-line recipient errors:
// sendmail's savemail() appends a copy of the message to the sender's
// ~/dead.letter and says "<path>... Saved message in <path>".  The copy
// is written as the *file* mailer writes a mailbox: the UnixFromLine
// ("From $g  $d"), the headers as putheader() emits them for that mailer
// (?flags? conditions checked against its flags, bind-late macros such
// as Return-Path's $g expanded, sender and recipient headers rewritten
// address by address through remotename), an empty line, the body with
// "From " lines escaped (F=E), and an empty line.
// appendDeadLetter is also used after a delivery at submission
// (QueueEntry.swift), with the copy the *file* mailer would get.
// Promises: appends only (O_APPEND; a new file gets TempFileMode);
// returns false (and prints nothing) when the file cannot be written, so
// the caller can fall back.
//
// Not done: the fallbacks after ~/dead.letter (DeadLetterDrop, mail to
// postmaster), folding of long rewritten address headers.

import Glibc
import SMBase
import SMRules
import SMConfig

extension Engine {
    /// Splits a header value into addresses at top-level commas (outside
    /// quotes, comments and angle brackets).
    func splitAddressList(_ v: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var cur: [UInt8] = []
        var quoted = false, paren = 0, angle = 0, escaped = false
        for c in v {
            if escaped { cur.append(c); escaped = false; continue }
            switch c {
            case UInt8(ascii: "\\"): escaped = true
            case UInt8(ascii: "\""): if paren == 0 { quoted.toggle() }
            case UInt8(ascii: "("): if !quoted { paren += 1 }
            case UInt8(ascii: ")"): if !quoted && paren > 0 { paren -= 1 }
            case UInt8(ascii: "<"): if !quoted && paren == 0 { angle += 1 }
            case UInt8(ascii: ">"): if !quoted && paren == 0 && angle > 0 { angle -= 1 }
            case UInt8(ascii: ","):
                if !quoted && paren == 0 && angle == 0 { out.append(cur); cur = []; continue }
            default: break
            }
            cur.append(c)
        }
        out.append(cur)
        return out.map { a in
            var s = a[...]
            while let f = s.first, isASCIISpace(f) { s = s.dropFirst() }
            while let l = s.last, isASCIISpace(l) { s = s.dropLast() }
            return Array(s)
        }.filter { !$0.isEmpty }
    }

    /// putheader() for mailer `m`: the header lines, each ending in "\n".
    func renderHeaders(_ headers: HeaderList, for m: Mailer) -> [UInt8] {
        var out: [UInt8] = []
        for h in headers.headers {
            if !h.condition.isEmpty {
                if h.condition.first == UInt8(ascii: "$") {
                    let name = h.condition.count == 2 ? [h.condition[1]] : Array(h.condition.dropFirst(2).dropLast())
                    if (rewriter.macroValue(name) ?? []).isEmpty { continue }
                } else if !h.condition.contains(where: { m.flags.contains($0) }) {
                    continue
                }
            }
            var value = h.value
            if h.flags.contains(.bindLate) {
                value = expandMacros(value, rewriter.macros)
            } else if !h.flags.isDisjoint(with: [.from, .recipient]), !value.isEmpty {
                let flags: AddressFlags = h.flags.contains(.from) ? [.header, .sender] : [.header]
                let parts = splitAddressList(value).map { Array(remoteName($0, mailer: m, flags: flags).0.latin1Bytes) }
                value = Array(parts.joined(separator: Array(", ".utf8)))
            }
            out += h.name + Array(": ".utf8) + value + [0x0A]
        }
        return out
    }

    /// savemail() to ~/dead.letter of the real user; true when saved.
    @discardableResult
    func saveDeadLetter(_ headers: HeaderList, body: [UInt8], now: time_t) -> Bool {
        guard let m = config.mailer(named: Array("*file*".utf8)),
              let pw = getpwnam(options.realUserName.string) else { return false }
        let home = String(cString: pw.pointee.pw_dir)
        let path = (home == "/" ? "" : home) + "/dead.letter"
        let rw = rewriter
        let f = rw.macros[Int(UInt8(ascii: "f"))] ?? []
        let saveG = rw.macros[Int(UInt8(ascii: "g"))], saveD = rw.macros[Int(UInt8(ascii: "d"))]
        defer { rw.macros[Int(UInt8(ascii: "g"))] = saveG; rw.macros[Int(UInt8(ascii: "d"))] = saveD }
        rw.macros[Int(UInt8(ascii: "g"))] = Array(remoteName(f, mailer: m, flags: [.sender, .canonical]).0.latin1Bytes)
        var tt = now
        var buf = [CChar](repeating: 0, count: 64)
        ctime_r(&tt, &buf)
        var d = Array(String(cString: buf).utf8)
        if d.last == 0x0A { d.removeLast() }
        rw.macros[Int(UInt8(ascii: "d"))] = d

        // the cf's value is stored with its macros already translated
        let fromTemplate = config.options["UnixFromLine"]
            ?? translateDollars(Array("From $g  $d".utf8), names: config.names, report: { _ in })
        let fromLine = expandMacros(fromTemplate, rw.macros)
        var text = fromLine + [0x0A] + renderHeaders(headers, for: m) + [0x0A]
        var start = 0
        while start < body.count {
            var end = start
            while end < body.count, body[end] != 0x0A { end += 1 }
            let line = body[start..<end]
            if m.has("E"), line.starts(with: Array("From ".utf8)) { text.append(UInt8(ascii: ">")) }
            text += line
            text.append(0x0A)
            start = end + 1
        }
        text.append(0x0A)
        return appendDeadLetter(text, path: path)
    }

    /// Appends `text` to the dead.letter file `path` and says so
    /// ("<path>... Saved message in <path>"); false when it cannot.
    func appendDeadLetter(_ text: [UInt8], path: String) -> Bool {
        let rw = rewriter
        // a new file gets TempFileMode (default 0600)
        let mode = config.options["TempFileMode"].flatMap { mode_t($0.string.trimmingSpaces, radix: 8) } ?? 0o600
        let existed = access(path, F_OK) == 0
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, mode)
        if fd < 0 { return false }
        defer { close(fd) }
        if !existed { _ = fchmod(fd, mode) }
        var off = 0
        while off < text.count {
            let n = text[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return false }
            off += n
        }
        if fsync(fd) != 0 { return false }
        let saveTo = rw.currentAddress
        rw.currentAddress = Array(path.utf8)
        // shown even when not verbose
        let quiet = rw.quietNotices
        rw.quietNotices = false
        rw.notice("Saved message in \(path)")
        rw.quietNotices = quiet
        rw.currentAddress = saveTo
        return true
    }
}
