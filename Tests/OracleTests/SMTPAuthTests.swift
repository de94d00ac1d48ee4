// SMTPAuthTests.swift — SMTP AUTH in `sendmail -bs` sessions, against the
// real sendmail (Debian's, linked with libsasl2) and with swaks.
//
// Promises: both binaries read the same SASL configuration: a Sendmail.conf
// (auxprop over a sasldb made by the real saslpasswd2, the four mechanisms
// of libsasl2-modules) in a scratch directory bind-mounted over
// /usr/lib/sasl2, where the library looks for it.  Each dialogue runs
// through SMTPSessionTests.compare (transcripts, exit status and queue files
// identical once dates, queue IDs and CRAM-MD5/DIGEST-MD5 challenges are
// normalised; the driver computes the CRAM-MD5 and DIGEST-MD5 answers) on Fixtures/oracle/cf/smtp-auth.cf, or on Debian's
// sendmail.mc with AUTH turned on (mc/debian-auth.mc) for relaying.  Scripts
// keep to four AUTH commands per session unless they test sendmail's
// slow-down.  The log lines of an AUTH session must be identical; swaks
// (--pipe, --auth PLAIN/LOGIN/CRAM-MD5) must see the same server replies
// from both and succeed (or fail on a wrong password) the same way.  A
// missing saslpasswd2 or swaks is a failure naming its package.

import Foundation
import Testing

@Suite("SMTP AUTH: -bs sessions identical to sendmail's, and swaks")
struct SMTPAuthTests {
    static let config = Configuration(name: "smtp-auth", source: .cf("cf/smtp-auth.cf"))
    static let debianAuth = Configuration(name: "debian-auth", source: .selfIncludingMC("mc/debian-auth.mc"))
    static let saslpasswd = "/usr/sbin/saslpasswd2"
    static let swaks = "/usr/bin/swaks"
    let sessions = SMTPSessionTests()

    /// The users of the test sasldb: alice and bob in realm
    /// vm.example.test (the host's name, AuthRealm's default), carol in
    /// other.example.
    static let users = [("alice", Sandbox.hostName, "secret"), ("bob", Sandbox.hostName, "pw2 x"),
                        ("carol", "other.example", "pw3")]

