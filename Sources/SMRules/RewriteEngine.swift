// SMRules/RewriteEngine.swift
//
// The rewrite engine: applies a ruleset to a token workspace with
// sendmail's semantics (backtracking LHS match, $: and $@ prefixes, $n
// substitution, $& run-time macros, $[ $] and $( $) map lookups, $>
// subroutine calls right to left, the 100-match loop guard, recursion limit
// 50, workspace limit 1000 tokens) and prints the `-bt` trace lines.
// User errors can also be recorded as a transcript (errorTranscript), for
// the report of a message's failures.
// Promises: never traps on any workspace; every limit answers with
// sendmail's message and status; map and macro access go through the
// injected MapProvider and macro table only.

import SMBase

public final class RewriteEngine: MapContext, MacroSource {
    public var rulesets: RulesetTable
    public let classes: ClassTable
    public let names: MacroNames
    public var macros: MacroTable
    public weak var maps: MapProvider?
    public var tables: TokenTables
    /// BlankSub: put between adjacent atoms when tokens are joined.
    public var spaceSub: UInt8 = UInt8(ascii: " ")
    /// Address test mode: print "input:"/"returns:" for every ruleset.
    public var testMode = false
    /// The -d level for category 21 (rewriting): 1 traces every ruleset,
    /// 2 run-time macros, 3 skipped calls, 4 each rewrite, 10 failed
    /// rules, 12 every rule tried.
    public var debugLevel = 0
    /// Kept for callers that only switch full tracing on.
    public var traceRules: Bool {
        get { debugLevel >= 12 }
        set { debugLevel = newValue ? max(debugLevel, 12) : 0 }
    }
    /// DeliveryMode is "defer": maps with -D are not consulted.
    public var deferMode = false
    public let out: OutputBuffer
    /// The address errors are about (sendmail's e_to), printed before them.
    public var currentAddress: [UInt8]? = nil
    /// sendmail's ExitStat: set by system errors.
    public var exitStatus: SysExit = .ok
    /// The delivery-status message of the envelope (e_message).
    public var envelopeMessage: String? = nil

    public init(rulesets: RulesetTable, classes: ClassTable, names: MacroNames, macros: MacroTable,
                tables: TokenTables, out: OutputBuffer) {
        self.rulesets = rulesets
        self.classes = classes
        self.names = names
        self.macros = macros
        self.tables = tables
        self.out = out
    }

    // MARK: - Messages

    /// Formats and prints a message as sendmail's fmtmsg/putoutmsg do
    /// outside SMTP: reply code and enhanced code dropped, "addr... " in
    /// front for codes 050 250 252 450 550 553 when an address is current,
    /// the cf file and line in front while a cf is being read, every byte
    /// with its high bit cleared.
    func emit(_ msg: String, defaultCode: String, withAddress: Bool) {
        if smtpReplies != nil {
            // in an SMTP session the message is a reply: code, enhanced code
            // (x.0.0 when none is given), "addr... ", text; 0xx notices only
            // when verbose, and without an enhanced code
            let (code, enhanced, _) = stripReplyCode(msg)
            let num = code ?? defaultCode
            if num.hasPrefix("0") && quietNotices { return }
            let text = format(msg, defaultCode: defaultCode, withAddress: withAddress)
            if num.hasPrefix("0") && enhanced == nil { smtpReplies!.append(num + " " + text); return }
            smtpReplies!.append(num + " " + (enhanced ?? "\(num.prefix(1)).0.0") + " " + text)
            return
        }
        out.writeMessage(format(msg, defaultCode: defaultCode, withAddress: withAddress))
    }

    /// When set (an SMTP session), messages are collected here as SMTP
    /// reply lines ("553 5.1.2 addr... text") instead of being printed.
    public var smtpReplies: [String]? = nil

    /// The line `emit` prints for `msg`.
    func format(_ msg: String, defaultCode: String, withAddress: Bool) -> String {
        let (code, _, text) = stripReplyCode(msg)
        let num = code ?? defaultCode
        var line = ""
        if let f = fileContext { line += f }
        if withAddress, let to = currentAddress, !to.isEmpty,
           ["050", "250", "252", "450", "550", "553"].contains(num) {
            line += shortenString(to, 203).string + "... "
        }
        line += text
        return line
    }

