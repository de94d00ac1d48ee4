// MailerFormatTests.swift — how one mailer call writes the message,
// against the oracle.
//
// Each case lets the REAL sendmail queue one message (`-odq -N never`)
// with Tests/Fixtures/oracle/mailer/mailer.cf, then runs the real
// sendmail's `-q -v` and ours on copies of that queue in the same
// sandbox.  Before each run box/ is filled by set-up-box.sh (file targets
// of every kind).  Compared (DeliverTests.collect): stdout, stderr, exit
// status, every mailer call dump-mailer.sh recorded (argv, ids, stdin
// bytes), every file under box/ (contents, mode, owner) and the queue
// afterwards.  Covered: a mailer's /= root, the *file* mailer's checks and ids
// (SafeFileEnvironment, DontBlameSendmail, set-user/group-ID files),
// RunAsUser (ids of mailers and files, F=S refusals), L= line splitting,
// MIME 8->7 for F=7 mailers, EightBitMode=m's MIME labels and MIME 7->8
// for F=9 mailers (the *file* and prog mailers among them).
// Fails (never skips) when a prerequisite is missing.

import Foundation
import Testing

@Suite("Mailer calls: files, ids, L=, MIME 8->7 as sendmail writes them")
struct MailerFormatTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var recipients: [String]
        var message: [UInt8]
        /// Arguments of both queue runs after `-q -v`.
        var runArguments: [String] = []
        /// Arguments of the submission after `-odq -oi -f root -N never`.
        var submitArguments: [String] = []
        /// RunAsUser for the runs (the queue is given to that user first).
        var runAs: String? = nil
        /// Texts the oracle's stdout or some recorded mailer input must hold
        /// (the case does what it says).
        var expects: [String] = []
        /// Failed recipients are returned to the sender (root, through the
        /// local mailer): no `-N never`; new queue IDs and dates normalised.
        var bounce = false
        var description: String { name }
    }

    static let eightBit = Array("Subject: t\nFrom: joe@x.example\n\nhello w\u{f6}rld\nplain line\n".utf8)

    /// Quoted-printable material: a From line, trailing blanks, lone and
    /// leading dots, "=", long lines, no final newline.
    static let quotedPrintable: [UInt8] = Array("Subject: qp\nFrom: joe@x.example\nContent-Transfer-Encoding: 8bit\n\n".utf8)
        + Array("From the start\nline with trailing space \nline with tab\t\n.\n..\nx = y\n".utf8)
        + Array(repeating: UInt8(ascii: "a"), count: 80) + [0xE9] + Array(repeating: UInt8(ascii: "b"), count: 10) + [0x0A]
        + Array(repeating: Array("word \u{e4} ".utf8), count: 30).flatMap { $0 } + [0x0A]
        + Array(repeating: UInt8(ascii: "."), count: 100) + Array("\nend without newline ".utf8) + [0xFC]

    /// Mostly 8-bit bytes (base64), made by a fixed generator.
    static let binary: [UInt8] = {
        var x: UInt32 = 12345
        func next() -> UInt8 { x = x &* 1_103_515_245 &+ 12345; return UInt8((x >> 16) & 0xFF) }
        var body = (0..<300).map { _ in next() | 0x80 } + Array("\nline\n".utf8)
        body += (0..<5000).map { _ in let b = next(); return b == 0x0A ? UInt8(ascii: "x") : b } + [0x0A]
        return Array("Subject: b64\nFrom: joe@x.example\nMIME-Version: 1.0\nContent-Type: application/octet-stream\n\n".utf8) + body
    }()

    static let multipart: [UInt8] = Array("""
        Subject: mp
        From: joe@x.example
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="=-b1"
        Content-Transfer-Encoding: 8bit

        prologue with \u{e9} byte
        --=-b1
        Content-Type: text/plain; charset=iso-8859-1
        Content-Transfer-Encoding: 8bit
        X-Part: one

        caf\u{e9} au lait
        second line\u{20}
        --=-b1
        Content-Type: text/plain
        Content-Transfer-Encoding: 7bit

        plain part
        --=-b1
        Content-Type: image/png
        Content-Disposition: attachment;
        \tfilename="x.png"


        """.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        + (0..<3).flatMap { _ in Array(UInt8(128)...UInt8(255)) }
        + Array("""

        --=-b1
        Content-Type: message/rfc822

        Subject: inner
        From: a@b

        inner body \u{fc}
        --=-b1
        Content-Type: multipart/alternative; boundary=inner

        --inner
        Content-Type: text/plain

        alt \u{e8} one
        --inner
        Content-Type: text/html
        Content-Transfer-Encoding: quoted-printable

        <p>alt=20two</p>
        --inner--
        inner epilogue
        --=-b1
        Content-Type: multipart/signed; boundary=sig

        --sig
        Content-Type: text/plain

        signed \u{e9}
        --sig--
        --=-b1--
        epilogue \u{e9}

        """.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })

    static let digest: [UInt8] = Array("""
        Subject: digest
        MIME-Version: 1.0
        Content-Type: multipart/digest; boundary=d

        --d

        Subject: one
        Content-Type: text/plain

        x\u{e9}y
        --d
        Content-Type: text/plain

        not a message \u{e9}
        --d--

        """.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })

    static let longLines: [UInt8] = Array("Subject: a rather long subject line that goes past the limit\nX-Long: 0123456789012345678901234567890123456789\nX-Fold: first part of it\n\tand the continuation that is long too\nFrom: joe@x.example\n\nshort\n".utf8)
        + Array(repeating: UInt8(ascii: "x"), count: 19) + [0x0A] + Array(repeating: UInt8(ascii: "y"), count: 20) + [0x0A]
        + Array(repeating: UInt8(ascii: "z"), count: 21) + [0x0A] + Array(String(repeating: "0123456789", count: 7).utf8) + [0x0A]
        + Array("From a very long line that goes on\n".utf8) + Array(repeating: UInt8(ascii: "."), count: 45) + [0x0A]
        + Array("abcdefghijklmnopqrs.bcdefghijklmnopqrsFrom xyzzy and more\nno newline at the end but long enough".utf8)

    static let eightBitHeaders: [UInt8] = Array("Subject: caf".utf8) + [0xC3, 0xA9, 0x20, 0xE9, 0x74, 0xE9]
        + Array("\nFrom: joe@x.example\nX-Fold: a\n\tb ".utf8) + [0xFF] + Array("\n\nbody 7bit only\n".utf8)

    /// Larger than a pipe holds: with a small message sendmail sometimes
    /// reports "putbody: write error: Broken pipe" after refusing an F=S
    /// mailer (a race); with a large one it never does.
    static let eightBitLarge = eightBit + Array(repeating: Array("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n".utf8), count: 1200).flatMap { $0 }

    static let quotedPrintableText = Array("Subject: qp\nMIME-Version: 1.0\nContent-Type: Text/Plain (c); charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\ncaf=E9 au lait=\n continued\nsoft=20\nFrom me\n=2Edot\nbroken=3\nline=XYe\nx=\n\nlast line no eol=E9".utf8)

    static let base64Text = Array("Subject: b64\nMIME-Version: 1.0\nContent-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: BASE64\n\nY2Fm6SBhdSBsYWl0DQpz\nZWNvbmQgbGluZQ0KdGhpcmQNDQpGcm9tIGZvdXJ0aA==\n".utf8)

    static let base64Html = Array("Subject: html\nMIME-Version: 1.0\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\nPHA+aGk8L3A+\n".utf8)

    /// A part whose header ends in a line that is no header field, a
    /// boundary with trailing blanks, and text after the closing boundary.
    static let oddMultipart: [UInt8] = Array("Subject: odd\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\nthis line is no header ".utf8)
        + [0xE9] + Array("\n--zz \nContent-Type: text/plain\n\n".utf8) + [0xE9, 0xE9, 0xE9] + Array("\n\n--zz--  \nafter\n--zz\nmore\n".utf8)

    /// Address fields in a message/rfc822 part and in a part's header.
    static let partAddresses: [UInt8] = Array("Subject: mp\nFrom: joe@x.example\nTo: bob@y.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nFrom: inner@a.example\nTo: other@b.example\nSubject: in\n\nbody ".utf8)
        + [0xE9] + Array("\n--b\nFrom: part@c.example\nCc: one@d.example, two@e.example\nContent-Type: text/plain\n\nx\n--b--\n".utf8)

    static let fileTargets = ["fexec", "fsuid", "fsgid", "fhard", "fsym", "fnew", "fro", "fnull", "fdir", "fworld"]

    static let cases: [Case] = [
        Case(name: "file-checks", recipients: fileTargets, message: eightBit,
             expects: ["Symbolic links not allowed", "box/exec... Can't create output", "box/suid... Sent"]),
        Case(name: "file-dontblame", recipients: ["fhard", "fsym", "fexec", "fsuid"], message: eightBit,
             runArguments: ["-ODontBlameSendmail=FileDeliveryToSymlink,FileDeliveryToHardLink"],
             expects: ["box/hard... Sent", "box/sym... Sent"]),
        Case(name: "file-safe-environment", recipients: ["fsafe", "fsafe2", "fsafesub", "fsafesym", "fsafedev", "fsafeesc", "fworld", "fnull"],
             message: eightBit, runArguments: ["-OSafeFileEnvironment=@SCRATCH@/box/safe"],
             expects: ["cannot open /sym: Symbolic links not allowed", "/inside2... Sent"]),
        Case(name: "file-safe-environment-dontblame", recipients: ["fsafesym", "fsafesub", "fsafeesc"], message: eightBit,
             runArguments: ["-OSafeFileEnvironment=@SCRATCH@/box/safe/", "-ODontBlameSendmail=FileDeliveryToSymlink"]),
        Case(name: "file-checks-bounce", recipients: ["fexec", "fsym", "fro", "fdir", "fworld"], message: eightBit,
             expects: ["Status: 5.3.0", "Symbolic links not allowed"], bounce: true),
        Case(name: "file-safe-environment-bounce", recipients: ["fsafesym", "fsafedev", "fsafe"], message: eightBit,
             runArguments: ["-OSafeFileEnvironment=@SCRATCH@/box/safe"], expects: ["Returned mail"], bounce: true),
        Case(name: "runas-user", recipients: ["a@sroot", "b@suser", "c@uflag", "fprog", "a@seven", "fnew", "fworld"],
             message: eightBitLarge, runAs: "daemon", expects: ["insufficient privileges to change gid", "id: 1:1"]),
        Case(name: "runas-user-uid", recipients: ["b@suid2", "a@sroot"], message: eightBitLarge, runAs: "daemon",
             expects: ["insufficient privileges to change uid"]),
        Case(name: "runas-user-group", recipients: ["a@sroot", "fprog", "fworld", "fnew"], message: eightBit, runAs: "1:2",
             expects: ["id: 1:2"]),
        Case(name: "runas-user-number", recipients: ["a@sroot", "fprog", "c@uflag"], message: eightBit, runAs: "2",
             expects: ["id: 2:0"]),
        Case(name: "mailer-root-directory", recipients: ["a@jail", "b@nojail", "c@jail"], message: eightBit,
             expects: ["pwd: /jailonly", "openmailer: Cannot chroot("]),
        Case(name: "line-limit", recipients: ["a@short", "b@short2"], message: longLines, expects: ["!\n "]),
        Case(name: "mime-plain", recipients: ["a@seven", "root"], message: eightBit,
             expects: ["hello w=C3=B6rld", "Content-Transfer-Encoding: 8bit"]),
        Case(name: "mime-quoted-printable", recipients: ["a@seven", "b@seven2"], message: quotedPrintable,
             expects: ["From=20the start"]),
        Case(name: "mime-base64", recipients: ["a@seven"], message: binary, expects: ["from 8bit to base64 by vm.example.test"]),
        Case(name: "mime-multipart", recipients: ["a@seven", "b@seven2"], message: multipart, expects: ["--inner--"]),
        Case(name: "mime-digest", recipients: ["a@seven"], message: digest, expects: ["\nMIME-Version: 1.0\nContent-Transfer-Encoding: base64"]),
        Case(name: "mime-part-addresses", recipients: ["a@seven2"], message: partAddresses,
             expects: ["From: part@rewritten.c.example", "From: inner@a.example"]),
        Case(name: "mime-odd-multipart", recipients: ["a@seven"], message: oddMultipart, expects: ["6enpDQo="]),
        Case(name: "mime-headers-only", recipients: ["a@seven"], message: eightBitHeaders, expects: ["Subject: cafC) iti"]),
        Case(name: "mime7to8-quoted-printable", recipients: ["a@nine", "fnew", "fprog", "b@seven", "root"],
             message: quotedPrintableText, expects: ["from quoted-printable to 8bit by vm.example.test"]),
        Case(name: "mime7to8-base64", recipients: ["a@nine", "fnew"], message: base64Text, expects: ["from BASE64 to 8bit"]),
        Case(name: "mime7to8-not-plain-text", recipients: ["a@nine", "fnew"], message: base64Html, expects: ["PHA+aGk8L3A+"]),
        Case(name: "mime-8bitmime-pass8", recipients: ["a@seven", "root"], message: quotedPrintable,
             runArguments: ["-OEightBitMode=p"], submitArguments: ["-B8BITMIME"], expects: ["quoted-printable"]),
    ]

    @Test("one mailer call: output, mailer input, files and queue", arguments: MailerFormatTests.cases)
    func mailerCall(_ c: Case) throws {
        guard getuid() == 0 else { throw HarnessError("MailerFormatTests need root (files and mailers change ids)") }
        let p = try Workspace.shared.prepare(Configuration(name: "mailer-" + c.name, source: .cf("mailer/mailer.cf")))
        let d = URL(fileURLWithPath: p.cfPath).deletingLastPathComponent().path
        for (fixture, target) in [("deliver/switch", "switch"), ("deliver/dump-mailer.sh", "dump-mailer.sh"),
                                  ("mailer/aliases", "aliases"), ("mailer/set-up-box.sh", "set-up-box.sh")] {
            let text = try String(contentsOfFile: OracleEnvironment.fixture(fixture), encoding: .utf8)
                .replacingOccurrences(of: "@SCRATCH@", with: d)
            try text.write(toFile: d + "/" + target, atomically: false, encoding: .utf8)
        }
        chmod(d + "/dump-mailer.sh", 0o755)
        chmod(d + "/set-up-box.sh", 0o755)
        try DeliverTests.shell("rm -rf '\(d)/q' '\(d)/q.start' '\(d)/out' '\(d)/box' && mkdir -m 700 '\(d)/q' && mkdir -m 1777 '\(d)/out'")
        let runs = Workspace.shared.runs
        var options = SandboxOptions()
        options.modeFlag = "-bi"
        _ = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: p.cfPath, input: [], options: options,
                            runDir: runs, tag: "mailer-\(c.name).newaliases")
        // (readable by a RunAsUser)
        chmod(d + "/aliases.db", 0o644)
        options.modeFlag = "-odq"
        options.extraArguments = ["-oi", "-f", "root"] + (c.bounce ? [] : ["-N", "never"]) + c.submitArguments + c.recipients
        let s = try Sandbox.run(binary: OracleEnvironment.oraclePath, cf: p.cfPath, input: c.message, options: options,
                                runDir: runs, tag: "mailer-\(c.name).submit")
        #expect(s.status == 0, "the oracle did not queue the message: \(String(decoding: s.stdout + s.stderr, as: UTF8.self))")
        if let user = c.runAs { try DeliverTests.shell("chown -R '\(user.split(separator: ":")[0])' '\(d)/q'") }
        try DeliverTests.shell("cp -a '\(d)/q' '\(d)/q.start'")
        options.modeFlag = "-q"
        options.extraArguments = ["-v"] + c.runArguments.map { $0.replacingOccurrences(of: "@SCRATCH@", with: d) }
            + (c.runAs.map { ["-ORunAsUser=" + $0] } ?? [])
        var snapshots: [DeliverTests.Snapshot] = []
        for (binary, tag) in [(OracleEnvironment.oraclePath, "oracle"), (try OracleEnvironment.binaryUnderTest(), "ours")] {
            try DeliverTests.shell("rm -rf '\(d)/q' '\(d)/out'/* '\(d)/box' && cp -a '\(d)/q.start' '\(d)/q' "
                                   + "&& mkdir -m 755 '\(d)/box' && chown mail:mail '\(d)/box' && '\(d)/set-up-box.sh'")
            let r = try Sandbox.run(binary: binary, cf: p.cfPath, input: [], options: options,
                                    runDir: runs, tag: "mailer-\(c.name).\(tag)")
            // (the chroot's programs and libraries are not compared)
            try DeliverTests.shell("rm -rf '\(d)/box/jail/bin' '\(d)/box/jail/lib' '\(d)/box/jail/lib64'")
            let known = Set(((try? FileManager.default.contentsOfDirectory(atPath: d + "/q.start")) ?? []).map { String($0.dropFirst(2)) })
            snapshots.append(try DeliverTests.collect(URL(fileURLWithPath: d), r, bounce: c.bounce, knownIDs: known))
        }
        let (real, ours) = (snapshots[0], snapshots[1])
        ours.expectSame(as: real)
        for text in c.expects {
            #expect(real.stdout.contains(text) || real.files.contains { !$0.key.hasPrefix("q/") && $0.value.contains(text) },
                    "the oracle's run shows no \"\(text)\": \(real.stdout)")
        }
    }
}
