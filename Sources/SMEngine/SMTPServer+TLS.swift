// SMEngine/SMTPServer+TLS.swift
//
// STARTTLS in the SMTP session, as sendmail 8.17 answers it (the TLS
// itself is SMTLS's, driven by SMDaemon): offered in the EHLO list (after
// ETRN, before DELIVERBY) when the daemon could load ServerCertFile and
// ServerKeyFile, and until TLS is active; "501 5.5.2 Syntax error (no
// parameters allowed)" for an argument, "454 4.3.3 TLS not available
// after start" when not offered (no certificate, or TLS already active),
// "503 5.5.0 TLS not permitted during a mail transaction" after MAIL,
// else "220 2.0.0 Ready to start TLS" and `tls.startRequested` for the
// daemon.  Once the handshake is done (`tlsEstablished`): the macros
// {tls_version} {cipher} {cipher_bits} {alg_bits} {verify}
// {cert_subject} {cert_issuer} {cn_subject} {cn_issuer}; the greeting
// before TLS still counts (PrivacyOptions' need*helo are satisfied, $s
// and $r stay those of the last HELO/EHLO until the next), but the first
// HELO/EHLO after TLS also logs an open transaction's envelope, as RSET
// does, and drops the envelope's message (the qf M line); $r becomes
// ESMTPS from the next EHLO; the STARTTLS= log line (LogLevel > 8); the
// tls_client ruleset with "${verify} $| STARTTLS": a refusal makes the
// rest of the session a null server answering with its reply, as
// sendmail does (which, with the cf's rules tried here, does not run it
// again at MAIL).  -bs answers STARTTLS too but never offers it (sendmail
// would do TLS over standard input and output when certificates are
// configured; we do not): 454, or 501 with an argument.  A failed handshake: sendmail's "STARTTLS=server,
// error: accept failed=..." line (`tlsHandshakeFailed`), then the
// connection ends.

import Glibc
import SMBase
import SMRules
import SMSMTP

/// The session's STARTTLS state.
public struct SMTPServerTLS: Sendable {
    /// The daemon can do TLS (certificate and key loaded).
    public var offered = false
    /// The handshake completed.
    public internal(set) var active = false
    /// No HELO/EHLO since the handshake.
    var greetingPending = false
    /// The last reply was STARTTLS's 220: the daemon starts the handshake
    /// now and drops the client's input buffered in clear.
    public var startRequested = false
    public init() {}
}

/// What the handshake settled, as the daemon hands it to the session.
public struct SMTPTLSInfo: Sendable {
    public var version: String
    public var cipher: String
    public var cipherBits: Int
    public var algBits: Int
    public var verify: String
    public var certSubject: [UInt8]?
    public var certIssuer: [UInt8]?
    public var cnSubject: [UInt8]?
    public var cnIssuer: [UInt8]?
    public init(version: String, cipher: String, cipherBits: Int, algBits: Int, verify: String,
                certSubject: [UInt8]?, certIssuer: [UInt8]?, cnSubject: [UInt8]?, cnIssuer: [UInt8]?) {
        self.version = version
        self.cipher = cipher
        self.cipherBits = cipherBits
        self.algBits = algBits
        self.verify = verify
        self.certSubject = certSubject
        self.certIssuer = certIssuer
        self.cnSubject = cnSubject
        self.cnIssuer = cnIssuer
    }
}

extension SMTPServer {
    /// The reply to a STARTTLS line, or nil when `line` is another command.
    func startTLSCommand(_ line: [UInt8]) -> [UInt8]? {
        var l = line
        if l.last == 0x0D { l.removeLast() }
        var i = 0
        while i < l.count, l[i] == 0x20 || l[i] == 0x09 { i += 1 }
        var e = i
        while e < l.count, l[e] != 0x20, l[e] != 0x09 { e += 1 }
        guard Array(l[i..<e]).asciiLowercased == Array("starttls".utf8) else { return nil }
        if session.nullServer { return session.nullServerReply.encoded }
        if e < l.count { return error(501, "5.5.2", "Syntax error (no parameters allowed)") }
        if !tls.offered || tls.active { return error(454, "4.3.3", "TLS not available after start") }
        if case .command(mail: true, _) = session.phase {
            return error(503, "5.5.0", "TLS not permitted during a mail transaction")
        }
        tls.startRequested = true
        return SMTPReply(220, "2.0.0", "Ready to start TLS").encoded
    }

