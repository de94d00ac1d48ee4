// SMConfig/Options.swift
//
// The option names sendmail 8.17 knows (long names and their one-letter
// forms), name resolution with unique-prefix abbreviations as sendmail
// does it, and the option values kept by name.  Promises: pure; unknown
// and ambiguous names get sendmail's messages.

import SMBase

public enum OptionNames {
    /// (long name, one-letter code or nil), in sendmail's table order.
    public static let table: [(String, Character?)] = [
        ("SevenBitInput", "7"), ("EightBitMode", "8"), ("AliasFile", "A"), ("AliasWait", "a"),
        ("BlankSub", "B"), ("MinFreeBlocks", "b"), ("CheckpointInterval", "C"), ("HoldExpensive", "c"),
        ("DeliveryMode", "d"), ("ErrorHeader", "E"), ("ErrorMode", "e"), ("TempFileMode", "F"),
        ("SaveFromLine", "f"), ("MatchGECOS", "G"), ("HelpFile", "H"), ("MaxHopCount", "h"),
        ("ResolverOptions", "I"), ("IgnoreDots", "i"), ("ForwardPath", "J"), ("SendMimeErrors", "j"),
        ("ConnectionCacheSize", "k"), ("ConnectionCacheTimeout", "K"), ("UseErrorsTo", "l"),
        ("LogLevel", "L"), ("MeToo", "m"), ("CheckAliases", "n"), ("OldStyleHeaders", "o"),
        ("DaemonPortOptions", "O"), ("PrivacyOptions", "p"), ("PostmasterCopy", "P"),
        ("QueueFactor", "q"), ("QueueDirectory", "Q"), ("DontPruneRoutes", "R"), ("Timeout", "r"),
        ("StatusFile", "S"), ("SuperSafe", "s"), ("QueueTimeout", "T"), ("TimeZoneSpec", "t"),
        ("UserDatabaseSpec", "U"), ("DefaultUser", "u"), ("FallbackMXhost", "V"), ("Verbose", "v"),
        ("TryNullMXList", "w"), ("QueueLA", "x"), ("RefuseLA", "X"), ("RecipientFactor", "y"),
        ("ForkEachJob", "Y"), ("ClassFactor", "z"), ("RetryFactor", "Z"),
        ("QueueSortOrder", nil), ("HostsFile", nil), ("MinQueueAge", nil), ("DefaultCharSet", nil),
        ("ServiceSwitchFile", nil), ("DialDelay", nil), ("NoRecipientAction", nil),
        ("SafeFileEnvironment", nil), ("MaxMessageSize", nil), ("ColonOkInAddr", nil),
        ("MaxQueueRunSize", nil), ("MaxDaemonChildren", nil), ("DontExpandCnames", nil),
        ("MustQuoteChars", nil), ("SmtpGreetingMessage", nil), ("UnixFromLine", nil),
        ("OperatorChars", nil), ("DontInitGroups", nil), ("SingleLineFromHeader", nil),
        ("AllowBogusHELO", nil), ("ConnectionRateThrottle", nil), ("UnsafeGroupWrites", nil),
        ("DoubleBounceAddress", nil), ("HostStatusDirectory", nil), ("SingleThreadDelivery", nil),
        ("RunAsUser", nil), ("RrtImpliesDsn", nil), ("PidFile", nil), ("DontBlameSendmail", nil),
        ("DontProbeInterfaces", nil), ("MaxRecipientsPerMessage", nil), ("DeadLetterDrop", nil),
        ("MaxAliasRecursion", nil), ("ConnectOnlyTo", nil), ("TrustedUser", nil),
        ("MaxMimeHeaderLength", nil), ("ControlSocketName", nil), ("MaxHeadersLength", nil),
        ("ProcessTitlePrefix", nil), ("DefaultAuthInfo", nil), ("AuthMechanisms", nil),
        ("ClientPortOptions", nil), ("DataFileBufferSize", nil), ("XscriptFileBufferSize", nil),
        ("LDAPDefaultSpec", nil), ("ServerCertFile", nil), ("ServerKeyFile", nil),
        ("ClientCertFile", nil), ("ClientKeyFile", nil), ("CACertFile", nil), ("CACertPath", nil),
        ("DHParameters", nil), ("InputMailFilters", nil), ("Milter", nil), ("AuthOptions", nil),
        ("QueueFileMode", nil), ("CertFingerprintAlgorithm", nil), ("CipherList", nil),
        ("RandFile", nil), ("TLSSrvOptions", nil), ("BadRcptThrottle", nil), ("DeliverByMin", nil),
        ("MaxQueueChildren", nil), ("MaxRunnersPerQueue", nil), ("DirectSubmissionModifiers", nil),
        ("NiceQueueRun", nil), ("SharedMemoryKey", nil), ("AuthMaxBits", nil),
        ("MailboxDatabase", nil), ("UseMSP", nil), ("DelayLA", nil), ("FastSplit", nil),
        ("SoftBounce", nil), ("SharedMemoryKeyFile", nil), ("RejectLogInterval", nil),
        ("RequiresDirfsync", nil), ("ConnectionRateWindowSize", nil), ("CRLFile", nil),
        ("FallbackSmartHost", nil), ("AuthRealm", nil), ("CRLPath", nil), ("HeloName", nil),
        ("MaxNOOPCommands", nil), ("BadRcptShutdown", nil), ("BadRcptShutdownGood", nil),
        ("ServerSSLOptions", nil), ("ClientSSLOptions", nil), ("MaxQueueAge", nil),
        ("RejectNUL", nil), ("UseCompressedIPv6Addresses", nil), ("SSLEngine", nil),
        ("SSLEnginePath", nil), ("TLSFallbacktoClear", nil), ("SetCertAltnames", nil),
        ("SmtpUTF8", nil), ("StrictTransportSecurity", nil), ("CipherSuites", nil),
    ]

