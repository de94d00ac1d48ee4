// SMEngine/SMTPDelivery.swift
//
// Delivery through SMTP and LMTP mailers as sendmail's deliver() and
// usersmtp.c do it: P=[IPC] mailers over TCP, and mailers whose A= has no
// $u over their program's pipe (SMTPDeliveryPipe.swift; F=z: LMTP, as
// FEATURE(local_lmtp)'s).  The host is $h from ruleset 0; an `[address]`
// literal is connected to directly, any other name through getmxrr as
// deliver() asks it (HostResolution: the local host and every MX after it
// dropped, FallbackMXhost last; an MX list whose best host is this one is
// the "MX list for h points back to $j" configuration error; no such
// domain: "Host unknown (Name server: h: host not found)"), each MX host
// in turn ("Connecting to <MX host> via <mailer>"), its addresses IPv6
// then IPv4 as Debian's sendmail finds them.  Each host's outcome is kept
// for the run and written to HostStatusDirectory (refused: E<errno> S75
// D4.4.1; no address: H2 S75 D4.4.3 or S68; greeting 421 S75 D4.5.0 with
// an empty R, 5xx S69 D5.5.0 R<reply>; a session S0, after a message
// D<status> R<its reply>); a host whose last attempt failed less than
// Timeout.hoststatus ago is passed over without a connection, its status
// giving the recipients' ("Deferred: Connection refused by h").  One
// transaction per group (the send list's grouping by mailer and host, at
// most r= recipients); SMTPClient (SMSMTP) decides the dialogue, this file
// carries it out and maps each reply into the recipient's fate as sendmail
// maps it: 2xx sent ("Sent (text)"; LMTP's delivered ones together),
// 4xx deferred ("Deferred: <reply>", a RCPT's also the recipient's qf M
// line), 5xx failed (RCPT 550/551/553 User unknown, MAIL 553 Data format
// error, others Service unavailable) with a DSN whose Remote-MTA is the
// SMTP peer and Diagnostic-Code the reply; enhanced codes count when the
// peer offered ENHANCEDSTATUSCODES.  Also: the -v dialogue (">>> command"
// and the reply lines), the transcript's "... while talking to host:"
// part, the -X traffic log, the log line's relay=/dsn=/reply=, SIZE= as
// sendmail's e_msgsize, MAIL From:<> for bounces.
//
// Transport decision: a queue run delivers in its own process (as
// sendmail's), so the socket is a plain blocking one and every read and
// write waits with poll() for at most the Timeout.* of its phase
// (connect, initial, helo, mail, rcpt, datainit, datablock, datafinal,
// rset, quit); a timeout defers the recipients still open.
// Sessions stay open for the rest of the queue run (a submission's: its
// job; a daemon's delivery worker's: across its messages, QueueWorker.swift)
// in the slots of sendmail's connection cache: ConnectionCacheSize
// of them (default 1); a new session takes a free slot, else that of a
// session already lost, else that of the one used least recently (of
// equals the later slot), which is closed first, as are those idle for
// ConnectionCacheTimeout; a cached session (found by MX host name) is
// probed with RSET before each reuse ("Using cached ... connection"); at
// the end they are closed, last slot first, with QUIT ("Closing connection
// to host").
// STARTTLS and AUTH: SMTPDelivery+TLS.swift and SMTPDelivery+Auth.swift,
// called once the session is greeted.
// 8->7 MIME conversion (SMMime's mime8to7) for a peer without 8BITMIME
// (EightBitMode s and m convert a message that is not MIME too, base64
// with charset unknown-8bit, as measured); a message sendmail will not
// MIME (EF_DONT_MIME: an RFC 1049 Content-Type without "/") with 8-bit
// data is refused for such a peer unless EightBitMode=p: "<host> does not
// support 8BITMIME", 5.6.3, EX_DATAERR, the session kept.
// Recipients of different hosts go in one transaction as sendmail's
// deliver() groups them (smtpGroup): following the send list (sorted by
// host) while their host signature (the MX hosts: ',' within a
// preference, ':' between) equals the first one's, or matches it up to
// the first ':' (the first MX preference
// level: "coattail piggybacking"; those recipients are dropped from the
// group when the second host is tried); the first other signature ends
// the group.
// tls_rcpt (SMTPDelivery+TLS.swift) is asked for each recipient before
// its RCPT; one it refuses is not named to the peer.
// DELIVERBY (qf `!`): BY=<seconds left>;R|N[T] on MAIL for a peer that
// offers DELIVERBY; a return-mode message to a new session whose peer
// does not offer it, or whose minimum is more than is left, fails with
// 5.4.7 ("Server does not support Deliver By", "Message can't be
// delivered in time; n < m").
// The connection cache is sendmail's MciCache: ConnectionCacheSize slots,
// made by the first scan (so the first session takes the last slot), a
// session's last use the time of its last reply; a new session takes the
// last free slot, else that of the session used least recently (of
// equals, the first slot); idle sessions, and those that made their
// mailer's m= deliveries, are closed at each scan; at the
// job's end the sessions are closed in slot order.
// SingleThreadDelivery: the host's status file is locked (HostStatus+Record.swift)
// before it is connected to and for as long as the session lasts; a host
// another process holds is passed over as deferred (4.4.5).
// Not yet: the signature's cache for the MX records' TTL (looked up again
// here), the eviction sendmail makes of a session refused at its greeting (5xx) or
// failed TLS when the next one opens.

import Glibc
import SMBase
import SMConfig
import SMSMTP
import SMQueueFormat

/// A byte stream to a peer: what the SMTP delivery needs of a socket.
protocol SMTPTransport: AnyObject {
    /// Writes everything within `timeout` seconds; 0 or an errno.
    func write(_ bytes: [UInt8], timeout: Int) -> Int32
    /// One line without its LF (a CR before it is kept).
    func readLine(timeout: Int) -> SMTPLineResult
    func close()
}

enum SMTPLineResult {
    case line([UInt8])
    case timedOut
    case closed
    case failed(Int32)
}

/// Bytes read from a peer, handed out a line (up to LF, without it) at
/// a time; the consumed prefix is dropped once it passes 4 KB.
struct ReplyLineBuffer {
    private var buffer: [UInt8] = []
    private var start = 0

    mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 { buffer += bytes }

    /// The next whole line, or nil until one has arrived.
    mutating func nextLine() -> [UInt8]? {
        guard let nl = buffer[start...].firstIndex(of: 0x0A) else { return nil }
        let line = Array(buffer[start..<nl])
        start = nl + 1
        if start > 4096 { buffer.removeFirst(start); start = 0 }
        return line
    }
}

/// A blocking TCP socket with poll() deadlines.
final class SocketTransport: SMTPTransport {
    let fd: Int32
    var lines = ReplyLineBuffer()

    init(fd: Int32) { self.fd = fd }

    /// Connects to `address` within `timeout` seconds: the transport or
    /// an errno.
    static func connect(_ address: PeerAddress, timeout: Int) -> (SocketTransport?, Int32) {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return (nil, errno) }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, address.length) }
        }
        if rc != 0 {
            guard errno == EINPROGRESS else { let e = errno; Glibc.close(fd); return (nil, e) }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let n = poll(&p, 1, Int32(max(timeout, 1)) * 1000)
            if n == 0 { Glibc.close(fd); return (nil, ETIMEDOUT) }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if n < 0 || err != 0 { Glibc.close(fd); return (nil, err != 0 ? err : errno) }
        }
        _ = fcntl(fd, F_SETFL, flags)
        return (SocketTransport(fd: fd), 0)
    }

    func write(_ bytes: [UInt8], timeout: Int) -> Int32 {
        var off = 0
        while off < bytes.count {
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let n = poll(&p, 1, Int32(max(timeout, 1)) * 1000)
            if n == 0 { return ETIMEDOUT }
            if n < 0 { if errno == EINTR { continue }; return errno }
            let w = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if w < 0 { if errno == EINTR || errno == EAGAIN { continue }; return errno }
            off += w
        }
        return 0
    }

    func readLine(timeout: Int) -> SMTPLineResult {
        let deadline = time(nil) + time_t(max(timeout, 1))
        while true {
            if let line = lines.nextLine() { return .line(line) }
            let left = deadline - time(nil)
            if left <= 0 { return .timedOut }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let n = poll(&p, 1, Int32(left) * 1000)
            if n == 0 { return .timedOut }
            if n < 0 { if errno == EINTR { continue }; return .failed(errno) }
            var r = 0
            let chunk = [UInt8](unsafeUninitializedCapacity: 4096) { buf, n in
                r = read(fd, buf.baseAddress, buf.count)
                n = max(0, r)
            }
            if r == 0 { return .closed }
            if r < 0 { if errno == EINTR || errno == EAGAIN { continue }; return .failed(errno) }
            lines.append(chunk[...])
        }
    }

    func close() { Glibc.close(fd) }
}

