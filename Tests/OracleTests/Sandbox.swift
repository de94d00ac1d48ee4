// Sandbox.swift — runs one sendmail binary (the oracle or ours) on one
// configuration and one `-bt` input, isolated the same way for both.
//
// Promises: the binary runs under `timeout`, in a private UTS + mount namespace
// with host name `vm.example.test`, with the fixture hosts file and a resolv.conf
// naming a dead name server bind-mounted over /etc/hosts and /etc/resolv.conf,
// optionally with a fixture directory over /etc/mail (and one over /root, one over
// /usr/lib/sasl2 for the SASL configuration), and a private network
// namespace whose only interface is lo (up); with `dns`, that namespace runs
// the fixture's name server (DNSFixture.swift) and its resolv.conf replaces the
// dead one; /proc/loadavg reads a fixed load (0.00, or
// `loadAverage`), so QueueLA/RefuseLA decisions never follow the machine's load.  Output files are capped
// (`ulimit -f`), the environment is fixed (PATH, TZ=UTC, LANG=C).  Setup
// failures throw `HarnessError`; the binary's own behaviour never throws.

import Foundation
import Testing

struct SandboxOptions: Sendable, Hashable {
    /// Directory bind-mounted over /etc/mail (the Debian configurations read it).
    var etcMail: String? = nil
    /// Private network namespace with only lo up: makes interface probing deterministic.
    var privateNetwork = false
    /// When false, `-ODontProbeInterfaces=true` is passed to the binary.
    var probeInterfaces = false
    /// Directory bind-mounted over /root (root's home: ~/dead.letter).
    var rootHome: String? = nil
    /// A unix datagram socket bind-mounted over /dev/log (syslog lines).
    var devLog: String? = nil
    /// A directory bind-mounted over /usr/lib/sasl2, where Cyrus SASL
    /// looks for the application's Sendmail.conf (SMTP AUTH tests).  When
    /// nil, an empty directory is mounted there: the host's own
    /// Sendmail.conf (Debian's sendmail-bin links one to
    /// /etc/mail/sasl/Sendmail.conf.2, mode 0640) must not reach the
    /// binaries, or the oracle logs "safesasl(...) failed: Permission
    /// denied" when it runs as a user who cannot read it.
    var saslConfig: String? = nil
    /// Run the binary as this uid and gid (setpriv) instead of root.
    var runAsUID: Int? = nil
    /// Extra command-line arguments after `-bt -C <cf>`.
    var extraArguments: [String] = []
    /// The operation mode flag (`-bt` for address test mode, `-bi`, `-bv`...).
    var modeFlag = "-bt"
    /// Per run; the oracle needs well under a second for any case, so a hung
    /// binary under test costs at most this.  `SM_RUN_TIMEOUT` overrides.
    var timeoutSeconds = SandboxOptions.defaultTimeout
    /// A program (and its arguments) run inside the sandbox with the binary
    /// and its arguments after them: the SMTP driver for `-bs` sessions.
    var launcher: [String] = []
    /// More environment variables for the binary (and its launcher).
    var environment: [String: String] = [:]
    /// A loopback name server (implies privateNetwork) and its resolv.conf.
    var dns: DNSFixture? = nil
    /// The contents of /proc/loadavg in the sandbox (nil: the fixture's 0.00).
    var loadAverage: String? = nil

    static let defaultTimeout: Int =
        Int(ProcessInfo.processInfo.environment["SM_RUN_TIMEOUT"] ?? "") ?? 20
}

struct RunResult: Sendable {
    var stdout: [UInt8]
    var stderr: [UInt8]
    var status: Int32
    var timedOut: Bool { status == 124 || status == 137 }
    var commandLine: String
}

enum Sandbox {
    /// Our queue keeps emptied spare files (`.spare<N>`, SMEngine/
    /// QueueSpares.swift) that are no queue files: sendmail's readers skip
    /// them as ours do, and a comparison of queue directories leaves them
    /// out (QueueSparesTests checks them).
    static func isSpare(_ path: String) -> Bool {
        (path as NSString).lastPathComponent.hasPrefix(".spare")
    }

