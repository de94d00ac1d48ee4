// SMEngine/SMTPDelivery+TLS.swift
//
// STARTTLS as sendmail 8.17's SMTP client does it (deliver.c, usersmtp.c,
// tls.c), between EHLO and the first transaction of a session: when the
// peer offers STARTTLS and the try_tls ruleset (on $&{server_name}, with
// {server_name} and {server_addr} set) does not refuse, STARTTLS; its
// 220 starts the handshake (SMTLS's TLSClientStream over the same socket,
// the client context built once per process from ClientCertFile,
// ClientKeyFile, CACertFile with CACertPath, CRLFile, CipherList and
// ClientSSLOptions — no certificate needed), then EHLO again.  The result
// goes through the tls_server ruleset as sendmail names it: the handshake's
// {verify} (OK, FAIL, NO...), SOFTWARE for a failed handshake, TEMP for a
// 4xx to STARTTLS, PROTOCOL for another refusal.  Its $#error defers (4xx)
// or fails (5xx) the group with the error's reply ("Deferred: 454 4.7.0
// TLS handshake failed."), after QUIT when the session still works; the
// session is not used again.  Else the session goes on (in clear after a
// refused STARTTLS).  Macros: {verify} {cert_subject} {cert_issuer}
// {cn_subject} {cn_issuer} {tls_version} {cipher} {cipher_bits}
// {alg_bits}.  Log lines as sendmail's at the same LogLevel:
// "STARTTLS=client, relay=, version=, verify=, cipher=, bits=" (> 8), a
// failed handshake's "STARTTLS=client, error: connect failed=..." (> 5)
// and OpenSSL's error queue (> 9), the ruleset rejections (> 3).
// With TLSFallbacktoClear, a failed handshake is followed at once by a
// new connection to the same address, in clear ("Connecting to" again,
// no STARTTLS, no tls_server).  A next hop that answers STARTTLS and then
// nothing fails the handshake after Timeout.starttls, as sendmail's.
// Without STARTTLS (not offered, or try_tls refused) {verify} is NONE.
// tls_rcpt: for each recipient, before its RCPT (on every session, TLS
// or not, with the session's {verify}), the ruleset on the address; its
// $#error keeps the recipient from the peer and fails it with EX_DATAERR
// whatever the reply's class, as measured ("Data format error", DSN
// 5.5.2; the reply shown and in the transcript, with the address for a
// 550).
// DANE: not done — Debian's sendmail 8.17 is built without it
// (`sendmail -d0.1` lists no DANE), so there is no behaviour to match.
// Not done: the clt_features ruleset, a host's TLS failure remembered for
// its later groups.

import Glibc
import SMBase
import SMConfig
import SMRules
import SMSMTP
import SMTLS

/// The session's socket after STARTTLS.
final class TLSTransport: SMTPTransport {
    let plain: SocketTransport
    let stream: TLSClientStream
    var lines = ReplyLineBuffer()

    init(plain: SocketTransport, stream: TLSClientStream) { self.plain = plain; self.stream = stream }

    func write(_ bytes: [UInt8], timeout: Int) -> Int32 {
        guard let f = stream.write(bytes, timeout: timeout) else { return 0 }
        return f.timedOut ? ETIMEDOUT : (f.errno != 0 ? f.errno : EPIPE)
    }

    func readLine(timeout: Int) -> SMTPLineResult {
        while true {
            if let line = lines.nextLine() { return .line(line) }
            switch stream.read(timeout: timeout) {
            case .success(let bytes):
                if bytes.isEmpty { return .closed }
                lines.append(bytes)
            case .failure(let f):
                if f.timedOut { return .timedOut }
                return .failed(f.errno != 0 ? f.errno : EIO)
            }
        }
    }

    func close() {
        stream.shutdown()
        plain.close()
    }
}

