// SMTLS/TLSClientContext.swift
//
// The client side of STARTTLS over the system OpenSSL, for the SMTP
// client's blocking sockets (SMEngine/SMTPDelivery+TLS.swift): one SSL_CTX
// from sendmail's client options — ClientCertFile and ClientKeyFile (sent
// when the server asks for a certificate; both or neither), CACertFile
// with CACertPath (the trust anchors: as Debian's sendmail, they are used
// only when both are given), CRLFile, CipherList, ClientSSLOptions — and
// a TLSClientStream per connection that runs the handshake and then reads
// and writes records on the socket, each call waiting with poll() at most
// its timeout.  The server's certificate never fails the handshake: its
// verification result is read afterwards ({verify}, TLSPeerInfo), as
// sendmail does it.
// Promises: `init` throws (never half-builds) when a configured file
// cannot be loaded; the stream never blocks past its timeout (the socket
// is switched to non-blocking mode); the stream frees its SSL object.

import COpenSSL
import Glibc

public struct TLSClientSettings: Sendable {
    public var certFile: String? = nil
    public var keyFile: String? = nil
    public var caFile: String? = nil
    public var caPath: String? = nil
    public var crlFile: String? = nil
    public var cipherList: String? = nil
    /// ClientSSLOptions: as ServerSSLOptions ("+SSL_OP_NO_TLSv1"...).
    public var sslOptions: String? = nil
    public init() {}
}

public final class TLSClientContext: @unchecked Sendable {
    let ctx: OpaquePointer

    public init(_ s: TLSClientSettings) throws {
        guard let c = SSL_CTX_new(TLS_client_method()) else { throw TLSSetupError("SSL_CTX_new failed") }
        ctx = c
        _ = sm_ssl_ctx_set_min_proto(c, sm_tls1_version())
        _ = sm_ssl_ctx_set_mode(c, sm_ssl_mode_release_buffers())
        // (a throw leaves `ctx` to deinit, which frees it)
        if let cert = s.certFile, let key = s.keyFile {
            guard SSL_CTX_use_certificate_chain_file(c, cert) == 1 else {
                throw TLSSetupError("cannot load ClientCertFile \(cert)")
            }
            guard SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) == 1, SSL_CTX_check_private_key(c) == 1 else {
                throw TLSSetupError("cannot load ClientKeyFile \(key)")
            }
        }
        if let f = s.caFile, let p = s.caPath {
            guard SSL_CTX_load_verify_locations(c, f, p) == 1 else {
                throw TLSSetupError("cannot load CACertFile/CACertPath")
            }
        }
        try TLSContextSetup.loadCRL(c, s.crlFile)
        try TLSContextSetup.setCipherList(c, s.cipherList)
        try TLSContextSetup.applyOptions(c, s.sslOptions, option: "ClientSSLOptions")
        // the server's certificate is checked, its result read afterwards
        sm_ssl_ctx_verify_server(c)
    }

    deinit { SSL_CTX_free(ctx) }
}

/// Why a handshake or a record failed, as sendmail's log line gives it.
public struct TLSClientFailure: Error, Sendable {
    /// SSL_connect's (or SSL_read's) return value and SSL_get_error's code.
    public var result: Int32
    public var sslError: Int32
    /// OpenSSL's reason text ("unexpected eof while reading").
    public var reason: String
    /// errno at the failure.
    public var errno: Int32
    /// The wait for the peer ran out.
    public var timedOut: Bool
}

/// TLS on a connected socket.
public final class TLSClientStream {
    let ssl: OpaquePointer
    let fd: Int32

