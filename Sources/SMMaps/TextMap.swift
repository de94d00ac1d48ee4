// SMMaps/TextMap.swift
//
// The text class: an unindexed file searched line by line on every
// lookup; -k and -v pick columns (default 0), -z the delimiter (default
// white space).  Lines starting with '#' are skipped; the key compares
// without case.  Promises: map.c's messages (file name required, must be
// fully qualified, unsafe map file, -k/-v should specify a number) and
// statuses (68 when not found, 69 when the file cannot be read).
import SMRules
import Glibc
import SMBase

final class TextMapBackend: MapBackend {
    var keyColumn = 0
    var valueColumn = 0

    func open(_ map: SendmailMap) -> Bool {
        let spec = map.spec
        let file = spec.file ?? []
        let name = spec.name.string
        if file.isEmpty {
            map.report("text map \"\(name)\": file name required")
            return false
        }
        if file[0] != UInt8(ascii: "/") {
            map.report("text map \"\(name)\": file name must be fully qualified")
            return false
        }
        let e = SafeFile.check(file.string, dontBlame: map.set.environment.dontBlame) { map.note(Array($0.utf8)) }
        if e != 0 {
            if !spec.optional {
                // sendmail's syserr here comes without the reason (errno is
                // gone by then), whatever it was
                map.report("text map \"\(name)\": unsafe map file \(file.string)")
            }
            return false
        }
        if let k = spec.keyColumn {
            guard let f = k.first, isASCIIDigit(f) else {
                map.report("text map \"\(name)\", file \(file.string): -k should specify a number, not \(k.string)")
                return false
            }
            keyColumn = MapSpec.atoi(k)
        }
        if let v = spec.valueColumn {
            guard let f = v.first, isASCIIDigit(f) else {
                map.report("text map \"\(name)\", file \(file.string): -v should specify a number, not \(v.string)")
                return false
            }
            valueColumn = MapSpec.atoi(v)
        }
        return true
    }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        let search = map.foldedKey(Array(key.prefix(256)))
        // the file is checked again at every lookup (its warnings with it)
        _ = SafeFile.check(map.spec.file?.string ?? "", dontBlame: map.set.environment.dontBlame) {
            map.note(Array($0.utf8))
        }
        guard let data = FileBytes.read(map.spec.file?.string ?? "") else {
            map.invalidate()
            return MapAnswer(nil, 69)
        }
        let delim = map.spec.columnDelimiter
        for raw in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let line = Array(raw.prefix(2047))
            if line.first == UInt8(ascii: "#") { continue }
            guard let k = TextColumns.column(line, keyColumn, delimiter: delim),
                  k.asciiCaseEquals(search) else { continue }
            guard let v = TextColumns.column(line, valueColumn, delimiter: delim) else {
                return MapAnswer(nil, 68)
            }
            return MapAnswer(map.result(key: key, value: v, av: av), 0)
        }
        return MapAnswer(nil, 68)
    }
}