    /// "file: line N: " while a cf is being read (sendmail's FileName).
    public var fileContext: String? = nil

    /// The last user error as it is (or would be) printed: the envelope's
    /// status message (sendmail's e_message) for the qf `M` line.
    public var lastUserError: String? = nil

    /// SuprErrs: user errors are not shown.
    public var suppressErrors = false

    /// One user error as the transcript (xf) keeps it: the address it was
    /// about, the reply ("550 5.1.1 User unknown") and the line
    /// ("550 5.1.1 <address>... User unknown").
    public struct TranscribedError {
        public var address: [UInt8]?
        public var reply: String
        public var line: String
    }

    /// When set, every user error is appended (shown or not).
    public var errorTranscript: [TranscribedError]? = nil

    /// sendmail's usrerr.
    public func userError(_ msg: String) {
        // e_message: kept even when the error is not shown (ErrorMode=q)
        lastUserError = format(msg, defaultCode: "550", withAddress: true)
        if errorTranscript != nil {
            let (code, enhanced, text) = stripReplyCode(msg)
            let prefix = (code ?? "550") + (enhanced.map { " " + $0 } ?? "") + " "
            errorTranscript!.append(TranscribedError(address: currentAddress, reply: prefix + text,
                                                     line: prefix + lastUserError!))
        }
        if suppressErrors { return }
        emit(msg, defaultCode: "550", withAddress: true)
    }

    /// sendmail's syserr: no address tag; sets the exit status.
    public func systemError(_ msg: String, errno: Int32 = 0) {
        emit(msg, defaultCode: "554", withAddress: false)
        if exitStatus == .ok { exitStatus = errno == 0 ? .software : .osErr }
    }

    /// sendmail's message(): code 050 unless given.
    public func notice(_ msg: String) {
        if quietNotices {
            let code = stripReplyCode(msg).code ?? "050"
            if code.hasPrefix("0") || code.hasPrefix("8") { return }
        }
        emit(msg, defaultCode: "050", withAddress: true)
    }

    /// Outside test and verify modes sendmail shows 0xx and 8xx messages
    /// (map notices such as "Name server timeout", "Transient parse
    /// error") only when Verbose.
    public var quietNotices = false

    /// sendmail's setstat.
    public func setStatus(_ s: SysExit) {
        if exitStatus == .ok || exitStatus == .tempFail { exitStatus = s }
    }

    // MARK: - MapContext / MacroSource

    public func macroValue(id: Int) -> [UInt8]? { macros[id] }

    public func macroValue(_ name: [UInt8]) -> [UInt8]? {
        guard let id = names.id(forName: name) else { return nil }
        return macros[id]
    }

    public func defineMacro(_ name: [UInt8], _ value: [UInt8]?) {
        guard let id = names.id(forName: name) else { return }
        macros[id] = value
    }

    /// A map's message.  Its syserr()s ("554 5.3.0 ...", or "451 4.0.0
    /// ..." when a system error is behind it) also set the exit status
    /// when none is set yet: EX_SOFTWARE, or EX_OSERR after a system error.
    public func message(_ text: [UInt8]) {
        let software = text.starts(with: Array("554 5.3.0 ".utf8)), system = text.starts(with: Array("451 4.0.0 ".utf8))
        if exitStatus == .ok {
            if software { exitStatus = .software }
            if system { exitStatus = .osErr }
        }
        if software || system, smtpReplies != nil, let log = sessionSystemError {
            log(String(decoding: text.dropFirst(10), as: UTF8.self))
            return
        }
        notice(text.string)
    }

    /// In an SMTP session, where a map's syserr() (a map file missing or
    /// unsafe) goes: sendmail logs it as a SYSERR and does not answer the
    /// client with it; the lookup then fails temporarily and the rule's
    /// default is used, as measured (the text comes without its codes).
    public var sessionSystemError: ((String) -> Void)? = nil

    // MARK: - Helpers

    /// prescan with the scanned text as the current address, as sendmail's
    /// prescan sets e_to while it runs.
    func scan(_ text: [UInt8], table: TokenTable) -> PrescanResult {
        let save = currentAddress
        currentAddress = text
        defer { currentAddress = save }
        return prescan(text, delim: 0, table: table, ignoreUnbalanced: false, report: { self.userError($0) })
    }

