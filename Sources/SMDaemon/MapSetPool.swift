// SMDaemon/MapSetPool.swift
//
// The map sets (SMMaps.MapSet: open Berkeley DB files, the service switch
// read, compiled regex maps) that the daemon's SMTP sessions share one
// after another, so that a session does not reopen every map file and
// reread the service switch file.  One pool per loaded configuration
// (SIGHUP's configuration gets a new pool; the old one closes what comes
// back to it).  A session takes a set when it opens (`checkOut`) and its
// lease gives it back when the session is gone (`MapSetLease`'s deinit:
// nothing uses the session's engine any more by then), so a set is used
// by one session, on one thread at a time (Berkeley DB handles are not
// shared concurrently).
// Promises: a session gets a set that answers as a new one would:
// a set comes back into the pool only if MapSet.isClean (no lookup
// failed temporarily, no map's open failed), and it is taken only if
// MapSet.isCurrent (also: no map file nor the service switch file changed
// since it was read: a makemap between two sessions is seen by the
// second; these stats are made on the thread pool, not the event loop); a set is
// dropped once it is `maxAge` seconds old (as the delivery workers renew
// theirs, min(ConnectionCacheTimeout, 10 s)), so that what no file
// version shows (the host-name cache, the hosts file of the resolver) is
// not kept longer than there; at most `capacity` idle sets are kept.

import Glibc
import NIOConcurrencyHelpers
import SMEngine
import SMMaps

final class MapSetPool: @unchecked Sendable {
    /// Makes a new set for this pool's configuration.
    private let make: () -> MapSet
    let maxAge: Int
    let capacity: Int
    private let lock = NIOLock()
    /// Guarded by `lock`: idle sets with the time each was made.
    private var idle: [(set: MapSet, made: time_t)] = []
    private var retired = false

    init(maxAge: Int, capacity: Int = 16, make: @escaping () -> MapSet) {
        self.maxAge = maxAge
        self.capacity = capacity
        self.make = make
    }

    /// The pool of a loaded configuration (the prototype engine's maps).
    convenience init(prototype p: Engine) {
        let declarations = p.config.maps, environment = p.maps.environment
        self.init(maxAge: p.workerIdleSeconds) { MapSet(declarations: declarations, environment: environment) }
    }

    /// A set for one session, and the lease that gives it back.
    func checkOut(now: time_t = time(nil)) -> MapSetLease {
        while true {
            let taken: (set: MapSet, made: time_t)? = lock.withLock { idle.popLast() }
            guard let t = taken else { break }
            // (a set dropped here is released outside the lock)
            if now - t.made < time_t(maxAge) && t.set.isCurrent { return MapSetLease(self, t.set, made: t.made) }
        }
        return MapSetLease(self, make(), made: now)
    }

    /// A session is done with `set`.
    fileprivate func checkIn(_ set: MapSet, made: time_t, now: time_t = time(nil)) {
        guard now - made < time_t(maxAge), set.isClean else { return }
        lock.withLock {
            if !retired && idle.count < capacity { idle.append((set, made)) }
        }
    }

    /// The configuration was replaced: idle sets are closed, and those
    /// still out are closed when they come back.
    func retire() {
        let dropped: [(set: MapSet, made: time_t)] = lock.withLock {
            retired = true
            defer { idle = [] }
            return idle
        }
        _ = dropped
    }

    /// Idle sets (for tests).
    var idleCount: Int { lock.withLock { idle.count } }
}

/// One session's use of a pooled set: given back when the lease goes.
final class MapSetLease: @unchecked Sendable {
    let maps: MapSet
    private let pool: MapSetPool
    private let made: time_t

    fileprivate init(_ pool: MapSetPool, _ maps: MapSet, made: time_t) {
        self.pool = pool
        self.maps = maps
        self.made = made
    }

    deinit { pool.checkIn(maps, made: made) }
}
