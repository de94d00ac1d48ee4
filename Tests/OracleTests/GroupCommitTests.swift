// GroupCommitTests.swift — the daemon's durable commit under concurrent
// sessions (SMEngine/QueueCommit.swift: group commit of the directory
// fsyncs), ours alone: what a user relies on when the daemon says 250.
//
// Promises: with 20 sessions sending at once and the daemon killed with
// SIGKILL in the middle of the load, every message that got its 250 is in
// the queue with its qf and its df whole (the df holds exactly the body
// sent, the qf names the right message and is complete), and no qf is left
// without its df.  Traced with strace while 10 sessions send at once,
// every acknowledged message's df and tf were fsynced and a fsync of the
// queue directory began after the df was created and ended before the
// rename, and another one began after the rename and ended before the 250
// was written: nothing is acknowledged before it is on disk, whichever
// session's thread ran the shared fsync.  Fails (never skips) when
// python3 or strace is missing.

import Foundation
import Testing

extension DaemonTests {
    static let killLoad = OracleEnvironment.packageRoot.appendingPathComponent("Tests/Fixtures/smtp/kill-load.py").path

    /// The "accepted <id> <n>.<k>" lines of kill-load.py: id -> "n.k".
    static func acceptedLoad(_ transcript: String) -> [(id: String, tag: String)] {
        transcript.components(separatedBy: "\n").compactMap { l in
            guard l.hasPrefix("::: accepted ") else { return nil }
            let f = l.dropFirst(13).split(separator: " ")
            return f.count == 2 ? (String(f[0]), String(f[1])) : nil
        }
    }

