// SMMaps/ProgramMap.swift
//
// The program class: runs `file [rest words...] key` and takes the first
// line of its output.  A non-zero exit answers "not found" with that exit
// status; a program that cannot start closes the map.  Promises: the same
// argv sendmail builds (the rest of the K line split on SP/TAB), output
// cut at the first newline, and 72 (EX_OSFILE) when it cannot run.
import SMRules
import Glibc
import SMBase

final class ProgramMapBackend: MapBackend {
    func open(_ map: SendmailMap) -> Bool { true }

    func lookup(_ map: SendmailMap, key: [UInt8], av: [[UInt8]], context: MapContext?) -> MapAnswer {
        var argv: [[UInt8]] = [map.spec.file ?? []]
        if let rest = map.spec.rebuild {
            argv.append(contentsOf: rest.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }).map(Array.init))
        }
        argv.append(key)
        guard let out = map.set.environment.runProgram(argv) else {
            if !map.spec.optional {
                map.report("prog_map_lookup(\(map.spec.name.string)) failed (\(String(cString: strerror(errno)))) -- closing")
            }
            map.invalidate()
            return MapAnswer(nil, 72)
        }
        var value: [UInt8]? = nil
        if !out.output.isEmpty {
            var line = out.output
            if let nl = line.firstIndex(of: 0x0A) { line.removeSubrange(nl...) }
            if let z = line.firstIndex(of: 0) { line.removeSubrange(z...) }
            value = map.result(key: key, value: line, av: av)
        }
        guard let st = out.exitStatus else {
            map.report("prog_map_lookup(\(map.spec.name.string)): child died on signal")
            return MapAnswer(nil, 69)
        }
        if st != 0 { return MapAnswer(nil, st) }
        return MapAnswer(value, 0)
    }
}

/// Runs a command with stdin from /dev/null and reads its stdout.
public enum ProgramRunner {
    public static func run(_ argv: [[UInt8]]) -> ProgramOutcome? {
        guard let path = argv.first, !path.isEmpty else { return nil }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0.string) }
        cargs.append(nil)
        defer { for p in cargs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path.string, &actions, nil, cargs, environ)
        close(fds[1])
        if rc != 0 { close(fds[0]); errno = rc; return nil }
        var buf = [UInt8](repeating: 0, count: 2047)
        let n = buf.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
        var sink = [UInt8](repeating: 0, count: 4096)
        while sink.withUnsafeMutableBytes({ read(fds[0], $0.baseAddress, $0.count) }) > 0 {}
        close(fds[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        return ProgramOutcome(output: n > 0 ? Array(buf[0..<n]) : [],
                              exitStatus: exited ? (status >> 8) & 0xff : nil)
    }
}
