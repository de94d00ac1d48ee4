// SMEngine/HostStatus.swift
//
// `hoststat` (-bh) and `purgestat` (-bH) over HostStatusDirectory (relative
// names are below the queue directory, as in sendmail).  With no
// directory configured, or none on disk, or an empty one, both print
// nothing and exit 0, as sendmail does.  purgestat removes every status
// file below the directory and keeps the directories.
// Not yet: the listing of existing status files (they are written by
// outbound SMTP, which is not built yet); hoststat says so and exits 69.
// Promises: purgestat removes only regular files and symbolic links below
// the configured directory; it never follows a link out of it.

import Glibc
import SMBase

extension Engine {
    public func hostStatus(purge: Bool) -> SysExit {
        guard var dir = config.options["HostStatusDirectory"].map({ $0.string }), !dir.isEmpty else { return .ok }
        if !dir.hasPrefix("/") {
            let q = config.options["QueueDirectory"].map { $0.string } ?? "/var/spool/mqueue"
            dir = q + "/" + dir
        }
        var files: [String] = []
        func walk(_ d: String) {
            guard let h = opendir(d) else { return }
            defer { closedir(h) }
            while let ent = readdir(h) {
                let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if name == "." || name == ".." { continue }
                let path = d + "/" + name
                var st = stat()
                guard lstat(path, &st) == 0 else { continue }
                if (st.st_mode & S_IFMT) == S_IFDIR { walk(path) } else { files.append(path) }
            }
        }
        walk(dir)
        if files.isEmpty { return .ok }
        if purge {
            for f in files { _ = unlink(f) }
            return .ok
        }
        out.write("hoststat: listing \(files.count) host status file(s) in \(dir) is not supported yet\n")
        return .unavailable
    }
}
