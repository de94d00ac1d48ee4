// SMConfig/Configuration.swift
//
// Everything a sendmail.cf defines, in typed form: version, macros,
// classes, rulesets (compiled), mailers, options, headers, maps, queue
// groups, milters, precedences and environment.  Built by `CfReader`.
// Promises: plain data; no I/O.

import SMBase
import SMRules

public struct HeaderDefinition: Sendable {
    public var name: [UInt8]
    public var flags: [UInt8]        // ?flags?
    public var macroCondition: [UInt8]? // ?${macro}?
    public var value: [UInt8]
    public var line: Int
}

public struct QueueGroupDefinition: Sendable {
    public var name: [UInt8]
    public var fields: [(code: UInt8, value: [UInt8])]
}

public struct MilterDefinition: Sendable {
    public var name: [UInt8]
    public var fields: [(code: UInt8, value: [UInt8])]
}

public final class Configuration: @unchecked Sendable {
    public var fileName: String
    public var configLevel = 0
    public var vendor: [UInt8] = Array("Berkeley".utf8)
    public var names = MacroNames()
    public var macros = MacroTable.initial()
    public var classes = ClassTable()
    public var rulesets = RulesetTable()
    public var mailers: [Mailer?] = Array(repeating: nil, count: 25)
    public var mailerCount = 0
    public var options = OptionValues()
    /// An option value that makes sendmail exit at once (an unknown
    /// DeliveryMode): the exit status.
    public var fatalExit: Int32? = nil
    public var headers: [HeaderDefinition] = []
    public var maps: [MapDeclaration] = []
    public var queueGroups: [QueueGroupDefinition] = []
    public var milters: [MilterDefinition] = []
    public var priorities: [(name: [UInt8], value: Int)] = []
    public var environment: [([UInt8], [UInt8]?)] = []
    public var tokenTables: TokenTables? = nil
    public var diagnostics: [Diagnostic] = []

    public init(fileName: String) {
        self.fileName = fileName
    }

    /// The token tables, built from OperatorChars on first use.
    public func tables() -> TokenTables {
        if let t = tokenTables { return t }
        var ops = Array(".:@[]".utf8)
        if let v = options["OperatorChars"] {
            ops = expandMacros(v, macros)
        } else if configLevel < 7, let o = macros[Int(UInt8(ascii: "o"))] {
            ops = expandMacros(o, macros)
        }
        let t = TokenTables(operatorChars: ops)
        tokenTables = t
        return t
    }

    /// Mailer by name, case-insensitively.
    public func mailer(named name: [UInt8]) -> Mailer? {
        mailers.lazy.compactMap { $0 }.first { $0.name.asciiCaseEquals(name) }
    }

    /// BlankSub as a byte (default space).
    public var spaceSub: UInt8 {
        options["BlankSub"]?.first ?? UInt8(ascii: " ")
    }
}
