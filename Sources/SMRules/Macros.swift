// SMRules/Macros.swift
//
// Macro names, ids and values, and `expand` with sendmail's semantics.
// A macro id is one byte: printable single-character names are their own
// id; `{long}` names get ids from 0240 upwards in order of first use, as in
// sendmail.  `expand` interprets $x, $?x ... $| ... $. and METAQUOTE, and
// re-expands (up to 10 levels) when a value brings in metasymbols.
// Promises: pure; diagnostics go to the caller-supplied sink; the name
// table is safe to share between threads.

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import SMBase

/// Id <-> name table for macros and classes (they share one namespace).
/// One table serves every engine cloned from a loaded configuration (the
/// daemon's sessions, on several threads), and a lookup of a new long name
/// allocates its id: the storage is only touched under `lock`.
public final class MacroNames: @unchecked Sendable {
    private var names: [[UInt8]?] = Array(repeating: nil, count: 256)
    private var ids: [ByteKey: Int] = [:]
    /// `{name}` as callers write it -> the id of `name` (looked up with
    /// no copy of the name without its braces).
    private var braced: [ByteKey: Int] = [:]
    private var next = 0o240
    private let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return body()
    }

    public init() {
        // sendmail binds opMode to its internal id at start-up.
        names[0o202] = Array("opMode".utf8)
        ids[ByteKey(Array("opMode".utf8))] = 0o202
        // and names these before it reads the cf, so the cf's own long
        // names start at 0243 (the ids appear in qf files: `$&{x}` bytes)
        for n in ["deliveryMode", "load_avg", "daemon_flags"] { _ = id(forLongName: Array(n.utf8)) }
    }

    /// sendmail's argument loop names {dsn_notify}, {dsn_ret} and
    /// {dsn_envid} (-N, -R, -V) before it names daemon_flags: given those
    /// options, `longNames` take the ids from daemon_flags's on and
    /// daemon_flags the next one (so the cf's names start later too).
    /// Only before anything else has been named.
    public func nameBeforeDaemonFlags(_ longNames: [[UInt8]]) {
        let daemonFlags = Array("daemon_flags".utf8)
        let moved: Bool = locked {
            guard !longNames.isEmpty, let df = ids[ByteKey(daemonFlags)], df == next - 1 else { return false }
            ids[ByteKey(daemonFlags)] = nil
            names[df] = nil
            braced = [:]
            next = df
            return true
        }
        guard moved else { return }
        for n in longNames { _ = id(forLongName: n) }
        _ = id(forLongName: daemonFlags)
    }

    /// The id of a long name, allocating one if new.  Nil when exhausted.
    public func id(forLongName name: [UInt8]) -> Int? {
        locked {
            if let id = ids[ByteKey(name)] { return id }
            guard next <= 0o377 else { return nil }
            let id = next
            next += 1
            ids[ByteKey(name)] = id
            names[id] = name
            return id
        }
    }

    /// The id of a long name if it already has one.
    public func existingID(forLongName name: [UInt8]) -> Int? { locked { ids[ByteKey(name)] } }

    /// The printable name of an id, as sendmail's `macname`.
    public func name(of id: Int) -> [UInt8] {
        let n = id & 0xFF
        if n <= 0x20 || n > 0x7F {
            return locked { names[n] } ?? Array("***UNDEFINED MACRO***".utf8)
        }
        return [UInt8(n)]
    }

    /// True if `id` is a long-name id.
    public func isLong(_ id: Int) -> Bool { id > 0x7F }

    /// Parses a macro/class name at `bytes[start...]`: one character or
    /// `{name}`.  Returns the id (0 on error) and the index after the name.
    /// Errors are sendmail's texts, passed to `report`.
    public func parse(_ bytes: [UInt8], at start: Int, report: (String) -> Void) -> (id: Int, end: Int) {
        var p = start
        if p >= bytes.count || bytes[p] == 0 || (bytes[p] == UInt8(ascii: "{") && p + 1 < bytes.count && bytes[p + 1] == UInt8(ascii: "}")) {
            report("Name required for macro/class")
            return (0, p)
        }
        if bytes[p] != UInt8(ascii: "{") {
            return (Int(bytes[p]), p + 1)
        }
        var name: [UInt8] = []
        p += 1
        while p < bytes.count, bytes[p] != 0, bytes[p] != UInt8(ascii: "}"), name.count < Limits.maxMacroNameLength {
            let c = bytes[p]
            if c < 0x80 && (isASCIIAlnum(c) || c == UInt8(ascii: "_")) {
                name.append(c)
            } else {
                report("Invalid macro/class character \(String(UnicodeScalar(c)))")
            }
            p += 1
        }
        var mid = -1
        if p >= bytes.count || bytes[p] == 0 {
            report("Unbalanced { on \(name.string)")
        } else if bytes[p] != UInt8(ascii: "}") {
            report("Macro/class name ({\(name.string)}) too long (\(Limits.maxMacroNameLength) chars max)")
        } else if name.count == 1 && name[0] >= 0x20 {
            mid = Int(name[0])
            p += 1
        } else {
            if let id = id(forLongName: name) {
                mid = id
            } else {
                report("Macro/class {\(name.string)}: too many long names")
            }
            p += 1
        }
        if mid < 0 || mid > 0o377 {
            report("Unable to assign macro/class ID (mid = 0x\(String(UInt32(bitPattern: Int32(truncatingIfNeeded: mid)), radix: 16)))")
            return (0, p)
        }
        return (mid, p)
    }

    /// The id for a name given without `$`: `x` or `{name}` or `name`.
    public func id(forName name: [UInt8]) -> Int? {
        if name.isEmpty { return nil }
        if name.count == 1 { return Int(name[0]) }
        guard name.first == UInt8(ascii: "{"), name.last == UInt8(ascii: "}") else { return id(forLongName: name) }
        if name.count == 3 { return Int(name[1]) }
        let key = ByteKey(name)
        if let known = locked({ braced[key] }) { return known }
        guard let id = id(forLongName: Array(name.dropFirst().dropLast())) else { return nil }
        locked { braced[key] = id }
        return id
    }
}

