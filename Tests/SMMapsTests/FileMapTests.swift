// SMMapsTests/FileMapTests.swift
//
// The classes that read files or run things: text, user, program,
// sequence/switch and host (HostsFile through a service switch file with
// "hosts files", so no DNS is involved), plus `/canon` and `/mx` data.
// Expected answers and statuses are those real sendmail 8.17 printed for
// the same files with `-bt` and `/map`, `/canon`, `/mx`.
import Foundation
import SMBase
import SMMaps
import SMRules
import Testing

@Suite struct FileMapTests {
    func env(_ dir: String) -> MapEnvironment {
        var e = MapEnvironment()
        e.hostsFile = "\(dir)/hosts"
        e.serviceSwitchFile = "\(dir)/ss"
        return e
    }

    func fixtures() throws -> String {
        let dir = try Paths.fixtureDir("files")
        try "hosts files\n".write(toFile: "\(dir)/ss", atomically: true, encoding: .utf8)
        try "127.0.0.1 localhost\n10.1.1.1 vm.example.test vm\n10.1.1.2 other\n"
            .write(toFile: "\(dir)/hosts", atomically: true, encoding: .utf8)
        try "# comment\nalpha:one:two\nBeta:three:four\n".write(toFile: "\(dir)/txt", atomically: true, encoding: .utf8)
        return dir
    }

    @Test func textUserProgramNull() throws {
        let dir = try fixtures()
        let set = MapSet(declarations: [
            decl("tx", "text", "-z: -k0 -v2 \(dir)/txt"), decl("tx1", "text", "-z: \(dir)/txt"),
            decl("tr", "text", "/nonexistent/x"),
            decl("us", "user", "-vshell"), decl("us2", "user"), decl("ub", "user", "-vbogus"),
            decl("pr", "program", "/bin/echo hello"), decl("nl", "null"),
        ], environment: env(dir))
        let ctx = RecordingContext()
        func look(_ m: String, _ k: String) -> (MapLookupResult, Int32) {
            let r = set.sendmailMap(named: Array(m.utf8))!.lookupWithStatus(Array(k.utf8), context: ctx)
            return (r.result, r.status)
        }
        #expect(look("tx", "ALPHA") == (.found(Array("two".utf8)), 0))
        #expect(look("tx1", "beta") == (.found(Array("Beta".utf8)), 0))
        #expect(look("tx1", "zz") == (.notFound, 68))
        #expect(look("tr", "foo") == (.tempFail, 75))
        #expect(ctx.messages.last == "554 5.3.0 text map \"tr\": unsafe map file /nonexistent/x")
        #expect(look("us2", "root") == (.found(Array("root".utf8)), 0))
        #expect(look("us", "nosuchuser-xyz") == (.notFound, 67))
        #expect(look("ub", "root") == (.tempFail, 75))
        #expect(ctx.messages.last == "554 5.3.0 User map ub: unknown column name bogus")
        #expect(look("pr", "key1") == (.found(Array("hello key1".utf8)), 0))
        #expect(look("nl", "x") == (.notFound, 68))
    }

    @Test func hostMapAndCanonThroughHostsFile() throws {
        let dir = try fixtures()
        let set = MapSet(declarations: [], environment: env(dir))
        let ctx = RecordingContext()
        ctx.macros[Array("m".utf8)] = Array("example.test".utf8)
        let host = set.sendmailMap(named: Array("host".utf8))!
        #expect(host.lookupWithStatus(Array("vm".utf8), context: ctx).result == .found(Array("vm.example.test.".utf8)))
        #expect(host.lookupWithStatus(Array("other".utf8), context: ctx).result == .found(Array("other.example.test.".utf8)))
        let miss = host.lookupWithStatus(Array("nothing".utf8), context: ctx)
        #expect(miss.result == .notFound && miss.status == 68)
        #expect(ctx.messages.isEmpty)
        let domain = Array("example.test".utf8)
        #expect(set.canonicalName(Array("vm".utf8), localDomain: domain).name == Array("vm.example.test".utf8))
        #expect(set.canonicalName(Array("other".utf8), localDomain: domain).name == Array("other.example.test".utf8))
        // no dns in the hosts service: getmxrr punts and returns 0 values
        #expect(set.mxHosts(Array("localhost".utf8), localDomain: domain).count == 0)
    }

    /// The parsed hosts file is kept between lookups, but an edit to the
    /// file is seen by the next lookup, as sendmail re-reads it each time.
    @Test func hostsFileEditIsSeen() throws {
        let dir = try Paths.fixtureDir("hosts-edit")
        try "hosts files\n".write(toFile: "\(dir)/ss", atomically: true, encoding: .utf8)
        try "10.1.1.1 vm.example.test vm\n".write(toFile: "\(dir)/hosts", atomically: false, encoding: .utf8)
        let domain = Array("example.test".utf8)
        let first = MapSet(declarations: [], environment: env(dir))
        #expect(first.canonicalName(Array("vm".utf8), localDomain: domain).name == Array("vm.example.test".utf8))
        #expect(first.canonicalName(Array("newhost".utf8), localDomain: domain).name != Array("newhost.example.test".utf8))
        try "10.1.1.1 vm.example.test vm\n10.1.1.9 newhost.example.test newhost\n"
            .write(toFile: "\(dir)/hosts", atomically: false, encoding: .utf8)
        let second = MapSet(declarations: [], environment: env(dir))
        #expect(second.canonicalName(Array("newhost".utf8), localDomain: domain).name == Array("newhost.example.test".utf8))
    }

    @Test func switchWithMissingMemberIsTempFail() throws {
        let dir = try fixtures()
        try "hosts files\nfoo files\n".write(toFile: "\(dir)/ss", atomically: true, encoding: .utf8)
        let set = MapSet(declarations: [decl("sw.files", "hash", "\(dir)/sw"), decl("sw", "switch", "foo"),
                                        decl("sw2", "switch", "bar")], environment: env(dir))
        let ctx = RecordingContext()
        let r = set.sendmailMap(named: Array("sw".utf8))!.lookupWithStatus(Array("foo".utf8), context: ctx)
        #expect(r.status == 75)
        #expect(ctx.messages == ["451 4.0.0 hash map \"sw.files\": missing map file \(dir)/sw.db: No such file or directory"])
        #expect(set.sendmailMap(named: Array("sw2".utf8))!.lookupWithStatus(Array("foo".utf8), context: ctx).status == 75)
    }
}
