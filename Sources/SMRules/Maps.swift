// SMRules/Maps.swift
//
// The interface between the rewrite engine and map classes (K lines).
// The engine never knows how a map is stored: it asks a `MapProvider` for
// a map by name and calls `lookup`.  Every lookup answers found, not found
// or try-again-later.  Promises: nothing here does I/O; implementations
// live in SMMaps (and in tests).

/// What one map lookup answers.
public enum MapLookupResult: Equatable, Sendable {
    /// The replacement text, already rewritten by the map itself: `%0`..`%9`
    /// substituted, the `-a` string appended, `-m` (match only) applied.
    case found([UInt8])
    /// No entry for the key.
    case notFound
    /// The backing store is unavailable right now (EX_TEMPFAIL).
    case tempFail
}

/// What a map may see of the engine while it looks something up.
/// Macro names are given without `$` or braces: `j`, `client_addr`.
public protocol MapContext: AnyObject {
    /// Current value of a macro (for the `macro` class and `%` args).
    func macroValue(_ name: [UInt8]) -> [UInt8]?
    /// Sets (or, with nil, clears) a macro: the `macro` map class.
    func defineMacro(_ name: [UInt8], _ value: [UInt8]?)
    /// A user-visible message, as sendmail's `message()`: in `-bt` it is
    /// printed on stdout without its reply code, e.g. the host map's
    /// "example.com: Name server timeout".  Pass the text with its code
    /// ("851 example.com: Name server timeout"); the engine strips it.
    func message(_ text: [UInt8])
}

/// One declared map, ready for lookups.
public protocol RewriteMap: AnyObject {
    /// The map's name from its K line (`access`, `host`, ...).
    var mapName: [UInt8] { get }
    /// The class name from its K line (`hash`, `text`, ...), as written.
    var mapClassName: [UInt8] { get }
    /// `-T<str>`: on a temporary failure the engine returns the key with
    /// this appended instead of the default.
    var tempFailSuffix: [UInt8]? { get }
    /// `-t`: a temporary failure does not make the ruleset return EX_TEMPFAIL.
    var ignoresTempFail: Bool { get }
    /// `-q`: the key keeps its quotes (otherwise the engine dequotes it).
    var keepsQuotes: Bool { get }
    /// `-D`: no lookup while the delivery mode is "defer".
    var skipsWhenDeferred: Bool { get }

    /// Looks `key` up.  `arguments` are the `$@` values (`%1`...); `macros`
    /// is the engine's side (macros, messages).
    func lookup(_ key: [UInt8], arguments: [[UInt8]], context: MapContext) -> MapLookupResult
}

/// Finds maps by name.  Map names compare case-insensitively.
public protocol MapProvider: AnyObject {
    func map(named name: [UInt8]) -> RewriteMap?
}

/// A K line as the cf reader saw it: `Kname class [flags] [args]`.
/// `arguments` is the rest of the line after the class name, with macros
/// already expanded (sendmail expands K lines when it reads them).
public struct MapDeclaration: Sendable, Equatable {
    public var name: [UInt8]
    public var className: [UInt8]
    public var arguments: [UInt8]
    public var file: String
    public var line: Int

    public init(name: [UInt8], className: [UInt8], arguments: [UInt8], file: String, line: Int) {
        self.name = name
        self.className = className
        self.arguments = arguments
        self.file = file
        self.line = line
    }
}
