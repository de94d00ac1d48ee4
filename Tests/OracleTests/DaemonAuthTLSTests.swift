// DaemonAuthTLSTests.swift — AUTH EXTERNAL after a verified client
// certificate, srv_features' A, and Timeout.starttls in the daemon, each
// against the real sendmail's (`sendmail -bD`; DaemonTests' harness and
// comparison, DaemonTLSTests' certificates and cf).
//
// Promises: on the TLS cf with AuthMechanisms "EXTERNAL PLAIN" and a VRFY
// rule showing {auth_authen} {auth_type} {auth_ssf} and $r: a client
// whose certificate verified is offered EXTERNAL after STARTTLS and
// authenticates as its certificate's subject (235, the AUTH= log line,
// ESMTPSA, the Received: line and qf of its message); without a
// certificate, with an untrusted one (tls_client's refusal) and without
// TLS EXTERNAL is refused as sendmail refuses it; the MSA listener (M=a)
// takes MAIL once the client authenticated; srv_features `$# A`
// takes AUTH away; a client that stops in the TLS handshake is dropped
// after Timeout.starttls with sendmail's log lines.  Transcripts, syslog
// lines and queue files must be identical.

import Foundation
import Testing

extension DaemonTests {
    /// The TLS cf with AUTH EXTERNAL PLAIN, the VRFY auth rule and `more` lines.
    static func authTLSCF(_ cf: String, _ dir: URL, more: String = "") throws -> String {
        let tls = try tlsCF(cf, dir)
        var s = try String(contentsOfFile: tls, encoding: .isoLatin1)
        s = s.replacingOccurrences(of: "O AuthMechanisms=GSSAPI", with: "O AuthMechanisms=EXTERNAL PLAIN")
        s = s.replacingOccurrences(of: "Scheck_vrfy\n", with: "Scheck_vrfy\n"
            + "Rauth\t$#error $@ 5.7.1 $: \"550 authen=\" $&{auth_authen} \" type=\" $&{auth_type} \" ssf=\" $&{auth_ssf} \" r=\" $&r\n")
        s += more
        let out = dir.appendingPathComponent("daemon-auth-tls.cf").path
        try s.write(toFile: out, atomically: true, encoding: .isoLatin1)
        return out
    }

    @Test("AUTH EXTERNAL: offered after STARTTLS with a verified client certificate, the subject as identity; refused otherwise")
    func authExternal() throws {
        let tls = try tlsDir()
        try compare("""
            #CONNECT 2525 127.0.0.1 40201
            EHLO client.example
            AUTH EXTERNAL
            STARTTLS
            #TLS \(tls)/client.crt \(tls)/client.key
            EHLO client.example
            VRFY auth
            AUTH EXTERNAL =
            VRFY auth
            AUTH EXTERNAL =
            MAIL FROM:<sender@client.example> AUTH=<>
            RCPT TO:<root>
            DATA
            Subject: authenticated by certificate

            body
            .
            QUIT
            #CONNECT 2525 127.0.0.1 40202
            EHLO nocert.example
            STARTTLS
            #TLS
            EHLO nocert.example
            AUTH EXTERNAL
            AUTH EXTERNAL =
            QUIT
            #CONNECT 2525 127.0.0.1 40203
            EHLO rogue.example
            STARTTLS
            #TLS \(tls)/rogue.crt \(tls)/rogue.key
            EHLO rogue.example
            AUTH EXTERNAL =
            QUIT
            #CONNECT 2587 127.0.0.1 40204
            EHLO submit.example
            MAIL FROM:<sender@client.example>
            STARTTLS
            #TLS \(tls)/client.crt \(tls)/client.key
            EHLO submit.example
            MAIL FROM:<sender@client.example>
            AUTH EXTERNAL =
            MAIL FROM:<sender@client.example>
            QUIT
            """, tag: "auth-external", expectMessages: 1, cf: { try Self.authTLSCF($0, $1) })
    }

    @Test("srv_features A: AUTH neither offered nor accepted, before and after STARTTLS")
    func serverFeaturesNoAuth() throws {
        let tls = try tlsDir()
        try compare("""
            #CONNECT 2525 127.0.0.1 40211
            EHLO client.example
            AUTH PLAIN
            STARTTLS
            #TLS \(tls)/client.crt \(tls)/client.key
            EHLO client.example
            AUTH EXTERNAL =
            VRFY auth
            QUIT
            """, tag: "srv-features-a", expectMessages: 0,
            cf: { try Self.authTLSCF($0, $1, more: "Ssrv_features\nR$*\t$# A\n") })
    }

    @Test("Timeout.starttls: a client that stops in the handshake is dropped, as sendmail logs it")
    func startTLSTimeout() throws {
        try compare("""
            #CONNECT 2525 127.0.0.1 40221
            EHLO client.example
            STARTTLS
            #SLEEP 3
            #EOF
            #CONNECT 2525 127.0.0.1 40222
            EHLO client.example
            QUIT
            """, tag: "starttls-timeout", expectMessages: 0, extra: ["-OTimeout.starttls=2s"],
            cf: { try Self.tlsCF($0, $1) })
    }
}
