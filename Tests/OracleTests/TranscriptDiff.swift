// TranscriptDiff.swift — compares two transcripts byte for byte and, when they
// differ, renders a short unified diff of the first differences.
//
// Promises: `firstDifferences` returns nil iff the two byte arrays are equal.
// Otherwise it returns a unified-diff excerpt (`--- oracle` / `+++ under test`,
// `@@ -l,n +l,n @@`, 3 lines of context) limited to `maxLines` lines, with
// non-printable bytes shown as \xNN so NULs, CRs and 8-bit bytes are visible.

enum TranscriptDiff {
    /// Splits on LF; a final LF does not produce an empty last line, but a
    /// missing final LF is marked so "abc" and "abc\n" still differ visibly.
    static func lines(_ bytes: [UInt8]) -> [String] {
        var result: [String] = []
        var current: [UInt8] = []
        for byte in bytes {
            if byte == 0x0A { result.append(render(current)); current.removeAll() } else { current.append(byte) }
        }
        if !current.isEmpty { result.append(render(current) + "\\ (no newline at end)") }
        return result
    }

    static func render(_ bytes: [UInt8]) -> String {
        var s = ""
        for b in bytes {
            switch b {
            case 0x09: s += "\t"
            case 0x20..<0x7F: s.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = String(b, radix: 16, uppercase: true)
                s += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return s
    }

    static func firstDifferences(expected: [UInt8], actual: [UInt8],
                                 expectedName: String = "oracle", actualName: String = "under test",
                                 maxLines: Int = 40) -> String? {
        if expected == actual { return nil }
        let a = lines(expected), b = lines(actual)
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix, suffix < b.count - prefix,
              a[a.count - 1 - suffix] == b[b.count - 1 - suffix] { suffix += 1 }
        if prefix == a.count, prefix == b.count {
            return "--- \(expectedName)\n+++ \(actualName)\n(lines equal after rendering; bytes differ)"
        }
        // Diff only a bounded window of the differing middle.
        let window = 200
        let aMid = Array(a[prefix..<min(a.count - suffix, prefix + window)])
        let bMid = Array(b[prefix..<min(b.count - suffix, prefix + window)])
        let ops = lcsOps(aMid, bMid)
        let context = 3
        let start = max(0, prefix - context)
        var body: [String] = a[start..<prefix].map { " " + $0 }
        var aCount = prefix - start, bCount = prefix - start
        // Long runs of removed or added lines are cut, so that both sides of
        // a replaced block show up within maxLines.
        let runCap = max(4, maxLines / 4)
        var run: (sign: Character, count: Int) = (" ", 0)
        for op in ops {
            let (sign, line): (Character, String)
            switch op {
            case .same(let l): (sign, line) = (" ", l); aCount += 1; bCount += 1
            case .del(let l): (sign, line) = ("-", l); aCount += 1
            case .add(let l): (sign, line) = ("+", l); bCount += 1
            }
            run = run.sign == sign ? (sign, run.count + 1) : (sign, 1)
            if sign == " " || run.count <= runCap { body.append(String(sign) + line) }
            else if run.count == runCap + 1 { body.append("\(sign)... (more \(sign == "-" ? "removed" : "added") lines)") }
        }
        var out = ["--- \(expectedName) (\(a.count) lines)", "+++ \(actualName) (\(b.count) lines)",
                   "@@ -\(start + 1),\(aCount) +\(start + 1),\(bCount) @@"]
        if body.count > maxLines {
            out += body.prefix(maxLines)
            out.append("... (\(body.count - maxLines) more diff lines in this hunk)")
        } else {
            out += body
            let afterA = prefix + aMid.count
            out += a[afterA..<min(a.count, afterA + context)].map { " " + $0 }
        }
        return out.joined(separator: "\n")
    }

    enum Op { case same(String), del(String), add(String) }

    /// Classic LCS table; inputs are bounded by the caller's window.
    static func lcsOps(_ a: [String], _ b: [String]) -> [Op] {
        let n = a.count, m = b.count
        var table = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        if n > 0, m > 0 {
            for i in stride(from: n - 1, through: 0, by: -1) {
                for j in stride(from: m - 1, through: 0, by: -1) {
                    table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
                }
            }
        }
        var ops: [Op] = []
        var i = 0, j = 0
        while i < n || j < m {
            if i < n, j < m, a[i] == b[j] { ops.append(.same(a[i])); i += 1; j += 1 }
            else if i < n, j == m || table[i + 1][j] >= table[i][j + 1] { ops.append(.del(a[i])); i += 1 }
            else { ops.append(.add(b[j])); j += 1 }
        }
        return ops
    }
}
