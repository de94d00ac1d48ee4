// SMEngine/Deliver+UUCP.swift
//
// The UUCP mailers' From_ line (mailer flag U, sendmail's putfromline):
// when the sender $g is a bang path "host!rest", the line is
// "From rest  $d remote from host"; when it has no "!", sendmail builds a
// "remote from" form but does not use it, so the plain UnixFromLine
// applies (kept: the UUCP neighbours have always seen that).
// Promises: only the template changes; $d is expanded by the caller.

import SMBase
import SMRules

extension Engine {
    /// The U-flag From_ template, or nil to keep UnixFromLine.
    func uucpFromTemplate() -> [UInt8]? {
        let sender = expandMacros([Meta.macroExpand, UInt8(ascii: "g")], rewriter.macros)
        guard let bang = sender.firstIndex(of: UInt8(ascii: "!")) else { return nil }
        let host = Array(sender[..<bang].prefix(100))
        let rest = Array(sender[(bang + 1)...].prefix(800))
        return Array("From ".utf8) + rest + Array("  ".utf8) + [Meta.macroExpand, UInt8(ascii: "d")]
            + Array(" remote from ".utf8) + host
    }
}
