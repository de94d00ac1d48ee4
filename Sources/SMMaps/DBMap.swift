// SMMaps/DBMap.swift
//
// The hash and btree classes: Berkeley DB files named `<file>.db`, opened
// read-only.  Keys are lowercased unless -f and cut at 256 bytes; the
// trailing-NUL convention is adaptive as in map.c (try without, then with
// the NUL, and stick to whichever form answered first) unless -N or -O
// fixes it.  Promises: sendmail's open errors ("hash map \"m\": missing
// map file F.db"), and a reopen when the file changes (its inode, size or
// mtime to the nanosecond: a map set kept across SMTP sessions sees a
// makemap done within the second it opened the file).
import SMRules
import Glibc
import SMBase

final class DBMapBackend: MapBackend {
    let kind: BerkeleyDB.Kind
    var db: BerkeleyDB?
    var path = ""
    var version: FileVersion? = nil
    var tryWithout = true
    var tryWith = true
    /// implicit maps stay quiet about open failures.
    var quiet = false

    init(kind: BerkeleyDB.Kind) { self.kind = kind }

    var className: String { kind == .btree ? "btree" : "hash" }

    static func dbPath(_ file: [UInt8]) -> String {
        var p = file.string
        if !(p.count >= 3 && p.hasSuffix(".db")) { p += ".db" }
        return p
    }

    func open(_ map: SendmailMap) -> Bool {
        tryWithout = map.spec.tryWithoutNull
        tryWith = map.spec.tryWithNull
        path = Self.dbPath(map.spec.file ?? [])
        let silent = quiet || map.spec.optional
        let e = SafeFile.check(path, dontBlame: map.set.environment.dontBlame) { map.note(Array($0.utf8)) }
        if e != 0 {
            if !silent {
                let prob = e == ENOENT ? "missing" : "unsafe"
                map.report("\(className) map \"\(map.spec.name.string)\": \(prob) map file \(path): \(SafeFile.errorText(e))",
                           code: SafeFile.isSystemError(e) ? "451 4.0.0" : "554 5.3.0")
            }
            return false
        }
        do {
            db = try BerkeleyDB(path: path, kind: kind, readOnly: true)
        } catch {
            if !silent {
                map.report("Cannot open \(className) database \(path): \(BerkeleyDB.errorString(error.code))")
            }
            return false
        }
        version = FileVersion(path)
        return true
    }

    /// The file is still the one opened (see MapSet.isCurrent).
    var isCurrent: Bool { version != nil && FileVersion(path) == version }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        var k = Array(key.prefix(256))
        if let z = k.firstIndex(of: 0) { k.removeSubrange(z...) }
        k = map.foldedKey(k)
        // (a file gone meanwhile: the open handle still answers)
        if let now = FileVersion(path), now != version {
            _ = db?.close()
            db = try? BerkeleyDB(path: path, kind: kind, readOnly: true)
            version = now
            // (the NUL convention is learned again, as after an open)
            tryWithout = map.spec.tryWithoutNull
            tryWith = map.spec.tryWithNull
            if db == nil {
                map.report("Cannot reopen DB database \(map.spec.file?.string ?? "")")
                return MapAnswer(nil, 75)
            }
        }
        guard let db else { return MapAnswer(nil, 75) }
        var value: [UInt8]? = nil
        do {
            if tryWithout {
                value = try db.get(k)
                if value != nil { tryWith = false }
            }
            if value == nil && tryWith {
                value = try db.get(k + [0])
                if value != nil { tryWithout = false }
            }
        } catch {
            map.report("db_map_lookup: get (\(key.string)): \(error.message)")
            return MapAnswer(nil, 0)
        }
        guard let v = value else { return MapAnswer(nil, 0) }
        return MapAnswer(map.result(key: key, value: v, av: av), 0)
    }
}

/// implicit: a hash file if one opens, else (for alias maps) the text.
final class ImplicitMapBackend: MapBackend {
    let hash = DBMapBackend(kind: .hash)
    var usingHash = false

    func open(_ map: SendmailMap) -> Bool {
        hash.quiet = true
        usingHash = hash.open(map)
        return usingHash
    }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        usingHash ? hash.lookup(map, key: key, av: av, context: context) : MapAnswer(nil, 0)
    }

    var isCurrent: Bool { !usingHash || hash.isCurrent }
}

/// What identifies one version of a file: a rebuilt or rewritten file
/// differs in at least one of these (nil: the file cannot be stat'ed).
struct FileVersion: Equatable {
    var dev: UInt64, ino: UInt64, size: Int64, sec: Int, nsec: Int
    init?(_ path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        dev = UInt64(st.st_dev); ino = UInt64(st.st_ino); size = Int64(st.st_size)
        sec = st.st_mtim.tv_sec; nsec = st.st_mtim.tv_nsec
    }
}
