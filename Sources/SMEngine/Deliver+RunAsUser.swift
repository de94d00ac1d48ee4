// SMEngine/Deliver+RunAsUser.swift
//
// RunAsUser (`O RunAsUser=user[:group]`) as sendmail applies it: a
// process started by root gives up root for that user before it works
// (drop_privileges()), so mailers and files get its ids; an F=S mailer
// that asks for other ids is refused as openmailer() refuses it
// (EX_TEMPFAIL with sendmail's message).
// Promises: changes nothing when RunAsUser is unset, is root's, or the
// process is not root.

import Glibc
import SMBase
import SMConfig

extension Engine {
    /// RunAsUser's ids (0/0 when not set): a user name gives its uid and
    /// group, a number only the uid; `:group` sets the group.
    func runAsIDs() -> (uid: uid_t, gid: gid_t) {
        guard let v = config.options["RunAsUser"], !v.isEmpty else { return (0, 0) }
        let parts = v.split(separator: UInt8(ascii: ":"), maxSplits: 1, omittingEmptySubsequences: false).map { Array($0) }
        var uid: uid_t = 0, gid: gid_t = 0
        if let n = UInt32(parts[0].string) { uid = n } else if let pw = getpwnam(parts[0].string) {
            uid = pw.pointee.pw_uid
            if parts.count == 1 { gid = pw.pointee.pw_gid }
        }
        if parts.count > 1, !parts[1].isEmpty {
            if let n = UInt32(parts[1].string) { gid = n } else if let gr = getgrnam(parts[1].string) { gid = gr.pointee.gr_gid }
        }
        return (uid, gid)
    }

    /// drop_privileges(): a process started by root gives up root for
    /// RunAsUser's ids (supplementary groups reduced to the group; a
    /// number without a group keeps the current group).  Sendmail does
    /// this in every mode but the daemon (which does it after binding).
    public func applyRunAsUser() {
        let (uid, gid) = runAsIDs()
        guard uid != 0, getuid() == 0 || geteuid() == 0 else { return }
        var g = [gid != 0 ? gid : getegid()]
        _ = setgroups(1, &g)
        if gid != 0 { _ = setgid(gid) }
        _ = setuid(uid)
    }

    /// openmailer()'s refusal, after RunAsUser took root away, to run an
    /// F=S mailer with other ids; the message, or nil.
    func runAsRefusal(_ m: Mailer) -> String? {
        guard m.has("S"), getuid() != 0 else { return nil }
        let runAs = runAsIDs()
        guard runAs.uid != 0 else { return nil }
        let newGID = m.gid >= 0 ? gid_t(m.gid) : runAs.gid
        if newGID != getgid() && newGID != getegid() {
            return "openmailer: insufficient privileges to change gid, RunAsUid=\(runAs.uid), new_gid=\(newGID), gid=\(getgid()), egid=\(getegid())"
        }
        let newUID = m.uid >= 0 ? uid_t(m.uid) : runAs.uid
        if newUID != runAs.uid {
            return "openmailer: insufficient privileges to change uid, new_euid=\(newUID), RunAsUid=\(runAs.uid)"
        }
        return nil
    }
}
