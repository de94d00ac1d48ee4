// DaemonMapPoolTests.swift — the daemon's sessions share map sets
// (SMDaemon/MapSetPool.swift) without a user noticing.
//
// Promises: on daemon.cf plus a hash access map that check_rcpt consults,
// (1) differential: sessions one after another, with the real makemap
// rebuilding access.db between them (well within one second), get the
// same replies and syslog lines from our daemon as from the real
// sendmail's (whose sessions are forked children that open the map
// afresh): an entry added is seen by the next session, an entry removed
// too; a map file missing: sendmail's SYSERR in each session, MAIL and
// RCPT answered as if the map had no entry; ours alone: a map file
// missing (its open fails) then built is found by the session after; (2) ours alone: 40 sessions that each opened
// the map leave the daemon with about as many open descriptors as after
// the first one (the sessions' map sets are reused or closed, not kept
// by ended sessions).  Fails (never skips) when a prerequisite is missing.

import Foundation
import Testing

@Suite("sendmail -bD: sessions share map sets, map changes are seen", .serialized)
struct DaemonMapPoolTests {
    let daemon = DaemonTests()

    /// daemon.cf with `Kaccess hash <dir>/access` and a check_rcpt that
    /// first rejects the recipients the map lists.
    static func accessCF(_ cf: String, _ dir: URL) throws -> String {
        let out = dir.appendingPathComponent("daemon-mappool.cf").path
        var text = try String(contentsOfFile: cf, encoding: .utf8)
        guard text.contains("\nScheck_rcpt\n") else { throw HarnessError("daemon.cf has no check_rcpt") }
        text = text.replacingOccurrences(of: "\nScheck_rcpt\n", with: """

            Kaccess hash \(dir.path)/access
            Scheck_rcpt
            R<$+>	$: <$1> $| $(access $1 $: OK $)
            R$* $| REJECT	$#error $@ 5.7.1 $: "550 recipient listed"
            R$* $| OK	$: $1

            """)
        try text.write(toFile: out, atomically: true, encoding: .utf8)
        return out
    }

    /// A harness line that rebuilds <dir>/access.db from `entries` with
    /// the real makemap (no entries: the map file is removed).
    static func rebuild(_ dir: URL, _ entries: [String]) -> String {
        let db = dir.appendingPathComponent("access").path
        if entries.isEmpty { return "#RUN rm -f \(db).db" }
        let text = entries.map { $0 + "\\n" }.joined()
        return "#RUN printf '\(text)' | \(OracleEnvironment.makemapPath) hash \(db)"
    }

    static func session(_ recipient: String) -> String {
        """
        #CONNECT
        EHLO client.example
        MAIL FROM:<sender@client.example>
        RCPT TO:<\(recipient)>
        QUIT
        """
    }

    @Test("makemap between sessions: an access entry added, then removed, then the map file missing and built again; each next session sees it (as sendmail's)")
    func makemapBetweenSessions() throws {
        let (cf0, dir) = try daemon.prepare()
        let spam = "spam@bad.example", other = "other@listed.example"
        let script = [
            Self.rebuild(dir, ["\(other) REJECT"]),
            Self.session(spam),                       // accepted
            Self.rebuild(dir, ["\(other) REJECT", "\(spam) REJECT"]),
            Self.session(spam),                       // rejected: the new entry
            Self.session(other),                      // rejected
            Self.rebuild(dir, ["\(other) REJECT"]),
            Self.session(spam),                       // accepted again
        ].joined(separator: "\n")
        try daemon.compare(script, tag: "mappool-makemap", expectMessages: 0, cf: Self.accessCF)
        // ours alone, what the comparison rests on (the map's answers did
        // change), and a map file missing for a session, then built again
        // (the set whose open failed is not used again; the session
        // without the file is compared with sendmail's in missingMapFile)
        let more = script + "\n" + [
            Self.rebuild(dir, []),
            Self.session(spam),                       // the map file is missing
            Self.rebuild(dir, ["\(spam) REJECT"]),
            Self.session(spam),                       // rejected: the map is there again
            Self.session(other),                      // accepted
        ].joined(separator: "\n")
        let (t, _, _) = try daemon.runOurs(more, tag: "mappool-makemap-alone", cf: try Self.accessCF(cf0, dir), dir: dir)
        let lines = t.split(separator: "\n").map(String.init)
        let codes = lines.indices.filter { lines[$0].hasPrefix(">>> RCPT TO:") && $0 + 1 < lines.count }
            .map { String(lines[$0 + 1].dropFirst(4).prefix(3)) }
        #expect(codes == ["250", "550", "550", "250", "250", "550", "250"], "replies to RCPT: \(codes)\n\(t)")
    }

