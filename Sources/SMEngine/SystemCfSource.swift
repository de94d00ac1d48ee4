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

/// Reads a file descriptor to EOF.
public func readAll(_ fd: Int32) -> [UInt8] {
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        out.append(contentsOf: buf[0..<n])
    }
    return out
}
