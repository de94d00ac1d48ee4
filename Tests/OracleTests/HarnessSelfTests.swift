// HarnessSelfTests.swift — tests of the harness itself, independent of our
// binary: the sandbox really isolates, the oracle agrees with itself, a broken
// "binary" is caught with a readable diff, the diff and the generator behave.
//
// Promises: these pass on any machine with the prerequisites installed, whatever
// state our own sendmail is in; if the harness cannot tell a wrong transcript
// from a right one, one of these fails.

import Foundation
import Testing

@Suite("Harness self-tests")
struct HarnessSelfTests {
    @Test("prerequisites are installed (oracle, makemap, m4, cf library, unshare, timeout)")
    func prerequisites() throws {
        try OracleEnvironment.checkPrerequisites()
    }

    @Test("the binary under test can be located")
    func binaryLocated() throws {
        let path = try OracleEnvironment.binaryUnderTest()
        #expect(FileManager.default.isExecutableFile(atPath: path))
    }

    /// A fake "binary" that reports what it sees inside the sandbox.
    @Test("the sandbox sets host name, resolv.conf, hosts and /etc/mail")
    func sandboxIsolation() throws {
        let prepared = try Workspace.shared.prepare(.genericLinux)
        let probe = try writeScript("probe.sh", """
            #!/bin/sh
            hostname
            grep -c '^nameserver 127.0.0.1' /etc/resolv.conf
            grep -c 'vm.example.test' /etc/hosts
            ls /etc/mail
            echo "args: $*"
            echo "env: $TZ $LANG $SM_HOSTS"
            """)
        let r = try Sandbox.run(binary: probe, cf: prepared.cfPath, input: [], options:
            SandboxOptions(etcMail: prepared.etcMail), runDir: Workspace.shared.runs, tag: "selftest.probe")
        let out = String(decoding: r.stdout, as: UTF8.self)
        #expect(r.status == 0)
        #expect(out.hasPrefix("vm.example.test\n1\n1\naccess\naccess.db\n"), "sandbox saw:\n\(out)")
        #expect(out.contains("args: -bt -C \(prepared.cfPath) -ODontProbeInterfaces=true\n"))
        #expect(out.contains("env: UTC C \n"), "sandbox helper variables leaked: \(out)")
    }

    @Test("the load average: both read the sandbox's /proc/loadavg, rounded as sendmail's getla()",
          arguments: ["0.00 0.00 0.00 1/100 1", "2.49 7.00 7.00 1/100 1", "2.60 0.10 0.10 3/100 7", "17.51 1.00 1.00 1/9 1"])
    func loadAverage(_ loadavg: String) throws {
        let prepared = try Workspace.shared.prepare(.genericLinux)
        var options = SandboxOptions(etcMail: prepared.etcMail)
        options.loadAverage = loadavg
        let tag = "selftest.loadavg." + loadavg.prefix(5).replacingOccurrences(of: ".", with: "_")
        let (real, ours) = try Sandbox.runBoth(cf: prepared.cfPath, input: Array("${load_avg}\n".utf8),
                                               options: options, tag: tag)
        let first = Double(loadavg.prefix { $0 != " " })!
        let expected = "> \(Int(first + 0.5))\n"
        #expect(String(decoding: real.stdout, as: UTF8.self).contains(expected), "oracle: \(String(decoding: real.stdout, as: UTF8.self))")
        #expect(String(decoding: ours.stdout, as: UTF8.self).contains(expected), "ours: \(String(decoding: ours.stdout, as: UTF8.self))")
    }

