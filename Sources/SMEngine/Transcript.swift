// SMEngine/Transcript.swift
//
// The xf file of a queue run: sendmail keeps a job's transcript (mailer
// output, error and deferral lines) in a buffer of XscriptFileBufferSize
// bytes (default 4096) and only when it grows beyond that creates
// xf<id> (in the queue directory, or its xf/ subdirectory) with
// QueueFileMode and writes what goes beyond the buffer there, at its own
// offset: the first XscriptFileBufferSize bytes stay in memory and are a
// hole (zero bytes) in the file, as sendmail's bf files leave them.  The
// file is removed when the job is done (after its qf was removed or
// rewritten).  Observed on sendmail 8.17 with strace and od: no xf for a
// short transcript, O_RDWR|O_CREAT when it overflows, unlink at the end
// of the job.
// Promises: never throws; a file that cannot be written only loses the
// on-disk copy (the transcript in memory is what the bounce uses).

import Glibc
import SMBase

final class TranscriptFile {
    let path: String
    let limit: Int
    let mode: mode_t
    private var fd: Int32 = -1
    private var written = 0

    init(path: String, limit: Int, mode: mode_t) {
        self.path = path; self.limit = limit; self.mode = mode
    }

    /// Brings the file up to date with `transcript` (all of it so far),
    /// creating it once the transcript is larger than the buffer.
    func update(_ transcript: [UInt8]) {
        if fd < 0 {
            guard transcript.count > limit else { return }
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode)
            if fd < 0 { return }
            written = max(limit, 0)
        }
        guard transcript.count > written else { return }
        let new = transcript[written...]
        let n = new.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(written)) }
        if n > 0 { written += n }
    }

    /// The job is done: the file goes.
    func remove() {
        if fd >= 0 {
            close(fd)
            fd = -1
            _ = unlink(path)
        }
    }
}
