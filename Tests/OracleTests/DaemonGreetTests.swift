// DaemonGreetTests.swift — greet_pause in the daemon against the real
// sendmail's (`sendmail -bD`, DaemonTests' harness and comparison).
//
// Promises: on daemon.cf plus a greet_pause ruleset (1.5 s for 10.9.8.7,
// 0.8 s for 127.0.0.1), a client that talks before the greeting gets the
// 554 greeting, the null server's replies and sendmail's "rejecting
// commands ... due to pre-greeting traffic" log line; a client that waits
// gets the usual greeting and session; transcripts and syslog lines must
// be identical.  The same with sendmail's own FEATURE(greet_pause) (built
// by the real m4) and an access map's GreetPause: entries for an address,
// a network and 0 (no pause), the feature's default for the rest.

import Foundation
import Testing

extension DaemonTests {
    /// daemon.cf with `rules` appended.
    static func variant(_ cf: String, _ dir: URL, name: String, rules: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        let text = try String(contentsOfFile: cf, encoding: .utf8) + rules
        if (try? String(contentsOfFile: path, encoding: .utf8)) != text {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return path
    }

    @Test("greet_pause: talking before the greeting gets 554, the null server and the log line; waiting gets the session")
    func greetPause() throws {
        try compare("""
            #EARLY EHLO early.example\\r\\n
            #CONNECT 2525 10.9.8.7 40051
            #REPLY
            MAIL FROM:<a@b.example>
            HELO x
            NOOP
            RSET
            VRFY root
            RCPT TO:<root>
            DATA
            QUIT
            #CONNECT 2525 10.9.8.7 40052
            EHLO patient.example
            MAIL FROM:<a@b.example>
            QUIT
            #EARLY QUIT\\r\\n
            #CONNECT 2525 127.0.0.1 40053
            #REPLY
            #EOF
            """, tag: "greetpause", expectMessages: 0, cf: { cf, dir in
                try Self.variant(cf, dir, name: "daemon-greet.cf", rules: """
                    Sgreet_pause
                    R$* $| 10.9.8.7\t$# 1500
                    R$* $| 127.0.0.1\t$# 800

                    """)
            })
    }

    static let greetConfig = Configuration(name: "greet-pause", source: .mc("mc/greet-pause.mc"), hashMaps: ["greet-access"])

    @Test("FEATURE(greet_pause) with GreetPause: access entries (address, network, 0) and the default")
    func greetPauseFeature() throws {
        let built = try Workspace.shared.prepare(Self.greetConfig)
        try compare("""
            #EARLY EHLO early.example\\r\\n
            #CONNECT 2525 10.9.8.7 40071
            #REPLY
            QUIT
            #EARLY EHLO early.example\\r\\n
            #CONNECT 2525 10.9.9.9 40072
            #REPLY
            QUIT
            #EARLY HELO early.example\\r\\n
            #CONNECT 2525 127.0.0.1 40073
            #REPLY
            QUIT
            #CONNECT 2525 10.9.8.7 40074
            EHLO patient.example
            QUIT
            #EARLY EHLO six.example\\r\\n
            #CONNECT6 2526 40075
            #REPLY
            QUIT
            """, tag: "greetpause-feature", expectMessages: 0, cf: { _, _ in built.cfPath }, sessionsOverlap: true)
    }

    @Test("SIGTERM while a greeting is held back by greet_pause: the daemon stops at once")
    func greetPauseShutdown() throws {
        let (cf0, dir) = try prepare()
        let cf = try Self.variant(cf0, dir, name: "daemon-greet-long.cf", rules: "Sgreet_pause\nR$*\t$# 60000\n\n")
        let hold = "import socket,time; s=socket.create_connection((\"127.0.0.1\",2525)); time.sleep(30)"
        let start = Date()
        let (t, _, _) = try runOurs("""
            #RUN (\(Self.python) -c '\(hold)' >/dev/null 2>&1 &)
            #SLEEP 1
            """, tag: "greet-shutdown", cf: cf, dir: dir)
        // (runOurs checked "=== exit 0": the daemon stopped on SIGTERM)
        #expect(Date().timeIntervalSince(start) < 30, "the daemon waited for the held greeting:\n\(t)")
    }
}
