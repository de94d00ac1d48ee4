// SMEngine/QueueOrder.swift
//
// The order of a queue run and of a mailq listing (sendmail's orderq()/
// sortq()), by the QueueSortOrder option's first letter: priority (the
// default: P), host (the first recipient with an `@`: its domain, lower
// case, reversed byte by byte, compared without case; entries without one
// first; then priority), filename (the queue ID, bytewise), time (creation
// time), modification (the qf's mtime, oldest first),
// random (shuffled), none (directory order).  Equal keys keep directory
// order, as glibc's stable qsort leaves them (verified against sendmail).
// Not done: the lock status sendmail also sorts on for `host`.
// Also shouldqueue() (QueueLA, QueueFactor): whether the load average
// holds back work of a priority.
// Promises: the sort is pure; the caller gives the entries in directory
// order.

import Glibc
import SMBase
import SMQueueFormat

/// What the queue's sort orders look at, for one entry.
struct QueueJobKey {
    var id: [UInt8]
    var priority: Int64 = 0
    var ctime: Int64 = 0
    var mtime: Int64 = 0
    /// The reversed, lower-cased domain of the first recipient with `@`.
    var host: [UInt8]? = nil

    init(id: [UInt8], qf: QueueFile?, mtime: Int64) {
        self.id = id
        self.mtime = mtime
        guard let qf else { return }
        priority = qf.priority
        ctime = qf.creationTime
        if let r = qf.recipients.first(where: { $0.address.contains(UInt8(ascii: "@")) }),
           let at = r.address.lastIndex(of: UInt8(ascii: "@")) {
            host = Array(Array(r.address[(at + 1)...]).asciiLowercased.reversed())
        }
    }
}

extension Engine {
    /// Sorts `items` (in directory order) as QueueSortOrder says.
    func orderQueue<T>(_ items: [T], key: (T) -> QueueJobKey) -> [T] {
        let order = (config.options["QueueSortOrder"] ?? []).asciiLowercased.first ?? UInt8(ascii: "p")
        if order == UInt8(ascii: "n") { return items }
        if order == UInt8(ascii: "r") { return items.shuffled() }
        let keyed = items.enumerated().map { (offset: $0.offset, key: key($0.element), item: $0.element) }
        func byPriority(_ x: QueueJobKey, _ y: QueueJobKey) -> Bool? {
            x.priority != y.priority ? x.priority < y.priority : nil
        }
        return keyed.sorted { a, b in
            let x = a.key, y = b.key
            let decided: Bool?
            switch order {
            case UInt8(ascii: "f"):
                decided = x.id != y.id ? x.id.lexicographicallyPrecedes(y.id) : nil
            case UInt8(ascii: "t"):
                decided = x.ctime != y.ctime ? x.ctime < y.ctime : nil
            case UInt8(ascii: "m"):
                decided = x.mtime != y.mtime ? x.mtime < y.mtime : nil
            case UInt8(ascii: "h"):
                switch (x.host, y.host) {
                case (nil, nil): decided = byPriority(x, y)
                case (nil, _): decided = true
                case (_, nil): decided = false
                case let (h1?, h2?):
                    let l1 = h1.asciiLowercased, l2 = h2.asciiLowercased
                    decided = l1 != l2 ? l1.lexicographicallyPrecedes(l2) : byPriority(x, y)
                }
            default:
                decided = byPriority(x, y)
            }
            return decided ?? (a.offset < b.offset)
        }.map { $0.item }
    }
}

extension Engine {
    /// The processors online, counted once a process (as sendmail counts
    /// them at start-up for QueueLA's default; glibc reads /sys each time).
    static let onlineProcessors: Int = max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1)

    /// The load average as sendmail's getla() gives it (whole number).
    func currentLoadAverage() -> Int {
        systemLoadAverage()
    }

    /// shouldqueue(): at or above QueueLA (default 8 per processor), work
    /// of priority above QueueFactor / (load - QueueLA + 1) waits.
    func shouldQueue(priority: Int64) -> Bool {
        let queueLA = intOption("QueueLA", 8 * Engine.onlineProcessors)
        let la = currentLoadAverage()
        if la < queueLA { return false }
        let factor = Int64(intOption("QueueFactor", 600000))
        return priority > factor / Int64(la - queueLA + 1)
    }
}
