// SMEngineTests/ConnectionCacheTests.swift
//
// The delivery side's connection cache (Engine.scanConnectionCache, as
// sendmail's mci_scan picks the slot for a new session): which slot a new
// session takes, and which cached sessions are ended on the way.  The
// sessions' transports are a stand-in that only notes being closed: a slot
// choice involves no peer, and WorkerCacheTests plays the same cases over
// real sockets end to end.
import Glibc
@testable import SMEngine
import SMRules
import SMSMTP
import Testing

@Suite struct ConnectionCacheTests {
    static let cf = """
        V10/Berkeley
        DZ8.17.1.9
        O QueueDirectory=/nonexistent
        O DontProbeInterfaces=true
        O ConnectionCacheSize=2
        O ConnectionCacheTimeout=20s
        Mlocal, P=/bin/true, F=lsDFM, A=true $u
        S0
        R$*	$#local $: $1

        """

    /// A transport that no test reads from or writes to; it only counts closes.
    final class Closable: SMTPTransport {
        var closes = 0
        func write(_ bytes: [UInt8], timeout: Int) -> Int32 { EPIPE }
        func readLine(timeout: Int) -> SMTPLineResult { .closed }
        func close() { closes += 1 }
    }

    func engine() -> Engine {
        Engine(options: StartOptions(configFile: "test.cf"), cfData: Array(Self.cf.utf8), out: OutputBuffer())
    }

    /// A cached session to `host`, last used `age` seconds ago; `lost`:
    /// its transport already gone, as a failed RSET probe leaves it.
    func session(_ host: String, age: time_t, lost: Bool = false) -> (SMTPConnection, Closable) {
        let t = Closable()
        let c = SMTPConnection(host: Array(host.utf8), mailerName: Array("esmtp".utf8), address: nil, transport: t,
                               client: SMTPClient(options: .init(heloName: Array("here.example".utf8))))
        c.lastUse = time(nil) - age
        if lost { c.transport = nil }
        return (c, t)
    }

    @Test("a lost session's slot is taken, whichever slot the live one holds and however recent the lost one")
    func lostSlotBeforeLiveSession() {
        // (the probe that found it lost stamped it as just used: the live
        // session is older, and must still not be the one replaced)
        for liveFirst in [true, false] {
            let e = engine()
            let (live, liveT) = session("[127.0.0.2]", age: 3)
            let (lost, _) = session("[127.0.0.3]", age: 0, lost: true)
            e.connectionSlots = liveFirst ? [live, lost] : [lost, live]
            let (new, _) = session("[127.0.0.3]", age: 0)
            e.cacheConnection(new, to: "<d@[127.0.0.3]>", verbose: false)
            #expect(e.connectionSlots[liveFirst ? 0 : 1] === live, "liveFirst=\(liveFirst)")
            #expect(e.connectionSlots[liveFirst ? 1 : 0] === new, "liveFirst=\(liveFirst)")
            #expect(liveT.closes == 0, "the live session was ended (liveFirst=\(liveFirst))")
        }
    }

    @Test("a free slot is taken before a live session's")
    func freeSlot() {
        for liveFirst in [true, false] {
            let e = engine()
            let (live, liveT) = session("[127.0.0.2]", age: 0)
            e.connectionSlots = liveFirst ? [live, nil] : [nil, live]
            let (new, _) = session("[127.0.0.4]", age: 0)
            e.cacheConnection(new, to: "<b@[127.0.0.4]>", verbose: false)
            #expect(e.smtpConnections.count == 2 && e.smtpConnections.contains { $0 === live })
            #expect(liveT.closes == 0)
        }
    }

    @Test("with every slot live, the least recently used session is replaced")
    func leastRecentlyUsed() {
        let e = engine()
        let (a, aT) = session("[127.0.0.4]", age: 2)
        let (b, bT) = session("[127.0.0.5]", age: 8)
        e.connectionSlots = [a, b]
        let (new, _) = session("[127.0.0.6]", age: 0)
        e.cacheConnection(new, to: "<b@[127.0.0.6]>", verbose: false)
        #expect(e.connectionSlots[0] === a && e.connectionSlots[1] === new)
        #expect(aT.closes == 0 && bT.closes == 1)
    }

    @Test("a session idle for ConnectionCacheTimeout is ended by the scan, and its slot answered")
    func idleSessionsEnd() {
        let e = engine()
        let (fresh, freshT) = session("[127.0.0.4]", age: 1)
        let (stale, staleT) = session("[127.0.0.5]", age: 25)
        e.connectionSlots = [stale, fresh]
        #expect(e.scanConnectionCache(to: "<x@y>", verbose: false) == 0)
        #expect(e.connectionSlots[0] == nil && e.connectionSlots[1] === fresh)
        #expect(staleT.closes == 1 && freshT.closes == 0)
    }

    @Test("a mailer program's session ends after 100 transactions when its mailer has no m=; a TCP session does not")
    func programSessionsRestart() throws {
        let e = engine()
        // (mailer "local" of the cf: P=/bin/true, no m=; no peer address: a program on a pipe)
        func program(_ transactions: Int) -> (SMTPConnection, Closable) {
            let t = Closable()
            let c = SMTPConnection(host: Array("local".utf8), mailerName: Array("local".utf8), address: nil, transport: t,
                                   client: SMTPClient(options: .init(heloName: Array("here.example".utf8), lmtp: true)))
            c.lastUse = time(nil)
            c.deliveries = transactions - 1
            return (c, t)
        }
        let (young, youngT) = program(Engine.programSessionUses - 1)
        let (old, oldT) = program(Engine.programSessionUses)
        e.connectionSlots = [young, old]
        #expect(e.scanConnectionCache(to: "<x@y>", verbose: false) == 1)
        #expect(e.connectionSlots[0] === young && e.connectionSlots[1] == nil)
        #expect(youngT.closes == 0 && oldT.closes == 1, "the program that carried 100 transactions was not ended")

        // a TCP session (it has a peer address) is not limited so
        let (tcp, tcpT) = session("[127.0.0.2]", age: 0)
        let address = try #require(PeerAddress.literal("127.0.0.2", port: 25))
        let kept = SMTPConnection(host: tcp.host, mailerName: tcp.mailerName, address: address, transport: tcpT,
                                  client: tcp.client)
        kept.lastUse = time(nil)
        kept.deliveries = 10 * Engine.programSessionUses
        e.connectionSlots = [kept, nil]
        #expect(e.scanConnectionCache(to: "<x@y>", verbose: false) == 1)
        #expect(e.connectionSlots[0] === kept && tcpT.closes == 0)
    }
}