/// One address to connect to, with the text sendmail shows for it.
struct PeerAddress {
    var family: Int32
    var storage: sockaddr_storage
    var length: socklen_t
    var text: String

    /// An IPv4 or IPv6 literal (without brackets; "IPv6:" allowed) on `port`.
    static func literal(_ s: String, port: UInt16) -> PeerAddress? {
        var storage = sockaddr_storage()
        var text = s
        if text.lowercased().hasPrefix("ipv6:") { text = String(text.dropFirst(5)) }
        var a4 = in_addr()
        if inet_pton(AF_INET, text, &a4) == 1 {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            sin.sin_addr = a4
            withUnsafeMutableBytes(of: &storage) { dst in withUnsafeBytes(of: sin) { dst.copyMemory(from: $0) } }
            return PeerAddress(family: AF_INET, storage: storage, length: socklen_t(MemoryLayout<sockaddr_in>.size), text: text)
        }
        var a6 = in6_addr()
        if inet_pton(AF_INET6, text, &a6) == 1 {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            sin6.sin6_addr = a6
            withUnsafeMutableBytes(of: &storage) { dst in withUnsafeBytes(of: sin6) { dst.copyMemory(from: $0) } }
            return PeerAddress(family: AF_INET6, storage: storage, length: socklen_t(MemoryLayout<sockaddr_in6>.size),
                               text: "IPv6:" + text)
        }
        return nil
    }

    /// The addresses of a host name as Debian's sendmail (NETINET6) finds
    /// them: the IPv6 ones first, then the IPv4 ones, each through
    /// getaddrinfo (the system's switch, hosts file and resolver, the name
    /// given as sendmail gives it to the resolver, trailing dot and all).
    /// A lookup that must be tried again (EAI_AGAIN: a resolver that does
    /// not answer) fails the whole lookup, as sendmail's TRY_AGAIN does.
    static func resolve(_ host: String, port: UInt16) -> ([PeerAddress], Int32) {
        let r6 = resolve(host, port: port, family: AF_INET6)
        if r6.1 == EAI_AGAIN { return ([], EAI_AGAIN) }
        let r4 = resolve(host, port: port, family: AF_INET)
        if r4.1 == EAI_AGAIN { return ([], EAI_AGAIN) }
        let all = r6.0 + r4.0
        return (all, all.isEmpty ? r4.1 : 0)
    }

    static func resolve(_ host: String, port: UInt16, family: Int32) -> ([PeerAddress], Int32) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = family
        var res: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(host, nil, &hints, &res)
        guard rc == 0 else { return ([], rc) }
        defer { freeaddrinfo(res) }
        var out: [PeerAddress] = []
        var p = res
        while let ai = p {
            var buf = [CChar](repeating: 0, count: 64)
            if ai.pointee.ai_family == AF_INET {
                var sin = ai.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
                inet_ntop(AF_INET, &sin.sin_addr, &buf, 64)
                if let a = literal(String(cString: buf), port: port), !out.contains(where: { $0.text == a.text }) { out.append(a) }
            } else if ai.pointee.ai_family == AF_INET6 {
                var sin6 = ai.pointee.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
                inet_ntop(AF_INET6, &sin6.sin6_addr, &buf, 64)
                if let a = literal(String(cString: buf), port: port), !out.contains(where: { $0.text == a.text }) { out.append(a) }
            }
            p = ai.pointee.ai_next
        }
        return (out, 0)
    }
}

/// An open SMTP session (sendmail's mci) kept until the job ends.
final class SMTPConnection {
    /// SingleThreadDelivery: the host status file held locked while the
    /// session lasts (let go when the session is dropped).
    var hostLock: String? = nil
    deinit { if let p = hostLock { HostStatusFile.unlock(path: p) } }
    let host: [UInt8]
    let mailerName: [UInt8]
    /// The peer's address (nil: a mailer program on a pipe).
    let address: PeerAddress?
    var transport: SMTPTransport?
    var client: SMTPClient
    /// Greeted and ready for a transaction.
    var usable = false
    /// The last command sent (sendmail's SmtpMsgBuffer), for the
    /// transcript's ">>> " line; cleared once shown.
    var lastCommand: [UInt8]? = nil
    /// What the session waited for when it was lost.
    var lostWhile: SMTPClient.Awaiting = .nothing
    /// When it was last used (the connection cache's LRU order).
    var lastUse: time_t = 0
    /// Transactions on it after the first (the mailer's m= ends it).
    var deliveries = 0

    init(host: [UInt8], mailerName: [UInt8], address: PeerAddress?, transport: SMTPTransport, client: SMTPClient) {
        self.host = host; self.mailerName = mailerName; self.address = address
        self.transport = transport; self.client = client
        self.peerName = host
    }

    /// The log line's relay= ("host [address]"; a pipe: the mailer's name).
    var relay: String? { address.map { "\(peerName.string) [\($0.text)]" } ?? host.string }
    /// The host actually talked to (an MX host of `host`, or itself),
    /// as the transcript, the log and the -v lines name it.
    var peerName: [UInt8] = []
}

extension Engine {
    /// Timeout.<name> in seconds (sendmail's defaults).
    func smtpTimeout(_ name: String) -> Int {
        if let v = config.options.subValues["Timeout.\(name)"] { return Engine.seconds(v) }
        return Self.smtpTimeoutDefaults[name] ?? 300
    }

    /// sendmail's defaults of the client's Timeout.* (seconds).
    static let smtpTimeoutDefaults = ["connect": 0, "iconnect": 0, "initial": 300, "helo": 300, "mail": 600,
                                      "rcpt": 3600, "datainit": 300, "datablock": 3600, "datafinal": 3600,
                                      "rset": 300, "quit": 120, "starttls": 3600, "auth": 600]

    func timeout(for w: SMTPClient.Awaiting) -> Int {
        switch w {
        case .greeting: return smtpTimeout("initial")
        case .hello, .helo: return smtpTimeout("helo")
        case .startTLS: return smtpTimeout("starttls")
        case .auth: return smtpTimeout("auth")
        case .mail: return smtpTimeout("mail")
        case .rcpt: return smtpTimeout("rcpt")
        case .data: return smtpTimeout("datainit")
        case .dataEnd, .lmtpRecipient: return smtpTimeout("datafinal")
        case .rset: return smtpTimeout("rset")
        case .quit: return smtpTimeout("quit")
        case .nothing: return 1
        }
    }

    enum SMTPHosts {
        /// The hosts to try in order: the MX hosts (FallbackMXhost's
        /// last), or $h itself.
        case hosts([[UInt8]])
        /// The best MX is this host (getmxrr with droplocalhost).
        case pointsBack
        /// The name server failed (try again).
        case lookupFailed
        /// No such domain.
        case noSuchHost
    }

    /// getmxrr(host, droplocalhost, tryfallback) as deliver() asks it.
    func smtpHosts(_ host: [UInt8]) -> SMTPHosts {
        if host.first == UInt8(ascii: "["), host.last == UInt8(ascii: "]") { return .hosts([host]) }
        let mx = maps.hostResolution.mxHosts(host, dropLocalHost: true, tryFallback: true,
                                             localDomain: rewriter.macros[Int(UInt8(ascii: "m"))])
        if mx.count < 0 {
            if mx.status == SysExit.config.rawValue { return .pointsBack }
            return mx.status == SysExit.tempFail.rawValue ? .lookupFailed : .noSuchHost
        }
        if mx.count == 0 && mx.status == SysExit.noHost.rawValue { return .noSuchHost }
        return .hosts(mx.hosts.isEmpty ? [host] : Array(mx.hosts.prefix(max(mx.count, 1))))
    }