    /// sendmail's cataddr: joins tokens, putting `sub` between two atoms;
    /// a nil `sub` means BlankSub.  `external` undoes METAQUOTE.
    public func catAddr(_ toks: ArraySlice<[UInt8]>, sub: UInt8? = nil, noSeparator: Bool = false,
                        external: Bool = true, limit: Int = Limits.maxLine) -> [UInt8] {
        let s = sub ?? spaceSub
        var buf: [UInt8] = []
        var room = limit - 2
        var oldAtom = false
        outer: for t in toks {
            let first = t.first ?? 0
            let newAtom = tables.internal[first] == .atm
            if oldAtom && newAtom && !noSeparator {
                buf.append(s)
                room -= 1
                if room <= 0 { break }
            }
            var i = 0
            while i < t.count {
                room -= 1
                if room <= 0 { break outer }
                var c = t[i]
                i += 1
                if c == Meta.metaQuote && external && i < t.count {
                    c = t[i]
                    i += 1
                }
                buf.append(c)
            }
            oldAtom = newAtom
        }
        return buf
    }

    @inline(__always)
    private func wordInClass(_ w: [UInt8], _ id: Int) -> Bool { classes.contains(w, in: id) }

    private func printTrace(_ label: String, _ name: [UInt8], _ toks: ArraySlice<[UInt8]>) {
        // (outside -bt, -d21 lines say what they trace, as sendmail's do)
        var line: [UInt8] = testMode ? [] : Array("rewrite: ruleset ".utf8)
        var padded = Array(name.prefix(16))
        while padded.count < 16 { padded.append(UInt8(ascii: " ")) }
        line.append(contentsOf: padded)
        line.append(contentsOf: Array(label.utf8))
        for t in toks {
            line.append(UInt8(ascii: " "))
            Printing.xputs(t, names: names, into: &line)
        }
        line.append(UInt8(ascii: "\n"))
        out.write(line)
    }

    // MARK: - Matching

    /// The phrase buffer extendClass reuses (matching does not recurse).
    private var classPhrase: [UInt8] = []

    private struct Match {
        var first: Int
        var last: Int
        var pattern: Int
    }

    /// The bindings of the rule being tried: one per pattern element at
    /// most, so it is grown (rarely) to the longest pattern tried.  One
    /// buffer serves every level of recursion: a rule's bindings are used
    /// up by its substitution before any subroutine runs.
    private var matchBuffer = RewriteEngine.newMatchBuffer(Limits.maxMatch + 2)

    private static func newMatchBuffer(_ n: Int) -> UnsafeMutableBufferPointer<Match> {
        let b = UnsafeMutableBufferPointer<Match>.allocate(capacity: n)
        b.initialize(repeating: Match(first: 0, last: 0, pattern: 0))
        return b
    }

    deinit { matchBuffer.deallocate() }

    @inline(__always)
    private func matchBuffer(for patternCount: Int) -> UnsafeMutableBufferPointer<Match> {
        if patternCount + 1 > matchBuffer.count {
            matchBuffer.deallocate()
            matchBuffer = Self.newMatchBuffer(patternCount + 1)
        }
        return matchBuffer
    }

    /// Extends a $= binding starting at ml[mlp].first, from avp on: the
    /// phrase grows one token at a time (joined as cataddr joins them)
    /// until it is in the class.  A phrase longer than the class's longest
    /// word can never match, so the search stops there; sendmail would keep
    /// extending to the end and fail the same way.
    private func extendClass(_ id: Int, _ ws: UnsafeBufferPointer<[UInt8]>, _ avp: inout Int, _ mlp: inout Int,
                             _ ml: UnsafeMutableBufferPointer<Match>) -> Bool {
        let limit = classes.longestWord(in: id)
        let internalTable = tables.internal
        let sub = asciiLower(spaceSub)
        // (one phrase buffer for every try: taken here, given back below)
        var word = classPhrase
        classPhrase = []
        word.removeAll(keepingCapacity: true)
        defer { classPhrase = word }
        var oldAtom = false
        var i = ml[mlp].first
        // rebuild the part already bound (backup resumes past it)
        func appendToken(_ t: [UInt8], _ word: inout [UInt8], _ oldAtom: inout Bool) {
            let newAtom = internalTable[t.first ?? 0] == .atm
            if oldAtom && newAtom { word.append(sub) }
            var k = 0
            while k < t.count {
                var c = t[k]
                k += 1
                if c == Meta.metaQuote && k < t.count { c = t[k]; k += 1 }
                word.append(asciiLower(c))
            }
            oldAtom = newAtom
        }
        while i < avp {
            appendToken(ws[i], &word, &oldAtom)
            i += 1
        }
        while true {
            if avp >= ws.count || word.count > limit { return false }
            ml[mlp].last = avp
            appendToken(ws[avp], &word, &oldAtom)
            avp += 1
            if word.count <= limit && classes.containsLowercased(word, in: id) {
                mlp += 1
                return true
            }
        }
    }