    @Test("40 sessions that each opened the access map: the daemon's open descriptors stay about those after the first")
    func sessionsReleaseTheirMaps() throws {
        let (cf0, dir) = try daemon.prepare()
        let cf = try Self.accessCF(cf0, dir)
        let pidFile = dir.appendingPathComponent("mappool-fds.ours.pid").path
        let count = "#RUN ls /proc/$(head -1 \(pidFile))/fd | wc -l"
        var lines = [Self.rebuild(dir, ["other@listed.example REJECT"]), Self.session("a@client.example"),
                     "#SLEEP 1", count]
        for i in 0..<40 { lines.append(Self.session("s\(i)@client.example")) }
        lines += ["#SLEEP 1", count]
        let (t, _, _) = try daemon.runOurs(lines.joined(separator: "\n"), tag: "mappool-fds", cf: cf, dir: dir)
        let counts = t.split(separator: "\n").filter { $0.hasPrefix("::: ") }.compactMap {
            Int($0.dropFirst(4).trimmingCharacters(in: .whitespaces))
        }
        #expect(counts.count == 2, "descriptor counts not read:\n\(t)")
        if counts.count == 2 {
            #expect(counts[1] - counts[0] < 10,
                    "open descriptors grew from \(counts[0]) to \(counts[1]) over 40 sessions")
        }
        let accepted = t.split(separator: "\n").filter { $0.hasPrefix("<<< 250 2.1.5") }.count
        #expect(accepted == 41, "recipients accepted: \(accepted)\n\(t)")
    }
}

extension DaemonMapPoolTests {
    /// The alias database is kept with the map set a session or a delivery
    /// worker reuses (Engine.aliasTable, MapSet.attach): rebuilt between
    /// two messages, the second must go where the new database says, both
    /// when the session delivers (-odi) and when a worker does (-odb).
    @Test("alias database rebuilt between two messages: the second follows the new alias, delivered by the session or a worker",
          arguments: ["-odi", "-odb"])
    func aliasDatabaseRebuilt(_ mode: String) throws {
        let (cf0, dir) = try daemon.prepare()
        let aliases = dir.appendingPathComponent("pool-aliases").path
        let cf = dir.appendingPathComponent("daemon-pool-aliases.cf").path
        let text = try String(contentsOfFile: cf0, encoding: .utf8)
        guard let r = text.range(of: #"(?m)^O AliasFile=.*$"#, options: .regularExpression) else {
            throw HarnessError("daemon.cf has no AliasFile line")
        }
        try text.replacingCharacters(in: r, with: "O AliasFile=hash:\(aliases)").write(toFile: cf, atomically: true, encoding: .utf8)
        func build(_ target: String) -> String {
            "#RUN printf 'tag1 \(target)\\n' | \(OracleEnvironment.makemapPath) hash \(aliases)"
        }
        let mail = dir.appendingPathComponent("mail").path
        let script = [
            build("root"),
            DaemonTests.messages(1...1, tag: "first", to: "tag1"),
            "#WAITFILE \(mail)/root 15",
            build("daemon"),
            DaemonTests.messages(2...2, tag: "second", to: "tag1"),
            "#WAITFILE \(mail)/daemon 15",
        ].joined(separator: "\n") + "\n"
        let (t, queue, _) = try daemon.runOurs(script, tag: "pool-aliases\(mode)", extra: [mode], cf: cf, dir: dir)
        let root = (try? String(contentsOfFile: mail + "/root", encoding: .isoLatin1)) ?? ""
        let other = (try? String(contentsOfFile: mail + "/daemon", encoding: .isoLatin1)) ?? ""
        #expect(root.contains("Subject: first 1\n") && !root.contains("Subject: second"), "mail/root:\n\(root)\n\(t)")
        #expect(other.contains("Subject: second 2\n"), "the second message did not follow the rebuilt alias: mail/daemon:\n\(other)\nqueue: \(queue)\n\(t)")
    }

