// SMMaps/NullMap.swift
//
// The null class (and the stub classes we do not implement, socket and
// ldap, which open as "unavailable" so that non-optional maps of those
// classes answer with a temporary failure).  Promises: null answers "not
// found" with status 68, like map.c's null_map_lookup.
import SMRules
final class NullMapBackend: MapBackend {
    /// nil for `null`; a reason for a stub class that cannot open.
    let unavailable: String?
    init(unavailable: String? = nil) { self.unavailable = unavailable }

    func open(_ map: SendmailMap) -> Bool {
        if let unavailable {
            if !map.spec.optional { map.report(unavailable) }
            return false
        }
        return true
    }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        MapAnswer(nil, 68)
    }
}
