// SubmitTests.swift — command-line submission into the queue (-odq)
// against the real sendmail.
//
// Promises: each differential case runs the real sendmail and ours on the
// same configuration (Fixtures/oracle/cf/submit.cf, aliases
// Fixtures/oracle/aliases/submit-aliases), the same arguments and the same
// stdin, each into its own empty queue directory, and requires identical
// stdout, stderr and exit status, the same set of queue files with the
// same modes, identical df bytes, and identical qf files once the queue
// ID, the T line and the times in Date:/Received:/Message-Id: are
// normalised.  The interchange test lists the queue we wrote with the
// real sendmail's -bp and ours.  The durability tests check that a
// failing queue leaves no qf (nor df) and never exits 0.  Fails (never
// skips) when a prerequisite is missing.

import Foundation
import Testing

@Suite("Command-line submission into the queue: identical to sendmail")
struct SubmitTests {
    struct QueueSnapshot: Equatable, CustomStringConvertible {
        /// kind ("df", "qf", ...) -> (mode, normalised bytes as text)
        var files: [String: String] = [:]
        var id: String? = nil
        var description: String { files.keys.sorted().map { "== \($0)\n\(files[$0]!)" }.joined(separator: "\n") }
    }

    static let config = Configuration(name: "submit", source: .cf("cf/submit.cf"))

    func prepare() throws -> (cf: String, dir: URL) { try Self.prepareWithAliases(Self.config) }

    /// A configuration with the submit-aliases fixture (and the :include:
    /// list it names) in its scratch directory; shared by the suites that
    /// submit messages.
    static func prepareWithAliases(_ config: Configuration) throws -> (cf: String, dir: URL) {
        let p = try Workspace.shared.prepare(config)
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let aliases = dir.appendingPathComponent("submit-aliases")
        let text = try String(contentsOfFile: OracleEnvironment.fixture("aliases/submit-aliases"), encoding: .utf8)
        // (rewritten only when different: a binary of a test running in
        // parallel may have it open, and sendmail refuses a file that
        // changed after it opened it)
        let content = text.replacingOccurrences(of: "@SCRATCH@", with: dir.path)
        if (try? String(contentsOf: aliases, encoding: .utf8)) != content {
            try content.write(to: aliases, atomically: true, encoding: .utf8)
        }
        // an :include: list owned by root, mode 644
        let team = dir.appendingPathComponent("team.list")
        if (try? String(contentsOf: team, encoding: .utf8)) != "root\ndaemon\nbin, nobody\n" {
            try "root\ndaemon\nbin, nobody\n".write(to: team, atomically: true, encoding: .utf8)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: team.path)
        return (p.cfPath, dir)
    }

    func freshQueue(_ dir: URL, _ name: String) throws -> URL { try Faults.freshDirectory(dir, name) }

