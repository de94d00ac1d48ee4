// makemap/main.swift
//
// makemap: builds a Berkeley DB hash or btree map from "key value" lines
// on stdin, or dumps one (-u), with sendmail 8.17's flags, messages and
// exit codes (64 usage, 65 bad input lines, 66 unreadable cf, 73 cannot
// open the map, 74 write errors).  Promises: files real sendmail and real
// makemap read; keys lowercased unless -f; -N stores the trailing NUL of
// key and value; when run as root the map is chowned to the cf's
// TrustedUser, as the real one does.
import Glibc
import SMBase
import SMMaps

let progPath = CommandLine.arguments.first ?? "makemap"
let progname = progPath.split(separator: "/").last.map(String.init) ?? progPath

func err(_ s: String) { StdIO.err(s) }

func usage() -> Never {
    let pad = String(repeating: " ", count: progname.count)
    err("Usage: \(progname) [-C cffile] [-N] [-c cachesize] [-D commentchar]\n")
    err("       \(pad) [-d] [-e] [-f] [-i type] [-l] [-o] [-r] [-s] [-t delimiter]\n")
    err("       \(pad) [-u] [-v] type mapname\n")
    exit(64)
}

var cfile = "/etc/mail/sendmail.cf"
var inclNull = false, noTrunc = false, allowReplace = false, allowEmpty = false
var verbose = false, foldCase = true, unmake = false, allowDup = false
var sep: UInt8 = 0
var comment: UInt8 = UInt8(ascii: "#")
var cacheSize: UInt32 = 1024 * 1024
var fallback: String? = nil

let typeList = ["hash", "btree", "implicit"]
let parsed = Getopt.parse(Array(CommandLine.arguments.dropFirst()), "C:D:Nc:defi:Llorst:uvx", argv0: progPath)
for item in parsed.items {
    guard case .option(let opt, let optArg) = item else {
        if case .error(let m) = item { err(m) }
        usage()
    }
    let arg = optArg ?? ""
    switch opt {
    case "C": cfile = arg
    case "N": inclNull = true
    case "c": cacheSize = UInt32(truncatingIfNeeded: atol(arg))
    case "d": allowDup = true
    case "e": allowEmpty = true
    case "f": foldCase = false
    case "i": fallback = arg
    case "D": comment = arg.utf8.first ?? 0
    case "L":
        StdIO.out("cf\nCF\n" + typeList.map { $0 + "\n" }.joined())
        exit(0)
    case "l":
        StdIO.out(typeList.map { $0 + "\n" }.joined())
        exit(0)
    case "x":
        StdIO.out("hash:db\nbtree:db\nimplicit:\n")
        exit(0)
    case "o": noTrunc = true
    case "r": allowReplace = true
    case "s": break
    case "t":
        if arg.isEmpty { err("Invalid separator\n") } else { sep = arg.utf8.first! }
    case "u": unmake = true
    case "v": verbose = true
    default: usage()
    }
}
let rest = parsed.operands
guard rest.count == 2 else { usage() }
var typeName = rest[0]
let mapName = rest[1]

/// The parts of the cf makemap reads: TrustedUser, and for type "cf" the
/// class of the K line whose last word names this map file.  (A tiny
/// reader of its own, as the real makemap has; the full cf reader lives
/// in SMConfig.)
func readCF(_ path: String, mapFile: String?, fullPath: Bool) -> (trusted: uid_t, className: String?) {
    guard let f = fopen(path, "r") else {
        err("makemap: \(path): \(String(cString: strerror(errno)))\n")
        exit(66)
    }
    defer { fclose(f) }
    var trusted: uid_t = 0
    var cls: String? = nil
    var target = mapFile
    if !fullPath, var t = target {
        if let s = t.lastIndex(of: "/") { t = String(t[t.index(after: s)...]) }
        if let d = t.lastIndex(of: ".") { t = String(t[..<d]) }
        target = t
    }
    var buf = [CChar](repeating: 0, count: 2048)
    while fgets(&buf, 2048, f) != nil {
        var line = String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if line.hasSuffix("\n") { line.removeLast() }
        if line.hasPrefix("O TrustedUser"), let eq = line.firstIndex(of: "=") {
            let v = line[line.index(after: eq)...].trimmingCharacters()
            if let n = UInt32(v) { trusted = n }
            else if let pw = getpwnam(v) { trusted = pw.pointee.pw_uid }
            else { err("TrustedUser: unknown user \(v)\n") }
        } else if line.hasPrefix("K"), cls == nil, let target, !target.isEmpty {
            let words = line.dropFirst().split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard words.count >= 3, var last = words.last else { continue }
            if !fullPath {
                if let s = last.lastIndex(of: "/") { last = String(last[last.index(after: s)...]) }
                if let d = last.lastIndex(of: ".") { last = String(last[..<d]) }
            }
            if last == target { cls = words[1] }
        }
    }
    return (trusted, cls ?? "")
}

extension Substring {
    func trimmingCharacters() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}

var trustedUid: uid_t = 0
var didReadCF = false
let typeFromCF = typeName.lowercased() == "cf"
if !unmake && geteuid() == 0 {
    let r = readCF(cfile, mapFile: typeFromCF ? mapName : nil, fullPath: typeName == "cf")
    trustedUid = r.trusted
    if typeFromCF { typeName = r.className ?? "" }
    didReadCF = true
}
if !didReadCF && typeFromCF {
    typeName = readCF(cfile, mapFile: mapName, fullPath: typeName == "cf").className ?? ""
    didReadCF = true
}
if didReadCF && typeName.isEmpty {
    if let fallback, !fallback.isEmpty {
        if verbose { err("\(progname): mapfile \(mapName): not found in \(cfile), using fallback \(fallback)\n") }
        typeName = fallback
    } else {
        err("\(progname): mapfile \(mapName): not found in \(cfile)\n")
        exit(65)
    }
}

