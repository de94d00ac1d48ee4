// SMEngine/SMTPServer+Auth.swift
//
// SMTP AUTH for the SMTP server (`-bs` and the daemon), over Cyrus SASL
// (SASLServer.swift) and the pure AUTH state (SMSMTP/SMTPAuth.swift), as
// Debian's sendmail 8.17 does it:
// - EHLO offers "AUTH <mechanisms>": the AuthMechanisms option (default
//   "EXTERNAL GSSAPI KERBEROS_V4 DIGEST-MD5 CRAM-MD5"), in its order,
//   keeping those the library offers on this connection; AuthOptions
//   letters a c d f m p y become SASL security flags (p: no plaintext
//   mechanism, since there is no TLS yet), AuthRealm (default $j) the
//   server name given to SASL.  No security layer is offered: the
//   largest SSF is 0 whatever AuthMaxBits says (sendmail offers DIGEST-MD5's
//   auth-int and auth-conf; a client choosing them here would be
//   refused rather than get a session we cannot protect).
// - AUTH: sendmail's refusals (503 not available, already authenticated,
//   inside a transaction), its slow-down from the fifth AUTH command,
//   501 no mechanism, 504 unknown mechanism, 501 bad base64 (initial
//   response or answer), "=" as an empty initial response, "*" to cancel
//   (501 AUTH aborted), 334 challenges, 235 on success and 535 on
//   failure.  Success sets {auth_type} (the mechanism as the client
//   wrote it), {auth_authen} (the
//   authentication identity, as xtext), {auth_ssf} and the protocol $r
//   (ESMTPA); any authorization identity is allowed (sendmail's proxy
//   policy: trust_auth judges MAIL's AUTH= later).  Log lines as
//   sendmail's: from LogLevel 9 "AUTH=server, relay=..., authid=...,
//   mech=..., bits=..." (no queue ID), "AUTH failure (mech): <SASL
//   error>, user=..., relay=..." and "AUTH decode64 error [...]" (under
//   the session's queue ID); from 6 the "possible SMTP attack" line; from
//   10 a trust_auth refusal ("ruleset=trust_auth, arg1=..., reject=...").
// - MAIL's AUTH= parameter: a value is required (it may be empty),
//   xtext syntax, duplicates, {auth_author} (an envelope macro), the
//   trust_auth ruleset on the value as given (an error result means "not
//   trusted": the value becomes "<>", the command goes on); the value is
//   the envelope's, written as the qf A line (none without AUTH=, even
//   for an authenticated client).
// The hooks in SMTPServer.swift: `authHandle` first in handle(),
// `authEHLOKeyword` in the EHLO list, `authMailParameter` for AUTH= and
// `authQueueParameter` for the qf, `authResetEnvelope` with the
// transaction, and the protocol in hello() and mail().
// - After STARTTLS the SASL connection is made again with the cipher
//   bits as the external SSF and, when the client certificate verified,
//   its subject ({cert_subject}) as the external identity: EXTERNAL is
//   then offered as the library offers it (AuthMechanisms permitting),
//   and the AUTH= log line's authid is {auth_authen} (xtext).
// - srv_features' A: AUTH neither offered nor accepted (503).
// - In a null server (check_relay, greet_pause, tls_client) AUTH gets the
//   null server's reply like every other command.
// - Timeout.auth: sendmail 8.17's daemon was seen waiting past it in an
//   exchange (Timeout.auth=2s, no answer after 80 s), so the exchange
//   waits Timeout.command like any command.
// Not done: security layers (see above), sendmail's exit status 1 for a
// session that gives MAIL an AUTH= after an earlier error, AuthOptions A
// and u, DontBlameSendmail for the SASL files.  The
// slow-down sleeps in the caller's thread (as the bad-HELO one does).

import Glibc
import SMBase
import SMRules
import SMSMTP

