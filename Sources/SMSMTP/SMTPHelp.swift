// SMSMTP/SMTPHelp.swift
//
// HELP's reply from sendmail's help file (HelpFile option): the topic is
// the argument in lower case ("smtp" when none); every "key<TAB>text"
// line whose key starts with the topic gives a "214-2.0.0 text" line (a
// line holding only the key gives an empty text; keys compare as
// written), in file order, then
// "214 2.0.0 End of HELP info".  Lines starting with "#" are skipped.
// No line: "504 5.3.0 HELP topic "x" unknown".  No help file:
// "502 5.3.0 Sendmail <version> -- HELP not implemented".
// Promises: pure; the caller reads the file and expands macros in the
// text (`expand`).

import SMBase

public enum SMTPHelp {
    public static func reply(helpFile: [UInt8]?, argument: [UInt8], version: String,
                             expand: ([UInt8]) -> [UInt8]) -> SMTPReply {
        guard let file = helpFile else {
            return SMTPReply(502, "5.3.0", "Sendmail \(version) -- HELP not implemented")
        }
        var topic = argument.asciiLowercased
        while let l = topic.last, l == 0x20 || l == 0x09 || l == 0x0D { topic.removeLast() }
        if topic.isEmpty { topic = Array("smtp".utf8) }
        var lines: [[UInt8]] = []
        for raw in file.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let line = Array(raw)
            if line.first == UInt8(ascii: "#") { continue }
            let tab = line.firstIndex(of: 0x09)
            let key = Array(line[..<(tab ?? line.count)])
            guard !key.isEmpty, key.starts(with: topic) else { continue }  // keys as written
            lines.append(tab.map { expand(Array(line[($0 + 1)...])) } ?? [])
        }
        guard !lines.isEmpty else { return SMTPReply(504, "5.3.0", "HELP topic \"\(topic.string)\" unknown") }
        lines.append(Array("End of HELP info".utf8))
        return SMTPReply(code: 214, enhanced: "2.0.0", lines: lines)
    }
}