    /// Tries the rule's pattern against the whole workspace; on success
    /// fills `ml` and returns the number of bound wildcards, else nil.
    /// (The rule and the workspace come as pointers, so that trying a rule
    /// retains nothing.)
    private func match(_ rule: UnsafePointer<Rule>, _ ws: UnsafeBufferPointer<[UInt8]>,
                       _ hs: UnsafeBufferPointer<UInt64>, _ ml: UnsafeMutableBufferPointer<Match>) -> Int? {
        let wsEnd = ws.count
        var mlp = 0
        var avp = 0
        var rvp = 0
        let pc = rule.pointee.pattern.count

        while avp < wsEnd || rvp < pc {
            var fail = false
            if rvp >= pc {
                fail = true
            } else {
                let op = rule.pointee.pattern[rvp]
                if avp >= wsEnd {
                    switch op {
                    case .zeroOrMore, .zero: break
                    default: fail = true
                    }
                }
                if !fail {
                    switch op {
                    case .inClass(let id):
                        ml[mlp].pattern = rvp
                        ml[mlp].first = avp
                        if !extendClass(id, ws, &avp, &mlp, ml) { fail = true }
                    case .notInClass(let id):
                        if wordInClass(ws[avp], id) {
                            fail = true
                        } else {
                            ml[mlp] = Match(first: avp, last: avp, pattern: rvp)
                            avp += 1
                            mlp += 1
                        }
                    case .one, .oneOrMore:
                        ml[mlp] = Match(first: avp, last: avp, pattern: rvp)
                        avp += 1
                        mlp += 1
                    case .zeroOrMore:
                        ml[mlp] = Match(first: avp, last: avp - 1, pattern: rvp)
                        mlp += 1
                    case .zero:
                        break
                    case .deferredMacro(let id):
                        let start = avp
                        if debugLevel >= 2 {
                            out.write("rewrite: LHS $&{" + names.name(of: id).string + "} => \"" + (macros[id]?.string ?? "(NULL)") + "\"\n")
                        }
                        if let value = macros[id] {
                            var vi = 0
                            while vi < value.count && value[vi] != 0 {
                                if avp >= wsEnd || !prefixCaseEquals(value, vi, ws[avp]) {
                                    avp = start
                                    fail = true
                                    break
                                }
                                vi += ws[avp].count
                                avp += 1
                            }
                        }
                    case .literal(let li):
                        // (fingerprints first: the bytes only when they agree)
                        if hs[avp] == rule.pointee.literalHashes[li]
                            && tokenEqualsLowered(ws[avp], rule.pointee.literals[li]) {
                            avp += 1
                        } else {
                            fail = true
                        }
                    }
                }
            }
            if !fail {
                rvp += 1
                continue
            }
            // backup
            var resumed = false
            while mlp > 0 {
                mlp -= 1
                rvp = ml[mlp].pattern
                avp = ml[mlp].last + 1
                if avp >= wsEnd { continue }
                switch rule.pointee.pattern[rvp] {
                case .oneOrMore, .zeroOrMore:
                    // The binding grows by one token at a time; when a
                    // literal comes next, only a position whose token has
                    // the literal's fingerprint can follow it (every growth
                    // in between would fail on that literal at once), so
                    // the binding grows straight to the next such position,
                    // and is given up when there is none.
                    var next = avp + 1
                    if rvp + 1 < pc, case .literal(let li) = rule.pointee.pattern[rvp + 1] {
                        let h = rule.pointee.literalHashes[li]
                        while next < wsEnd && hs[next] != h { next += 1 }
                        if next >= wsEnd { continue }
                    }
                    ml[mlp].last = next - 1
                    avp = next
                    rvp += 1
                    mlp += 1
                    resumed = true
                case .inClass(let id):
                    ml[mlp].last = avp
                    if extendClass(id, ws, &avp, &mlp, ml) {
                        rvp += 1
                        resumed = true
                    }
                default:
                    break
                }
                if resumed { break }
            }
            if !resumed { return nil }
        }
        return rvp >= pc ? mlp : nil
    }