    /// The first HELO/EHLO after the handshake: it also drops the
    /// envelope's message (the qf M line), as sendmail's does.
    func tlsGreetingPending() -> Bool {
        defer { tls.greetingPending = false }
        return tls.greetingPending
    }

    /// The EHLO keyword, while STARTTLS may be given.
    var startTLSKeyword: [UInt8]? { tls.offered && !tls.active ? Array("STARTTLS".utf8) : nil }

    /// The handshake completed (see the file comment).
    public func tlsEstablished(_ info: SMTPTLSInfo) {
        tls.active = true
        tls.startRequested = false
        setMacro("{tls_version}", Array(info.version.utf8))
        setMacro("{cipher}", Array(info.cipher.utf8))
        setMacro("{cipher_bits}", Array(String(info.cipherBits).utf8))
        setMacro("{alg_bits}", Array(String(info.algBits).utf8))
        setMacro("{verify}", Array(info.verify.utf8))
        setMacro("{cert_subject}", info.certSubject)
        setMacro("{cert_issuer}", info.certIssuer)
        setMacro("{cn_subject}", info.cnSubject)
        setMacro("{cn_issuer}", info.cnIssuer)
        tls.greetingPending = true
        // a new SASL connection over the TLS layer (SMTPServer+Auth.swift)
        auth.external = (UInt32(info.cipherBits), info.verify == "OK" ? info.certSubject.map { $0.string } : nil)
        if !auth.state.isAuthenticated {
            auth.sasl = nil
            auth.prepared = false
        }
        if let sink = engine.logSink, engine.logLevel > 8 {
            sink.log(priority: LOG_INFO, "STARTTLS=server, relay=\(macro("_").string), version=\(info.version), verify=\(info.verify), cipher=\(info.cipher), bits=\(info.cipherBits)/\(info.algBits)")
        }
        let arg = Array(info.verify.utf8) + [Meta.condElse] + Array("STARTTLS".utf8)
        let refused = policyCheck("tls_client", arg)
        guard let first = refused.first else { return }
        logRejection("tls_client", Array(info.verify.utf8), refused, arg2: Array("STARTTLS".utf8), withID: false)
        let (code, enhanced, text) = stripReplyCode(first)
        session.refuseConnection(SMTPReply(code: Int(code ?? "550") ?? 550, enhanced: enhanced,
                                           lines: [Array(text.latin1Bytes)]))
    }

    /// The handshake failed: sendmail's log line (the connection is lost next).
    public func tlsHandshakeFailed(result: Int, reason: String, sslError: Int, retry: Int = -1) {
        tls.startRequested = false
        guard let sink = engine.logSink, engine.logLevel > 5 else { return }
        sink.log(priority: LOG_WARNING, "STARTTLS=server, error: accept failed=\(result), reason=\(reason), SSL_error=\(sslError), errno=0, retry=\(retry), relay=\(macro("_").string)")
    }

    /// Timeout.starttls (sendmail's default an hour): the handshake did
    /// not complete in time.
    public var startTLSTimeout: Int { timeoutOption("starttls", 3600) }

    /// The handshake took longer than Timeout.starttls: sendmail logs the
    /// failed accept as a handshake that wants more input, then ends the
    /// session without a reply (its session-end lines included).
    public func tlsHandshakeTimedOut() {
        tlsHandshakeFailed(result: 1, reason: "unknown", sslError: 2, retry: 0)
        session.close()
        logAbandonedTransaction()
        logIdleSession()
        closeFilter()
    }
}
