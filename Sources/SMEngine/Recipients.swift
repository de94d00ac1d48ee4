// SMEngine/Recipients.swift
//
// The recipient list of an envelope, as sendmail builds it: sendtolist
// parses a comma-separated list (members taken in reverse order, as
// sendmail does), recipient() checks each address, suppresses
// duplicates and inserts it in host order (sendmail's sorthost, the
// order used while FastSplit is on and the envelope is fresh), then
// expands it — :include: files, aliases (every AliasFile map), the
// cf's ruleset 5 for F=5 mailers, the password file for F=w mailers
// (with the lower-case retry), and the user's .forward along
// ForwardPath.  Messages and their order are sendmail's; "aliased to",
// "including file" and "forwarding to" are shown only with -v, "duplicate
// suppressed" only when the address already queued is not primary (the
// only address of a primary alias counts as primary while it is sendable).  Used at submission
// and again by queue runs for the qf's recipients (QueueExpand.swift).
// Promises: expansion is bounded (alias depth over 10 is an error, as
// in sendmail); every address ends in one of the states below; nothing
// here delivers or writes anything.
//
// A .forward is used only when sendmail's safety checks pass (directory
// path, owner, group/world-writable; -v names the failed check).
// :include: lists get the same checks (any owner).  DontBlameSendmail
// relaxes them; a file accepted only by a relaxation makes its programs
// and files "unsafe" (refused).
// An alias with an `owner-` alias gets that owner (alias()'s q_owner);
// OwnerSplit.swift turns owners into envelopes of their own.
// Not modelled yet: the uid/shell checks that make an :include: or
// .forward "unsafe" for programs and files, and
// sortbysignature (FastSplit=0).

import Glibc
import SMBase
import SMRules
import SMConfig
import SMMaps

/// sendmail's q_state values that matter before delivery.
public enum RecipientState: Sendable, Equatable {
    case ok, badAddress, queueUp, expanded, included, verified, duplicate, dontSend, replaced

    /// QS_IS_DEAD: the address will not be delivered itself.
    public var isDead: Bool {
        switch self {
        case .dontSend, .duplicate, .expanded, .included, .replaced: return true
        default: return false
        }
    }
    /// QS_IS_SENDABLE.
    public var isSendable: Bool { self == .ok || self == .queueUp || self == .verified }
}

/// One entry of the send queue (sendmail's ADDRESS).
public final class Recipient {
    public var address: ParsedAddress
    public var state: RecipientState
    /// q_alias: the address this one was expanded from.
    public let parent: Recipient?
    public var primary = false
    /// Refused by a plain usrerr() in recipient() (a program or file
    /// named directly, or through an unsafe address): sendmail logs no
    /// to= line for it, as it does for a refusal given a mailer's status.
    public var refusedWithoutStatus = false
    /// Refused already when it joined the send queue (a program named
    /// directly; a file is refused after): sendmail's e_nrcpts did not
    /// count it, as measured.
    public var uncounted = false
    /// How many addresses its expansion (alias, :include: line) gave.
    public var expansionCount = 0

    /// The qf's P flag: primary, or the only address an alias of a
    /// primary address expanded to (not through an :include: file).
    public var queuedAsPrimary: Bool {
        if primary { return true }
        guard let p = parent, p.expansionCount == 1, p.address.mailerName != Array("*include*".utf8) else { return false }
        return p.queuedAsPrimary
    }
    /// ... of which did not fail.
    public var goodExpansionCount = 0
    /// The P flag the qf gives it: primary, or the only good address an
    /// alias of such an address expanded to (not through an :include: file).
    public var queuedWithPFlag: Bool {
        if primary { return true }
        guard let p = parent, p.goodExpansionCount == 1, p.address.mailerName != Array("*include*".utf8) else { return false }
        return p.queuedWithPFlag
    }
    public var rcptOK = false
    public var selfReference = false
    public var home: [UInt8]? = nil
    public var status: [UInt8]? = nil
    /// q_message: why the address is queued ("alias database unavailable").
    public var message: [UInt8]? = nil
    /// QUNSAFEADDR: expanded from a file that passed its checks only by
    /// a DontBlameSendmail relaxation; its programs and files are refused.
    public var unsafe = false
    /// q_owner: an alias with an `owner-` alias names its owner here; the
    /// addresses it expanded to inherit it (OwnerSplit.swift).
    public var owner: [UInt8]? = nil

