// SMMaps/SafeFile.swift
//
// sendmail's safefile() as it applies to reading map files: the file must
// exist and be a regular file; no directory on its path may be group- or
// world-writable, unless DontBlameSendmail says so: GroupWritableDirPathSafe
// accepts group-writable directories, TrustStickyBit sticky world-writable
// ones, MapInUnsafeDirPath any (each such directory is reported with a
// "WARNING: ... writable directory" message), and a symbolic link in a
// directory accepted that way needs LinkedMapInWritableDir.  The map file's
// own mode is not checked (as in sendmail, a world-writable map is read).
// Promises: returns 0, an errno value (ENOENT for a missing file), or one
// of the codes below, whose text is sendmail's.
import Glibc

public enum SafeFile {
    public static let worldWritableDirectory: Int32 = 0x1000_0001
    public static let groupWritableDirectory: Int32 = 0x1000_0002
    public static let notRegular: Int32 = 0x1000_0003
    public static let symbolicLink: Int32 = 0x1000_0006

    public static func check(_ path: String, requireRegular: Bool = true, dontBlame: Set<String> = [],
                             warn: (String) -> Void = { _ in }) -> Int32 {
        var dirs: [String] = ["/"]
        var dir = ""
        for part in path.split(separator: "/", omittingEmptySubsequences: true).dropLast() {
            dir += "/" + part
            dirs.append(dir)
        }
        var parentRelaxed = false
        for d in dirs {
            var ds = stat()
            if stat(d, &ds) != 0 { return errno }
            parentRelaxed = false
            if ds.st_mode & S_IWOTH != 0 {
                if ds.st_mode & S_ISVTX != 0 && dontBlame.contains("truststickybit") { continue }
                guard dontBlame.contains("mapinunsafedirpath") else { return worldWritableDirectory }
                warn("WARNING: World writable directory \(d)")
                parentRelaxed = true
            } else if ds.st_mode & S_IWGRP != 0 {
                if dontBlame.contains("groupwritabledirpathsafe") { continue }
                guard dontBlame.contains("mapinunsafedirpath") else { return groupWritableDirectory }
                warn("WARNING: Group writable directory \(d)")
                parentRelaxed = true
            }
        }
        var ls = stat()
        if parentRelaxed, lstat(path, &ls) == 0, (ls.st_mode & S_IFMT) == S_IFLNK,
           !dontBlame.contains("linkedmapinwritabledir") {
            return symbolicLink
        }
        var st = stat()
        if stat(path, &st) != 0 { return errno }
        if requireRegular && (st.st_mode & S_IFMT) != S_IFREG { return notRegular }
        return 0
    }

    /// Whether `code` is a system errno (sendmail's syserr then appends its text).
    public static func isSystemError(_ code: Int32) -> Bool { code < 0x1000_0000 }

    public static func errorText(_ e: Int32) -> String {
        switch e {
        case worldWritableDirectory: return "World writable directory"
        case groupWritableDirectory: return "Group writable directory"
        case notRegular: return "Regular files only"
        case symbolicLink: return "Symbolic links not allowed"
        default: return String(cString: strerror(e))
        }
    }
}
