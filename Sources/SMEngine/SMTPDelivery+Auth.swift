// SMEngine/SMTPDelivery+Auth.swift
//
// AUTH as sendmail 8.17's SMTP client does it (usersmtp.c smtpauth),
// after EHLO (and STARTTLS): when the peer offers AUTH, the authinfo
// ruleset (FEATURE(authinfo)'s, on "$&{server_name} $| $&{server_addr}")
// gives the credentials as `$# "U:user" "I:authzid" "P:password"
// "P=base64" "R:realm" "M:mechanisms"` (authzid: the user when not
// given).  The mechanisms tried are the peer's, in its order, that the
// M: list, else AuthMechanisms (sendmail's default: GSSAPI KERBEROS_V4
// DIGEST-MD5 CRAM-MD5), allows and that we implement — CRAM-MD5
// (preferred, as Cyrus SASL prefers a mechanism that sends no password),
// PLAIN (authzid NUL user NUL password as initial response), LOGIN (user,
// then password, to the two prompts).  A 535 drops the mechanism and the
// next is tried; when none is left (or another reply comes) the session
// goes on without AUTH, as sendmail's.  Success sets {auth_type} and is
// logged ("AUTH=client, relay=, mech=, bits=0", LogLevel > 9).
// When the cf has no authinfo ruleset at all (an empty one, or one that
// gives no `$#`, means no AUTH, as measured), the DefaultAuthInfo file
// (deprecated) is read as sendmail's readauth() reads it: its lines
// in order the user, authorization id, password, realm and mechanisms
// (an empty or missing password: no AUTH).
// Not done: DIGEST-MD5/GSSAPI, AuthOptions' client flags, the SASL
// security layer (bits is always 0), DefaultAuthInfo's file safety checks
// beyond readability.

import Glibc
import SMBase
import SMConfig
import SMRules
import SMSMTP
import SMTLS

/// What the authinfo ruleset gave.
struct ClientAuthInfo {
    var user: [UInt8] = []
    var authzid: [UInt8]? = nil
    var password: [UInt8]? = nil
    var realm: [UInt8]? = nil
    var mechanisms: [String]? = nil
}

extension Engine {
    /// The authinfo ruleset's credentials for the session's peer, else
    /// DefaultAuthInfo's; nil: no AUTH.
    func clientAuthInfo(_ c: SMTPConnection) -> ClientAuthInfo? {
        switch rulesetAuthInfo(c) {
        case .some(let info): return info
        case .none: return defaultAuthInfo()
        }
    }