    /// The workspace's token fingerprints (TokenHash) into `hashes`, and
    /// the union of their bits.
    private static func fingerprint(_ ws: [[UInt8]], into hashes: inout [UInt64]) -> UInt64 {
        hashes.removeAll(keepingCapacity: true)
        hashes.reserveCapacity(ws.count)
        var mask: UInt64 = 0
        ws.withUnsafeBufferPointer { wb in
            for t in wb {
                let h = TokenHash.of(t)
                hashes.append(h)
                mask |= TokenHash.bit(h)
            }
        }
        return mask
    }

    @inline(__always)
    private func tokenEqualsLowered(_ t: [UInt8], _ lit: [UInt8]) -> Bool {
        if t.count != lit.count { return false }
        var i = 0
        while i < t.count {
            if asciiLower(t[i]) != lit[i] { return false }
            i += 1
        }
        return true
    }

    /// strncasecmp(value + vi, tok, strlen(tok)) == 0
    @inline(__always)
    private func prefixCaseEquals(_ value: [UInt8], _ vi: Int, _ tok: [UInt8]) -> Bool {
        var i = 0
        while i < tok.count {
            let a: UInt8 = vi + i < value.count ? value[vi + i] : 0
            if asciiLower(a) != asciiLower(tok[i]) { return false }
            i += 1
        }
        return true
    }

    // MARK: - Rewrite

