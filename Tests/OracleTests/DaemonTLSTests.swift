// DaemonTLSTests.swift — STARTTLS in the daemon (`sendmail -bD`) against
// the real sendmail's, and real TLS clients against ours.
//
// Promises: a CA, a server certificate, a client certificate it signed
// and a self-signed ("rogue") client certificate are made with the
// openssl CLI in the test scratch; the cf is Fixtures/oracle/cf/daemon.cf
// with ServerCertFile/ServerKeyFile/CACertFile/CACertPath set, Debian's
// Received: header (with its "(version=... cipher=... bits=...
// verify=...)" part), a VRFY rule that shows the TLS macros ({verify}
// {cert_subject} {cert_issuer} {cn_subject} {cn_issuer} {tls_version}
// {cipher} {cipher_bits} {alg_bits}) and a tls_client ruleset refusing
// a certificate that failed verification (AuthMechanisms names a
// mechanism Cyrus SASL does not have here, so neither daemon offers AUTH,
// which is not this suite's subject).  The differential cases play the
// same sessions against both daemons (daemon-harness.py's #TLS does the
// client side of the handshake with Python's ssl) and compare
// transcripts, syslog lines and queue files as DaemonTests.compare does.
// The other cases run ours alone with `openssl s_client -starttls smtp`,
// swaks --tls (with and without a client certificate) and Python's
// smtplib.  Fails (never skips) when openssl, swaks or python3 is missing.

import Foundation
import Testing