    /// A fresh SASL configuration directory in the configuration's scratch
    /// directory, one per tag (tests run in parallel): Sendmail.conf and
    /// sasldb2.
    func saslDirectory(_ tag: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: Self.saslpasswd) else {
            throw HarnessError("\(Self.saslpasswd) is missing: apt-get install sasl2-bin libsasl2-modules")
        }
        let (_, dir) = try sessions.prepare(Self.config)
        let sasl = dir.appendingPathComponent("sasl-" + tag)
        try? FileManager.default.removeItem(at: sasl)
        try FileManager.default.createDirectory(at: sasl, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        let db = sasl.appendingPathComponent("sasldb2").path
        for (user, realm, password) in Self.users {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Self.saslpasswd)
            p.arguments = ["-p", "-c", "-f", db, "-u", realm, user]
            let pipe = Pipe()
            p.standardInput = pipe
            try p.run()
            pipe.fileHandleForWriting.write(Data(password.utf8))
            try pipe.fileHandleForWriting.close()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw HarnessError("saslpasswd2 failed for \(user)") }
        }
        try """
            pwcheck_method: auxprop
            auxprop_plugin: sasldb
            sasldb_path: \(db)
            mech_list: PLAIN LOGIN CRAM-MD5 DIGEST-MD5

            """.write(to: sasl.appendingPathComponent("Sendmail.conf"), atomically: true, encoding: .utf8)
        return sasl.path
    }

    static func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
    static let alice = b64("\0alice@vm.example.test\0secret")

    @discardableResult
    func compare(_ script: String, tag: String, expectMessages: Int? = nil, options: [String] = []) throws -> String {
        try sessions.compare(script, tag: "auth-" + tag, expectMessages: expectMessages, options: options,
                             config: Self.config, sasl: try saslDirectory(tag))
    }

    @Test("EHLO's AUTH line: AuthMechanisms in its order, only what the library offers; none available")
    func ehlo() throws {
        let t = try compare("EHLO c.example\nQUIT\n", tag: "ehlo")
        #expect(t.contains("250-AUTH LOGIN PLAIN CRAM-MD5 DIGEST-MD5"), "the oracle offers other mechanisms:\n\(t)")
        try compare("EHLO c.example\nQUIT\n", tag: "ehlo-order", options: ["-OAuthMechanisms=DIGEST-MD5 SCRAM-SHA-1 GSSAPI login"])
        // nothing in common: no AUTH line, AUTH is not available
        try compare("EHLO c.example\nAUTH PLAIN \(Self.alice)\nMAIL FROM:<a@b> AUTH=<>\nQUIT\n", tag: "none",
                    options: ["-OAuthMechanisms=EXTERNAL"])
    }

    @Test("PLAIN: initial response, after 334, \"=\"; wrong password, unknown user, another authorization identity")
    func plain() throws {
        try compare("""
            EHLO c.example
            VRFY auth
            AUTH PLAIN \(Self.b64("\0alice@vm.example.test\0wrong"))
            AUTH PLAIN \(Self.b64("\0nobody\0secret"))
            AUTH PLAIN =
            AUTH PLAIN \(Self.alice)
            VRFY auth
            AUTH PLAIN \(Self.alice)
            MAIL FROM:<a@b>
            AUTH LOGIN
            RCPT TO:<x@outside.example>
            DATA
            Subject: plain

            x
            .
            QUIT

            """, tag: "plain", expectMessages: 1)
        try compare("""
            EHLO c.example
            AUTH PLAIN
            \(Self.b64("bob\0bob\0pw2 x"))
            VRFY auth
            MAIL FROM:<a@b>
            RCPT TO:<root>
            DATA
            Subject: plain 2

            x
            .
            QUIT

            """, tag: "plain-334", expectMessages: 1)
    }

    @Test("DIGEST-MD5 exchange (qop=auth), right and wrong")
    func digest() throws {
        try compare("""
            EHLO c.example
            AUTH DIGEST-MD5
            #DIGEST-MD5 alice vm.example.test wrong
            AUTH DIGEST-MD5
            #DIGEST-MD5 alice vm.example.test secret

            VRFY auth
            MAIL FROM:<a@b>
            RCPT TO:<x@outside.example>
            DATA
            Subject: digest

            x
            .
            QUIT

            """, tag: "digest", expectMessages: 1)
    }

    @Test("AuthRealm: the realm of a user name without one")
    func realm() throws {
        let script = "EHLO c.example\nAUTH PLAIN \(Self.b64("\0carol\0pw3"))\nVRFY auth\nQUIT\n"
        let other = try compare(script, tag: "realm-other", options: ["-OAuthRealm=other.example"])
        #expect(other.contains("235 2.0.0"), "carol is in other.example:\n\(other)")
        let own = try compare(script, tag: "realm-default")
        #expect(own.contains("535 5.7.0"), "carol is not in vm.example.test:\n\(own)")
    }

    @Test("LOGIN and CRAM-MD5 exchanges, right and wrong")
    func loginCram() throws {
        try compare("""
            EHLO c.example
            AUTH LOGIN
            \(Self.b64("alice@vm.example.test"))
            \(Self.b64("wrong"))
            AUTH CRAM-MD5
            #CRAM-MD5 alice@vm.example.test wrong
            AUTH login \(Self.b64("alice@vm.example.test"))
            \(Self.b64("secret"))
            VRFY auth
            MAIL FROM:<a@b>
            RCPT TO:<x@outside.example>
            DATA
            Subject: login

            x
            .
            QUIT

            """, tag: "login", expectMessages: 1)
        try compare("""
            EHLO c.example
            AUTH CRAM-MD5
            #CRAM-MD5 bob pw2 x
            VRFY auth
            MAIL FROM:<a@b>
            RCPT TO:<x@outside.example>
            DATA
            Subject: cram

            x
            .
            QUIT

            """, tag: "cram", expectMessages: 1)
    }

    @Test("bad base64, cancel with *, no mechanism, unknown mechanism, AUTH before EHLO and in a transaction")
    func errors() throws {
        try compare("""
            EHLO c.example
            AUTH PLAIN !!!
            AUTH PLAIN
            *
            AUTH LOGIN
            %%%
            AUTH DIGEST-MD5
            *
            QUIT

            """, tag: "errors")
        try compare("""
            MAIL FROM:<a@b>
            AUTH
            RSET
            AUTH FOO bar
            AUTH PLAIN \(Self.alice) extra
            AUTH PLAIN \(Self.alice)
            AUTH LOGIN
            MAIL FROM:<a@b>
            RCPT TO:<root>
            DATA
            Subject: no hello

            x
            .
            QUIT

            """, tag: "sequence", expectMessages: 1)
    }

    @Test("an unsafe Sendmail.conf (world-writable, or in a group-writable directory) is ignored as sendmail ignores it",
          arguments: [("conf-646", 0o646, 0o755), ("dir-775", 0o644, 0o775), ("conf-664", 0o664, 0o755)])
    func unsafeConfiguration(tag: String, fileMode: Int, dirMode: Int) throws {
        let dir = try saslDirectory(tag)
        try FileManager.default.setAttributes([.posixPermissions: fileMode], ofItemAtPath: dir + "/Sendmail.conf")
        try FileManager.default.setAttributes([.posixPermissions: dirMode], ofItemAtPath: dir)
        let t = try sessions.compare("EHLO c.example\nAUTH PLAIN \(Self.alice)\nQUIT\n", tag: "auth-" + tag,
                                     config: Self.config, sasl: dir)
        // without its configuration the library has no sasldb_path: alice is unknown
        #expect(t.contains(fileMode == 0o664 ? "235 2.0.0" : "535 5.7.0"), "\(tag):\n\(t)")
    }

    @Test("the protocol ($r, Received) after AUTH with HELO, EHLO and no greeting")
    func protocolMacro() throws {
        let msg = "MAIL FROM:<a@b>\nRCPT TO:<root>\nDATA\nSubject: p\n\nx\n.\n"
        try compare("HELO c.example\nAUTH PLAIN \(Self.alice)\n" + msg + "EHLO d.example\n" + msg + "QUIT\n",
                    tag: "proto-helo", expectMessages: 2)
        try compare("AUTH PLAIN \(Self.alice)\n" + msg + "HELO d.example\n" + msg + "QUIT\n",
                    tag: "proto-none", expectMessages: 2)
    }

    @Test("sendmail's slow-down from the fifth AUTH command")
    func slowDown() throws {
        try compare("EHLO c.example\n" + String(repeating: "AUTH FOO\n", count: 6) + "QUIT\n", tag: "attack")
    }

    @Test("AuthOptions=p: no plaintext mechanism without a security layer")
    func noPlaintext() throws {
        try compare("""
            EHLO c.example
            AUTH PLAIN \(Self.alice)
            AUTH LOGIN
            AUTH CRAM-MD5
            #CRAM-MD5 alice@vm.example.test secret
            QUIT

            """, tag: "options-p", options: ["-OAuthOptions=p"])
        try compare("EHLO c.example\nQUIT\n", tag: "options-py", options: ["-OAuthOptions=p,y"])
    }

    @Test("MAIL's AUTH= parameter: syntax, trust_auth, the qf A line, relaying only when authenticated")
    func mailParameter() throws {
        try compare("""
            EHLO c.example
            MAIL FROM:<a@b> AUTH=
            RSET
            MAIL FROM:<a@b> AUTH
            RSET
            MAIL FROM:<a@b> AUTH=a=b
            RSET
            MAIL FROM:<a@b> AUTH=a+4
            RSET
            MAIL FROM:<a@b> AUTH=x AUTH=y
            RSET
            MAIL FROM:<a@b> AUTH=someone
            RCPT TO:<x@outside.example>
            RCPT TO:<root>
            DATA
            Subject: unauthenticated

            x
            .
            QUIT

            """, tag: "param", expectMessages: 1)
        try compare("""
            EHLO c.example
            AUTH PLAIN \(Self.alice)
            MAIL FROM:<a@b> AUTH=<alice@vm.example.test>
            RCPT TO:<root>
            DATA
            Subject: trusted

            x
            .
            MAIL FROM:<a@b> AUTH=alice+40vm.example.test
            RCPT TO:<root>
            DATA
            Subject: xtext is not the identity

            x
            .
            MAIL FROM:<a@b> AUTH=<>
            RCPT TO:<root>
            DATA
            Subject: empty

            x
            .
            MAIL FROM:<a@b>
            RCPT TO:<root>
            DATA
            Subject: none

            x
            .
            QUIT

            """, tag: "param-auth", expectMessages: 4)
    }

    @Test("Debian's sendmail.cf with AUTH: relaying allowed only after AUTH, Received says authenticated")
    func debianRelay() throws {
        // (no AUTH= here: after the earlier 451, sendmail's exit status
        // would become 1, which we do not reproduce)
        try sessions.compare("""
            EHLO client.example
            MAIL FROM:<someone@client.example>
            RCPT TO:<x@elsewhere.example>
            RSET
            AUTH PLAIN \(Self.alice)
            MAIL FROM:<someone@client.example>
            RCPT TO:<x@elsewhere.example>
            RCPT TO:<root>
            DATA
            Subject: relayed

            x
            .
            QUIT

            """, tag: "auth-debian", expectMessages: 1, debian: true, config: Self.debianAuth,
            sasl: try saslDirectory("debian"))
    }

    @Test("syslog lines of an AUTH session: decode errors, failures, success")
    func logLines() throws {
        if access("/dev/log", F_OK) != 0 {
            let fd = open("/dev/log", O_CREAT | O_WRONLY, 0o644)
            #expect(fd >= 0, "cannot create /dev/log to mount over: \(String(cString: strerror(errno)))")
            if fd >= 0 { close(fd) }
        }
        let script = """
            EHLO c.example
            AUTH PLAIN !!!
            AUTH PLAIN \(Self.b64("\0alice@vm.example.test\0wrong"))
            AUTH PLAIN \(Self.b64("\0nobody\0secret"))
            AUTH PLAIN \(Self.alice)
            MAIL FROM:<a@b> AUTH=bob
            RCPT TO:<root>
            DATA
            Subject: logged

            x
            .
            QUIT

            """
        let (cf, dir) = try sessions.prepare(Self.config)
        let sasl = try saslDirectory("log")
        var lines: [String: [String]] = [:]
        for (who, binary) in [("real", OracleEnvironment.oraclePath), ("ours", try OracleEnvironment.binaryUnderTest())] {
            let q = try sessions.freshQueue(dir, "q-auth-log-\(who)")
            let collector = try DatagramCollector(path: dir.appendingPathComponent("auth-log-\(who).sock").path)
            // (read while the binary runs: only 10 datagrams wait in the socket)
            collector.startDraining()
            var options = SandboxOptions()
            options.modeFlag = "-bs"
            options.launcher = [SMTPSessionTests.python, SMTPSessionTests.driver]
            options.devLog = collector.path
            options.saslConfig = sasl
            options.extraArguments = ["-OQueueDirectory=\(q.path)", "-odq"]
            _ = try Sandbox.run(binary: binary, cf: cf, input: Array(script.utf8), options: options,
                                runDir: Workspace.shared.runs, tag: "auth-log.\(who)")
            lines[who] = collector.drain().map {
                LogTests.normalise($0, id: nil)
                    .replacingOccurrences(of: SMTPSessionTests.idPattern, with: "QID", options: .regularExpression)
            }
        }
        let real = lines["real"] ?? [], ours = lines["ours"] ?? []
        #expect(real.contains { $0.contains("AUTH=server") }, "the real sendmail logged no AUTH: \(real)")
        #expect(ours == real, "ours:\n\(ours.joined(separator: "\n"))\nreal:\n\(real.joined(separator: "\n"))")
    }

    /// swaks --pipe against one binary: its exit status and the server's
    /// lines, normalised.
    func swaks(_ binary: String, auth: String, user: String, password: String, tag: String) throws -> (Int32, [String]) {
        guard FileManager.default.isExecutableFile(atPath: Self.swaks) else {
            throw HarnessError("\(Self.swaks) is missing: apt-get install swaks")
        }
        let (cf, dir) = try sessions.prepare(Self.config)
        let q = try sessions.freshQueue(dir, "q-auth-swaks-\(tag)")
        var options = SandboxOptions()
        options.modeFlag = "-bs"
        options.saslConfig = try saslDirectory("swaks-" + tag)
        options.extraArguments = ["-OQueueDirectory=\(q.path)", "-odq"]
        // swaks runs the whole command line given to --pipe
        options.launcher = ["/bin/sh", "-c",
                            "exec \(Self.swaks) --pipe \"$*\" --from a@client.example --to root --auth \(auth) "
                            + "--auth-user '\(user)' --auth-password '\(password)' --helo c.example",
                            "sh"]
        let r = try Sandbox.run(binary: binary, cf: cf, input: [], options: options, runDir: Workspace.shared.runs,
                                tag: "auth-swaks-\(tag)")
        let out = String(decoding: r.stdout, as: UTF8.self)
        let server = out.split(separator: "\n").map(String.init).filter { $0.hasPrefix("<-") || $0.hasPrefix("<**") }
            .map {
                sessions.normaliseDates($0)
                    .replacingOccurrences(of: SMTPSessionTests.idPattern, with: "QID", options: .regularExpression)
                    .replacingOccurrences(of: #"^<- +334 PD[A-Za-z0-9+/]+=*$"#, with: "<- 334 <challenge>",
                                          options: .regularExpression)
            }
        return (r.status, server)
    }

    @Test("swaks --pipe --auth PLAIN, LOGIN, CRAM-MD5: accepted as by sendmail; a wrong password fails alike",
          arguments: ["PLAIN", "LOGIN", "CRAM-MD5"])
    func swaksAuth(mechanism: String) throws {
        let ours = try OracleEnvironment.binaryUnderTest()
        for (password, good) in [("secret", true), ("wrong", false)] {
            let tag = "\(mechanism)-\(good)"
            let (rs, rl) = try swaks(OracleEnvironment.oraclePath, auth: mechanism, user: "alice@vm.example.test",
                                     password: password, tag: tag + "-real")
            let (os, ol) = try swaks(ours, auth: mechanism, user: "alice@vm.example.test", password: password,
                                     tag: tag + "-ours")
            #expect(ol == rl, "\(tag): server lines differ\n--- ours\n\(ol.joined(separator: "\n"))\n--- real\n\(rl.joined(separator: "\n"))")
            #expect(os == rs, "\(tag): swaks exit \(os), with the oracle \(rs)")
            if good {
                #expect(os == 0 && ol.contains { $0.contains("235 2.0.0 OK Authenticated") }
                        && ol.contains { $0.contains("Message accepted for delivery") }, "\(tag): \(ol)")
            } else {
                #expect(os != 0 && ol.contains { $0.contains("535 5.7.0 authentication failed") }, "\(tag): \(ol)")
            }
        }
    }
}