    @Test("oracle vs oracle: identical, and deterministic", arguments: ["operators.all", "generic-linux.commands",
                                                                        "debian-sendmail.checks", "errors.edge-inputs"])
    func oracleAgainstItself(_ name: String) throws {
        let c = try #require(Cases.all.first { $0.name == name })
        let oracle = OracleEnvironment.oraclePath
        let r = try Comparison.run(c, oracle: oracle, underTest: oracle, tag: "selftest-same-" + name)
        #expect(Comparison.describeDifferences(name: name, r) == nil)
        #expect(r.oracle.stdout.count > 200, "the oracle printed almost nothing: \(r.oracle.stdout.count) bytes")
        #expect(String(decoding: r.oracle.stdout, as: UTF8.self)
            .contains("ADDRESS TEST MODE (ruleset 3 NOT automatically invoked)\nEnter <ruleset> <address>\n> "))
    }

    @Test("a broken binary fails with a readable diff")
    func brokenBinaryIsCaught() throws {
        let fake = try writeScript("broken-sendmail.sh", """
            #!/bin/sh
            cat >/dev/null
            echo "ADDRESS TEST MODE (ruleset 3 NOT automatically invoked)"
            echo "Enter <ruleset> <address>"
            echo "> this is not sendmail"
            echo "oops" >&2
            exit 3
            """)
        let c = try #require(Cases.all.first { $0.name == "operators.all" })
        let r = try Comparison.run(c, oracle: OracleEnvironment.oraclePath, underTest: fake, tag: "selftest-broken")
        let message = try #require(Comparison.describeDifferences(name: c.name, r))
        #expect(message.contains("--- oracle"))
        #expect(message.contains("+++ under test"))
        #expect(message.contains("+> this is not sendmail"))
        #expect(message.contains("-> Star               input: a b c"))
        #expect(message.contains("exit status: oracle"))
        #expect(message.contains("stderr differs"))
        #expect(message.split(separator: "\n").count < 120, "diff is not short:\n\(message)")
    }

    @Test("a binary that differs by one byte is caught")
    func oneByteDifference() throws {
        let c = try #require(Cases.all.first { $0.name == "errors.paths" })
        let prepared = try Workspace.shared.prepare(c.config)
        let fake = try writeScript("one-byte-off.sh", """
            #!/bin/sh
            "\(OracleEnvironment.oraclePath)" "$@" | sed 's/Infinite loop/Infinite  loop/'
            """)
        _ = prepared
        let r = try Comparison.run(c, oracle: OracleEnvironment.oraclePath, underTest: fake, tag: "selftest-one-byte")
        let message = try #require(Comparison.describeDifferences(name: c.name, r))
        #expect(message.contains("+Infinite  loop in ruleset Loopy, rule 1"))
    }

    @Test("a hanging binary is stopped by the timeout")
    func hangingBinaryTimesOut() throws {
        let prepared = try Workspace.shared.prepare(.errors)
        let fake = try writeScript("hang.sh", "#!/bin/sh\necho started\nsleep 60\necho never")
        var options = SandboxOptions(etcMail: prepared.etcMail)
        options.timeoutSeconds = 2
        let start = Date()
        let r = try Sandbox.run(binary: fake, cf: prepared.cfPath, input: [], options: options,
                                runDir: Workspace.shared.runs, tag: "selftest.hang")
        #expect(r.timedOut, "status \(r.status)")
        #expect(Date().timeIntervalSince(start) < 15)
        #expect(String(decoding: r.stdout, as: UTF8.self) == "started\n")
    }

    private func writeScript(_ name: String, _ text: String) throws -> String {
        let dir = Workspace.shared.root.appendingPathComponent("fakes")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try (text + "\n").write(to: url, atomically: true, encoding: .utf8)
        chmod(url.path, 0o755)
        return url.path
    }
}

@Suite("Harness units: diff and generator")
struct HarnessUnitTests {
    @Test func equalTranscriptsHaveNoDiff() {
        #expect(TranscriptDiff.firstDifferences(expected: Array("a\nb\n".utf8), actual: Array("a\nb\n".utf8)) == nil)
    }

    @Test func diffShowsFirstDifferenceWithContext() throws {
        let a = Array((1...50).map { "line \($0)\n" }.joined().utf8)
        let b = Array((1...50).map { $0 == 20 ? "LINE 20\n" : "line \($0)\n" }.joined().utf8)
        let d = try #require(TranscriptDiff.firstDifferences(expected: a, actual: b))
        #expect(d.contains("@@ -17,"))
        #expect(d.contains("-line 20\n+LINE 20"))
        #expect(d.contains(" line 19"))
        #expect(!d.contains("line 40"))
    }

    @Test func diffRendersInvisibleBytes() throws {
        let d = try #require(TranscriptDiff.firstDifferences(expected: [0x61, 0x00, 0x0A], actual: [0x61, 0xE9, 0x0D, 0x0A]))
        #expect(d.contains("-a\\x00"))
        #expect(d.contains("+a\\xE9\\x0D"))
        let n = try #require(TranscriptDiff.firstDifferences(expected: Array("x\n".utf8), actual: Array("x".utf8)))
        #expect(n.contains("no newline"))
    }

    @Test func generatorIsDeterministicAndCoversEveryForm() {
        let one = AddressGenerator.addresses(seed: 42, count: 1000)
        #expect(one == AddressGenerator.addresses(seed: 42, count: 1000))
        #expect(one != AddressGenerator.addresses(seed: 43, count: 1000))
        #expect(one.count == 1000)
        #expect(one.allSatisfy { !$0.contains(0x0A) && !$0.contains(0x00) })
        #expect(one.contains { $0.contains(where: { $0 >= 0x80 }) }, "no 8-bit address")
        #expect(one.contains { $0.count > 1000 }, "no overlong address")
        for marker in ["<@", "%", "!", "(", "\"", ":", ";", "<>", "[IPv6:", "[1"] {
            #expect(one.contains { String(decoding: $0, as: UTF8.self).contains(marker) }, "no address with \(marker)")
        }
    }

    @Test func scriptsStayBounded() throws {
        for c in Cases.all {
            if case .inspect = c.script { continue }
            if case .fixture = c.script { continue }
            let s = try c.buildScript(prepared: PreparedConfiguration(cfPath: "/dev/null", etcMail: ""))
            #expect(s.lineCount > 0 && s.lineCount <= BTScript.maxLines, "\(c.name): \(s.lineCount) lines")
        }
    }
}