// (Part of the DaemonTests suite: its cases share the scratch directory
// and must not run alongside the other daemon cases.)
extension DaemonTests {
    /// The certificates (made once per scratch directory).
    static func certificates(_ dir: URL) throws -> URL {
        let openssl = "/usr/bin/openssl"
        guard FileManager.default.isExecutableFile(atPath: openssl) else {
            throw HarnessError("\(openssl) is missing: the TLS tests make their certificates with it (apt-get install openssl)")
        }
        let tls = dir.appendingPathComponent("tls")
        if FileManager.default.fileExists(atPath: tls.appendingPathComponent("rogue.crt").path) { return tls }
        try? FileManager.default.removeItem(at: tls)
        try FileManager.default.createDirectory(at: tls, withIntermediateDirectories: true)
        chmod(tls.path, 0o755)
        let script = """
            set -e
            cd '\(tls.path)'
            o() { \(openssl) "$@" 2>/dev/null; }
            o req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/C=US/O=Test CA/CN=Test Root CA"
            for n in server client; do
              o req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj "/C=US/O=Example Org/CN=$n.example"
              o x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $n.crt -days 3650
            done
            o req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.crt -days 3650 -subj "/CN=rogue.example"
            chmod 600 *.key
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw HarnessError("making the test certificates failed") }
        return tls
    }

    /// daemon.cf with TLS (see the file comment); `options` are more O lines.
    static func tlsCF(_ cf: String, _ dir: URL, options: [String] = []) throws -> String {
        let tls = try certificates(dir)
        var s = try String(contentsOfFile: cf, encoding: .isoLatin1)
        let rules = """
            Rtls\t$#error $@ 5.7.1 $: "550 verify=" $&{verify} " subject=" $&{cert_subject} " issuer=" $&{cert_issuer} " cns=" $&{cn_subject} " cni=" $&{cn_issuer} " version=" $&{tls_version} " cipher=" $&{cipher} " bits=" $&{cipher_bits} " alg=" $&{alg_bits}
            Stls_client
            R$* $| STARTTLS\t$: $1
            RFAIL\t$#error $@ 5.7.0 $: "403 4.7.0 untrusted client certificate"
            R$* $| MAIL\t$#error $@ 5.7.1 $: "550 tls_client at MAIL " $1

            """
        s = s.replacingOccurrences(of: "H?P?Return-Path", with: rules + "H?P?Return-Path")
        guard let r0 = s.range(of: "HReceived:"), let r1 = s.range(of: "H?D?Date") else {
            throw HarnessError("daemon.cf has no Received:/Date: headers")
        }
        s.replaceSubrange(r0.lowerBound..<r1.lowerBound, with: """
            HReceived: $?sfrom $s $.$?_($?s$|from $.$_)
            \t$.$?{auth_type}(authenticated$?{auth_ssf} bits=${auth_ssf}$.)
            \t$.by $j ($v/$Z)$?r with $r$. id $i$?{tls_version}
            \t(version=${tls_version} cipher=${cipher} bits=${cipher_bits} verify=${verify})$.$?u
            \tfor $u; $|;
            \t$.$b

            """)
        s = s.replacingOccurrences(of: "O AuthMechanisms=EXTERNAL", with: "O AuthMechanisms=GSSAPI")
        let o = ["ServerCertFile=\(tls.path)/server.crt", "ServerKeyFile=\(tls.path)/server.key",
                 "CACertFile=\(tls.path)/ca.crt", "CACertPath=\(tls.path)"] + options
        s = s.replacingOccurrences(of: "O Timeout.ident=0", with: (["O Timeout.ident=0"] + o.map { "O " + $0 }).joined(separator: "\n"))
        let out = dir.appendingPathComponent("daemon-tls.cf").path
        try s.write(toFile: out, atomically: true, encoding: .isoLatin1)
        return out
    }

    func tlsDir() throws -> String {
        let (_, dir) = try prepare()
        return try Self.certificates(dir).path
    }

    @Test("STARTTLS then EHLO: the TLS macros with a verified client certificate, STARTTLS again, Received: with version/cipher/bits/verify")
    func startTLSThenEHLO() throws {
        let tls = try tlsDir()
        try compare("""
            #CONNECT 2525 127.0.0.1 40101
            EHLO client.example
            VRFY tls
            STARTTLS now
            STARTTLS
            #TLS \(tls)/client.crt \(tls)/client.key
            VRFY tls
            EHLO client.example
            STARTTLS
            MAIL FROM:<sender@client.example>
            RCPT TO:<root>
            DATA
            Subject: over TLS

            body
            .
            QUIT
            """, tag: "tls-ehlo", expectMessages: 1, cf: { try Self.tlsCF($0, $1) })
    }

    @Test("STARTTLS before EHLO, during a transaction (503), twice (454); commands before the TLS EHLO; needmailhelo: the greeting before TLS still counts")
    func ordering() throws {
        let tls = try tlsDir()
        let script = """
            #CONNECT 2525 127.0.0.1 40102
            STARTTLS
            #TLS
            VRFY tls
            MAIL FROM:<sender@client.example>
            RCPT TO:<root>
            DATA
            Subject: no EHLO after TLS

            body
            .
            STARTTLS
            QUIT
            #CONNECT 2525 127.0.0.1 40103
            EHLO client.example
            MAIL FROM:<sender@client.example>
            RCPT TO:<root>
            STARTTLS
            RSET
            STARTTLS
            #TLS \(tls)/client.crt \(tls)/client.key
            MAIL FROM:<sender@client.example>
            RCPT TO:<root>
            HELO again.example
            MAIL FROM:<sender@client.example>
            RCPT TO:<root>
            DATA
            Subject: HELO after TLS

            body
            .
            QUIT
            """
        try compare(script, tag: "tls-order", expectMessages: 2, cf: { try Self.tlsCF($0, $1) })
        try compare("""
            #CONNECT 2525 127.0.0.1 40110
            EHLO client.example
            STARTTLS
            #TLS \(tls)/client.crt \(tls)/client.key
            MAIL FROM:<sender@client.example>
            HELO again.example
            MAIL FROM:<sender@client.example>
            RCPT TO:<root>
            DATA
            Subject: HELO after TLS

            body
            .
            QUIT
            """, tag: "tls-order-needhelo", expectMessages: 1,
                           cf: { try Self.tlsCF($0, $1, options: ["PrivacyOptions=needmailhelo,needvrfyhelo"]) })
    }

    @Test("client certificates: none ({verify} NO), untrusted (FAIL; tls_client makes the rest of the session refuse), TLSSrvOptions=V (NOT)")
    func clientCertificates() throws {
        let tls = try tlsDir()
        let script = """
            #CONNECT 2525 127.0.0.1 40104
            EHLO client.example
            STARTTLS
            #TLS
            VRFY tls
            EHLO client.example
            MAIL FROM:<sender@client.example>
            RCPT TO:<root>
            DATA
            Subject: no client certificate

            body
            .
            QUIT
            #CONNECT 2525 127.0.0.1 40105
            EHLO client.example
            STARTTLS
            #TLS \(tls)/rogue.crt \(tls)/rogue.key
            VRFY tls
            EHLO client.example
            MAIL FROM:<sender@client.example>
            STARTTLS
            NOOP
            QUIT
            """
        try compare(script, tag: "tls-certs", expectMessages: 1, cf: { try Self.tlsCF($0, $1) })
        try compare("""
            #CONNECT 2525 127.0.0.1 40106
            STARTTLS
            #TLS \(tls)/client.crt \(tls)/client.key
            VRFY tls
            QUIT
            """, tag: "tls-norequest", expectMessages: 0, cf: { try Self.tlsCF($0, $1, options: ["TLSSrvOptions=V"]) })
    }

    @Test("plaintext pipelined after STARTTLS is dropped: a whole line and a partial one never become commands")
    func plaintextInjection() throws {
        try compare("""
            #CONNECT 2525 127.0.0.1 40107
            EHLO client.example
            #RAW STARTTLS\\r\\nRSET\\r\\n
            #REPLY
            #TLS
            EHLO client.example
            NOOP
            QUIT
            #CONNECT 2525 127.0.0.1 40108
            EHLO client.example
            #RAW STARTTLS\\r\\nMAIL FROM:<injected@client.example>
            #REPLY
            #TLS

            RCPT TO:<root>
            QUIT
            """, tag: "tls-inject", expectMessages: 0, cf: { try Self.tlsCF($0, $1) })
    }

    @Test("ServerSSLOptions and CipherList select TLS 1.2 and the cipher; key exchange group; renegotiation refused")
    func optionsAndRenegotiation() throws {
        let sclient = "timeout 10 /usr/bin/openssl s_client -starttls smtp -connect 127.0.0.1:2525 -brief 2>&1"
        let keep = "grep -E '^(Protocol version|Ciphersuite|Server Temp Key|RENEGOTIATING|250 |221 )|no renegotiation|alert' | sed 's/^[0-9A-F]*:error/error/; s/:[^:]*rec_layer_s3.c:[0-9]*:/:/'"
        try compare("""
            #CONNECT 2525 127.0.0.1 40112
            STARTTLS
            #TLS
            VRFY tls
            QUIT
            #RUN (sleep 1; printf 'EHLO x\\r\\n'; sleep 0.5; printf 'R\\n'; sleep 1; printf 'QUIT\\r\\n'; sleep 0.5) | \(sclient) | \(keep)
            """, tag: "tls-options", expectMessages: 0,
            cf: { try Self.tlsCF($0, $1, options: ["ServerSSLOptions=+SSL_OP_NO_TLSv1_3", "CipherList=ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"]) })
        try compare("""
            #RUN (sleep 1; printf 'QUIT\\r\\n'; sleep 0.5) | \(sclient) | \(keep)
            #RUN (sleep 1; printf 'QUIT\\r\\n'; sleep 0.5) | timeout 10 /usr/bin/openssl s_client -groups X25519 -starttls smtp -connect 127.0.0.1:2525 -brief 2>&1 | \(keep)
            #CONNECT 2525 127.0.0.1 40113
            QUIT
            """, tag: "tls-groups", expectMessages: 0, cf: { try Self.tlsCF($0, $1) })
    }

    @Test("without a certificate STARTTLS is not offered: 454, and 501 for an argument")
    func notConfigured() throws {
        try compare("""
            #CONNECT 2525 127.0.0.1 40109
            EHLO client.example
            STARTTLS
            STARTTLS x
            QUIT
            """, tag: "tls-none", expectMessages: 0)
    }
}

// MARK: real clients against ours

extension DaemonTests {
    func runOursTLS(_ script: String, tag: String) throws -> (String, URL, [String]) {
        let (cf0, dir) = try prepare()
        let cf = try Self.tlsCF(cf0, dir)
        let (t, queue, _) = try runOurs(script, tag: tag, cf: cf, dir: dir)
        return (t, dir, queue)
    }

    @Test("openssl s_client -starttls smtp: the server certificate verifies against the CA, EHLO again, QUIT")
    func opensslClient() throws {
        let tls = try tlsDir()
        let (t, _, _) = try runOursTLS("""
            #RUN (sleep 1; printf 'EHLO client.example\\r\\n'; sleep 1; printf 'QUIT\\r\\n') | /usr/bin/openssl s_client -starttls smtp -connect 127.0.0.1:2525 -CAfile \(tls)/ca.crt -verify_return_error -ign_eof -brief -cert \(tls)/client.crt -key \(tls)/client.key 2>&1
            """, tag: "tls-s_client")
        #expect(t.contains("=== run exit 0"), "s_client failed:\n\(t)")
        #expect(t.contains("::: Verification: OK"), "the server certificate did not verify:\n\(t)")
        #expect(t.contains("::: 250-vm.example.test Hello localhost [127.0.0.1], pleased to meet you"), "no EHLO reply over TLS:\n\(t)")
        #expect(!t.contains("::: 250-STARTTLS"), "STARTTLS offered again over TLS:\n\(t)")
        #expect(t.contains("::: 221 2.0.0 vm.example.test closing connection"), "no QUIT reply:\n\(t)")
    }

    @Test("swaks --tls with and without a client certificate: accepted, Received: says verify=OK / verify=NO")
    func swaksTLS() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/swaks") else {
            throw HarnessError("/usr/bin/swaks is missing (apt-get install swaks; contrib/test.sh installs it)")
        }
        let tls = try tlsDir()
        let (t, dir, queue) = try runOursTLS("""
            #RUN /usr/bin/swaks --server 127.0.0.1:2525 --tls --tls-cert \(tls)/client.crt --tls-key \(tls)/client.key --helo client.example --from sender@client.example --to root --header Subject:with-cert --body b1
            #RUN /usr/bin/swaks --server 127.0.0.1:2525 --tls --helo client.example --from sender@client.example --to root --header Subject:without-cert --body b2
            """, tag: "tls-swaks")
        #expect(t.components(separatedBy: "=== run exit 0").count == 3, "swaks failed:\n\(t)")
        #expect(t.contains("<-  220 2.0.0 Ready to start TLS"), "no STARTTLS in swaks' transcript:\n\(t)")
        let qfs = queue.filter { $0.hasPrefix("qf") }
        #expect(qfs.count == 2, "queue: \(queue)")
        let texts = try qfs.map { try String(contentsOf: dir.appendingPathComponent("q-daemon-tls-swaks").appendingPathComponent($0), encoding: .isoLatin1) }
        let received: [String] = texts.map { text in
            guard let r = text.range(of: #"\(version=TLSv1\.[23] cipher=[A-Z0-9_-]+ bits=[0-9]+ verify=[A-Z]+\)"#,
                                     options: .regularExpression) else { return "none" }
            return String(text[r].split(separator: "=").last ?? "")
        }
        #expect(received.sorted() == ["NO)", "OK)"], "Received: TLS parts: \(received)\n\(texts)")
        #expect(texts.allSatisfy { $0.contains("\n$rESMTPS\n") }, "protocol is not ESMTPS:\n\(texts)")
    }

    @Test("Python smtplib: starttls() with the CA, STARTTLS no longer offered, the message sent")
    func pythonSmtplib() throws {
        let tls = try tlsDir()
        let py = """
            import smtplib, ssl; ctx = ssl.create_default_context(cafile='\(tls)/ca.crt'); ctx.check_hostname = False; s = smtplib.SMTP('127.0.0.1', 2525); s.ehlo('client.example'); print('before', s.has_extn('starttls')); print(s.starttls(context=ctx)); s.ehlo('client.example'); print('after', s.has_extn('starttls'), s.sock.version()); print(s.sendmail('sender@client.example', ['root'], 'Subject: smtplib\\r\\n\\r\\nbody\\r\\n')); s.quit()
            """
        let (t, _, queue) = try runOursTLS("#RUN /usr/bin/python3 -c \"\(py)\"\n", tag: "tls-smtplib")
        #expect(t.contains("=== run exit 0"), "smtplib failed:\n\(t)")
        #expect(t.contains("::: before True"), "\(t)")
        #expect(t.contains("::: (220, b'2.0.0 Ready to start TLS')"), "\(t)")
        #expect(t.contains("::: after False TLSv1.3"), "\(t)")
        #expect(queue.filter { $0.hasPrefix("qf") }.count == 1, "queue: \(queue)")
    }

    @Test("TLS records split into one-byte segments are reassembled; bytes that are no TLS record end the connection (as sendmail)")
    func splitRecordsAndGarbage() throws {
        let client = OracleEnvironment.packageRoot.appendingPathComponent("Tests/Fixtures/smtp/tls-split-client.py").path
        try compare("""
            #RUN timeout 20 /usr/bin/python3 \(client) split 2525 2>&1
            #RUN timeout 20 /usr/bin/python3 \(client) garbage 2525 2>&1
            #CONNECT 2525 127.0.0.1 40111
            QUIT
            """, tag: "tls-split", expectMessages: 0, cf: { try Self.tlsCF($0, $1) })
        let (t, _, _) = try runOursTLS("""
            #RUN timeout 20 /usr/bin/python3 \(client) split 2525 2>&1
            #RUN timeout 20 /usr/bin/python3 \(client) garbage 2525 2>&1
            """, tag: "tls-split")
        #expect(t.components(separatedBy: "=== run exit 0").count == 3, "a client failed:\n\(t)")
        #expect(t.contains("::: handshake TLSv1.3\n::: 250-vm.example.test Hello localhost [127.0.0.1], pleased to meet you\n"),
                "no EHLO reply over the split handshake:\n\(t)")
        #expect(t.contains("::: 221 2.0.0 vm.example.test closing connection"), "no QUIT reply:\n\(t)")
        #expect(t.contains("::: 220 2.0.0 Ready to start TLS\n::: closed\n"), "garbage after STARTTLS was not refused:\n\(t)")
    }
}
