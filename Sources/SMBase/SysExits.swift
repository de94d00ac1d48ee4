// SMBase/SysExits.swift
//
// The sysexits(3) codes sendmail uses as process exit status, ruleset
// status and delivery status.  Promises: raw values equal <sysexits.h>.

public enum SysExit: Int32, Sendable, CaseIterable {
    case ok = 0
    case usage = 64
    case dataErr = 65
    case noInput = 66
    case noUser = 67
    case noHost = 68
    case unavailable = 69
    case software = 70
    case osErr = 71
    case osFile = 72
    case cantCreat = 73
    case ioErr = 74
    case tempFail = 75
    case `protocol` = 76
    case noPerm = 77
    case config = 78

    /// The names accepted in `$#error $@ NAME` (without the `EX_` prefix).
    public static func named(_ name: [UInt8]) -> SysExit? {
        let upper = name.asciiUppercased.string
        let n = upper.hasPrefix("EX_") ? String(upper.dropFirst(3)) : upper
        switch n {
        case "USAGE": return .usage
        case "NOUSER": return .noUser
        case "NOHOST": return .noHost
        case "UNAVAILABLE": return .unavailable
        case "SOFTWARE": return .software
        case "TEMPFAIL": return .tempFail
        case "PROTOCOL": return .protocol
        case "CONFIG": return .config
        case "DATAERR": return .dataErr
        case "NOINPUT": return .noInput
        case "OSERR": return .osErr
        case "OSFILE": return .osFile
        case "CANTCREAT": return .cantCreat
        case "IOERR": return .ioErr
        case "NOPERM": return .noPerm
        case "OK": return .ok
        default: return nil
        }
    }
}
