// UUCPTests.swift — delivery through the UUCP mailers (uucp-old, uucp-new,
// uucp-dom, uucp-uudom) with the real sendmail and ours on the same cf
// (built from sendmail's m4 library and from ours), through contrib/uux,
// the stub that records each call: the uux argument vectors, in call
// order, and the message bytes each call got must be the same (queue
// IDs and dates normalised), and so must the binaries' output, exit
// status and the queue left behind (empty), at submission (-odi, -v) and
// in a foreground queue run (-qf) after -odq.

import Foundation
import Testing

@Suite("UUCP mailers: uux calls identical to sendmail's", .serialized)
struct UUCPTests {
    static let configs = [
        Configuration(name: "uucp-deliver", source: .mc("mc/uucp-deliver.mc"), copiedFiles: ["aliases"]),
        Configuration(name: "ours-uucp-deliver", source: .ourLibraryMC("Tests/Fixtures/oracle/mc/uucp-deliver.mc"),
                      copiedFiles: ["aliases"]),
    ]

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var recipients: [String]
        /// Extra flags before the recipients (-v).
        var flags: [String] = []
        /// Queue with -odq, then deliver with a foreground queue run (-qf).
        var queueRun = false
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "old-bang", recipients: ["oldhost!user"]),
        Case(name: "old-domain", recipients: ["user@oldhost.UUCP"]),
        Case(name: "old-two", recipients: ["oldhost!a", "oldhost!b"]),
        Case(name: "new-two", recipients: ["newhost!a", "b@newhost.UUCP"]),
        Case(name: "new-path", recipients: ["newhost!far!away!user"]),
        Case(name: "uudom", recipients: ["udhost!user", "udhost!other.example!x"]),
        Case(name: "dom", recipients: ["domhost!user", "c@domhost.UUCP"]),
        Case(name: "mixed", recipients: ["oldhost!a", "newhost!b", "udhost!c", "domhost!d"]),
        Case(name: "verbose", recipients: ["oldhost!a", "newhost!b"], flags: ["-v"]),
        Case(name: "queue-run", recipients: ["oldhost!a", "newhost!b", "c@domhost.UUCP", "udhost!d"], queueRun: true),
    ]

    static let message = Array("""
        From: Alice <alice@vm.example.test>
        To: someone
        Subject: uucp test
        Date: Mon, 30 Nov 2026 01:02:03 +0000
        Message-Id: <uucp-test@vm.example.test>

        Line one.
        From the start of a line.

        """.utf8)

    /// Scratch: the stub as @SCRATCH@/uux, an empty uux-calls/ (1777) and q/.
    func prepare(_ config: Configuration) throws -> (cf: String, dir: String) {
        let p = try Workspace.shared.prepare(config)
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent().path
        let stub = OracleEnvironment.packageRoot.appendingPathComponent("contrib/uux").path
        guard FileManager.default.isExecutableFile(atPath: stub) else {
            throw HarnessError("\(stub) is missing or not executable: the uux stub the UUCP tests deliver through")
        }
        try DeliverTests.shell("cp '\(stub)' '\(dir)/uux' && chmod 755 '\(dir)/uux'")
        return (p.cfPath, dir)
    }

    func fresh(_ dir: String) throws {
        try DeliverTests.shell("rm -rf '\(dir)/uux-calls' '\(dir)/q' && mkdir -m 1777 '\(dir)/uux-calls' && mkdir -m 700 '\(dir)/q'")
    }

    static func normalise(_ text: String) -> String {
        var t = text
        for (pattern, replacement) in [
            (#"[0-9A-Za-z]{8}[0-9]{6}"#, "<id>"),
            (#"[A-Z][a-z]{2}, [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [-+A-Z0-9]+"#, "<date>"),
            (#"[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [0-9]{4}"#, "<ctime>"),
        ] {
            t = t.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return t
    }

    /// The recorded calls in order: argv (the stub's path dropped) and input.
    func calls(_ dir: String) throws -> [String] {
        let d = dir + "/uux-calls"
        let names = try FileManager.default.contentsOfDirectory(atPath: d).filter { $0.hasSuffix(".argv") }.sorted()
        return try names.map { name in
            let argv = try String(contentsOfFile: d + "/" + name, encoding: .isoLatin1)
                .split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n")
            let input = try String(contentsOfFile: d + "/" + name.dropLast(5) + ".in", encoding: .isoLatin1)
            return "argv:\n" + argv + "input:\n" + Self.normalise(input)
        }
    }

    @Test("uux argv and message bytes", arguments: UUCPTests.configs, UUCPTests.cases)
    func deliver(_ config: Configuration, _ c: Case) throws {
        let (cf, dir) = try prepare(config)
        var options = SandboxOptions()
        options.modeFlag = c.queueRun ? "-odq" : "-odi"
        options.rootHome = dir
        options.extraArguments = ["-f", "alice"] + c.flags + c.recipients
        let runs = Workspace.shared.runs
        let tag = "\(config.name)-\(c.name)"
        /// Submits (and for queue-run cases runs the queue) with one binary.
        func run(_ binary: String, _ side: String) throws -> RunResult {
            var r = try Sandbox.run(binary: binary, cf: cf, input: Self.message,
                                    options: options, runDir: runs, tag: "\(tag).\(side)")
            if c.queueRun {
                #expect(try calls(dir).isEmpty, "\(side): -odq called uux")
                var q = SandboxOptions()
                q.modeFlag = "-qf"
                q.rootHome = dir
                let qr = try Sandbox.run(binary: binary, cf: cf, input: [], options: q, runDir: runs,
                                         tag: "\(tag).q.\(side)")
                r.stdout += qr.stdout
                r.stderr += qr.stderr
                r.status = r.status * 256 + qr.status
            }
            return r
        }
        try fresh(dir)
        let real = try run(OracleEnvironment.oraclePath, "oracle")
        let realCalls = try calls(dir)
        let realQueue = try Sandbox.queueEntries(dir + "/q")
        try fresh(dir)
        let ours = try run(try OracleEnvironment.binaryUnderTest(), "ours")
        let ourCalls = try calls(dir)
        let ourQueue = try Sandbox.queueEntries(dir + "/q")
        // kept for debugging, next to the runs' output
        try Data(realCalls.joined(separator: "\n====\n").utf8).write(to: runs.appendingPathComponent(tag + ".oracle.uux"))
        try Data(ourCalls.joined(separator: "\n====\n").utf8).write(to: runs.appendingPathComponent(tag + ".ours.uux"))
        #expect(!realCalls.isEmpty, "sendmail did not call uux: \(String(decoding: real.stderr, as: UTF8.self))")
        #expect(realQueue.isEmpty, "sendmail left \(realQueue) queued")
        #expect(ourCalls == realCalls)
        #expect(ourQueue.count == realQueue.count)
        expectSameRun(ours, real)
    }
}
