// E2ETests.swift — end to end with real peers: s-nail and mutt submit
// through our sendmail, mutt also over SMTP (smtp_url) to our daemon on
// 127.0.0.1:2525, an alias pipes a message into procmail, one queue
// run of ours delivers with our mail.local, and Python's mailbox module
// reads the mailboxes back (the messages split by mail.local's
// Content-Length, as mutt splits them).  Everything runs in a private namespace with the
// suite's host name (Tests/Fixtures/oracle/e2e/run.sh); no oracle is
// involved — the checks are what a user would see.
// Promises: fails (never skips) when s-nail, mutt, procmail or python3 is
// missing.

import Foundation
import Testing

@Suite("end to end: s-nail, mutt, procmail and mail.local around our sendmail")
struct E2ETests {
    @Test("submitted by user agents, delivered by a queue run, read back intact")
    func userAgentsToMailbox() throws {
        for tool in ["/usr/bin/s-nail", "/usr/bin/mutt", "/usr/bin/procmail", "/usr/bin/python3"] {
            #expect(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing (contrib/test.sh installs it)")
        }
        let p = try Workspace.shared.prepare(Configuration(name: "e2e", source: .cf("e2e/e2e.cf")))
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let fm = FileManager.default
        let ours = try OracleEnvironment.binaryUnderTest()
        let mailLocal = URL(fileURLWithPath: ours).deletingLastPathComponent().appendingPathComponent("mail.local").path
        var cf = try String(contentsOfFile: p.cfPath, encoding: .utf8)
        cf = cf.replacingOccurrences(of: "@MAILLOCAL@", with: mailLocal)
        try cf.write(toFile: p.cfPath, atomically: true, encoding: .utf8)
        for (name, mode) in [("mqueue", 0o700), ("spool", 0o1777), ("home", 0o755), ("pm", 0o777)] {
            let d = dir.appendingPathComponent(name)
            try? fm.removeItem(at: d)
            try fm.createDirectory(at: d, withIntermediateDirectories: true)
            #expect(chmod(d.path, mode_t(mode)) == 0)
        }
        try "hosts files\n".write(to: dir.appendingPathComponent("switch"), atomically: true, encoding: .utf8)
        let rc = dir.appendingPathComponent("procmailrc")
        try "LOGFILE=\(dir.path)/pm/procmail.log\n:0:\n\(dir.path)/pm/procmail-box\n"
            .write(to: rc, atomically: true, encoding: .utf8)
        try "pm: \"|/usr/bin/procmail -m \(rc.path)\"\n"
            .write(to: dir.appendingPathComponent("aliases"), atomically: true, encoding: .utf8)

        let run = Process()
        run.executableURL = URL(fileURLWithPath: "/bin/sh")
        run.arguments = [OracleEnvironment.fixture("e2e/run.sh"), ours, p.cfPath, dir.path]
        let out = Pipe()
        run.standardOutput = out
        run.standardError = out
        try run.run()
        let transcript = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        #expect(run.terminationStatus == 0, "run.sh failed:\n\(transcript)")

        // nothing left in the queue
        let left = (try? fm.contentsOfDirectory(atPath: dir.appendingPathComponent("mqueue").path)) ?? []
        #expect(left.filter { $0.hasPrefix("qf") || $0.hasPrefix("df") }.isEmpty, "still queued: \(left)\n\(transcript)")

        // the mailboxes, as Python's mailbox module reads them, but
        // honouring mail.local's Content-Length as mutt does: sendmail
        // decodes s-nail's quoted-printable for the local mailer (F=9, no
        // F=E), so "From the body" reaches the mbox unescaped, as with
        // Debian's sendmail and mail.local
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        reader.arguments = ["-c", """
            import mailbox, re, sys
            def messages(path):
                data = open(path, 'rb').read()
                pos = 0
                while data.startswith(b'From ', pos):
                    eol = data.index(b'\\n', pos)
                    start = eol + 1
                    end_header = data.index(b'\\n\\n', start) + 2
                    length = re.search(rb'^Content-Length: ([0-9]+)$', data[start:end_header], re.M | re.I)
                    if length:
                        end = end_header + int(length.group(1))
                    else:
                        nxt = data.find(b'\\n\\nFrom ', end_header - 1)
                        end = (len(data) - 1 if data.endswith(b'\\n\\n') else len(data)) if nxt < 0 else nxt + 1
                    m = mailbox.mboxMessage(data[start:end])
                    m.set_from(data[pos + 5:eol].decode('latin-1'))
                    yield m
                    pos = end
                    while data.startswith(b'\\n', pos):
                        pos += 1
            for path in sys.argv[1:]:
                for m in messages(path):
                    body = m.get_payload(decode=True).decode('latin-1')
                    print(repr((path.rsplit('/', 1)[1], m.get_from().split()[0], m['Subject'], m['To'] is not None,
                                m['Message-Id'] is not None, m['Date'] is not None, body)))
            """, dir.appendingPathComponent("spool/root").path, dir.appendingPathComponent("pm/procmail-box").path]
        let rout = Pipe()
        reader.standardOutput = rout
        reader.standardError = rout
        try reader.run()
        let seen = String(decoding: rout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        reader.waitUntilExit()
        #expect(reader.terminationStatus == 0, "mailbox read failed: \(seen)")
        let lines = seen.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "expected 4 messages, read:\n\(seen)\n\(transcript)")
        // (mime7to8() ends the decoded text with one more line end)
        #expect(lines.contains { $0.contains("'root', 'root', 'via s-nail', True, True, True, 'first line\\nFrom the body, a From_ look-alike\\nlast line\\n\\n'") },
                "s-nail's message:\n\(seen)")
        #expect(lines.contains { $0.contains("'root', 'root', 'via mutt'") && $0.contains("'mutt body\\n'") }, "mutt's message:\n\(seen)")
        #expect(lines.contains { $0.hasPrefix("('root', ") && $0.contains("'via mutt smtp', True, True, True, 'mutt over SMTP\\n'") },
                "mutt's message over SMTP:\n\(seen)")
        #expect(lines.contains { $0.hasPrefix("('procmail-box', 'root', 'via alias'") && $0.contains("'to procmail\\n'") },
                "procmail's delivery:\n\(seen)")
    }
}
