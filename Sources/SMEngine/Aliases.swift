// SMEngine/Aliases.swift
//
// The alias files (AliasFile option) and `newaliases` (-bi): the
// comma-separated list of [class:]file specs, and rebuilding each file's
// database as sendmail does — the text read with its continuation rules
// (a leading space or tab, or a trailing backslash, joins lines), every
// left-hand side parsed as an address that must resolve to a mailer with
// F=A, "postmaster" folded to lower case, keys and values stored with their
// NUL, and the "@" entry written last.  Messages, line numbers and the
// closing statistics line are sendmail's.
// Promises: a file that cannot be read is reported and skipped; the
// database is written to a new file and synced before it is closed.

import Glibc
import SMBase
import SMRules
import SMConfig
import SMMaps

public struct AliasFileSpec: Sendable, Equatable {
    public var mapClass: [UInt8]
    public var file: [UInt8]
    /// sendmail's internal name for it ("Alias0", "Alias1"...).
    public var name: [UInt8]
}

extension Engine {
    /// sendmail's setalias over the AliasFile option.
    public func aliasFileSpecs() -> [AliasFileSpec] {
        guard let value = config.options["AliasFile"] else { return [] }
        var specs: [AliasFileSpec] = []
        var p = 0
        let s = value
        while p < s.count {
            while p < s.count, isASCIISpace(s[p]) { p += 1 }
            if p >= s.count { break }
            let start = p
            var cls = Array("implicit".utf8)
            var q = p
            while q < s.count, ![0x20, UInt8(ascii: ","), UInt8(ascii: "/"), UInt8(ascii: ":")].contains(s[q]) { q += 1 }
            var specStart = start
            if q < s.count && s[q] == UInt8(ascii: ":") {
                cls = Array(s[start..<q])
                specStart = q + 1
            }
            var e = specStart
            var quoted = false
            while e < s.count {
                if s[e] == UInt8(ascii: "\"") { quoted.toggle() } else if s[e] == UInt8(ascii: ",") && !quoted { break }
                e += 1
            }
            var file = Array(s[specStart..<e])
            while let l = file.last, isASCIISpace(l) { file.removeLast() }
            specs.append(AliasFileSpec(mapClass: cls, file: file, name: Array("Alias\(specs.count)".utf8)))
            p = e + 1
        }
        return specs
    }

    /// newaliases: rebuilds every rebuildable alias database.
    public func rebuildAllAliases() -> SysExit {
        initializingAliases = true
        defer { initializingAliases = false }
        // sendmail initialises maps in symbol-table order (type ST_MAP = 6)
        let specs = aliasFileSpecs().sorted { a, b in
            func bucket(_ n: [UInt8]) -> Int {
                var h = 6
                for c in n { h = ((h << 1) ^ Int(asciiLower(c))) % 2003 }
                return h
            }
            return bucket(a.name) < bucket(b.name)
        }
        for spec in specs {
            let cls = spec.mapClass.string
            guard ["implicit", "hash", "btree"].contains(cls) else { continue }
            rebuildAliases(spec, kind: cls == "btree" ? .btree : .hash)
        }
        return exitStatus
    }