    /// Applies ruleset `ruleset` to `ws` in place.  Returns the sysexits
    /// status (EX_OK, EX_TEMPFAIL from a map, EX_CONFIG, EX_DATAERR ...).
    @discardableResult
    public func rewrite(_ ws: inout [[UInt8]], ruleset: Int, level: Int = 0,
                        maxAtoms: Int = Limits.maxAtoms) -> SysExit {
        var reclevel = level
        if ruleset < 0 || ruleset >= Limits.maxRulesets {
            systemError("554 5.3.5 rewrite: illegal ruleset number \(ruleset)")
            return .config
        }
        // (the name only for traces and errors: numbered sets would make it)
        var rulename: [UInt8] { rulesets.displayName(ruleset) }
        if testMode || debugLevel >= 1 { printTrace("   input:", rulename, ws[...]) }
        if reclevel > Limits.maxRuleRecursion {
            systemError("rewrite: excessive recursion (max \(Limits.maxRuleRecursion)), ruleset \(rulename.string)")
            return .config
        }
        reclevel += 1
        if maxAtoms <= 0 { return .usage }

        var rstat: SysExit = .ok
        let rules = rulesets.rules[ruleset] ?? []
        var ruleIndex = 0
        var ruleno = 1
        var loopcount = 0
        // the workspace's fingerprints, made again only when a lookup or a
        // subroutine changed it (a plain rewrite carries them over: those
        // of the matched tokens and the template's)
        var hashes: [UInt64] = []
        hashes.reserveCapacity(ws.count + 16)
        var wsMask = Self.fingerprint(ws, into: &hashes)
        // the next workspace and its fingerprints (each pair trades places
        // with the current one at a rewrite, keeping both buffers)
        var npvp: [[UInt8]] = []
        var nhashes: [UInt64] = []

        while ruleIndex < rules.count {
            if !ws.isEmpty && ws[0].first == Meta.canonNet { break }
            // Try the rules from ruleIndex on until one matches.  The
            // workspace only changes when one does, so its buffers are
            // taken once for the whole search, and each rule is read in
            // place (a copy would retain its arrays).
            var found: Int? = nil
            var looping = false
            rules.withUnsafeBufferPointer { rb in
                hashes.withUnsafeBufferPointer { hb in
                    ws.withUnsafeBufferPointer { wb in
                        while ruleIndex < rb.count {
                            let rule = rb.baseAddress! + ruleIndex
                            if debugLevel >= 12 {
                                var l = Array("-----trying rule:".utf8)
                                for t in rule.pointee.lhs { l.append(32); Printing.xputs(t, names: names, into: &l) }
                                l.append(10)
                                out.write(l)
                            }
                            loopcount += 1
                            if loopcount > Limits.maxLoop { looping = true; return }
                            // (too few tokens, or a literal absent from the
                            // workspace: the pattern cannot match, and is not tried)
                            if wb.count >= rule.pointee.minTokens && rule.pointee.literalMask & ~wsMask == 0
                                && (rule.pointee.requiredLiteral.map { hb.contains(rule.pointee.literalHashes[$0]) } ?? true),
                               let n = match(rule, wb, hb, matchBuffer(for: rule.pointee.pattern.count)) {
                                found = n
                                return
                            }
                            if debugLevel >= 10 { out.write("----- rule fails\n") }
                            ruleIndex += 1
                            ruleno += 1
                            loopcount = 0
                        }
                    }
                }
            }
            if looping {
                systemError("554 5.3.5 Infinite loop in ruleset \(rulename.string), rule \(ruleno)")
                if debugLevel >= 1 {
                    var l = Array("workspace:".utf8)
                    Printing.printav(ws, names: names, into: &l)
                    out.write(l)
                }
                break
            }
            guard let nmatch = found else { break }
            // (the fields it needs, not a copy of the rule: a copy retains
            // all its arrays)
            let prefix = rules[ruleIndex].prefix
            let template = rules[ruleIndex].template
            let templateHashes = rules[ruleIndex].templateHashes
            let templateNeedsWork = rules[ruleIndex].templateNeedsWork
            // (the bindings of the match just made: nothing has run since)
            let ml = matchBuffer
            if debugLevel >= 12 {
                var l = Array("-----rule matches:".utf8)
                for t in rules[ruleIndex].rhs { l.append(32); Printing.xputs(t, names: names, into: &l) }
                l.append(10)
                out.write(l)
            }
            var returnAfter = false
            switch prefix {
            case .once:
                ruleIndex += 1
                ruleno += 1
                loopcount = 0
            case .returnAfter:
                returnAfter = true
            case .repeatWhileMatching:
                break
            }

            // substitute
            npvp.removeAll(keepingCapacity: true)
            nhashes.removeAll(keepingCapacity: true)
            npvp.reserveCapacity(ws.count + template.count)
            nhashes.reserveCapacity(ws.count + template.count)
            var nmask: UInt64 = 0
            for k in template.indices {
                let rp = template[k]
                let b0 = rp.first ?? 0
                if b0 == Meta.matchReplace && rp.count >= 2 {
                    let idx = Int(rp[1]) - Int(UInt8(ascii: "1"))
                    if idx < 0 || idx >= nmatch {
                        systemError("554 5.3.5 rewrite: ruleset \(rulename.string): replacement $\(String(UnicodeScalar(rp[1]))) out of bounds")
                        return .config
                    }
                    let m = ml[idx]
                    var pp = m.first
                    while pp <= m.last {
                        if npvp.count >= maxAtoms { return tooLong(rulename, ruleno) }
                        npvp.append(ws[pp])
                        nhashes.append(hashes[pp])
                        nmask |= TokenHash.bit(hashes[pp])
                        pp += 1
                    }
                } else {
                    if npvp.count >= maxAtoms { return tooLong(rulename, ruleno) }
                    if b0 != Meta.macroDeferred {
                        npvp.append(rp)
                        nhashes.append(templateHashes[k])
                        nmask |= TokenHash.bit(templateHashes[k])
                    } else {
                        let id = rp.count > 1 ? Int(rp[1]) : 0
                        if debugLevel >= 2 {
                            out.write("rewrite: RHS $&{" + names.name(of: id).string + "} => \"" + (macros[id]?.string ?? "(NULL)") + "\"\n")
                        }
                        guard let mval = macros[id], !mval.isEmpty, mval[0] != 0 else { continue }
                        let r = scan(mval, table: tables.external)
                        guard let xt = r.tokens else { return .dataErr }
                        for t in xt {
                            npvp.append(t)
                            let h = TokenHash.of(t)
                            nhashes.append(h)
                            nmask |= TokenHash.bit(h)
                            if npvp.count >= maxAtoms { return tooLong(rulename, ruleno) }
                        }
                    }
                }
            }

            if templateNeedsWork {
                // map lookups
                if let st = doLookups(&npvp, maxAtoms: maxAtoms, rstat: &rstat, rulename: rulename, ruleno: ruleno) {
                    return st
                }
                // subroutine calls
                let status = callSubroutines(&npvp, level: reclevel)
                if rstat == .ok || status == .tempFail { rstat = status }
            }

            swap(&ws, &npvp)
            swap(&hashes, &nhashes)
            if debugLevel >= 4 {
                var l = Array("rewritten as:".utf8)
                for t in ws { l.append(32); Printing.xputs(t, names: names, into: &l) }
                l.append(10)
                out.write(l)
            }
            if returnAfter { break }
            // (a lookup or subroutine changed the workspace: its fingerprints
            // are made again; otherwise they are the ones made above)
            wsMask = templateNeedsWork ? Self.fingerprint(ws, into: &hashes) : nmask
        }

        if testMode || debugLevel >= 1 { printTrace(" returns:", rulename, ws[...]) }
        return rstat
    }

