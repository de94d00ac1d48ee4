// SMEngine/SafeRoot.swift
//
// Looks up a path inside a directory the way it would be looked up after
// chroot() into it, without changing the process's root: the *file*
// mailer's SafeFileEnvironment.  Every directory on the way is opened
// relative to the one before; `..` never climbs above the root, and a
// symbolic link met on the way is followed inside the root (an absolute
// target starts again at the root), at most 40 of them.
// Promises: returns an open directory descriptor (the caller closes it)
// and the last component, or the errno the lookup failed with; no
// descriptor is left open on failure.

import Glibc

enum SafeRoot {
    struct LookupError: Error { let code: Int32 }

    /// Linux's O_PATH: a descriptor that only names a place.
    static let pathOnly: Int32 = 0o10000000

    static func components(_ p: [UInt8]) -> [[UInt8]] {
        p.split(separator: UInt8(ascii: "/")).map { Array($0) }
    }

    /// The directory holding `path`'s last component, looked up inside
    /// `root`, and that component; with `followLast` a symbolic link as
    /// the last component is followed (inside the root) too.
    static func resolveParent(_ path: [UInt8], root: [UInt8], followLast: Bool = false)
        -> Result<(Int32, [UInt8]), LookupError> {
        var pending = components(path)
        let rootFD = open(String(decoding: root, as: UTF8.self), pathOnly | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { return .failure(LookupError(code: errno)) }
        var stack: [Int32] = [rootFD]
        func fail(_ code: Int32) -> Result<(Int32, [UInt8]), LookupError> {
            for fd in stack { close(fd) }
            return .failure(LookupError(code: code))
        }
        var links = 0
        /// Replaces the link `name` (in the current directory) by its target.
        func expandLink(_ name: String) -> Int32? {
            links += 1
            if links > 40 { return ELOOP }
            var buf = [CChar](repeating: 0, count: 4096)
            let n = readlinkat(stack[stack.count - 1], name, &buf, buf.count)
            if n < 0 { return errno }
            let target = buf[0..<n].map { UInt8(bitPattern: $0) }
            if target.first == UInt8(ascii: "/") {
                while stack.count > 1 { close(stack.removeLast()) }
            }
            pending = components(target) + pending
            return nil
        }
        while true {
            guard let c = pending.first else { return fail(ENOENT) }
            let name = String(decoding: c, as: UTF8.self)
            if pending.count == 1 {
                var st = stat()
                if followLast, fstatat(stack[stack.count - 1], name, &st, AT_SYMLINK_NOFOLLOW) == 0,
                   (st.st_mode & S_IFMT) == S_IFLNK {
                    pending.removeFirst()
                    if let e = expandLink(name) { return fail(e) }
                    continue
                }
                break
            }
            pending.removeFirst()
            if c == [UInt8(ascii: ".")] { continue }
            if c == [UInt8(ascii: "."), UInt8(ascii: ".")] {
                if stack.count > 1 { close(stack.removeLast()) }
                continue
            }
            let fd = openat(stack[stack.count - 1], name, pathOnly | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 { return fail(errno) }
            var st = stat()
            guard fstat(fd, &st) == 0 else { let e = errno; close(fd); return fail(e) }
            if (st.st_mode & S_IFMT) == S_IFLNK {
                close(fd)
                if let e = expandLink(name) { return fail(e) }
                continue
            }
            if (st.st_mode & S_IFMT) != S_IFDIR { close(fd); return fail(ENOTDIR) }
            stack.append(fd)
        }
        let dir = stack.removeLast()
        for fd in stack { close(fd) }
        return .success((dir, pending[0]))
    }
}