/// A socket that runs `onClose` as it is closed.
final class ClosingTransport: SMTPTransport {
    let inner: SMTPTransport
    let onClose: () -> Void
    init(_ inner: SMTPTransport, onClose: @escaping () -> Void) { self.inner = inner; self.onClose = onClose }
    func write(_ bytes: [UInt8], timeout: Int) -> Int32 { inner.write(bytes, timeout: timeout) }
    func readLine(timeout: Int) -> SMTPLineResult { inner.readLine(timeout: timeout) }
    func close() {
        inner.close()
        onClose()
    }
}

/// The process's client TLS context (built on first use).
final class ClientTLSState {
    var context: TLSClientContext?
    init(_ c: TLSClientContext?) { context = c }
}

extension Engine {
    /// The client context from the cf's options; nil when it cannot be
    /// built (logged), and then no STARTTLS is tried.
    func clientTLSContext() -> TLSClientContext? {
        if let s = smtpClientTLS as? ClientTLSState { return s.context }
        func option(_ name: String) -> String? {
            guard let v = config.options[name] else { return nil }
            let s = Array(expandMacros(v, rewriter.macros).trimmingASCIISpace).string
            return s.isEmpty || access(s, R_OK) != 0 ? nil : s
        }
        var s = TLSClientSettings()
        if let cert = option("ClientCertFile"), let key = option("ClientKeyFile") {
            s.certFile = cert
            s.keyFile = key
        }
        s.caFile = option("CACertFile")
        s.caPath = option("CACertPath")
        s.crlFile = option("CRLFile")
        s.cipherList = config.options["CipherList"].map { $0.string }
        s.sslOptions = config.options["ClientSSLOptions"].map { $0.string }
        var ctx: TLSClientContext? = nil
        do {
            ctx = try TLSClientContext(s)
        } catch {
            if let sink = logSink, logLevel > 5 { sink.log(priority: LOG_WARNING, "STARTTLS=client, error: \(error)") }
        }
        smtpClientTLS = ClientTLSState(ctx)
        return ctx
    }

    /// rscheck() for the client's rulesets: the $#error's reply line
    /// ("454 4.7.0 text"; "550 5.7.1 to... text" for codes that name the
    /// address), or nil to go on.  The envelope's message is untouched.
    func clientRuleset(_ name: String, _ arg: [UInt8], to: String) -> String? {
        guard let rs = rewriter.rulesets.find(Array(name.utf8)), rewriter.rulesets.hasRules(rs) else { return nil }
        let saved = (rewriter.smtpReplies, rewriter.currentAddress, rewriter.lastUserError, rewriter.errorTranscript)
        rewriter.smtpReplies = []
        rewriter.currentAddress = Array(to.utf8)
        rewriter.errorTranscript = nil
        defer {
            (rewriter.smtpReplies, rewriter.currentAddress, rewriter.lastUserError, rewriter.errorTranscript) = saved
        }
        let r = prescan(arg, delim: 0, table: rewriter.tables.noComment, ignoreUnbalanced: false,
                        eightBitAddrOK: eightBitAddrOK, report: { _ in })
        guard var pvp = r.tokens else { return nil }
        rewriter.rewrite(&pvp, ruleset: rs)
        guard pvp.count > 1, pvp[0] == [Meta.canonNet], pvp[1].asciiCaseEquals(Array("error".utf8)) else { return nil }
        _ = buildAddress(pvp, flags: [])
        return rewriter.smtpReplies?.last
    }

