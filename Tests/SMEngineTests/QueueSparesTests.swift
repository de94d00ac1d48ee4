// SMEngineTests/QueueSparesTests.swift
//
// The queue's spare files (SMEngine/QueueSpares.swift) on a real directory:
// a delivered message's qf and df become empty `.spare<N>` files, the next
// committed message takes them (the same inodes) with exactly its own bytes,
// a queue ID already taken is still refused, and a spare that is not
// trustworthy (held by another open file's lock, not empty, shared by a
// hard link) is never written into.  The tests set the pool's size (2
// slots: every probe sequence covers both).  Each test fails on a commit that
// creates files afresh, or on a retire that truncates a shared df.
import Glibc
@testable import SMEngine
import Testing

@Suite(.serialized) struct QueueSparesTests {
    /// A fresh 0700 directory under /tmp.
    func directory() throws -> String {
        var template = Array("/tmp/spares.XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw Failure("mkdtemp: \(errno)") }
        return String(cString: p)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    func names(_ dir: String) -> [String] { directoryEntryNames(dir).sorted() }

    func inode(_ path: String) -> ino_t? {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_ino : nil
    }

    func contents(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readAll(fd)
    }

    func size(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    func commit(_ dir: String, _ id: String, body: String, control: String) -> QueueCommitFailure? {
        QueueCommitter(directory: dir).commit(id: Array(id.utf8), data: Array(body.utf8), control: Array(control.utf8))
    }

    @Test("a delivered message's files become empty spares, and the next message is written into those same inodes")
    func spareReused() throws {
        let dir = try directory()
        defer { _ = system("rm -rf '\(dir)'") }
        QueueSpares.setSlotsForTesting(2)
        #expect(commit(dir, "AAA0001", body: String(repeating: "old body line\n", count: 300),
                       control: "V8\nMold control\n.\n") == nil)
        let oldInodes = Set([inode(dir + "/qfAAA0001"), inode(dir + "/dfAAA0001")].compactMap { $0 })
        #expect(oldInodes.count == 2)
        QueueSpares.retire(control: dir + "/qfAAA0001", data: dir + "/dfAAA0001")
        let spares = names(dir)
        #expect(spares.count == 2 && spares.allSatisfy { $0.hasPrefix(".spare") }, "left: \(spares)")
        for s in spares {
            #expect(size(dir + "/" + s) == 0, "\(s) is not empty")
            #expect(inode(dir + "/" + s).map { oldInodes.contains($0) } == true)
        }
        #expect(commit(dir, "AAA0002", body: "new\n", control: "V8\nMnew\n.\n") == nil)
        #expect(contents(dir + "/dfAAA0002") == Array("new\n".utf8))
        #expect(contents(dir + "/qfAAA0002") == Array("V8\nMnew\n.\n".utf8))
        let newInodes = Set([inode(dir + "/qfAAA0002"), inode(dir + "/dfAAA0002")].compactMap { $0 })
        #expect(newInodes == oldInodes, "the new message's files are not the spares")
        #expect(names(dir) == ["dfAAA0002", "qfAAA0002"], "left: \(names(dir))")
        var st = stat()
        #expect(stat(dir + "/qfAAA0002", &st) == 0 && st.st_mode & 0o7777 == 0o600)
    }

    @Test("a queue ID already in use is refused with EEXIST even when a spare is there; the spare stays")
    func takenIDRefused() throws {
        let dir = try directory()
        defer { _ = system("rm -rf '\(dir)'") }
        QueueSpares.setSlotsForTesting(2)
        #expect(commit(dir, "BBB0001", body: "one\n", control: "V8\n.\n") == nil)
        #expect(commit(dir, "BBB0002", body: "two\n", control: "V8\n.\n") == nil)
        QueueSpares.retire(control: dir + "/qfBBB0002", data: dir + "/dfBBB0002")
        let failure = commit(dir, "BBB0001", body: "again\n", control: "V8\n.\n")
        #expect(failure?.status == .cantCreat, "\(String(describing: failure))")
        #expect(contents(dir + "/dfBBB0001") == Array("one\n".utf8), "the existing message was overwritten")
        #expect(names(dir).filter { $0.hasPrefix(".spare") }.count == 2, "\(names(dir))")
    }

    @Test("a df with a second link (a list owner's clone) is unlinked, not emptied")
    func sharedDataFileKept() throws {
        let dir = try directory()
        defer { _ = system("rm -rf '\(dir)'") }
        QueueSpares.setSlotsForTesting(2)
        #expect(commit(dir, "CCC0001", body: "shared body\n", control: "V8\n.\n") == nil)
        #expect(link(dir + "/dfCCC0001", dir + "/dfCCC0002") == 0)
        QueueSpares.retire(control: dir + "/qfCCC0001", data: dir + "/dfCCC0001")
        #expect(contents(dir + "/dfCCC0002") == Array("shared body\n".utf8), "the clone's body was emptied")
        #expect(names(dir).filter { $0.hasPrefix(".spare") }.count == 1, "\(names(dir))")
        #expect(!names(dir).contains("dfCCC0001"))
    }

    @Test("a spare another open file still holds a flock on, or one that is not empty, is not written into")
    func untrustworthySpareSkipped() throws {
        let dir = try directory()
        defer { _ = system("rm -rf '\(dir)'") }
        QueueSpares.setSlotsForTesting(2)
        #expect(commit(dir, "DDD0001", body: "x\n", control: "V8\n.\n") == nil)
        // the delivery that retires a qf holds its flock until it closes it
        let held = open(dir + "/qfDDD0001", O_RDWR)
        #expect(held >= 0 && flock(held, LOCK_EX) == 0)
        var heldStat = stat()
        _ = fstat(held, &heldStat)
        QueueSpares.retire(control: dir + "/qfDDD0001", data: dir + "/dfDDD0001")
        let spares = names(dir).filter { $0.hasPrefix(".spare") }
        #expect(spares.count == 2, "\(names(dir))")
        // the other spare (the old df) gets bytes it should not have
        for s in spares where inode(dir + "/" + s) != heldStat.st_ino {
            let fd = open(dir + "/" + s, O_WRONLY)
            _ = "stale".withCString { write(fd, $0, 5) }
            close(fd)
        }
        #expect(commit(dir, "DDD0002", body: "fresh\n", control: "V8\nMfresh\n.\n") == nil)
        #expect(contents(dir + "/dfDDD0002") == Array("fresh\n".utf8))
        #expect(contents(dir + "/qfDDD0002") == Array("V8\nMfresh\n.\n".utf8))
        #expect(inode(dir + "/qfDDD0002") != heldStat.st_ino && inode(dir + "/dfDDD0002") != heldStat.st_ino,
                "a file still locked by its old holder was given to a new message")
        close(held)
        // both were looked at and discarded
        #expect(names(dir) == ["dfDDD0002", "qfDDD0002"], "\(names(dir))")
    }

