// Configurations.swift — the configurations the differential cases run on, and
// the workspace that builds them at test time with the real tools.
//
// Promises: `Workspace.prepare` turns a `Configuration` into a .cf file in a
// 0755 scratch directory under <root>/.build/oracle-scratch/<name>/, generated
// by the real `m4` over /usr/share/sendmail/cf (or copied from a hand-written
// fixture), with its hash maps built by the real `makemap`.  `@SCRATCH@` in
// fixtures is replaced by that directory.  Each configuration is built once per
// process; any tool failure (m4 warning, makemap error) throws a HarnessError.

import Foundation

struct Configuration: Sendable, Hashable {
    enum Source: Sendable, Hashable {
        /// A fixture .mc that does not include cf.m4: run `m4 cf.m4 x.mc`.
        case mc(String)
        /// A fixture .mc that includes cf.m4 itself (Debian's): run `m4 x.mc`.
        case selfIncludingMC(String)
        /// An .mc from the installed library (e.g. cf/cf/generic-linux.mc).
        case libraryMC(String)
        /// A hand-written .cf fixture.
        case cf(String)
        /// An .mc built with OUR m4 library (`m4 <package>/cf/m4/cf.m4 x.mc`);
        /// the path is relative to the package root.
        case ourLibraryMC(String)
    }
    let name: String
    let source: Source
    /// Fixture maps/<name>.txt built with `makemap hash <scratch>/<name>`.
    var hashMaps: [String] = []
    /// Fixture maps/<file> copied verbatim into the scratch directory.
    var copiedFiles: [String] = []

    static let genericLinux = Configuration(name: "generic-linux", source: .libraryMC("cf/generic-linux.mc"))
    static let debianSendmail = Configuration(
        name: "debian-sendmail", source: .selfIncludingMC("mc/debian-sendmail.mc"))
    static let debianSubmit = Configuration(
        name: "debian-submit", source: .selfIncludingMC("mc/debian-submit.mc"))
    static let maps = Configuration(
        name: "maps", source: .mc("mc/maps.mc"),
        hashMaps: ["virtusertable", "mailertable", "genericstable", "domaintable", "access"],
        copiedFiles: ["local-host-names", "aliases"])
    static let masquerade = Configuration(name: "masquerade", source: .mc("mc/masquerade.mc"),
                                          copiedFiles: ["aliases"])
    static let nullclient = Configuration(name: "nullclient", source: .mc("mc/nullclient.mc"))
    static let uucp = Configuration(name: "uucp", source: .mc("mc/uucp.mc"), copiedFiles: ["aliases"])
    static let localRules = Configuration(name: "localrules", source: .mc("mc/localrules.mc"),
                                          copiedFiles: ["aliases"])
    static let operators = Configuration(name: "operators", source: .cf("cf/operators.cf"),
                                         hashMaps: ["pairs"], copiedFiles: ["words.txt"])
    static let errors = Configuration(name: "errors", source: .cf("cf/errors.cf"))
    static let syntax = Configuration(name: "syntax", source: .cf("cf/syntax.cf"))
    static let readcf = Configuration(name: "readcf", source: .cf("cf/readcf.cf"),
                                      copiedFiles: ["words.txt"])

    // Configurations built with our own m4 library (issue 3): sendmail and
    // we must print the same -bt transcripts on them too.
    static let oursDebian = Configuration(name: "ours-debian-sendmail",
                                          source: .ourLibraryMC("Tests/Fixtures/oracle/mc/debian-sendmail.mc"))
    static let oursRelay = Configuration(name: "ours-antispam-features",
                                         source: .ourLibraryMC("Tests/Fixtures/m4/antispam-features.mc"))
    static let oursRouting = Configuration(name: "ours-routing-features",
                                           source: .ourLibraryMC("Tests/Fixtures/m4/routing-features.mc"))
    static let oursMailers = Configuration(name: "ours-all-mailers",
                                           source: .ourLibraryMC("Tests/Fixtures/m4/all-mailers.mc"))
    static let oursDefault = Configuration(name: "ours-default-local",
                                           source: .ourLibraryMC("cf/cf/default-local.mc"))

    static let all: [Configuration] = [
        genericLinux, debianSendmail, debianSubmit, maps, masquerade, nullclient, uucp, localRules,
        operators, errors, syntax, readcf, oursDebian, oursRelay, oursRouting, oursMailers, oursDefault,
    ]
}

/// A configuration ready to run: the .cf path and sandbox settings it needs.
struct PreparedConfiguration: Sendable {
    let cfPath: String
    let etcMail: String
}

final class Workspace: @unchecked Sendable {
    static let shared = Workspace()

    let root: URL = OracleEnvironment.packageRoot.appendingPathComponent(".build/oracle-scratch")
    var runs: URL { root.appendingPathComponent("runs") }

    private let lock = NSLock()
    private var prepared: [String: Result<PreparedConfiguration, HarnessError>] = [:]
    private var rootReady = false

    func prepare(_ config: Configuration) throws -> PreparedConfiguration {
        lock.lock()
        defer { lock.unlock() }
        if let done = prepared[config.name] { return try done.get() }
        let result: Result<PreparedConfiguration, HarnessError>
        do { result = .success(try build(config)) } catch let error as HarnessError {
            result = .failure(error)
        } catch { result = .failure(HarnessError("\(config.name): \(error)")) }
        prepared[config.name] = result
        return try result.get()
    }