    /// STARTTLS on a greeted session (see the file comment).  False when
    /// the group's fate is recorded and the session is done.
    func clientStartTLS(_ group: [QueuedRecipient], conn c: SMTPConnection, mailer m: Mailer, to: String, verbose: Bool,
                        outcome: inout DeliveryOutcome, log: DeliveryLogContext, started: time_t) -> Bool {
        guard c.client.extensions.startTLS, let addr = c.address, let plain = c.transport as? SocketTransport,
              let ctx = clientTLSContext() else {
            rewriter.defineMacro(Array("{verify}".utf8), Array("NONE".utf8))
            return true
        }
        let peer = c.peerName.string
        rewriter.defineMacro(Array("{server_name}".utf8), c.peerName)
        rewriter.defineMacro(Array("{server_addr}".utf8), Array(addr.text.utf8))
        if let refused = clientRuleset("try_tls", c.peerName, to: to) {
            if let sink = logSink, logLevel > 3 {
                sink.log(priority: LOG_NOTICE, "ruleset=try_tls, arg1=\(peer), relay=\(peer), reject=\(refused)")
            }
            rewriter.defineMacro(Array("{verify}".utf8), Array("NONE".utf8))
            return true
        }
        var verdict = ""
        var established = false
        var failedPlain: SocketTransport? = nil
        var firstSSLError: String? = nil
        var transcript: [UInt8] = []
        let lost = drive(c, c.client.startTLS(), verbose: verbose, transcript: { transcript += $0 }) { a in
            switch a {
            case .tlsReady:
                do {
                    let stream = try TLSClientStream(context: ctx, fd: plain.fd)
                    switch stream.handshake(timeout: smtpTimeout("starttls")) {
                    case .success(let info):
                        c.transport = TLSTransport(plain: plain, stream: stream)
                        established = true
                        verdict = info.verify
                        self.clientTLSMacros(info)
                        if let sink = self.logSink, self.logLevel > 8 {
                            sink.log(priority: LOG_INFO, "STARTTLS=client, relay=\(peer), version=\(info.version), verify=\(info.verify), cipher=\(info.cipher), bits=\(info.cipherBits)/\(info.algBits)")
                        }
                    case .failure(let f):
                        verdict = "SOFTWARE"
                        // (a handshake that timed out says retry=0)
                        if let sink = self.logSink, self.logLevel > 5 {
                            sink.log(priority: LOG_WARNING, "STARTTLS=client, error: connect failed=\(f.result), reason=\(f.reason), SSL_error=\(f.sslError), errno=\(f.errno), retry=\(f.timedOut ? 0 : -1)")
                        }
                        let queue = stream.errorQueue()
                        if let sink = self.logSink, self.logLevel > 9 {
                            for l in queue { sink.log(priority: LOG_WARNING, "STARTTLS=client: \(l)") }
                        }
                        // (OpenSSL's text without the ":file:line:" errorQueue adds)
                        firstSSLError = queue.first.map { $0.split(separator: ":", omittingEmptySubsequences: false).dropLast(3).joined(separator: ":") }
                        c.usable = false
                        c.client.abandon()
                        failedPlain = plain
                        c.transport = nil
                    }
                } catch {
                    verdict = "SOFTWARE"
                }
            case .tlsRefused(let r):
                verdict = r.type == 4 ? "TEMP" : "PROTOCOL"
            default: break
            }
        }
        if verdict.isEmpty {
            // the connection broke before STARTTLS was answered
            outcome.transcript += transcript
            sessionLost(group, lost: lost, conn: c, mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started)
            return false
        }
        if !established { rewriter.defineMacro(Array("{verify}".utf8), Array(verdict.utf8)) }
        let tlsServerRefusal = clientRuleset("tls_server", Array(verdict.utf8), to: to)
        if let refused = tlsServerRefusal, let sink = logSink, logLevel > 3 {
            sink.log(priority: LOG_NOTICE, "ruleset=tls_server, arg1=\(verdict), relay=\(peer), reject=\(refused)")
        }
        if let p = failedPlain {
            // endmailer(): the failed connection is drained, then closed
            drainAndClose(p, peer: peer, log: log)
            // TLSFallbacktoClear: the same address again, in clear (the
            // session's end later logs the read error sendmail's old
            // TLS layer gives)
            if optionIsTrue("TLSFallbacktoClear") {
                let ok = reconnectInClear(group, conn: c, address: addr, mailer: m, to: to, verbose: verbose,
                                          outcome: &outcome, log: log, started: started)
                if ok, let t = c.transport as? SocketTransport {
                    let sink = logSink
                    let level = logLevel
                    let text = "STARTTLS: read error=generic SSL error (-1), errno=11, get_error=\(firstSSLError ?? ""), retry=99, ssl_err=1"
                    c.transport = ClosingTransport(t) {
                        if let sink, level > 7 { sink.log(priority: level > 9 ? LOG_WARNING : LOG_DEBUG, text) }
                    }
                }
                return ok
            }
        }
        if let refused = tlsServerRefusal {
            if c.transport != nil {
                _ = drive(c, c.client.quit(), verbose: verbose, transcript: { _ in }) { _ in }
                c.transport?.close()
                c.transport = nil
            }
            c.usable = false
            // (the ruleset's reply, not the peer's: no reply= in the log)
            let (code, enhanced, _) = stripReplyCode(refused)
            let temporary = code?.first != "5"
            let status = temporary ? SysExit.tempFail.rawValue : SysExit.unavailable.rawValue
            record(status, temporary ? "Deferred: " + refused : "", group: group, mailer: m, verbose: verbose,
                   outcome: &outcome, log: log, started: started, relay: c.relay, dsn: enhanced)
            // (the DSN's reason and Diagnostic-Code: the ruleset's reply)
            for q in group {
                if let e = enhanced {
                    q.delay?.status = Array(e.utf8)
                    q.report?.status = Array(e.utf8)
                }
                q.report?.diagnostic = (m.diagType ?? Array("smtp".utf8), Array(refused.utf8))
                q.delay?.diagnostic = (m.diagType ?? Array("smtp".utf8), Array(refused.utf8))
            }
            return false
        }
        guard established else { return true }
        // EHLO again, over TLS
        return awaitSessionReady(c, c.client.restartAfterTLS(), group: group, mailer: m, verbose: verbose,
                                 outcome: &outcome, log: log, started: started)
    }

