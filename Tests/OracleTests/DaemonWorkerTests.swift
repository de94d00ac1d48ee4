// DaemonWorkerTests.swift — the daemon's delivery workers (Daemon.swift,
// SMEngine/QueueWorker.swift), ours alone: what a user sees.
//
// Promises: with DeliveryMode b every accepted message reaches its mailbox
// through the workers; killing every worker (SIGKILL, at whatever point
// of a delivery) loses no accepted message: each one is in the mailbox or
// still queued with its qf and df, and the messages after the kill are
// delivered by the replacements; after SIGHUP, messages are delivered with
// the new cf (a header the new cf adds), the earlier one without it.

import Foundation
import Testing

extension DaemonTests {
    /// `n` messages, each in its own session, "Subject: <tag> <k>".
    static func messages(_ range: ClosedRange<Int>, tag: String, to rcpt: String = "root") -> String {
        range.map { k in
            """
            #CONNECT
            EHLO client.example
            MAIL FROM:<sender@client.example>
            RCPT TO:<\(rcpt)>
            DATA
            Subject: \(tag) \(k)

            body \(k)
            .
            QUIT
            """
        }.joined(separator: "\n")
    }

    /// A shell command killing every child of the daemon (its delivery
    /// workers) with `signal`, printing how many it killed.
    static func killChildren(pidFile: String, signal: String = "KILL") -> String {
        // a process that ends during the scan (anywhere on the machine: the
        // sandbox shares the host's /proc) is passed over, not an error
        "\(python) -c 'import os,signal,sys; d=open(sys.argv[1]).readline().strip(); "
            + "exec(\"def ppid(p):\\n try: return open(\\\"/proc/%s/stat\\\" % p).read().rsplit(\\\")\\\",1)[1].split()[1]\\n except OSError: return None\"); "
            + "k=[int(p) for p in os.listdir(\"/proc\") if p.isdigit() and ppid(p)==d]; "
            + "[os.kill(p, signal.SIG\(signal)) for p in k]; print(\"killed\", len(k))' \(pidFile)"
    }

