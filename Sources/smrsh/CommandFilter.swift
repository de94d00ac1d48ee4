// smrsh/CommandFilter.swift
//
// The checks of sendmail's restricted shell, as Debian's smrsh 8.17 makes
// them on the argument of `smrsh -c "command args"`: each command word
// loses its leading path and must be an executable regular file in the
// command directory (default /etc/mail/smrsh); "exec", "exit" and "echo"
// are allowed as builtins; after the command name none of < | > ^ ( ) ; &
// ` $ CR LF (nor the same bytes with bit 7 set) may appear, except "&&" and
// "||" joining another checked command.  The result is the command line to
// hand to /bin/sh, with each program prefixed by the command directory.
// Promises: every rejection carries the real tool's message and EX_* code.
#if canImport(Glibc)
import Glibc
#endif
import SMBase

struct CommandFilter {
    let commandDirectory: [UInt8]
    let program: [UInt8]

    /// The size of the real tool's command buffer.
    static let bufferSize = 1000
    static let specials: [UInt8] = Array("<|>^();&`$\r\n".utf8)

    struct Rejection: Error {
        let message: [UInt8]     // full stderr line without the newline
        let status: SysExit
    }

    private func reject(_ text: String, _ status: SysExit = .unavailable) -> Rejection {
        Rejection(message: program + Array(": ".utf8) + text.latin1Bytes, status: status)
    }


    /// Builds the /bin/sh command line for `par`, or the rejection.
    func filter(_ par: [UInt8]) -> Result<[UInt8], Rejection> {
        let dir = commandDirectory
        if par.count > CommandFilter.bufferSize - (dir.count + 1) - 2 {
            return .failure(reject("command too long: \(par.string)"))
        }
        var out: [UInt8] = []
        func add(_ s: ArraySlice<UInt8>, command: Bool) -> Rejection? {
            if s.isEmpty { return nil }
            if CommandFilter.bufferSize - out.count <= s.count + 1 + (command ? dir.count + 1 : 0) {
                return reject("command too long: \(par.string)")
            }
            if command { out += dir + [0x2F] }
            out += s
            return nil
        }
        var q = 0
        var isExec = false
        func at(_ i: Int) -> UInt8 { i < par.count ? par[i] : 0 }
        while at(q) != 0 {
            while at(q) != 0, at(q) < 0x80, isASCIISpace(at(q)) { q += 1 }
            if at(q) == 0 {
                if isExec { return .failure(reject("missing command to exec")) }
                break
            }
            // End of the command name: first space or tab (or the end / a NUL).
            var nameEnd = q
            while at(nameEnd) != 0 && at(nameEnd) != 0x20 && at(nameEnd) != 0x09 { nameEnd += 1 }
            let hasRest = nameEnd < par.count && at(nameEnd) != 0
            let word = par[q..<nameEnd]
            var cmdStart = nameEnd
            while cmdStart > q {
                cmdStart -= 1
                if par[cmdStart] & 0x7F == 0x2F { cmdStart += 1; break }
            }
            let cmd = par[cmdStart..<nameEnd]
            if Array(word) == Array("exec".utf8) && hasRest {
                if let r = add(ArraySlice(Array("exec ".utf8)), command: false) { return .failure(r) }
                q = nameEnd + 1
                isExec = true
                continue
            } else if Array(word) == Array("exit".utf8) || Array(word) == Array("echo".utf8) {
                if let r = add(cmd, command: false) { return .failure(r) }
            } else {
                let path = dir + [0x2F] + cmd
                let c = Array(cmd).string
                if path.count >= Int(PATH_MAX) {
                    return .failure(reject("\"\(c)\" not available for sendmail programs (filename too long)"))
                }
                let cpath = path.map { CChar(bitPattern: $0) } + [0]
                var st = stat()
                if stat(cpath, &st) < 0 {
                    return .failure(reject("\"\(c)\" not available for sendmail programs (stat failed)"))
                }
                let type = st.st_mode & S_IFMT
                if type != S_IFREG && type != S_IFLNK {
                    return .failure(reject("\"\(c)\" not available for sendmail programs (not a file)"))
                }
                if access(cpath, X_OK) < 0 {
                    return .failure(reject("\"\(c)\" not available for sendmail programs"))
                }
                if let r = add(cmd, command: true) { return .failure(r) }
            }
            isExec = false
            guard hasRest else { break }
            // Look for shell specials after the command name.
            let p = nameEnd
            var r = p
            while r < par.count && par[r] != 0 && !CommandFilter.isSpecialByte(par[r]) { r += 1 }
            if r >= par.count || par[r] == 0 {
                if let e = add(par[p..<r], command: false) { return .failure(e) }
                break
            }
            if (par[r] == 0x26 && at(r + 1) == 0x26) || (par[r] == 0x7C && at(r + 1) == 0x7C) {
                if let e = add(par[p..<(r + 2)], command: false) { return .failure(e) }
                q = r + 2
                continue
            }
            return .failure(Rejection(message: program + Array(": cannot use ".utf8) + [par[r]] + Array(" in command".utf8),
                                      status: .unavailable))
        }
        if isExec { return .failure(reject("missing command to exec")) }
        if out.isEmpty {
            return .failure(Rejection(message: Array("Usage: ".utf8) + program + Array(" -c command".utf8), status: .usage))
        }
        return .success(out)
    }

    /// A special byte, in its 7-bit or its 8-bit (bit 7 set) form.
    static func isSpecialByte(_ b: UInt8) -> Bool {
        specials.contains(b) || (b >= 0x80 && specials.contains(b & 0x7F))
    }
}