/// One session's AUTH data (held by SMTPServer as `auth`).
public final class SMTPAuthContext {
    var state = SMTPAuthState()
    var sasl: SASLServer? = nil
    var prepared = false
    /// The mechanisms EHLO offers (AuthMechanisms ∩ the library's).
    var offered: [String] = []
    /// How many mechanisms the library has (none: AUTH not available).
    var libraryCount = 0
    /// AUTH= of the current MAIL, once accepted.
    var envelopeParameter: [UInt8]? = nil
    /// An AUTH= parameter was given in this MAIL command (trusted or not).
    var parameterSeen = false
    /// The authenticated identity (SASL_USERNAME), for AUTH= by default.
    var user: [UInt8]? = nil
    /// After STARTTLS: the cipher bits, and the subject of a verified
    /// client certificate (EXTERNAL's identity).
    var external: (ssf: UInt32, id: String?)? = nil
    public init() {}
}

extension SMTPServer {
    static let defaultAuthMechanisms = "EXTERNAL GSSAPI KERBEROS_V4 DIGEST-MD5 CRAM-MD5"

    func optionString(_ name: String) -> String? { engine.config.options[name].map { $0.string } }

    /// SASL security flags from AuthOptions.
    var authSecurityFlags: UInt32 {
        var f: UInt32 = 0
        for c in optionString("AuthOptions") ?? "" {
            switch c {
            case "a": f |= 0x0002  // SASL_SEC_NOACTIVE
            case "c": f |= 0x0020  // SASL_SEC_PASS_CREDENTIALS
            case "d": f |= 0x0004  // SASL_SEC_NODICTIONARY
            case "f": f |= 0x0008  // SASL_SEC_FORWARD_SECRECY
            case "m": f |= 0x0040  // SASL_SEC_MUTUAL_AUTH
            case "p": f |= 0x0001  // SASL_SEC_NOPLAINTEXT
            case "y": f |= 0x0010  // SASL_SEC_NOANONYMOUS
            default: break
            }
        }
        return f
    }

    /// Makes the SASL connection and the offered list, once.
    func authPrepare() {
        guard !auth.prepared else { return }
        auth.prepared = true
        auth.libraryCount = 0
        let wanted = (optionString("AuthMechanisms") ?? Self.defaultAuthMechanisms)
            .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map(String.init)
        guard !wanted.isEmpty else { return }
        let realm = optionString("AuthRealm").flatMap { $0.isEmpty ? nil : $0 } ?? macro("j").string
        // no security layer is offered (we cannot apply one), whatever
        // AuthMaxBits says: DIGEST-MD5 then offers qop "auth" only
        guard let s = SASLServer(serverName: realm, securityFlags: authSecurityFlags, maxSSF: 0,
                                 external: auth.external) else { return }
        auth.sasl = s
        let listed = s.mechanisms()
        auth.libraryCount = listed.count
        let have = Set(listed.map { $0.uppercased() })
        var seen = Set<String>()
        auth.offered = wanted.filter { have.contains($0.uppercased()) && seen.insert($0.uppercased()).inserted }
    }

    /// The EHLO keyword line ("AUTH PLAIN LOGIN"), or nil.
    func authEHLOKeyword() -> [UInt8]? {
        // srv_features' A: not offered
        if featuresOff.contains(UInt8(ascii: "A")) { return nil }
        authPrepare()
        guard !auth.offered.isEmpty else { return nil }
        return Array(("AUTH " + auth.offered.joined(separator: " ")).utf8)
    }

    /// Takes the line when it is AUTH business: an AUTH command, or the
    /// client's answer during the exchange.
    func authHandle(_ line: [UInt8]) -> (reply: [UInt8], close: Bool)? {
        guard case .command = session.phase else { return nil }
        if case .exchanging(let mech) = auth.state.phase {
            var l = line
            if l.last == 0x0D { l.removeLast() }
            return (authAnswer(l, mechanism: mech), false)
        }
        let c = SMTPCommand.parse(line)
        guard c.verb == .unknown else { return nil }
        var i = 0
        let l = c.line
        while i < l.count, l[i] == 0x20 || l[i] == 0x09 { i += 1 }
        var e = i
        while e < l.count, l[e] != 0x20, l[e] != 0x09 { e += 1 }
        guard Array(l[i..<e]).asciiCaseEquals(Array("auth".utf8)) else { return nil }
        if session.nullServer { return (reply(session.nullServerReply), false) }
        return (authCommand(c.argument), false)
    }

