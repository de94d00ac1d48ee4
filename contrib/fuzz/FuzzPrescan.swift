// contrib/fuzz/FuzzPrescan.swift
//
// libFuzzer entry point for sendmail's tokenizer and crackaddr.  The first
// input byte picks what runs (table, delimiter, crackAddress); the second
// gives how many of the following bytes are OperatorChars; the rest is the
// address.  Built by build.sh together with the SMBase and SMRules sources.
// Promises: traps (via precondition) when a result breaks prescan's
// contract, so libFuzzer reports it as a crash: at most 1000 tokens, no
// empty token, no token longer than 256 bytes, end index inside the input,
// crackAddress output at most 256 bytes.  The same checks are replayed by
// Tests/SMRulesTests/FuzzReplayTests.swift over Tests/Fixtures/fuzz/prescan.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPrescan(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    fuzzPrescanOne(bytes)
    return 0
}

func fuzzPrescanOne(_ bytes: [UInt8]) {
    guard bytes.count >= 2 else { return }
    let mode = bytes[0]
    let nops = Int(bytes[1] % 12)
    guard bytes.count >= 2 + nops else { return }
    let ops = Array(bytes[2..<(2 + nops)])
    let addr = Array(bytes[(2 + nops)...])
    let tables = TokenTables(operatorChars: nops == 0 ? Array(".:@[]".utf8) : ops)
    if mode % 5 == 4 {
        let out = crackAddress(addr, options: CrackOptions(colonOkInAddr: mode & 0x10 != 0))
        precondition(out.count <= Limits.maxName, "crackAddress output too long: \(out.count)")
        return
    }
    let table = [tables.external, tables.internal, tables.noComment, tables.external][Int(mode % 5)]
    let delim: UInt8 = [0, UInt8(ascii: ","), 0x09, UInt8(ascii: " ")][Int((mode >> 3) & 3)]
    var messages = 0
    var start = 0
    var rounds = 0
    while start <= addr.count && rounds < 2000 {
        rounds += 1
        let r = prescan(addr, from: start, delim: delim, table: table, ignoreUnbalanced: mode & 0x80 != 0,
                        eightBitAddrOK: mode & 0x40 != 0, report: { _ in messages += 1 })
        precondition(r.end >= start || r.end == start - 1 || start == 0, "end moved backwards")
        precondition(r.end <= addr.count, "end beyond input")
        if let t = r.tokens {
            precondition(t.count <= Limits.maxAtoms, "too many tokens")
            for tok in t {
                precondition(!tok.isEmpty, "empty token")
                precondition(tok.count <= Limits.maxName, "token too long")
            }
        }
        if delim == 0 || r.end >= addr.count { break }
        start = r.end + 1
    }
    precondition(messages < 100_000, "message flood")
}
