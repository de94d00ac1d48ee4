// CompatTests.swift — the check_compat ruleset at delivery, against the
// real sendmail.
//
// The deliver fixture (DeliverTests' deliver.cf and dump-mailer.sh) gets
// a check_compat ruleset: `$#error` with and without `$@`, a 4xx reply,
// `$#discard` (also of one member of an F=m local mailer's group), and a
// map that cannot answer (a dns map with no name server).  The same
// messages are delivered by each binary at submission (-odi, -v, a local
// and a remote sender) and by queue runs (-q -v, -qf) of a queue the
// real sendmail wrote; stdout, stderr, exit status, every mailer call,
// ~/dead.letter, the bounce, the queue left and the syslog lines
// (`ruleset=check_compat, arg1=, arg2=, relay=, reject=`/`discard`, the
// failed recipient's to= line) must be identical.  Fails (never skips)
// when a prerequisite is missing.

import Foundation
import Testing

@Suite("check_compat at delivery: identical to sendmail's")
struct CompatTests {
    static let rules = """
        Kdnsx dns -R A
        Scheck_compat
        R$* $| daemon\t$#discard $: x
        R$* $| $* @ dnstmp\t$: $(dnsx foo.example $)
        R$* $| $* @ rej\t$#error $@ 5.7.1 $: 553 compat rejects $2
        R$* $| $* @ rejnocode\t$#error $: Rejected by compat
        R$* $| $* @ tmp\t$#error $@ 4.3.0 $: 451 try later for $2
        R$* $| $* @ disc\t$#discard $: discard

        """

    static let recipients = ["a@rej", "b@rejnocode", "c@tmp", "d@disc", "e@fine", "root", "daemon", "bin", "z@dnstmp"]

    /// The fixture with the rules above in a cf of its own.
    static func prepare(_ name: String) throws -> (cf: String, dir: String) {
        guard getuid() == 0 else { throw HarnessError("CompatTests need root (mailers run as their users)") }
        let (cf, d) = try DeliverTests.prepareScratch(name)
        let compatCf = d + "/compat.cf"
        try (String(contentsOfFile: cf, encoding: .isoLatin1) + Self.rules)
            .write(toFile: compatCf, atomically: true, encoding: .isoLatin1)
        var options = SandboxOptions()
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: compatCf, input: [], options: options,
                            runDir: Workspace.shared.runs, tag: "\(name).newaliases")
        return (compatCf, d)
    }

    static let message = Array("Subject: t\n\nhello\n".utf8)

    @Test("at submission", arguments: [["-odi", "-v", "-f", "root"], ["-odi", "-f", "root"], ["-odi", "-f", "s@okhost"]])
    func submission(_ flags: [String]) throws {
        let name = "compat-sub" + flags.joined().filter { $0.isLetter }
        let (cf, d) = try Self.prepare(name)
        LogTests.ensureDevLog()
        var options = SandboxOptions()
        options.modeFlag = "-bm"
        options.rootHome = d + "/home"
        options.extraArguments = ["-oi", "-OLogLevel=9"] + flags + Self.recipients
        var results: [OwnerTests.Result] = []
        for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try SubmitDeliveryTests.freshDirectories(d)
            let collector = try DatagramCollector(path: d + "/log-\(tag).sock")
            collector.startDraining()
            options.devLog = collector.path
            let r = try Sandbox.run(binary: binary, cf: cf, input: Self.message, options: options,
                                    runDir: Workspace.shared.runs, tag: "\(name).\(tag)")
            results.append(try OwnerTests.result(d, r, log: OwnerTests.logLines(collector)))
        }
        OwnerTests.compare(results[0], results[1], name)
        Self.sanity(results[0])
    }

    @Test("in a queue run", arguments: [["-v"], ["-qf"]])
    func queueRun(_ flags: [String]) throws {
        let name = "compat-run" + flags.joined().filter { $0.isLetter }
        let (cf, d) = try Self.prepare(name)
        LogTests.ensureDevLog()
        try SubmitDeliveryTests.freshDirectories(d)
        var options = SandboxOptions()
        options.rootHome = d + "/home"
        options.modeFlag = "-odq"
        options.extraArguments = ["-oi", "-f", "s@okhost"] + Self.recipients
        let s = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: Self.message, options: options,
                                runDir: Workspace.shared.runs, tag: "\(name).queue")
        #expect(s.status == 0, "not queued: \(String(decoding: s.stdout + s.stderr, as: UTF8.self))")
        let results = try OwnerTests.runQueueBoth(d, cf: cf, options: options, arguments: flags, tag: name)
        OwnerTests.compare(results[0], results[1], name)
        Self.sanity(results[0])
    }

    /// The oracle's run did what the case is about.
    static func sanity(_ real: OwnerTests.Result) {
        for text in ["ruleset=check_compat, arg1=", "reject=553 5.7.1 a@rej... compat rejects a", "arg2=daemon, relay=",
                     "stat=Data format error"] {
            #expect(real.log.contains { $0.contains(text) }, "the oracle did not log \"\(text)\": \(real.log)")
        }
    }
}