    private func tooLong(_ rulename: [UInt8], _ ruleno: Int) -> SysExit {
        systemError("554 5.3.0 rewrite: expansion too long")
        return .dataErr
    }

    /// Handles $[ $] and $( $) in a rewritten workspace.  Returns a status
    /// to stop with, or nil to go on.
    private func doLookups(_ npvp: inout [[UInt8]], maxAtoms: Int, rstat: inout SysExit,
                           rulename: [UInt8], ruleno: Int) -> SysExit? {
        var i = 0
        while i < npvp.count {
            let b0 = npvp[i].first ?? 0
            let endToken: UInt8
            let mapName: [UInt8]
            let begin = i
            if b0 == Meta.hostBegin && npvp[i].count == 1 {
                endToken = Meta.hostEnd
                mapName = Array("host".utf8)
                i += 1
            } else if b0 == Meta.lookupBegin && npvp[i].count == 1 {
                endToken = Meta.lookupEnd
                guard i + 1 < npvp.count else {
                    systemError("554 5.3.0 rewrite: missing mapname")
                    return .config
                }
                mapName = npvp[i + 1]
                i += 2
            } else {
                i += 1
                continue
            }
            let map = maps?.map(named: mapName)
            if map == nil {
                systemError("554 5.3.0 rewrite: map \(mapName.string) not found")
            }
            // split key / args / default
            let keyStart = i
            var keyEnd = -1
            var args: [[UInt8]] = []
            var argStart = -1
            var defaultStart = -1
            var defaultEnd = -1
            var j = i
            func closeArg(_ upto: Int) {
                if argStart >= 0 {
                    if args.count < Limits.maxMapArgs - 2 {
                        args.append(catAddr(npvp[argStart..<upto], sub: nil, external: true))
                    }
                    argStart = -1
                }
            }
            while j < npvp.count && !(npvp[j].count == 1 && npvp[j][0] == endToken) {
                let t = npvp[j]
                if t.count == 1 && (t[0] == Meta.canonHost || t[0] == Meta.canonUser) {
                    if keyEnd < 0 { keyEnd = j }
                    closeArg(j)
                    if defaultStart >= 0 && defaultEnd < 0 { defaultEnd = j }
                    if t[0] == Meta.canonHost {
                        argStart = j + 1
                    } else {
                        defaultStart = j + 1
                        defaultEnd = -1
                    }
                }
                j += 1
            }
            if keyEnd < 0 { keyEnd = j }
            closeArg(j)
            if defaultStart >= 0 && defaultEnd < 0 { defaultEnd = j }
            let after = j < npvp.count ? j + 1 : j
            let keyToks = npvp[keyStart..<keyEnd]
            var key = catAddr(keyToks, sub: nil, external: true, limit: 1024)
            var replacement: [UInt8]? = nil
            var external = false
            if let map {
                if deferMode && map.skipsWhenDeferred {
                    rstat = .tempFail
                } else {
                    if !map.keepsQuotes { key = stripQuotes(key) }
                    switch map.lookup(key, arguments: args, context: self) {
                    case .found(let v):
                        replacement = v
                    case .notFound:
                        break
                    case .tempFail:
                        if !map.ignoresTempFail {
                            rstat = .tempFail
                            if envelopeMessage == nil {
                                envelopeMessage = "\(mapName.string.prefix(80)) map: lookup (\(key.string)): deferred"
                            }
                        }
                        if let app = map.tempFailSuffix { replacement = key + app }
                    }
                }
                external = replacement != nil
            }
            if replacement == nil && defaultStart >= 0 {
                replacement = catAddr(npvp[defaultStart..<defaultEnd], sub: nil, external: false)
            }
            var result: [[UInt8]]
            if let r = replacement {
                if r.isEmpty || r[0] == 0 {
                    result = []
                } else {
                    let pr = scan(r, table: external ? tables.external : tables.internal)
                    guard let t = pr.tokens else { return .dataErr }
                    result = t
                }
            } else {
                result = Array(keyToks)
            }
            let tail = npvp[after...]
            if begin + result.count >= maxAtoms || begin + result.count + tail.count > maxAtoms {
                return tooLong(rulename, ruleno)
            }
            var rebuilt = Array(npvp[..<begin])
            rebuilt.append(contentsOf: result)
            i = rebuilt.count
            rebuilt.append(contentsOf: tail)
            npvp = rebuilt
        }
        return nil
    }

