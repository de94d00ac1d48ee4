// SMEngine/Submit.swift
//
// `sendmail [-t] [-i] [-f from] [-F name] [-N dsn] [-R ret] [-V envid]
// [-B body] rcpt... < message` (deliver mode): the message is collected
// from standard input, the envelope is built (sender through setsender,
// recipients through sendtolist with alias expansion; with -t also from
// To:/Cc:/Bcc:, Bcc: being deleted at delivery), the headers are
// completed from the cf's H lines, a queue ID is assigned and the message
// is committed to the queue (QueueCommit.swift).
// Every delivery mode queues: there is no delivery agent yet, so -odi,
// -odb and the default behave as -odq (the queue run delivers later).
// Promises: returns success only after the qf is durably in place; on a
// queue failure nothing is left behind and sendmail's messages and exit
// status are reported.  Messages and exit codes are sendmail's for: no
// recipients, no recipients in the header, bad recipients (the message
// is still queued with the error in its M line, exit status of the error).
//
// Errors in command-line recipients (and too many hops) return the
// message to the sender: with ErrorMode=p (the default) a copy is
// appended to ~/dead.letter (DeadLetter.swift); ErrorMode=q is silent.
// Untrusted users get sendmail's X-Authentication-Warning: headers
// (PrivacyOptions=authwarnings) and no AUTH= parameter.  Notices (0xx,
// 8xx) are shown only with -v, as sendmail does outside test mode.
// Not done yet: ErrorMode=m/w (a bounce message) and mailing errors back
// to a sender other than the caller, "alias database unavailable" when
// the alias file is missing, MaxMessageSize, queue groups, -v (which
// makes sendmail deliver at once).

import Glibc
import SMBase
import SMRules
import SMConfig
import SMQueueFormat