    @Test("a pool of 128 slots holds at most 128 spares; retiring beyond them unlinks")
    func poolIsBounded() throws {
        let dir = try directory()
        defer { _ = system("rm -rf '\(dir)'") }
        QueueSpares.setSlotsForTesting(128)
        // 70 messages: 140 files for 128 slots (each retirement tries 6)
        for i in 0..<70 {
            let id = "EEE" + String(1000 + i)
            #expect(commit(dir, id, body: "b\n", control: "V8\n.\n") == nil)
        }
        for i in 0..<70 {
            let id = "EEE" + String(1000 + i)
            QueueSpares.retire(control: dir + "/qf" + id, data: dir + "/df" + id)
        }
        let left = names(dir)
        #expect(left.allSatisfy { $0.hasPrefix(".spare") }, "\(left)")
        #expect(left.count <= 128 && left.count >= 90, "\(left.count) spares")
    }

    /// An empty spare of ours at `slot` in `dir`; its inode.
    func makeSpare(_ dir: String, _ slot: Int) -> ino_t? {
        let path = dir + "/.spare" + String(slot)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { return nil }
        close(fd)
        return inode(path)
    }

    @Test("the collector claims the slots reported on its pipe, passing over a report whose spare is gone")
    func reportedSpareClaimed() throws {
        let dir = try directory()
        defer { _ = system("rm -rf '\(dir)'") }
        QueueSpares.setSlotsForTesting(8192)
        defer { QueueSpares.stopCollectingForTesting(); QueueSpares.setSlotsForTesting(128) }
        let w = try #require(QueueSpares.startCollecting())
        // the first claim reads the (empty) directory; later ones rely on reports
        #expect(commit(dir, "FFF0001", body: "one\n", control: "V8\n.\n") == nil)
        let spare = try #require(makeSpare(dir, 4321))
        let other = try #require(makeSpare(dir, 77))
        // a worker's reports: one stale (no such spare any more), two good
        QueueSpares.writeReport(w, dir, 999)
        QueueSpares.writeReport(w, dir, 77)
        QueueSpares.writeReport(w, dir, 4321)
        #expect(commit(dir, "FFF0002", body: "two\n", control: "V8\nMtwo\n.\n") == nil)
        // (the last report first: the df takes .spare4321, the tf .spare77)
        #expect(inode(dir + "/dfFFF0002") == spare)
        #expect(inode(dir + "/qfFFF0002") == other)
        #expect(contents(dir + "/dfFFF0002") == Array("two\n".utf8))
        #expect(contents(dir + "/qfFFF0002") == Array("V8\nMtwo\n.\n".utf8))
        #expect(QueueSpares.claimedKnown == 2, "claimed from reports: \(QueueSpares.claimedKnown)")
        #expect(!names(dir).contains { $0.hasPrefix(".spare") }, "\(names(dir))")
    }