let kind: BerkeleyDB.Kind
switch typeName {
case "hash", "implicit": kind = .hash
case "btree": kind = .btree
default:
    err("\(progname): error opening type \(typeName) map \(mapName): Unknown database type\n")
    exit(73)
}
let path = mapName.hasSuffix(".db") ? mapName : mapName + ".db"

let db: BerkeleyDB
do {
    if unmake {
        db = try BerkeleyDB(path: path, kind: kind, readOnly: true, cacheSize: cacheSize)
    } else {
        if !noTrunc {
            // O_CREAT|O_TRUNC first, as smdb does, so errors read like open(2)'s.
            let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o640)
            if fd < 0 { throw BerkeleyDBError(code: errno) }
            close(fd)
        } else if access(path, F_OK) != 0 {
            throw BerkeleyDBError(code: errno)
        }
        db = try BerkeleyDB(path: path, kind: kind, readOnly: false, create: !noTrunc,
                            truncate: !noTrunc, mode: 0o640, cacheSize: cacheSize,
                            hashElements: 4096, allowDuplicates: allowDup)
    }
} catch let error as BerkeleyDBError {
    err("\(progname): error opening type \(typeName) map \(mapName): \(error.message)\n")
    exit(73)
} catch {
    exit(73)
}
db.sync()
if !unmake && geteuid() == 0 && trustedUid != 0 {
    if fchown(db.fileDescriptor, trustedUid, gid_t.max) != 0 {
        err("WARNING: ownership change on \(mapName) failed \(String(cString: strerror(errno)))")
    }
}

nonisolated func cstr(_ b: [UInt8]) -> [UInt8] { Array(b.prefix(while: { $0 != 0 })) }
var outBuf: [UInt8] = []
@MainActor func out(_ b: [UInt8]) { outBuf += b; if outBuf.count > 65536 { StdIO.write(1, outBuf); outBuf = [] } }

var exitStatus: Int32 = 0
if unmake {
    do {
        for (k, v) in try db.allPairs() {
            out(cstr(k) + [sep != 0 ? sep : 0x09] + cstr(v) + [0x0A])
        }
    } catch {
        err("\(progname): cannot make cursor for type \(typeName) map \(mapName)\n")
        exit(70)
    }
} else {
    func isSep(_ c: UInt8) -> Bool { sep == 0 ? isASCIISpace(c) : c == sep }
    var lineno = 0
    var pending: [UInt8] = []
    var atEOF = false
    var chunk = [UInt8](repeating: 0, count: 65536)
    /// fgets(buf, 1024): up to 1023 bytes or through the newline.
    func nextLine() -> [UInt8]? {
        while true {
            if let nl = pending.prefix(1023).firstIndex(of: 0x0A) {
                let l = Array(pending[...nl]); pending.removeSubrange(...nl); return l
            }
            if pending.count >= 1023 {
                let l = Array(pending[..<1023]); pending.removeSubrange(..<1023); return l
            }
            if atEOF {
                if pending.isEmpty { return nil }
                let l = pending; pending = []; return l
            }
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n <= 0 { atEOF = true } else { pending.append(contentsOf: chunk[0..<n]) }
        }
    }
    while var line = nextLine() {
        lineno += 1
        if line.last == 0x0A {
            line.removeLast()
        } else if !(atEOF && pending.isEmpty) {
            err("\(progname): \(mapName): line \(lineno): line too long (1024 bytes max)\n")
            exitStatus = 65
            continue
        }
        line = cstr(line)
        if line.isEmpty || line[0] == comment { continue }
        if sep == 0 && isASCIISpace(line[0]) {
            err("\(progname): \(mapName): line \(lineno): syntax error (leading space)\n")
            exitStatus = 65
            continue
        }
        var p = 0
        var key: [UInt8] = []
        while p < line.count && !isSep(line[p]) {
            key.append(foldCase ? asciiLower(line[p]) : line[p]); p += 1
        }
        if p < line.count { p += 1 }
        while p < line.count && isSep(line[p]) { p += 1 }
        let value = Array(line[p...])
        if !allowEmpty && value.isEmpty {
            err("\(progname): \(mapName): line \(lineno): no RHS for LHS \(key.string)\n")
            exitStatus = 65
            continue
        }
        if verbose { out(Array("key=`".utf8) + key + Array("', val=`".utf8) + value + Array("'\n".utf8)) }
        let r = db.put(inclNull ? key + [0] : key, inclNull ? value + [0] : value,
                       noOverwrite: !allowDup && !allowReplace)
        switch r {
        case .stored: break
        case .keyExists:
            err("\(progname): \(mapName): line \(lineno): key \(key.string): duplicate key\n")
            exitStatus = 65
        case .failed(let code):
            err("\(progname): \(mapName): line \(lineno): key \(key.string): put error: \(BerkeleyDB.errorString(code))\n")
            exitStatus = 74
        }
    }
}
let rc = db.close()
if rc != 0 {
    err("\(progname): close(\(mapName)): \(BerkeleyDB.errorString(rc))\n")
    exitStatus = 74
}
StdIO.write(1, outBuf)
exit(exitStatus)
