// DaemonIdentTests.swift — the daemon's RFC 1413 lookup against the real
// sendmail's (`sendmail -bD`, DaemonTests' harness and comparison).
//
// Promises: on daemon.cf with Timeout.ident=3s, Fixtures/smtp/identd.py
// runs in the sandbox's network namespace on each client address: one
// names the user "alice" (then `$_`, the relay= of the log lines and the
// Received: header say "alice@localhost [127.0.0.1]"), one never answers
// (the greeting waits Timeout.ident, `$_` has no user), one answers
// ERROR (no user); transcripts, syslog lines and queue files must be
// identical, and the queries both daemons sent ("<client port>,<our
// port>") too.

import Foundation
import Testing

extension DaemonTests {
    @Test("ident: a USERID answer shows in $_ as user@host; no answer within Timeout.ident or ERROR: none")
    func ident() throws {
        let (_, dir) = try prepare()
        let identd = OracleEnvironment.packageRoot.appendingPathComponent("Tests/Fixtures/smtp/identd.py").path
        let log = dir.appendingPathComponent("identd.log").path
        func start(_ address: String, _ mode: String) -> String {
            "#RUN \(Self.python) \(identd) \(address) \(log) 20 \(mode) >/dev/null 2>&1 &"
        }
        try compare("""
            #RUN rm -f \(log)
            \(start("127.0.0.1", "user:alice"))
            \(start("10.9.8.7", "silent"))
            \(start("::1", "error"))
            #SLEEP 0.5
            #CONNECT 2525 127.0.0.1 40061
            EHLO client.example
            VRFY macros
            MAIL FROM:<sender@client.example>
            RCPT TO:<root>
            DATA
            Subject: with ident

            body
            .
            QUIT
            #CONNECT 2525 10.9.8.7 40062
            HELO silent.example
            VRFY macros
            QUIT
            #CONNECT6 2526 40063
            EHLO six.example
            VRFY macros
            QUIT
            #RUN sort \(log)
            """, tag: "ident", expectMessages: 1, cf: { cf, dir in
                let text = try String(contentsOfFile: cf, encoding: .utf8)
                    .replacingOccurrences(of: "O Timeout.ident=0\n", with: "O Timeout.ident=3s\n")
                let path = dir.appendingPathComponent("daemon-ident.cf").path
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                return path
            })
        // (the oracle really asked: compare() checked ours said the same)
        let real = try String(contentsOfFile: Workspace.shared.runs.appendingPathComponent("daemon-ident.oracle.out").path,
                              encoding: .isoLatin1)
        #expect(real.contains("::: query '40061,2525'") && real.contains("::: query '40062,2525'")
                    && real.contains("::: query '40063,2526'"), "the oracle's ident queries:\n\(real)")
        #expect(real.contains("_=alice@localhost[127.0.0.1]"), "the oracle did not take the ident user:\n\(real)")
    }
}