    func rebuildAliases(_ spec: AliasFileSpec, kind: BerkeleyDB.Kind) {
        let rw = rewriter
        let path = spec.file.string
        let dbs = config.options.dontBlame
        // the text: writable directories are only warned about; a link in
        // one, or a group/world-writable file, is refused
        if let problem = checkAliasSource(path, dontBlame: dbs) {
            rw.notice("newaliases: cannot open \(path): \(SafeFile.errorText(problem))")
            return
        }
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            let reason = String(cString: strerror(errno))
            rw.notice("newaliases: cannot open \(path): \(reason)")
            return
        }
        let text = readAll(fd)
        close(fd)
        let dbPath = path + ".db"
        let db: BerkeleyDB
        // the database is written only in a safe directory (MapInUnsafeDirPath: with a warning)
        let (dirProblem, _) = SafeFile.checkDirectories(dbPath, dontBlame: dbs,
                                                        allowUnsafe: dbs.contains("mapinunsafedirpath"),
                                                        warn: { rw.notice($0) })
        if dirProblem != 0 {
            rw.notice("WARNING: cannot open alias database \(path)")
            rw.systemError("Cannot create database for alias file \(path)")
            return
        }
        do {
            let f = open(dbPath, O_RDWR | O_CREAT | O_TRUNC, 0o640)
            if f >= 0 { close(f) }
            db = try BerkeleyDB(path: dbPath, kind: kind, readOnly: false, create: true, truncate: true, mode: 0o640)
        } catch {
            rw.systemError("Cannot create database for alias file \(path)")
            return
        }
        let (count, longest, bytes) = readAliases(text, fileName: path) { key, value in
            _ = db.put(key + [0], value + [0], noOverwrite: false)
        }
        _ = db.put([UInt8(ascii: "@"), 0], [UInt8(ascii: "@"), 0], noOverwrite: false)
        db.sync()
        db.close()
        rw.fileContext = nil
        rw.currentAddress = nil
        rw.notice(Self.aliasStatistics(path, count, longest, bytes))
    }

    /// newaliases' checks of an alias text file: writable directories on
    /// its path are warned about (not refused) unless GroupWritableDirPathSafe
    /// or TrustStickyBit accept them; a symbolic link in such a directory
    /// needs LinkedAliasFileInWritableDir; the file may be group-writable
    /// only under GroupWritableAliasFile, world-writable only under
    /// WorldWritableAliasFile too.  nil: readable as it is.
    func checkAliasSource(_ path: String, dontBlame dbs: Set<String>) -> Int32? {
        let (e, parentRelaxed) = SafeFile.checkDirectories(path, dontBlame: dbs, allowUnsafe: true,
                                                           warn: { rewriter.notice($0) })
        if e != 0 { return e }
        var ls = stat()
        if parentRelaxed, lstat(path, &ls) == 0, (ls.st_mode & S_IFMT) == S_IFLNK,
           !dbs.contains("linkedaliasfileinwritabledir") {
            return SafeFile.symbolicLink
        }
        var st = stat()
        if stat(path, &st) != 0 { return nil }  // open() reports it
        if st.st_mode & S_IWGRP != 0 && !dbs.contains("groupwritablealiasfile") { return SafeFile.groupWritableFile }
        if st.st_mode & S_IWOTH != 0 && !dbs.contains("worldwritablealiasfile") { return SafeFile.worldWritableFile }
        return nil
    }

    /// The line newaliases (and -v when the text is read) ends a file with.
    static func aliasStatistics(_ path: String, _ count: Int, _ longest: Int, _ bytes: Int) -> String {
        "\(path): \(count) aliases, longest \(longest) bytes, \(bytes) bytes total"
    }

    /// sendmail's readaliases over the text of one file; `store` gets each
    /// (lowercased key, value).  Returns the statistics.
    func readAliases(_ text: [UInt8], fileName: String,
                     store: ([UInt8], [UInt8]) -> Void) -> (Int, Int, Int) {
        let rw = rewriter
        var lines = AliasLineReader(text)
        var count = 0, longest = 0, bytes = 0
        var skipping = false
        while let (line0, lineNumber) = lines.next() {
            rw.fileContext = fileLinePrefix(fileName, lineNumber)
            let line = line0
            guard let c0 = line.first else { skipping = false; continue }
            if c0 == UInt8(ascii: "#") { skipping = false; continue }
            if c0 == 0x20 || c0 == 0x09 {
                if !skipping { rw.systemError("554 5.3.5 Non-continuation line starts with space") }
                skipping = true
                continue
            }
            skipping = false
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                rw.systemError("554 5.3.5 missing colon")
                continue
            }
            guard let al = parseAddress(line, flags: [], isRecipient: true, delimiter: UInt8(ascii: ":")) else {
                rw.systemError("554 5.3.5 \(Array(line.prefix(40)).rawString)... illegal alias name")
                continue
            }
            var p = colon + 1
            while p < line.count, isASCIISpace(line[p]) { p += 1 }
            let rhs = Array(line[p...])
            if config.options.bool("CheckAliases") {
                var q = 0
                while q < rhs.count {
                    while q < rhs.count, isASCIISpace(rhs[q]) || rhs[q] == UInt8(ascii: ",") { q += 1 }
                    if q >= rhs.count { break }
                    let rest = Array(rhs[q...])
                    let scan = prescan(rest, delim: UInt8(ascii: ","), table: rw.tables.external,
                                       ignoreUnbalanced: true, report: { _ in })
                    if parseAddress(rest, flags: [], isRecipient: true, delimiter: UInt8(ascii: ",")) == nil {
                        rw.userError("553 5.3.5 \(rest.rawString)... bad address")
                    }
                    q += max(scan.end, 1)
                }
            }
            guard let m = al.mailer, m.has("A") else {
                rw.systemError("554 5.3.5 \(al.printable.rawString)... cannot alias non-local names")
                continue
            }
            var key = al.user
            if key.asciiCaseEquals(Array("postmaster".utf8)) { key = key.asciiLowercased }
            if rhs.allSatisfy({ isASCIISpace($0) }) {
                rw.systemError("554 5.3.5 \(Array(line.prefix(40)).rawString)... missing value for alias")
                continue
            }
            store(key.asciiLowercased, rhs)
            count += 1
            bytes += key.count + rhs.count
            longest = max(longest, rhs.count)
        }
        rw.fileContext = nil
        return (count, longest, bytes)
    }
}

/// Reads alias-file lines as sendmail's readaliases does: 8192-byte
/// lines, continuation by a trailing backslash (removed) or by a next line
/// that starts with a space or tab (the newline removed, the white space
/// kept).  Each result carries the number of its last physical line.
struct AliasLineReader {
    let data: [UInt8]
    var pos = 0
    var lineNumber = 0

    init(_ data: [UInt8]) { self.data = data }

    mutating func physicalLine() -> [UInt8]? {
        guard pos < data.count else { return nil }
        var end = pos
        while end < data.count && data[end] != 0x0A { end += 1 }
        let line = Array(data[pos..<end])
        pos = end < data.count ? end + 1 : end
        lineNumber += 1
        return line
    }

    mutating func next() -> ([UInt8], Int)? {
        guard var line = physicalLine() else { return nil }
        while true {
            if line.last == UInt8(ascii: "\\") {
                line.removeLast()
                guard let more = physicalLine() else { break }
                line += more
                continue
            }
            if pos < data.count && (data[pos] == 0x20 || data[pos] == 0x09) {
                guard let more = physicalLine() else { break }
                line += more
                continue
            }
            break
        }
        return (line, lineNumber)
    }
}
