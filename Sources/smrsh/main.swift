// smrsh/main.swift
//
// smrsh: sendmail's restricted shell, a drop-in for Debian's
// /usr/libexec/sendmail/smrsh 8.17.   Usage: smrsh -c command
// Checks the command (CommandFilter) and runs it with
// execle("/bin/sh", "/bin/sh", "-c", cmd) and the environment reduced to
// PATH=/usr/bin:/bin.  Exit status: 64 for usage errors, 69 for refused
// commands, 72 if /bin/sh cannot be executed, else the shell's.
//
// Test hook: the environment variable SMRSH_CMDDIR replaces the command
// directory /etc/mail/smrsh; it is ignored when running set-user-ID.
#if canImport(Glibc)
import Glibc
#endif
import SMBase

// Raw argv bytes: String would re-encode 8-bit arguments.
let rawArgs: [[UInt8]] = (0..<Int(CommandLine.argc)).map { i in CommandLine.unsafeArgv[i].map { p in Array(UnsafeBufferPointer(start: p, count: strlen(p))).map { UInt8(bitPattern: $0) } } ?? [] }
let program = rawArgs.first ?? Array("smrsh".utf8)

func fail(_ line: [UInt8], _ status: SysExit) -> Never {
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    _ = write(2, "\n", 1)
    exit(status.rawValue)
}

if rawArgs.count != 3 || rawArgs[1] != Array("-c".utf8) {
    fail(Array("Usage: ".utf8) + program + Array(" -c command".utf8), .usage)
}

var dir = Array("/etc/mail/smrsh".utf8)
if getuid() == geteuid(), let d = getenv("SMRSH_CMDDIR"), d.pointee != 0 {
    dir = String(cString: d).latin1Bytes
}

let filter = CommandFilter(commandDirectory: dir, program: program)
switch filter.filter(rawArgs[2]) {
case .failure(let r):
    fail(r.message, r.status)
case .success(let command):
    let cmd = command.map { CChar(bitPattern: $0) } + [0]
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(cmd), nil]
    let envp: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin"), nil]
    execve("/bin/sh", argv, envp)
    let e = errno
    fail(Array("/bin/sh: \(String(cString: strerror(e)))".utf8), .osFile)
}
