// SMMaps/StabMap.swift
//
// The stab class: an alias text file read into memory at open time
// ("name: value" lines, continuation lines starting with SP or TAB keep
// their leading white space, '#' comments), looked up without case.
// Promises: only a fallback for aliases as in sendmail; keys are matched
// ASCII-case-insensitively and values come back as written.
import SMRules
import SMBase

final class StabMapBackend: MapBackend {
    var table: [[UInt8]: [UInt8]] = [:]
    var version: FileVersion? = nil
    var path = ""

    func open(_ map: SendmailMap) -> Bool {
        guard let path = map.spec.file, SafeFile.check(path.string, dontBlame: map.set.environment.dontBlame) == 0,
              let data = FileBytes.read(path.string) else { return false }
        self.path = path.string
        version = FileVersion(self.path)
        table = Self.parseAliases(data)
        return true
    }

    static func parseAliases(_ data: [UInt8]) -> [[UInt8]: [UInt8]] {
        var out: [[UInt8]: [UInt8]] = [:]
        var current: [UInt8]? = nil
        func commit() {
            guard let line = current, let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
            let lhs = Array(line[..<colon]).trimmingASCIISpace.asciiLowercased
            let rhs = Array(line[(colon + 1)...]).trimmingASCIISpace
            if !lhs.isEmpty && !rhs.isEmpty && out[lhs] == nil { out[lhs] = rhs }
        }
        for raw in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let line = Array(raw)
            if line.first == UInt8(ascii: "#") { continue }
            if let f = line.first, f == 0x20 || f == 0x09 {
                if current != nil && !line.trimmingASCIISpace.isEmpty { current! += line }
                continue
            }
            commit()
            current = line.isEmpty ? nil : line
        }
        commit()
        return out
    }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        guard let v = table[key.asciiLowercased] else { return MapAnswer(nil, 0) }
        return MapAnswer(map.result(key: key, value: v, av: av), 0)
    }

    /// (the table was read at open)
    var isCurrent: Bool { version != nil && FileVersion(path) == version }
}
