// DNSFixture.swift — a name server on loopback for the differential tests,
// started inside the sandbox's private network namespace (Sandbox.swift,
// SandboxOptions.dns) for the real sendmail and ours alike.
//
// Promises: `prepare()` writes, under .build/oracle-scratch/dns-fixtures/<name>, a
// dnsmasq configuration answering the fixture's MX/A/AAAA/CNAME/TXT/PTR
// records on 127.0.0.1:53 (every other name: NXDOMAIN, never a forward out
// of the sandbox), a resolv.conf naming it (search list and options of the
// fixture), and a small upstream on 127.0.0.1:5300 that answers SERVFAIL for
// the zone `fail.test` and, for the zone `broken.test`, A records but SERVFAIL
// to AAAA queries (a "broken AAAA" server); for `mute.test` A records and
// no answer at all to AAAA queries (a resolver timeout).  A missing dnsmasq (or python3,
// ) throws a HarnessError naming the
// package.  The fixture's files are the same for every run; nothing in it
// writes outside its directory.

import Foundation

struct DNSFixture: Sendable, Hashable {
    enum Record: Sendable, Hashable {
        case mx(String, exchange: String, preference: Int)
        case a(String, String)
        case aaaa(String, String)
        case cname(String, target: String)
        case txt(String, String)
        /// The reverse name (`2.0.0.127.in-addr.arpa`) and the host name.
        case ptr(String, String)
    }

    /// The directory name below .build/oracle-scratch/dns-fixtures.
    var name: String
    var records: [Record]
    /// resolv.conf `search` line (empty: none).
    var search: [String] = ["example.test"]
    /// resolv.conf `options`, after `timeout:1 attempts:1`.
    var options: [String] = []

    static let dnsmasqPath = "/usr/sbin/dnsmasq"
    static let python3Path = "/usr/bin/python3"

    var directory: URL { Workspace.shared.root.appendingPathComponent("dns-fixtures/" + name) }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var written: [String: DNSFixture] = [:]

    /// Writes the fixture's files (once per process and name); returns the directory.
    func prepare() throws -> URL {
        let fm = FileManager.default
        var missing: [String] = []
        if !fm.isExecutableFile(atPath: Self.dnsmasqPath) {
            missing.append("\(Self.dnsmasqPath) — the loopback DNS server (package dnsmasq-base)")
        }
        if !fm.isExecutableFile(atPath: Self.python3Path) {
            missing.append("\(Self.python3Path) — the SERVFAIL upstream (package python3)")
        }
        if !missing.isEmpty {
            throw HarnessError("DNS fixture prerequisites missing:\n  " + missing.joined(separator: "\n  ")
                + "\n  (contrib/test.sh installs them)")
        }
        Self.lock.lock()
        defer { Self.lock.unlock() }
        if let done = Self.written[name] {
            precondition(done == self, "two DNS fixtures named \(name)")
            return directory
        }
        let dir = directory
        try Workspace.shared.freshDirectory(dir)
        try Data(dnsmasqConfiguration.utf8).write(to: dir.appendingPathComponent("dnsmasq.conf"))
        try Data(resolvConf.utf8).write(to: dir.appendingPathComponent("resolv.conf"))
        try Data(Self.upstreamScript.utf8).write(to: dir.appendingPathComponent("upstream.py"))
        try Data(Self.waitScript.utf8).write(to: dir.appendingPathComponent("wait.py"))
        Self.written[name] = self
        return dir
    }

    var resolvConf: String {
        var s = "# written by the test suite's DNSFixture\nnameserver 127.0.0.1\n"
        if !search.isEmpty { s += "search " + search.joined(separator: " ") + "\n" }
        s += "options " + (["timeout:1", "attempts:1"] + options).joined(separator: " ") + "\n"
        return s
    }

    var dnsmasqConfiguration: String {
        var lines = [
            "port=53", "listen-address=127.0.0.1", "bind-interfaces", "no-resolv", "no-hosts",
            "no-negcache", "log-facility=/dev/null",
            // the scripted upstream for the failing zones; every other name is local
            "server=/fail.test/127.0.0.1#5300", "server=/broken.test/127.0.0.1#5300",
            "server=/mute.test/127.0.0.1#5300", "local=/#/",
        ]
        for r in records {
            switch r {
            case .mx(let owner, let exchange, let preference):
                lines.append("mx-host=\(owner),\(exchange),\(preference)")
            case .a(let owner, let addr), .aaaa(let owner, let addr):
                lines.append("host-record=\(owner),\(addr)")
            case .cname(let owner, let target):
                lines.append("cname=\(owner),\(target)")
            case .txt(let owner, let text):
                lines.append("txt-record=\(owner),\"\(text)\"")
            case .ptr(let owner, let target):
                lines.append("ptr-record=\(owner),\(target)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// SERVFAIL for fail.test; broken.test: A 127.0.0.7, SERVFAIL for AAAA,
    /// an empty answer for other types; mute.test: A 127.0.0.9, no answer
    /// at all to AAAA (the resolver times out), empty for other types.
    static let upstreamScript = """
        import socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 5300))
        while True:
            q, peer = s.recvfrom(4096)
            if len(q) < 12:
                continue
            i, labels = 12, []
            while i < len(q) and q[i] != 0:
                labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace").lower())
                i += 1 + q[i]
            qtype = int.from_bytes(q[i + 1:i + 3], "big")
            end = i + 5
            name = ".".join(labels)
            r = bytearray(q[:end])
            r[2] = 0x80 | 0x04 | (q[2] & 0x01)
            r[6:12] = bytes(6)
            if name.endswith("mute.test") and qtype == 28:
                continue
            if name.endswith("mute.test") and qtype == 1:
                r[3] = 0x80
                r[7] = 1
                r += bytes([0xC0, 12, 0, 1, 0, 1, 0, 0, 1, 0, 0, 4, 127, 0, 0, 9])
            elif name.endswith("broken.test") and qtype == 1:
                r[3] = 0x80
                r[7] = 1
                r += bytes([0xC0, 12, 0, 1, 0, 1, 0, 0, 1, 0, 0, 4, 127, 0, 0, 7])
            elif name.endswith("broken.test") and qtype != 28:
                r[3] = 0x80
            else:
                r[3] = 0x82
            s.sendto(bytes(r), peer)
        """

    /// Exits 0 once both servers answer a query, 1 after about five seconds.
    static let waitScript = """
        import socket, sys, time
        q = bytes([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5]) + b"ready" + bytes([4]) + b"test" + bytes([0, 0, 1, 0, 1])
        for port in (53, 5300):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(0.05)
            for _ in range(100):
                try:
                    s.sendto(q, ("127.0.0.1", port))
                    s.recvfrom(4096)
                    break
                except OSError:
                    time.sleep(0.05)
            else:
                print("oracle-sandbox: the DNS fixture on port %d does not answer" % port, file=sys.stderr)
                sys.exit(1)
        """
}
