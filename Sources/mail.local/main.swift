// mail.local/main.swift
//
// mail.local: store mail in a mailbox (sendmail's local delivery agent),
// a drop-in for Debian's /usr/libexec/sendmail/mail.local 8.17.
//   mail.local [-7] [-b] [-d] [-D mbdb] [-l] [-f from|-r from] [-h filename] user ...
// Reads a message from stdin and appends it to /var/mail/<user> for each
// user (or speaks LMTP with -l).  Exit status: 0, or 69 / 75 as the real
// one decides (any temporary error wins).
//
// Test hook: the environment variable MAIL_LOCAL_SPOOL_DIR replaces the
// spool directory /var/mail (the dot lock follows it).  It is ignored
// when the program runs set-user-ID (real uid != effective uid).
#if canImport(Glibc)
import Glibc
#endif
import SMBase

let out = OutputBuffer()
let reporter = Reporter(out: out)

// Like the real tool: close stray descriptors 10..29 and use umask 077.
for fd in Int32(10)..<30 { close(fd) }
umask(0o077)

// Raw argv bytes: String would re-encode 8-bit user and sender names.
let argv: [[UInt8]] = (0..<Int(CommandLine.argc)).map { i in CommandLine.unsafeArgv[i].map { p in Array(UnsafeBufferPointer(start: p, count: strlen(p))).map { UInt8(bitPattern: $0) } } ?? [] }
let program = argv.first.map { $0.string } ?? "mail.local"
guard let args = MailLocalArguments.parse(Array(argv.dropFirst()), program: program, reporter: reporter) else {
    exit(reporter.exitValue)
}
reporter.bounceQuota = args.bounceQuota
let biff = Biff()

guard let database = UserDatabase(spec: args.mailboxDatabase) else {
    reporter.error("521", "Can not open mailbox database \(args.mailboxDatabase): Service unavailable")
    exit(SysExit.unavailable.rawValue)
}

var spool = "/var/mail"
if getuid() == geteuid(), let p = getenv("MAIL_LOCAL_SPOOL_DIR"), p.pointee != 0 {
    spool = String(cString: p)
}

let input = InputReader()
let writer = MailboxWriter(reporter: reporter, database: database, spool: spool,
                           homeMailFile: args.homeMailFile, biff: biff)

if args.lmtp {
    reporter.lmtpMode = true
    if !args.users.isEmpty {
        reporter.error("421", "Users should not be specified in command line if LMTP required")
        out.flush()
        exit(SysExit.tempFail.rawValue)
    }
    LMTPSession(reporter: reporter, input: input, writer: writer, database: database,
                eightBitMIME: args.eightBitMIME).run()
}

if args.users.isEmpty {
    reporter.exitValue = SysExit.usage.rawValue
    reporter.error(nil, MailLocalArguments.usageText)
    exit(reporter.exitValue)
}

let from = args.from ?? Sys.defaultSender()
reporter.holdErrors = true
let outcome = MessageSpool(reporter: reporter, input: input, lmtp: false).store(from: from)
reporter.holdErrors = false
guard case .stored(let message) = outcome else {
    reporter.flush()
    exit(reporter.exitValue)
}
for user in args.users { writer.deliver(message, to: user) }
exit(reporter.exitValue)