    /// The open sessions of the connection cache, in slot order.
    var smtpConnections: [SMTPConnection] { connectionSlots.compactMap { $0 } }

    /// mci_scan(): the slot a new session goes in.  The first scan of a
    /// job only makes the ConnectionCacheSize (default 1) slots (and
    /// answers the first); later ones close, on the way, the sessions
    /// idle for ConnectionCacheTimeout (default 5m) other than `keep`
    /// ("Closing connection", QUIT) and answer the last free slot (or
    /// one whose session was lost), else the slot of the session used
    /// least recently (its last reply; of equals, the first slot).  A
    /// free or lost slot, once found, is never traded for a live
    /// session, however recent the lost one's last use (a failed RSET
    /// probe stamps it as used).
    /// nil: nothing is cached (ConnectionCacheSize=0).
    @discardableResult
    func scanConnectionCache(keep: SMTPConnection? = nil, to: String, verbose: Bool) -> Int? {
        let size = connectionCacheSize
        guard size > 0 else { return nil }
        if connectionSlots.isEmpty {
            connectionSlots = Array(repeating: nil, count: size)
            return 0
        }
        let idle = config.options["ConnectionCacheTimeout"].map { Engine.seconds($0) } ?? 300
        let now = time(nil)
        var best = 0
        for i in connectionSlots.indices {
            guard let c = connectionSlots[i], c.transport != nil else { best = i; continue }
            // (idle too long, or its mailer's m= deliveries done; a mailer
            // program without m= is started again after programSessionUses)
            var most = config.mailer(named: c.mailerName)?.maxDeliveries ?? 0
            if most == 0 && c.address == nil { most = Self.programSessionUses }
            if c.lastUse + time_t(idle) <= now || (most > 0 && c.deliveries + 1 >= most), c !== keep {
                best = i
                uncacheConnection(slot: i, to: to, verbose: verbose)
                continue
            }
            guard let b = connectionSlots[best], b.transport != nil else { continue }
            if c.lastUse < b.lastUse { best = i }
        }
        return best
    }

    /// mci_uncache(): empties a slot, its session ended ("Closing
    /// connection to", after the recipients' "to... " while one is being
    /// delivered, and QUIT unless it was lost).
    func uncacheConnection(slot i: Int, to: String?, verbose: Bool) {
        guard let old = connectionSlots[i] else { return }
        connectionSlots[i] = nil
        if verbose { out.write((to.map { "\($0)... " } ?? "") + "Closing connection to \(old.peerName.string)\n") }
        endSession(old, verbose: verbose)
    }

    /// QUIT (unless the session was lost), then the connection closed.
    func endSession(_ c: SMTPConnection, verbose: Bool) {
        if c.usable, c.transport != nil {
            _ = drive(c, c.client.quit(), verbose: verbose, transcript: { _ in }) { _ in }
        }
        c.transport?.close()
        c.transport = nil
    }

    /// How many transactions a cached session with a mailer program (an
    /// LMTP `mail.local -l`, say) carries when the mailer sets no m=: then
    /// the program is ended and the next message starts a new one, as
    /// postfix's processes end after max_use (100) requests.  sendmail
    /// starts a program for every delivery; ours keep one in a delivery
    /// worker for as long as messages come, and a program that leaks
    /// (Debian's `mail.local -l` grows by about 4.5 KB a message) would
    /// otherwise grow for as long as the worker lives.
    static let programSessionUses = 100

    /// ConnectionCacheSize (default 1).
    var connectionCacheSize: Int { config.options["ConnectionCacheSize"].flatMap { Int($0.string) } ?? 1 }


    /// mci_cache(): a session just opened takes the slot
    /// scanConnectionCache() gives, whose session is ended first.
    func cacheConnection(_ c: SMTPConnection, to: String, verbose: Bool) {
        c.lastUse = time(nil)
        guard let slot = scanConnectionCache(keep: c, to: to, verbose: verbose) else { return }
        if connectionSlots[slot] === c { return }
        uncacheConnection(slot: slot, to: to, verbose: verbose)
        connectionSlots[slot] = c
    }

    /// mci_get() on a cached session: probed with RSET; false (and the
    /// session closed) when it is gone.
    func probeCached(_ c: SMTPConnection, verbose: Bool) -> Bool {
        c.lastUse = time(nil)
        var alive = false
        let lost = drive(c, c.client.reset(), verbose: verbose, transcript: { _ in }) { a in
            if case .transactionDone = a { alive = true }
        }
        if lost != nil || !alive {
            c.usable = false
            c.transport?.close()
            c.transport = nil
            return false
        }
        return true
    }