/// A table of macro values indexed by id.
public struct MacroTable: @unchecked Sendable {
    /// The 256 slots, shared by copies of the table until one of them
    /// changes a slot (copy on write, as an array's storage).  Copying
    /// and freeing the slots one by one, with the element type known,
    /// costs a tenth of what an array of optionals costs through the
    /// runtime's generic copy, and a table is copied each time a message's
    /// macros are saved and restored.
    @usableFromInline
    final class Slots {
        @usableFromInline let base: UnsafeMutablePointer<[UInt8]?>

        init() {
            base = .allocate(capacity: 256)
            base.initialize(repeating: nil, count: 256)
        }

        @usableFromInline init(copying other: Slots) {
            base = .allocate(capacity: 256)
            for i in 0..<256 { (base + i).initialize(to: other.base[i]) }
        }

        deinit {
            // (each value released by assigning nil, which is specialized
            // for the slot's type; deinitializing a slot goes through the
            // runtime's generic destroy, ten times the cost.  A nil slot
            // holds nothing, so the memory is then given back as it is.)
            for i in 0..<256 where base[i] != nil { base[i] = nil }
            base.deallocate()
        }
    }

    @usableFromInline var slots = Slots()

    public init() {}

    @inlinable
    public subscript(id: Int) -> [UInt8]? {
        get { slots.base[id & 0xFF] }
        set {
            if !isKnownUniquelyReferenced(&slots) { slots = Slots(copying: slots) }
            slots.base[id & 0xFF] = newValue
        }
    }

    /// The table sendmail starts with (`initmacros`): the metasymbol
    /// letters stand for their bytes, `$0`..`$9` for MATCHREPL, and
    /// `$n` is MAILER-DAEMON.
    public static func initial() -> MacroTable {
        var t = MacroTable()
        for (name, value) in Meta.metaMacros { t[Int(name)] = [value] }
        for d in UInt8(ascii: "0")...UInt8(ascii: "9") { t[Int(d)] = [Meta.matchReplace, d] }
        t[Int(UInt8(ascii: "n"))] = Array("MAILER-DAEMON".utf8)
        return t
    }
}

/// Anything that can answer "what is the value of macro id N right now".
public protocol MacroSource {
    func macroValue(id: Int) -> [UInt8]?
}

extension MacroTable: MacroSource {
    public func macroValue(id: Int) -> [UInt8]? { self[id] }
}

