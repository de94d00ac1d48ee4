// OutboundTLSTests.swift — the SMTP client's session security against the
// oracle: STARTTLS to next hops that offer it, with and without client
// certificate and trust anchors, the try_tls and tls_server rulesets and
// the macros they see, a failed handshake, a refused STARTTLS, MAIL's
// AUTH= parameter for a peer that offers AUTH, and AUTH from the authinfo
// ruleset (PLAIN, LOGIN, CRAM-MD5, a 535 and the next mechanism); also
// the 8->7 conversion for peers without 8BITMIME (the bytes they get).
// Each case runs as an OutboundTests case (the same comparison of the -v
// dialogue, what sink.py's next hops received, including the TLS version,
// cipher and client certificate each saw, the queue, mailq and the log
// lines STARTTLS=client / ruleset=tls_server / ruleset=try_tls), with the
// test certificates (DaemonTests.certificates) in the scratch's tls/ and
// the cf edits of the case.  The next hops: 127.0.0.13 STARTTLS (then
// AUTH), .14 STARTTLS whose handshake fails, .15 STARTTLS refused with a
// 454, .16 AUTH in clear (sink.py checks the credentials).
// Fails (never skips) when root, python3 or openssl is missing.

import Testing

@Suite("Outbound SMTP session features: STARTTLS, AUTH, 8->7 for peers without 8BITMIME, as sendmail")
struct OutboundTLSTests {
    static let clientOptions = ("O SevenBitInput=False\n", """
        O SevenBitInput=False
        O ClientCertFile=@SCRATCH@/tls/client.crt
        O ClientKeyFile=@SCRATCH@/tls/client.key
        O CACertFile=@SCRATCH@/tls/ca.crt
        O CACertPath=@SCRATCH@/tls

        """)
    static let defaultTLSServer = "Stls_server\n\nR$*\t\t$@ $>\"TLS_connection\" $1\n"
    /// tls_server refuses a verified 127.0.0.13 with the macros in its text.
    static let refusingTLSServer = (defaultTLSServer, """
        Stls_server
        R$*\t\t$: $1 $| $&{server_name} $| $&{server_addr}
        ROK $| $* $| 127.0.0.13\t$#error $@ 4.7.1 $: "454 verify=" $&{verify} " subject=" $&{cert_subject} " issuer=" $&{cert_issuer} " cns=" $&{cn_subject} " version=" $&{tls_version} " cipher=" $&{cipher} " bits=" $&{cipher_bits} " name=" $&{server_name} " addr=" $&{server_addr}
        R$* $| $*\t\t$@ $>"TLS_connection" $1

        """)
    /// try_tls refuses 127.0.0.13.
    static let refusingTryTLS = ("Stry_tls\n", """
        Stry_tls
        R$*\t$: $&{server_name} $| $&{server_addr}
        R$* $| 127.0.0.13\t$#error $@ 5.7.1 $: "550 no tls for " $1

        """)

    /// authinfo: joe's credentials for 127.0.0.16 (password `pw16`) and
    /// 127.0.0.13 (base64 "secret").
    static func authinfo(_ pw16: String) -> (String, String) {
        ("Sauthinfo\n", """
        Sauthinfo
        R$*\t$: $&{server_addr}
        R127.0.0.16\t$# "U:joe" "P:\(pw16)"
        R127.0.0.13\t$# "U:joe" "P=c2VjcmV0"

        """)
    }
    /// FEATURE(`authinfo', `hash -o @SCRATCH@/authinfo') as m4 makes it.
    static let authinfoFeature = ("Sauthinfo\n", """
        Kauthinfo hash -o @SCRATCH@/authinfo
        Sauthinfo
        R$*\t\t$: <$(authinfo AuthInfo:$&{server_name} $: ? $)>
        R<?>\t\t$: <$(authinfo AuthInfo:$&{server_addr} $: ? $)>
        R<?>\t\t$: <$(authinfo AuthInfo: $: ? $)>
        R<?>\t\t$@ no\t\t\t\tno authinfo available
        R<$*>\t\t$# $1

        """)
    static func mechanisms(_ list: String) -> (String, String) {
        ("O SevenBitInput=False\n", "O SevenBitInput=False\nO AuthMechanisms=\(list)\n")
    }