    func authCommand(_ arg: [UInt8]) -> [UInt8] {
        authPrepare()
        if let r = auth.state.refusal(available: auth.sasl != nil && auth.libraryCount > 0
                                        && !featuresOff.contains(UInt8(ascii: "A")),
                                      inTransaction: session.inTransaction) {
            return reply(r)
        }
        let (delay, log) = auth.state.countAttempt()
        if log {
            authLog(LOG_INFO, level: 5, "\(macro("_").string): possible SMTP attack: command=AUTH, count=\(auth.state.attempts)")
        }
        if delay > 0 { sleep(UInt32(delay)) }
        let a = SMTPAuthArgument.parse(arg)
        if a.mechanism.isEmpty { return reply(SMTPAuthState.noMechanism) }
        guard let mech = auth.offered.first(where: { Array($0.utf8).asciiCaseEquals(a.mechanism) }),
              let sasl = auth.sasl else {
            return reply(SMTPAuthState.unknownMechanism(a.mechanism))
        }
        var input: [UInt8]? = nil
        switch a.initial {
        case .none: break
        case .empty: input = []
        case .encoded(let t):
            switch SASLServer.decode64(t) {
            case .success(let d): input = d
            case .failure(let e):
                authLog(LOG_WARNING, level: 5, "AUTH decode64 error [\(e.status) for \"\(t.string)\"], relay=\(macro("_").string)")
                return reply(SMTPAuthState.badInitial(t))
            }
        }
        // {auth_type} is the mechanism as the client wrote it
        return authResult(sasl.start(mech, input), mechanism: a.mechanism, starting: true)
    }

    func authAnswer(_ line: [UInt8], mechanism: [UInt8]) -> [UInt8] {
        guard let sasl = auth.sasl else { auth.state.phase = .idle; return reply(SMTPAuthState.failed) }
        if SMTPAuthState.isCancel(line) {
            authReset()
            return reply(SMTPAuthState.aborted)
        }
        guard case .success(let d) = SASLServer.decode64(line) else {
            authReset()
            return reply(SMTPAuthState.badResponse(line))
        }
        return authResult(sasl.step(d), mechanism: mechanism, starting: false)
    }

    func authResult(_ r: SASLServer.StepResult, mechanism: [UInt8], starting: Bool) -> [UInt8] {
        guard let sasl = auth.sasl else { return reply(SMTPAuthState.failed) }
        switch r {
        case .ok:
            auth.state.phase = .authenticated(mechanism: mechanism)
            // the authentication identity (not the authorization one)
            let user = sasl.authUser.map { Array($0.utf8) }
            auth.user = user
            setMacro("{auth_type}", mechanism)
            // (xtext with "=" too, as sendmail writes it)
            setMacro("{auth_authen}", user.map { xtextify($0, taboo: Array("=<>\")".utf8)) })
            let ssf = sasl.ssf ?? 0
            setMacro("{auth_ssf}", Array(String(ssf).utf8))
            // even after HELO (a later HELO makes it SMTP again); the
            // daemon's session leaves $r unset until MAIL (as seen on sendmail -bd)
            if daemonName == nil { rw.macros[Int(UInt8(ascii: "r"))] = Array("ESMTPA".utf8) }
            // ($r is set again at MAIL from the greeting's protocol)
            if session.greeted { heloProtocol = Array((tls.active ? "ESMTPSA" : "ESMTPA").utf8) }
            authLog(LOG_INFO, level: 8, "AUTH=server, relay=\(macro("_").string), authid=\(String(namedMacro("{auth_authen}").string.prefix(128))), mech=\(String(mechanism.string.prefix(16))), bits=\(ssf)", queueID: false)
            return SMTPAuthState.authenticated.encoded
        case .challenge(let c):
            guard let enc = SASLServer.encode64(c) else {
                authReset()
                return error(454, "4.5.4", "Internal error: unable to encode64")
            }
            auth.state.phase = .exchanging(mechanism: mechanism)
            return SMTPAuthState.challenge(enc).encoded
        case .failed(let code):
            let who = (sasl.authUser ?? sasl.username).map { ", user=\($0)" } ?? ""
            authLog(LOG_WARNING, level: 8, "AUTH failure (\(mechanism.string)): \(sasl.errorText(code)) (\(code)) \(sasl.errorDetail)\(who), relay=\(macro("_").string)")
            authReset()
            return reply(SMTPAuthState.failed)
        }
    }