extension Engine {
    /// Runs the submission; `readInput` is called once, after the command
    /// line has been checked.
    public func submit(_ o: SubmitOptions, readInput: () -> [UInt8], now: time_t = time(nil),
                       pid: Int = Int(getpid())) -> SysExit {
        let rw = rewriter
        rw.lastUserError = nil
        rw.quietNotices = !verbose
        defer { rw.quietNotices = false }
        if o.usageError { rw.setStatus(.usage) }
        let qdir = (config.options["QueueDirectory"] ?? []).string
        let errorMode = config.options["ErrorMode"]?.first ?? UInt8(ascii: "p")
        guard QueueCommitter.isDirectory(qdir) else {
            // what chdir() would say
            var st = stat()
            let err = stat(qdir, &st) == 0 ? ENOTDIR : errno
            let reason = String(cString: strerror(err))
            rw.currentAddress = nil
            // ErrorMode=q: not even this is shown
            if errorMode != UInt8(ascii: "q") { rw.out.writeMessage("can not chdir(\(qdir)/): \(reason)") }
            return .config
        }
        if o.recipients.isEmpty && !o.readRecipients {
            rw.currentAddress = nil
            rw.userError("Recipient names must be specified")
            return .usage
        }

        // sender
        let sender = setSender(o.from)
        if let name = o.fullName, let m = sender.mailer, m.has("w"), getpwnam(sender.user.string) != nil {
            rw.macros[Int(UInt8(ascii: "x"))] = name
        }
        // a sender that does not parse is a usage error (the message still
        // goes, from the fallback sender, with the error in its M line)
        if rw.lastUserError != nil { rw.setStatus(.usage) }
        let fMacro = rw.macros[Int(UInt8(ascii: "f"))] ?? []

        let message = Collector.collect(readInput(), ignoreDots: config.options.bool("IgnoreDots"))

        let qid = assignQueueID(qdir, now: now, pid: pid)

        // macros for this envelope
        let date = arpaDate(now)
        if let d = message.fromLineDate {
            // the zone as arpadate() gives it for the current time
            let zone = date.split(separator: 0x20, maxSplits: 5).dropFirst(5).first.map { Array($0) } ?? Array("GMT".utf8)
            rw.macros[Int(UInt8(ascii: "a"))] = d + [0x20] + zone
        } else {
            rw.macros[Int(UInt8(ascii: "a"))] = date
        }
        rw.macros[Int(UInt8(ascii: "b"))] = date
        rw.macros[Int(UInt8(ascii: "i"))] = qid.bytes
        rw.macros[Int(UInt8(ascii: "t"))] = messageIDTime(now)
        let daemonFlags = config.names.id(forName: Array("daemon_flags".utf8))
        if let id = daemonFlags { rw.macros[id] = Array("c u".utf8) }

        // recipients from the command line
        let queue = SendQueue()
        let saveSuppress = rw.suppressErrors
        if errorMode == UInt8(ascii: "q") { rw.suppressErrors = true }
        let senderError = rw.lastUserError
        rw.lastUserError = nil
        for r in o.recipients { sendToList(r, parent: nil, queue: queue, aliasLevel: 0) }
        rw.suppressErrors = saveSuppress
        // errors in command-line recipients are returned to the sender:
        // with ErrorMode=p a copy goes to ~/dead.letter
        // (only when the sender is the user running us; errors for another
        // sender would be mailed to it: not done yet)
        let senderIsCaller = (sender.mailer?.has("l") ?? false) && sender.user == options.realUserName
        let returnToSender = rw.lastUserError != nil && errorMode == UInt8(ascii: "p") && senderIsCaller
        if rw.lastUserError == nil { rw.lastUserError = senderError }

        // headers
        var headers = HeaderList(config: config)
        for w in authenticationWarnings(from: o.from, sender: sender) {
            headers.headers.append(EnvelopeHeader(condition: [], name: Array("X-Authentication-Warning".utf8),
                                                  value: w, flags: HeaderInfo.flags(for: Array("X-Authentication-Warning".utf8))))
        }
        for f in message.headerFields { headers.addMessageField(f) }
        rw.macros[Int(UInt8(ascii: "u"))] = nil
        // `for $u` only for a single primary address
        let primaries = queue.entries.filter { $0.primary }
        if primaries.count == 1 { rw.macros[Int(UInt8(ascii: "u"))] = primaries[0].printable }
        rw.macros[Int(UInt8(ascii: "g"))] = fMacro
        headers.expandDefaults(rw.macros)
        rw.macros[Int(UInt8(ascii: "u"))] = nil

        // -t: recipients from the header
        var headerErrors = false
        if o.readRecipients {
            let before = rw.lastUserError
            rw.lastUserError = nil
            // with Resent- headers only the Resent- recipients count
            var fields = headers.messageFields(with: .recipient)
            if headers.headers.contains(where: { !$0.flags.contains(.defaultValue) && $0.flags.contains(.resent) }) {
                fields = fields.filter { $0.flags.contains(.resent) }
            }
            for h in fields {
                sendToList(h.value.map { $0 == 0x0A ? 0x20 : $0 }, parent: nil, queue: queue, aliasLevel: 0)
            }
            headerErrors = rw.lastUserError != nil
            if rw.lastUserError == nil { rw.lastUserError = before }
        }
        // hop count: every trace header (the cf's Received: included);
        // too many, and the message is returned, never queued.  (-h does
        // not add to it: sendmail counts the headers afresh.)
        let hops = headers.headers.filter { $0.flags.contains(.trace) }.count
        if hops > intOption("MaxHopCount", 25) {
            if errorMode == UInt8(ascii: "p") && senderIsCaller { saveDeadLetter(headers, body: message.body, now: now) }
            return .unavailable
        }
        let sendable = queue.entries.filter { $0.state.isSendable }
        if sendable.isEmpty {
            if o.readRecipients && queue.entries.isEmpty {
                rw.currentAddress = nil
                rw.userError("No recipient addresses found in header")
            }
            if returnToSender { saveDeadLetter(headers, body: message.body, now: now) }
            return exitStatus
        }

        let hasVisibleRecipientHeader = headers.headers.contains {
            !$0.flags.contains(.defaultValue) && $0.flags.contains(.recipient) && !$0.flags.contains(.bcc)
        }
        addRecipientHeaderIfNeeded(&headers, queue)

        let qf = controlFile(o, message: message, headers: headers, queue: queue, sender: sender,
                             headerErrors: headerErrors, bccFlag: hasVisibleRecipientHeader, now: now)
        let mode = config.options["QueueFileMode"].flatMap { mode_t($0.string.trimmingSpaces, radix: 8) } ?? 0o600
        let committer = QueueCommitter(directory: qdir, fileMode: mode)
        if let failure = committer.commit(id: qid.bytes, data: message.body, control: QueueFileWriter.encode(qf)) {
            rw.currentAddress = nil
            for m in failure.messages { rw.out.writeMessage(m) }
            return failure.status
        }
        let msgid = headers.headers.last(where: { $0.name.asciiCaseEquals(Array("Message-Id".utf8)) }).map { h -> [UInt8] in
            var v = h.value
            while let f = v.first, isASCIISpace(f) { v.removeFirst() }
            while let l = v.last, isASCIISpace(l) { v.removeLast() }
            return v
        }
        logQueued(id: qid.bytes, sender: qf.sender, size: message.size, precedence: precedenceClass(headers),
                  nrcpts: countedRecipients(queue), msgid: msgid, bodyType: o.bodyType,
                  relay: rw.macros[Int(UInt8(ascii: "_"))], recipients: sendable, priority: qf.priority,
                  delay: Int64(time(nil)) - Int64(now))
        if returnToSender { saveDeadLetter(headers, body: message.body, now: now) }
        return exitStatus
    }