    /// A queue directory's entries without our spares.
    static func queueEntries(_ path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).filter { !isSpare($0) }
    }

    static let hostName = "vm.example.test"
    static let setupFailureStatus: Int32 = 97

    /// The shell run inside the namespaces; `$@` is the binary and its arguments.
    private static let wrapper = """
        fail() { echo "oracle-sandbox: $*" >&2; exit 97; }
        hostname "$SM_HOSTNAME" || fail "cannot set the host name"
        mount --bind "$SM_RESOLV" /etc/resolv.conf || fail "cannot bind $SM_RESOLV over /etc/resolv.conf"
        mount --bind "$SM_HOSTS" /etc/hosts || fail "cannot bind $SM_HOSTS over /etc/hosts"
        if [ -n "$SM_ETCMAIL" ]; then
          mount --bind "$SM_ETCMAIL" /etc/mail || fail "cannot bind $SM_ETCMAIL over /etc/mail"
        fi
        if [ -n "$SM_LO" ]; then ip link set lo up || fail "cannot bring up lo"; fi
        if [ -n "$SM_ROOTHOME" ]; then
          mount --bind "$SM_ROOTHOME" /root || fail "cannot bind $SM_ROOTHOME over /root"
        fi
        if [ -n "$SM_DEVLOG" ]; then
          mount --bind "$SM_DEVLOG" /dev/log || fail "cannot bind $SM_DEVLOG over /dev/log"
        fi
        if [ -n "$SM_LOADAVG" ]; then
          mount --bind "$SM_LOADAVG" /proc/loadavg || fail "cannot bind $SM_LOADAVG over /proc/loadavg"
        fi
        if [ -n "$SM_SASL" ]; then
          mount --bind "$SM_SASL" /usr/lib/sasl2 || fail "cannot bind $SM_SASL over /usr/lib/sasl2"
        fi
        U="$SM_UID" D="$SM_DNS"
        unset SM_HOSTNAME SM_RESOLV SM_HOSTS SM_ETCMAIL SM_LO SM_ROOTHOME SM_UID SM_DEVLOG SM_SASL SM_DNS SM_LOADAVG
        ulimit -f 65536
        cd /
        if [ -n "$U" ]; then set -- setpriv --reuid="$U" --regid="$U" --clear-groups -- "$@"; fi
        if [ -z "$D" ]; then exec "$@"; fi
        mount --bind "$D/resolv.conf" /etc/resolv.conf 2>/dev/null || fail "cannot bind $D/resolv.conf over /etc/resolv.conf"
        python3 "$D/upstream.py" </dev/null >/dev/null 2>&1 & up=$!
        dnsmasq --keep-in-foreground --conf-file="$D/dnsmasq.conf" --pid-file= --user=root </dev/null >/dev/null 2>&1 & dm=$!
        if ! python3 "$D/wait.py"; then kill $up $dm; exit 97; fi
        "$@"; rc=$?
        kill $up $dm; wait
        exit $rc
        """

    /// An empty directory, shared by every run of the test process, to
    /// mount over /usr/lib/sasl2 when a run gives no SASL configuration
    /// (made by the first run; later ones find it there).
    static func emptySASLDirectory() throws -> String {
        let dir = Workspace.shared.runs.appendingPathComponent("sasl-none")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    /// Arguments given to the binary itself.
    static func binaryArguments(cf: String, options: SandboxOptions) -> [String] {
        var args = [options.modeFlag, "-C", cf]
        if !options.probeInterfaces { args.append("-ODontProbeInterfaces=true") }
        return args + options.extraArguments
    }

    /// Runs `binary -bt -C cf …` with `input` on stdin.  `tag` names the
    /// files kept in `runDir` (`<tag>.in`, `.out`, `.err`) for debugging.
    static func run(binary: String, cf: String, input: [UInt8], options: SandboxOptions,
                    runDir: URL, tag: String) throws -> RunResult {
        try OracleEnvironment.checkPrerequisites()
        let fm = FileManager.default
        try fm.createDirectory(at: runDir, withIntermediateDirectories: true)
        let inURL = runDir.appendingPathComponent(tag + ".in")
        let outURL = runDir.appendingPathComponent(tag + ".out")
        let errURL = runDir.appendingPathComponent(tag + ".err")
        try Data(input).write(to: inURL)
        guard fm.createFile(atPath: outURL.path, contents: nil),
              fm.createFile(atPath: errURL.path, contents: nil) else {
            throw HarnessError("cannot create output files in \(runDir.path)")
        }

        var ns = ["-u", "-m"]
        if options.privateNetwork || options.dns != nil { ns.append("-n") }
        let dnsDirectory = try options.dns?.prepare().path
        let binArgs = binaryArguments(cf: cf, options: options)
        // a child that exits before reading its input must not kill the test run
        signal(SIGPIPE, SIG_IGN)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["-k", "5", String(options.timeoutSeconds), "/usr/bin/unshare"] + ns
            + ["--propagation", "private", "/bin/sh", "-c", wrapper, "oracle-sandbox"] + options.launcher + [binary] + binArgs
        var loadAverageFile = OracleEnvironment.fixture("etc/loadavg")
        if let la = options.loadAverage {
            let url = runDir.appendingPathComponent("\(tag).loadavg")
            try Data((la + "\n").utf8).write(to: url)
            loadAverageFile = url.path
        }
        process.environment = [
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TZ": "UTC", "LANG": "C", "LC_ALL": "C",
            "SM_HOSTNAME": hostName,
            "SM_RESOLV": OracleEnvironment.fixture("etc/resolv.conf"),
            "SM_HOSTS": OracleEnvironment.fixture("etc/hosts"),
            "SM_ETCMAIL": options.etcMail ?? "",
            "SM_LO": options.privateNetwork || options.dns != nil ? "1" : "",
            "SM_DNS": dnsDirectory ?? "",
            "SM_ROOTHOME": options.rootHome ?? "",
            "SM_UID": options.runAsUID.map(String.init) ?? "",
            "SM_DEVLOG": options.devLog ?? "",
            "SM_SASL": try options.saslConfig ?? emptySASLDirectory(),
            // both binaries read the load average from /proc/loadavg: a
            // fixed 0.00 keeps QueueLA/RefuseLA decisions (queue instead of
            // deliver, runs skipped) from following the machine's load
            "SM_LOADAVG": loadAverageFile,
        ].merging(options.environment) { _, extra in extra }
        let stdin = try FileHandle(forReadingFrom: inURL)
        let stdout = try FileHandle(forWritingTo: outURL)
        let stderr = try FileHandle(forWritingTo: errURL)
        defer { try? stdin.close(); try? stdout.close(); try? stderr.close() }
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do { try process.run() } catch {
            throw HarnessError("cannot start /usr/bin/timeout: \(error)")
        }
        process.waitUntilExit()
        let status = process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
        let result = RunResult(
            stdout: [UInt8](try Data(contentsOf: outURL)),
            stderr: [UInt8](try Data(contentsOf: errURL)),
            status: status,
            commandLine: ([binary] + binArgs).joined(separator: " ") + " < " + inURL.path)
        if status == setupFailureStatus,
           String(decoding: result.stderr, as: UTF8.self).hasPrefix("oracle-sandbox:") {
            throw HarnessError("sandbox setup failed for \(tag): "
                + String(decoding: result.stderr, as: UTF8.self))
        }
        return result
    }
}

extension Sandbox {
    /// Runs the real sendmail and ours with the same configuration, input
    /// and options (run files tagged `<tag>.oracle` and `<tag>.ours`).
    static func runBoth(cf: String, input: [UInt8] = [], options: SandboxOptions,
                        tag: String) throws -> (real: RunResult, ours: RunResult) {
        let runs = Workspace.shared.runs
        let real = try run(binary: OracleEnvironment.oraclePath, cf: cf, input: input,
                           options: options, runDir: runs, tag: "\(tag).oracle")
        let ours = try run(binary: try OracleEnvironment.binaryUnderTest(), cf: cf, input: input,
                           options: options, runDir: runs, tag: "\(tag).ours")
        return (real, ours)
    }
}

/// stdout, stderr and exit status identical.
func expectSameRun(_ ours: RunResult, _ real: RunResult, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(String(decoding: ours.stdout, as: UTF8.self) == String(decoding: real.stdout, as: UTF8.self),
            sourceLocation: sourceLocation)
    #expect(String(decoding: ours.stderr, as: UTF8.self) == String(decoding: real.stderr, as: UTF8.self),
            sourceLocation: sourceLocation)
    #expect(ours.status == real.status, sourceLocation: sourceLocation)
}

