// OracleEnvironment.swift — where everything the differential suite needs lives.
//
// Finds the package root (from this file's path), the fixtures, the real
// sendmail 8.17 (the oracle), its makemap, m4, the m4 library, `unshare`,
// `timeout`, and the binary under test.  Promises: every lookup either returns
// an existing path or throws a `HarnessError` naming exactly what is missing
// and how to get it, so a test that needs it fails loudly (never skips).

import Foundation

/// A harness failure: something the suite needs is missing or broke.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum OracleEnvironment {
    /// Package root: this file is <root>/Tests/OracleTests/OracleEnvironment.swift.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let fixtures: URL = packageRoot.appendingPathComponent("Tests/Fixtures/oracle")

    static func fixture(_ relative: String) -> String {
        fixtures.appendingPathComponent(relative).path
    }

    /// The real sendmail; `SM_ORACLE` may point elsewhere (e.g. a local build).
    static var oraclePath: String {
        ProcessInfo.processInfo.environment["SM_ORACLE"] ?? "/usr/libexec/sendmail/sendmail"
    }
    static let makemapPath = "/usr/libexec/sendmail/makemap"
    static let cfLibrary = "/usr/share/sendmail/cf"
    static var cfM4: String { cfLibrary + "/m4/cf.m4" }

    static let debianPackagesHint =
        "install them with: apt-get install sendmail-bin sendmail-cf m4 util-linux coreutils iproute2 "
        + "(see contrib/test.sh)"

    /// Tools the sandbox needs, by absolute path, with the package that ships them.
    static let requiredTools: [(path: String, what: String)] = [
        ("/usr/libexec/sendmail/sendmail", "the oracle, real sendmail 8.17 (package sendmail-bin)"),
        ("/usr/libexec/sendmail/makemap", "makemap (package sendmail-bin)"),
        ("/usr/share/sendmail/cf/m4/cf.m4", "the m4 configuration library (package sendmail-cf)"),
        ("/usr/bin/m4", "m4 (package m4)"),
        ("/usr/bin/unshare", "unshare (package util-linux)"),
        ("/usr/bin/timeout", "timeout (package coreutils)"),
        ("/bin/mount", "mount (package mount)"),
        ("/bin/hostname", "hostname (package hostname)"),
        ("/usr/sbin/ip", "ip, to bring up lo in the private network namespace (package iproute2)"),
    ]

    /// Throws naming every missing prerequisite; checked once per process.
    static func checkPrerequisites() throws {
        try prerequisiteResult.get()
    }

    private static let prerequisiteResult: Result<Void, HarnessError> = {
        let fm = FileManager.default
        var missing: [String] = []
        for tool in requiredTools where !fm.isExecutableFile(atPath: tool.path)
            && !(tool.path.hasSuffix(".m4") && fm.fileExists(atPath: tool.path)) {
            missing.append("\(tool.path) — \(tool.what)")
        }
        if oraclePath != "/usr/libexec/sendmail/sendmail", !fm.isExecutableFile(atPath: oraclePath) {
            missing.append("\(oraclePath) — SM_ORACLE points at nothing executable")
        }
        if getuid() != 0 {
            missing.append("root privileges — unshare -u -m and mount --bind need them (uid is \(getuid()))")
        }
        if !missing.isEmpty {
            return .failure(HarnessError(
                "Oracle test prerequisites missing:\n  " + missing.joined(separator: "\n  ")
                + "\n" + debianPackagesHint))
        }
        return .success(())
    }()

    /// The binary under test: `SM_UNDER_TEST`, else a `sendmail` next to the
    /// running test bundle, else `<root>/.build/{debug,release}/sendmail`.
    static func binaryUnderTest() throws -> String {
        let env = ProcessInfo.processInfo.environment
        let fm = FileManager.default
        if let explicit = env["SM_UNDER_TEST"], !explicit.isEmpty {
            guard fm.isExecutableFile(atPath: explicit) else {
                throw HarnessError("SM_UNDER_TEST=\(explicit) is not an executable file")
            }
            return explicit
        }
        var candidates: [String] = []
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            // .build/<triple>/debug/<pkg>PackageTests.xctest (a file on Linux)
            candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent()
                .appendingPathComponent("sendmail").path)
        }
        for config in ["debug", "release"] {
            candidates.append(packageRoot.appendingPathComponent(".build/\(config)/sendmail").path)
        }
        for candidate in candidates where fm.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw HarnessError(
            "binary under test not found; run `swift build` or set SM_UNDER_TEST. Looked at:\n  "
            + candidates.joined(separator: "\n  "))
    }
}
