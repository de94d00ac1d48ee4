// SMMaps/UserMap.swift
//
// The user class: the password database through getpwnam.  -v picks the
// field (name, passwd, uid, gid, gecos, dir, shell; default name).
// Promises: status 67 (EX_NOUSER) for an unknown user; the passwd field
// always reads "x", as in sendmail; an unknown -v column fails the open
// with "User map M: unknown column name C".
import SMRules
import Glibc
import SMBase

final class UserMapBackend: MapBackend {
    var field = 0

    func open(_ map: SendmailMap) -> Bool {
        guard let v = map.spec.valueColumn else { return true }
        let names = ["name", "passwd", "uid", "gid", "gecos", "dir", "shell"]
        if let i = names.firstIndex(where: { Array($0.utf8).asciiCaseEquals(v) }) {
            field = i + 1
            return true
        }
        map.report("User map \(map.spec.name.string): unknown column name \(v.string)")
        return false
    }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        guard let pw = getpwnam(key.string) else { return MapAnswer(nil, 67) }
        if map.spec.matchOnly { return MapAnswer(map.rewrite(key, av: nil), 0) }
        let value: String
        switch field {
        case 0, 1: value = String(cString: pw.pointee.pw_name)
        case 2: value = "x"
        case 3: value = String(pw.pointee.pw_uid)
        case 4: value = String(pw.pointee.pw_gid)
        case 5:
            let g = String(cString: pw.pointee.pw_gecos)
            value = String(g.prefix(while: { $0 != "," }))
        case 6: value = String(cString: pw.pointee.pw_dir)
        default: value = String(cString: pw.pointee.pw_shell)
        }
        return MapAnswer(map.rewrite(Array(value.utf8), av: av), 0)
    }
}
