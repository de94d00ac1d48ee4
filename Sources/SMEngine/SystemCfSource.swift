// SMEngine/SystemCfSource.swift
//
// The real file system and /bin/sh behind the cf reader's F lines.
// Promises: reads whole files; programs run with an empty environment,
// their stdout collected until EOF.

import Glibc
import SMBase
import SMConfig

public struct SystemCfSource: CfSource {
    public init() {}

    public func readFile(_ path: [UInt8]) -> Result<[UInt8], CfSourceError> {
        let fd = open(path.string, O_RDONLY)
        if fd < 0 { return .failure(CfSourceError(String(cString: strerror(errno)))) }
        defer { close(fd) }
        return .success(readAll(fd))
    }

    public func runProgram(_ command: [UInt8]) -> [UInt8]? {
        guard let fp = popen(command.string, "r") else { return nil }
        let out = readAll(fileno(fp))
        pclose(fp)
        return out
    }
}

/// Reads a file descriptor to EOF, straight into the result's storage: a
/// regular file in one buffer of its size (fstat), anything else (or a
/// file that grew meanwhile) in 64 KB chunks; nothing is zero-filled first.
public func readAll(_ fd: Int32) -> [UInt8] {
    var want = 65536
    var st = stat()
    if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
        let pos = max(0, Int(lseek(fd, 0, SEEK_CUR)))
        // (one byte more than what is left: the read that sees EOF)
        want = max(0, Int(st.st_size) - pos) + 1
    }
    var out: [UInt8] = []
    var ended = false
    while !ended {
        let chunk = [UInt8](unsafeUninitializedCapacity: want) { buf, n in
            n = 0
            while n < buf.count {
                let r = read(fd, buf.baseAddress! + n, buf.count - n)
                if r < 0 && errno == EINTR { continue }
                if r <= 0 { ended = true; break }
                n += r
            }
        }
        if out.isEmpty { out = chunk } else { out.append(contentsOf: chunk) }
        want = 65536
    }
    return out
}