    @Test("group commit: 20 sessions at once, the daemon killed with SIGKILL mid-load; every acknowledged message is queued with qf and df whole")
    func groupCommitKilled() throws {
        let (cf, dir) = try prepare()
        let tag = "gckill"
        let q = try Faults.freshDirectory(dir, "q-daemon-\(tag)")
        let pidFile = "\(dir.path)/\(tag).ours.pid"
        let (t, r) = try run(try OracleEnvironment.binaryUnderTest(), cf: cf, dir: dir, queue: q, script: """
            #RUN \(Self.python) \(Self.killLoad) \(pidFile) 20 25 150
            """, tag: "\(tag).ours")
        #expect(r.status == 0, "the harness failed: \(String(decoding: r.stderr, as: UTF8.self))")
        #expect(t.contains("::: killed\n"), "the daemon was never killed:\n\(t.suffix(3000))")
        #expect(t.contains("=== exit -9\n"), "the daemon did not die of SIGKILL:\n\(t.suffix(2000))")
        let accepted = Self.acceptedLoad(t)
        #expect(accepted.count >= 150 && accepted.count < 500,
                "\(accepted.count) of 500 acknowledged: the kill did not fall in the middle of the load")
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: q.path))
        for (id, nk) in accepted {
            let parts = nk.split(separator: ".")
            let df = try? String(contentsOf: q.appendingPathComponent("df" + id), encoding: .isoLatin1)
            let qf = try? String(contentsOf: q.appendingPathComponent("qf" + id), encoding: .isoLatin1)
            #expect(df == "message \(parts[1]) of session \(parts[0])\n", "df\(id) (\(nk)) is missing or not whole: \(df ?? "missing")")
            #expect(qf?.contains("Subject: load \(nk)\n") == true && qf?.hasSuffix("\n.\n") == true,
                    "qf\(id) (\(nk)) is missing or not whole: \(qf ?? "missing")")
        }
        // a message committed but never acknowledged may be there too, whole
        for n in names where n.hasPrefix("qf") {
            #expect(names.contains("df" + n.dropFirst(2)), "\(n) without its df; queue: \(names.sorted())")
        }
    }

    /// One system call from an `strace -f` log: its text and the indexes of
    /// the lines where it began and ended (the same line when strace saw it
    /// whole).
    struct TracedCall {
        var text: String
        var start: Int
        var end: Int
    }

    /// The calls of an `strace -f -qq` log, in order of their first line.
    static func tracedCalls(_ log: String) -> [TracedCall] {
        var calls: [TracedCall] = []
        var pending: [String: (String, Int)] = [:]
        for (i, line) in log.components(separatedBy: "\n").enumerated() {
            // "<pid> <call>" (no time stamps; short pids are padded)
            let f = line.split(separator: " ", maxSplits: 1)
            guard f.count == 2 else { continue }
            let pid = String(f[0]), rest = String(f[1].drop(while: { $0 == " " }))
            if rest.hasSuffix("<unfinished ...>") {
                pending[pid] = (String(rest.dropLast(16)), i)
            } else if rest.hasPrefix("<... "), let r = rest.range(of: " resumed>") {
                guard let (head, s) = pending.removeValue(forKey: pid) else { continue }
                // "fsync(3</q> " + ")      = 0": the call as one line
                var h = Substring(head)
                while h.last == " " { h = h.dropLast() }
                calls.append(TracedCall(text: String(h) + String(rest[r.upperBound...].drop(while: { $0 == " " })), start: s, end: i))
            } else {
                calls.append(TracedCall(text: rest, start: i, end: i))
            }
        }
        return calls
    }

    /// A shell command waiting (up to 30 s) until every thread of the
    /// daemon is traced; prints "traced" or "not traced".
    static func tracedAll(pidFile: String) -> String {
        "p=$(head -1 \(pidFile)); for i in $(seq 300); do "
            + "if ! grep -q 'TracerPid:[[:space:]]*0$' /proc/$p/task/*/status; then echo traced; exit 0; fi; "
            + "sleep 0.1; done; echo not traced"
    }

    @Test("group commit traced: each 250 comes after the df and tf fsyncs, a directory fsync before the rename and one after it")
    func groupCommitOrder() throws {
        let strace = "/usr/bin/strace"
        guard FileManager.default.isExecutableFile(atPath: strace) else {
            throw HarnessError("\(strace) is missing: this test traces the daemon's system calls (apt-get install strace)")
        }
        let (cf, dir) = try prepare()
        let tag = "gctrace"
        let q = try Faults.freshDirectory(dir, "q-daemon-\(tag)")
        let pidFile = "\(dir.path)/\(tag).ours.pid"
        let trace = dir.appendingPathComponent("\(tag).strace")
        try? FileManager.default.removeItem(at: trace)
        let (t, r) = try run(try OracleEnvironment.binaryUnderTest(), cf: cf, dir: dir, queue: q, script: """
            #RUN \(strace) -f -qq -y -s 80 -e trace=openat,fsync,fdatasync,rename,renameat,renameat2,write,writev,sendmsg,sendto -o \(trace.path) -p $(head -1 \(pidFile)) >/dev/null 2>&1 &
            #RUN \(Self.tracedAll(pidFile: pidFile))
            #RUN \(Self.python) \(Self.killLoad) \(pidFile) 10 8 0
            #SIGNAL TERM
            #RUN for i in $(seq 300); do pgrep -f 'strace .*[g]ctrace[.]strace' >/dev/null || { echo strace done; exit 0; }; sleep 0.1; done; echo strace still running
            """, tag: "\(tag).ours")
        #expect(r.status == 0, "the harness failed: \(String(decoding: r.stderr, as: UTF8.self))")
        #expect(t.contains("::: traced\n"), "strace did not attach to the daemon:\n\(t.prefix(2000))")
        // (strace writes its log in blocks: it is whole once strace has ended)
        #expect(t.contains("::: strace done\n"), "strace did not end with the daemon:\n\(t.suffix(2000))")
        let accepted = Self.acceptedLoad(t)
        #expect(accepted.count == 80, "\(accepted.count) of 80 acknowledged:\n\(t.suffix(3000))")
        let calls = Self.tracedCalls((try? String(contentsOf: trace, encoding: .isoLatin1)) ?? "")
        let dirTag = "/\(q.lastPathComponent)>)"
        let dirSyncs = calls.filter { $0.text.hasPrefix("fsync(") && $0.text.contains(dirTag) && $0.text.hasSuffix("= 0") }
        var checked = 0
        for (id, _) in accepted {
            func one(_ what: String, _ p: (TracedCall) -> Bool) -> TracedCall? {
                let c = calls.first(where: p)
                #expect(c != nil, "\(id): no \(what) in the trace")
                return c
            }
            guard let ack = one("250 written", { $0.text.contains("250 2.0.0 \(id) Message accepted") }),
                  // created, or a spare renamed to its name (QueueSpares.swift)
                  let create = one("df created", { ($0.text.hasPrefix("openat(") && $0.text.contains("O_CREAT")
                                                     || $0.text.hasPrefix("renameat2(") && $0.text.hasSuffix("= 0"))
                                                    && $0.text.contains("/df\(id)\"") }),
                  let dfSync = one("df fsync", { $0.text.hasPrefix("fsync(") && $0.text.contains("/df\(id)>") }),
                  let tfSync = one("tf fsync", { $0.text.hasPrefix("fsync(") && $0.text.contains("/tf\(id)>") }),
                  let rename = one("rename", { $0.text.hasPrefix("rename") && $0.text.contains("/tf\(id)\"") && $0.text.contains("/qf\(id)\"") })
            else { continue }
            #expect(dfSync.text.hasSuffix("= 0") && tfSync.text.hasSuffix("= 0") && rename.text.hasSuffix("= 0"),
                    "\(id): a failed call: \(dfSync.text) / \(tfSync.text) / \(rename.text)")
            #expect(dfSync.end < rename.start && tfSync.end < rename.start, "\(id): renamed to qf before its df and tf were fsynced")
            #expect(dirSyncs.contains { $0.start > create.end && $0.end < rename.start },
                    "\(id): no fsync of the queue directory between the df's creation and the rename")
            #expect(dirSyncs.contains { $0.start > rename.end && $0.end < ack.start },
                    "\(id): the 250 was written before a fsync of the queue directory that began after the rename had ended")
            checked += 1
        }
        #expect(checked == 80, "only \(checked) of 80 acknowledged messages were found in the trace (\(calls.count) calls traced)")
    }
}