    /// A fresh queue ID: sendmail's sequence from a random start, skipping
    /// IDs whose df or qf already exist (the O_EXCL create still guards).
    func assignQueueID(_ qdir: String, now: time_t, pid: Int) -> QueueID {
        var gen = QueueIDGenerator(randomOffset: Int.random(in: 0..<QueueID.sequenceLimit))
        return assignQueueID(qdir, now: now, pid: pid, generator: &gen)
    }

    /// The same with the process's generator (several messages in one
    /// process, as in an SMTP session, get consecutive IDs).
    public func assignQueueID(_ qdir: String, now: time_t, pid: Int, generator gen: inout QueueIDGenerator) -> QueueID {
        var qid: QueueID
        if let q = gen.next(now: Int64(now), pid: pid) {
            qid = q
        } else {
            // the sequence is used up within this second: wait for the next
            var t = now
            repeat { sleep(1); t = time(nil) } while t == now
            qid = gen.next(now: Int64(t), pid: pid)!
        }
        let dir = Array(qdir.utf8)
        let sub = QueueCommitter(directory: qdir).subdirectories
        func taken(_ id: QueueID) -> Bool {
            access(QueueFileKind.data.path(in: dir, id: id.bytes, useSubdirectory: sub.df).string, F_OK) == 0
                || access(QueueFileKind.control.path(in: dir, id: id.bytes, useSubdirectory: sub.qf).string, F_OK) == 0
        }
        var tries = 0
        while taken(qid) && tries < QueueID.sequenceLimit {
            qid = gen.next(now: Int64(now), pid: pid) ?? qid
            tries += 1
        }
        return qid
    }

    /// -f by a user not in $=t, naming someone other than that local user.
    func senderSetByUntrustedUser(from: [UInt8]?, sender: ParsedAddress) -> Bool {
        guard from != nil else { return false }
        let user = options.realUserName
        if config.classes.contains(user, in: Int(UInt8(ascii: "t"))) { return false }
        return !((sender.mailer?.has("l") ?? false) && sender.user == user)
    }

