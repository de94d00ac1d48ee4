// SMMaps/MapEnvironment.swift
//
// Everything a map may need from the outside world, injected so tests can
// replace it: the hosts file (HostsFile), the service switch file
// (ServiceSwitchFile), the ConfigLevel (V line), whether the delivery mode
// is "defer", a clock, the local host test ($=w) used to rank MX hosts,
// the DNS resolver and the program runner.  Promises: the defaults are
// sendmail's (/etc/hosts, /etc/mail/service.switch, the system resolver).
import Glibc

public struct MapEnvironment: Sendable {
    /// DontBlameSendmail names in force (lower case).
    public var dontBlame: Set<String> = []
    /// HostsFile option.
    public var hostsFile: String = "/etc/hosts"
    /// ServiceSwitchFile option.
    public var serviceSwitchFile: String = "/etc/mail/service.switch"
    /// The V line's level (the built-in host map gets `-a. -D` from 2 on).
    public var configLevel: Int = 10
    /// The current delivery mode is "defer" (DeliveryMode=d).
    public var deliveryModeIsDefer: Bool = false
    /// Seconds since the epoch (for caches and the MX tie-break seed).
    public var clock: @Sendable () -> Int = { Int(time(nil)) }
    /// Whether a host name is one of ours ($=w), for MX ordering.
    public var isLocalHost: @Sendable ([UInt8]) -> Bool = { _ in false }
    /// The DNS resolver.
    public var resolver: DNSResolving = SystemResolver()
    /// Runs a program map's command: argv, returns (first read of stdout,
    /// exit status) or nil when it cannot be started.
    public var runProgram: @Sendable ([[UInt8]]) -> ProgramOutcome? = { ProgramRunner.run($0) }
    /// HasWildcardMX option.
    public var hasWildcardMX: Bool = false
    /// DontExpandCnames option.
    public var dontExpandCnames: Bool = false
    /// TryNullMXList option.
    public var tryNullMXList: Bool = false
    /// ResolverOptions' WorkAroundBrokenAAAA.
    public var workAroundBrokenAAAA: Bool = false
    /// FallbackMXhost option (nil: none).
    public var fallbackMX: [UInt8]? = nil
    /// syslog(3) for the syslog map: (priority, text).
    public var syslog: @Sendable (Int32, [UInt8]) -> Void = { prio, text in
        var t = text
        t.append(0)
        t.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { cs in
                withVaList([cs]) { vsyslog(prio, "%s", $0) }
            }
        }
    }

    public init() {}
}

/// What a program map's command produced.
public struct ProgramOutcome: Sendable, Equatable {
    /// The first read from its stdout (at most 2047 bytes).
    public var output: [UInt8]
    /// Its exit status, or nil when it died on a signal.
    public var exitStatus: Int32?
    public init(output: [UInt8], exitStatus: Int32?) {
        self.output = output
        self.exitStatus = exitStatus
    }
}