/// Converts `$x`, `${name}`, `$=x`, `$~x`, `$&x`, `$?x` in configuration
/// text to MACROEXPAND + id form; `$$` becomes `$`.  This is what sendmail
/// does to every cf line (and to `-bt` `.D`/`.C` values) before use.
public func translateDollars(_ raw: [UInt8], names: MacroNames, report: (String) -> Void) -> [UInt8] {
    let line = quoteInternalChars(raw)
    var out: [UInt8] = []
    out.reserveCapacity(line.count)
    var i = 0
    let n = line.count
    while i < n {
        let c = line[i]
        if c != UInt8(ascii: "$") || i + 1 >= n {
            out.append(c)
            i += 1
            continue
        }
        if line[i + 1] == UInt8(ascii: "$") {
            out.append(UInt8(ascii: "$"))
            i += 2
            continue
        }
        out.append(Meta.macroExpand)
        i += 1
        let s = line[i]
        if s == UInt8(ascii: "=") || s == UInt8(ascii: "~") || s == UInt8(ascii: "&") || s == UInt8(ascii: "?") {
            out.append(s)
            i += 1
        }
        let (id, end) = names.parse(line, at: i, report: report)
        out.append(UInt8(truncatingIfNeeded: id))
        i = max(end, i + 1)
    }
    return out
}

/// sendmail's `expand`: interpolates macros and conditionals.
/// `bufferSize` bounds the result as sendmail's fixed buffers do.
public func expandMacros(_ s: [UInt8], _ macros: MacroSource, bufferSize: Int = Limits.macBufSize,
                         report: ((String) -> Void)? = nil) -> [UInt8] {
    var input = s
    var level = 0
    while true {
        var xbuf: [UInt8] = []
        xbuf.reserveCapacity(input.count + 16)
        var recurse = false
        var skipping = false
        var skipLevel = 0
        var ifLevel = 0
        var quoteNext = false
        let limit = Limits.macBufSize - 1
        var i = 0
        let n = input.count
        while i < n {
            var c = input[i]
            var q: [UInt8]? = nil
            if quoteNext {
                quoteNext = false
            } else {
                switch c {
                case Meta.condIf:
                    ifLevel += 1
                    i += 1
                    let m = i < n ? input[i] : 0
                    if skipping {
                        skipLevel += 1
                    } else {
                        let mv = macros.macroValue(id: Int(m))
                        skipping = mv == nil || mv!.isEmpty
                    }
                    i += 1
                    continue
                case Meta.condElse:
                    if ifLevel != 0 {
                        if skipLevel == 0 { skipping.toggle() }
                        i += 1
                        continue
                    }
                case Meta.condFi:
                    if ifLevel != 0 {
                        ifLevel -= 1
                        if skipLevel == 0 { skipping = false }
                        if skipping { skipLevel -= 1 }
                        i += 1
                        continue
                    }
                case Meta.macroExpand:
                    if i + 1 < n && input[i + 1] != 0 {
                        i += 1
                        c = input[i]
                        q = macros.macroValue(id: Int(c))
                    }
                    if q == nil {
                        i += 1
                        continue
                    }
                case Meta.metaQuote:
                    quoteNext = true
                default:
                    break
                }
            }
            if skipping || xbuf.count >= limit {
                i += 1
                continue
            }
            if let q {
                var hide = false
                for b in q {
                    if xbuf.count >= limit { break }
                    if !hide && (b & 0o340) == 0o200 { recurse = true }
                    xbuf.append(b)
                    hide = b == Meta.metaQuote
                }
            } else {
                xbuf.append(c)
            }
            i += 1
        }
        if recurse {
            if level < Limits.maxMacroRecursion {
                input = xbuf
                level += 1
                continue
            }
            report?("expand: recursion too deep (\(Limits.maxMacroRecursion) max)")
        }
        if xbuf.count >= bufferSize { xbuf.removeSubrange((bufferSize - 1)...) }
        return xbuf
    }
}

/// sendmail's quote_internal_chars: bytes that look like its internal
/// metasymbols (0200-0237) and the quote byte itself (0377) get a
/// METAQUOTE in front, so text from outside can never act as syntax.
public func quoteInternalChars(_ s: [UInt8]) -> [UInt8] {
    guard s.contains(where: { ($0 & 0o340) == 0o200 || $0 == Meta.metaQuote }) else { return s }
    var out: [UInt8] = []
    out.reserveCapacity(s.count + 4)
    for c in s {
        if (c & 0o340) == 0o200 || c == Meta.metaQuote { out.append(Meta.metaQuote) }
        out.append(c)
    }
    return out
}