    /// Runs the `$>` calls in a rewritten workspace, rightmost first.
    private func callSubroutines(_ pvp: inout [[UInt8]], level: Int) -> SysExit {
        var calls: [(ruleset: Int, index: Int)] = []
        var j = 0
        while j < pvp.count {
            if pvp[j].count == 1 && pvp[j][0] == Meta.callSubr && j + 1 < pvp.count {
                let name = stripQuotes(pvp[j + 1])
                guard let subr = rulesets.find(name, report: { self.systemError($0) }) else {
                    systemError("554 5.3.5 Unknown ruleset \(name.string)")
                    return .config
                }
                if !rulesets.hasRules(subr) {
                    if debugLevel >= 3 { out.write("-----skip subr " + name.string + " (\(subr))\n") }
                    pvp.removeSubrange(j...(j + 1))
                    j += 1
                    continue
                }
                if calls.count + 1 >= Limits.maxSubroutines {
                    systemError("554 5.3.0 Too many subroutine calls (\(Limits.maxSubroutines) max)")
                    return .config
                }
                calls.append((subr, j))
            }
            j += 1
        }
        var rstat: SysExit = .ok
        for call in calls.reversed() {
            pvp.removeSubrange(call.index...(call.index + 1))
            var sub = Array(pvp[call.index...])
            let status = rewrite(&sub, ruleset: call.ruleset, level: level,
                                 maxAtoms: Limits.maxAtoms - call.index)
            pvp.replaceSubrange(call.index..., with: sub)
            if status != .ok && status != .tempFail { return status }
            if rstat == .ok || status == .tempFail { rstat = status }
        }
        return rstat
    }
}

/// Removes double quotes and the backslashes that escape characters, as
/// sendmail's stripquotes.
public func stripQuotes(_ s: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(s.count)
    var i = 0
    while i < s.count {
        var c = s[i]
        i += 1
        if c == 0 { break }
        if c == UInt8(ascii: "\\") {
            guard i < s.count, s[i] != 0 else { break }
            c = s[i]
            i += 1
        } else if c == UInt8(ascii: "\"") {
            continue
        }
        out.append(c)
    }
    return out
}

/// sendmail's shortenstring: long strings become "first...last".
public func shortenString(_ s: [UInt8], _ m0: Int) -> [UInt8] {
    let l = s.count
    if l < m0 { return s }
    var m = min(m0, 203)
    if m < 10 {
        if m < 5 { return Array(s.prefix(m)) }
        return Array(s.prefix(m - 3)) + Array("...".utf8)
    }
    m = (m - 3) / 2
    return Array(s.prefix(m)) + Array("...".utf8) + Array(s.suffix(m))
}
