// SMMaps/MapSet.swift
//
// The maps of one loaded configuration, built from its K lines in order,
// plus the maps sendmail defines itself when the configuration does not:
// `host` (`host -a. -D` from ConfigLevel 2), `aliases.files` (null) and
// `aliases` (switch aliases).  Promises: parse problems are collected in
// `diagnostics` with sendmail's wording and the K line's file and line
// (an unknown class gives "readcf: map X: class Y not available" and no
// map); maps open lazily on first use, as sendmail's openmap does.
// `isCurrent` says whether a used set may serve someone else (the daemon's
// pool of sets, SMDaemon/MapSetPool.swift).
import SMBase
import SMRules

public final class MapSet: MapProvider {
    private var maps: [[UInt8]: SendmailMap] = [:]
    /// Map names in declaration order (built-ins last).
    public private(set) var mapNames: [[UInt8]] = []
    public private(set) var diagnostics: [Diagnostic] = []
    public let environment: MapEnvironment
    public let serviceSwitch: ServiceSwitch
    public let hostResolution: HostResolution
    /// Canonical host names already looked up (sendmail's ST_NAMECANON).
    var nameCanonCache: [[UInt8]: HostMapBackend.Entry] = [:]
    /// Messages produced by lookups that had no context to print them.
    public internal(set) var unprintedMessages: [[UInt8]] = []
    /// Lookups that answered "try again later" (EX_TEMPFAIL).
    public internal(set) var tempFailures = 0
    /// The service switch file as it was read.
    private let switchVersion: FileVersion?
    /// What a user of the set keeps with it, made from files (the engine's
    /// open alias databases), with those files' versions when it was made:
    /// the set is current only while they are unchanged.
    private var attachments: [[UInt8]: (value: AnyObject, files: [(path: String, version: FileVersion?)])] = [:]

    /// The attachment kept under `key`, if any.
    public func attachment(_ key: [UInt8]) -> AnyObject? { attachments[key]?.value }

    /// Makes and keeps an attachment: the files' versions are taken first,
    /// so that a file replaced while `make` reads it makes the set stale.
    /// A nil from `make` keeps nothing.
    public func attach(_ key: [UInt8], madeFrom files: [String], _ make: () -> AnyObject?) -> AnyObject? {
        let versions = files.map { (path: $0, version: FileVersion($0)) }
        guard let value = make() else { return nil }
        attachments[key] = (value, versions)
        return value
    }

    /// The class names this sendmail knows (conf.c setupmaps, as compiled
    /// into Debian's 8.17: NEWDB, NIS, NISPLUS, LDAP, DNSMAP, SOCKETMAP,
    /// MAP_REGEX).
    public static let classNames: [String] = [
        "hash", "btree", "implicit", "text", "stab", "user", "host", "dns", "bestmx",
        "dequote", "regex", "program", "sequence", "switch", "null", "syslog", "macro",
        "arith", "arpa", "socket", "ldap", "nis", "nisplus",
    ]

    /// Whether a K line may name this class (case-sensitive, as stab()
    /// lookups of ST_MAPCLASS are after lowercasing... sendmail compares
    /// class names as written; "Hash" is not "hash").
    public static func isClassAvailable(_ name: [UInt8]) -> Bool {
        classNames.contains(name.string)
    }

    /// `builtins: false` gives a set of only the declared maps (used to
    /// check K lines while the cf is read).
    public init(declarations: [MapDeclaration], environment: MapEnvironment = MapEnvironment(),
                builtins: Bool = true) {
        self.environment = environment
        self.switchVersion = FileVersion(environment.serviceSwitchFile)
        self.serviceSwitch = ServiceSwitch(path: environment.serviceSwitchFile)
        self.hostResolution = HostResolution(environment: environment, serviceSwitch: serviceSwitch)
        for d in declarations { declare(d) }
        if builtins { addBuiltins() }
    }

    public func map(named name: [UInt8]) -> RewriteMap? { maps[name.asciiLowercased] }

    /// The concrete map (for `-bt /map`'s "not open" and statuses).
    public func sendmailMap(named name: [UInt8]) -> SendmailMap? { maps[name.asciiLowercased] }

    /// Adds one K line (also usable after init, e.g. for -bt or tests).
    public func declare(_ d: MapDeclaration) {
        var messages: [String] = []
        let cls = d.className.string
        guard Self.isClassAvailable(d.className) else {
            diagnostics.append(Diagnostic(file: d.file, line: d.line,
                                          "readcf: map \(d.name.string): class \(cls) not available"))
            return
        }
        var spec = MapSpec(name: d.name, className: d.className)
        let backend = makeBackend(cls, &spec, d.arguments, &messages)
        for m in messages { diagnostics.append(Diagnostic(file: d.file, line: d.line, m)) }
        let map = SendmailMap(spec: spec, backend: backend, set: self)
        let key = d.name.asciiLowercased
        if maps[key] == nil { mapNames.append(d.name) }
        maps[key] = map
    }

