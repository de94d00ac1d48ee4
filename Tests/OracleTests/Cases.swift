// Cases.swift — the exact list of differential cases: which configuration,
// which -bt script, which sandbox options.
//
// Promises: the list is static and deterministic (seeded generators), every
// case name is unique and safe as a file name, and every script stays within
// BTScript.maxLines lines.  Adding a case here is all it takes to add a test.

import Testing

struct OracleCase: Sendable, CustomTestStringConvertible {
    enum ScriptSource: Sendable {
        case fixture(String)
        case addresses(prefix: String, seed: UInt64, count: Int)
        case check(ruleset: String, seed: UInt64, count: Int)
        case checkRelay(seed: UInt64, count: Int)
        case tryMailer([String], seed: UInt64, count: Int)
        case inspect
        case edge(rulesets: String)
        case concat([ScriptSource])
    }

    let name: String
    let config: Configuration
    let script: ScriptSource
    var probeInterfaces = false
    var privateNetwork = false
    var extraArguments: [String] = []

    var testDescription: String { name }

    func buildScript(prepared: PreparedConfiguration) throws -> BTScript {
        try Self.build(script, prepared: prepared)
    }

    private static func build(_ source: ScriptSource, prepared: PreparedConfiguration) throws -> BTScript {
        switch source {
        case .fixture(let name): return try Scripts.fixture(name)
        case .addresses(let prefix, let seed, let count): return Scripts.addresses(prefix, seed: seed, count: count)
        case .check(let ruleset, let seed, let count): return Scripts.check(ruleset, seed: seed, count: count)
        case .checkRelay(let seed, let count): return Scripts.checkRelay(seed: seed, count: count)
        case .tryMailer(let mailers, let seed, let count):
            return Scripts.tryMailer(mailers, seed: seed, count: count)
        case .inspect: return try Scripts.inspect(cfPath: prepared.cfPath)
        case .edge(let rulesets): return Scripts.edgeInputs(rulesets: rulesets)
        case .concat(let parts):
            var s = BTScript()
            for part in parts { s.append(try build(part, prepared: prepared)) }
            return s
        }
    }

    func sandboxOptions(prepared: PreparedConfiguration) -> SandboxOptions {
        SandboxOptions(etcMail: prepared.etcMail, privateNetwork: privateNetwork,
                       probeInterfaces: probeInterfaces, extraArguments: extraArguments)
    }
}

enum Cases {
    typealias C = OracleCase
    static let generic = Configuration.genericLinux
    static let debian = Configuration.debianSendmail
    static let submit = Configuration.debianSubmit