    /// PrivacyOptions=authwarnings (or goaway): X-Authentication-Warning:
    /// values for what an untrusted user did on the command line, in
    /// sendmail's order: -f, a queue directory, -C.
    func authenticationWarnings(from: [UInt8]?, sender: ParsedAddress) -> [[UInt8]] {
        let privacy = (config.options["PrivacyOptions"] ?? []).asciiLowercased
            .split(whereSeparator: { $0 == UInt8(ascii: ",") || isASCIISpace($0) }).map { Array($0).string }
        guard privacy.contains("authwarnings") || privacy.contains("goaway") else { return [] }
        let user = options.realUserName
        let j = (rewriter.macros[Int(UInt8(ascii: "j"))] ?? []).string
        var out: [String] = []
        if let f = from, senderSetByUntrustedUser(from: from, sender: sender) {
            out.append("\(j): \(user.string) set sender to \(f.string) using -f")
        }
        guard options.realUID != 0 else { return out.map { Array($0.utf8) } }
        let trusted = config.classes.contains(user, in: Int(UInt8(ascii: "t")))
        let queueOnCommandLine = options.commandLineOptions.contains { code, rest in
            code == UInt8(ascii: "Q") || (code == UInt8(ascii: " ")
                && rest.asciiLowercased.starts(with: Array("queuedirectory".utf8)))
        }
        if queueOnCommandLine, !trusted, let q = config.options["QueueDirectory"] {
            out.append("\(j): Processed from queue \(q.string)")
        }
        if options.configGivenOnCommandLine {
            out.append("\(j): Processed by \(user.string) with -C \(options.configFile)")
        }
        return out.map { Array($0.utf8) }
    }

    /// NoRecipientAction: what to add when the message has no recipient
    /// header at all (To:, Cc:, Bcc:, Resent-*, Apparently-To:).
    func addRecipientHeaderIfNeeded(_ headers: inout HeaderList, _ queue: SendQueue) {
        guard headers.messageFields(with: .recipient).isEmpty,
              let action = config.options["NoRecipientAction"]?.asciiLowercased.string else { return }
        func add(_ name: String, _ value: [UInt8]) {
            headers.headers.append(EnvelopeHeader(condition: [], name: Array(name.utf8), value: value,
                                                  flags: HeaderInfo.flags(for: Array(name.utf8))))
        }
        switch action {
        case "add-to", "add-apparently-to":
            let name = action == "add-to" ? "To" : "Apparently-To"
            for r in queue.entries.reversed() where r.parent == nil { add(name, r.printable) }
        case "add-bcc": add("Bcc", [0x20])
        case "add-to-undisclosed": add("To", Array("undisclosed-recipients:;".utf8))
        default: break
        }
    }

    /// e_nrcpts: addresses accepted into the send queue (not those that
    /// failed to parse, not duplicates, not those expanded into others).
    func countedRecipients(_ queue: SendQueue) -> Int {
        queue.entries.filter { r in
            !r.address.badAddress && !r.address.isError && r.state != .expanded && r.state != .included
                && r.state != .duplicate
        }.count
    }

    /// `$t`: YYYYMMDDhhmm in local time.
    func messageIDTime(_ t: time_t) -> [UInt8] {
        var tt = t
        var tmv = tm()
        localtime_r(&tt, &tmv)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return Array("\(tmv.tm_year + 1900)\(two(tmv.tm_mon + 1))\(two(tmv.tm_mday))\(two(tmv.tm_hour))\(two(tmv.tm_min))".utf8)
    }

    /// The `$` lines: the defined macros of class {persistentMacros}, by id.
    func persistentMacros() -> [QueueFile.Macro] {
        guard let cls = config.names.id(forName: Array("{persistentMacros}".utf8)) else { return [] }
        var ids: [Int] = []
        for w in config.classes.members(of: cls) {
            if let id = config.names.id(forName: w) { ids.append(id) }
        }
        var out: [QueueFile.Macro] = []
        for id in Set(ids).sorted() {
            guard let v = rewriter.macros[id] else { continue }
            out.append(QueueFile.Macro(name: config.names.name(of: id), value: v))
        }
        return out
    }
}