    /// `fd` stays the caller's to close.
    public init(context: TLSClientContext, fd: Int32) throws {
        guard let s = SSL_new(context.ctx) else { throw TLSSetupError("SSL_new failed") }
        ssl = s
        self.fd = fd
        SSL_set_fd(s, fd)
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    deinit { SSL_free(ssl) }

    /// Waits for the socket as OpenSSL asked; false: timed out.
    func wait(_ code: Int32, deadline: time_t) -> Bool {
        let left = deadline - time(nil)
        if left <= 0 { return false }
        let events = code == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN
        var p = pollfd(fd: fd, events: Int16(events), revents: 0)
        while true {
            let n = poll(&p, 1, Int32(left) * 1000)
            if n < 0 && Glibc.errno == EINTR { continue }
            return n > 0
        }
    }

    func failure(_ rc: Int32, timedOut: Bool = false) -> TLSClientFailure {
        let e = Glibc.errno
        let code = SSL_get_error(ssl, rc)
        var reason = "unknown"
        let err = ERR_peek_error()
        if err != 0, let r = ERR_reason_error_string(err) { reason = String(cString: r) }
        return TLSClientFailure(result: rc, sslError: code, reason: reason, errno: e, timedOut: timedOut)
    }

    /// The whole OpenSSL error queue as sendmail logs it after a failed
    /// handshake ("error:0A000126:SSL routines::unexpected eof while
    /// reading:file:line:"), emptied.
    public func errorQueue() -> [String] {
        var out: [String] = []
        var file: UnsafePointer<CChar>? = nil
        var line: Int32 = 0
        while true {
            let e = ERR_get_error_all(&file, &line, nil, nil, nil)
            if e == 0 { break }
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(e, &buf, buf.count)
            let text = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            out.append("\(text):\(file.map { String(cString: $0) } ?? ""):\(line):")
        }
        return out
    }

    /// SSL_connect within `timeout` seconds: what it settled, or why not.
    public func handshake(timeout: Int) -> Result<TLSPeerInfo, TLSClientFailure> {
        let deadline = time(nil) + time_t(max(timeout, 1))
        ERR_clear_error()
        while true {
            Glibc.errno = 0
            let rc = SSL_connect(ssl)
            if rc == 1 { return .success(TLSPeerInfo.make(ssl, requested: true)) }
            let code = SSL_get_error(ssl, rc)
            if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE {
                if !wait(code, deadline: deadline) { return .failure(failure(rc, timedOut: true)) }
                continue
            }
            return .failure(failure(rc))
        }
    }

    /// Some decrypted bytes (empty: the peer closed), within `timeout`.
    public func read(timeout: Int) -> Result<[UInt8], TLSClientFailure> {
        let deadline = time(nil) + time_t(max(timeout, 1))
        var buf = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buf.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if n > 0 { return .success(Array(buf[0..<Int(n)])) }
            let code = SSL_get_error(ssl, n)
            if code == SSL_ERROR_ZERO_RETURN { return .success([]) }
            if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE {
                if !wait(code, deadline: deadline) { return .failure(failure(n, timedOut: true)) }
                continue
            }
            if code == SSL_ERROR_SYSCALL && Glibc.errno == 0 { return .success([]) }
            return .failure(failure(n))
        }
    }

    /// Writes all of `bytes` within `timeout`.
    public func write(_ bytes: [UInt8], timeout: Int) -> TLSClientFailure? {
        let deadline = time(nil) + time_t(max(timeout, 1))
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
            if n > 0 { off += Int(n); continue }
            let code = SSL_get_error(ssl, n)
            if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE {
                if !wait(code, deadline: deadline) { return failure(n, timedOut: true) }
                continue
            }
            return failure(n)
        }
        return nil
    }

    /// close_notify (not waiting for the peer's).
    public func shutdown() { _ = SSL_shutdown(ssl); ERR_clear_error() }
}

/// HMAC-MD5 (RFC 2104), for the SMTP client's CRAM-MD5.
public func hmacMD5(key: [UInt8], data: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 64)
    var len: UInt32 = 0
    _ = HMAC(EVP_md5(), key, Int32(key.count), data, data.count, &out, &len)
    return Array(out.prefix(Int(len)))
}
