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
// Not done: TLSFallbacktoClear, DANE, the clt_features/tls_rcpt rulesets,
// a host's TLS failure remembered for its later groups.

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
    var buffer: [UInt8] = []
    var start = 0

    init(plain: SocketTransport, stream: TLSClientStream) { self.plain = plain; self.stream = stream }

    func write(_ bytes: [UInt8], timeout: Int) -> Int32 {
        guard let f = stream.write(bytes, timeout: timeout) else { return 0 }
        return f.timedOut ? ETIMEDOUT : (f.errno != 0 ? f.errno : EPIPE)
    }

    func readLine(timeout: Int) -> SMTPLineResult {
        while true {
            if let nl = buffer[start...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<nl])
                start = nl + 1
                if start > 4096 { buffer.removeFirst(start); start = 0 }
                return .line(line)
            }
            switch stream.read(timeout: timeout) {
            case .success(let bytes):
                if bytes.isEmpty { return .closed }
                buffer += bytes
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
              let ctx = clientTLSContext() else { return true }
        let peer = c.peerName.string
        rewriter.defineMacro(Array("{server_name}".utf8), c.peerName)
        rewriter.defineMacro(Array("{server_addr}".utf8), Array(addr.text.utf8))
        if let refused = clientRuleset("try_tls", c.peerName, to: to) {
            if let sink = logSink, logLevel > 3 {
                sink.log(priority: LOG_NOTICE, "ruleset=try_tls, arg1=\(peer), relay=\(peer), reject=\(refused)")
            }
            return true
        }
        var verdict = ""
        var established = false
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
                        if let sink = self.logSink {
                            if self.logLevel > 5 {
                                sink.log(priority: LOG_WARNING, "STARTTLS=client, error: connect failed=\(f.result), reason=\(f.reason), SSL_error=\(f.sslError), errno=\(f.errno), retry=-1")
                            }
                            let queue = stream.errorQueue()
                            if self.logLevel > 9 { for l in queue { sink.log(priority: LOG_WARNING, "STARTTLS=client: \(l)") } }
                        }
                        c.usable = false
                        c.client.abandon()
                        plain.close()
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
        if let refused = clientRuleset("tls_server", Array(verdict.utf8), to: to) {
            if let sink = logSink, logLevel > 3 {
                sink.log(priority: LOG_NOTICE, "ruleset=tls_server, arg1=\(verdict), relay=\(peer), reject=\(refused)")
            }
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
        var ready = false
        var failure: SMTPClientReply? = nil
        let lost2 = drive(c, c.client.restartAfterTLS(), verbose: verbose, transcript: { outcome.transcript += $0 }) { a in
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
            sessionLost(group, lost: lost2, conn: c, mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started)
            return false
        }
        return true
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