    /// The queue's files, normalised: the ID, creation time and dates.
    func snapshot(_ q: URL, id: String?? = nil) throws -> QueueSnapshot {
        var s = QueueSnapshot()
        let names = try Sandbox.queueEntries(q.path).sorted()
        s.id = id ?? names.first.map { String($0.dropFirst(2)) }
        for name in names {
            let path = q.appendingPathComponent(name).path
            let attrs = try FileManager.default.attributesOfItem(atPath: path)
            let mode = String((attrs[.posixPermissions] as? Int) ?? 0, radix: 8)
            var text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
            if let id = s.id {
                text = text.replacingOccurrences(of: id, with: "QID")
            }
            // IDs of messages that were not queued (in ~/dead.letter)
            text = text.replacingOccurrences(of: #"(id |\.)[0-9A-Za-z]{8}[0-9]{6,}"#, with: "$1QID",
                                             options: .regularExpression)
            text = text.replacingOccurrences(of: #"(?m)^T[0-9]+$"#, with: "T<time>", options: .regularExpression)
            // a delivery attempt's time (K0, none, stays as it is)
            text = text.replacingOccurrences(of: #"(?m)^K[1-9][0-9]*$"#, with: "K<time>", options: .regularExpression)
            text = text.replacingOccurrences(
                of: #"[A-Z][a-z]{2}, [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT"#,
                with: "<date>", options: .regularExpression)
            text = text.replacingOccurrences(of: #"<[0-9]{12}\.QID@"#, with: "<<t>.QID@", options: .regularExpression)
            // the ctime date of a From_ line
            text = text.replacingOccurrences(of: #"[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [0-9]{4}"#,
                                             with: "<ctime>", options: .regularExpression)
            s.files[String(name.prefix(2)) + " " + mode] = text
        }
        return s
    }

    /// Runs both binaries into their own queues; compares everything.
    @discardableResult
    func compare(_ args: [String], input: String, tag: String, expectQueued: Bool = true,
                 uid: Int? = nil, debian: Bool = false, cfAppend: String? = nil) throws -> (real: URL, ours: URL) {
        try compare(args, input: Array(input.utf8), tag: tag, expectQueued: expectQueued, uid: uid, debian: debian,
                    cfAppend: cfAppend)
    }

    /// Debian's own sendmail.cf (from its sendmail.mc) with an /etc/mail
    /// holding the fixture files and a small aliases file.
    func prepareDebian() throws -> (cf: String, dir: URL, etcMail: String) {
        let p = try Workspace.shared.prepare(Configuration.debianSendmail)
        let dir = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent()
        let etc = dir.appendingPathComponent("etc-mail-submit")
        try? FileManager.default.removeItem(at: etc)
        try FileManager.default.copyItem(atPath: p.etcMail, toPath: etc.path)
        try "postmaster: root\nstaff: root, daemon, bin\nMAILER-DAEMON: postmaster\n"
            .write(to: etc.appendingPathComponent("aliases"), atomically: true, encoding: .utf8)
        return (p.cfPath, dir, etc.path)
    }

    /// `uid`: run both binaries as that user (queues owned by it).
    /// `debian`: use Debian's sendmail.cf instead of submit.cf.
    @discardableResult
    /// `cfAppend`: lines added at the end of submit.cf (a variant of it
    /// named after the tag).
    /// `compareLogs`: the syslog lines of both runs too (normalised as
    /// DaemonTests normalises them).
    func compare(_ args: [String], input: [UInt8], tag: String, expectQueued: Bool = true,
                 uid: Int? = nil, debian: Bool = false, cfAppend: String? = nil,
                 compareLogs: Bool = false) throws -> (real: URL, ours: URL) {
        var etcMail: String? = nil
        var (cf, dir): (String, URL)
        if debian {
            let d = try prepareDebian()
            (cf, dir, etcMail) = (d.cf, d.dir, d.etcMail)
        } else {
            (cf, dir) = try prepare()
        }
        if let add = cfAppend {
            let variant = dir.appendingPathComponent("submit-\(tag).cf").path
            try (try String(contentsOfFile: cf, encoding: .isoLatin1) + add).write(toFile: variant, atomically: true, encoding: .isoLatin1)
            cf = variant
        }
        let realQ = try freshQueue(dir, "q-\(tag)-real")
        let oursQ = try freshQueue(dir, "q-\(tag)-ours")
        if let uid {
            for q in [realQ, oursQ] {
                try FileManager.default.setAttributes([.ownerAccountID: uid], ofItemAtPath: q.path)
            }
        }
        // root's home is a scratch directory: ~/dead.letter lands there
        let realHome = try freshQueue(dir, "home-\(tag)-real")
        let oursHome = try freshQueue(dir, "home-\(tag)-ours")
        let runs = Workspace.shared.runs
        var options = SandboxOptions()
        options.modeFlag = "-bm"
        options.etcMail = etcMail
        options.runAsUID = uid
        options.rootHome = realHome.path
        options.extraArguments = ["-OQueueDirectory=\(realQ.path)"] + args
        var collectors: [DatagramCollector] = []
        if compareLogs {
            LogTests.ensureDevLog()
            for who in ["real", "ours"] {
                let c = try DatagramCollector(path: dir.appendingPathComponent("log-\(tag)-\(who).sock").path)
                c.startDraining()
                collectors.append(c)
            }
            options.devLog = collectors[0].path
        }
        let real = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: cf, input: input,
                                   options: options, runDir: runs, tag: "submit-\(tag).oracle")
        options.rootHome = oursHome.path
        options.extraArguments = ["-OQueueDirectory=\(oursQ.path)"] + args
        if compareLogs { options.devLog = collectors[1].path }
        let ours = try Sandbox.run(binary: try OracleEnvironment.binaryUnderTest(), cf: cf, input: input,
                                   options: options, runDir: runs, tag: "submit-\(tag).ours")
        if compareLogs {
            let rl = collectors[0].drain().map(DaemonTests.normaliseLog)
            let ol = collectors[1].drain().map(DaemonTests.normaliseLog)
            #expect(ol == rl, "\(tag): syslog lines differ\n--- ours\n\(ol.joined(separator: "\n"))\n--- real\n\(rl.joined(separator: "\n"))")
        }
        // ~/dead.letter: same bytes once the queue ID and dates are normalised
        let realDead = try snapshot(realHome, id: try snapshot(realQ).id)
        let oursDead = try snapshot(oursHome, id: try snapshot(oursQ).id)
        #expect(oursDead.files == realDead.files, "\(tag): ~/dead.letter differs: ours\n\(oursDead)\n--- real\n\(realDead)")
        #expect(String(decoding: ours.stdout, as: UTF8.self) == String(decoding: real.stdout, as: UTF8.self), "\(tag)")
        #expect(String(decoding: ours.stderr, as: UTF8.self) == String(decoding: real.stderr, as: UTF8.self), "\(tag)")
        #expect(ours.status == real.status, "\(tag)")
        var rs = try snapshot(realQ), os = try snapshot(oursQ)
        // the queue directory's own name (X-Authentication-Warning: ... Processed from queue)
        rs.files = rs.files.mapValues { $0.replacingOccurrences(of: realQ.path, with: "QDIR") }
        os.files = os.files.mapValues { $0.replacingOccurrences(of: oursQ.path, with: "QDIR") }
        #expect(os.files == rs.files, "\(tag): ours\n\(os)\n--- real\n\(rs)")
        if expectQueued {
            #expect(rs.files.keys.contains { $0.hasPrefix("qf") }, "\(tag): the oracle queued nothing")
        }
        // df bytes exactly (the snapshot decoded them as text)
        if let rid = rs.id, let oid = os.id {
            let rd = try? Data(contentsOf: realQ.appendingPathComponent("df" + rid))
            let od = try? Data(contentsOf: oursQ.appendingPathComponent("df" + oid))
            #expect(rd == od, "\(tag): df bytes differ")
        }
        return (realQ, oursQ)
    }

    static let plain = "Subject: hello\n\nbody line\n"

    @Test("plain recipients, an alias, a relay address")
    func plainRecipients() throws {
        try compare(["-odq", "root"], input: Self.plain, tag: "one")
        try compare(["-odq", "root", "staff", "a@relay.example"], input: Self.plain, tag: "several")
        try compare(["-odq", "nested"], input: Self.plain, tag: "nested")
        try compare(["-odq", "team"], input: Self.plain, tag: "include")
        try compare(["-odq", "mixed", "daemon"], input: Self.plain, tag: "mixed")
        try compare(["-odq", "-ODefaultUser=bin:bin", "mixed"], input: Self.plain, tag: "mixed-defaultuser")
        try compare(["-odq", "-oeq", "Some One <daemon>, bin"], input: Self.plain, tag: "list")
        // an alias file that cannot be read: the recipients are queued with
        // "alias database unavailable" (envelope and per-recipient M lines)
        let missing = "-OAliasFile=" + OracleEnvironment.fixture("aliases/no-such-aliases-file")
        try compare(["-odq", missing, "root", "daemon"], input: Self.plain, tag: "no-alias-file")
    }

    @Test("-t with To/Cc/Bcc (Bcc kept in the qf, flag b), a bad header recipient")
    func readRecipients() throws {
        let msg = "From: A <a@b.example>\nTo: staff, nobody\nCc: daemon\nBcc: bin\nSubject: hi\n\nbody\n"
        try compare(["-odq", "-t"], input: msg, tag: "t")
        try compare(["-odq", "-t", "root"], input: "Bcc: daemon\nSubject: only bcc\n\nx\n", tag: "t-bcc")
        try compare(["-odq", "-t"], input: "To: x@remote.example, root\n\nbody\n", tag: "t-bad")
        try compare(["-odq", "-t"], input: "Resent-To: daemon\nTo: root\nSubject: r\n\nb\n", tag: "t-resent")
    }

    @Test("-f/-F, -N/-R/-V/-B")
    func senderAndDSN() throws {
        try compare(["-odq", "-f", "someone@client.example", "root"], input: Self.plain, tag: "f")
        try compare(["-odq", "-F", "Full Name", "root"], input: Self.plain, tag: "F")
        try compare(["-odq", "-f", "daemon", "-F", "The Daemon", "root"], input: Self.plain, tag: "fF")
        try compare(["-odq", "-f", "<>", "root"], input: Self.plain, tag: "null-sender")
        // root is not in $=t here: -f someone else means no AUTH= and, with
        // authwarnings, an X-Authentication-Warning:
        for (i, f) in ["someone", "root", "someone@client.example", "<>", "a=b+c"].enumerated() {
            try compare(["-OPrivacyOptions=authwarnings", "-odq", "-f", f, "root"], input: Self.plain, tag: "auth-\(i)")
        }
        try compare(["-odq", "-N", "success,failure", "-R", "hdrs", "-V", "env-1", "-B", "8BITMIME", "root", "staff"],
                    input: Self.plain, tag: "dsn")
        try compare(["-odq", "-N", "never", "-R", "full", "root"], input: Self.plain, tag: "dsn-never")
        try compare(["-odq", "-p", "ESMTP:client.example", "root"], input: Self.plain, tag: "p-proto-host")
        try compare(["-odq", "-pUUCP", "root"], input: Self.plain, tag: "p-proto")
        try compare(["-odq", "-V", "a+2Bb+2cc", "root"], input: Self.plain, tag: "envid-xtext")
        for (i, bad) in [["-N", "bogus", "-R", "bogus"], ["-N", "never,success"], ["-V", "a=b"], ["-V", "a+2"],
                         ["-V", "has space"], ["-B", "bogus"]].enumerated() {
            try compare(["-odq"] + bad + ["root"], input: Self.plain, tag: "badopt-\(i)", expectQueued: bad[0] == "-B")
        }
    }

    @Test("an untrusted user: X-Authentication-Warning for -f, the queue directory and -C")
    func untrustedUser() throws {
        // uid 1 (daemon) is not trusted by submit.cf
        try compare(["-OPrivacyOptions=authwarnings", "-odq", "-f", "someone@client.example", "root"],
                    input: Self.plain, tag: "authwarn-f", uid: 1)
        try compare(["-OPrivacyOptions=goaway", "-odq", "-f", "daemon", "root"], input: Self.plain,
                    tag: "authwarn-self", uid: 1)
        try compare(["-odq", "-f", "someone@client.example", "root"], input: Self.plain, tag: "authwarn-off", uid: 1)
        try compare(["-OPrivacyOptions=authwarnings", "-odq", "-t"],
                    input: "To: root\nX-Authentication-Warning: forged\n\nbody\n", tag: "authwarn-t", uid: 1)
    }

    @Test("Debian's sendmail.cf: its rulesets, H lines, T=DNS/RFC822/X-Unix, trusted users")
    func debianConfiguration() throws {
        let msg = "From: Some One <someone@client.example>\nTo: root, daemon@vm.example.test\nCc: staff\nSubject: hi\n\nbody\n"
        try compare(["-odq", "-t"], input: msg, tag: "deb-t", debian: true)
        try compare(["-odq", "root", "staff", "user@mail.example.com"], input: Self.plain, tag: "deb-argv", debian: true)
        try compare(["-odq", "-N", "success", "-R", "hdrs", "-V", "e1", "root", "Joe <bin@vm.example.test>"],
                    input: Self.plain, tag: "deb-dsn", debian: true)
        for (i, f) in ["root", "daemon", "someone", "someone@mail.example.com", "<>", "a=b+c@mail.example.com"].enumerated() {
            try compare(["-odq", "-f", f, "root"], input: Self.plain, tag: "deb-f-\(i)", debian: true)
        }
        try compare(["-odq", "nosuchuser", "root"], input: Self.plain, tag: "deb-bad-user", debian: true)
        // client.example does not resolve (the name server never answers):
        // the lookup is deferred quietly, the envelope says so in its M line
        try compare(["-odq", "-f", "someone@client.example", "root"], input: Self.plain, tag: "deb-dns-sender", debian: true)
        try compare(["-odq", "root", "user@client.example"], input: Self.plain, tag: "deb-dns-rcpt", debian: true)
        try compare(["-odq", "-t"], input: "To: a@client.example\n\nb\n", tag: "deb-dns-t", debian: true)
        try compare(["-odq", "-f", "someone@mail.example.com", "root"], input: Self.plain, tag: "deb-untrusted",
                    uid: 1, debian: true)
    }

    @Test("message forms: no headers, 8-bit body, folded headers, CRLF, dots, no final newline")
    func messageForms() throws {
        try compare(["-odq", "root"], input: "just a body line\nand another\n\n\nend\n", tag: "noheaders")
        try compare(["-odq", "root"], input: [UInt8]("Subject: caf".utf8) + [0xE9] + Array("\n\nna".utf8) + [0xEF]
                    + Array("ve\n".utf8), tag: "8bit")
        try compare(["-odq", "-B", "8BITMIME", "root"], input: [UInt8]("Subject: x\n\n".utf8) + [0xE4, 0x0A], tag: "8bit-B")
        try compare(["-odq", "root"], input: "Subject: a long subject that goes on\n\tand on\nX-Long: aaaa\n  bbbb\n\t cccc\n\nb\n",
                    tag: "folded")
        try compare(["-odq", "root"], input: "Subject: a\r\nX: y\r\n\r\nline1\r\n..dots\r\n.\r\nafter\n", tag: "crlf-dot")
        try compare(["-odq", "-i", "root"], input: "Subject: a\n\nline1\n..dots\n.\nafter\n", tag: "ignoredots")
        try compare(["-odq", "-oi", "root"], input: "Subject: a\n\nline1\n.\nafter", tag: "oi-nonl")
        try compare(["-odq", "root"], input: "no header line\nSubject: x\n\nbody\n", tag: "nohdr-then-hdr")
        try compare(["-odq", "root"], input: [UInt8]("Subject: caf".utf8) + [0xE9] + Array("\n\nplain\n".utf8),
                    tag: "8bit-header-only")
        try compare(["-odq", "root"], input: Array("Subject: x\n\nnul".utf8) + [0] + Array("byte\n".utf8), tag: "nul")
        try compare(["-odq", "root"], input: "Subject: x\n\ncr\rmid\nx\r\r\n", tag: "bare-cr")
        try compare(["-odq", "root"], input: "Subject: " + String(repeating: "a", count: 3000) + "\n\n"
                    + String(repeating: "b", count: 5000), tag: "long-lines")
        // a UNIX From_ line is dropped; its date becomes Date: (compared un-normalised)
        for (i, from) in ["From someone  Tue Dec  1 03:04:05 2026", "From someone", "From x Mon, 1 Dec 2026 00:00:00 GMT"]
            .enumerated() {
            let (realQ, oursQ) = try compare(["-odq", "root"], input: from + "\nSubject: x\n\nbody\n", tag: "fromline-\(i)")
            func dateLine(_ q: URL) throws -> String? {
                let names = try FileManager.default.contentsOfDirectory(atPath: q.path).filter { $0.hasPrefix("qf") }
                guard let n = names.first else { return nil }
                let text = String(decoding: try Data(contentsOf: q.appendingPathComponent(n)), as: UTF8.self)
                return text.split(separator: "\n").first { $0.hasPrefix("H?D?Date:") }.map(String.init)
            }
            // only the From_ date is fixed; the others are the time of the run
            if i == 0 {
                let realDate = try dateLine(realQ)
                #expect(try dateLine(oursQ) == realDate)
                #expect(realDate == "H?D?Date: Tue, 1 Dec 2026 03:04:05 GMT")
            }
        }
    }

    @Test("headers present or missing: Date, Message-Id, From, Precedence, Resent-")
    func headers() throws {
        try compare(["-odq", "root", "daemon"],
                    input: "Subject: hi\nPrecedence: bulk\nDate: Tue, 1 Dec 2026 00:00:00 GMT\nMessage-Id: <x@y>\n\nbody\n",
                    tag: "hdr-present")
        try compare(["-odq", "root"], input: "From: someone\nReceived: from elsewhere\n\nbody\n", tag: "hdr-from")
        try compare(["-odq", "root"], input: "Resent-From: x@y.example\nSubject: hi\n\nbody\n", tag: "hdr-resent")
        try compare(["-odq", "root"], input: "", tag: "empty")
        for (i, p) in ["junk", "special-delivery", "first-class", "List", "unknown-class"].enumerated() {
            try compare(["-odq", "root"], input: "Precedence: \(p)\n\nb\n", tag: "precedence-\(i)")
        }
        try compare(["-odq", "-ORecipientFactor=1000", "-OClassFactor=10", "root", "staff"],
                    input: "Precedence: bulk\n\nb\n", tag: "factors")
        for action in ["add-to", "add-apparently-to", "add-bcc", "add-to-undisclosed", "none"] {
            try compare(["-odq", "-ONoRecipientAction=\(action)", "root", "staff", "daemon, bin"], input: Self.plain,
                        tag: "nra-\(action)")
        }
        try compare(["-odq", "-ONoRecipientAction=add-to", "-t", "root"], input: "Bcc: daemon\n\nb\n", tag: "nra-bcc-present")
    }

    /// Header checks (`H` lines with `$>`) on a command-line submission:
    /// sendmail runs them as in SMTP; a refusal prints its text (without
    /// the codes), exits 65 (EX_DATAERR), leaves the message in the queue
    /// without recipients and with that text as its M line, even with
    /// -odi, and mails it back to the sender.
    static let headerChecks = """

        Scheck_hdr
        R$* bad $*\t$#error $@ 5.7.1 $: "550 bad header " $&{hdr_name} " hl=" $&{hdrlen}
        R$* later $*\t$#error $@ 4.7.1 $: "451 try later"
        R$* discardme $*\t$#discard $: discard
        R$* holdme $*\t$#error $@ quarantine $: "header held"
        HSubject: $>check_hdr

        """

    @Test("header checks on a command-line submission: refused, temporary, discarded, quarantined, passed", arguments: [
        ("hc-refused-odi", ["-odi", "root"], "Subject: this is bad stuff\nFrom: me\n\nbody\n"),
        ("hc-refused-odq", ["-odq", "root", "daemon"], "Subject: bad\n\nbody\n"),
        ("hc-refused-t", ["-odi", "-t"], "To: root\nSubject: so bad\n\nbody\n"),
        ("hc-temporary", ["-odi", "root"], "Subject: later please\n\nbody\n"),
        ("hc-discarded", ["-odi", "root"], "Subject: discardme now\n\nbody\n"),
        ("hc-quarantined", ["-odi", "root"], "Subject: holdme now\n\nbody\n"),
        ("hc-quarantined-odq", ["-odq", "root"], "Subject: holdme now\n\nbody\n"),
        ("hc-quarantined-odb", ["-odb", "root"], "Subject: holdme now\n\nbody\n"),
        ("hc-temporary-t", ["-odi", "-t"], "To: root, daemon\nSubject: later please\n\nbody\n"),
        ("hc-passed", ["-odq", "root"], "Subject: fine\n\nbody\n"),
    ])
    func headerChecksOnTheCommandLine(_ c: (String, [String], String)) throws {
        // (refused: the message is also mailed back to the sender, and the
        // returned headers checked again: SubmitDeliveryTests.refusedByHeaderCheck
        // compares that DSN; here its log lines)
        try compare(["-oi"] + c.1, input: Array(c.2.utf8), tag: c.0, expectQueued: false, cfAppend: Self.headerChecks,
                    compareLogs: true)
    }

    @Test("errors: no recipients, none in the header, bad recipients, bad sender, no queue directory")
    func errors() throws {
        try compare(["-odq"], input: Self.plain, tag: "norcpt", expectQueued: false)
        try compare(["-odq", "-t"], input: Self.plain, tag: "t-norcpt", expectQueued: false)
        // ErrorMode=p (default): errors printed, a copy in ~/dead.letter
        try compare(["-odq", "root", "x@remote.example"], input: Self.plain, tag: "p-bad-host")
        try compare(["-odq", "nosuchuser", "root"], input: "To: someone\nCc: staff\nSubject: hi\n\nbody\nFrom me\n",
                    tag: "p-bad-user")
        try compare(["-odq", "x@remote.example"], input: Self.plain, tag: "p-all-bad", expectQueued: false)
        try compare(["-odq", "-f", "someone", "nosuchuser", "root"], input: Self.plain, tag: "p-other-sender")
        try compare(["-odq", "-f", "root", "nosuchuser", "root"], input: Self.plain, tag: "p-self-sender")
        try compare(["-odq", "-t"], input: "To: x@remote.example, root\n\nbody\n", tag: "p-t-bad")
        // ErrorMode=q: nothing printed, nothing saved
        try compare(["-odq", "-oeq", "root", "x@remote.example"], input: Self.plain, tag: "bad-host")
        try compare(["-odq", "-oeq", "nosuchuser", "root"], input: Self.plain, tag: "bad-user")
        try compare(["-odq", "-oeq", "bob<1>", "daemon"], input: Self.plain, tag: "bad-rule")
        try compare(["-odq", "-f", "bad<", "root"], input: Self.plain, tag: "bad-sender")
        for (n, max) in [(24, nil), (25, nil), (29, "30"), (30, "30")] as [(Int, String?)] {
            let input = (0..<n).map { "Received: from h\($0)\n" }.joined() + "Subject: loop\n\nb\n"
            try compare(["-odq", "-h", "5"] + (max.map { ["-OMaxHopCount=\($0)"] } ?? []) + ["root"], input: input,
                        tag: "hops-\(n)-\(max ?? "default")", expectQueued: n < Int(max ?? "25")!)
        }
        try compare(["-odq", "-oeq", "-OQueueDirectory=/nonexistent/queue", "root"], input: Self.plain,
                    tag: "noqueue", expectQueued: false)
        try compare(["-odq", "-OQueueDirectory=/nonexistent/queue", "root"], input: Self.plain,
                    tag: "noqueue-p", expectQueued: false)
        try compare(["-odq", "-OQueueDirectory=/etc/hostname", "root"], input: Self.plain,
                    tag: "queue-is-file", expectQueued: false)
    }

    @Test("queue subdirectories: qf/ and df/ are used when they exist")
    func subdirectories() throws {
        let (cf, dir) = try prepare()
        for subs in [["qf", "df", "xf"], ["qf"], ["df"]] {
            var found: [String: [String]] = [:]
            var control: [String: String] = [:]
            for (who, binary) in [("real", OracleEnvironment.oraclePath), ("ours", try OracleEnvironment.binaryUnderTest())] {
                let q = try freshQueue(dir, "q-sub-\(subs.joined())-\(who)")
                for s in subs {
                    try FileManager.default.createDirectory(at: q.appendingPathComponent(s), withIntermediateDirectories: false)
                }
                var options = SandboxOptions()
                options.modeFlag = "-bm"
                options.extraArguments = ["-OQueueDirectory=\(q.path)", "-odq", "root"]
                let r = try Sandbox.run(binary: binary, cf: cf, input: Array(Self.plain.utf8), options: options,
                                        runDir: Workspace.shared.runs, tag: "submit-sub-\(who)")
                #expect(r.status == 0)
                var files: [String] = []
                let e = FileManager.default.enumerator(atPath: q.path)
                while let p = e?.nextObject() as? String {
                    var isDir: ObjCBool = false
                    _ = FileManager.default.fileExists(atPath: q.appendingPathComponent(p).path, isDirectory: &isDir)
                    if isDir.boolValue { continue }
                    files.append(p)
                    if p.hasSuffix(p.split(separator: "/").last.map(String.init) ?? ""), p.contains("qf") {
                        let id = String(p.split(separator: "/").last!.dropFirst(2))
                        control[who] = String(decoding: try Data(contentsOf: q.appendingPathComponent(p)), as: UTF8.self)
                            .replacingOccurrences(of: id, with: "QID")
                    }
                }
                found[who] = files.map { $0.replacingOccurrences(of: #"([qdtx]f)[0-9A-Za-z]{8}[0-9]{6,}"#, with: "$1QID",
                                                                 options: .regularExpression) }.sorted()
            }
            #expect(found["ours"] == found["real"], "\(subs)")
            #expect(found["real"]?.count == 2, "\(subs): \(found)")
            #expect(control["ours"] != nil)
        }
    }

    @Test("interchange: the real sendmail's -bp lists the queue we wrote as ours does")
    func interchange() throws {
        let (cf, _) = try prepare()
        let (realQ, oursQ) = try compare(["-odq", "-f", "someone@client.example", "root", "staff"],
                                         input: Self.plain, tag: "bp")
        var listings: [String: String] = [:]
        for (who, binary) in [("real", OracleEnvironment.oraclePath), ("ours", try OracleEnvironment.binaryUnderTest())] {
            for (qn, q) in [("realq", realQ), ("oursq", oursQ)] {
                var options = SandboxOptions()
                options.modeFlag = "-bp"
                options.extraArguments = ["-OQueueDirectory=\(q.path)"]
                let r = try Sandbox.run(binary: binary, cf: cf, input: [], options: options,
                                        runDir: Workspace.shared.runs, tag: "submit-bp-\(who)-\(qn)")
                #expect(r.status == 0, "\(who) -bp on \(qn)")
                var text = String(decoding: r.stdout, as: UTF8.self)
                if let id = try snapshot(q).id { text = text.replacingOccurrences(of: id, with: "QID") }
                text = text.replacingOccurrences(of: q.path, with: "QDIR")
                text = text.replacingOccurrences(of: #"[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]{2} [0-9]{2}:[0-9]{2}"#,
                                                 with: "<time>", options: .regularExpression)
                listings["\(who) \(qn)"] = text
            }
        }
        #expect(listings["real oursq"]?.contains("QID") == true, "the real -bp did not list our entry: \(listings)")
        #expect(listings["real oursq"] == listings["ours oursq"])
        #expect(listings["real oursq"] == listings["real realq"])
        #expect(listings["ours realq"] == listings["real realq"])
    }

    @Test("durability: a read-only queue gives sendmail's messages and exit 71, no files")
    func readOnlyQueue() throws {
        let (cf, dir) = try prepare()
        var results: [String: RunResult] = [:]
        for (who, binary) in [("real", OracleEnvironment.oraclePath), ("ours", try OracleEnvironment.binaryUnderTest())] {
            try Faults.withTmpfs(dir.appendingPathComponent("q-ro-\(who)"), options: "ro,size=1m,mode=700") { q in
                var options = SandboxOptions()
                options.modeFlag = "-bm"
                options.extraArguments = ["-OQueueDirectory=\(q.path)", "-odq", "root"]
                let r = try Sandbox.run(binary: binary, cf: cf, input: Array(Self.plain.utf8), options: options,
                                        runDir: Workspace.shared.runs, tag: "submit-ro-\(who)")
                results[who] = r
                #expect(try Sandbox.queueEntries(q.path).isEmpty)
            }
        }
        func norm(_ b: [UInt8]) -> String {
            String(decoding: b, as: UTF8.self).replacingOccurrences(
                of: #"f[0-9A-Za-z]{8}[0-9]{6,}"#, with: "fQID", options: .regularExpression)
        }
        let real = try #require(results["real"]), ours = try #require(results["ours"])
        #expect(real.status == 71)
        #expect(ours.status == real.status)
        #expect(norm(ours.stdout) == norm(real.stdout))
        #expect(norm(ours.stderr) == norm(real.stderr))
    }

    @Test("durability: a queue that fills up after the df leaves neither df nor qf and fails")
    func fullQueue() throws {
        let (cf, dir) = try prepare()
        // one page: the df (3 KB) fits, the control file does not
        try Faults.withTmpfs(dir.appendingPathComponent("q-full"), options: "size=4k,mode=700") { q in
            var options = SandboxOptions()
            options.modeFlag = "-bm"
            options.extraArguments = ["-OQueueDirectory=\(q.path)", "-odq", "root"]
            let body = String(repeating: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n", count: 48)
            let r = try Sandbox.run(binary: try OracleEnvironment.binaryUnderTest(), cf: cf,
                                    input: Array(("Subject: big\n\n" + body).utf8), options: options,
                                    runDir: Workspace.shared.runs, tag: "submit-full-ours")
            let left = try Sandbox.queueEntries(q.path)
            #expect(r.status != 0, "a failed commit must not exit 0")
            #expect(left.isEmpty, "files left behind: \(left)")
            #expect(String(decoding: r.stdout + r.stderr, as: UTF8.self).contains("No space left on device"))
        }
    }

    /// Our binary submitting `input` into `queue`, killed after `seconds`.
    func runKilled(cf: String, queue: URL, input: URL, after seconds: Double?) throws -> (Int32, Double) {
        let ours = try OracleEnvironment.binaryUnderTest()
        let r = try Faults.runKilled([ours, "-bm", "-C", cf, "-ODontProbeInterfaces=true",
                                      "-OQueueDirectory=\(queue.path)", "-odq", "root"], input: input, after: seconds)
        return (r.status, r.seconds)
    }

    @Test("durability: kill -9 at any moment never leaves a qf without its complete df")
    func killedMidWrite() throws {
        let (cf, dir) = try prepare()
        let q = try freshQueue(dir, "q-kill")
        let line = Array("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n".utf8)
        var input = Array("Subject: big\n\n".utf8)
        for _ in 0..<(4 << 20) / line.count { input += line }
        let bodySize = input.count - 14
        let inURL = dir.appendingPathComponent("kill-input")
        try Data(input).write(to: inURL)
        // one complete run tells how long a submission takes
        let (status, took) = try runKilled(cf: cf, queue: q, input: inURL, after: nil)
        #expect(status == 0)
        var killed = 0
        for i in 1...16 {
            let (st, _) = try runKilled(cf: cf, queue: q, input: inURL, after: took * Double(i) / 16.0)
            if st == 124 || st == 137 || st == 128 + 9 { killed += 1 }
        }
        #expect(killed > 0, "no run was killed: the test did not test anything")
        let names = try FileManager.default.contentsOfDirectory(atPath: q.path)
        let qfs = names.filter { $0.hasPrefix("qf") }
        #expect(qfs.count >= 1)
        for qf in qfs {
            let df = q.appendingPathComponent("df" + qf.dropFirst(2))
            let attrs = try? FileManager.default.attributesOfItem(atPath: df.path)
            #expect((attrs?[.size] as? Int) == bodySize, "\(qf) without its complete df")
            let text = try Data(contentsOf: q.appendingPathComponent(qf))
            #expect(text.suffix(2) == Data(".\n".utf8), "\(qf) is incomplete")
        }
    }
}
