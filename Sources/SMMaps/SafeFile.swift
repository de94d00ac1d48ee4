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
    public static let groupWritableFile: Int32 = 0x1000_0004
    public static let worldWritableFile: Int32 = 0x1000_0005
    public static let symbolicLink: Int32 = 0x1000_0006

    public static func check(_ path: String, requireRegular: Bool = true, dontBlame: Set<String> = [],
                             warn: (String) -> Void = { _ in }) -> Int32 {
        let (e, parentRelaxed) = checkDirectories(path, dontBlame: dontBlame,
                                                  allowUnsafe: dontBlame.contains("mapinunsafedirpath"), warn: warn)
        if e != 0 { return e }
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

    /// The directories on `path` (not the file itself): a world-writable
    /// one is accepted when sticky under TrustStickyBit, a group-writable
    /// one under GroupWritableDirPathSafe; any other writable one is an
    /// error unless `allowUnsafe`, which accepts it with a WARNING.
    /// Returns the code and whether the file's own directory was accepted
    /// only that way (a symbolic link there is then suspect).
    public static func checkDirectories(_ path: String, dontBlame: Set<String>, allowUnsafe: Bool,
                                        warn: (String) -> Void) -> (Int32, Bool) {
        var dirs: [String] = ["/"]
        var dir = ""
        for part in path.split(separator: "/", omittingEmptySubsequences: true).dropLast() {
            dir += "/" + part
            dirs.append(dir)
        }
        var parentRelaxed = false
        for d in dirs {
            var ds = stat()
            if stat(d, &ds) != 0 { return (errno, false) }
            parentRelaxed = false
            if ds.st_mode & S_IWOTH != 0 {
                if ds.st_mode & S_ISVTX != 0 && dontBlame.contains("truststickybit") { continue }
                guard allowUnsafe else { return (worldWritableDirectory, false) }
                warn("WARNING: World writable directory \(d)")
                parentRelaxed = true
            } else if ds.st_mode & S_IWGRP != 0 {
                if dontBlame.contains("groupwritabledirpathsafe") { continue }
                guard allowUnsafe else { return (groupWritableDirectory, false) }
                warn("WARNING: Group writable directory \(d)")
                parentRelaxed = true
            }
        }
        return (0, parentRelaxed)
    }

    /// Whether `code` is a system errno (sendmail's syserr then appends its text).
    public static func isSystemError(_ code: Int32) -> Bool { code < 0x1000_0000 }

    public static func errorText(_ e: Int32) -> String {
        switch e {
        case worldWritableDirectory: return "World writable directory"
        case groupWritableDirectory: return "Group writable directory"
        case notRegular: return "Regular files only"
        case symbolicLink: return "Symbolic links not allowed"
        case groupWritableFile: return "Group writable file"
        case worldWritableFile: return "World writable file"
        default: return String(cString: strerror(e))
        }
    }
}