    private func makeBackend(_ cls: String, _ spec: inout MapSpec, _ args: [UInt8],
                             _ messages: inout [String]) -> MapBackend {
        switch cls {
        case "hash": spec.parseGeneric(args, fileOptional: false, messages: &messages); return DBMapBackend(kind: .hash)
        case "btree": spec.parseGeneric(args, fileOptional: false, messages: &messages); return DBMapBackend(kind: .btree)
        case "implicit": spec.parseGeneric(args, fileOptional: false, messages: &messages); return ImplicitMapBackend()
        case "text": spec.parseGeneric(args, fileOptional: false, messages: &messages); return TextMapBackend()
        case "stab": spec.parseGeneric(args, fileOptional: false, messages: &messages); return StabMapBackend()
        case "user": spec.parseGeneric(args, fileOptional: true, messages: &messages); return UserMapBackend()
        case "bestmx": spec.parseGeneric(args, fileOptional: true, messages: &messages); return BestMXMapBackend()
        case "null": spec.parseGeneric(args, fileOptional: true, messages: &messages); return NullMapBackend()
        case "program": spec.parseGeneric(args, fileOptional: false, messages: &messages); return ProgramMapBackend()
        case "switch":
            spec.parseGeneric(args, fileOptional: false, messages: &messages)
            return SequenceMapBackend(members: [], isSwitch: true)
        case "sequence":
            spec.parseSequence(args)
            var members: [SendmailMap?] = []
            for m in spec.memberNames {
                if let s = maps[m.asciiLowercased] { members.append(s) } else {
                    messages.append("Sequence map \(spec.name.string): unknown member map \(m.string)")
                }
            }
            if members.count > 12 {
                messages.append("Sequence map \(spec.name.string): too many member maps (12 max)")
                members = Array(members.prefix(12))
            }
            return SequenceMapBackend(members: members, isSwitch: false)
        case "host": spec.parseHost(args); return HostMapBackend()
        case "dns": DNSMapBackend.parse(&spec, args, messages: &messages); return DNSMapBackend()
        case "regex": return RegexMapBackend.parse(&spec, args, messages: &messages)
        case "dequote": spec.parseDequote(args); return DequoteMapBackend()
        case "macro": spec.parseDequote(args); return MacroMapBackend()
        case "arith": spec.parseDequote(args); return ArithMapBackend()
        case "arpa": spec.parseDequote(args); return ArpaMapBackend()
        case "syslog": spec.parseSyslog(args); return SyslogMapBackend()
        case "socket":
            spec.parseGeneric(args, fileOptional: false, messages: &messages)
            return NullMapBackend(unavailable: "socket map \"\(spec.name.string)\": socket maps are not implemented")
        default: // ldap, nis, nisplus
            if cls != "ldap" { spec.parseGeneric(args, fileOptional: false, messages: &messages) }
            return NullMapBackend(unavailable: "\(cls) map \"\(spec.name.string)\": \(cls) maps are not implemented")
        }
    }

    /// inithostmaps: host, aliases.files, aliases.
    private func addBuiltins() {
        let host = Array("host".utf8)
        if maps[host] == nil {
            declare(MapDeclaration(name: host, className: host,
                                   arguments: environment.configLevel >= 2 ? Array("-a. -D".utf8) : [],
                                   file: "", line: 0))
        }
        for m in serviceSwitch.methods(for: Array("aliases".utf8)) ?? [] where m == Array("files".utf8) {
            let n = Array("aliases.files".utf8)
            if maps[n] == nil {
                declare(MapDeclaration(name: n, className: Array("null".utf8), arguments: [], file: "", line: 0))
            }
        }
        let aliases = Array("aliases".utf8)
        if maps[aliases] == nil {
            declare(MapDeclaration(name: aliases, className: Array("switch".utf8),
                                   arguments: aliases, file: "", line: 0))
        }
    }

    /// Whether the set answers as a new set over the same declarations
    /// would, so that another user (the next SMTP session) may take it:
    /// `isClean`, and every open map's files and the service switch file
    /// are unchanged since they were read.  (Maps read their files lazily,
    /// so a set nobody used is current.)
    public var isCurrent: Bool {
        guard isClean, FileVersion(environment.serviceSwitchFile) == switchVersion else { return false }
        return maps.values.allSatisfy { $0.isFresh(checkingFiles: true) }
            && attachments.values.allSatisfy { $0.files.allSatisfy { FileVersion($0.path) == $0.version } }
    }

    /// What `isCurrent` checks without looking at files: no lookup failed
    /// temporarily, no map's open failed (sendmail's bogus map, an optional
    /// map left closed), no message is waiting.
    public var isClean: Bool {
        tempFailures == 0 && unprintedMessages.isEmpty && maps.values.allSatisfy { $0.isFresh(checkingFiles: false) }
    }

    // MARK: -bt helpers

    /// `/canon host`: getcanonname(host, trymx: !HasWildcardMX).  The printed
    /// line is "getcanonname(<host>) returns <name>".
    public func canonicalName(_ host: [UInt8], localDomain: [UInt8]?) -> HostResolution.Canonical {
        hostResolution.canonicalName(host, tryMX: !environment.hasWildcardMX, localDomain: localDomain)
    }

    /// `/mx host`: getmxrr(host, no local-host dropping, with the
    /// FallbackMXhost).  Printed as "getmxrr(<host>) returns <count>
    /// value(s):" then TAB host lines.
    public func mxHosts(_ host: [UInt8], localDomain: [UInt8]?) -> HostResolution.MXResult {
        hostResolution.mxHosts(host, tryFallback: true, localDomain: localDomain)
    }
}
