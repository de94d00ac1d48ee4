// SMMaps/TextColumns.swift
//
// sendmail's get_column: column `col` (0-based) of a line, split on one
// delimiter byte, or on runs of white space when the delimiter is NUL.
// Promises: nil exactly when sendmail returns NULL (empty line, empty
// first column with a delimiter, or too few columns); the result is
// capped at 256 bytes as sendmail's MAXNAME buffer.
import SMBase

enum TextColumns {
    static func isDelim(_ b: UInt8, _ delim: UInt8) -> Bool {
        delim == 0 ? (b == 0x0A || b == 0x09 || b == 0x20) : b == delim
    }

    static func column(_ line: [UInt8], _ col: Int, delimiter delim: UInt8) -> [UInt8]? {
        if line.isEmpty { return nil }
        if line[0] == delim && delim != 0 && col == 0 { return nil }
        var begin = 0
        if col == 0 && delim == 0 {
            while begin < line.count, isASCIISpace(line[begin]) { begin += 1 }
        }
        var i = 0
        while i < col {
            guard let d = line[begin...].firstIndex(where: { isDelim($0, delim) }) else { return nil }
            begin = d + 1
            if delim == 0 {
                while begin < line.count, isASCIISpace(line[begin]) { begin += 1 }
            }
            i += 1
        }
        let end = line[begin...].firstIndex(where: { isDelim($0, delim) }) ?? line.count
        return Array(line[begin..<min(end, begin + 256)])
    }
}
