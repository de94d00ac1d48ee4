// ControlSocketTests.swift — the daemon's control socket (ControlSocketName,
// which Debian's cf sets and its init script's `status` reads through
// smcontrol.pl) against the real sendmail's `-bD`.
//
// Promises: the same script through both daemons (DaemonTests.compare:
// transcripts and syslog lines compared), the control socket spoken to by
// Fixtures/smtp/control-socket.py: HELP, an unknown command, MEMDUMP and
// SHUTDOWN answered byte for byte as sendmail answers them; STATUS and
// MSTAT with the same lines once pids, the session count and the free
// space are normalised and sendmail's lines about its own children are
// left out (our sessions are not processes); Debian's smcontrol.pl (what
// its init script's `status` runs) reading STATUS alike; the socket's mode; SHUTDOWN
// removing it and stopping the daemon.  A socket in a directory anyone may
// write to is refused with sendmail's log line.  Part of the DaemonTests
// suite (serialised: both daemons own 127.0.0.1:2525).

import Foundation
import Testing

extension DaemonTests {
    static let controlSocketScript = OracleEnvironment.packageRoot
        .appendingPathComponent("Tests/Fixtures/smtp/control-socket.py").path

    /// A fresh directory `name` (with exactly `mode`) in the scratch, and
    /// the socket's path in it.
    func controlSocketPath(_ name: String, mode: mode_t) throws -> String {
        let (_, dir) = try prepare()
        let ctl = dir.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: ctl)
        try FileManager.default.createDirectory(at: ctl, withIntermediateDirectories: true)
        _ = chmod(ctl.path, mode)
        return ctl.appendingPathComponent("smcontrol").path
    }

    @Test("ControlSocketName: HELP, STATUS, MSTAT, MEMDUMP, a bad command, SHUTDOWN; the socket's mode (as sendmail's)")
    func controlSocket() throws {
        let sock = try controlSocketPath("ctl", mode: 0o755)
        let script = """
            #RUN \(Self.python) \(Self.controlSocketScript) \(sock) help status mstat memdump STATUS bogus
            #RUN stat -c '%A' \(sock)
            #RUN /usr/share/sendmail/smcontrol.pl -f \(sock) status | grep -v 'Child Process' | sed -E 's/[0-9]+/N/g'
            #CONNECT
            EHLO client.example
            #RUN \(Self.python) \(Self.controlSocketScript) \(sock) status
            QUIT
            #RUN \(Self.python) \(Self.controlSocketScript) \(sock) shutdown
            #RUN sleep 1; test -e \(sock) && echo still there || echo removed
            """
        // (sendmail's debug line about a child of its gone before its
        // process list was probed comes and goes: not ours to have)
        try compare(script, tag: "control-socket", expectMessages: 0, extra: ["-OControlSocketName=\(sock)"],
                    ignoringLogLines: { $0.contains("proc_list_probe: lost pid") })
    }

    @Test("ControlSocketName in a world-writable directory: refused with sendmail's log line, the daemon goes on")
    func controlSocketUnsafeDirectory() throws {
        let sock = try controlSocketPath("ctl-open", mode: 0o777)
        let script = """
            #RUN test -e \(sock) && echo there || echo none
            #CONNECT
            QUIT
            """
        try compare(script, tag: "control-socket-open", expectMessages: 0, extra: ["-OControlSocketName=\(sock)"])
    }
}
