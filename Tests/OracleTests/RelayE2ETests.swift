// RelayE2ETests.swift — end to end: a message submitted over SMTP to our
// daemon on 127.0.0.1:2525 (Fixtures/oracle/routing/relay-a.mc: SMART_HOST
// [127.0.0.3]) is relayed by its background delivery to a second instance
// of our daemon on 127.0.0.3:25 (relay-b.mc: its own cf, queue and
// mailboxes, named b.example.test), which delivers it locally; python's
// mailbox module reads it back (relay-e2e.py drives both inside one
// private network namespace).  Checked: one message, the 8-bit body byte
// for byte, both hops' Received: lines, both queues empty afterwards.
// Ours alone (the real sendmail is not involved).  Fails (never skips)
// when a prerequisite (root, python3) is missing.

import Foundation
import Testing

@Suite("End to end: our daemon relays to a second instance of ours")
struct RelayE2ETests {
    @Test("SMTP in on 127.0.0.1:2525, relayed to 127.0.0.3:25, delivered and read back intact (8-bit body)")
    func relayTwice() throws {
        guard getuid() == 0 else { throw HarnessError("RelayE2ETests need root (network namespace, port 25)") }
        guard access("/usr/bin/python3", X_OK) == 0 else { throw HarnessError("RelayE2ETests need /usr/bin/python3 (the driver)") }
        var dirs: [String: String] = [:]
        var cfs: [String: String] = [:]
        for hop in ["a", "b"] {
            let p = try Workspace.shared.prepare(Configuration(
                name: "relay-e2e-\(hop)", source: .ourLibraryMC("Tests/Fixtures/oracle/routing/relay-\(hop).mc")))
            let d = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent().path
            for (from, to) in [("deliver/aliases", "aliases"), ("deliver/switch", "switch"), ("routing/deliver-mbox.sh", "deliver-mbox.sh")] {
                let text = try String(contentsOfFile: OracleEnvironment.fixture(from), encoding: .utf8)
                    .replacingOccurrences(of: "@SCRATCH@", with: d)
                try text.write(toFile: d + "/" + to, atomically: false, encoding: .utf8)
            }
            chmod(d + "/deliver-mbox.sh", 0o755)
            try DeliverTests.shell("rm -rf '\(d)/q' '\(d)/mail' && mkdir -m 700 '\(d)/q' && mkdir -m 1777 '\(d)/mail'")
            dirs[hop] = d
            cfs[hop] = p.cfPath
        }
        // (the aliases databases, as each instance reads them)
        var na = SandboxOptions()
        na.modeFlag = "-bi"
        for hop in ["a", "b"] {
            _ = try Sandbox.run(binary: try OracleEnvironment.binaryUnderTest(), cf: cfs[hop]!, input: [], options: na,
                                runDir: Workspace.shared.runs, tag: "relay-e2e-\(hop).newaliases")
        }
        var o = SandboxOptions()
        o.privateNetwork = true
        o.modeFlag = "-bD"
        o.timeoutSeconds = 90
        o.launcher = ["/usr/bin/python3", OracleEnvironment.fixture("routing/relay-e2e.py"), cfs["b"]!, dirs["b"]! + "/mail"]
        let r = try Sandbox.run(binary: try OracleEnvironment.binaryUnderTest(), cf: cfs["a"]!, input: [], options: o,
                                runDir: Workspace.shared.runs, tag: "relay-e2e")
        let out = String(decoding: r.stdout, as: UTF8.self)
        let err = String(decoding: r.stderr, as: UTF8.self)
        #expect(r.status == 0, "the relay did not arrive intact:\n\(out)\n\(err)")
        #expect(out.contains("=== refused: {}"), "the first hop refused: \(out)")
        #expect(out.contains("=== messages: 1\n"), "\(out)")
        #expect(out.contains("=== subject: relayed twice\n"), "\(out)")
        #expect(out.contains("=== body intact: True\n"), "\(out)")
        // two hops: the second instance's Received: (from the first, by
        // b.example.test) above the first's (from client.example)
        #expect(out.contains("=== received: 2\n"), "\(out)")
        #expect(out.contains("=== received-from: from vm.example.test (localhost [127.0.0.1]) by b.example.test"), "\(out)")
        #expect(out.contains("=== received-from: from client.example (localhost [127.0.0.1]) by vm.example.test"), "\(out)")
        // nothing left in either queue
        for hop in ["a", "b"] {
            let left = try FileManager.default.contentsOfDirectory(atPath: dirs[hop]! + "/q").filter { $0.hasPrefix("qf") }
            #expect(left.isEmpty, "hop \(hop) still queues \(left)")
        }
    }
}