    /// A failed or cancelled exchange: a fresh SASL connection.
    func authReset() {
        auth.state.phase = .idle
        auth.prepared = false
        auth.sasl = nil
        let attempts = auth.state
        authPrepare()
        auth.state = attempts
        auth.state.phase = .idle
    }

    func reply(_ r: SMTPReply) -> [UInt8] {
        if r.isError { noteError(String(decoding: r.encoded.dropLast(2), as: UTF8.self)) }
        return r.encoded
    }

    /// A log line, under the envelope's queue ID (given now if it has
    /// none: sendmail's session has one) unless `queueID` is false.
    func authLog(_ priority: Int32, level: Int, _ text: String, queueID: Bool = true) {
        guard let sink = engine.logSink, engine.logLevel > level else { return }
        var id = ""
        if queueID {
            if envelopeID == nil {
                let qdir = (engine.config.options["QueueDirectory"] ?? []).string
                envelopeID = engine.assignQueueID(qdir, now: now(), pid: Int(getpid()), generator: &idGenerator)
            }
            id = envelopeID!.bytes.string + ": "
        }
        sink.log(priority: priority, id + text)
    }

    /// MAIL's AUTH= parameter: an error reply, or nil to go on.
    func authMailParameter(_ value: [UInt8]?, address: [UInt8]) -> [UInt8]? {
        guard let v = value else { return error(501, "5.5.2", "AUTH= requires a value") }
        if auth.parameterSeen { return error(501, "5.5.0", "Duplicate AUTH parameter") }
        auth.parameterSeen = true
        guard isXtext(v) else { return error(501, "5.5.4", "Syntax error in AUTH parameter value") }
        setMacro("{auth_author}", v)
        if v == Array("<>".utf8) {
            auth.envelopeParameter = v
            return nil
        }
        // errors of trust_auth are not shown: they only mean "not trusted"
        let saveUser = rw.lastUserError, saveEnv = rw.envelopeMessage, saveStatus = rw.exitStatus
        let saveTo = rw.currentAddress
        rw.currentAddress = address
        let refused = trustAuthCheck(v)
        rw.currentAddress = saveTo
        rw.lastUserError = saveUser; rw.envelopeMessage = saveEnv; rw.exitStatus = saveStatus
        if refused.isEmpty {
            auth.envelopeParameter = v
        } else {
            // not trusted: passed on as "<>"
            auth.envelopeParameter = Array("<>".utf8)
            if let r = refused.last {
                authLog(LOG_NOTICE, level: 9, "ruleset=trust_auth, arg1=\(v.string), relay=\(macro("_").string), reject=\(r)", queueID: false)
            }
        }
        return nil
    }

    /// trust_auth on AUTH='s value (the current address stays the MAIL
    /// path, as in sendmail's error text): its error replies, or [].
    func trustAuthCheck(_ arg: [UInt8]) -> [String] {
        guard let rs = rw.rulesets.find(Array("trust_auth".utf8)), rw.rulesets.hasRules(rs) else { return [] }
        return capturing {
            let r = prescan(arg, delim: 0, table: rw.tables.noComment, ignoreUnbalanced: false,
                            eightBitAddrOK: engine.eightBitAddrOK, report: { self.rw.userError($0) })
            guard var pvp = r.tokens else { return }
            rw.rewrite(&pvp, ruleset: rs)
            if pvp.count > 1, pvp[0] == [Meta.canonNet], pvp[1].asciiCaseEquals(Array("error".utf8)) {
                _ = engine.buildAddress(pvp, flags: [])
            }
        }
    }

    /// A new envelope: no AUTH= yet, {auth_author} cleared.
    func authResetEnvelope() {
        auth.envelopeParameter = nil
        auth.parameterSeen = false
        setMacro("{auth_author}", nil)
    }

    /// The qf A line of the message: AUTH= as accepted (sendmail writes
    /// none for an authenticated client that gave no AUTH=).
    var authQueueParameter: [UInt8]? { auth.envelopeParameter }
}