    @Test("delivery workers: killed mid-load, no accepted message is lost and later ones are still delivered")
    func workersKilled() throws {
        let (cf, dir) = try prepare()
        let box = dir.appendingPathComponent("mail/root").path
        let pidFile = dir.appendingPathComponent("workerkill.ours.pid").path
        let (t, queue, _) = try runOurs(Self.messages(1...15, tag: "early") + "\n"
            + "#RUN \(Self.killChildren(pidFile: pidFile))\n"
            + Self.messages(16...30, tag: "late") + "\n#SLEEP 4\n",
            tag: "workerkill", extra: ["-odb"], cf: cf, dir: dir)
        let accepted = t.components(separatedBy: "\n").filter { $0.contains("Message accepted for delivery") }.count
        #expect(accepted == 30, "\(accepted) of 30 accepted:\n\(t.suffix(3000))")
        #expect(t.range(of: "::: killed [1-9]", options: .regularExpression) != nil, "no worker was there to kill:\n\(t)")
        let text = (try? String(contentsOfFile: box, encoding: .isoLatin1)) ?? ""
        let q = dir.appendingPathComponent("q-daemon-workerkill")
        var missing: [String] = []
        var queued: Set<String> = []
        for id in queue where id.hasPrefix("qf") {
            let qf = (try? String(contentsOf: q.appendingPathComponent(id), encoding: .isoLatin1)) ?? ""
            if let r = qf.range(of: #"Subject: (early|late) [0-9]+"#, options: .regularExpression) { queued.insert(String(qf[r])) }
            #expect(queue.contains("df" + id.dropFirst(2)), "\(id) without its df: \(queue)")
        }
        for (k, tag) in (1...30).map({ ($0, $0 <= 15 ? "early" : "late") }) {
            let subject = "Subject: \(tag) \(k)"
            if !text.contains(subject + "\n") && !queued.contains(subject) { missing.append(subject) }
        }
        #expect(missing.isEmpty, "lost: \(missing); queue: \(queue)")
        // the replacements deliver what came after the kill
        let late = (16...30).filter { text.contains("Subject: late \($0)\n") }.count
        #expect(late == 15, "only \(late) of the 15 messages after the kill were delivered; queue: \(queue)")
    }

    /// The workers stay in the daemon's session, each in a process group
    /// of its own: with the kernel's session autogrouping, a session is one
    /// unit of CPU sharing, so workers in sessions of their own would take
    /// a share each from the daemon's acceptance of mail; within it they run
    /// at nice +10, so that acceptance comes first when the CPU is short.
    @Test("delivery workers: in the daemon's session (one CPU share with it), each in its own process group, nice +10")
    func workersShareTheDaemonsSession() throws {
        let (cf, dir) = try prepare()
        let box = dir.appendingPathComponent("mail/root").path
        let pidFile = dir.appendingPathComponent("workersession.ours.pid").path
        // (a process that ends during the scan is passed over)
        let script = dir.appendingPathComponent("workersession.py")
        try """
            import os, sys
            def stat(p):
                try:
                    f = open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()
                    return int(f[1]), int(f[2]), int(f[3]), int(f[16])   # ppid, pgrp, session, nice
                except (OSError, ValueError, IndexError):
                    return None
            d = int(open(sys.argv[1]).readline())
            ds = stat(d)
            k = []   # (ppid, pgrp, session, nice, pid) of the daemon's children
            for p in os.listdir("/proc"):
                s = stat(p) if p.isdigit() else None
                if s and s[0] == d:
                    k.append(s + (int(p),))
            print("children", len(k), "in-session", sum(s[2] == ds[2] for s in k),
                  "own-group", sum(s[1] == s[4] for s in k), "nicer-by-10", sum(s[3] == ds[3] + 10 for s in k))

            """.write(to: script, atomically: true, encoding: .utf8)
        let census = "\(Self.python) \(script.path) \(pidFile)"
        let (t, queue, _) = try runOurs(Self.messages(1...1, tag: "session") + "\n"
            + "#WAITFILE \(box) 15\n#RUN \(census)\n",
            tag: "workersession", extra: ["-odb"], cf: cf, dir: dir)
        let line = t.components(separatedBy: "\n").first { $0.contains("::: children") } ?? ""
        let n = line.split(separator: " ").dropFirst(2).first.flatMap { Int($0) } ?? 0
        #expect(n > 0, "no delivery worker found:\n\(t)\nqueue: \(queue)")
        // (and yield the CPU to the accepting daemon: Engine.deliveryWorkerNice)
        #expect(line.hasSuffix("children \(n) in-session \(n) own-group \(n) nicer-by-10 \(n)"), "\(line)")
    }

    /// A worker that delivers a message keeps its qf and df as spare
    /// files and reports them to the daemon (SMEngine/QueueSpares.swift),
    /// which writes the next message into them.  With 8192 slots a claim
    /// that probed at random would almost never find the two spares; and
    /// the daemon reads the directory at most once a minute: only the
    /// reports account for the same two inodes serving every message.
    @Test("delivery workers: the spare queue files a worker parks are reported to the daemon, whose next messages use them")
    func workersReportSpares() throws {
        let (cf, dir) = try prepare()
        let box = dir.appendingPathComponent("mail/root").path
        let q = dir.appendingPathComponent("q-daemon-sparereport").path
        let script = dir.appendingPathComponent("sparereport.py")
        // waits (up to 10 s) for message `k` in the mailbox and two spares
        // in the queue, then prints the spares' inodes
        try """
            import os, sys, time
            box, q, k = sys.argv[1], sys.argv[2], sys.argv[3]
            for _ in range(200):
                text = open(box, encoding="latin-1").read() if os.path.exists(box) else ""
                spares = [n for n in os.listdir(q) if n.startswith(".spare")]
                if "Subject: reuse %s\\n" % k in text and len(spares) >= 2:
                    break
                time.sleep(0.05)
            time.sleep(0.2)
            spares = [n for n in os.listdir(q) if n.startswith(".spare")]
            print("spares", k, len(spares), " ".join(sorted(str(os.stat(os.path.join(q, n)).st_ino) for n in spares)))

            """.write(to: script, atomically: true, encoding: .utf8)
        var lines: [String] = []
        for k in 1...4 {
            lines.append(Self.messages(k...k, tag: "reuse"))
            lines.append("#RUN \(Self.python) \(script.path) \(box) \(q) \(k)")
        }
        let (t, queue, _) = try runOurs(lines.joined(separator: "\n") + "\n", tag: "sparereport", extra: ["-odb"],
                                        cf: cf, dir: dir, environment: ["SENDMAIL_SWIFT_QUEUE_SPARES": "8192"])
        let census = t.components(separatedBy: "\n").filter { $0.hasPrefix("::: spares ") }
        #expect(census.count == 4, "\(t)")
        let first = census.first.map { String($0.split(separator: " ", maxSplits: 4).last ?? "") } ?? ""
        for (k, line) in census.enumerated() {
            #expect(line == "::: spares \(k + 1) 2 \(first)",
                    "message \(k + 1) did not reuse the first message's two files: \(census)\nqueue: \(queue)")
        }
        #expect(queue.isEmpty, "left in the queue: \(queue)")
    }