    func hostStatusKey(_ h: [UInt8], mailer m: Mailer) -> String {
        m.name.string + "\u{0}" + String(decoding: h.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    /// What is known of `h`'s last attempt: this run's, else the host
    /// status file's; nil once older than Timeout.hoststatus (mci_get()).
    func knownHostStatus(_ h: [UInt8], mailer m: Mailer) -> HostStatusRecord? {
        let now = Int64(time(nil))
        var st = smtpHostStatus[hostStatusKey(h, mailer: m)]
        if st == nil, let dir = hostStatusDirectory { st = HostStatusFile.read(host: h, directory: dir) }
        guard let s = st, s.updated + Int64(hostStatusTimeout) > now else { return nil }
        return s
    }

    /// Keeps the outcome of an attempt on `h` for the run and in
    /// HostStatusDirectory (mci_setstat, mci_store_persistent).
    func noteHostStatus(_ h: [UInt8], mailer m: Mailer, _ st: HostStatusRecord) {
        smtpHostStatus[hostStatusKey(h, mailer: m)] = st
        recordHostStatus(host: h, exitStatus: st.exitStatus, dsn: st.dsn, reply: st.reply, errno: st.errno,
                         hErrno: st.hErrno, now: st.updated)
    }

    /// The best MX host of $h is this host: syserr()'s line (shown,
    /// logged as SYSERR) and the group fails with EX_CONFIG.
    func mxPointsBack(_ group: [QueuedRecipient], host: [UInt8], mailer m: Mailer, verbose: Bool,
                      outcome: inout DeliveryOutcome, log: DeliveryLogContext, started: time_t) {
        var h = host
        if h.last == UInt8(ascii: ".") { h.removeLast() }
        let me = rewriter.macros[Int(UInt8(ascii: "j"))] ?? []
        let text = "MX list for \(h.string) points back to \(me.string)"
        out.write(text + "\n")
        outcome.transcript += Array("554 5.0.0 \(text)\n".utf8)
        if let sink = logSink {
            sink.log(priority: LOG_CRIT, "\(log.id.string): SYSERR(\(options.realUserName.string)): \(text)")
        }
        if exitStatus == .ok || exitStatus == .tempFail { exitStatus = .software }
        record(SysExit.config.rawValue, "", group: group, mailer: m, verbose: verbose, outcome: &outcome,
               log: log, started: started, relay: host.string, dsn: "5.3.5")
        // (the DSN names the host as Remote-MTA and gives no Diagnostic-Code)
        for q in group {
            q.report?.diagnostic = nil
            q.report?.remoteMTA = (m.mtaType ?? Array("dns".utf8), h)
        }
    }

    /// No such host: EX_NOHOST with the name server's word, and a DSN
    /// naming the host as Remote-MTA with "550 Host unknown".
    func hostUnknown(_ group: [QueuedRecipient], host: [UInt8], mailer m: Mailer, verbose: Bool,
                     outcome: inout DeliveryOutcome, log: DeliveryLogContext, started: time_t, relay: String) {
        record(SysExit.noHost.rawValue, "Host unknown (Name server: \(host.string): host not found)", group: group,
               mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started, relay: relay, dsn: "5.1.2")
        for q in group {
            q.report?.diagnostic = (m.diagType ?? Array("smtp".utf8), Array("550 Host unknown".utf8))
            q.report?.remoteMTA = (m.mtaType ?? Array("dns".utf8), host)
        }
    }

    /// sendmail's e_msgsize: what this process made the envelope with
    /// (envelopeSizes), else, read from the queue, the data file's size and, per
    /// qf header line, its length less three (measured against sendmail
    /// 8.17: the header text and the bytes of its ?condition?).
    func messageSize(_ qf: QueueFile, id: [UInt8], data: [UInt8]) -> Int {
        if let n = envelopeSizes[id] { return n }
        var n = data.count
        for h in qf.headers {
            n += 1 + (h.condition.map { $0.count + 2 } ?? 0) + h.text.count - 3
        }
        return n
    }

    /// Delivers `group` (one mailer, one host) over SMTP; records every
    /// recipient's fate in `outcome` (record(), as a program mailer's).
    func deliverSMTP(_ group0: [QueuedRecipient], mailer m: Mailer, qf: QueueFile, data: [UInt8], verbose: Bool,
                     outcome: inout DeliveryOutcome, notifySuccess: Set<Int>, log: DeliveryLogContext,
                     coattail: Set<Int> = []) {
        var group = group0
        let first = group[0]
        let host = first.address.host ?? []
        rewriter.macros[Int(UInt8(ascii: "h"))] = host
        defineSenderMacro(qf, mailer: m)
        rewriter.macros[Int(UInt8(ascii: "u"))] = userMacro(group[group.count - 1], mailer: m)
        let to = messageRecipients(group)
        let lmtp = m.has("z")
        // [IPC]: a TCP peer; otherwise the mailer program on a pipe,
        // named by the mailer in the -v lines and the transcript
        let ipc = m.path == Array("[IPC]".utf8)
        let peerName = ipc ? host : m.name
        outcome.attempted = true
        let started = time(nil)

        var conn: SMTPConnection? = nil
        if !ipc {
            // a mailer program's cached session, probed with RSET (mci_get())
            scanConnectionCache(to: to, verbose: verbose)
            if let c = smtpConnections.first(where: { $0.usable && $0.mailerName == m.name && $0.host.asciiCaseEquals(peerName) }),
               probeCached(c, verbose: verbose) {
                conn = c
                c.deliveries += 1
                if verbose { out.write("\(to)... Using cached \(lmtp ? "LMTP" : c.client.extensions.esmtp ? "ESMTP" : "SMTP") connection for \(m.name.string)...\n") }
            } else {
                if verbose { out.write("\(to)... Connecting to \(m.name.string)...\n"); out.flush() }
                let (t, e) = startSMTPMailer(group, mailer: m)
                guard let t else {
                    record(e == EAGAIN || e == ENOMEM ? SysExit.osErr.rawValue : SysExit.unavailable.rawValue, "", group: group,
                           mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started)
                    return
                }
                let c = SMTPConnection(host: m.name, mailerName: m.name, address: nil, transport: t,
                                       client: SMTPClient(options: .init(heloName: rewriter.macros[Int(UInt8(ascii: "j"))] ?? [],
                                                                        tryExtended: m.has("a"), lmtp: lmtp)))
                cacheConnection(c, to: to, verbose: verbose)
                conn = c
            }
        } else {
            let port = m.argv.count > 2 ? UInt16(m.argv[2].string) ?? 25 : 25
            let hosts: [[UInt8]]
            switch smtpHosts(host) {
            case .hosts(let h): hosts = h
            case .pointsBack:
                mxPointsBack(group, host: host, mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started)
                return
            case .lookupFailed:
                if verbose { out.write("\(to)... Connecting to \(host.string) via \(m.name.string)...\n"); out.flush() }
                record(SysExit.tempFail.rawValue, "Deferred: Name server: \(host.string): host name lookup failure", group: group,
                       mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started, relay: host.string, dsn: "4.4.3")
                return
            case .noSuchHost:
                hostUnknown(group, host: host, mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started,
                            relay: host.string)
                return
            }
            // sendmail's deliver(): each MX host (or $h itself) in turn; a
            // host with a session of this run is reused, one whose last
            // attempt failed (in this run, or in HostStatusDirectory within
            // Timeout.hoststatus) is passed over, the others are connected to
            var last: (host: [UInt8], status: HostStatusRecord, address: String?)? = nil
            for (hostIndex, h) in hosts.enumerated() {
                // (past the first MX host, the recipients that shared only
                // it wait for their own delivery)
                if hostIndex == 1, !coattail.isEmpty {
                    group = group.filter { !coattail.contains($0.index) }
                }
                scanConnectionCache(to: to, verbose: verbose)
                if let c = smtpConnections.first(where: { $0.usable && $0.mailerName == m.name && $0.peerName.asciiCaseEquals(h) }),
                   probeCached(c, verbose: verbose) {
                    c.deliveries += 1
                    if verbose {
                        let kind = lmtp ? "LMTP" : c.client.extensions.esmtp ? "ESMTP" : "SMTP"
                        out.write("\(to)... Using cached \(kind) connection to \(h.string) via \(m.name.string)...\n")
                    }
                    conn = c
                    break
                }
                // (its status file locked by another process: not readable, deferred)
                if let dir = hostStatusDirectory, HostStatusFile.lockedElsewhere(host: h, directory: dir) {
                    last = (h, HostStatusRecord(exitStatus: SysExit.tempFail.rawValue, updated: Int64(time(nil))), nil)
                    continue
                }
                if let st = knownHostStatus(h, mailer: m), st.exitStatus != 0 {
                    last = (h, st, nil)
                    continue
                }
                // SingleThreadDelivery: one process at a time talks to a host
                var hostLock: String? = nil
                if config.options.bool("SingleThreadDelivery"), let dir = hostStatusDirectory {
                    switch HostStatusFile.lock(host: h, directory: dir) {
                    case .busy:
                        last = (h, HostStatusRecord(exitStatus: SysExit.tempFail.rawValue, dsn: Array("4.4.5".utf8),
                                                    updated: Int64(time(nil))), nil)
                        continue
                    case .held(let p): hostLock = p
                    case .none: break
                    }
                }
                if verbose { out.write("\(to)... Connecting to \(h.string) via \(m.name.string)...\n"); out.flush() }
                var addrs: [PeerAddress] = []
                var rc: Int32 = 0
                if h.first == UInt8(ascii: "["), h.last == UInt8(ascii: "]") {
                    if let a = PeerAddress.literal(String(decoding: h.dropFirst().dropLast(), as: UTF8.self), port: port) { addrs = [a] }
                    else { rc = EAI_NONAME }
                } else {
                    (addrs, rc) = PeerAddress.resolve(String(decoding: h, as: UTF8.self), port: port)
                }
                if addrs.isEmpty {
                    // makeconnection(): the host has no address (now, or at all)
                    let temporary = rc == EAI_AGAIN || rc == EAI_FAIL
                    let st = temporary
                        ? HostStatusRecord(errno: EAGAIN, hErrno: 2, exitStatus: SysExit.tempFail.rawValue, dsn: Array("4.4.3".utf8),
                                           updated: Int64(time(nil)))
                        : HostStatusRecord(hErrno: 1, exitStatus: SysExit.noHost.rawValue, dsn: Array("5.1.2".utf8),
                                           updated: Int64(time(nil)))
                    noteHostStatus(h, mailer: m, st)
                    if let p = hostLock { HostStatusFile.unlock(path: p) }
                    last = (h, st, nil)
                    continue
                }
                var lastError: Int32 = EHOSTUNREACH
                var tried: PeerAddress? = nil
                for a in addrs {
                    let (t, e) = SocketTransport.connect(a, timeout: smtpTimeout("connect") == 0 ? 75 : smtpTimeout("connect"))
                    tried = a
                    guard let t else { lastError = e; continue }
                    trafficLog?.emit("===", Array("CONNECT ".utf8) + h)
                    let c = SMTPConnection(host: host, mailerName: m.name, address: a, transport: t,
                                           client: SMTPClient(options: .init(heloName: rewriter.macros[Int(UInt8(ascii: "j"))] ?? [],
                                                                            tryExtended: m.has("a"), lmtp: lmtp)))
                    c.peerName = h
                    c.hostLock = hostLock
                    hostLock = nil
                    // (the cache makes room once the connection is made)
                    cacheConnection(c, to: to, verbose: verbose)
                    conn = c
                    break
                }
                if conn != nil { break }
                let st = HostStatusRecord(errno: lastError, exitStatus: SysExit.tempFail.rawValue, dsn: Array("4.4.1".utf8),
                                          updated: Int64(time(nil)))
                noteHostStatus(h, mailer: m, st)
                if let p = hostLock { HostStatusFile.unlock(path: p) }
                last = (h, st, tried?.text)
            }
            if conn == nil {
                // no host answered: the last one's status is the recipients'
                guard let (h, st, address) = last else { return }
                let relay = address.map { "\(h.string) [\($0)]" } ?? h.string
                if st.exitStatus == SysExit.noHost.rawValue {
                    hostUnknown(group, host: h, mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started,
                                relay: relay)
                    return
                }
                if st.exitStatus == SysExit.tempFail.rawValue, st.dsn == nil || st.dsn == Array("4.4.5".utf8),
                   st.reply == nil, st.errno == 0, st.hErrno == 0 {
                    // a host another process is talking to (SingleThreadDelivery): plain "Deferred"
                    record(SysExit.tempFail.rawValue, "Deferred", group: group, mailer: m, verbose: verbose, outcome: &outcome,
                           log: log, started: started, relay: relay, dsn: st.dsn?.string ?? "4.0.0")
                    return
                }
                let why: String
                if let r = st.reply, !r.isEmpty { why = r.string }
                else if st.hErrno == 2 { why = "Name server: \(h.string): host name lookup failure" }
                else if st.errno != 0 { why = "\(String(cString: strerror(st.errno))) by \(h.string)" }
                else { why = "\(sysexitsText[st.exitStatus] ?? "4.0.0 Deferred")" }
                let status = DeliveryFormat.isTemporary(st.exitStatus) ? st.exitStatus : SysExit.tempFail.rawValue
                record(status, "Deferred: " + why, group: group, mailer: m, verbose: verbose, outcome: &outcome,
                       log: log, started: started, relay: relay, dsn: st.dsn?.string ?? "4.4.1")
                return
            }
        }
        if let c = conn, !c.usable {
            // the greeting and EHLO/HELO
            var ready = false
            var failure: SMTPClientReply? = nil
            let lost = drive(c, [], verbose: verbose, transcript: { outcome.transcript += $0 }) { action in
                switch action {
                case .ready: ready = true
                case .sessionFailed(let r): failure = r
                default: break
                }
            }
            if let r = failure {
                // sendmail says QUIT and gives up the session (after a
                // 421, the peer is closing: its answer is not awaited)
                if r.code == 421 {
                    send(c, Array("QUIT".utf8), verbose: verbose)
                } else {
                    _ = drive(c, c.client.quit(), verbose: verbose, transcript: { outcome.transcript += $0 }) { _ in }
                }
                c.transport?.close()
                c.transport = nil
                let status = r.type == 4 ? SysExit.tempFail.rawValue : SysExit.unavailable.rawValue
                if ipc {
                    // (a 421's reply is not kept: the peer is closing)
                    noteHostStatus(c.peerName, mailer: m, HostStatusRecord(
                        exitStatus: status, dsn: Array((r.type == 4 ? "4.5.0" : "5.5.0").utf8),
                        reply: r.code == 421 ? [] : r.lastLine, updated: Int64(time(nil))))
                }
                finishSession(group, status: status, reply: r, conn: c, mailer: m, verbose: verbose,
                              outcome: &outcome, log: log, started: started)
                return
            }
            if !ready {
                sessionLost(group, lost: lost, conn: c, mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started)
                return
            }
            // talking to ourselves (an MX or alias we did not know of):
            // a configuration error, not a delivery (unless F=k or LMTP)
            let me = rewriter.macros[Int(UInt8(ascii: "j"))] ?? []
            if !m.has("k"), !lmtp, !me.isEmpty, c.client.peerHelloName.asciiCaseEquals(me) {
                mailLoopsBack(group, conn: c, mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started)
                return
            }
            // DELIVERBY R: the peer must offer DELIVERBY in time
            if let by = qf.deliverBy, by.flag & 0x02 != 0 {
                let left = Int(by.time - (Int64(time(nil)) - qf.creationTime))
                var refusal: String? = nil
                if !c.client.extensions.deliverBy { refusal = "Server does not support Deliver By" }
                else if by.time > 0, left < c.client.extensions.minDeliverBy {
                    refusal = "Message can't be delivered in time; \(left) < \(c.client.extensions.minDeliverBy)"
                }
                if let text = refusal {
                    c.usable = true
                    if ipc { noteHostStatus(c.peerName, mailer: m, HostStatusRecord(updated: Int64(time(nil)))) }
                    refuseGroup(group, code: "554", enhanced: "5.4.7", text: text, status: SysExit.unavailable.rawValue,
                                to: to, mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started,
                                relay: c.relay, named: false, logDSN: "5.0.0")
                    return
                }
            }
            // STARTTLS when offered (SMTPDelivery+TLS.swift), then AUTH
            // (SMTPDelivery+Auth.swift)
            if !clientStartTLS(group, conn: c, mailer: m, to: to, verbose: verbose, outcome: &outcome, log: log,
                               started: started)
                || !clientAuthenticate(group, conn: c, mailer: m, to: to, verbose: verbose, outcome: &outcome,
                                       log: log, started: started) {
                return
            }
            c.usable = true
            if ipc { noteHostStatus(c.peerName, mailer: m, HostStatusRecord(updated: Int64(time(nil)))) }
        }
        guard let c = conn else { return }
        // ConnectionCacheSize=0: no session is cached (sendmail's mci_cache()
        // keeps none), so each one ends with QUIT after its transaction
        defer { if connectionCacheSize <= 0 { endSession(c, verbose: verbose) } }

        // the transaction
        // RCPTs in sendmail's tochain order: the group's last one first
        let rcpts = Array(group.reversed())
        // tls_rcpt (SMTPDelivery+TLS.swift): its $#error keeps a
        // recipient from the peer
        var tlsRcptRefusals: [Int: String] = [:]
        for q in rcpts { if let r = tlsRcptRefusal(q) { tlsRcptRefusals[q.index] = r } }
        var env = SMTPClient.Envelope(sender: smtpSender(qf, mailer: m), size: messageSize(qf, id: log.id, data: data),
                                      recipients: rcpts.map { q in
            var r = SMTPClient.Recipient(address: q.address.user)
            let qr = qf.recipients[q.index]
            // (DELIVERBY N to a DSN peer without DELIVERBY: RFC 2852
            // 4.1.4.2, FAILURE,DELAY for a recipient without NOTIFY, DELAY
            // added to one that asks for any)
            let notifyBy = qf.deliverBy.map { $0.flag & 0x01 != 0 } == true && !c.client.extensions.deliverBy
            if qr.flags.contains(.hasNotify) {
                var n: [String] = []
                if qr.flags.contains(.notifySuccess) { n.append("SUCCESS") }
                if qr.flags.contains(.notifyFailure) { n.append("FAILURE") }
                if qr.flags.contains(.notifyDelay) || (notifyBy && !n.isEmpty) { n.append("DELAY") }
                r.notify = Array((n.isEmpty ? "NEVER" : n.joined(separator: ",")).utf8)
            } else if notifyBy {
                r.notify = Array("FAILURE,DELAY".utf8)
            }
            r.orcpt = qr.originalRecipient
            r.skip = tlsRcptRefusals[q.index] != nil
            return r
        })
        env.bodyType = qf.bodyType
        // (EightBitMode=m: an 8-bit message without a body type is 8BITMIME)
        if env.bodyType == nil, eightBitMode == UInt8(ascii: "m"), qf.flags.contains(.has8Bit), !m.has("8") {
            env.bodyType = Array("8BITMIME".utf8)
        }
        env.authParameter = qf.authParameter
        env.envelopeID = qf.envelopeID
        if qf.flags.contains(.retParameter) { env.ret = Array((qf.flags.contains(.noBodyReturn) ? "HDRS" : "FULL").utf8) }
        if let by = qf.deliverBy, by.flag & 0x03 != 0 {
            // what is left of the deadline (an R message past it: the
            // peer's minimum, at least 1)
            var left = by.time - (Int64(time(nil)) - qf.creationTime)
            if left <= 0, by.flag & 0x02 != 0 { left = Int64(max(c.client.extensions.minDeliverBy, 1)) }
            env.deliverBy = Array("\(left);\(by.flag & 0x02 != 0 ? "R" : "N")\(by.flag & 0x10 != 0 ? "T" : "")".utf8)
            if c.client.extensions.deliverBy { for q in group { q.deliverByPassedOn = true } }
        }
        // 8->7 (sendmail's MCIF_CVT8TO7): an 8-bit message (qf flag 8) to
        // a peer without 8BITMIME through a mailer without F=8 (or through
        // an F=7 mailer), when EightBitMode=m or the message is MIME
        // (BODY=8BITMIME or MIME-Version:; the only case without the
        // option, as measured), has its body converted by mime8to7() (SMMime)
        let isMIME = qf.bodyType.map { $0.asciiCaseEquals(Array("8BITMIME".utf8)) } == true || hasHeader(qf, "MIME-Version")
        let passEight = eightBitMode == nil || eightBitMode == UInt8(ascii: "p")
        let dontMIME = notMIMEable(qf)
        if qf.flags.contains(.has8Bit), !c.client.extensions.eightBitMIME, !m.has("8"), dontMIME, !passEight {
            // smtpmailfrom(): 8-bit data that cannot be converted
            c.lastUse = time(nil)
            refuseGroup(group, code: "550", enhanced: "5.6.3", text: "\(c.peerName.string) does not support 8BITMIME",
                        status: SysExit.dataErr.rawValue, to: to, mailer: m, verbose: verbose, outcome: &outcome,
                        log: log, started: started, relay: c.relay)
            return
        }
        let convert = qf.flags.contains(.has8Bit)
            && (m.has("7") || (!c.client.extensions.eightBitMIME && !m.has("8")))
            && !dontMIME && (!passEight || isMIME)
        let message = convert ? messageContent(qf, mailer: m, data: data, convert8to7: true)
            : headerBytes(qf, mailer: m) + m.eol + DeliveryFormat.body(data, mailerFlags: m.flags, eol: m.eol, lineLimit: m.lineLimit)
        // (dots and line ends as the mailer's F=X and E= make them: sendmail's
        // SMTP mailers have both; SMTPClient.dotStuffed is for bytes that
        // are not prepared so)
        pendingMessage = message
        defer { pendingMessage = [] }
        let relay = c.relay
        var open = Set(group.map { $0.index })
        var acceptedRcpts: [QueuedRecipient] = []
        var rcptReplies: [Int: SMTPClientReply] = [:]
        var lmtpDelivered: [(Int, SMTPClientReply)] = []
        // NOTIFY=SUCCESS: a peer that offers DSN reports on its own; for
        // one that does not, the sender is told "relayed"
        let success = notifySuccess
        let lost = drive(c, c.client.begin(env), verbose: verbose, transcript: { outcome.transcript += $0 }) { action in
            switch action {
            case .mailRefused(let r), .dataRefused(let r):
                let rest = group.filter { open.contains($0.index) }
                for q in rest { open.remove(q.index) }
                var status = Self.dataStatus(r)
                // (smtpmailfrom(): a 553 to MAIL is a bad sender address)
                if case .mailRefused = action, r.code == 553 { status = SysExit.dataErr.rawValue }
                var mailStage = false
                if case .mailRefused = action { mailStage = true }
                if !rest.isEmpty {
                    // (a refused MAIL names no Remote-MTA in the DSN)
                    self.recordReply(rest, reply: r, status: status, conn: c, mailer: m, verbose: verbose,
                                     outcome: &outcome, log: log, started: started, relay: relay, perRecipient: false,
                                     remote: !mailStage)
                }
            case .recipientSkipped(let i):
                open.remove(rcpts[i].index)
                self.refuseTLSRecipient(rcpts[i], reply: tlsRcptRefusals[rcpts[i].index] ?? "", peer: c.peerName.string,
                                        mailer: m, verbose: verbose,
                                        outcome: &outcome, log: log, started: started, relay: relay)
            case .recipient(let i, let r):
                rcptReplies[rcpts[i].index] = r
                if r.type == 2 { acceptedRcpts.append(rcpts[i]); break }
                open.remove(rcpts[i].index)
                self.recordReply([rcpts[i]], reply: r, status: Self.rcptStatus(r), conn: c, mailer: m, verbose: verbose,
                                 outcome: &outcome, log: log, started: started, relay: relay)
            case .messageDone(let r):
                if ipc && r.type == 2 {
                    // (the host's status: the message's reply)
                    let e = c.client.extensions.enhancedStatusCodes ? r.enhancedCode : nil
                    self.noteHostStatus(c.peerName, mailer: m, HostStatusRecord(
                        dsn: e ?? Array("2.0.0".utf8), reply: r.lastLine, updated: Int64(time(nil))))
                }
                let ok = Set(acceptedRcpts.map { $0.index })
                let done = group.filter { open.contains($0.index) && ok.contains($0.index) }
                for q in done { open.remove(q.index) }
                self.recordReply(done, reply: r, status: Self.dataStatus(r), conn: c, mailer: m, verbose: verbose,
                                 outcome: &outcome, log: log, started: started, relay: relay,
                                 notifySuccess: c.client.extensions.dsn ? [] : success, perRecipient: false,
                                 rcptReplies: rcptReplies)
            case .delivered(let i, let r):
                open.remove(rcpts[i].index)
                // (LMTP: the delivered ones are reported together at the end)
                if r.type == 2 { lmtpDelivered.append((rcpts[i].index, r)); break }
                self.recordReply([rcpts[i]], reply: r, status: Self.dataStatus(r), conn: c, mailer: m, verbose: verbose,
                                 outcome: &outcome, log: log, started: started, relay: relay,
                                 notifySuccess: c.client.extensions.dsn ? [] : success, perRecipient: true,
                                 perRecipientRcpt: false)
            case .transactionDone where !lmtpDelivered.isEmpty:
                let ok = Set(lmtpDelivered.map { $0.0 })
                self.recordReply(group.filter { ok.contains($0.index) }, reply: lmtpDelivered.last!.1, status: 0, conn: c,
                                 mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started, relay: relay,
                                 notifySuccess: c.client.extensions.dsn ? [] : success, perRecipient: true,
                                 rcptReplies: rcptReplies, perRecipientRcpt: false)
                lmtpDelivered = []
            default: break
            }
        }
        let rest = group.filter { open.contains($0.index) }
        if !rest.isEmpty {
            sessionLost(rest, lost: lost, conn: c, mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started)
        }
    }

    /// EF_DONT_MIME: a message that is not MIME (no BODY=8BITMIME, no
    /// MIME-Version:) with an RFC 1049 Content-Type: (no "/" before any
    /// ";"), which sendmail never converts.
    func notMIMEable(_ qf: QueueFile) -> Bool {
        if qf.bodyType.map({ $0.asciiCaseEquals(Array("8BITMIME".utf8)) }) == true || hasHeader(qf, "MIME-Version") {
            return false
        }
        guard let ct = qf.headers.first(where: { $0.name.asciiCaseEquals(Array("Content-Type".utf8)) }) else { return false }
        guard let i = ct.value.firstIndex(where: { $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: "/") }) else { return true }
        return ct.value[i] == UInt8(ascii: ";")
    }

    /// A usrerr() refusal of the whole group before its transaction
    /// ("to... text", or the text alone when `named` is false, and the
    /// "code enhanced ..." transcript line), then giveresponse() for
    /// `status`; the DSN gets `enhanced`, and the usrerr line as its
    /// reason when `named`.
    func refuseGroup(_ group: [QueuedRecipient], code: String, enhanced: String, text: String, status: Int32, to: String,
                     mailer m: Mailer, verbose: Bool, outcome: inout DeliveryOutcome, log: DeliveryLogContext,
                     started: time_t, relay: String?, named: Bool = true, logDSN: String? = nil) {
        let line = named ? "\(to)... \(text)" : text
        if verbose || (config.options["ErrorMode"]?.first ?? UInt8(ascii: "p")) == UInt8(ascii: "p") {
            out.write(line + "\n")
        }
        outcome.transcript += Array("\(code) \(enhanced) \(line)\n".utf8)
        record(status, "", group: group, mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started,
               relay: relay, dsn: logDSN ?? enhanced)
        for q in group {
            q.report?.status = Array(enhanced.utf8)
            q.report?.diagnostic = named ? (m.diagType ?? Array("smtp".utf8), Array("\(code) \(enhanced) \(line)".utf8)) : nil
        }
    }

    /// hostsignature(): what decides which recipients share a
    /// transaction — $h itself for a mailer other than [IPC], else its
    /// MX hosts as getmxrr() gives them to deliver() (a `[literal]` or a
    /// failed lookup: the name itself), ',' between hosts of equal
    /// preference, ':' between the others, in lower case.
    func hostSignature(_ host: [UInt8]?, mailer m: Mailer) -> [UInt8] {
        guard let h = host else { return [] }
        guard m.path == Array("[IPC]".utf8) else { return h }
        if h.isEmpty { return Array("_empty_".utf8) }
        var sig = h
        if h.first != UInt8(ascii: "[") {
            let mx = maps.hostResolution.mxHosts(h, dropLocalHost: true, tryFallback: true,
                                                 localDomain: rewriter.macros[Int(UInt8(ascii: "m"))])
            if mx.count > 0, !mx.hosts.isEmpty {
                sig = []
                for (i, name) in mx.hosts.prefix(mx.count).enumerated() {
                    if i > 0 {
                        let same = i < mx.preferences.count && mx.preferences[i] == mx.preferences[i - 1]
                        sig.append(UInt8(ascii: same ? "," : ":"))
                    }
                    sig += name
                }
            }
        }
        return sig.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
    }

    enum SignatureMatch { case none, first, full }

    /// coloncmp(): two host signatures compared up to the first ':'
    /// (outside brackets: the first preference level), then whole.
    static func colonCompare(_ a: [UInt8], _ b: [UInt8]) -> SignatureMatch {
        if a == b { return .full }
        func firstPart(_ s: [UInt8]) -> ArraySlice<UInt8> {
            var level = 0
            for (i, c) in s.enumerated() {
                if c == UInt8(ascii: "[") { level += 1 }
                else if c == UInt8(ascii: "]"), level > 0 { level -= 1 }
                else if c == UInt8(ascii: ":"), level <= 0 { return s[..<i] }
            }
            return s[...]
        }
        return firstPart(a) == firstPart(b) ? .first : .none
    }

    /// The recipients of one SMTP delivery from `list[k]` as deliver()
    /// chains them: the pending ones of the same mailer (F=m; r= at most)
    /// while their host signature matches the first's (see the file
    /// comment); `coattail`: those that share only the first MX host.
    func smtpGroup(_ list: [QueuedRecipient], from k: Int, mailer m: Mailer) -> (group: [QueuedRecipient], coattail: Set<Int>) {
        guard m.path == Array("[IPC]".utf8) else { return (group(list, from: k, mailer: m), []) }
        let first = list[k]
        guard m.has("m") else { return ([first], []) }
        // (looked up only for a recipient of another host)
        var firstSig: [UInt8]? = nil
        var g = [first]
        var coattail = Set<Int>()
        for q in list[(k + 1)...] where q.state == .pending && q.address.mailerName == m.name {
            var match = SignatureMatch.full
            if let h1 = first.address.host, let h2 = q.address.host, h1.asciiCaseEquals(h2) {
                match = .full
            } else {
                if firstSig == nil { firstSig = hostSignature(first.address.host, mailer: m) }
                match = Self.colonCompare(hostSignature(q.address.host, mailer: m), firstSig ?? [])
            }
            if match == .none { break }
            if g.count >= max(m.maxRcpt, 1) { break }
            if match == .first { coattail.insert(q.index) }
            g.append(q)
        }
        return (g, coattail)
    }

    /// The envelope sender for MAIL: $g without angle brackets; <> and a
    /// bounce (qf flag r, unless the mailer has F=g) are empty.
    func smtpSender(_ qf: QueueFile, mailer m: Mailer) -> [UInt8] {
        if qf.sender.isEmpty || qf.sender == Array("<>".utf8) { return [] }
        if qf.flags.contains(.response) && !m.has("g") { return [] }
        var g = rewriter.macros[Int(UInt8(ascii: "g"))] ?? qf.sender
        if g.first == UInt8(ascii: "<"), g.last == UInt8(ascii: ">") { g = Array(g.dropFirst().dropLast()) }
        if g == Array("<>".utf8) { return [] }
        return g
    }

    /// smtprcptstat(): a RCPT reply as a mailer exit status.
    static func rcptStatus(_ r: SMTPClientReply) -> Int32 {
        switch r.code {
        case 200..<300: return 0
        case 550, 551, 553: return SysExit.noUser.rawValue
        case 400..<500: return SysExit.tempFail.rawValue
        case 500..<600: return SysExit.unavailable.rawValue
        default: return SysExit.protocol.rawValue
        }
    }

    /// A MAIL, DATA or final reply as a mailer exit status.
    static func dataStatus(_ r: SMTPClientReply) -> Int32 {
        switch r.type {
        case 2: return 0
        case 4: return SysExit.tempFail.rawValue
        case 5: return SysExit.unavailable.rawValue
        default: return SysExit.protocol.rawValue
        }
    }

    /// Records `group`'s fate from reply `r` (giveresponse()).
    func recordReply(_ group: [QueuedRecipient], reply r: SMTPClientReply, status: Int32, conn c: SMTPConnection,
                     mailer m: Mailer, verbose: Bool, outcome: inout DeliveryOutcome, log: DeliveryLogContext,
                     started: time_t, relay: String?, notifySuccess: Set<Int> = [], dsn: String? = nil,
                     perRecipient: Bool = true, rcptReplies: [Int: SMTPClientReply] = [:], perRecipientRcpt: Bool = true,
                     remote: Bool = true) {
        guard !group.isEmpty else { return }
        let line = r.lastLine.string
        // (the reply's enhanced code counts when the peer said
        // ENHANCEDSTATUSCODES; else a deferral is 4.3.0)
        let enhanced = c.client.extensions.enhancedStatusCodes ? r.enhancedCode?.string : nil
        let logDSN = dsn ?? enhanced
        let text = c.client.extensions.enhancedStatusCodes ? r.textWithoutEnhancedCode.string : r.text.string
        // (Remote-MTA: an SMTP peer over TCP; never an LMTP one)
        let remoteMTA = c.address == nil || !remote || c.client.options.lmtp ? nil : (m.mtaType ?? Array("dns".utf8), c.peerName)
        if status == 0 {
            // (an LMTP recipient's own reply is not shown)
            record(0, c.client.options.lmtp ? "" : "Sent (\(text))", group: group, mailer: m, verbose: verbose, outcome: &outcome,
                   notifySuccess: notifySuccess, log: log, started: started, relay: relay, dsn: enhanced ?? "2.0.0")
            for q in group {
                let rr = rcptReplies[q.index] ?? r
                let e = c.client.extensions.enhancedStatusCodes ? rr.enhancedCode : nil
                q.relayedBy = (e ?? Array("2.0.0".utf8), (m.diagType ?? Array("smtp".utf8), rr.lastLine), remoteMTA)
            }
            // a "relayed" DSN names the peer and its RCPT reply
            for q in group where q.report != nil {
                let rr = rcptReplies[q.index] ?? r
                q.report?.diagnostic = (m.diagType ?? Array("smtp".utf8), rr.lastLine)
                q.report?.remoteMTA = remoteMTA
            }
            return
        }
        if status == SysExit.tempFail.rawValue {
            let text = "Deferred: \(line)"
            record(status, text, group: group, mailer: m, verbose: verbose, outcome: &outcome,
                   log: log, started: started, relay: relay, dsn: logDSN ?? "4.3.0", reply: line)
            for q in group {
                // (a RCPT's deferral is the recipient's own M line)
                if perRecipient { outcome.recipientMessages[q.index] = Array(text.utf8) }
                q.delay?.status = Array((enhanced ?? "4.3.0").utf8)
                q.delay?.diagnostic = (m.diagType ?? Array("smtp".utf8), r.lastLine)
                q.delay?.remoteMTA = remoteMTA
            }
            return
        }
        // an LMTP recipient refused after the message: its reply's text
        let lmtpText = c.client.options.lmtp && !perRecipientRcpt && status == SysExit.unavailable.rawValue
            ? "Service unavailable (\(text))" : ""
        record(status, lmtpText, group: group, mailer: m, verbose: verbose, outcome: &outcome,
               log: log, started: started, relay: relay, dsn: logDSN, reply: line)
        for q in group {
            if let e = enhanced { q.report?.status = Array(e.utf8) }
            q.report?.diagnostic = (m.diagType ?? Array("smtp".utf8), r.lastLine)
            q.report?.remoteMTA = remoteMTA
        }
    }

    /// The peer greeted with our own name: syserr()'s line (shown, in the
    /// transcript, logged as SYSERR), QUIT, and the group fails with
    /// EX_CONFIG ("553 5.3.5 system config error" as the DSN's reason).
    func mailLoopsBack(_ group: [QueuedRecipient], conn c: SMTPConnection, mailer m: Mailer, verbose: Bool,
                       outcome: inout DeliveryOutcome, log: DeliveryLogContext, started: time_t) {
        let text = "\(c.peerName.string) config error: mail loops back to me (MX problem?)"
        out.write(text + "\n")
        outcome.transcript += Array("553 5.3.5 \(text)\n".utf8)
        if let sink = logSink {
            sink.log(priority: LOG_CRIT, "\(log.id.string): SYSERR(\(options.realUserName.string)): \(text)")
        }
        // (syserr() leaves EX_SOFTWARE as the exit status)
        if exitStatus == .ok || exitStatus == .tempFail { exitStatus = .software }
        _ = drive(c, c.client.quit(), verbose: verbose, transcript: { outcome.transcript += $0 }) { _ in }
        c.transport?.close()
        c.transport = nil
        record(SysExit.config.rawValue, "", group: group, mailer: m, verbose: verbose, outcome: &outcome,
               log: log, started: started, relay: c.relay, dsn: "5.3.5")
        for q in group {
            q.report?.status = Array("5.3.5".utf8)
            q.report?.diagnostic = (m.diagType ?? Array("smtp".utf8), Array("553 5.3.5 system config error".utf8))
        }
    }

    /// The session failed before a transaction (greeting or HELO refused).
    func finishSession(_ group: [QueuedRecipient], status: Int32, reply r: SMTPClientReply, conn c: SMTPConnection,
                       mailer m: Mailer, verbose: Bool, outcome: inout DeliveryOutcome, log: DeliveryLogContext,
                       started: time_t) {
        recordReply(group, reply: r, status: status, conn: c, mailer: m, verbose: verbose, outcome: &outcome,
                    log: log, started: started, relay: c.relay,
                    dsn: status == SysExit.tempFail.rawValue ? "4.5.0" : "5.5.0", remote: false)
        // a session-wide failure is the envelope's message, not the recipients'
        for q in group { outcome.recipientMessages[q.index] = nil }
    }

    /// The connection broke or timed out: the recipients still open wait.
    func sessionLost(_ group: [QueuedRecipient], lost: SMTPLineResult?, conn c: SMTPConnection, mailer m: Mailer,
                     verbose: Bool, outcome: inout DeliveryOutcome, log: DeliveryLogContext, started: time_t) {
        c.usable = false
        c.client.abandon()
        c.transport?.close()
        c.transport = nil
        let why: String
        switch lost {
        case .timedOut?:
            why = "Connection timed out with \(c.peerName.string)"
            if let sink = logSink, logLevel > 1 {
                sink.log(priority: LOG_NOTICE, "\(log.id.string): timeout waiting for input from \(c.peerName.string) during \(Self.phaseName(c.lostWhile))")
            }
        case .failed(let e)?: why = "\(String(cString: strerror(e))) with \(c.peerName.string)"
        default: why = "Connection reset by \(c.peerName.string)"
        }
        // reply() leaves its own text as the envelope's message
        if outcome.message == nil || outcome.messageIsDeferral {
            outcome.message = Array("reply: read error from \(c.peerName.string)".utf8)
            outcome.messageIsDeferral = true
        }
        record(SysExit.tempFail.rawValue, "Deferred: " + why, group: group, mailer: m, verbose: verbose,
               outcome: &outcome, log: log, started: started, relay: c.relay, dsn: "4.4.2")
        // lost while recipients were being named: theirs is the text too
        if case .rcpt = c.lostWhile {
            for q in group { outcome.recipientMessages[q.index] = Array(("Deferred: " + why).utf8) }
        }
    }

    /// sendmail's SmtpPhase texts, for the timeout notice.
    static func phaseName(_ w: SMTPClient.Awaiting) -> String {
        switch w {
        case .greeting: return "client greeting"
        case .hello: return "client EHLO"
        case .helo: return "client HELO"
        case .startTLS: return "client STARTTLS"
        case .auth: return "client AUTH"
        case .mail: return "client MAIL"
        case .rcpt: return "client RCPT"
        case .data: return "client DATA 354"
        case .dataEnd, .lmtpRecipient: return "client DATA status"
        case .rset: return "client RSET"
        case .quit: return "client QUIT"
        case .nothing: return "client"
        }
    }

    /// Writes a command (-v: ">>> command").
    @discardableResult
    func send(_ c: SMTPConnection, _ command: [UInt8], verbose: Bool) -> Int32 {
        if verbose { out.write(">>> " + command.string + "\n"); out.flush() }
        c.lastCommand = command
        trafficLog?.emit(">>>", command)
        return c.transport?.write(command + [0x0D, 0x0A], timeout: smtpTimeout("command")) ?? EPIPE
    }

    /// Carries out the client's actions and feeds it the replies until it
    /// owes nothing more; `handle` gets the results.  Returns how the
    /// connection was lost, or nil.
    func drive(_ c: SMTPConnection, _ initial: [SMTPClient.Action], verbose: Bool, transcript: ([UInt8]) -> Void,
               handle: (SMTPClient.Action) -> Void) -> SMTPLineResult? {
        var actions = initial
        var reader = SMTPReplyReader()
        var needIntro = true
        while true {
            for a in actions {
                switch a {
                case .send(let cmd):
                    if send(c, cmd, verbose: verbose) != 0 { c.client.abandon(); return .closed }
                case .sendMessage:
                    // (the dot is shown, but the transcript's ">>> " line
                    // stays the DATA command, as sendmail's SmtpMsgBuffer)
                    // (-X: the message and the dot as written, then -v's line)
                    trafficLog?.wroteMessage(pendingMessage)
                    trafficLog?.emit(">>>", [UInt8(ascii: ".")])
                    if c.transport?.write(pendingMessage + Array(".\r\n".utf8), timeout: smtpTimeout("datablock")) != 0 {
                        c.client.abandon()
                        return .closed
                    }
                    if verbose { out.write(">>> .\n"); out.flush() }
                default:
                    handle(a)
                }
            }
            actions = []
            if c.client.awaiting == .nothing { return nil }
            guard let t = c.transport else { return .closed }
            // one reply, line by line
            var reply: SMTPClientReply? = nil
            // (a 5xx to EHLO is not an error: HELO follows)
            let ehlo = c.client.awaiting == .hello && !c.client.options.lmtp
            while reply == nil {
                let read = t.readLine(timeout: timeout(for: c.client.awaiting))
                c.lastUse = time(nil)
                switch read {
                case .line(var l):
                    // (-X logs the line with its CR, as read)
                    trafficLog?.read(l)
                    if l.last == 0x0D { l.removeLast() }
                    if verbose { out.write(l.string + "\n"); out.flush() }
                    reply = reader.feed(l)
                    if let code = l.first, code == UInt8(ascii: "4") || (code == UInt8(ascii: "5") && !ehlo) {
                        if needIntro {
                            transcript(Array("... while talking to \(c.peerName.string):\n".utf8))
                            needIntro = false
                        }
                        if let cmd = c.lastCommand {
                            transcript(Array(">>> ".utf8) + cmd + [0x0A])
                            c.lastCommand = nil
                        }
                        transcript(Array("<<< ".utf8) + l + [0x0A])
                    }
                case let other:
                    c.lostWhile = c.client.awaiting
                    c.client.abandon()
                    return other
                }
            }
            actions = c.client.receive(reply!)
        }
    }

    /// mci_flush(): ends every cached SMTP session (QUIT, then close), in
    /// slot order (the newest first, as the slots fill from the last).
    func closeSMTPConnections(verbose: Bool) {
        for i in connectionSlots.indices { uncacheConnection(slot: i, to: nil, verbose: verbose) }
        out.flush()
        connectionSlots = []
    }
}
