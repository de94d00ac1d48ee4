// praliases/main.swift
//
// praliases: prints an alias database as "key:value" lines (the `@:@`
// sentinel included), or the named keys ("key: No such key" when absent,
// trying the key without and then with its trailing NUL).  Without -f the
// AliasFile specs come from the cf (-C, default /etc/mail/sendmail.cf):
// this program reads only the `O AliasFile=` / `OA` lines itself, as the
// real praliases does; the full cf reader lives in SMConfig.  Promises:
// sendmail 8.17's output, messages and exit codes (64 usage, 66 cf not
// readable, otherwise 0 even when a database cannot be opened).
import Glibc
import SMBase
import SMMaps

let argv0 = CommandLine.arguments.first ?? "praliases"
let parsed = Getopt.parse(Array(CommandLine.arguments.dropFirst()), "C:f:", argv0: argv0)
var cfile = "/etc/mail/sendmail.cf"
var filename: String? = nil
for item in parsed.items {
    switch item {
    case .option("C", let a): cfile = a ?? ""
    case .option("f", let a): filename = a ?? ""
    case .error(let m):
        StdIO.err(m)
        StdIO.err("usage: praliases [-C cffile] [-f aliasfile] [key ...]\n")
        exit(64)
    default:
        StdIO.err("usage: praliases [-C cffile] [-f aliasfile] [key ...]\n")
        exit(64)
    }
}
let keys = parsed.operands

nonisolated(unsafe) var outBuf: [UInt8] = []
func out(_ b: [UInt8]) { outBuf += b }
func flushOut() { StdIO.write(1, outBuf); outBuf = [] }
func cstr(_ b: [UInt8]) -> [UInt8] { Array(b.prefix(while: { $0 != 0 })) }

/// One alias spec: "[type:]file [flags]".
func praliases(_ spec: [UInt8]) {
    var dbType: [UInt8]? = nil
    var name = spec
    if let colon = spec.firstIndex(of: UInt8(ascii: ":")) {
        dbType = Array(spec[..<colon])
        name = Array(spec[(colon + 1)...])
    }
    // drop leading "-flag" words
    while true {
        while let f = name.first, isASCIISpace(f) { name.removeFirst() }
        guard name.first == UInt8(ascii: "-") else { break }
        while let f = name.first, !isASCIISpace(f) { name.removeFirst() }
    }
    if let t = dbType, !t.isEmpty, !["hash", "btree", "dbm"].contains(t.string) {
        flushOut()
        StdIO.err("praliases: Skipping non-file based alias type \(t.string)\n")
        return
    }
    if name.isEmpty || (dbType != nil && dbType!.isEmpty) {
        flushOut()
        StdIO.err("praliases: illegal alias specification: \(spec.string)\n")
        return
    }
    let path = name.string.hasSuffix(".db") ? name.string : name.string + ".db"
    let kind: BerkeleyDB.Kind
    switch dbType?.string {
    case "btree": kind = .btree
    case "hash": kind = .hash
    case "dbm":
        flushOut()
        StdIO.err("praliases: \(name.string): open: Unknown database type\n")
        return
    default:
        // the default type recognises only an existing .db file
        if access(path, F_OK) != 0 {
            flushOut()
            StdIO.err("praliases: \(name.string): open: Unknown database type\n")
            return
        }
        kind = .hash
    }
    let db: BerkeleyDB
    do {
        db = try BerkeleyDB(path: path, kind: kind, readOnly: true)
    } catch {
        flushOut()
        StdIO.err("praliases: \(name.string): open: \(error.message)\n")
        return
    }
    if keys.isEmpty {
        do {
            for (k, v) in try db.allPairs() { out(cstr(k) + [UInt8(ascii: ":")] + cstr(v) + [0x0A]) }
        } catch {
            flushOut()
            StdIO.err("praliases: \(name.string): get value at cursor: \(error.message)\n")
        }
    } else {
        for key in keys {
            let k = Array(key.utf8)
            var v = try? db.get(k)
            if v == nil { v = try? db.get(k + [0]) }
            if let v { out(k + [UInt8(ascii: ":")] + cstr(v) + [0x0A]) }
            else { out(k + Array(": No such key\n".utf8)) }
        }
    }
    db.close()
}

if let filename {
    praliases(Array(filename.utf8))
    flushOut()
    exit(0)
}

guard let cf = SMMapsFile.read(cfile) else {
    StdIO.err("praliases: \(cfile): \(String(cString: strerror(errno)))\n")
    exit(66)
}
for raw in cf.split(separator: 0x0A, omittingEmptySubsequences: false) {
    let line = Array(raw)
    guard line.first == UInt8(ascii: "O") else { continue }
    var b = Array(line.dropFirst())
    let opt = Array(" AliasFile".utf8)
    if b.count >= 10, Array(b[0..<10]).asciiCaseEquals(opt), !(b.count > 10 && isASCIIAlnum(b[10])) {
        guard let eq = b.firstIndex(of: UInt8(ascii: "=")) else { continue }
        b = Array(b[(eq + 1)...])
        while let f = b.first, isASCIISpace(f) { b.removeFirst() }
    } else if b.first == UInt8(ascii: "A") {
        b.removeFirst()
    } else {
        continue
    }
    // specs end at unquoted commas, once a delimiter (SP , /) was seen
    var p = 0
    while p < b.count {
        while p < b.count, isASCIISpace(b[p]) { p += 1 }
        if p >= b.count { break }
        let start = p
        var end = b.count
        var next = b.count
        if let d = b[p...].firstIndex(where: { $0 == 0x20 || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "/") }) {
            var q = d
            var quoted = false
            while q < b.count {
                if b[q] == UInt8(ascii: "\"") { quoted.toggle() }
                else if b[q] == UInt8(ascii: ","), !quoted { break }
                q += 1
            }
            end = q
            next = q < b.count ? q + 1 : b.count
        }
        var spec = Array(b[start..<end])
        while let l = spec.last, isASCIISpace(l), spec.count > 1 { spec.removeLast() }
        praliases(spec)
        p = next
    }
}
flushOut()
exit(0)
