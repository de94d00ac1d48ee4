// WorkerCacheTests.swift — the daemon's delivery workers keep their
// SMTP and LMTP sessions across messages (QueueWorker.swift), as a
// sendmail queue run keeps its connection cache.
//
// Our daemon (`-bD`, Fixtures/oracle/worker/worker.mc: MTA on
// 127.0.0.1:2525, ConnectionCacheSize 2, ConnectionCacheTimeout 20s (long
// enough that no phase's session expires on a loaded machine: a first
// host's session outlived a slow drop phase only by chance with 5s),
// FEATURE(local_lmtp) through our mail.local) runs with one delivery
// worker in a private network namespace; worker/worker-cache.py plays the
// next hops on 127.0.0.2-8 and submits messages one at a time.  Checked:
// five messages to one host travel over one TCP connection (each reuse
// probed with RSET); a next hop that drops the connection after each
// message still gets all of them (a new connection each time, in the lost
// session's cache slot: the first host's session stays); five hosts
// in turn never have more than ConnectionCacheSize sessions open (one
// more while a new one replaces the oldest); after the idle time every session has ended with QUIT; the
// worker's session QUITs when the daemon stops; four local messages go
// through one mail.local process.  Against the real sendmail (same cf,
// same mail.local, same submissions): the mailboxes' bytes, with dates
// and queue IDs normalised.
// Fails (never skips) when a prerequisite (root, python3) is missing.

import Foundation
import Testing

@Suite("Delivery workers keep their sessions across messages", .serialized)
struct WorkerCacheTests {
    /// A scratch directory for `who` with worker.mc's cf, aliases, the
    /// spool and the mail.local wrapper; its aliases built by `binary`.
    static func prepare(_ who: String, binary: String) throws -> (cf: String, dir: String) {
        let p = try Workspace.shared.prepare(Configuration(name: "worker-cache-\(who)", source: .mc("worker/worker.mc")))
        let d = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent().path
        let ours = try OracleEnvironment.binaryUnderTest()
        let mailLocal = URL(fileURLWithPath: ours).deletingLastPathComponent().appendingPathComponent("mail.local").path
        #expect(FileManager.default.isExecutableFile(atPath: mailLocal), "\(mailLocal) is missing (swift build)")
        try "postmaster: root\nMAILER-DAEMON: postmaster\n".write(toFile: d + "/aliases", atomically: false, encoding: .utf8)
        try "hosts files\n".write(toFile: d + "/switch", atomically: false, encoding: .utf8)
        // (one line per start of the local mailer)
        try "#!/bin/sh\necho $$ >> '\(d)/lmtp-starts'\nexec '\(mailLocal)' \"$@\"\n"
            .write(toFile: d + "/mail.local.sh", atomically: false, encoding: .utf8)
        chmod(d + "/mail.local.sh", 0o755)
        try DeliverTests.shell("rm -rf '\(d)/q' '\(d)/spool' '\(d)/home' '\(d)/lmtp-starts' && mkdir -m 700 '\(d)/q' '\(d)/home' "
                               + "&& mkdir -m 1777 '\(d)/spool'")
        var na = SandboxOptions()
        na.modeFlag = "-bi"
        _ = try Sandbox.run(binary: binary, cf: p.cfPath, input: [], options: na, runDir: Workspace.shared.runs,
                            tag: "worker-cache-\(who).newaliases")
        return (p.cfPath, d)
    }

    /// Runs the driver in `mode` around `binary -bD`.
    static func drive(_ mode: String, binary: String, cf: String, dir: String) throws -> (status: Int32, out: String) {
        var o = SandboxOptions()
        o.privateNetwork = true
        o.modeFlag = "-bD"
        o.rootHome = dir + "/home"
        o.timeoutSeconds = 150
        o.launcher = ["/usr/bin/python3", OracleEnvironment.fixture("worker/worker-cache.py"), mode, dir]
        let r = try Sandbox.run(binary: binary, cf: cf, input: [], options: o, runDir: Workspace.shared.runs,
                                tag: "worker-cache-\(mode)")
        return (r.status, String(decoding: r.stdout + r.stderr, as: UTF8.self))
    }

    /// A mailbox with its delivery dates and queue IDs normalised.
    static func mailbox(_ path: String) -> String {
        var t = (try? String(contentsOfFile: path, encoding: .isoLatin1)) ?? "(no mailbox \(path))"
        for (pattern, replacement) in [
            (#"[0-9A-Za-z]{8}[0-9]{6}"#, "<id>"),
            (#"[A-Z][a-z]{2}, [ 0-9]?[0-9] [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} ([+-][0-9]{4}|GMT)( \([A-Z]+\))?"#, "<date>"),
            (#"[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [0-9]{4}"#, "<time>"),
        ] {
            t = t.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return t
    }

    @Test("one worker: one connection per host, dropped peers lose nothing, sessions bounded, QUIT when idle and at exit; LMTP through one mail.local, mailboxes as sendmail's")
    func sessionsKept() throws {
        guard getuid() == 0 else { throw HarnessError("WorkerCacheTests need root (network namespace, port 25)") }
        guard access("/usr/bin/python3", X_OK) == 0 else { throw HarnessError("WorkerCacheTests need /usr/bin/python3 (the driver)") }
        let ours = try OracleEnvironment.binaryUnderTest()
        let (realCf, realDir) = try Self.prepare("oracle", binary: OracleEnvironment.oraclePath)
        let real = try Self.drive("oracle", binary: OracleEnvironment.oraclePath, cf: realCf, dir: realDir)
        #expect(real.status == 0, "the real sendmail's local deliveries did not all arrive:\n\(real.out)")
        #expect(real.out.contains("=== local: root=4 bin=1 "), "\(real.out)")

        let (cf, d) = try Self.prepare("ours", binary: ours)
        let r = try Self.drive("ours", binary: ours, cf: cf, dir: d)
        #expect(r.status == 0, "messages did not all arrive:\n\(r.out)")
        // five messages, one connection, each reuse probed with RSET
        #expect(r.out.contains("=== reuse: messages=5 connections=1 rsets=4\n"), "\(r.out)")
        // a peer closing after each message: every message gets through
        #expect(r.out.contains("=== drop: messages=4 connections=4\n"), "\(r.out)")
        // (and the lost session's cache slot is taken, not the live one's)
        #expect(r.out.contains("=== after drop: 127.0.0.2 connections=1\n"), "\(r.out)")
        // five hosts in turn: ConnectionCacheSize (2) sessions stay open;
        // a third only while it replaces one (as sendmail's mci_cache()
        // makes room once the new connection is made)
        #expect(r.out.contains("=== bounded: messages=10 settled open=2 peak=3\n"), "\(r.out)")
        #expect(r.out.contains("=== totals: connections=16 peak=3 "), "\(r.out)")
        // idle: every session ended with QUIT
        #expect(r.out.contains("=== idle: open=0 without QUIT=0\n"), "\(r.out)")
        // FEATURE(local_lmtp): one mail.local for the four messages
        #expect(r.out.contains("=== local: root=4 bin=1 mail.local starts=1\n"), "\(r.out)")
        // the daemon's stop: the worker's session QUITs
        #expect(r.out.contains("=== exit: QUIT=True before idle=True open=0\n"), "\(r.out)")
        for user in ["root", "bin"] {
            let a = Self.mailbox(realDir + "/spool/" + user), b = Self.mailbox(d + "/spool/" + user)
            #expect(a.contains("Subject: worker cache 10"), "the oracle's \(user) mailbox: \(a)")
            #expect(b == a, "\(user)'s mailbox differs from the real sendmail's")
        }
    }
}