    /// What `sendmail -bO` lists: the table's names in order, with the two
    /// nameless slots sendmail keeps (after MatchGECOS and after MeToo).
    public static var listing: [String] {
        var out: [String] = []
        for (n, _) in table {
            out.append(n)
            if n == "MatchGECOS" || n == "MeToo" { out.append("") }
        }
        return out
    }

    public enum Resolution: Equatable {
        case found(String, abbreviated: Bool)
        case unknown
        case ambiguous(String, String)
    }

    /// Resolves a long name (case-insensitive, unique prefix allowed).
    public static func resolve(_ name: String) -> Resolution {
        let lower = name.lowercased()
        var sel: String? = nil
        for (n, _) in table {
            let ln = n.lowercased()
            guard ln.hasPrefix(lower) else { continue }
            if ln.count == lower.count { return .found(n, abbreviated: false) }
            if let s = sel { return .ambiguous(s, n) }
            sel = n
        }
        if let s = sel { return .found(s, abbreviated: true) }
        return .unknown
    }

    /// The long name for a one-letter option.
    public static func name(forCode c: Character) -> String? {
        table.first { $0.1 == c }?.0
    }
}

/// Option values as set by the cf and the command line, by long name.
public struct OptionValues: Sendable {
    public var values: [String: [UInt8]] = [:] { didSet { generation &+= 1 } }
    /// Counts the changes to `values`, so that a value read often (once an
    /// address) can be kept parsed until an option changes.
    public private(set) var generation = 0
    /// Sub-options (`Timeout.queuereturn`, `Milter.macros.connect`).
    public var subValues: [String: [UInt8]] = [:]
    /// Names set on the command line: the cf may not override them.
    public var sticky: Set<String> = []
    /// Every value set, in order, by name: options that accumulate
    /// (each DaemonPortOptions line is one more listener).
    public var history: [String: [[UInt8]]] = [:]

    public init() {}

    public subscript(_ name: String) -> [UInt8]? {
        get { values[name] }
        set {
            values[name] = newValue
            if let v = newValue { history[name, default: []].append(v) }
        }
    }

    public func bool(_ name: String, default d: Bool = false) -> Bool {
        guard let v = values[name] else { return d }
        return parseBool(v)
    }
}

/// DontBlameSendmail: the safety checks a site has relaxed, as the
/// lower-case names sendmail knows (comma- or space-separated, any case).
public enum DontBlame {
    public static let names: Set<String> = [
        "safe", "assumesafechown", "groupwritabledirpathsafe", "groupwritableforwardfilesafe",
        "groupwritableincludefilesafe", "groupwritablealiasfile", "worldwritablealiasfile",
        "forwardfileinunsafedirpath", "includefileinunsafedirpath", "mapinunsafedirpath",
        "linkedaliasfileinwritabledir", "linkedclassfileinwritabledir", "linkedmapinwritabledir",
        "filedeliverytohardlink", "filedeliverytosymlink", "writemaptohardlink", "writemaptosymlink",
        "writestatstohardlink", "writestatstosymlink", "classfileinunsafedirpath",
        "errorheaderinunsafedirpath", "helpfileinunsafedirpath", "runprograminunsafedirpath",
        "runwritableprogram", "nonrootsafeaddr", "truststickybit", "insufficiententropy",
        "groupreadablesasldbfile", "groupwritablesasldbfile", "groupwritableforwardfile",
        "groupwritableincludefile", "worldwritableforwardfile", "worldwritableincludefile",
        "groupreadablekeyfile", "linkedforwardfileinwritabledir", "linkedincludefileinwritabledir",
        "linkedserviceswitchfileinwritabledir", "forwardfileingroupwritabledirpath",
        "includefileingroupwritabledirpath", "forwardfileinunsafedirpathsafe",
        "includefileinunsafedirpathsafe", "dontwarnforwardfileinunsafedirpath",
        "groupreadabledefaultauthinfofile",
    ]

    /// The items of an option value as given; empty items dropped.
    public static func rawItems(_ value: [UInt8]) -> [String] {
        value.split(whereSeparator: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: " ") || $0 == 9 })
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// The items, lower-cased.
    public static func items(_ value: [UInt8]) -> [String] { rawItems(value).map { $0.lowercased() } }
}

extension OptionValues {
    /// The DontBlameSendmail relaxations in force (lower-case names).
    public var dontBlame: Set<String> {
        guard let v = values["DontBlameSendmail"] else { return [] }
        return Set(DontBlame.items(v))
    }
}

/// sendmail's atobool: empty or t/T/y/Y is true.
public func parseBool(_ v: [UInt8]) -> Bool {
    guard let c = v.first else { return true }
    return c == UInt8(ascii: "t") || c == UInt8(ascii: "T") || c == UInt8(ascii: "y") || c == UInt8(ascii: "Y")
}
