// SMMaps/SendmailMap.swift
//
// One declared map (a K line, or a built-in such as `host`): its parsed
// flags, its class backend, and sendmail's open/lookup life cycle.  A map
// opens lazily on its first lookup (openmap); a failed open of an optional
// (-o) map leaves it unusable ("not open", lookups answer not found); a
// failed open of any other map turns it into sendmail's "bogus" map that
// answers every lookup with a temporary failure.  Promises: `lookup`
// implements the frozen `RewriteMap` contract; `lookupWithStatus` also
// gives the EX_ status sendmail's `-bt /map` prints.
import SMBase
import SMRules

/// What a class backend answers: the rewritten value, or nil with an
/// EX_ status (0 when the class leaves the status untouched).
public struct MapAnswer: Equatable, Sendable {
    public var value: [UInt8]?
    public var status: Int32
    public init(_ value: [UInt8]?, _ status: Int32 = 0) {
        self.value = value
        self.status = status
    }
}

/// The class-specific part of a map (map.c's MAPCLASS functions).
protocol MapBackend: AnyObject {
    /// map_open for reading.  Report problems through `map.report`.
    func open(_ map: SendmailMap) -> Bool
    /// map_lookup.  `av` is sendmail's argument vector: av[0] is the key
    /// as given, av[1...] the `$@` arguments.
    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer
    /// Whether what the open read is still what the files hold (a class
    /// that reads its file at every lookup is always current).
    var isCurrent: Bool { get }
}

extension MapBackend {
    var isCurrent: Bool { true }
}

public final class SendmailMap: RewriteMap {
    public enum State: Equatable, Sendable {
        case unopened      // MF_VALID, not yet MF_OPEN
        case open          // MF_OPEN
        case bogus         // open failed, not optional: always tempfail
        case invalid       // parse failed, or optional open failed
    }

    public let spec: MapSpec
    public private(set) var state: State
    let backend: MapBackend
    unowned(unsafe) let set: MapSet
    /// Messages produced while opening, waiting for a context to print them.
    private var pending: [[UInt8]] = []

    init(spec: MapSpec, backend: MapBackend, set: MapSet) {
        self.spec = spec
        self.backend = backend
        self.set = set
        self.state = spec.valid ? .unopened : .invalid
    }

    // MARK: RewriteMap

    public var mapName: [UInt8] { spec.name }
    public var mapClassName: [UInt8] { spec.className }
    public var tempFailSuffix: [UInt8]? { spec.tempFailAppend }
    public var ignoresTempFail: Bool { spec.noDefer }
    public var keepsQuotes: Bool { spec.keepQuotes }
    public var skipsWhenDeferred: Bool { spec.defer }

    public func lookup(_ key: [UInt8], arguments: [[UInt8]], context: MapContext) -> MapLookupResult {
        lookupWithStatus(key, arguments: arguments, context: context).result
    }

    /// The lookup plus the EX_ status sendmail reports with it
    /// (`map_lookup: m (k) no match (75)`).
    public func lookupWithStatus(_ key: [UInt8], arguments: [[UInt8]] = [],
                                 context: MapContext?) -> (result: MapLookupResult, status: Int32) {
        if !openIfNeeded(context: context) {
            return state == .bogus ? (.tempFail, 75) : (.notFound, 0)
        }
        if state == .bogus { return (.tempFail, 75) }
        let answer = backend.lookup(self, key: key, av: [key] + arguments, context: context)
        flush(context)
        if let v = answer.value { return (.found(v), answer.status) }
        if answer.status == 75 { set.tempFailures += 1; return (.tempFail, 75) }
        return (.notFound, answer.status)
    }

    /// openmap: true when the map can be used (open or bogus).
    @discardableResult
    public func openIfNeeded(context: MapContext?) -> Bool {
        switch state {
        case .open, .bogus: return true
        case .invalid: return false
        case .unopened:
            if backend.open(self) {
                state = .open
            } else if spec.optional {
                state = .invalid
            } else {
                state = .bogus
            }
            flush(context)
            return state != .invalid
        }
    }

    /// The map is as a fresh open would make it now: not opened yet, or
    /// open (on files that have not changed since, when `checkingFiles`;
    /// MapSet.isCurrent).
    func isFresh(checkingFiles: Bool) -> Bool {
        switch state {
        case .unopened: return true
        case .open: return !checkingFiles || backend.isCurrent
        case .bogus: return false
        case .invalid: return !spec.valid   // (an optional map that failed to open may open now)
        }
    }

    /// Whether `-bt /map` would say the map is open (after trying).
    public var isUsable: Bool { state == .open || state == .bogus }

    /// A lookup-time error (syserr): kept until a context can print it,
    /// with the reply code the engine strips in -bt.
    func report(_ text: String, code: String = "554 5.3.0") {
        pending.append(Array("\(code) \(text)".utf8))
    }

    /// A user message (message()), e.g. "851 host: Name server timeout".
    func note(_ text: [UInt8]) { pending.append(text) }

    /// A lookup-time message the backend wants printed right away.
    func flush(_ context: MapContext?) {
        guard !pending.isEmpty else { return }
        let msgs = pending
        pending.removeAll()
        if let context {
            for m in msgs { context.message(m) }
        } else {
            set.unprintedMessages.append(contentsOf: msgs)
        }
    }

    /// Marks the map as closed and unusable (text map's unreadable file).
    func invalidate() { state = .invalid }

    // MARK: helpers for backends

    /// The key as stored: ASCII-lowercased unless -f.
    func foldedKey(_ key: [UInt8]) -> [UInt8] {
        spec.noFoldCase ? key : key.asciiLowercased
    }

    /// map_rewrite of a found value with the lookup's arguments.
    func rewrite(_ value: [UInt8], av: [[UInt8]]?) -> [UInt8] {
        MapRewrite.rewrite(value, av: av, append: spec.append)
    }

    /// What a successful lookup returns: the key itself with -m, else the
    /// value rewritten.
    func result(key: [UInt8], value: [UInt8], av: [[UInt8]]) -> [UInt8] {
        spec.matchOnly ? rewrite(key, av: nil) : rewrite(value, av: av)
    }
}