    /// readauth(): the DefaultAuthInfo file's lines as U, I, P, R, M.
    func defaultAuthInfo() -> ClientAuthInfo? {
        guard let v = config.options["DefaultAuthInfo"], !v.isEmpty else { return nil }
        let fd = open(v.string, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        let bytes = readAll(fd)
        close(fd)
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { l -> [UInt8] in
            var x = Array(l)
            if x.last == 0x0D { x.removeLast() }
            return x
        }
        while lines.count < 5 { lines.append([]) }
        var info = ClientAuthInfo()
        info.user = lines[0]
        info.authzid = lines[1].isEmpty ? nil : lines[1]
        info.password = lines[2]
        info.realm = lines[3].isEmpty ? nil : lines[3]
        if !lines[4].isEmpty {
            info.mechanisms = lines[4].split(separator: 0x20).map { String(decoding: $0, as: UTF8.self).uppercased() }
        }
        guard !(lines[2].isEmpty), !info.user.isEmpty || info.authzid != nil else { return nil }
        if info.user.isEmpty { info.user = info.authzid ?? [] }
        return info
    }

    /// The authinfo ruleset's answer: nil when the cf has no such
    /// ruleset, .some(nil) when it gives no `$#` or not enough.
    func rulesetAuthInfo(_ c: SMTPConnection) -> ClientAuthInfo?? {
        guard let rs = rewriter.rulesets.find(Array("authinfo".utf8)) else { return nil }
        guard rewriter.rulesets.hasRules(rs) else { return .some(nil) }
        func tokens(_ b: [UInt8]) -> [[UInt8]] {
            prescan(b, delim: 0, table: rewriter.tables.noComment, ignoreUnbalanced: false,
                    eightBitAddrOK: eightBitAddrOK, report: { _ in }).tokens ?? []
        }
        var pvp = tokens(c.peerName) + [[Meta.condElse]] + tokens(Array((c.address?.text ?? "").utf8))
        rewriter.rewrite(&pvp, ruleset: rs)
        guard pvp.first == [Meta.canonNet] else { return .some(nil) }
        return .some(credentials(pvp))
    }

    /// The `$# "U:..." ...` tokens as credentials (nil: not enough).
    func credentials(_ pvp: [[UInt8]]) -> ClientAuthInfo? {
        var info = ClientAuthInfo()
        for tok in pvp.dropFirst() {
            var t = tok
            if t.first == UInt8(ascii: "\""), t.last == UInt8(ascii: "\""), t.count >= 2 { t = Array(t.dropFirst().dropLast()) }
            guard t.count >= 2 else { continue }
            let value = Array(t.dropFirst(2))
            switch (t[0], t[1]) {
            case (UInt8(ascii: "U"), UInt8(ascii: ":")): info.user = value
            case (UInt8(ascii: "I"), UInt8(ascii: ":")): info.authzid = value
            case (UInt8(ascii: "P"), UInt8(ascii: ":")): info.password = value
            case (UInt8(ascii: "P"), UInt8(ascii: "=")): info.password = SMTPClient.base64Decode(value)
            case (UInt8(ascii: "R"), UInt8(ascii: ":")): info.realm = value
            case (UInt8(ascii: "M"), UInt8(ascii: ":")):
                info.mechanisms = value.split(separator: 0x20).map { String(decoding: $0, as: UTF8.self).uppercased() }
            default: break
            }
        }
        guard !info.user.isEmpty || info.authzid != nil, info.password != nil else { return nil }
        if info.user.isEmpty { info.user = info.authzid ?? [] }
        return info
    }

    /// AUTH on a greeted session (see the file comment).  False when the
    /// connection was lost and the group's fate recorded.
    func clientAuthenticate(_ group: [QueuedRecipient], conn c: SMTPConnection, mailer m: Mailer, to: String, verbose: Bool,
                            outcome: inout DeliveryOutcome, log: DeliveryLogContext, started: time_t) -> Bool {
        guard let offered = c.client.extensions.auth else { return true }
        rewriter.defineMacro(Array("{server_name}".utf8), c.peerName)
        rewriter.defineMacro(Array("{server_addr}".utf8), Array((c.address?.text ?? "").utf8))
        guard let info = clientAuthInfo(c), let password = info.password else { return true }
        let allowed = (config.options["AuthMechanisms"].map { $0.string } ?? "GSSAPI KERBEROS_V4 DIGEST-MD5 CRAM-MD5")
            .uppercased().split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init)
        let implemented = ["CRAM-MD5", "PLAIN", "LOGIN"]
        var mechs = offered.split(separator: 0x20).map { String(decoding: $0, as: UTF8.self).uppercased() }
            .filter { (info.mechanisms ?? allowed).contains($0) && implemented.contains($0) }
        let authzid = info.authzid ?? info.user
        while !mechs.isEmpty {
            let mech = mechs.contains("CRAM-MD5") ? "CRAM-MD5" : mechs[0]
            var initial: [UInt8]? = nil
            if mech == "PLAIN" { initial = authzid + [0] + info.user + [0] + password }
            var step = 0
            var result: SMTPClientReply? = nil
            var success = false
            let lost = drive(c, c.client.auth(Array(mech.utf8), initialResponse: initial), verbose: verbose,
                             transcript: { outcome.transcript += $0 }) { a in
                switch a {
                case .authChallenge(let challenge):
                    var answer: [UInt8] = []
                    switch mech {
                    case "LOGIN": answer = step == 0 ? info.user : password
                    case "CRAM-MD5":
                        let hex = Array("0123456789abcdef".utf8)
                        answer = info.user + [0x20] + hmacMD5(key: password, data: challenge).flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] }
                    default: answer = []
                    }
                    step += 1
                    for x in c.client.authResponse(answer) {
                        if case .send(let cmd) = x { _ = self.send(c, cmd, verbose: verbose) }
                    }
                case .authenticated(let r): success = true; result = r
                case .authFailed(let r): result = r
                default: break
                }
            }
            if result == nil {
                sessionLost(group, lost: lost, conn: c, mailer: m, verbose: verbose, outcome: &outcome, log: log, started: started)
                return false
            }
            if success {
                rewriter.defineMacro(Array("{auth_type}".utf8), Array(mech.utf8))
                rewriter.defineMacro(Array("{auth_authen}".utf8), info.user)
                if let sink = logSink, logLevel > 9 {
                    sink.log(priority: LOG_INFO, "AUTH=client, relay=\(c.peerName.string), mech=\(mech), bits=0")
                }
                return true
            }
            // a 535 drops the mechanism; anything else ends the attempts
            guard result?.code == 535 else { return true }
            mechs.removeAll { $0 == mech }
        }
        return true
    }
}
