// ModeTests.swift — modes other than -bt against the oracle: newaliases
// (-bi: messages, statistics and the database written) and verify (-bv).
//
// Promises: each test runs the real sendmail and ours in the same sandbox on
// the same files and requires identical stdout, stderr and exit status; for
// -bi also the same database contents (dumped by the real makemap -u).
// Fails (never skips) when a prerequisite is missing.

import Foundation
import Testing

@Suite("Modes other than -bt: identical to sendmail")
struct ModeTests {
    /// Each test has its own scratch directory: they run in parallel.
    static let config = Configuration(name: "aliases", source: .cf("cf/aliases.cf"))
    static let verifyNoDBConfig = Configuration(name: "aliases-nodb", source: .cf("cf/aliases.cf"))

    func prepare(_ config: Configuration = ModeTests.config) throws -> PreparedConfiguration {
        let p = try Workspace.shared.prepare(config)
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let text = try Data(contentsOf: URL(fileURLWithPath: OracleEnvironment.fixture("aliases/aliases")))
        try text.write(to: dir.appendingPathComponent("aliases"))
        return p
    }

    func dump(_ db: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: OracleEnvironment.makemapPath)
        p.arguments = ["-u", "hash", db]
        let o = Pipe()
        p.standardOutput = o
        p.standardError = o
        try p.run()
        let data = o.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test("newaliases: messages, statistics and database")
    func newaliases() throws {
        let p = try prepare()
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let db = dir.appendingPathComponent("aliases").path
        var options = SandboxOptions()
        options.modeFlag = "-bi"
        let runs = Workspace.shared.runs
        let real = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: p.cfPath, input: [],
                                   options: options, runDir: runs, tag: "newaliases.oracle")
        let realDump = try dump(db)
        try? FileManager.default.removeItem(atPath: db + ".db")
        let ours = try Sandbox.run(binary: try OracleEnvironment.binaryUnderTest(), cf: p.cfPath, input: [],
                                   options: options, runDir: runs, tag: "newaliases.ours")
        let oursDump = try dump(db)
        #expect(String(decoding: ours.stdout, as: UTF8.self) == String(decoding: real.stdout, as: UTF8.self))
        #expect(String(decoding: ours.stderr, as: UTF8.self) == String(decoding: real.stderr, as: UTF8.self))
        #expect(ours.status == real.status)
        #expect(oursDump == realDump)
        #expect(realDump.contains("@\t@"), "the sentinel entry is missing: \(realDump)")
    }

    /// Runs -bv with both binaries on the same arguments and files.
    func compareVerify(_ p: PreparedConfiguration, _ args: [String], tag: String,
                       verbose: Bool = false) throws {
        var options = SandboxOptions()
        options.modeFlag = "-bv"
        options.extraArguments = (verbose ? ["-v"] : []) + args
        let (real, ours) = try Sandbox.runBoth(cf: p.cfPath, options: options, tag: tag)
        expectSameRun(ours, real)
    }

    /// The alias database, built by the real sendmail's newaliases.
    func prepareWithDatabase(_ name: String) throws -> PreparedConfiguration {
        let p = try prepare(Configuration(name: name, source: .cf("cf/aliases.cf")))
        var options = SandboxOptions()
        options.modeFlag = "-bi"
        let r = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: p.cfPath, input: [],
                                options: options, runDir: Workspace.shared.runs, tag: "verify-newaliases.oracle")
        let db = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent().appendingPathComponent("aliases.db")
        #expect(FileManager.default.fileExists(atPath: db.path),
                "newaliases wrote no database (status \(r.status)): \(String(decoding: r.stdout, as: UTF8.self))")
        return p
    }

    static let verifyArguments = ["root", "nosuchuserx", "a<1>", "a<3>", "\"|/bin/x\"", "/srv/f",
                                  ":include:/srv/x", "b<2>", "root, nosuchuserx", "root", "x@remote.example",
                                  "<>", "x y", "daemon"]

    @Test("verify: -bv with aliases, errors, programs, files and duplicates")
    func verify() throws {
        try compareVerify(try prepareWithDatabase("aliases-verify"), Self.verifyArguments, tag: "verify")
    }

    @Test("verify: -bv -d21.2 traces every ruleset call, as sendmail prints it")
    func verifyTraced() throws {
        try compareVerify(try prepareWithDatabase("aliases-verify-d21"), ["-d21.2"] + Self.verifyArguments,
                          tag: "verify-d21")
    }

    @Test("verify: -bv -v shows alias, :include: and duplicate handling")
    func verifyVerbose() throws {
        try compareVerify(try prepareWithDatabase("aliases-verbose"),
                          ["root", "list", "daemon", "daemon", "nobody", "Daemon", "postmaster", "ALLCAPS",
                           "daemon, bin, sys", "prog", "multi", "owner-list"],
                          tag: "verify-v", verbose: true)
    }

    /// MatchGECOS: list's full name is "Mailing List Manager" in Debian's
    /// password file; a match goes back through aliasing ("list" is an alias
    /// here), -v says "sending to login name".
    @Test("verify: MatchGECOS finds users by full name", arguments: [false, true])
    func verifyGECOS(verbose: Bool) throws {
        let p = try prepareWithDatabase("aliases-gecos-\(verbose)")
        try compareVerify(p,
                          ["-OMatchGECOS=true", "Mailing_List_Manager", "mailing list manager", "Mailing.List.Manager",
                           "Mailing_List", "Mailing_list_manager, list", "nobody_", "NOBODY"],
                          tag: "verify-gecos-\(verbose)", verbose: verbose)
        try compareVerify(p, ["Mailing_List_Manager"],
                          tag: "verify-nogecos-\(verbose)", verbose: verbose)
    }

    /// Bad command lines: getopt's complaints (stderr), bad -h, -q times,
    /// delivery modes and -B values, "--" prefixes, bare -q/-C.
    static let badCommandLines: [[String]] = [
        ["-Z"], ["-C"], ["-h"], ["-h", "3x"], ["-h", "root"], ["-q", "nosuchuser"], ["-qZ"], ["-q1x"], ["-qp1x"],
        ["-q5m3", "-bp"], ["-qI", "-q", "-bp"], ["-odx", "root"], ["-ODeliveryMode=x", "root"],
        ["--x", "-odq", "nosuchuser"], ["--help", "-odq", "root"], ["-B9BIT", "-odq", "nosuchuser"],
        ["-B9BIT", "-odq", "root"], ["-N", "bogus", "root"], ["-bZ"], ["-oeq", "-odq", "nosuchuser"],
    ]

    @Test("command-line errors: messages, streams and exit codes", arguments: badCommandLines)
    func badCommandLine(_ args: [String]) throws {
        let tag = "cmdline-" + args.joined(separator: "_").replacingOccurrences(of: "/", with: "")
        // one configuration per case: the cases run in parallel and newaliases rewrites the database
        let p = try prepareWithDatabase("aliases-" + tag)
        let home = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent().appendingPathComponent("home")
        try? FileManager.default.removeItem(at: home)
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        var options = SandboxOptions()
        options.modeFlag = "-bm"
        options.rootHome = home.path
        options.extraArguments = args
        let (real, ours) = try Sandbox.runBoth(cf: p.cfPath, input: Array("Subject: x\n\nbody\n".utf8), options: options,
                                               tag: tag)
        func norm(_ b: [UInt8]) -> String {
            String(decoding: b, as: UTF8.self).replacingOccurrences(
                of: #"^\S*sendmail: "#, with: "ARGV0: ", options: .regularExpression)
        }
        #expect(norm(ours.stderr) == norm(real.stderr))
        #expect(ours.stdout == real.stdout)
        #expect(ours.status == real.status)
    }

    @Test("verify: host order of the send queue, and a list taken in reverse")
    func verifyOrder() throws {
        try compareVerify(try prepareWithDatabase("aliases-order"),
                          ["daemon, bin, sys", "a<3>", "bin", "sys, mail", "nosuch1, nosuch2", "back"],
                          tag: "verify-order")
    }

    @Test("verify: without a database the alias text is read, with its messages")
    func verifyWithoutDatabase() throws {
        try compareVerify(try prepare(Self.verifyNoDBConfig), ["root", "daemon", "postmaster", "multi", "bad<"],
                          tag: "verify-nodb")
    }

    /// A queue directory holding the recorded qf files of
    /// Tests/Fixtures/queue (made by the real sendmail) with df files of the
    /// recorded sizes (and our spare files); one entry is held locked while
    /// both binaries list it.
    @Test("mailq (-bp, -bp -v): the recorded queue listed as sendmail lists it")
    func mailq() throws {
        let p = try prepare(Configuration(name: "mailq", source: .cf("cf/aliases.cf")))
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let queue = dir.appendingPathComponent("mqueue")
        try? FileManager.default.removeItem(at: queue)
        try FileManager.default.createDirectory(at: queue, withIntermediateDirectories: true)
        let fixtures = URL(fileURLWithPath: OracleEnvironment.fixture("../queue"))
        var ids: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: fixtures.path).sorted()
        where name.hasPrefix("qf") && !name.hasSuffix(".dfsize") {
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name),
                                             to: queue.appendingPathComponent(name))
            let size = Int(try String(contentsOf: fixtures.appendingPathComponent(name + ".dfsize"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            let id = String(name.dropFirst(2))
            try Data(repeating: 0x61, count: size).write(to: queue.appendingPathComponent("df" + id))
            ids.append(id)
        }
        #expect(ids.count >= 4, "the recorded queue fixtures are missing")
        try Self.addSpares(queue)
        // a job another process is working on
        let lockFD = open(queue.appendingPathComponent("qf" + ids[0]).path, O_RDONLY)
        #expect(lockFD >= 0)
        #expect(flock(lockFD, LOCK_EX) == 0)
        defer { close(lockFD) }
        for verbose in [false, true] {
            var options = SandboxOptions()
            options.modeFlag = "-bp"
            options.extraArguments = ["-OQueueDirectory=\(queue.path)"] + (verbose ? ["-v"] : [])
            let runs = Workspace.shared.runs
            let tag = verbose ? "mailq-v" : "mailq"
            let real = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: p.cfPath, input: [],
                                       options: options, runDir: runs, tag: "\(tag).oracle")
            let ours = try Sandbox.run(binary: try OracleEnvironment.binaryUnderTest(), cf: p.cfPath, input: [],
                                       options: options, runDir: runs, tag: "\(tag).ours")
            let realText = String(decoding: real.stdout, as: UTF8.self)
            #expect(realText.contains("Total requests: \(ids.count)"), "unexpected oracle listing: \(realText)")
            #expect(realText.contains(ids[0] + "*"), "the locked entry is not marked: \(realText)")
            #expect(String(decoding: ours.stdout, as: UTF8.self) == realText)
            #expect(String(decoding: ours.stderr, as: UTF8.self) == String(decoding: real.stderr, as: UTF8.self))
            #expect(ours.status == real.status)
        }
    }

    /// What our queue holds besides queue files (SMEngine/QueueSpares.swift):
    /// empty spares, and a control file a crash left while it was being
    /// emptied.  Both binaries must list the queue as if they were not there.
    static func addSpares(_ queue: URL) throws {
        try Data().write(to: queue.appendingPathComponent(".spare0"))
        try Data().write(to: queue.appendingPathComponent(".spare17"))
        try Data("V8\nT1\nK0\nN0\nP30000\nMDeferred\nFsenderprecheck\nS<sender@example.com>\nRPFD:<nobody@example.com>\n.\n".utf8)
            .write(to: queue.appendingPathComponent(".retire4242-3"))
    }

    @Test("mailq: an empty queue (holding only our spare files)")
    func mailqEmpty() throws {
        let p = try prepare(Configuration(name: "mailq-empty", source: .cf("cf/aliases.cf")))
        let queue = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent().appendingPathComponent("mqueue")
        try? FileManager.default.removeItem(at: queue)
        try FileManager.default.createDirectory(at: queue, withIntermediateDirectories: true)
        try Self.addSpares(queue)
        var options = SandboxOptions()
        options.modeFlag = "-bp"
        options.extraArguments = ["-OQueueDirectory=\(queue.path)"]
        let (real, ours) = try Sandbox.runBoth(cf: p.cfPath, options: options, tag: "mailq-empty")
        #expect(String(decoding: real.stdout, as: UTF8.self).contains("is empty"))
        expectSameRun(ours, real)
    }

    /// -bO (the option table), -bP (queue counts from shared memory, which
    /// neither keeps here), -bh/-bH without a host status directory and with
    /// an empty one: identical output and status.
    @Test("-bO, -bP, hoststat and purgestat without status files", arguments: [
        ["-bO"], ["-bP"], ["-bh"], ["-bH"], ["-bh", "-OHostStatusDirectory=@HS@"], ["-bH", "-OHostStatusDirectory=@HS@"],
    ])
    func smallModes(_ args: [String]) throws {
        let p = try prepare(Configuration(name: "small-modes", source: .cf("cf/aliases.cf")))
        let hs = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent().appendingPathComponent("hoststat")
        try FileManager.default.createDirectory(at: hs, withIntermediateDirectories: true)
        var options = SandboxOptions()
        options.modeFlag = args[0]
        options.extraArguments = args.dropFirst().map { $0.replacingOccurrences(of: "@HS@", with: hs.path) }
        let tag = "small" + args.joined().filter { $0.isLetter }
        let (real, ours) = try Sandbox.runBoth(cf: p.cfPath, options: options, tag: tag)
        if args == ["-bO"] { #expect(String(decoding: real.stdout, as: UTF8.self).contains("QueueDirectory\n")) }
        expectSameRun(ours, real)
    }

    /// contrib/install.sh lays out the binaries and the argv[0] links; the
    /// installed `mailq` and `newaliases` links behave as `sendmail -bp` and
    /// `-bi` do (compared with the real sendmail run the same way).
    @Test("install.sh: mailq and newaliases links work like the real ones")
    func installedLinks() throws {
        let p = try prepare(Configuration(name: "install", source: .cf("cf/aliases.cf")))
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let stage = dir.appendingPathComponent("stage")
        try? FileManager.default.removeItem(at: stage)
        let ours = URL(fileURLWithPath: try OracleEnvironment.binaryUnderTest()).deletingLastPathComponent()
        let script = OracleEnvironment.fixture("../../../contrib/install.sh")
        let proc = Process()
        proc.executableURL = URL(fileURLWithPath: "/bin/bash")
        proc.arguments = [script]
        proc.environment = ["PATH": "/usr/bin:/bin", "DESTDIR": stage.path, "PREFIX": "/usr",
                            "BUILD_DIR": ours.path, "NO_BUILD": "1"]
        try proc.run()
        proc.waitUntilExit()
        #expect(proc.terminationStatus == 0, "install.sh failed")
        let fm = FileManager.default
        for (link, target) in [("usr/sbin/newaliases", "sendmail"), ("usr/bin/mailq", "../sbin/sendmail"),
                               ("usr/bin/hoststat", "../sbin/sendmail"), ("usr/bin/purgestat", "../sbin/sendmail")] {
            #expect((try? fm.destinationOfSymbolicLink(atPath: stage.appendingPathComponent(link).path)) == target, "\(link)")
        }
        for f in ["usr/sbin/sendmail", "usr/sbin/makemap", "usr/sbin/praliases", "usr/sbin/mailstats",
                  "usr/libexec/sendmail-swift/mail.local", "usr/libexec/sendmail-swift/smrsh"] {
            #expect(fm.isExecutableFile(atPath: stage.appendingPathComponent(f).path), "\(f)")
        }
        // the links, run by name, against the real sendmail's modes
        let queue = dir.appendingPathComponent("mqueue")
        try? fm.removeItem(at: queue)
        try fm.createDirectory(at: queue, withIntermediateDirectories: true)
        let text = try Data(contentsOf: URL(fileURLWithPath: OracleEnvironment.fixture("aliases/aliases")))
        try text.write(to: dir.appendingPathComponent("aliases"))
        let runs = Workspace.shared.runs
        for (link, mode) in [("usr/bin/mailq", "-bp"), ("usr/sbin/newaliases", "-bi")] {
            var realOptions = SandboxOptions()
            realOptions.modeFlag = mode
            realOptions.extraArguments = ["-OQueueDirectory=\(queue.path)"]
            var linkOptions = SandboxOptions()
            linkOptions.modeFlag = "-OQueueDirectory=\(queue.path)"
            let tag = "install-" + (link as NSString).lastPathComponent
            let real = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: p.cfPath, input: [],
                                       options: realOptions, runDir: runs, tag: "\(tag).oracle")
            let viaLink = try Sandbox.run(binary: stage.appendingPathComponent(link).path, cf: p.cfPath, input: [],
                                          options: linkOptions, runDir: runs, tag: "\(tag).ours")
            #expect(String(decoding: viaLink.stdout, as: UTF8.self) == String(decoding: real.stdout, as: UTF8.self), "\(link)")
            #expect(viaLink.status == real.status, "\(link)")
        }
    }

    /// hoststat on status files of every kind (recorded reply, errno,
    /// sysexits code, OK, a long text cut at 79 bytes).  The "How long ago"
    /// column moves with the clock, so a run is retried when a second
    /// boundary falls between the two binaries.
    @Test("hoststat lists host status files as sendmail does")
    func hoststatListing() throws {
        let p = try prepare(Configuration(name: "hoststat", source: .cf("cf/aliases.cf")))
        let hs = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent().appendingPathComponent("hoststat")
        try? FileManager.default.removeItem(at: hs)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: OracleEnvironment.fixture("hoststat/tree")), to: hs)
        var options = SandboxOptions()
        options.modeFlag = "-bh"
        options.extraArguments = ["-OHostStatusDirectory=\(hs.path)"]
        let runs = Workspace.shared.runs
        var same = false
        var last = ("", "")
        for _ in 0..<3 where !same {
            let real = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: p.cfPath, input: [],
                                       options: options, runDir: runs, tag: "hoststat.oracle")
            let ours = try Sandbox.run(binary: try OracleEnvironment.binaryUnderTest(), cf: p.cfPath, input: [],
                                       options: options, runDir: runs, tag: "hoststat.ours")
            last = (String(decoding: ours.stdout, as: UTF8.self), String(decoding: real.stdout, as: UTF8.self))
            same = last.0 == last.1 && ours.status == real.status && ours.stderr == real.stderr
        }
        #expect(last.1.contains("Deferred: Connection refu\n"), "unexpected oracle listing: \(last.1)")
        #expect(same, "ours:\n\(last.0)\nsendmail:\n\(last.1)")
    }
}