    /// One worker with a pipe of 4096 bytes (12 records), stopped with
    /// SIGSTOP once a first message is delivered; 40 "held" messages
    /// arrive, then `meanwhile` (harness lines; its argument is the shell
    /// command counting the held messages delivered) runs, the worker is
    /// continued, and the run waits until all 40 are delivered and lists
    /// their subjects.  Checks what both backlog tests share (41 accepted,
    /// the one worker stopped, nothing left queued); returns the transcript
    /// and its count lines ("::: <n>").
    func runBacklog(tag: String, meanwhile: (String) -> String) throws -> (transcript: String, counts: [String]) {
        let (cf, dir) = try prepare()
        let box = dir.appendingPathComponent("mail/root").path
        let pidFile = dir.appendingPathComponent("\(tag).ours.pid").path
        let count = "grep -c '^Subject: held' \(box) || true"
        let (t, queue, _) = try runOurs(Self.messages(1...1, tag: "first") + "\n"
            + "#WAITFILE \(box) 15\n"
            + "#RUN \(Self.killChildren(pidFile: pidFile, signal: "STOP"))\n"
            + Self.messages(1...40, tag: "held") + "\n"
            + meanwhile(count)
            + "#RUN \(Self.killChildren(pidFile: pidFile, signal: "CONT"))\n"
            + "#RUN for i in $(seq 150); do [ \"$(\(count))\" -ge 40 ] && break; sleep 0.2; done; \(count)\n"
            + "#RUN grep '^Subject: held' \(box) | tr '\\n' ' '\n",
            tag: tag, extra: ["-odb"], cf: cf, dir: dir,
            environment: ["SENDMAIL_SWIFT_DELIVERY_WORKERS": "1", "SENDMAIL_SWIFT_WORKER_PIPE_BYTES": "4096"])
        let accepted = t.components(separatedBy: "\n").filter { $0.contains("Message accepted for delivery") }.count
        #expect(accepted == 41, "\(tag): \(accepted) of 41 accepted:\n\(t.suffix(3000))")
        #expect(t.contains("::: killed 1\n"), "\(tag): the one worker was not stopped:\n\(t)")
        #expect(!queue.contains { $0.hasPrefix("qf") }, "\(tag): left in the queue: \(queue)")
        let counts = t.components(separatedBy: "\n").filter { $0.hasPrefix("::: ") && Int($0.dropFirst(4)) != nil }
        return (t, counts)
    }

