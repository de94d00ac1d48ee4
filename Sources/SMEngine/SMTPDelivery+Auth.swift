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
// Not done: DefaultAuthInfo, DIGEST-MD5/GSSAPI, AuthOptions' client flags,
// the SASL security layer (bits is always 0).

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
    /// The authinfo ruleset's credentials for the session's peer, or nil.
    func clientAuthInfo(_ c: SMTPConnection) -> ClientAuthInfo? {
        guard let rs = rewriter.rulesets.find(Array("authinfo".utf8)), rewriter.rulesets.hasRules(rs) else { return nil }
        func tokens(_ b: [UInt8]) -> [[UInt8]] {
            prescan(b, delim: 0, table: rewriter.tables.noComment, ignoreUnbalanced: false,
                    eightBitAddrOK: eightBitAddrOK, report: { _ in }).tokens ?? []
        }
        var pvp = tokens(c.peerName) + [[Meta.condElse]] + tokens(Array((c.address?.text ?? "").utf8))
        rewriter.rewrite(&pvp, ruleset: rs)
        guard pvp.first == [Meta.canonNet] else { return nil }
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