    init(_ a: ParsedAddress, parent: Recipient?) {
        address = a
        self.parent = parent
        state = a.badAddress ? .badAddress : (a.queueUp ? .queueUp : .ok)
        status = a.status
    }

    public var printable: [UInt8] { address.printable }
}

/// sendmail's sendq for one envelope.
public final class SendQueue {
    public private(set) var entries: [Recipient] = []
    public init() {}

    /// sorthost: hosts compared without case, no host first.
    static func compareHost(_ a: [UInt8]?, _ b: [UInt8]?) -> Int {
        switch (a, b) {
        case (nil, nil): return 0
        case (nil, _): return -1
        case (_, nil): return 1
        case let (x?, y?):
            for (c, d) in zip(x, y) {
                let l = Int(asciiLower(c)), r = Int(asciiLower(d))
                if l != r { return l - r }
            }
            return x.count - y.count
        }
    }

    /// Finds a duplicate of `new` or the index to insert it at.
    func place(_ new: Recipient, sameAddress: (Recipient, Recipient) -> Bool) -> (dup: Recipient?, at: Int) {
        for (i, q) in entries.enumerated() {
            let c = Self.compareHost(new.address.host, q.address.host)
            if c == 0 {
                if sameAddress(q, new) && (q.rcptOK || !q.primary) { return (q, i) }
            } else if c < 0 {
                return (nil, i)
            }
        }
        return (nil, entries.count)
    }

    func insert(_ r: Recipient, at i: Int) { entries.insert(r, at: i) }
    /// Drops an entry (a recipient refused in SMTP).
    func remove(_ r: Recipient) { entries.removeAll { $0 === r } }
}

extension Engine {
    static let maxAliasRecursion = 10
    /// sendmail's MAXNAME: a longer alias name has owner-owner as owner.
    static let maxOwnerAliasName = 256

    var verbose: Bool { sessionVerbose || cachedOption("Verbose", &verboseOptionCache) }

    /// sendmail's sameaddr.
    func sameAddress(_ a: Recipient, _ b: Recipient) -> Bool {
        let x = a.address, y = b.address
        guard x.mailerName == y.mailerName, x.user == y.user else { return false }
        switch (x.host, y.host) {
        case (nil, nil): return true
        case let (h?, k?): return h.asciiCaseEquals(k)
        default: return false
        }
    }