    /// More accepted messages than the workers' pipe holds: the rest wait
    /// in the daemon, in order, and the workers deliver them all; none
    /// starts a process of its own.  (Before the backlog, the 28 records
    /// without room each started a detached `sendmail -qI<id>`, which
    /// delivered while the worker slept.)
    @Test("delivery workers: messages beyond the pipe's room wait in order for the workers; none starts a process of its own")
    func workersBacklog() throws {
        let (t, counts) = try runBacklog(tag: "workerbacklog") { count in "#SLEEP 2\n#RUN \(count)\n" }
        // while the worker slept nothing was delivered; then all 40, in order
        #expect(counts == ["::: 0", "::: 40"], "held messages delivered: \(counts)\n\(t.suffix(3000))")
        let order = (1...40).map { "Subject: held \($0)" }.joined(separator: " ") + " "
        #expect(t.contains("::: " + order), "not delivered in the order accepted:\n\(t.suffix(3000))")
    }

    /// The same backlog when the configuration is reloaded: the IDs that
    /// waited for the old workers' pipe go to the new workers (the old,
    /// stopped one keeps only the 12 in its pipe).
    @Test("delivery workers: after SIGHUP, the IDs waiting for the old workers' pipe go to the new workers")
    func workersBacklogAcrossReload() throws {
        // (the new worker delivers the 28 that waited; the old one sleeps)
        let (t, counts) = try runBacklog(tag: "workerbacklog2") { count in
            "#SIGNAL HUP\n#SLEEP 1\n"
                + "#RUN for i in $(seq 100); do [ \"$(\(count))\" -ge 28 ] && break; sleep 0.2; done; \(count)\n"
        }
        #expect(counts == ["::: 28", "::: 40"], "held messages delivered: \(counts)\n\(t.suffix(3000))")
    }

    @Test("delivery workers: after SIGHUP, messages are delivered with the new cf's local mailer")
    func workersReloadConfiguration() throws {
        let (cf, dir) = try prepare()
        let box = dir.appendingPathComponent("mail/root").path
        let box2 = dir.appendingPathComponent("mail2/root").path
        let mail2 = dir.appendingPathComponent("mail2")
        try? FileManager.default.removeItem(at: mail2)
        try FileManager.default.createDirectory(at: mail2, withIntermediateDirectories: true)
        chmod(mail2.path, 0o777)
        let newCF = dir.appendingPathComponent("workerhup.cf").path
        try? FileManager.default.removeItem(atPath: newCF)
        try FileManager.default.copyItem(atPath: cf, toPath: newCF)
        // the new cf's local mailer writes into mail2/: only a delivery
        // with the new cf can put a message there
        let (t, queue, _) = try runOurs(Self.messages(1...1, tag: "before") + "\n"
            + "#WAITFILE \(box) 15\n#SLEEP 1\n"
            + "#RUN sed -i 's#/mail \\$u#/mail2 $u#' \(newCF) && grep -c mail2 \(newCF)\n"
            + "#SIGNAL HUP\n#SLEEP 1\n"
            + Self.messages(2...2, tag: "after") + "\n#WAITFILE \(box2) 15\n#SLEEP 1\n",
            tag: "workerhup", extra: ["-odb"], cf: newCF, dir: dir)
        #expect(t.contains("::: 1\n"), "the cf was not changed:\n\(t)")
        let old = (try? String(contentsOfFile: box, encoding: .isoLatin1)) ?? ""
        let new = (try? String(contentsOfFile: box2, encoding: .isoLatin1)) ?? ""
        #expect(old.contains("Subject: before 1\n") && !old.contains("Subject: after 2\n"),
                "mail/root (the old cf's mailer):\n\(old)\nqueue: \(queue)")
        #expect(new.contains("Subject: after 2\n") && !new.contains("Subject: before 1\n"),
                "mail2/root (the new cf's mailer):\n\(new)\nqueue: \(queue)")
    }
}
