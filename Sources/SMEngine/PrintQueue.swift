// SMEngine/PrintQueue.swift
//
// `mailq` / `sendmail -bp`: lists the queue directory named by the
// QueueDirectory option (with its qf/ and df/ subdirectories when they
// exist), then each queue group's (Q lines; `-qG<name>`: that group only,
// without the total line), in sendmail's format, using SMQueueFormat's
// formatter.  An entry
// another process holds locked is marked `*`, one tried less than
// MinQueueAge ago `-`, one the load average holds back (QueueLA,
// QueueFactor) `X`; entries are in the order
// QueueSortOrder gives (QueueOrder.swift; ties in directory order, as
// sendmail lists them).
// Promises: reads only; never takes a lock it keeps (the lock probe is a
// shared, non-blocking flock released at once).

import Glibc
import SMBase
import SMRules
import SMQueueFormat

extension Engine {
    /// Prints the queue; returns the exit status.  `arguments` are the -q
    /// arguments: `Q` lists quarantined entries (hf), `L` lost ones (Qf),
    /// and I/R/S (with `!`) select as for a queue run.
    public func printQueue(arguments: [[UInt8]] = []) -> SysExit {
        guard let dirBytes = config.options["QueueDirectory"], !dirBytes.isEmpty else {
            rewriter.systemError("QueueDirectory (Q) option must be set")
            return .config
        }
        // every group (then a total), or the one -qG names (no total)
        guard let groups = selectedQueueGroups(arguments) else { return exitStatus }
        let single = arguments.contains { $0.first == UInt8(ascii: "G") }
        var total = 0
        for g in groups {
            guard let n = listQueueDirectory(Array(g.path.utf8), arguments: arguments) else { return .config }
            total += n
        }
        if !single { out.write("\t\tTotal requests: \(total)\n") }
        return exitStatus
    }

    /// print_single_queue(): one directory's listing; returns the number
    /// of requests, nil when the directory is unusable.
    func listQueueDirectory(_ dirBytes: [UInt8], arguments: [[UInt8]]) -> Int? {
        let dir = dirBytes.string
        var st = stat()
        guard stat(dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            rewriter.systemError("can not chdir(\(dir)): \(String(cString: strerror(errno)))")
            return nil
        }
        let sub = QueueCommitter(directory: dir).subdirectories
        let qfDir = sub.qf ? dir + "/qf" : dir
        let dfDir = sub.df ? dir + "/df" : dir

        let listQuarantined = arguments.contains { $0.first == UInt8(ascii: "Q") }
        let listLost = arguments.contains { $0.first == UInt8(ascii: "L") }
        let prefix = listLost ? "Qf" : (listQuarantined ? "hf" : "qf")
        let selection = QueueSelection(arguments)
        // directory order: the sort below keeps it for equal keys
        let names = controlFileNames(in: qfDir, prefix: prefix)
        var entries: [(entry: MailqEntry, key: QueueJobKey)] = []
        for name in names {
            let id = Array(name.utf8.dropFirst(2))
            let path = qfDir + "/" + name
            let fd = open(path, O_RDONLY)
            if fd < 0 {
                let err = errno
                var e = MailqEntry(id: id, controlFile: nil, dataFileSize: -1)
                e.openError = err == EACCES ? .permissionDenied : (err == ENOENT ? .jobCompleted
                    : .other(Array(String(cString: strerror(err)).utf8)))
                entries.append((e, QueueJobKey(id: id, qf: nil, mtime: 0)))
                continue
            }
            var status = MailqEntry.Status.normal
            if flock(fd, LOCK_SH | LOCK_NB) != 0 { status = .locked } else { _ = flock(fd, LOCK_UN) }
            if listLost { status = .lost }
            let qf = readAll(fd)
            var qst = stat()
            _ = fstat(fd, &qst)
            close(fd)
            let model = try? QueueFileReader.decode(qf)
            // '-': tried less than MinQueueAge ago; 'X': the load average
            // would hold it back
            if status == .normal, let m = model {
                let minAge = Int64(Self.seconds(config.options["MinQueueAge"] ?? []))
                if minAge > 0 && m.attempts > 0 && Int64(time(nil)) - m.lastAttempt < minAge {
                    status = .tooYoung
                } else if shouldQueue(priority: m.priority) {
                    status = .wouldQueue
                }
            }
            if !selection.isEmpty {
                if !selection.matches(id: id, sender: model?.sender ?? [],
                                      recipients: model?.recipients.map { $0.address } ?? []) { continue }
            }
            var ds = stat()
            let dfSize: Int64 = stat(dfDir + "/df" + id.string, &ds) == 0 ? Int64(ds.st_size) : -1
            entries.append((MailqEntry(id: id, controlFile: qf, dataFileSize: dfSize, status: status),
                            QueueJobKey(id: id, qf: model, mtime: Int64(qst.st_mtim.tv_sec))))
        }
        let maxRun = Int(config.options["MaxQueueRunSize"]?.string ?? "") ?? 0
        let formatter = MailqFormatter(directory: dirBytes, verbose: verbose, maxQueueRun: maxRun,
                                       utcOffset: { t in
                                           var tt = time_t(t)
                                           var tmv = tm()
                                           localtime_r(&tt, &tmv)
                                           return Int(tmv.tm_gmtoff)
                                       })
        // MaxQueueRunSize: the first N in directory order are sorted and
        // listed; a qf the reader rejects sorts by the P value mailq shows
        let total = entries.count
        if maxRun > 0 && entries.count > maxRun { entries = Array(entries.prefix(maxRun)) }
        let sorted = orderQueue(entries.map { e -> (MailqEntry, QueueJobKey) in
            var k = e.key
            if e.entry.controlFile != nil && k.priority == 0 { k.priority = e.entry.priority }
            return (e.entry, k)
        }) { $0.1 }.map { $0.0 }
        out.write(formatter.formatDirectory(sorted, requestCount: total))
        return total
    }
}

/// The entries of a directory except "." and "..", in directory order
/// (empty when it cannot be opened).
func directoryEntryNames(_ dir: String) -> [String] {
    var names: [String] = []
    guard let d = opendir(dir) else { return names }
    defer { closedir(d) }
    while let ent = readdir(d) {
        let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
            String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// The control file names (qf, or hf/Qf) in a queue directory, in
/// directory order.
func controlFileNames(in dir: String, prefix: String = "qf") -> [String] {
    directoryEntryNames(dir).filter { $0.hasPrefix(prefix) && $0.count > 2 }
}
