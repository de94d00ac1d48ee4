// SMMaps/MacroMap.swift
//
// The macro class: `$(macro NAME $@ value $)` sets macro NAME to value,
// without `$@` it clears it; the lookup answers the empty string.
// Promises: an empty key answers nothing with status 78 (EX_CONFIG);
// macro names are passed to the engine without `$` or braces.
import SMRules
final class MacroMapBackend: MapBackend {
    func open(_ map: SendmailMap) -> Bool { true }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        guard !key.isEmpty else { return MapAnswer(nil, 78) }
        var name = key
        if name.first == UInt8(ascii: "{"), name.last == UInt8(ascii: "}"), name.count > 2 {
            name = Array(name[1..<(name.count - 1)])
        }
        context?.defineMacro(name, av.count > 1 ? av[1] : nil)
        return MapAnswer([], 0)
    }
}
