// EngineCloneTests.swift — Engine(prototype:), the per-connection engine
// of the daemon: it shares the loaded configuration (rulesets, classes,
// options) and has its own macros and maps, so one session's macros
// never show in another's.  The cost of a clone against a full load is
// printed (a measurement, not asserted).

import Foundation
import Testing
import SMEngine
import SMRules

@Suite("Engine(prototype:): a cheap per-connection copy")
struct EngineCloneTests {
    static let cf = """
        V10/Berkeley
        DZ8.17.1.9
        O QueueDirectory=/nonexistent
        O DontProbeInterfaces=true
        Kdequote dequote
        Mlocal, P=/bin/true, F=lsDFM, A=true $u
        S3
        R$* < $* > $*	$2
        S0
        R$*	$#local $: $1

        """

    func load() -> Engine {
        Engine(options: StartOptions(configFile: "test.cf"), cfData: Array(Self.cf.utf8), out: OutputBuffer())
    }

    @Test("a clone shares the configuration, not the macros or maps")
    func independent() {
        let proto = load()
        let a = Engine(prototype: proto, out: OutputBuffer())
        let b = Engine(prototype: proto, out: OutputBuffer())
        #expect(a.config === proto.config)
        #expect(a.rewriter !== proto.rewriter && a.maps !== proto.maps && a.maps !== b.maps)
        a.rewriter.defineMacro(Array("{client_addr}".utf8), Array("10.0.0.1".utf8))
        b.rewriter.defineMacro(Array("{client_addr}".utf8), Array("10.0.0.2".utf8))
        let id = proto.config.names.id(forName: Array("client_addr".utf8))!
        #expect(a.rewriter.macros[id] == Array("10.0.0.1".utf8))
        #expect(b.rewriter.macros[id] == Array("10.0.0.2".utf8))
        #expect(proto.rewriter.macros[id] == nil)
        // the rulesets work on the clone: ruleset 3 focuses on <...>
        var pvp: [[UInt8]] = [Array("a".utf8), [UInt8(ascii: "<")], Array("b".utf8), [UInt8(ascii: ">")]]
        a.rewriter.rewrite(&pvp, ruleset: 3)
        #expect(pvp == [Array("b".utf8)])

        // the measurement
        let n = 2000
        let t0 = Date()
        for _ in 0..<n { _ = Engine(prototype: proto, out: OutputBuffer()) }
        let clone = Date().timeIntervalSince(t0) / Double(n)
        let t1 = Date()
        for _ in 0..<50 { _ = load() }
        let full = Date().timeIntervalSince(t1) / 50
        print("Engine(prototype:): \(Int(clone * 1e6)) µs per clone; full load of this cf: \(Int(full * 1e6)) µs")
    }
}