    static let mime8bit = Array(("Subject: mime\nFrom: joe@x.example\nMIME-Version: 1.0\n"
        + "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        + "d\u{e9}j\u{e0} vu, a line long enough to need a soft line break when it is quoted-printable \u{e9}t\u{e9} \u{e9}t\u{e9} \u{e9}t\u{e9}\n=equals\n").utf8)

    static let cases: [OutboundTests.Case] = [
        // no client certificate, no trust anchors: verify=FAIL, and on
        // (EHLO again; AUTH= for the peer that now offers AUTH, after ENVID=)
        OutboundTests.Case(name: "obtls-starttls", submitArguments: ["-f", "root", "-V", "env+2Bid"],
                           recipients: ["a@[127.0.0.13]", "b@[127.0.0.13]"],
                           expects: [">>> STARTTLS", "AUTH=root@vm.example.test", "== tls TLSv1.3"], certificates: true),
        // a second message reuses the TLS session (RSET over TLS)
        OutboundTests.Case(name: "obtls-session-reused", recipients: ["a@[127.0.0.13]"], more: [["b@[127.0.0.13]"]],
                           expects: ["Using cached ESMTP connection to [127.0.0.13]"], certificates: true),
        // the client certificate is sent; the server's verifies
        OutboundTests.Case(name: "obtls-client-cert", recipients: ["a@[127.0.0.13]"],
                           expects: ["client=countryName=US,organizationName=Example Org,commonName=client.example"],
                           certificates: true, cfEdits: [clientOptions]),
        // tls_server refuses: QUIT over TLS, deferred with its text
        OutboundTests.Case(name: "obtls-tls-server-refuses", recipients: ["a@[127.0.0.13]"],
                           expects: ["Deferred: 454 4.7.1 verify=OK subject=/C=US/O=Example+20Org/CN=server.example"],
                           certificates: true, cfEdits: [clientOptions, refusingTLSServer]),
        // a 5xx from tls_server: the recipient fails (bounce to bin)
        OutboundTests.Case(name: "obtls-tls-server-5xx", submitArguments: ["-f", "bin"], recipients: ["a@[127.0.0.13]"],
                           expects: ["Service unavailable"], certificates: true,
                           cfEdits: [(defaultTLSServer, "Stls_server\nRFAIL\t$#error $@ 5.7.1 $: \"550 untrusted server\"\n\n")]),
        // try_tls refuses: no STARTTLS for that host, others still
        OutboundTests.Case(name: "obtls-try-tls", recipients: ["a@[127.0.0.13]", "b@[127.0.0.14]"],
                           expects: ["Deferred: 454 4.7.0 TLS handshake failed."],
                           certificates: true, cfEdits: [refusingTryTLS]),
        // the handshake fails: deferred, no retry in clear
        OutboundTests.Case(name: "obtls-handshake-fails", recipients: ["a@[127.0.0.14]"],
                           expects: ["Deferred: 454 4.7.0 TLS handshake failed.", "== alert"], certificates: true),
        // a refused STARTTLS: the session goes on in clear; AUTH offered in clear
        OutboundTests.Case(name: "obtls-refused-and-auth", recipients: ["b@[127.0.0.15]", "c@[127.0.0.16]"],
                           expects: ["454 4.7.0 TLS not available", "AUTH=root@vm.example.test"], certificates: true),
        // AUTH from authinfo: PLAIN (the peer's first allowed mechanism)
        OutboundTests.Case(name: "obauth-plain", recipients: ["a@[127.0.0.16]"],
                           expects: [">>> AUTH PLAIN am9lAGpvZQBzZWNyZXQ=", "235 2.0.0"],
                           cfEdits: [authinfo("secret"), mechanisms("PLAIN LOGIN")]),
        // LOGIN alone; then a wrong password: 535 to each, mail goes on
        OutboundTests.Case(name: "obauth-login", recipients: ["a@[127.0.0.16]"],
                           expects: [">>> AUTH LOGIN", "235 2.0.0"],
                           cfEdits: [authinfo("secret"), mechanisms("LOGIN")]),
        OutboundTests.Case(name: "obauth-535", recipients: ["a@[127.0.0.16]"],
                           expects: ["535 5.7.8", ">>> AUTH LOGIN", "Sent ("],
                           cfEdits: [authinfo("wrong"), mechanisms("PLAIN LOGIN")]),
        // 8->7 for peers without 8BITMIME (mime8to7): a MIME message is
        // converted (to a HELO-only peer too); one that is not MIME goes
        // as it is, unless EightBitMode=m
        OutboundTests.Case(name: "ob8to7-mime", recipients: ["a@[127.0.0.4]", "b@[127.0.0.3]"], message: mime8bit,
                           expects: ["X-MIME-Autoconverted: from 8bit to"]),
        OutboundTests.Case(name: "ob8to7-not-mime", recipients: ["a@[127.0.0.4]"], message: OutboundTests.eightBit,
                           expects: ["C: DATA"]),
        OutboundTests.Case(name: "ob8to7-mode-m", recipients: ["a@[127.0.0.4]", "b@[127.0.0.2]"],
                           runArguments: ["-OEightBitMode=m"], message: OutboundTests.eightBit,
                           expects: ["X-MIME-Autoconverted: from 8bit to"]),
        // FEATURE(authinfo): AuthInfo: entries by address, a default one;
        // M: replaces AuthMechanisms (which would allow no LOGIN)
        OutboundTests.Case(name: "obauth-authinfo-map", recipients: ["a@[127.0.0.16]", "b@[127.0.0.13]"],
                           expects: [">>> AUTH LOGIN", ">>> AUTH CRAM-MD5"], certificates: true, cfEdits: [authinfoFeature],
                           setup: "printf 'AuthInfo:127.0.0.16\\t\"U:joe\" \"P:secret\" \"M:LOGIN\"\\nAuthInfo:\\t\"U:joe\" \"P=c2VjcmV0\"\\n' | /usr/sbin/makemap hash @SCRATCH@/authinfo"),
        // after STARTTLS: CRAM-MD5 preferred (sendmail's default AuthMechanisms)
        OutboundTests.Case(name: "obauth-cram-md5-over-tls", recipients: ["a@[127.0.0.13]"],
                           expects: [">>> AUTH CRAM-MD5", "235 2.0.0"], certificates: true,
                           cfEdits: [authinfo("secret")]),
    ]

    @Test("a queue run with STARTTLS next hops, as sendmail's", arguments: OutboundTLSTests.cases)
    func outboundTLS(_ c: OutboundTests.Case) throws {
        try OutboundTests().outbound(c)
    }
}
