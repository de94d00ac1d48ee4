// SMEngineTests/HostStatusRecordTests.swift
//
// Host status files as sendmail writes them: the encoder and the file
// names against files the real sendmail 8.17 wrote after connection
// attempts (Tests/Fixtures/oracle/hoststat/written, described in
// written.README), and the writer making the same tree.
import Foundation
import Glibc
@testable import SMEngine
import Testing

@Suite struct HostStatusRecordTests {
    static let written = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/oracle/hoststat/written").standardized.path

    /// (host as the mailer saw it, file below the directory, record sendmail wrote)
    static let cases: [(host: String, path: String, record: HostStatusRecord)] = [
        ("[127.0.0.2]", "2./0./0./127", HostStatusRecord(errno: 111, exitStatus: 75, dsn: b("4.4.1"), updated: 1796021631)),
        ("[IPv6:::1]", "ipv6:::1",
         HostStatusRecord(errno: 111, hErrno: 1, exitStatus: 75, dsn: b("4.4.1"), updated: 1796021631)),
        ("Mixed.Example.COM.", "com./example./mixed",
         HostStatusRecord(errno: 11, hErrno: 2, exitStatus: 75, dsn: b("4.4.3"), updated: 1796021631)),
        ("[127.0.0.3]", "3./0./0./127", HostStatusRecord(exitStatus: 75, dsn: b("4.5.0"), reply: [], updated: 1796021890)),
        ("[127.0.0.4]", "4./0./0./127", HostStatusRecord(updated: 1796021890)),
        ("[127.0.0.5]", "5./0./0./127", HostStatusRecord(updated: 1796021891)),
        ("[127.0.0.6]", "6./0./0./127",
         HostStatusRecord(exitStatus: 69, dsn: b("5.5.0"), reply: b("554 5.7.1 go away"), updated: 1796021891)),
    ]
    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    func fixture(_ rel: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.written + "/" + rel)))
    }

    @Test func encoderMatchesSendmailsFiles() throws {
        for c in Self.cases {
            let bytes = try fixture(c.path)
            #expect(c.record.encoded == bytes, "\(c.host)")
            #expect(HostStatusRecord(bytes) == c.record, "\(c.host)")
        }
    }

    @Test func fileNames() {
        for c in Self.cases {
            #expect(HostStatusFile.relativePath(host: Self.b(c.host))?.joined(separator: "/") == c.path, "\(c.host)")
        }
        #expect(HostStatusFile.relativePath(host: Self.b("a/b.Example"))?.joined(separator: "/") == "example./a:b")
        for bad in ["", ".x.example", "a..example", "[300.1.1.1]", "[not.an.address]", "[]"] {
            #expect(HostStatusFile.relativePath(host: Self.b(bad)) == nil, "\(bad)")
        }
    }

    @Test func writerMakesSendmailsTree() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hoststat-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let oldMask = umask(0o022)
        defer { umask(oldMask) }
        for c in Self.cases {
            #expect(HostStatusFile.write(c.record, host: Self.b(c.host), directory: dir) == .written(path: dir + "/" + c.path))
        }
        func tree(_ root: String) -> [String] {
            (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).sorted()
        }
        #expect(tree(dir) == tree(Self.written))
        for c in Self.cases {
            let ours = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + c.path)))
            #expect(ours == (try fixture(c.path)), "\(c.host)")
            var st = stat()
            #expect(stat(dir + "/" + c.path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        }
        var st = stat()
        #expect(stat(dir + "/com./example.", &st) == 0 && st.st_mode & 0o777 == 0o755)
        for c in Self.cases {
            #expect(HostStatusFile.read(host: Self.b(c.host), directory: dir) == c.record, "\(c.host)")
        }
        #expect(HostStatusFile.read(host: Self.b("unknown.example"), directory: dir) == nil)
        // a shorter record replaces a longer one completely
        let short = HostStatusRecord(updated: 5)
        #expect(HostStatusFile.write(short, host: Self.b("[127.0.0.6]"), directory: dir) != .unstorable)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/6./0./0./127"))) == short.encoded)
        // a file locked by a connection in progress is left alone
        let fd = open(dir + "/6./0./0./127", O_RDONLY)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX) == 0)
        #expect(HostStatusFile.write(Self.cases[6].record, host: Self.b("[127.0.0.6]"), directory: dir) == .locked)
        #expect(HostStatusFile.write(short, host: Self.b("[300.1.1.1]"), directory: dir) == .unstorable)
        #expect(HostStatusFile.write(short, host: Self.b("x.example"), directory: dir + "/missing") == .failed(errno: ENOENT))
    }
}
