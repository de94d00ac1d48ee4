// ReadAllTests.swift — readAll(), which reads every qf, df and cf file:
// a regular file whole (from where the descriptor stands), a pipe to its
// end, and nothing lost when either is larger than one 64 KB read.
// Promises: files under a private temporary directory, removed at the end.

import Testing
import Glibc
@testable import SMEngine

@Suite("readAll")
struct ReadAllTests {
    static func bytes(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) } }

    static func withFile(_ content: [UInt8], _ body: (Int32) -> Void) {
        var template = Array("/tmp/readall-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        #expect(fd >= 0)
        defer {
            close(fd)
            _ = template.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        }
        var off = 0
        while off < content.count {
            let w = content[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            #expect(w > 0)
            off += w
        }
        _ = lseek(fd, 0, SEEK_SET)
        body(fd)
    }

    @Test("a regular file of any size, empty to several reads' worth, is read whole")
    func regularFiles() {
        for n in [0, 1, 4095, 65535, 65536, 65537, 300_000] {
            let content = Self.bytes(n)
            Self.withFile(content) { fd in #expect(readAll(fd) == content, "size \(n)") }
        }
    }

    @Test("a regular file is read from the descriptor's offset on")
    func fromOffset() {
        let content = Self.bytes(100_000)
        Self.withFile(content) { fd in
            _ = lseek(fd, 70_000, SEEK_SET)
            #expect(readAll(fd) == Array(content[70_000...]))
        }
    }

    @Test("a pipe is read to its end, past one 64 KB chunk")
    func pipes() {
        let content = Self.bytes(200_000)
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        // (a writer thread: the pipe holds less than the content)
        let writer = fds[1]
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Box(content: content, fd: writer))
        pthread_create(&thread, nil, { arg in
            let b = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            var off = 0
            while off < b.content.count {
                let w = b.content[off...].withUnsafeBytes { write(b.fd, $0.baseAddress, min($0.count, 7000)) }
                if w <= 0 { break }
                off += w
            }
            close(b.fd)
            return nil
        }, box.toOpaque())
        let got = readAll(fds[0])
        pthread_join(thread, nil)
        close(fds[0])
        #expect(got == content)
    }

    final class Box: @unchecked Sendable {
        let content: [UInt8]
        let fd: Int32
        init(content: [UInt8], fd: Int32) { self.content = content; self.fd = fd }
    }
}