    /// accessCF plus a check_mail that consults the same map for the sender.
    static func accessMailCF(_ cf: String, _ dir: URL) throws -> String {
        let out = try accessCF(cf, dir)
        var text = try String(contentsOfFile: out, encoding: .utf8)
        text = text.replacingOccurrences(of: "\nScheck_rcpt\n", with: """

            Scheck_mail
            R<$+>	$: <$1> $| $(access From:$1 $: OK $)
            R$* $| REJECT	$#error $@ 5.7.1 $: "550 sender listed"
            R$* $| OK	$: $1

            Scheck_rcpt

            """)
        try text.write(toFile: out, atomically: true, encoding: .utf8)
        return out
    }

    @Test("access.db missing: each session logs sendmail's SYSERR, and MAIL and RCPT go on with the rules' defaults (as sendmail's)")
    func missingMapFile() throws {
        let (_, dir) = try daemon.prepare()
        let script = [
            Self.rebuild(dir, []),
            """
            #CONNECT
            EHLO client.example
            MAIL FROM:<sender@client.example>
            RCPT TO:<spam@bad.example>
            RCPT TO:<other@bad.example>
            QUIT
            """,
            Self.session("spam@bad.example"),
        ].joined(separator: "\n")
        try daemon.compare(script, tag: "mappool-missing", expectMessages: 0, cf: Self.accessMailCF)
    }
}

extension DaemonMapPoolTests {
    /// A refused MAIL (check_mail on the access map, an unknown or bad
    /// parameter, the size limit) keeps its sender for the from= line
    /// (nrcpts=0, size= from SIZE=) at RSET, HELO or QUIT; another MAIL
    /// replaces it unlogged; a syntax error before the address sets none.
    @Test("MAIL refused after its sender is set: the from= lines of RSET, EHLO and QUIT, as sendmail's")
    func refusedMailLogsSender() throws {
        let (_, dir) = try daemon.prepare()
        let script = [
            Self.rebuild(dir, ["From:sender@client.example REJECT"]),
            """
            #CONNECT
            EHLO client.example
            MAIL FROM:<sender@client.example>
            RSET
            QUIT
            #CONNECT
            EHLO client.example
            MAIL FROM:<sender@client.example>
            MAIL FROM:<other@client.example>
            RSET
            QUIT
            #CONNECT
            EHLO client.example
            MAIL FROM:<a b@@x>
            RSET
            QUIT
            #CONNECT
            EHLO client.example
            MAIL FROM:<good@client.example> FOO=bar
            RSET
            QUIT
            #CONNECT
            EHLO client.example
            MAIL FROM:<good@client.example> SIZE=999999999
            RSET
            QUIT
            #CONNECT
            EHLO client.example
            MAIL <good@client.example>
            RSET
            QUIT
            #CONNECT
            EHLO client.example
            MAIL FROM:<good@client.example> BODY=9BIT
            RSET
            QUIT
            #CONNECT
            EHLO client.example
            MAIL FROM:<sender@client.example>
            NOOP
            QUIT
            #CONNECT
            EHLO client.example
            MAIL FROM:<good@client.example> SIZE=2048
            RSET
            MAIL FROM:<good@client.example> SIZE=4096
            RCPT TO:<spam@bad.example>
            RSET
            MAIL FROM:<sender@client.example> SIZE=100
            EHLO client.example
            QUIT
            """,
        ].joined(separator: "\n")
        try daemon.compare(script, tag: "mail-refused-from", expectMessages: 0, cf: Self.accessMailCF)
    }
}

