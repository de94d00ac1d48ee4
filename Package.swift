// swift-tools-version:6.1
//
// A sendmail 8.17 compatible mail transfer agent.  Module layout and the
// direction of dependencies follow ../shared/docs/architecture.md: pure
// modules (SMBase, SMRules, SMConfig) at the bottom, I/O adapters (SMMaps)
// above them, composition (SMEngine, and SMDaemon: the listening SMTP
// daemon on SwiftNIO) and tiny executables on top.
import PackageDescription

let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]
/// The release build of the modules a message passes through leaves out
/// the run-time exclusivity checks (a check on every access to one of the
/// rewrite engine's objects' properties was 8% of a queue delivery's
/// instructions; in the rest of the accepting daemon, its event loops
/// included, they were about 3% of the instructions).  Debug builds, which
/// the tests run, keep them, so a conflicting access still traps there.
let hotPath: [SwiftSetting] = swift6 + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
let staticRuntime: [LinkerSetting] = [.unsafeFlags(["-static-stdlib"])]

let package = Package(
    name: "sendmail-swift",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sendmail", targets: ["sendmail"]),
        .executable(name: "makemap", targets: ["makemap"]),
        .executable(name: "praliases", targets: ["praliases"]),
        .executable(name: "mail.local", targets: ["mail.local"]),
        .executable(name: "smrsh", targets: ["smrsh"]),
        .executable(name: "mailstats", targets: ["mailstats"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // System C libraries.
        .systemLibrary(name: "CBerkeleyDB", path: "Sources/CBerkeleyDB"),
        .systemLibrary(name: "CResolv", path: "Sources/CResolv"),
        .systemLibrary(name: "CSASL", path: "Sources/CSASL"),
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),

        // Pure layer: no sockets, files or processes.
        .target(name: "SMBase", swiftSettings: hotPath),
        .target(name: "SMRules", dependencies: ["SMBase"], swiftSettings: hotPath),
        .target(name: "SMConfig", dependencies: ["SMBase", "SMRules"], swiftSettings: hotPath),
        .target(name: "SMQueueFormat", dependencies: ["SMBase"], swiftSettings: hotPath),
        .target(name: "SMDSN", dependencies: ["SMBase", "SMRules"], swiftSettings: hotPath),
        .target(name: "SMMime", swiftSettings: hotPath),

        // I/O adapters.
        .target(name: "SMMaps", dependencies: ["SMBase", "SMRules", "CBerkeleyDB", "CResolv"], swiftSettings: hotPath),

        // Composition.
        .target(name: "SMSMTP", dependencies: ["SMBase"], swiftSettings: hotPath),
        .target(name: "SMEngine", dependencies: ["SMBase", "SMRules", "SMConfig", "SMMaps", "SMQueueFormat", "SMSMTP", "SMDSN", "SMMime", "CSASL", "SMTLS", "CLinux"], swiftSettings: hotPath),

        // STARTTLS over the system OpenSSL: a NIO handler on memory BIOs.
        .target(name: "SMTLS", dependencies: [
            "COpenSSL",
            .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: hotPath),

        .target(name: "SMDaemon", dependencies: [
            "SMEngine", "SMConfig", "SMRules", "SMSMTP", "SMBase", "SMTLS",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ], swiftSettings: hotPath),

        // Executables.
        // started once per message (submissions, deliveries): the Swift
        // runtime linked in, so the dynamic loader loads no Swift library
        // and spends an eighth of the time at each start (about 1.2 ms of CPU)
        .executableTarget(name: "sendmail", dependencies: ["SMEngine", "SMConfig", "SMDaemon"], swiftSettings: hotPath,
                          linkerSettings: staticRuntime),
        .executableTarget(name: "makemap", dependencies: ["SMMaps", "SMBase"], swiftSettings: swift6),
        .executableTarget(name: "praliases", dependencies: ["SMMaps", "SMBase", "SMConfig"], swiftSettings: swift6),
        .executableTarget(name: "mail.local", dependencies: ["SMBase"], swiftSettings: hotPath,
                          linkerSettings: staticRuntime),
        .executableTarget(name: "smrsh", dependencies: ["SMBase"], swiftSettings: swift6),
        .executableTarget(name: "mailstats", dependencies: ["SMBase"], swiftSettings: swift6),

        // Tests.
        .testTarget(name: "SMRulesTests", dependencies: ["SMRules", "SMBase"], swiftSettings: swift6),
        .testTarget(name: "SMConfigTests", dependencies: ["SMConfig", "SMRules", "SMBase"], swiftSettings: swift6),
        .testTarget(name: "SMMapsTests", dependencies: ["SMMaps", "SMRules", "SMBase"], swiftSettings: swift6),
        .testTarget(name: "OracleTests", dependencies: ["SMBase"], swiftSettings: swift6),
        .testTarget(name: "SMSMTPTests", dependencies: ["SMSMTP", "SMBase"], swiftSettings: swift6),
        .testTarget(name: "SMMimeTests", dependencies: ["SMMime"], swiftSettings: swift6),
        .testTarget(name: "SMDSNTests", dependencies: ["SMDSN", "SMBase"], swiftSettings: swift6),
        .testTarget(name: "SMQueueFormatTests", dependencies: ["SMQueueFormat", "SMBase"], swiftSettings: swift6),
        .testTarget(name: "ToolsTests", dependencies: ["SMBase"], swiftSettings: swift6),
        .testTarget(name: "SMEngineTests", dependencies: ["SMEngine", "SMQueueFormat", "SMRules", "SMBase", "SMSMTP", "SMTLS"], swiftSettings: swift6),
    ]
)
