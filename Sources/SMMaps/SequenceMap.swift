// SMMaps/SequenceMap.swift
//
// The sequence and switch classes: try member maps in order until one
// answers.  `sequence m1 m2` names its members on the K line (they must be
// declared before it); `switch svc` takes them from the service switch
// file at open time (maps named `<name>.<method>`).  Promises: map.c's
// seq_map_lookup rules: an unopenable member is skipped, a temporary
// failure is remembered, and "not found" is status 68.
import SMRules
import SMBase

final class SequenceMapBackend: MapBackend {
    var members: [SendmailMap?]
    let isSwitch: Bool

    init(members: [SendmailMap?], isSwitch: Bool) {
        self.members = members
        self.isSwitch = isSwitch
    }

    func open(_ map: SendmailMap) -> Bool {
        guard isSwitch else { return true }
        guard let methods = map.set.serviceSwitch.methods(for: map.spec.file ?? []),
              !methods.isEmpty else { return false }
        members = []
        for m in methods.prefix(12) {
            let name = map.spec.name + [UInt8(ascii: ".")] + m
            if let member = map.set.map(named: name) as? SendmailMap {
                members.append(member)
            } else {
                map.report("Switch map \(map.spec.name.string): unknown member map \(name.string)")
                members.append(nil)
            }
        }
        return true
    }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        var tempfail = false
        var status: Int32 = 0
        for case let member? in members {
            if !member.openIfNeeded(context: context) { continue }
            if member.state == .bogus { tempfail = true; status = 75; continue }
            let a = member.backend.lookup(member, key: key, av: av, context: context)
            member.flush(context)
            status = a.status
            if a.value != nil { return a }
            if a.status == 75 { tempfail = true }
        }
        if tempfail { return MapAnswer(nil, 75) }
        return MapAnswer(nil, status == 0 ? 68 : status)
    }
}