    /// Creates `dir` (mode 0755), removing what a previous run left there.
    func freshDirectory(_ dir: URL) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: dir.path) { try fm.removeItem(at: dir) }
        try fm.createDirectory(at: dir, withIntermediateDirectories: true,
                               attributes: [.posixPermissions: 0o755])
    }

    private func ensureRoot() throws {
        if rootReady { return }
        try OracleEnvironment.checkPrerequisites()
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        chmod(root.path, 0o755)
        // sendmail refuses map files below a world-writable directory.
        var dir = root
        while dir.path != "/" {
            let attrs = try FileManager.default.attributesOfItem(atPath: dir.path)
            let mode = (attrs[.posixPermissions] as? Int) ?? 0
            if mode & 0o002 != 0 {
                throw HarnessError("\(dir.path) is world-writable (mode \(String(mode, radix: 8))); "
                    + "sendmail would call every map below it unsafe. Check the package out elsewhere.")
            }
            dir = dir.deletingLastPathComponent()
        }
        try freshDirectory(runs)
        rootReady = true
    }

    private func build(_ config: Configuration) throws -> PreparedConfiguration {
        try ensureRoot()
        let dir = root.appendingPathComponent(config.name)
        try freshDirectory(dir)
        let scratch = dir.path
        try copyFixture("etc/switch-files", to: dir.appendingPathComponent("switch"))
        for file in config.copiedFiles {
            try copyFixture("maps/" + file, to: dir.appendingPathComponent(file))
        }
        for map in config.hashMaps {
            try makemap(fixture: "maps/\(map).txt", output: dir.appendingPathComponent(map))
        }
        // Every configuration runs with a controlled /etc/mail (bind-mounted),
        // so files cf.m4 defaults to (service.switch, local-host-names, access)
        // are the fixtures', not the machine's.
        do {
            let etc = dir.appendingPathComponent("etc-mail")
            try freshDirectory(etc)
            for file in ["local-host-names", "relay-domains", "service.switch", "access"] {
                try copyFixture("etc-mail/" + file, to: etc.appendingPathComponent(file))
            }
            try makemap(fixture: "etc-mail/access", output: etc.appendingPathComponent("access"))
            for m4 in ["dialup", "provider"] {
                try copyFixture("mc/debian-\(m4).m4", to: dir.appendingPathComponent("\(m4).m4"))
            }
        }
        let etcMail = dir.appendingPathComponent("etc-mail").path
        let cf = dir.appendingPathComponent(config.name + ".cf")
        switch config.source {
        case .cf(let fixture):
            try substituted(fixture, scratch: scratch).write(to: cf, atomically: true, encoding: .utf8)
        case .mc(let fixture), .selfIncludingMC(let fixture):
            var text = try substituted(fixture, scratch: scratch)
            text = text.replacingOccurrences(of: "/etc/mail/m4/", with: scratch + "/")
            let mc = dir.appendingPathComponent(config.name + ".mc")
            try text.write(to: mc, atomically: true, encoding: .utf8)
            let args: [String]
            if case .mc = config.source { args = [OracleEnvironment.cfM4, mc.path] } else { args = [mc.path] }
            try runTool("/usr/bin/m4", args, stdin: nil, stdout: cf, cwd: dir)
        case .libraryMC(let relative):
            let mc = OracleEnvironment.cfLibrary + "/" + relative
            try runTool("/usr/bin/m4", [OracleEnvironment.cfM4, mc], stdin: nil, stdout: cf, cwd: dir)
        case .ourLibraryMC(let relative):
            let root = OracleEnvironment.packageRoot.path
            var text = try String(contentsOfFile: root + "/" + relative, encoding: .utf8)
            text = text.replacingOccurrences(of: "@SCRATCH@", with: scratch)
                .replacingOccurrences(of: "/etc/mail/m4/", with: scratch + "/")
            let mc = dir.appendingPathComponent(config.name + ".mc")
            try text.write(to: mc, atomically: true, encoding: .utf8)
            try runTool("/usr/bin/m4", ["-DSMX_VAR_DIR=" + scratch, root + "/cf/m4/cf.m4", mc.path],
                        stdin: nil, stdout: cf, cwd: dir)
        }
        return PreparedConfiguration(cfPath: cf.path, etcMail: etcMail)
    }

    private func substituted(_ fixture: String, scratch: String) throws -> String {
        let text = try String(contentsOfFile: OracleEnvironment.fixture(fixture), encoding: .utf8)
        return text.replacingOccurrences(of: "@SCRATCH@", with: scratch)
    }

    private func copyFixture(_ fixture: String, to url: URL) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: OracleEnvironment.fixture(fixture)))
        try data.write(to: url)
        chmod(url.path, 0o644)
    }

    private func makemap(fixture: String, output: URL) throws {
        try runTool(OracleEnvironment.makemapPath, ["hash", output.path],
                    stdin: URL(fileURLWithPath: OracleEnvironment.fixture(fixture)), stdout: nil,
                    cwd: output.deletingLastPathComponent())
    }

    /// Runs a build tool; any exit status other than 0 or any stderr output is an error.
    private func runTool(_ path: String, _ args: [String], stdin: URL?, stdout: URL?, cwd: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
        process.currentDirectoryURL = cwd
        process.environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C"]
        let errURL = root.appendingPathComponent("tool.err")  // callers hold `lock`
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let errHandle = try FileHandle(forWritingTo: errURL)
        defer { try? errHandle.close() }
        process.standardError = errHandle
        if let stdin { process.standardInput = try FileHandle(forReadingFrom: stdin) }
        else { process.standardInput = FileHandle.nullDevice }
        if let stdout {
            _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: stdout)
        } else { process.standardOutput = FileHandle.nullDevice }
        do { try process.run() } catch { throw HarnessError("cannot run \(path): \(error)") }
        process.waitUntilExit()
        let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        if process.terminationStatus != 0 || !err.isEmpty {
            throw HarnessError("\(path) \(args.joined(separator: " ")) failed "
                + "(status \(process.terminationStatus)): \(err)")
        }
    }
}
