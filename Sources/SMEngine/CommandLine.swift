// SMEngine/CommandLine.swift
//
// sendmail's command line: the argv[0] modes (mailq, newaliases, hoststat,
// purgestat, smtpd), sendmail's getopt string, the old one-letter option
// flags, and the operation mode from -b.  Parsing only: running a mode is
// the caller's business.
// Promises: arguments stay bytes; the first non-option ends the options
// (as sendmail's "+" getopt does); errors use sendmail's wording.

import SMBase

public struct CommandLine {
    public enum Mode: UInt8, Sendable {
        case deliver = 0x6D        // m
        case smtp = 0x73           // s
        case daemon = 0x64         // d
        case foregroundDaemon = 0x44 // D
        case test = 0x74           // t
        case verify = 0x76         // v
        case initAlias = 0x69      // i
        case printQueue = 0x70     // p
        case printQueueCount = 0x50 // P
        case hostStatus = 0x68     // h
        case purgeStatus = 0x48    // H
        case checkConfig = 0x43    // C
        case arpaFTP = 0x61        // a
        case showOptions = 0x4F    // O
        case queueRun = 0x71       // q (from -q)
    }

    public var argv0: [UInt8]
    public var mode: Mode = .deliver
    public var configFile: [UInt8]? = nil
    /// `-X file`: the traffic log.
    public var trafficLogFile: [UInt8]? = nil
    public var options: [(UInt8, [UInt8])] = []
    public var macros: [[UInt8]] = []
    public var debug: [[UInt8]] = []
    public var operands: [[UInt8]] = []
    public var from: [UInt8]? = nil
    public var fullName: [UInt8]? = nil
    public var readRecipients = false
    /// -Q: the quarantine reason to set ("." removes it).
    public var quarantine: [UInt8]? = nil
    /// -n: don't expand aliases.
    public var noAlias = false
    public var queueArgs: [[UInt8]] = []
    /// -N: DSN NOTIFY for the command-line recipients.
    public var notify: [UInt8]? = nil
    /// -R: DSN RET (hdrs or full).
    public var ret: [UInt8]? = nil
    /// -V: DSN ENVID.
    public var envid: [UInt8]? = nil
    /// -B: body type (7BIT or 8BITMIME).
    public var bodyType: [UInt8]? = nil
    /// Bad values of -N, -R, -V: printed in order, then sendmail exits
    /// with EX_USAGE before doing anything else.
    public var usageErrors: [String] = []
    /// A bad -B value: printed at once, but the message still goes (with
    /// no body type) and the exit status is EX_USAGE.
    public var bodyTypeError: String? = nil
    /// Messages to print and an exit status when parsing fails.
    public var error: (message: String, status: SysExit)? = nil
    /// getopt's own complaint (on stderr, then EX_USAGE).
    public var getoptError: String? = nil
    /// -h: the initial hop count.
    public var hopCount: Int? = nil

    static let optionString = Array("A:B:b:C:cD:d:e:F:f:Gh:IiL:M:mN:nO:o:p:Q:q:R:r:sTtUV:vX:".utf8)

    public init(_ args: [[UInt8]]) {
        argv0 = args.first ?? Array("sendmail".utf8)
        let base = Array(argv0.split(separator: UInt8(ascii: "/")).last ?? [])
        switch base.string {
        case "newaliases": mode = .initAlias
        case "mailq": mode = .printQueue
        case "hoststat": mode = .hostStatus
        case "purgestat": mode = .purgeStatus
        case "smtpd": mode = .daemon
        default: break
        }
        var takes: [UInt8: Bool] = [:]
        var i = 0
        while i < Self.optionString.count {
            let c = Self.optionString[i]
            let t = i + 1 < Self.optionString.count && Self.optionString[i + 1] == UInt8(ascii: ":")
            takes[c] = t
            i += t ? 2 : 1
        }
        // obsolete(): a -q without an argument (last, or followed by
        // another option) means one run ("-q0"), and such a -Q removes
        // the quarantine ("-Q.")
        let args = args.enumerated().map { e -> [UInt8] in
            guard e.offset > 0 else { return e.element }
            let next = e.offset + 1 < args.count ? args[e.offset + 1] : nil
            let bare = next == nil || next!.first == UInt8(ascii: "-")
            if bare && e.element == Array("-q".utf8) { return Array("-q0".utf8) }
            if bare && e.element == Array("-Q".utf8) { return Array("-Q.".utf8) }
            // and such a -C names "sendmail.cf" in the current directory
            if bare && e.element == Array("-C".utf8) { return Array("-Csendmail.cf".utf8) }
            return e.element
        }
        var k = 1
        argsLoop: while k < args.count {
            let a = args[k]
            // sendmail's getopt takes anything starting with "--" as the end of the options
            if a.starts(with: Array("--".utf8)) { k += 1; break }
            guard a.count > 1, a[0] == UInt8(ascii: "-") else { break }
            k += 1
            var j = 1
            while j < a.count {
                let c = a[j]
                j += 1
                guard let t = takes[c] else {
                    getoptError = "\(argv0.string): illegal option -- \(String(UnicodeScalar(c)))"
                    return
                }
                var arg: [UInt8] = []
                if t {
                    if j < a.count {
                        arg = Array(a[j...])
                    } else if k < args.count {
                        arg = args[k]
                        k += 1
                    } else {
                        getoptError = "\(argv0.string): option requires an argument -- \(String(UnicodeScalar(c)))"
                        return
                    }
                    j = a.count
                }
                handle(c, arg)
                if error != nil || getoptError != nil { return }
            }
        }
        operands = Array(args[min(k, args.count)...])
    }