    @Test("the collector finds spares nobody reported (an earlier run's) by reading the directory once")
    func unreportedSpareFoundByScan() throws {
        let dir = try directory()
        defer { _ = system("rm -rf '\(dir)'") }
        QueueSpares.setSlotsForTesting(8192)
        defer { QueueSpares.stopCollectingForTesting(); QueueSpares.setSlotsForTesting(128) }
        let a = try #require(makeSpare(dir, 5000))
        let b = try #require(makeSpare(dir, 6000))
        _ = try #require(QueueSpares.startCollecting())
        #expect(commit(dir, "GGG0001", body: "x\n", control: "V8\n.\n") == nil)
        #expect(Set([inode(dir + "/dfGGG0001"), inode(dir + "/qfGGG0001")].compactMap { $0 }) == Set([a, b]))
        // a spare that appears now, unreported, waits for the next scan (a minute on)
        let c = try #require(makeSpare(dir, 7000))
        #expect(commit(dir, "GGG0002", body: "y\n", control: "V8\n.\n") == nil)
        #expect(inode(dir + "/dfGGG0002") != c && inode(dir + "/qfGGG0002") != c)
        #expect(names(dir).contains(".spare7000"))
        #expect(QueueSpares.claimedKnown == 2 && QueueSpares.claimMisses == 2,
                "\(QueueSpares.claimedKnown) claimed, \(QueueSpares.claimMisses) missed")
    }

    @Test("a retirement in the collector's own process is known to it at once")
    func collectorsOwnRetirementKnown() throws {
        let dir = try directory()
        defer { _ = system("rm -rf '\(dir)'") }
        QueueSpares.setSlotsForTesting(8192)
        defer { QueueSpares.stopCollectingForTesting(); QueueSpares.setSlotsForTesting(128) }
        _ = try #require(QueueSpares.startCollecting())
        #expect(commit(dir, "HHH0001", body: "x\n", control: "V8\n.\n") == nil)
        let old = Set([inode(dir + "/qfHHH0001"), inode(dir + "/dfHHH0001")].compactMap { $0 })
        QueueSpares.retire(control: dir + "/qfHHH0001", data: dir + "/dfHHH0001")
        #expect(commit(dir, "HHH0002", body: "y\n", control: "V8\n.\n") == nil)
        #expect(Set([inode(dir + "/qfHHH0002"), inode(dir + "/dfHHH0002")].compactMap { $0 }) == old)
    }
}