    /// sendmail's sendtolist; returns the number of addresses handed on.
    @discardableResult
    public func sendToList(_ list0: [UInt8], parent: Recipient?, queue: SendQueue, aliasLevel: Int) -> Int {
        let rw = rewriter
        let oldTo = rw.currentAddress
        defer { rw.currentAddress = oldTo }
        // denlstring: newlines become spaces
        let list = list0.map { $0 == 0x0A ? 0x20 : $0 }
        var delimiter = UInt8(ascii: ",")
        if parent == nil, config.options.bool("OldStyleHeaders"),
           !list.contains(where: { [UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "<"), UInt8(ascii: "(")].contains($0) }) {
            delimiter = 0x20
        }
        var members: [Recipient] = []
        var p = 0
        while p < list.count {
            while p < list.count, isASCIISpace(list[p]) || list[p] == UInt8(ascii: ",") { p += 1 }
            if p >= list.count { break }
            let rest = Array(list[p...])
            let parsed = parseAddress(rest, flags: [], isRecipient: true, delimiter: delimiter)
            p += max(lastParseEnd, 1)
            guard let a = parsed else { continue }
            let r = Recipient(a, parent: parent)
            if let ctl = parent, sameAddress(ctl, r) { ctl.selfReference = true }
            members.append(r)
        }
        parent?.expansionCount = members.count
        for r in members.reversed() {
            recipient(r, queue: queue, aliasLevel: aliasLevel)
        }
        // (for the qf's P flag an address that failed does not count: the
        // only good one is then the alias's only address, measured
        // against sendmail; duplicates are judged by expansionCount)
        parent?.goodExpansionCount = members.filter { $0.state != .badAddress }.count
        return members.count
    }

    /// sendmail's recipient().
    @discardableResult
    public func recipient(_ new: Recipient, queue: SendQueue, aliasLevel: Int) -> Recipient {
        let rw = rewriter
        rw.currentAddress = new.printable
        if aliasLevel == 0 { new.primary = true }
        if aliasLevel > Self.maxAliasRecursion {
            new.state = .badAddress
            new.status = Array("5.4.6".utf8)
            if let p = new.parent { p.state = .badAddress; p.status = new.status }
            rw.userError("554 5.4.6 aliasing/forwarding loop broken (\(aliasLevel) aliases deep; \(Self.maxAliasRecursion) max)")
            return new
        }
        var user = new.address.user
        let quoted = user.contains(UInt8(ascii: "\\"))
        var name = stripQuotes(user)
        let mname = new.address.mailerName

        if mname == Array("prog".utf8), new.parent == nil {
            new.state = .badAddress
            new.status = Array("5.7.1".utf8)
            new.refusedWithoutStatus = true
            rw.userError("550 5.7.1 Cannot mail directly to programs")
        } else if mname == Array("prog".utf8), let p = new.parent, p.unsafe {
            new.state = .badAddress
            new.status = Array("5.7.1".utf8)
            new.refusedWithoutStatus = true
            rw.userError("550 5.7.1 Address \(p.printable.string) is unsafe for mailing to programs")
        }

        let (dup, at) = queue.place(new) { sameAddress($0, $1) }
        if let q = dup {
            // (the only address of a primary alias counts as primary
            // unless it failed: measured against sendmail)
            if !(q.primary || (q.queuedAsPrimary && q.state.isSendable)) {
                if !new.state.isDead { if verbose && !quietDuplicates { rw.notice("duplicate suppressed") } } else { q.state = .duplicate }
                q.primary = q.primary || new.primary
            } else if q.selfReference {
                q.state = new.state
            }
            q.rcptOK = true
            return q
        }
        queue.insert(new, at: at)
        if new.state == .badAddress { new.uncounted = true }

        var fuzzyCount = 0
        tryLocalUser: while true {
            guard new.state == .ok else { break }
            if mname == Array("*include*".utf8) {
                new.state = .included
                if new.parent == nil {
                    new.state = .badAddress
                    new.status = Array("5.7.1".utf8)
                    rw.userError("550 5.7.1 Cannot mail directly to :include:s")
                } else {
                    if verbose { rw.notice("including file \(user.string)") }
                    let check = checkListFile(user.string, owner: nil)
                    let err = check.error ?? include(user, forwarding: false, unsafe: check.unsafe, parent: new,
                                                     queue: queue, aliasLevel: aliasLevel)
                    rw.currentAddress = new.printable
                    if err.code != 0 {
                        let reason = err.text
                        if isTransient(err.code) {
                            new.state = .queueUp
                            rw.userError("451 4.2.4 Cannot open \(shortenString(user, 203).string): \(reason)")
                        } else {
                            new.state = .badAddress
                            new.status = Array("5.2.4".utf8)
                            rw.userError("550 5.2.4 Cannot open \(shortenString(user, 203).string): \(reason)")
                        }
                    }
                }
            } else if mname == Array("*file*".utf8), new.parent == nil {
                new.state = .badAddress
                new.status = Array("5.7.1".utf8)
                new.refusedWithoutStatus = true
                rw.userError("550 5.7.1 Cannot mail directly to files")
            } else if mname == Array("*file*".utf8), let p = new.parent, p.unsafe {
                new.state = .badAddress
                new.status = Array("5.7.1".utf8)
                new.refusedWithoutStatus = true
                rw.userError("550 5.7.1 Address \(p.printable.string) is unsafe for mailing to files")
            }

            if !quoted && new.state == .ok, let m = new.address.mailer, m.has("A") {
                alias(new, queue: queue, aliasLevel: aliasLevel)
            }

            if new.state == .ok, let m = new.address.mailer, m.has("5"), rewriter.rulesets.hasRules(5), !new.address.notRemote {
                mapLocalUser(new, queue: queue, aliasLevel: aliasLevel + 1)
            }

            if new.state == .ok, let m = new.address.mailer, m.has("w") {
                var pw = getpwnam(name.string)
                var fuzzy = false, byFullName = false
                if pw == nil {
                    let lower = name.asciiLowercased
                    if lower != name { pw = getpwnam(lower.string); fuzzy = pw != nil; name = lower }
                }
                if pw == nil, config.options.bool("MatchGECOS"), let login = loginByFullName(name) {
                    pw = getpwnam(login.string)
                    fuzzy = pw != nil
                    byFullName = fuzzy
                }
                rw.currentAddress = new.printable
                guard let pwd = pw else {
                    new.state = .badAddress
                    new.status = Array("5.1.1".utf8)
                    rw.userError("550 5.1.1 User unknown")
                    // giveresponse(): the envelope's status text has no address
                    rw.lastUserError = "User unknown"
                    rw.setStatus(.noUser)
                    break tryLocalUser
                }
                let pwName = Array(String(cString: pwd.pointee.pw_name).utf8)
                if byFullName && verbose { rw.notice("sending to login name \(pwName.string)") }
                if fuzzy {
                    new.address.user = pwName
                    user = pwName
                    fuzzyCount += 1
                    if fuzzyCount > 4 {
                        new.state = .badAddress
                        new.status = Array("5.4.6".utf8)
                        rw.userError("554 5.4.6 aliasing/forwarding loop for \(pwName.string) broken")
                        return new
                    }
                    name = pwName
                    continue tryLocalUser
                }
                let dir = Array(String(cString: pwd.pointee.pw_dir).utf8)
                new.home = dir.isEmpty ? nil : (dir == [UInt8(ascii: "/")] ? [] : dir)
                if !quoted && !verifyOnly { forward(new, uid: pwd.pointee.pw_uid, queue: queue, aliasLevel: aliasLevel) }
            }
            break
        }

        if new.parent == nil && new.state.isDead {
            if queue.entries.allSatisfy({ $0.state.isDead }) {
                new.state = .badAddress
                new.status = Array("5.4.6".utf8)
                rw.currentAddress = new.printable
                rw.userError("554 5.4.6 aliasing/forwarding loop broken")
            }
        }
        new.rcptOK = true
        return new
    }

    func isTransient(_ err: Int32) -> Bool {
        [EAGAIN, EINTR, ETIMEDOUT, ENFILE, EMFILE, ENOBUFS, ENOMEM, EIO].contains(err)
    }

    /// sendmail's alias().
    func alias(_ a: Recipient, queue: SendQueue, aliasLevel: Int) {
        guard a.state == .ok, !options.noAlias else { return }
        let rw = rewriter
        rw.currentAddress = a.printable
        switch aliasLookup(a.address.user) {
        case .notFound:
            return
        case .tempFail:
            a.state = .queueUp
            a.message = Array("alias database unavailable".utf8)
            if rw.envelopeMessage == nil { rw.envelopeMessage = "alias database unavailable" }
            return
        case .found(let value):
            // EF_VRFYONLY (SMTP in queue-only mode, VRFY): the alias exists; it
            // is expanded later
            if verifyOnly { a.state = .verified; return }
            if verbose { rw.notice("aliased to \(shortenString(value, 203).string)") }
            a.selfReference = false
            a.state = .expanded
            sendToList(value, parent: a, queue: queue, aliasLevel: aliasLevel + 1)
            if a.selfReference && a.state == .expanded { a.state = .ok }
            // (a receipt's transcript says so, with NOTIFY=SUCCESS)
            if a.expansionCount > 1 {
                mailingListNotes.append((rewriter.errorTranscript?.count ?? 0,
                                         a.printable + Array("... expanded to multiple addresses".utf8), a))
            }
            aliasOwner(a)
        }
    }

    /// The owner of a list alias: `owner-<alias>` looked up as an alias
    /// (`owner-owner` for an alias that is itself an owner- alias, or
    /// whose name is too long); its value becomes the owner unless it
    /// holds one of `,:/|"` (a list, a program, a file): then the name
    /// `owner-<alias>` itself.  The transcript notes the list.
    func aliasOwner(_ a: Recipient) {
        let user = a.address.user
        let prefix = Array("owner-".utf8)
        let name = user.starts(with: prefix) || user.count > Self.maxOwnerAliasName
            ? Array("owner-owner".utf8) : prefix + user
        guard case .found(let value) = aliasLookup(name) else { return }
        let special: [UInt8] = Array(",:/|\"".utf8)
        a.owner = value.contains(where: { special.contains($0) }) ? name : value
        mailingListNotes.append((rewriter.errorTranscript?.count ?? 0,
                                 Array("Message delivered to mailing list ".utf8) + a.printable, nil))
    }

    public enum AliasAnswer: Equatable { case found([UInt8]), notFound, tempFail }

    /// sendmail's aliaslookup over every AliasFile map, in order.
    public func aliasLookup(_ name0: [UInt8]) -> AliasAnswer {
        var name = name0
        if name.asciiCaseEquals(Array("postmaster".utf8)) { name = Array("postmaster".utf8) }
        let key = name.asciiLowercased
        var sawTempFail = false
        for spec in aliasFileSpecs() {
            switch aliasTable(spec) {
            case .some(.db(let db)):
                if let v = ((try? db.get(key + [0])) ?? nil) ?? ((try? db.get(key)) ?? nil) {
                    var value = v
                    if value.last == 0 { value.removeLast() }
                    return .found(value)
                }
            case .some(.text(let table)):
                if let v = table[key] { return .found(v) }
            case .none:
                sawTempFail = true
            }
        }
        return sawTempFail ? .tempFail : .notFound
    }

    enum AliasTable { case db(BerkeleyDB), text([[UInt8]: [UInt8]]) }

    /// An alias database kept with the map set (MapSet.attach), so that
    /// the engines that use the set one after another (a daemon's
    /// sessions, a delivery worker's messages) open it once; the set is
    /// given up when the file changes (newaliases).
    final class OpenAliasDatabase {
        let db: BerkeleyDB
        init(_ db: BerkeleyDB) { self.db = db }
    }

    /// Opens (once, at the first lookup) the database of one alias file.
    /// An implicit-class file without a database is read as text, with
    /// newaliases' messages, as sendmail falls back to its stab class (-v
    /// says so); a file that cannot be read either makes lookups answer
    /// "try again later", so the address is queued, not bounced.
    func aliasTable(_ spec: AliasFileSpec) -> AliasTable? {
        if let t = openAliasTables[spec.name] { return t }
        let cls = spec.mapClass.string
        let path = spec.file.string
        var table: AliasTable? = nil
        let key = Array("alias:".utf8) + spec.mapClass + [0] + spec.file
        if ["implicit", "hash", "btree"].contains(cls),
           let open = (maps.attachment(key) ?? maps.attach(key, madeFrom: [path + ".db"], {
               (try? BerkeleyDB(path: path + ".db", kind: cls == "btree" ? .btree : .hash, readOnly: true))
                   .map(OpenAliasDatabase.init)
           })) as? OpenAliasDatabase {
            table = .db(open.db)
        } else if cls == "implicit" {
            if verbose {
                rewriter.notice("WARNING: cannot open alias database \(path); reading text version")
            }
            // the text is read only from a safe place (as a map file)
            let fd = SafeFile.check(path, dontBlame: config.options.dontBlame) == 0 ? open(path, O_RDONLY) : -1
            if fd >= 0 {
                let text = readAll(fd)
                close(fd)
                var dict: [[UInt8]: [UInt8]] = [:]
                let rw = rewriter
                let save = (rw.fileContext, rw.currentAddress)
                let (count, longest, bytes) = readAliases(text, fileName: path) { k, v in dict[k] = v }
                rw.fileContext = nil
                rw.fileContext = save.0
                if verbose {
                    // the address is not shown again until the next one is
                    // taken up ("aliased to" follows without it)
                    rw.currentAddress = nil
                    rw.notice(Self.aliasStatistics(path, count, longest, bytes))
                } else {
                    rw.currentAddress = save.1
                }
                table = .text(dict)
            }
        }
        openAliasTables[spec.name] = table
        return table
    }

    /// MatchGECOS: the login whose full name (the GECOS field up to its
    /// first comma, `&` standing for the capitalised login) is `name`,
    /// compared without case, with `_` in `name` standing for a blank.
    func loginByFullName(_ name: [UInt8]) -> [UInt8]? {
        let wanted = name.map { $0 == UInt8(ascii: "_") ? UInt8(ascii: " ") : $0 }.asciiLowercased
        if wanted.isEmpty { return nil }
        setpwent()
        defer { endpwent() }
        while let pw = getpwent() {
            guard let g = pw.pointee.pw_gecos else { continue }
            let login = Array(String(cString: pw.pointee.pw_name).utf8)
            var full: [UInt8] = []
            for c in Array(String(cString: g).utf8) {
                if c == UInt8(ascii: ",") { break }
                if c == UInt8(ascii: "&") {
                    var cap = login
                    if let f = cap.first, f >= 0x61 && f <= 0x7A { cap[0] = f - 0x20 }
                    full += cap
                } else {
                    full.append(c)
                }
            }
            if full.asciiLowercased == wanted { return login }
        }
        return nil
    }

    /// sendmail's maplocaluser: ruleset 5 may hand a local user to
    /// another mailer after aliasing.
    func mapLocalUser(_ a: Recipient, queue: SendQueue, aliasLevel: Int) {
        let rw = rewriter
        let pr = prescan(a.address.user, delim: 0, table: rw.tables.external, ignoreUnbalanced: false,
                         report: { _ in })
        guard var pvp = pr.tokens else { return }
        if rw.rewrite(&pvp, ruleset: 5) == .tempFail {
            a.state = .queueUp
            return
        }
        guard pvp.first == [Meta.canonNet] else { return }
        var b = buildAddress(pvp, flags: [])
        b.printable = a.printable
        let r = Recipient(b, parent: a)
        if sameAddress(a, r) { return }
        a.state = .replaced
        rw.currentAddress = a.printable
        recipient(r, queue: queue, aliasLevel: aliasLevel)
    }

    /// sendmail's forward(): the first readable file along ForwardPath.
    func forward(_ a: Recipient, uid: uid_t, queue: SendQueue, aliasLevel: Int) {
        let rw = rewriter
        if let fp = config.options["ForwardPath"], fp.isEmpty { return }
        let path = config.options["ForwardPath"]
            ?? translateDollars(Array("$z/.forward".utf8), names: config.names, report: { _ in })
        let saveZ = rw.macroValue(Array("z".utf8)), saveU = rw.macroValue(Array("u".utf8))
        let saveH = rw.macroValue(Array("h".utf8))
        rw.defineMacro(Array("z".utf8), a.home ?? Array("/no/such/directory".utf8))
        rw.defineMacro(Array("u".utf8), a.address.user)
        rw.defineMacro(Array("h".utf8), a.address.host)
        defer {
            rw.defineMacro(Array("z".utf8), saveZ); rw.defineMacro(Array("u".utf8), saveU)
            rw.defineMacro(Array("h".utf8), saveH)
        }
        for piece in path.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: true) {
            let file = expandMacros(Array(piece), rw)
            if file.isEmpty { continue }
            let check = checkListFile(file.string, owner: uid)
            let err = check.error
                ?? include(file, forwarding: true, unsafe: check.unsafe, parent: a, queue: queue, aliasLevel: aliasLevel)
            if err.code == 0 { break }
            if err.code == ENOENT { continue }
            // a file that is there but unsafe or unreadable is skipped; -v says why
            if verbose {
                rw.currentAddress = a.printable
                rw.notice("forward: \(file.string): \(err.text)")
            }
        }
    }

    /// An error from the file checks: errno or one of sendmail's own.
    struct FileCheckError {
        var code: Int32
        var text: String
        static let ok = FileCheckError(code: 0, text: "")
        init(code: Int32, text: String) { self.code = code; self.text = text }
        init(errno e: Int32) { code = e; text = String(cString: strerror(e)) }
    }

    /// sendmail's safefile() checks for a .forward (`owner`: the user,
    /// who or root must own it) or an :include: list (`owner` nil: any
    /// owner), with the site's DontBlameSendmail relaxations (names built
    /// on "Forward" or "Include"): every directory on the path neither
    /// world- nor group-writable (...FileInGroupWritableDirPath or
    /// GroupWritableDirPathSafe accept group-writable ones,
    /// ...FileInUnsafeDirPath any, TrustStickyBit a sticky one); no
    /// symbolic link in a writable directory (Linked...FileInWritableDir);
    /// a regular file, not group- or world-writable (GroupWritable...File,
    /// WorldWritable...File).  A file passed only thanks to a relaxation
    /// is *unsafe*: its addresses may not name programs or files.  What
    /// the ...Safe names restore was measured against sendmail: for a
    /// .forward, GroupWritableForwardFileSafe and
    /// ForwardFileInUnsafeDirPathSafe (and a group-writable directory
    /// accepted by ForwardFileInGroupWritableDirPath is safe); for an
    /// :include:, only GroupWritableIncludeFileSafe — any writable
    /// directory leaves it unsafe.
    func checkListFile(_ path: String, owner: uid_t?) -> (error: FileCheckError?, unsafe: Bool) {
        let dbs = config.options.dontBlame
        let kind = owner == nil ? "include" : "forward"
        func relaxed(_ before: String, _ after: String) -> Bool { dbs.contains(before + kind + after) }
        var unsafe = false
        var dir = ""
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).dropLast()
        var dirs = ["/"]
        for p in parts { dir += "/" + p; dirs.append(dir) }
        var parentWritable = false
        for d in dirs {
            var st = stat()
            if stat(d, &st) != 0 { return (FileCheckError(errno: errno), false) }
            parentWritable = false
            if st.st_mode & S_IWOTH != 0 {
                if st.st_mode & S_ISVTX != 0 && dbs.contains("truststickybit") { continue }
                parentWritable = true
                guard relaxed("", "fileinunsafedirpath") else {
                    return (FileCheckError(code: 0x1000_0001, text: "World writable directory"), false)
                }
                if owner == nil || !relaxed("", "fileinunsafedirpathsafe") { unsafe = true }
            } else if st.st_mode & S_IWGRP != 0 {
                parentWritable = true
                if relaxed("", "fileingroupwritabledirpath") || dbs.contains("groupwritabledirpathsafe") {
                    if owner == nil { unsafe = true }
                    continue
                }
                guard relaxed("", "fileinunsafedirpath") else {
                    return (FileCheckError(code: 0x1000_0002, text: "Group writable directory"), false)
                }
                if owner == nil || !relaxed("", "fileinunsafedirpathsafe") { unsafe = true }
            }
        }
        var lst = stat()
        if lstat(path, &lst) == 0, (lst.st_mode & S_IFMT) == S_IFLNK, parentWritable,
           !relaxed("linked", "fileinwritabledir") {
            return (FileCheckError(code: 0x1000_0006, text: "Symbolic links not allowed"), false)
        }
        var st = stat()
        if stat(path, &st) != 0 { return (FileCheckError(errno: errno), false) }
        if let uid = owner, st.st_uid != uid && st.st_uid != 0 { return (FileCheckError(errno: EACCES), false) }
        if (st.st_mode & S_IFMT) != S_IFREG { return (FileCheckError(code: 0x1000_0003, text: "Regular files only"), false) }
        if st.st_mode & S_IWGRP != 0 {
            guard relaxed("groupwritable", "file") else {
                return (FileCheckError(code: 0x1000_0004, text: "Group writable file"), false)
            }
            if !relaxed("groupwritable", "filesafe") { unsafe = true }
        }
        if st.st_mode & S_IWOTH != 0 {
            guard relaxed("worldwritable", "file") else {
                return (FileCheckError(code: 0x1000_0005, text: "World writable file"), false)
            }
            unsafe = true
        }
        return (nil, unsafe)
    }

    /// sendmail's include(): each line of the file is a recipient list.
    /// When it named any address and none of them is the parent itself,
    /// the parent is expanded (it is no longer delivered itself).
    func include(_ file: [UInt8], forwarding: Bool, unsafe: Bool = false, parent: Recipient, queue: SendQueue,
                 aliasLevel: Int) -> FileCheckError {
        let rw = rewriter
        let fd = open(file.string, O_RDONLY)
        if fd < 0 { return FileCheckError(errno: errno) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
            close(fd)
            return FileCheckError(code: 0x1000_0003, text: "Regular files only")
        }
        let text = readAll(fd)
        close(fd)
        // the file's addresses may not name programs or files (QUNSAFEADDR)
        if unsafe { parent.unsafe = true }
        let saveFile = rw.fileContext
        defer { rw.fileContext = saveFile }
        var lineNumber = 0
        var included = 0
        for raw in text.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Array(raw)
            if line.last == 0x0D { line.removeLast() }
            if line.first == UInt8(ascii: "#") || line.isEmpty { continue }
            // " #@# " starts a comment anywhere
            var i = 1
            while i + 2 < line.count {
                if line[i] == UInt8(ascii: "#"), line[i + 1] == UInt8(ascii: "@"), line[i + 2] == UInt8(ascii: "#"),
                   isASCIISpace(line[i - 1]), i + 3 == line.count || isASCIISpace(line[i + 3]) {
                    var e = i - 1
                    while e > 0, isASCIISpace(line[e - 1]) { e -= 1 }
                    line = Array(line[..<e])
                    break
                }
                i += 1
            }
            if line.isEmpty { continue }
            rw.fileContext = fileLinePrefix(file.string, lineNumber)
            rw.currentAddress = nil
            if verbose { rw.notice("\(forwarding ? "forwarding" : "sending") to \(line.string)") }
            included += sendToList(line, parent: parent, queue: queue, aliasLevel: aliasLevel + 1)
        }
        if included > 0 && !parent.selfReference && parent.state == .ok { parent.state = .expanded }
        return .ok
    }
}
