// SMEngine/Engine.swift
//
// One loaded sendmail: start-up macros and classes from the host's
// identity, command-line options, the cf, the maps, and a rewrite engine
// over them, set up in the order sendmail's main() uses (which decides
// what $w, $=w and the warnings look like).
// Promises: every message sendmail prints while starting is written to
// `out` in sendmail's order; nothing here exits the process.
// `init(prototype:)` makes a per-connection engine for the daemon: it
// shares the prototype's parsed Configuration (read only after loading:
// rulesets, classes, mailers, options) and gives the copy its own macro
// table, map set (maps reopen lazily; a delivery worker passes one that
// its messages share one after another, the daemon one from its pool that
// its sessions share one after another), alias cache and error state, so
// sessions on different threads never share mutable state.

import Glibc
import SMBase
import SMRules
import SMConfig
import SMMaps

public let sendmailVersion = "8.17.1.9"

/// How the program was asked to run (what main() needs before reading).
public struct StartOptions: Sendable {
    public var configFile: String
    public var configGivenOnCommandLine = false
    public var testMode = false
    /// -o/-O options, in order: (code or " ", rest).
    public var commandLineOptions: [(UInt8, [UInt8])] = []
    /// -M macros, in order.
    public var commandLineMacros: [[UInt8]] = []
    public var realUserName: [UInt8] = Array("root".utf8)
    public var realUID: UInt32 = 0
    /// -n: no alias expansion.
    public var noAlias = false
    /// The long macro names sendmail's argument loop gives -N, -R and -V
    /// ({dsn_notify}, {dsn_ret}, {dsn_envid}) before daemon_flags.
    public var argumentMacroNames: [[UInt8]] = []
    /// Descriptors above 2 open when we started (the caller's): a
    /// background delivery closes them.
    public var inheritedDescriptors: [Int32] = []

    public init(configFile: String) {
        self.configFile = configFile
    }
}