    /// Drives `initial` (a new session's greeting and EHLO, or EHLO again
    /// after the handshake) until the session is ready; a refusal ends the
    /// session (QUIT) and records the group's fate, as a lost session
    /// does.  False when the group's fate is recorded.
    func awaitSessionReady(_ c: SMTPConnection, _ initial: [SMTPClient.Action], group: [QueuedRecipient], mailer m: Mailer,
                           verbose: Bool, outcome: inout DeliveryOutcome, log: DeliveryLogContext, started: time_t) -> Bool {
        var ready = false
        var failure: SMTPClientReply? = nil
        let lost = drive(c, initial, verbose: verbose, transcript: { outcome.transcript += $0 }) { a in
            switch a {
            case .ready: ready = true
            case .sessionFailed(let r): failure = r
            default: break
            }
        }
        if let r = failure {
            _ = drive(c, c.client.quit(), verbose: verbose, transcript: { outcome.transcript += $0 }) { _ in }
            c.transport?.close()
            c.transport = nil
            finishSession(group, status: r.type == 4 ? SysExit.tempFail.rawValue : SysExit.unavailable.rawValue, reply: r,
                          conn: c, mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started)
            return false
        }
        if !ready {
            sessionLost(group, lost: lost, conn: c, mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started)
            return false
        }
        return true
    }

