// sendmail/main.swift
//
// The `sendmail` executable (and its argv[0] names: mailq, newaliases,
// hoststat, purgestat).  Parses the command line, loads the configuration
// and runs the chosen mode.
import Glibc
import SMBase
import SMRules
import SMEngine
import SMConfig
import SMDaemon

// descriptors the caller left open to us (before we open any): no
// program we start gets them, and a background delivery closes them
// (read from /proc/self/fd: one directory read instead of an fcntl for
// each of up to 4096 numbers, about 0.3 ms of a submission; the probe loop
// stays for a system without /proc)
func openDescriptors() -> [Int32] {
    let limit = Int32(min(getdtablesize(), 4096))
    if let dir = opendir("/proc/self/fd") {
        defer { closedir(dir) }
        let own = dirfd(dir)
        var found: [Int32] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            guard !name.isEmpty, name.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let fd = Int32(String(decoding: name, as: UTF8.self)),
                  fd >= 3, fd < limit, fd != own else { continue }
            found.append(fd)
        }
        return found.sorted()
    }
    return (3..<limit).filter { fcntl($0, F_GETFD) >= 0 }
}
let inheritedDescriptors = openDescriptors()
for fd in inheritedDescriptors { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
let args: [[UInt8]] = Swift.CommandLine.arguments.map { Array($0.utf8) }
var cl = SMEngine.CommandLine(args)
let stdoutBuffer = OutputBuffer(flushHandler: { bytes in
    var off = 0
    while off < bytes.count {
        let n = bytes[off...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        off += n
    }
})

func finish(_ status: SysExit) -> Never {
    stdoutBuffer.flush()
    exit(status.rawValue)
}

if let m = cl.getoptError {
    let bytes = Array((m + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    finish(.usage)
}
if let (message, status) = cl.error {
    stdoutBuffer.write(message + "\n")
    finish(status)
}

if let m = cl.bodyTypeError { stdoutBuffer.write(m + "\n") }
if !cl.usageErrors.isEmpty {
    for m in cl.usageErrors { stdoutBuffer.write(m + "\n") }
    finish(.usage)
}

let cfPath = cl.configFile.map { $0.string } ?? "/etc/mail/sendmail.cf"
var start = StartOptions(configFile: cfPath)
start.configGivenOnCommandLine = cl.configFile != nil
start.testMode = cl.mode == .test
start.commandLineOptions = cl.options
start.commandLineMacros = cl.macros
start.argumentMacroNames = [(cl.notify, "dsn_notify"), (cl.ret, "dsn_ret"), (cl.envid, "dsn_envid")]
    .compactMap { $0.0 == nil ? nil : Array($0.1.utf8) }
start.noAlias = cl.noAlias
start.inheritedDescriptors = inheritedDescriptors
start.realUID = getuid()
if let pw = getpwuid(getuid()) { start.realUserName = Array(String(cString: pw.pointee.pw_name).utf8) }

let cfData: [UInt8]
switch SystemCfSource().readFile(Array(cfPath.utf8)) {
case .success(let d):
    cfData = d
case .failure(let e):
    stdoutBuffer.write("\(cfPath): line 0: cannot open: \(e.reason)\n")
    finish(.osFile)
}

let engine = Engine(options: start, cfData: cfData, out: stdoutBuffer)
if let code = engine.config.fatalExit {
    stdoutBuffer.flush()
    exit(code)
}
if let x = cl.trafficLogFile, [.smtp, .deliver, .queueRun].contains(cl.mode) { engine.startTrafficLog(x) }
// RunAsUser: root gives way to that user before the work starts
if [.smtp, .deliver, .queueRun].contains(cl.mode) { engine.applyRunAsUser() }

switch cl.mode {
case .test:
    let tm = TestMode(engine: engine)
    for d in cl.debug { tm.setDebug(d) }
    tm.banner()
    // sendmail reads with a 2048-byte fgets: longer lines arrive in pieces.
    var pending = PendingBytes()
    var inbuf = [UInt8](repeating: 0, count: 65536)
    var eof = false
    func nextLine() -> [UInt8]? {
        while true {
            if let nl = pending.firstIndex(of: 0x0A), nl < Limits.maxLine - 1 {
                return pending.take(nl, skipping: 1)
            }
            if pending.count >= Limits.maxLine - 1 {
                return pending.take(Limits.maxLine - 1)
            }
            if eof {
                if pending.isEmpty { return nil }
                return pending.takeAll()
            }
            let n = inbuf.withUnsafeMutableBytes { read(0, $0.baseAddress, 65536) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { eof = true } else { pending.append(inbuf[0..<n]) }
        }
    }
    while !tm.quit {
        stdoutBuffer.write("> ")
        stdoutBuffer.flush()
        guard let line = nextLine() else { break }
        tm.line(line)
    }
    stdoutBuffer.flush()
    // finis(): a temporary failure is not an error exit
    finish(engine.exitStatus == .tempFail ? .ok : engine.exitStatus)
case .initAlias:
    let status = engine.rebuildAllAliases()
    finish(status == .tempFail ? .ok : status)
case .checkConfig:
    engine.postReadChecks()
    finish(engine.exitStatus == .tempFail ? .ok : engine.exitStatus)
case .verify:
    engine.postReadChecks()
    if engine.exitStatus != .ok { finish(engine.exitStatus) }
    engine.applyDebug(cl.debug)
    // the envelope's sender, as sendmail's main() sets it before any mode
    _ = engine.setSender(cl.from)
    let status = engine.verify(cl.operands)
    finish(status == .tempFail ? .ok : status)
case .printQueue:
    let status = engine.printQueue(arguments: cl.queueArgs)
    finish(status == .tempFail ? .ok : status)
case .queueRun where getenv(Engine.deliveryWorkerVariable) != nil:
    // the SMTP daemon's delivery worker (QueueWorker.swift): queue IDs
    // from the pipe it names, each delivered as -qI<id> would be
    let fd = Int32(String(cString: getenv(Engine.deliveryWorkerVariable))) ?? -1
    unsetenv(Engine.deliveryWorkerVariable)
    // the pipe on which it reports the spare queue files it parks
    if let r = getenv(QueueSpares.reportVariable) {
        QueueSpares.reportTo(fd: Int32(String(cString: r)) ?? -1)
        unsetenv(QueueSpares.reportVariable)
    }
    finish(fd >= 0 ? engine.runDeliveryWorker(fd: fd) : .usage)
case .queueRun where cl.quarantine != nil:
    let reason = cl.quarantine == Array(".".utf8) ? nil : cl.quarantine
    finish(engine.changeQuarantine(reason: reason, arguments: cl.queueArgs))
case .queueRun:
    switch engine.queueRunMode(cl.queueArgs) {
    case .periodic:
        if getenv(Engine.queueDaemonMarker) != nil, let (interval, persistent) = engine.queueInterval(cl.queueArgs) {
            engine.runQueueDaemon(argv: args, interval: interval, persistent: persistent)
        }
        finish(Engine.startQueueDaemon(argv: args) ? .ok : .osErr)
    case .background:
        finish(Engine.startBackgroundQueueRun(arguments: args) ? .ok : .osErr)
    case .foreground:
        let status = engine.runQueue(arguments: cl.queueArgs)
        finish(status == .tempFail ? .ok : status)
    }
case .printQueueCount:
    // -bP reads the queue counts sendmail keeps in shared memory; we keep none
    stdoutBuffer.write("Data unavailable: shared memory not updated\n")
    finish(.ok)
case .showOptions:
    for name in OptionNames.listing { stdoutBuffer.write(name + "\n") }
    finish(.ok)
case .hostStatus, .purgeStatus:
    let status = engine.hostStatus(purge: cl.mode == .purgeStatus)
    finish(status)
case .deliver:
    // The message is queued, then delivered as DeliveryMode says (i: now,
    // b: in a child after we exit, q/d: by a queue run).
    engine.postReadChecks()
    if engine.exitStatus != .ok { finish(engine.exitStatus) }
    var so = SubmitOptions()
    so.from = cl.from
    so.fullName = cl.fullName
    so.readRecipients = cl.readRecipients
    so.notify = cl.notify
    so.ret = cl.ret
    so.envid = cl.envid
    so.bodyType = cl.bodyType
    so.recipients = cl.operands
    so.usageError = cl.bodyTypeError != nil
    let status = engine.submit(so, readInput: {
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(0, $0.baseAddress, 65536) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: buf[0..<n])
        }
        engine.logSubmittedInput(data)
        return data
    })
    finish(status == .tempFail ? .ok : status)
case .smtp:
    // -bs: an SMTP session on stdin/stdout; a message accepted at DATA
    // is delivered after its 250 as DeliveryMode says.
    engine.postReadChecks()
    if engine.exitStatus != .ok { finish(engine.exitStatus) }
    engine.applyDebug(cl.debug)
    let server = SMTPServer(engine: engine)
    // ETRN starts a detached queue run, as sendmail's -bs does
    let etrnStart = start
    server.startQueueRun = { selections in
        var argv: [[UInt8]] = [Array("sendmail".utf8), Array("-C".utf8), Array(etrnStart.configFile.utf8)]
        for (code, rest) in etrnStart.commandLineOptions {
            argv.append(code == 0x20 ? Array("-O".utf8) + rest : Array("-o".utf8) + [code] + rest)
        }
        for m in etrnStart.commandLineMacros { argv.append(Array("-M".utf8) + m) }
        return Engine.startBackgroundQueueRun(arguments: argv + selections)
    }
    var pending = PendingBytes()
    var inbuf = [UInt8](repeating: 0, count: 65536)
    stdoutBuffer.write(server.greeting())
    stdoutBuffer.flush()
    var closed = false
    reading: while !closed {
        // every complete line read so far is answered, in order; replies
        // go out before the next read (pipelining)
        while let nl = pending.firstIndex(of: 0x0A) {
            let line = pending.take(nl, skipping: 1)
            // more input already there (buffered, readable or at EOF, as
            // select() says): HELO/EHLO then refuse a client that did not wait
            var more = !pending.isEmpty
            if !more {
                var pfd = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
                more = poll(&pfd, 1, 0) > 0 && pfd.revents != 0
            }
            engine.trafficLog?.read(line)
            let (reply, close) = server.handle(line, inputPending: more)
            if server.replyDelay > 0 { sleep(UInt32(server.replyDelay)) }
            stdoutBuffer.write(reply)
            // DeliveryMode i/b: the message just accepted goes now
            server.deliverAccepted()
            if close { closed = true; break reading }
        }
        stdoutBuffer.flush()
        let n = inbuf.withUnsafeMutableBytes { read(0, $0.baseAddress, 65536) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        pending.append(inbuf[0..<n])
    }
    if closed {
        stdoutBuffer.flush()
        finish(server.exitStatus == .tempFail ? .ok : server.exitStatus)
    }
    let (reply, status) = server.endOfInput()
    stdoutBuffer.write(reply)
    finish(status == .tempFail ? .ok : status)
case .daemon, .foregroundDaemon:
    // -bd detaches (the parent exits once the child's listeners are up),
    // -bD stays in the foreground
    engine.postReadChecks()
    if engine.exitStatus != .ok { finish(engine.exitStatus) }
    stdoutBuffer.flush()
    if cl.mode == .daemon && getenv(Daemon.readyVariable) == nil {
        finish(Daemon.detach(arguments: args, report: { stdoutBuffer.write($0 + "\n") }))
    }
    let readyFD = getenv(Daemon.readyVariable).flatMap { Int32(String(decoding: Array(UnsafeBufferPointer(start: $0, count: strlen($0))).map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
    unsetenv(Daemon.readyVariable)
    let startCopy = start
    let status = Daemon.run(prototype: engine, arguments: args, startOptions: startCopy,
                            queueInterval: engine.queueInterval(cl.queueArgs), load: {
        guard case .success(let data) = SystemCfSource().readFile(Array(startCopy.configFile.utf8)) else { return nil }
        let e = Engine(options: startCopy, cfData: data, out: OutputBuffer())
        e.postReadChecks()
        return e.exitStatus == .ok ? e : nil
    }, ready: { message in
        if let fd = readyFD {
            let text = Array((message ?? "ok").utf8)
            _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        } else if let m = message {
            stdoutBuffer.write(m + "\n")
            stdoutBuffer.flush()
        }
    })
    finish(status)
default:
    stdoutBuffer.write("sendmail: this mode (-b\(String(UnicodeScalar(cl.mode.rawValue)))) is not implemented yet\n")
    finish(.unavailable)
}