public final class Engine: CfReporter {
    public let config: Configuration
    public let out: OutputBuffer
    public let rewriter: RewriteEngine
    public private(set) var maps: MapSet
    public let identity: HostIdentitySource
    /// sendmail's ExitStat (kept by the rewrite engine, which sees most errors).
    /// sendtolist() does not say "duplicate suppressed" (a bounce's
    /// recipients, as sendmail's returntosender()).
    var quietDuplicates = false
    /// A delivery at submission time (DeliveryMode i or b), not a queue
    /// run: permanent failures are not printed (sendmail's HoldErrs), and
    /// the sender is the controlling address of the delivery lines.
    var submissionDelivery: Bool { entryDelivery.map { $0 != .queueRun } ?? false }
    /// ... of a message an SMTP session received (-bs): its sender is the
    /// controlling address only when it is a local user (sendmail's
    /// QGOODUID), not with the caller's ids.
    var sessionDelivery: Bool { entryDelivery == .session || entryDelivery == .sessionChild }
    /// Who asked for the queue entry being delivered (nil between entries).
    var entryDelivery: EntryDelivery? = nil
    /// While a queue run delivers recipients it expanded itself
    /// (QueueExpand.swift): those that have no controlling user in memory
    /// (local users an alias or .forward gave), by qf index.
    var uncontrolledRecipients: Set<Int> = []
    /// ... and the ctladdr= their delivery lines show (programs, files:
    /// "<alias> (uid/gid)"), by qf index.
    var expandedControlText: [Int: String] = [:]
    /// An SMTP session's controlling addresses as RCPT gave them (the
    /// alias or user as its q_paddr, "<file>"), by the name the qf's C
    /// line holds ("file"): ctladdr= of the session's own deliveries
    /// (MailLog.swift).
    var sessionControlNames: [[UInt8]: [UInt8]] = [:]
    /// ... and each recipient's address as the expansion parsed it (those
    /// ruleset 5 handed to another mailer as resolved).
    var mappedRecipients: [Int: ParsedAddress] = [:]
    /// EightBitAddrOK and Verbose as last parsed, with the options'
    /// generation they were parsed at (AddressParser.swift's cachedOption).
    var eightBitAddrOKCache: (generation: Int, value: Bool) = (-1, false)
    var verboseOptionCache: (generation: Int, value: Bool) = (-1, false)
    /// The connection cache of this job (SMTPDelivery.swift): sendmail's
    /// MciCache, ConnectionCacheSize slots once first scanned (empty
    /// before), closed when the job ends; the message bytes of the
    /// transaction in progress.
    var connectionSlots: [SMTPConnection?] = []
    var pendingMessage: [UInt8] = []
    /// The recipients of the entry being delivered that were its qf's own
    /// (QueueExpand's fromQueue): primary in its DSNs.
    var queueReadRecipients: Set<Int> = []
    /// The control files a queue run takes: qf, or hf (-qQ) or Qf (-qL).
    var controlPrefix = "qf"
    /// The SMTP client's TLS context, once built (SMTPDelivery+TLS.swift).
    var smtpClientTLS: AnyObject? = nil
    /// What this process's connection attempts found of each SMTP host
    /// (sendmail's mci status), by mailer and lower-cased host name.
    var smtpHostStatus: [String: HostStatusRecord] = [:]
    /// How deep deliverLockedEntry is (a bounce is delivered inside).
    var jobDepth = 0
    /// sendmail's e_msgsize of envelopes made in this process, by queue
    /// ID (collect()'s count at submission, a bounce's estimate), for
    /// SMTP's SIZE=; a queued message read back gets it from its files.
    var envelopeSizes: [[UInt8]: Int] = [:]
    /// Called when a bounce has been queued, before it is delivered, with
    /// its queue ID and its recipient (a submission refused by a header
    /// check: sendmail runs the checks again on the returned headers).
    var bounceQueued: ((_ bounceID: [UInt8], _ recipient: [UInt8]) -> Void)? = nil
    /// "Message delivered to mailing list <alias>" for each alias with an
    /// owner that alias() expanded, and "<alias>... expanded to multiple
    /// addresses" (`successOf`: shown when that alias asked for NOTIFY=SUCCESS) for each that
    /// gave more than one address: lines of the envelope's transcript,
    /// each with the number of error lines recorded before it.
    var mailingListNotes: [(at: Int, line: [UInt8], successOf: Recipient?)] = []
    /// Delivering a split envelope (an owner's): its sender is the owner
    /// and never has the caller's ids.
    var deliveringClone = false
    /// An SMTP session's VERB (SMTPServer+Verb.swift): verbose from then
    /// on, as the Verbose option would make it (the option itself is the
    /// shared configuration's).
    public var sessionVerbose = false
    /// sendmail's RealHostName while a daemon's SMTP session delivers in
    /// its own process (VERB): its bounces name it in Received-From-MTA.
    public var realHostName: [UInt8]? = nil

    public var exitStatus: SysExit {
        get { rewriter.exitStatus }
        set { rewriter.exitStatus = newValue }
    }
    public let options: StartOptions
    /// OpMode is MD_INITALIAS (newaliases): parse errors don't queue.
    public var initializingAliases = false
    /// sendmail's EF_VRFYONLY: recipients are checked, aliases and
    /// .forward files not expanded (SMTP RCPT in queue-only mode, VRFY).
    public var verifyOnly = false
    /// Where syslog lines go (sendmail's from=/to= lines); nil: nowhere.
    public var logSink: MailLogSink? = SyslogSink()
    /// `-X file`: the traffic log (TrafficLog.swift), nil without -X.
    public var trafficLog: TrafficLog? = nil
    /// Where the last parseAddress stopped (sendmail's delimptr).
    public var lastParseEnd = 0
    /// Alias databases opened for lookups, by internal name.
    var openAliasTables: [[UInt8]: AliasTable?] = [:]

    // CfReporter
    public func configError(_ message: String) {
        out.writeMessage(message)
        if exitStatus == .ok { exitStatus = .software }
    }

    public func notice(_ message: String) {
        out.write(message)
        out.write("\n")
    }

