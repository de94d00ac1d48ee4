// SMEngine/Quarantine.swift
//
// `sendmail -Q[reason] -q[Q][I|R|S]...`: sets, changes or (with -Q alone)
// removes the quarantine reason of the selected queued messages.  Without
// -qQ the normal entries (qf) are selected, with it the quarantined ones
// (hf).  A quarantined message's control file is an hf file holding a `q`
// line; releasing it turns it back into a qf.  With -v the run says what it
// did in sendmail's words ("Quarantined with", "Quarantine changed from",
// "Removed quarantine of", "N change(s)", "no matches").
// Promises: every rewrite goes through a temporary file that is fsynced and
// renamed, then the directory is fsynced; an entry another process holds
// locked is left alone.

import Glibc
import SMBase
import SMQueueFormat

extension Engine {
    /// `reason` nil releases.  Returns the exit status.
    public func changeQuarantine(reason: [UInt8]?, arguments: [[UInt8]]) -> SysExit {
        guard let dirBytes = config.options["QueueDirectory"], !dirBytes.isEmpty else {
            rewriter.systemError("QueueDirectory (Q) option must be set")
            return .config
        }
        let dir = dirBytes.string
        let quarantined = arguments.contains { $0.first == UInt8(ascii: "Q") }
        let selection = QueueSelection(arguments)
        let sub = QueueCommitter(directory: dir).subdirectories
        let cfDir = sub.qf ? dir + "/qf" : dir
        let fromKind: QueueFileKind = quarantined ? .quarantined : .control
        let prefix = quarantined ? "hf" : "qf"

        let names = controlFileNames(in: cfDir, prefix: prefix)
        var selected: [(id: [UInt8], file: QueueFile, fd: Int32)] = []
        for name in names {
            let id = Array(name.utf8.dropFirst(2))
            let fd = open(cfDir + "/" + name, O_RDWR | O_CLOEXEC)
            if fd < 0 { continue }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 { close(fd); continue }
            guard let file = try? QueueFileReader.decode(readAll(fd)),
                  selection.matches(id: id, sender: file.sender, recipients: file.recipients.map { $0.address }) else {
                close(fd)
                continue
            }
            selected.append((id, file, fd))
        }
        let v = verbose
        if selected.isEmpty {
            if v { out.write("\(dir): no matches\nNo changes\n") }
            return .ok
        }
        if v { out.write("Processing \(dir):\n") }
        var changes = 0
        for var entry in selected {
            defer { close(entry.fd) }
            let old = entry.file.quarantineReason
            let line: String
            switch (old, reason) {
            case (nil, nil):
                continue
            case let (o?, nil):
                line = "Removed quarantine of \"\(o.string)\""
            case let (nil, r?):
                line = "Quarantined with \"\(r.string)\""
            case let (o?, r?):
                if o == r {
                    if v { out.write("\(entry.id.string): Already quarantined with \"\(o.string)\"\n") }
                    continue
                }
                line = "Quarantine changed from \"\(o.string)\" to \"\(r.string)\""
            }
            entry.file.quarantine(reason)
            let toKind: QueueFileKind = reason == nil ? .control : .quarantined
            let bytes = QueueFileWriter.encode(entry.file)
            let tmp = QueueFileKind.temporary.path(in: dirBytes, id: entry.id, useSubdirectory: sub.qf).string
            let from = fromKind.path(in: dirBytes, id: entry.id, useSubdirectory: sub.qf).string
            let to = toKind.path(in: dirBytes, id: entry.id, useSubdirectory: sub.qf).string
            let committer = QueueCommitter(directory: dir, fileMode: 0o600)
            unlink(tmp)
            guard committer.writeDurably(tmp, bytes) == 0 else {
                rewriter.systemError("cannot write \(tmp): \(String(cString: strerror(errno)))")
                continue
            }
            if rename(tmp, to) != 0 {
                rewriter.systemError("cannot rename(\(tmp), \(to)): \(String(cString: strerror(errno)))")
                unlink(tmp)
                continue
            }
            if from != to { unlink(from) }
            _ = committer.fsyncDirectory(cfDir)
            changes += 1
            if v { out.write("\(entry.id.string): \(line)\n") }
        }
        if v { out.write(changes == 0 ? "No changes\n" : "\(changes) change\(changes == 1 ? "" : "s")\n") }
        return .ok
    }
}
