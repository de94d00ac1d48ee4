// mail.local/InputReader.swift
//
// Reads standard input the way stdio's fgets(3) hands it to mail.local:
// chunks that end after a newline or when the buffer (size - 1 bytes) is
// full, plus getc/ungetc for the CR-LF peek.  Keeping fgets' chunking
// keeps the real tool's behaviour on over-long lines exactly.
// Promises: bytes are returned unchanged (NULs included) and in order.
#if canImport(Glibc)
import Glibc
#endif

final class InputReader {
    private let fd: Int32
    private var buf = [UInt8](repeating: 0, count: 65536)
    private var start = 0, end = 0
    private var eof = false
    private(set) var readError: Int32 = 0

    init(fd: Int32 = 0) { self.fd = fd }

    private func fill() -> Bool {
        if start < end { return true }
        if eof { return false }
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { eof = true; if n < 0 { readError = errno }; return false }
            start = 0; end = n
            return true
        }
    }

    /// fgets(buf, size): at most size-1 bytes, through the first newline.
    /// nil at end of input with nothing read.
    func chunk(size: Int) -> [UInt8]? {
        var out: [UInt8] = []
        let limit = size - 1
        while out.count < limit {
            guard fill() else { break }
            let want = limit - out.count
            var i = start
            let stop = min(end, start + want)
            var sawNL = false
            while i < stop { if buf[i] == 0x0A { i += 1; sawNL = true; break }; i += 1 }
            out += buf[start..<i]
            start = i
            if sawNL { break }
        }
        return out.isEmpty ? nil : out
    }

    /// getc: one byte, nil at end.
    func getc() -> UInt8? {
        guard fill() else { return nil }
        let b = buf[start]; start += 1
        return b
    }

    /// ungetc of the byte just read by getc.
    func ungetc() { start -= 1 }
}