    /// What the peer of a failed handshake still sends is read until it
    /// closes, for at most Timeout.quit ("timeout waiting for input from
    /// h during Draining Input" when it does not), then the socket closed.
    func drainAndClose(_ p: SocketTransport, peer: String, log: DeliveryLogContext) {
        let deadline = time(nil) + time_t(smtpTimeout("quit"))
        var timedOut = false
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline - time(nil)
            if left <= 0 { timedOut = true; break }
            var pfd = pollfd(fd: p.fd, events: Int16(POLLIN), revents: 0)
            let n = poll(&pfd, 1, Int32(left) * 1000)
            if n == 0 { timedOut = true; break }
            if n < 0 { if errno == EINTR { continue }; break }
            let r = chunk.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
            if r <= 0 { break }
        }
        if timedOut, let sink = logSink, logLevel > 1 {
            sink.log(priority: LOG_NOTICE, "\(log.id.string): timeout waiting for input from \(peer) during Draining Input")
        }
        p.close()
    }

    func optionIsTrue(_ name: String) -> Bool {
        guard let v = config.options[name], let f = v.first else { return false }
        return f == UInt8(ascii: "t") || f == UInt8(ascii: "T") || f == UInt8(ascii: "y") || f == UInt8(ascii: "Y")
    }

    /// After a failed handshake with TLSFallbacktoClear: a new session
    /// with the same address, greeted, without STARTTLS.  False when the
    /// group's fate is recorded.
    func reconnectInClear(_ group: [QueuedRecipient], conn c: SMTPConnection, address: PeerAddress, mailer m: Mailer,
                          to: String, verbose: Bool, outcome: inout DeliveryOutcome, log: DeliveryLogContext,
                          started: time_t) -> Bool {
        if verbose { out.write("\(to)... Connecting to \(c.peerName.string) via \(m.name.string)...\n"); out.flush() }
        let (t, e) = SocketTransport.connect(address, timeout: smtpTimeout("connect") == 0 ? 75 : smtpTimeout("connect"))
        guard let t else {
            record(SysExit.tempFail.rawValue, "Deferred: \(String(cString: strerror(e))) by \(c.peerName.string)", group: group,
                   mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started, relay: c.relay, dsn: "4.4.1")
            return false
        }
        trafficLog?.emit("===", Array("CONNECT ".utf8) + c.peerName)
        c.transport = t
        c.client = SMTPClient(options: c.client.options)
        return awaitSessionReady(c, [], group: group, mailer: m, verbose: verbose, outcome: &outcome, log: log,
                                 started: started)
    }

    /// tls_rcpt on a recipient's address: its $#error reply, or nil.
    func tlsRcptRefusal(_ q: QueuedRecipient) -> String? {
        clientRuleset("tls_rcpt", q.address.user, to: q.printable.string)
    }

    /// A recipient tls_rcpt refused: its reply shown (with the address
    /// for a 550) and in the transcript, then EX_DATAERR.
    func refuseTLSRecipient(_ q: QueuedRecipient, reply: String, peer: String, mailer m: Mailer, verbose: Bool,
                            outcome: inout DeliveryOutcome, log: DeliveryLogContext, started: time_t, relay: String?) {
        if let sink = logSink, logLevel > 3 {
            sink.log(priority: LOG_NOTICE, "\(log.id.string): ruleset=tls_rcpt, arg1=\(q.address.user.string), relay=\(peer), reject=\(reply)")
        }
        let (code, enhanced, text) = stripReplyCode(reply)
        let named = code == "550"
        let prefix = "\(q.printable.string)... "
        let shown = named && !text.hasPrefix(prefix) ? prefix + text : text
        if verbose || (config.options["ErrorMode"]?.first ?? UInt8(ascii: "p")) == UInt8(ascii: "p") {
            out.write(shown + "\n")
        }
        outcome.transcript += Array("\(code ?? "550") \(enhanced.map { $0 + " " } ?? "")\(shown)\n".utf8)
        // (its to= line: dsn=5.5.2, the DSN's status, as check_compat's)
        record(SysExit.dataErr.rawValue, "", group: [q], mailer: m, verbose: verbose, outcome: &outcome, log: log,
               started: started, relay: relay, dsn: "5.5.2")
        // (no reason, no Diagnostic-Code in the DSN)
        q.report?.diagnostic = nil
    }

    /// The macros a completed handshake defines.
    func clientTLSMacros(_ info: TLSPeerInfo) {
        func set(_ n: String, _ v: [UInt8]?) { rewriter.defineMacro(Array(n.utf8), v) }
        set("{verify}", Array(info.verify.utf8))
        set("{tls_version}", Array(info.version.utf8))
        set("{cipher}", Array(info.cipher.utf8))
        set("{cipher_bits}", Array(String(info.cipherBits).utf8))
        set("{alg_bits}", Array(String(info.algBits).utf8))
        set("{cert_subject}", info.certSubject)
        set("{cert_issuer}", info.certIssuer)
        set("{cn_subject}", info.cnSubject)
        set("{cn_issuer}", info.cnIssuer)
    }
}
