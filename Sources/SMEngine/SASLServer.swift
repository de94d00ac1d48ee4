// SMEngine/SASLServer.swift
//
// The server side of Cyrus SASL (libsasl2, through CSASL) for SMTP AUTH,
// used as Debian's sendmail uses it: the library is initialised once per
// process under the application name "Sendmail", so it reads its
// configuration (pwcheck_method, auxprop_plugin, sasldb_path, mech_list)
// from Sendmail.conf on the library's own search path, which on Debian is
// /etc/sasl2, /etc/sasl, /usr/lib/x86_64-linux-gnu/sasl2, /usr/lib/sasl2
// (Debian's sendmail package links /usr/lib/sasl2/Sendmail.conf to
// /etc/mail/sasl/Sendmail.conf.2), and checks passwords against the
// sasldb that saslpasswd2 writes (/etc/sasldb2 unless sasldb_path says).
// Like sendmail, it skips a Sendmail.conf that is world-writable or sits
// in a group- or world-writable directory (CSASL's file check).
// A connection is made for service "smtp" with AuthRealm as the server's
// name and no user realm (so a user without "@realm" is looked up in
// that realm, and reported without it), with the security properties AuthOptions
// give (the caller gives the largest SSF) and no external security
// layer (no TLS yet).
// Promises: every library call's status is returned, never hidden; a
// failed initialisation means "AUTH not available", never a crash.  The
// base64 codec is the library's (sasl_decode64/sasl_encode64), so what
// it refuses is what sendmail refuses.

import CSASL

final class SASLServer {
    enum StepResult {
        /// Authenticated.
        case ok
        /// The mechanism sends this challenge (raw bytes) and waits.
        case challenge([UInt8])
        /// A library status other than OK and CONTINUE.
        case failed(Int32)
    }

    /// sasl_server_init under "Sendmail" with the callbacks sendmail
    /// gives (CSASL), once per process: a static let is initialised once,
    /// thread-safely, so daemon sessions on several threads may race here.
    static let initStatus: Int32 = sm_sasl_server_init("Sendmail")

    static func initialise() -> Bool { initStatus == SASL_OK }

    let conn: OpaquePointer

    /// A connection, or nil when the library cannot make one.
    /// `external`: the TLS layer under the session (its cipher bits, and
    /// the verified client certificate's subject, which offers EXTERNAL).
    init?(serverName: String, securityFlags: UInt32, maxSSF: UInt32, external: (ssf: UInt32, id: String?)? = nil) {
        guard Self.initialise() else { return nil }
        var c: OpaquePointer? = nil
        let r = sasl_server_new("smtp", serverName, nil, nil, nil, nil, 0, &c)
        guard r == SASL_OK, let made = c else { return nil }
        conn = made
        _ = sm_sasl_set_ssf_external(conn, external?.ssf ?? 0)
        if let id = external?.id { _ = sm_sasl_set_auth_external(conn, id) }
        // (8192: the largest buffer sendmail announces)
        _ = sm_sasl_set_secprops(conn, maxSSF, securityFlags, 8192)
    }

    deinit { var c: OpaquePointer? = conn; sasl_dispose(&c) }

    /// The mechanisms the library offers on this connection.
    func mechanisms() -> [String] {
        var out: UnsafePointer<CChar>? = nil
        var len: UInt32 = 0
        var count: Int32 = 0
        guard sasl_listmech(conn, nil, "", " ", "", &out, &len, &count) == SASL_OK, let s = out else { return [] }
        return String(cString: s).split(separator: " ").map(String.init)
    }

    func start(_ mechanism: String, _ input: [UInt8]?) -> StepResult {
        var out: UnsafePointer<CChar>? = nil
        var outLen: UInt32 = 0
        let r: Int32
        if let inp = input {
            r = inp.withUnsafeBufferPointer { b in
                // a non-NULL pointer even for an empty response
                var one: CChar = 0
                return b.count == 0
                    ? sasl_server_start(conn, mechanism, &one, 0, &out, &outLen)
                    : b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) {
                        sasl_server_start(conn, mechanism, $0, UInt32(b.count), &out, &outLen)
                    }
            }
        } else {
            r = sasl_server_start(conn, mechanism, nil, 0, &out, &outLen)
        }
        return result(r, out, outLen)
    }

    func step(_ input: [UInt8]) -> StepResult {
        var out: UnsafePointer<CChar>? = nil
        var outLen: UInt32 = 0
        var copy = input.map { CChar(bitPattern: $0) } + [0]
        let r = sasl_server_step(conn, &copy, UInt32(input.count), &out, &outLen)
        return result(r, out, outLen)
    }

    private func result(_ r: Int32, _ out: UnsafePointer<CChar>?, _ len: UInt32) -> StepResult {
        switch r {
        case SASL_OK: return .ok
        case SASL_CONTINUE:
            guard let o = out, len > 0 else { return .challenge([]) }
            return .challenge(o.withMemoryRebound(to: UInt8.self, capacity: Int(len)) { Array(UnsafeBufferPointer(start: $0, count: Int(len))) })
        default: return .failed(r)
        }
    }

    var username: String? { sm_sasl_getprop_string(conn, SASL_USERNAME).map { String(cString: $0) } }
    var authUser: String? { sm_sasl_getprop_string(conn, SASL_AUTHUSER).map { String(cString: $0) } }
    var ssf: UInt32? {
        var v: UInt32 = 0
        return sm_sasl_getprop_ssf(conn, &v) == SASL_OK ? v : nil
    }

    func errorText(_ r: Int32) -> String { String(cString: sasl_errstring(r, nil, nil)) }
    var errorDetail: String { String(cString: sasl_errdetail(conn)) }

    /// sasl_decode64: the bytes, or the library's status when it
    /// refuses the text.
    static func decode64(_ s: [UInt8]) -> Result<[UInt8], DecodeError> {
        var out = [CChar](repeating: 0, count: s.count + 4)
        var len: UInt32 = 0
        let src = s.map { CChar(bitPattern: $0) }
        let r = sasl_decode64(src, UInt32(src.count), &out, UInt32(out.count), &len)
        guard r == SASL_OK else { return .failure(DecodeError(status: r)) }
        return .success(out.prefix(Int(len)).map { UInt8(bitPattern: $0) })
    }

    struct DecodeError: Error { var status: Int32 }

    static func encode64(_ s: [UInt8]) -> [UInt8]? {
        var out = [CChar](repeating: 0, count: (s.count + 2) / 3 * 4 + 1)
        var len: UInt32 = 0
        let src = s.map { CChar(bitPattern: $0) }
        let r = sasl_encode64(src, UInt32(src.count), &out, UInt32(out.count), &len)
        guard r == SASL_OK else { return nil }
        return out.prefix(Int(len)).map { UInt8(bitPattern: $0) }
    }
}
