// mail.local/UserDatabase.swift
//
// The mailbox database of `-D mbdb` (sendmail's sm_mbdb): "pw" (the
// default) looks names up with getpwnam(3); "ldap" is accepted as the real
// tool accepts it, but with no LDAP support here every lookup is a
// temporary failure (what the real one answers without a reachable
// server).  Any other name, or "pw:arg", cannot be opened (EX_UNAVAILABLE).
// Promises: lookups never modify the name.
#if canImport(Glibc)
import Glibc
#endif
import SMBase

struct MailboxUser {
    let uid: uid_t
    let gid: gid_t
    let home: [UInt8]
}

enum LookupResult {
    case found(MailboxUser)
    case noUser
    case tempFail
}

struct UserDatabase {
    enum Kind { case passwd, ldap }
    let kind: Kind

    /// sm_mbdb_initialize: nil (and EX_UNAVAILABLE) for unknown types.
    init?(spec: String) {
        let type = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(type[0])
        let hasArg = type.count > 1
        switch name {
        case "pw" where !hasArg: kind = .passwd
        case "ldap": kind = .ldap
        default: return nil
        }
    }

    func lookup(_ name: [UInt8]) -> LookupResult {
        switch kind {
        case .ldap:
            return .tempFail
        case .passwd:
            if name.isEmpty || name.contains(0) { return .noUser }
            let cname = name.map { CChar(bitPattern: $0) } + [0]
            guard let pw = getpwnam(cname) else { return .noUser }
            let home = Array(String(cString: pw.pointee.pw_dir).utf8)
            return .found(MailboxUser(uid: pw.pointee.pw_uid, gid: pw.pointee.pw_gid, home: home))
        }
    }
}
