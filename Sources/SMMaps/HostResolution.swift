// SMMaps/HostResolution.swift
//
// Host name canonicalisation and MX lookup as sendmail does them (map.c
// getcanonname / text_getcanonname / extract_canonname, domain.c
// dns_getcanonname / getmxrr), over the service switch, the hosts file
// and the injected resolver.  Used by the host and bestmx map classes and
// by `-bt` (`/canon`, `/mx`).  Promises: functions return data and print
// nothing; `$m` (the local domain) is passed in by the caller.
import Glibc
import Synchronization
import SMBase

public struct HostResolution: Sendable {
    public var environment: MapEnvironment
    public var serviceSwitch: ServiceSwitch

    public init(environment: MapEnvironment, serviceSwitch: ServiceSwitch) {
        self.environment = environment
        self.serviceSwitch = serviceSwitch
    }

    /// The outcome of getcanonname.
    public struct Canonical: Sendable, Equatable {
        /// The canonical name (unchanged input when not found).
        public var name: [UInt8]
        public var found: Bool
        /// A lookup failed temporarily (h_errno TRY_AGAIN at the end).
        public var tempFailure: Bool
        public var ttl: Int
    }

    static let defaultTTL = 3600

    /// getcanonname(host, trymx): through the "hosts" service methods.
    public func canonicalName(_ host: [UInt8], tryMX: Bool, localDomain: [UInt8]?) -> Canonical {
        var name = host
        var found = false
        var gotTempFail = false
        var ttl = Self.defaultTTL
        let methods = serviceSwitch.methods(for: Array("hosts".utf8)) ?? []
        for method in methods {
            var status: Int32
            switch method {
            case Array("files".utf8):
                (found, status) = textCanonicalName(&name, localDomain: localDomain)
            case Array("dns".utf8):
                let r = dnsCanonicalName(name, tryMX: tryMX)
                status = r.status
                found = r.name != nil
                if let n = r.name { name = n; if r.ttl > 0 { ttl = r.ttl } }
            default:
                found = false
                status = 69
            }
            if found && (localDomain != nil || name.contains(UInt8(ascii: "."))) { break }
            if status == 75 { gotTempFail = true }
        }
        if found {
            if let d = name.firstIndex(of: UInt8(ascii: ".")), d + 1 < name.count {
                return Canonical(name: name, found: true, tempFailure: false, ttl: ttl)
            }
            if let m = localDomain {
                if name.last != UInt8(ascii: ".") { name.append(UInt8(ascii: ".")) }
                name.append(contentsOf: m)
                return Canonical(name: name, found: true, tempFailure: false, ttl: ttl)
            }
            return Canonical(name: name, found: false, tempFailure: false, ttl: ttl)
        }
        // getcanonname leaves h_errno saying why it failed
        __h_errno_location()?.pointee = gotTempFail ? TRY_AGAIN : HOST_NOT_FOUND
        return Canonical(name: name, found: false, tempFailure: gotTempFail, ttl: ttl)
    }

    // MARK: files

    /// shorten_hostname: strips a trailing dot, and the local domain when
    /// the name is in it; returns the index where a dot was cut, if any.
    static func shorten(_ host: inout [UInt8], localDomain: [UInt8]?) -> Int? {
        var canon = false
        if host.last == UInt8(ascii: ".") { host.removeLast(); canon = true }
        guard let dot = host.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        let dom = Array(host[(dot + 1)...])
        let my = localDomain ?? []
        let matches: Bool
        if canon {
            matches = dom.asciiCaseEquals(my)
        } else {
            matches = my.count >= dom.count && Array(my[0..<dom.count]).asciiCaseEquals(dom)
                && (my.count == dom.count || my[dom.count] == UInt8(ascii: "."))
        }
        if matches {
            host.removeSubrange(dot...)
            return dot
        }
        return nil
    }

    /// text_getcanonname over HostsFile: (found, EX_ status).
    func textCanonicalName(_ name: inout [UInt8], localDomain: [UInt8]?) -> (Bool, Int32) {
        var nbuf = name
        let full = name
        let dot = Self.shorten(&nbuf, localDomain: localDomain)
        var fullWithoutTrailingDot = full
        if fullWithoutTrailingDot.last == UInt8(ascii: ".") { fullWithoutTrailingDot.removeLast() }
        guard let lines = HostsFileCache.lines(environment.hostsFile) else { return (false, 69) }
        for line in lines {
            if let c = extractCanonName(nbuf, fqdn: dot == nil ? nil : fullWithoutTrailingDot, line: line,
                                        localDomain: localDomain) {
                name = c
                return (true, 0)
            }
        }
        return (false, 68)
    }

    /// extract_canonname: the line's best name when one of its names
    /// (columns 1...) matches.
    func extractCanonName(_ name: [UInt8], fqdn: [UInt8]?, line: [UInt8], localDomain: [UInt8]?) -> [UInt8]? {
        if line.first == UInt8(ascii: "#") { return nil }
        var cbuf: [UInt8] = []
        var found = false
        var i = 1
        while let p = TextColumns.column(line, i, delimiter: 0) {
            i += 1
            if p.isEmpty { continue }
            if cbuf.isEmpty || (!cbuf.contains(UInt8(ascii: ".")) && p.contains(UInt8(ascii: "."))) {
                cbuf = p
            }
            if name.asciiCaseEquals(p) { found = true }
            else if let fqdn, fqdn.asciiCaseEquals(p) { found = true }
        }
        guard found else { return nil }
        if !cbuf.contains(UInt8(ascii: ".")), let m = localDomain {
            cbuf.append(UInt8(ascii: "."))
            cbuf.append(contentsOf: m)
        }
        return cbuf
    }
}

/// The hosts file's lines (comments cut, empty lines dropped), parsed once
/// per version of the file: every lookup still stats the file, as sendmail
/// re-reads it on every lookup, so an edit is seen at the next lookup.
enum HostsFileCache {
    struct Version: Equatable { var dev: UInt64; var ino: UInt64; var size: Int64; var sec: Int; var nsec: Int }
    private static let cache = Mutex<[String: (Version, [[UInt8]])]>([:])

    static func lines(_ path: String) -> [[UInt8]]? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        let v = Version(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino), size: Int64(st.st_size),
                        sec: st.st_mtim.tv_sec, nsec: st.st_mtim.tv_nsec)
        if let hit = cache.withLock({ $0[path] }), hit.0 == v { return hit.1 }
        guard let data = FileBytes.read(path) else { return nil }
        var lines: [[UInt8]] = []
        for raw in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            var line = Array(raw)
            if let h = line.firstIndex(of: UInt8(ascii: "#")) { line.removeSubrange(h...) }
            if line.isEmpty { continue }
            lines.append(line)
        }
        cache.withLock { $0[path] = (v, lines) }
        return lines
    }
}