    mutating func handle(_ c: UInt8, _ arg: [UInt8]) {
        switch c {
        case UInt8(ascii: "b"):
            let m = arg.first ?? 0
            if m == UInt8(ascii: "z") {
                error = ("Frozen configurations unsupported", .usage)
            } else if let md = Mode(rawValue: m), md != .queueRun {
                mode = md
            } else {
                error = ("Invalid operation mode \(String(UnicodeScalar(m)))", .usage)
            }
        case UInt8(ascii: "C"): configFile = arg
        case UInt8(ascii: "X"): trafficLogFile = arg
        case UInt8(ascii: "d"), UInt8(ascii: "D"): debug.append(arg)
        case UInt8(ascii: "o"): options.append((arg.first ?? 0, Array(arg.dropFirst())))
        case UInt8(ascii: "O"): options.append((UInt8(ascii: " "), arg))
        case UInt8(ascii: "M"): macros.append(arg)
        case UInt8(ascii: "f"), UInt8(ascii: "r"): from = arg
        case UInt8(ascii: "F"): fullName = arg
        case UInt8(ascii: "t"): readRecipients = true
        case UInt8(ascii: "p"):
            // -p proto[:host]: $r and $s
            if let colon = arg.firstIndex(of: UInt8(ascii: ":")) {
                macros.append([UInt8(ascii: "r")] + Array(arg[..<colon]))
                macros.append([UInt8(ascii: "s")] + Array(arg[(colon + 1)...]))
            } else {
                macros.append([UInt8(ascii: "r")] + arg)
            }
        case UInt8(ascii: "N"):
            notify = arg
            if !Self.validNotify(arg) { usageErrors.append("Invalid -N argument") }
        case UInt8(ascii: "R"):
            ret = arg
            if !arg.asciiCaseEquals(Array("hdrs".utf8)) && !arg.asciiCaseEquals(Array("full".utf8)) {
                usageErrors.append("Invalid -R value")
            }
        case UInt8(ascii: "V"):
            envid = arg
            if !isXtext(arg) { usageErrors.append("Invalid syntax in -V flag") }
        case UInt8(ascii: "B"):
            if !arg.asciiCaseEquals(Array("7BIT".utf8)) && !arg.asciiCaseEquals(Array("8BITMIME".utf8)) {
                bodyTypeError = "Illegal body type \(arg.string)"
            } else {
                bodyType = arg
            }
        case UInt8(ascii: "n"): noAlias = true
        case UInt8(ascii: "Q"):
            quarantine = arg
            if mode == .deliver { mode = .queueRun }
        case UInt8(ascii: "q"):
            if mode == .deliver { mode = .queueRun }
            queueArgs.append(arg)
            // an interval (anything but a selection) must be a valid time
            if let f = arg.first, !Array("IRSGQLf!".utf8).contains(f) {
                let time = f == UInt8(ascii: "p") ? Array(arg.dropFirst()) : arg
                for u in Self.badTimeUnits(time) { usageErrors.append("Invalid time unit `\(String(UnicodeScalar(u)))'") }
            }
        case UInt8(ascii: "h"):
            if !arg.isEmpty && arg.allSatisfy(isASCIIDigit) {
                hopCount = Int(arg.string)
            } else {
                usageErrors.append("Bad hop count (\(arg.string))")
            }
        case UInt8(ascii: "c"), UInt8(ascii: "i"), UInt8(ascii: "m"), UInt8(ascii: "T"), UInt8(ascii: "v"):
            options.append((c, Array("T".utf8)))
        case UInt8(ascii: "e"):
            options.append((c, arg))
        case UInt8(ascii: "s"):
            options.append((UInt8(ascii: "f"), Array("T".utf8)))
        default:
            break
        }
    }

    /// sendmail's convtime: numbers each followed by an optional unit
    /// (s m h d w); returns each character that is not a unit.
    static func badTimeUnits(_ s: [UInt8]) -> [UInt8] {
        var bad: [UInt8] = []
        var i = 0
        while i < s.count {
            while i < s.count, isASCIIDigit(s[i]) { i += 1 }
            guard i < s.count else { break }
            if !Array("smhdw".utf8).contains(s[i]) { bad.append(s[i]) }
            i += 1
        }
        return bad
    }

    /// never, or a list of success, failure, delay.
    static func validNotify(_ arg: [UInt8]) -> Bool {
        var never = false, others = false
        for w in arg.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            switch Array(w).asciiLowercased.string {
            case "never": never = true
            case "success", "failure", "delay": others = true
            default: return false
            }
        }
        return !(never && others)
    }
}