    /// Every differential case, in a stable order.
    static let all: [OracleCase] = [
        // --- generic-linux.mc from the installed library ---
        C(name: "generic-linux.3-0.addresses", config: generic, script: .addresses(prefix: "3,0 ", seed: 1, count: 1500)),
        C(name: "generic-linux.parse.addresses", config: generic, script: .addresses(prefix: "/parse ", seed: 2, count: 800)),
        C(name: "generic-linux.try.addresses", config: generic,
          script: .tryMailer(["esmtp", "smtp", "local", "relay", "prog"], seed: 3, count: 800)),
        C(name: "generic-linux.inspect", config: generic, script: .inspect),
        C(name: "generic-linux.commands", config: generic, script: .fixture("commands.bt")),
        C(name: "generic-linux.edge-inputs", config: generic, script: .edge(rulesets: "3,0")),
        C(name: "generic-linux.rules-trace", config: generic,
          script: .addresses(prefix: "3,0 ", seed: 4, count: 40), extraArguments: ["-d21.12"]),
        C(name: "generic-linux.interfaces-probed", config: generic,
          script: .concat([.fixture("interfaces.bt"), .addresses(prefix: "3,0 ", seed: 5, count: 30)]),
          probeInterfaces: true, privateNetwork: true),
        // --- Debian's sendmail.mc (MTA) ---
        C(name: "debian-sendmail.3-0.addresses", config: debian, script: .addresses(prefix: "3,0 ", seed: 11, count: 1200)),
        C(name: "debian-sendmail.parse.addresses", config: debian, script: .addresses(prefix: "/parse ", seed: 12, count: 600)),
        C(name: "debian-sendmail.check_rcpt", config: debian, script: .check(ruleset: "check_rcpt", seed: 13, count: 1000)),
        C(name: "debian-sendmail.check_mail", config: debian, script: .check(ruleset: "check_mail", seed: 14, count: 1000)),
        C(name: "debian-sendmail.check_relay", config: debian, script: .checkRelay(seed: 15, count: 400)),
        C(name: "debian-sendmail.checks", config: debian, script: .fixture("debian-checks.bt")),
        C(name: "debian-sendmail.inspect", config: debian, script: .inspect),
        C(name: "debian-sendmail.commands", config: debian, script: .fixture("commands.bt")),
        // --- Debian's submit.mc (MSP) ---
        C(name: "debian-submit.3-0.addresses", config: submit, script: .addresses(prefix: "3,0 ", seed: 21, count: 1000)),
        C(name: "debian-submit.try.addresses", config: submit,
          script: .tryMailer(["relay", "esmtp", "local"], seed: 22, count: 600)),
        C(name: "debian-submit.inspect", config: submit, script: .inspect),
        // --- FEATUREs over real makemap maps ---
        C(name: "maps.features", config: .maps, script: .fixture("maps.bt")),
        C(name: "maps.3-0.addresses", config: .maps, script: .addresses(prefix: "3,0 ", seed: 31, count: 1200)),
        C(name: "maps.check_rcpt", config: .maps, script: .check(ruleset: "check_rcpt", seed: 32, count: 1000)),
        C(name: "maps.check_mail", config: .maps, script: .check(ruleset: "check_mail", seed: 34, count: 600)),
        C(name: "maps.check_relay", config: .maps, script: .checkRelay(seed: 35, count: 300)),
        C(name: "maps.try.addresses", config: .maps, script: .tryMailer(["esmtp", "local"], seed: 33, count: 600)),
        C(name: "maps.inspect", config: .maps, script: .inspect),
        C(name: "masquerade.features", config: .masquerade, script: .fixture("masquerade.bt")),
        C(name: "masquerade.try.addresses", config: .masquerade,
          script: .tryMailer(["esmtp", "smtp", "relay", "local"], seed: 41, count: 800)),
        C(name: "masquerade.inspect", config: .masquerade, script: .inspect),
        C(name: "nullclient.features", config: .nullclient, script: .fixture("nullclient.bt")),
        C(name: "nullclient.3-0.addresses", config: .nullclient, script: .addresses(prefix: "3,0 ", seed: 51, count: 800)),
        C(name: "nullclient.inspect", config: .nullclient, script: .inspect),
        C(name: "uucp.features", config: .uucp, script: .fixture("uucp.bt")),
        C(name: "uucp.3-0.addresses", config: .uucp, script: .addresses(prefix: "3,0 ", seed: 61, count: 1200)),
        C(name: "uucp.try.addresses", config: .uucp,
          script: .tryMailer(["uucp-old", "uucp-new", "uucp-dom", "uucp-uudom", "esmtp"], seed: 62, count: 600)),
        C(name: "uucp.inspect", config: .uucp, script: .inspect),
        C(name: "localrules.features", config: .localRules, script: .fixture("localrules.bt")),
        C(name: "localrules.3-0.addresses", config: .localRules, script: .addresses(prefix: "3,0 ", seed: 71, count: 1000)),
        C(name: "localrules.inspect", config: .localRules, script: .inspect),
        // --- hand-written .cf files ---
        C(name: "operators.all", config: .operators, script: .fixture("operators.bt")),
        C(name: "operators.inspect", config: .operators, script: .inspect),
        C(name: "operators.generated", config: .operators,
          script: .concat([.addresses(prefix: "Focus ", seed: 81, count: 100),
                           .addresses(prefix: "Class ", seed: 82, count: 50),
                           .addresses(prefix: "Minus ", seed: 83, count: 50),
                           .addresses(prefix: "Mailer ", seed: 84, count: 100),
                           .addresses(prefix: "LocalPart ", seed: 85, count: 100)])),
        C(name: "errors.paths", config: .errors, script: .fixture("errors.bt")),
        C(name: "errors.edge-inputs", config: .errors, script: .edge(rulesets: "3,0")),
        C(name: "syntax.load-errors", config: .syntax, script: .fixture("syntax.bt")),
        C(name: "readcf.lines", config: .readcf, script: .fixture("readcf.bt")),
        // --- configurations built by our own m4 library ---
        C(name: "ours-debian-sendmail.3-0.addresses", config: .oursDebian,
          script: .addresses(prefix: "3,0 ", seed: 101, count: 600)),
        C(name: "ours-debian-sendmail.check_rcpt", config: .oursDebian,
          script: .check(ruleset: "check_rcpt", seed: 102, count: 400)),
        C(name: "ours-debian-sendmail.inspect", config: .oursDebian, script: .inspect),
        C(name: "ours-antispam-features.check_rcpt", config: .oursRelay,
          script: .check(ruleset: "check_rcpt", seed: 103, count: 400)),
        C(name: "ours-antispam-features.inspect", config: .oursRelay, script: .inspect),
        C(name: "ours-routing-features.3-0.addresses", config: .oursRouting,
          script: .addresses(prefix: "3,0 ", seed: 104, count: 600)),
        C(name: "ours-routing-features.try.addresses", config: .oursRouting,
          script: .tryMailer(["esmtp", "smtp", "relay", "local"], seed: 105, count: 300)),
        C(name: "ours-default-local.3-0.addresses", config: .oursDefault,
          script: .addresses(prefix: "3,0 ", seed: 106, count: 600)),
        C(name: "ours-default-local.inspect", config: .oursDefault, script: .inspect),
        C(name: "ours-all-mailers.inspect", config: .oursMailers, script: .inspect),
        C(name: "ours-all-mailers.try.addresses", config: .oursMailers,
          script: .tryMailer(["local", "prog", "esmtp", "relay", "uucp-dom", "procmail", "cyrusv2"], seed: 107, count: 300)),
        C(name: "errors.addresses", config: .errors, script: .addresses(prefix: "3 ", seed: 91, count: 1800)),
    ]
}