    /// A fresh engine over a loaded prototype's configuration (see the
    /// file comment); `out` receives what the copy prints.  `maps`: a map
    /// set to use instead of a new one (a delivery worker's, used by its
    /// messages one after another as a queue run's engine uses its maps;
    /// a daemon session's, from the daemon's pool).
    public init(prototype p: Engine, out: OutputBuffer, maps shared: MapSet? = nil) {
        options = p.options
        self.out = out
        identity = p.identity
        config = p.config
        logSink = p.logSink
        let r = RewriteEngine(rulesets: p.rewriter.rulesets, classes: p.rewriter.classes, names: p.rewriter.names,
                              macros: p.rewriter.macros, tables: p.rewriter.tables, out: out)
        r.spaceSub = p.rewriter.spaceSub
        r.deferMode = p.rewriter.deferMode
        r.testMode = p.rewriter.testMode
        rewriter = r
        maps = shared ?? MapSet(declarations: p.config.maps, environment: p.maps.environment)
        r.maps = maps
    }

    /// Loads everything.  The cf bytes are passed in (nil: file missing,
    /// already reported by the caller).
    public init(options: StartOptions, cfData: [UInt8], out: OutputBuffer,
                identity: HostIdentitySource = SystemHostIdentity(), source: CfSource = SystemCfSource(),
                now: time_t = time(nil)) {
        self.options = options
        self.out = out
        self.identity = identity
        let config = Configuration(fileName: options.configFile)
        self.config = config
        let w = Int(UInt8(ascii: "w"))

        // macros sendmail sets before reading the cf
        config.macros[Int(UInt8(ascii: "v"))] = Array(sendmailVersion.utf8)
        var jbuf = identity.hostName()
        let hp = identity.lookupHost(jbuf)
        if let hp, hp.canonical.contains(UInt8(ascii: ".")) || !jbuf.contains(UInt8(ascii: ".")) {
            if hp.canonical.contains(UInt8(ascii: ".")) { jbuf = hp.canonical }
        }
        if !jbuf.isEmpty {
            config.macros[w] = jbuf
            config.macros[Int(UInt8(ascii: "j"))] = jbuf
            config.classes.add(jbuf, to: w)
            if let dot = jbuf.firstIndex(of: UInt8(ascii: ".")), dot + 1 < jbuf.count {
                config.macros[Int(UInt8(ascii: "m"))] = Array(jbuf[(dot + 1)...])
            }
            let node = identity.nodeName()
            config.macros[Int(UInt8(ascii: "k"))] = node
            config.classes.add(node, to: Int(UInt8(ascii: "k")))
            config.classes.add(node, to: w)
        }
        if let hp {
            for a in hp.aliases { config.classes.add(a, to: w) }
            for a in hp.addresses { config.classes.add(a, to: w) }
        }
        config.macros[Int(UInt8(ascii: "b"))] = arpaDate(now)
        if let opm = config.names.existingID(forLongName: Array("opMode".utf8)) {
            config.macros[opm] = options.testMode ? [UInt8(ascii: "t")] : [UInt8(ascii: "m")]
        }

        self.rewriter = RewriteEngine(rulesets: RulesetTable(), classes: config.classes, names: config.names,
                                      macros: MacroTable(), tables: TokenTables(operatorChars: Array(".:@[]".utf8)),
                                      out: out)
        self.maps = MapSet(declarations: [])
        self.rewriter.testMode = options.testMode

        // (-N, -R, -V name their macros before daemon_flags is named)
        config.names.nameBeforeDaemonFlags(options.argumentMacroNames)
        // command-line options and macros (sticky)
        var reader = CfReader(config: config, source: source, reporter: self)
        reader.testMode = options.testMode
        reader.knownMapClass = { MapSet.isClassAvailable($0) }
        // K lines are parsed where they stand, so their problems print in
        // order with the rest; the real maps are built after the read
        let scratchMaps = MapSet(declarations: [], environment: MapEnvironment(), builtins: false)
        reader.onMapDeclared = { d in
            let before = scratchMaps.diagnostics.count
            scratchMaps.declare(d)
            for diag in scratchMaps.diagnostics[before...] { self.configError(diag.description) }
        }
        for (code, rest) in options.commandLineOptions {
            reader.setCommandLineOption(code, rest)
        }
        for m in options.commandLineMacros {
            let (id, end) = config.names.parse(m, at: 0, report: { self.configError($0) })
            if id != 0 { config.macros[id] = Array(m[end...]) }
        }
        reader.read(cfData)

        // after readcf
        let underscore = options.realUserName + Array("@localhost".utf8)
        config.macros[Int(UInt8(ascii: "_"))] = underscore
        let mval = expandMacros([Meta.macroExpand, UInt8(ascii: "m")], config.macros)
        if !mval.isEmpty { config.classes.add(mval, to: Int(UInt8(ascii: "m"))) }
        let dpi = config.options["DontProbeInterfaces"]
        let probe: Int  // 0 none, 1 skip loopback, 2 all
        if let d = dpi, d.asciiCaseEquals(Array("loopback".utf8)) { probe = 1 } else if let d = dpi, parseBool(d) { probe = 0 } else { probe = 2 }
        if probe > 0 {
            for (addr, loopback) in identity.interfaceAddresses() {
                if probe == 1 && loopback { continue }
                let ip = [UInt8(ascii: "[")] + addr + [UInt8(ascii: "]")]
                if !config.classes.contains(ip, in: w) { config.classes.add(ip, to: w) }
                for (i, name) in identity.reverseLookup(addr).enumerated() {
                    _ = i
                    if !config.classes.contains(name, in: w) {
                        config.classes.add(name, to: w)
                        let bracketed = [UInt8(ascii: "[")] + name + [UInt8(ascii: "]")]
                        if !config.classes.contains(bracketed, in: w) { config.classes.add(bracketed, to: w) }
                    }
                }
            }
        }
        if config.configLevel > 10 {
            configError("Warning: .cf version level (\(config.configLevel)) exceeds sendmail version \(sendmailVersion) functionality (10)")
        }
        if config.configLevel < 10 {
            notice("Warning: .cf file is out of date: sendmail \(sendmailVersion) supports version 10, .cf file is version \(config.configLevel)")
        }
        // host status needs the connection cache; SingleThreadDelivery the host status
        if let hs = config.options["HostStatusDirectory"], !hs.isEmpty,
           config.options["ConnectionCacheSize"].map({ CfReader.leadingInt($0) == 0 }) == true {
            notice("Warning: HostStatusDirectory disabled with ConnectionCacheSize = 0")
            config.options["HostStatusDirectory"] = []
        }
        if config.options.bool("SingleThreadDelivery"), config.options["HostStatusDirectory"].map({ $0.isEmpty }) ?? true {
            notice("Warning: HostStatusDirectory required for SingleThreadDelivery")
            config.options["SingleThreadDelivery"] = Array("False".utf8)
        }
        // (not in -bt, which sendmail starts before it looks at the queue)
        if !options.testMode, let hs = config.options["HostStatusDirectory"], !hs.isEmpty, let dir = hostStatusDirectory {
            var st = stat()
            var problem: Int32 = 0
            if stat(dir, &st) != 0 { problem = Glibc.errno } else if (st.st_mode & S_IFMT) != S_IFDIR { problem = ENOTDIR }
            if problem != 0 {
                notice("Warning: Cannot use HostStatusDirectory = \(hs.string): \(String(cString: strerror(problem)))")
                config.options["HostStatusDirectory"] = []
            }
        }
        var myHostName = expandMacros([Meta.macroExpand, UInt8(ascii: "j")], config.macros)
        if myHostName.isEmpty { myHostName = Array("localhost".utf8) }
        if !myHostName.contains(UInt8(ascii: ".")) {
            notice("WARNING: local host name (\(myHostName.string)) is not qualified; see cf/README: WHO AM I?")
        }
        config.classes.add(myHostName, to: w)
        if config.mailer(named: Array("local".utf8)) == nil && !(options.testMode && options.configGivenOnCommandLine && options.realUID != 0) {
            configError("No local mailer defined")
        }
        for n in ["prog", "*file*"] {
            if let i = config.mailers.firstIndex(where: { $0?.name == Array(n.utf8) }) {
                config.mailers[i]!.flags.remove(UInt8(ascii: "m"))
            }
        }
        if config.configLevel < 6, let i = config.mailers.firstIndex(where: { $0?.name == Array("local".utf8) }), i != nil {
            for f in "Aw5:|/@" { config.mailers[i]!.flags.insert(UInt8(ascii: f.unicodeScalars.first!)) }
        }
        if config.configLevel < 7 {
            for n in ["local", "prog", "*file*"] {
                if let i = config.mailers.firstIndex(where: { $0?.name == Array(n.utf8) }) {
                    config.mailers[i]!.flags.insert(UInt8(ascii: "q"))
                }
            }
        }
        let cls: [(String, [String])] = [
            ("n", ["multipart/signed"]), ("s", ["rfc822"]), ("e", ["7bit", "8bit", "binary"]),
            ("{checkMIMEFieldHeaders}", ["content-disposition", "content-type"]),
            ("{checkMIMETextHeaders}", ["content-description"]),
            ("{checkMIMEHeaders}", ["content-disposition", "content-id", "content-transfer-encoding", "content-type", "mime-version"]),
            ("{persistentMacros}", ["r", "s", "_", "{if_addr}", "{daemon_flags}"]),
        ]
        for (c, words) in cls {
            guard let id = config.names.id(forName: Array(c.utf8)) else { continue }
            for word in words { config.classes.add(Array(word.utf8), to: id) }
        }

        // maps
        var env = MapEnvironment()
        env.dontBlame = config.options.dontBlame
        if let v = config.options["HostsFile"] { env.hostsFile = v.string }
        if let v = config.options["ServiceSwitchFile"] { env.serviceSwitchFile = v.string }
        env.configLevel = config.configLevel
        let classesRef = config.classes
        env.isLocalHost = { @Sendable name in classesRef.contains(name, in: Int(UInt8(ascii: "w"))) }
        if let d = config.options["DeliveryMode"], d.first == UInt8(ascii: "d") { env.deliveryModeIsDefer = true }
        // the resolver: ResolverOptions over resolv.conf, the MX-related options
        let resolverSettings = ResolverSettings(config.options["ResolverOptions"] ?? [])
        env.resolver = SystemResolver(settings: resolverSettings)
        env.hasWildcardMX = resolverSettings.hasWildcardMX ?? false
        env.workAroundBrokenAAAA = resolverSettings.workAroundBrokenAAAA ?? false
        env.dontExpandCnames = config.options.bool("DontExpandCnames")
        env.tryNullMXList = config.options.bool("TryNullMXList")
        if let v = config.options["FallbackMXhost"], !v.isEmpty { env.fallbackMX = v }
        self.maps = MapSet(declarations: config.maps, environment: env)

        // set_delivery_mode: test mode is verbose, which forces interactive
        if let id = config.names.id(forName: Array("deliveryMode".utf8)) {
            var mode = config.options["DeliveryMode"]?.first ?? UInt8(ascii: "i")
            if options.testMode { mode = UInt8(ascii: "i") }
            config.macros[id] = [mode]
        }
        // sm_getla: the load average, as an integer
        if let id = config.names.id(forName: Array("load_avg".utf8)) {
            config.macros[id] = Array(String(systemLoadAverage()).utf8)
        }

        // the rewrite engine over the loaded configuration
        rewriter.rulesets = config.rulesets
        rewriter.macros = config.macros
        rewriter.tables = config.tables()
        rewriter.spaceSub = config.spaceSub
        rewriter.maps = maps
    }
}

/// RFC 822 date as sendmail's arpadate: "Mon, 30 Nov 2026 01:22:29 GMT",
/// day without zero padding, "GMT" for a zero offset, else "+hhmm (TZ)".
public func arpaDate(_ t: time_t) -> [UInt8] {
    var tt = t
    var tmv = tm()
    localtime_r(&tt, &tmv)
    let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
    var s = "\(days[Int(tmv.tm_wday)]), \(tmv.tm_mday) \(months[Int(tmv.tm_mon)]) \(tmv.tm_year + 1900) "
    s += "\(two(tmv.tm_hour)):\(two(tmv.tm_min)):\(two(tmv.tm_sec)) "
    let off = tmv.tm_gmtoff / 60
    if off == 0 {
        s += "GMT"
    } else {
        let sign = off < 0 ? "-" : "+"
        let a = abs(off)
        s += "\(sign)\(two(Int32(a / 60)))\(two(Int32(a % 60)))"
        if let z = tmv.tm_zone { s += " (\(String(cString: z)))" }
    }
    return Array(s.utf8)
}
