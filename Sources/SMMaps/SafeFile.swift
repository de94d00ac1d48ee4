// SMMaps/SafeFile.swift
//
// A reduced form of sendmail's safefile() for reading map files: the file
// must exist and be a regular file, and no directory on its path may be
// group- or world-writable (unless sticky and owned by root, as sendmail
// allows /tmp-like directories only with DontBlameSendmail).  Promises:
// returns 0 or an errno value sendmail would report (ENOENT for a missing
// file, EPERM for an unsafe path or mode).
import Glibc

enum SafeFile {
    static func check(_ path: String, requireRegular: Bool = true) -> Int32 {
        var st = stat()
        if stat(path, &st) != 0 { return errno }
        if requireRegular && (st.st_mode & S_IFMT) != S_IFREG { return EPERM }
        // every directory component
        var dir = path
        while let slash = dir.lastIndex(of: "/") {
            dir = String(dir[..<slash])
            let d = dir.isEmpty ? "/" : dir
            var ds = stat()
            if stat(d, &ds) != 0 { return errno }
            if ds.st_mode & (S_IWGRP | S_IWOTH) != 0 { return EPERM }
            if dir.isEmpty { break }
        }
        if st.st_mode & S_IWOTH != 0 { return EPERM }
        return 0
    }

    static func errorText(_ e: Int32) -> String { String(cString: strerror(e)) }
}
