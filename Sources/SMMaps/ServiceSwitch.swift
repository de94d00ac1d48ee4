// SMMaps/ServiceSwitch.swift
//
// sendmail's own service switch file (ServiceSwitchFile, default
// /etc/mail/service.switch): lines "service method method...", '#'
// comments.  Promises: `methods(for:)` answers what conf.c's
// switch_map_find answers on Linux: the file's list when the service is
// there, else the compiled-in fallback (aliases: files; hosts: dns files),
// else nil (-1: the service is unknown).
import Glibc
import SMBase

public struct ServiceSwitch: Sendable, Equatable {
    public var entries: [[UInt8]: [[UInt8]]] = [:]

    public init(entries: [[UInt8]: [[UInt8]]] = [:]) { self.entries = entries }

    /// Reads `path`; a missing or unreadable file gives an empty switch.
    public init(path: String) {
        guard let data = FileBytes.read(path) else { return }
        for rawLine in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            var line = Array(rawLine)
            if let h = line.firstIndex(of: UInt8(ascii: "#")) { line.removeSubrange(h...) }
            guard let sp = line.firstIndex(where: { $0 == 0x20 || $0 == 0x09 }) else { continue }
            let service = Array(line[..<sp])
            if service.isEmpty { continue }
            let methods = Array(line[(sp + 1)...]).split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }).map(Array.init)
            if methods.isEmpty { continue }
            entries[service] = Array(methods.prefix(12))
        }
    }

    public func methods(for service: [UInt8]) -> [[UInt8]]? {
        if let m = entries[service] { return m }
        if service == Array("aliases".utf8) { return [Array("files".utf8)] }
        if service == Array("hosts".utf8) { return [Array("dns".utf8), Array("files".utf8)] }
        return nil
    }

    /// UseNameServer: the hosts service goes through DNS.
    public var usesNameServer: Bool {
        methods(for: Array("hosts".utf8))?.contains(Array("dns".utf8)) ?? false
    }
}

/// Whole-file reads as bytes.
enum FileBytes {
    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        if fd < 0 { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var st = stat()
        if fstat(fd, &st) == 0, st.st_size > 0 { out.reserveCapacity(Int(st.st_size)) }
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return nil }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }
}
