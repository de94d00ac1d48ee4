// SMTLS/TLSServerContext.swift
//
// The server side of STARTTLS over the system OpenSSL (libssl, through
// COpenSSL): one SSL_CTX built from sendmail's options — ServerCertFile,
// ServerKeyFile, CACertFile, CACertPath, CRLFile, CipherList,
// ServerSSLOptions, DHParameters, and TLSSrvOptions' V (no client
// certificate requested) — shared by every connection of the daemon.
// Client certificates are requested (unless V) and never fail the
// handshake: their verification result is read afterwards and becomes
// {verify} (TLSPeerInfo), as sendmail does it.  Key exchange uses P-256
// only and client-initiated renegotiation is refused, as with Debian's
// sendmail (compared in DaemonTLSTests.swift).
// Promises: `init` throws (never half-builds) when the certificate or key
// cannot be loaded or do not match; the context is immutable afterwards
// and safe to share between event loops.

import COpenSSL

public struct TLSServerSettings: Sendable {
    public var certFile: String
    public var keyFile: String
    public var caFile: String? = nil
    public var caPath: String? = nil
    public var crlFile: String? = nil
    public var cipherList: String? = nil
    /// ServerSSLOptions: words like "+SSL_OP_NO_TLSv1", "-SSL_OP_ALL",
    /// or numbers (0x...), applied in order.
    public var sslOptions: String? = nil
    /// DHParameters: nil or "none" (no DH), a file with PEM parameters, or
    /// one of sendmail's size letters (OpenSSL's built-in groups then).
    public var dhParameters: String? = nil
    /// TLSSrvOptions without V: ask the client for a certificate.
    public var requestClientCert = true

    public init(certFile: String, keyFile: String) {
        self.certFile = certFile
        self.keyFile = keyFile
    }
}

public struct TLSSetupError: Error, CustomStringConvertible {
    public let description: String
    init(_ what: String) {
        var text = what
        let e = ERR_get_error()
        if e != 0 {
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(e, &buf, buf.count)
            text += ": " + buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        }
        ERR_clear_error()
        description = text
    }
}

public final class TLSServerContext: @unchecked Sendable {
    let ctx: OpaquePointer
    public let requestClientCert: Bool

    public init(_ s: TLSServerSettings) throws {
        guard let c = SSL_CTX_new(TLS_server_method()) else { throw TLSSetupError("SSL_CTX_new failed") }
        ctx = c
        requestClientCert = s.requestClientCert
        _ = sm_ssl_ctx_set_min_proto(c, sm_tls1_version())
        // renegotiation is refused (a no_renegotiation alert)
        SSL_CTX_set_options(c, sm_ssl_op_no_renegotiation())
        _ = sm_ssl_ctx_set_mode(c, sm_ssl_mode_release_buffers())
        // key exchange on P-256 only, as Debian's sendmail (TLS_EC) offers it
        _ = sm_ssl_ctx_set1_groups_list(c, "P-256")
        let sid: [UInt8] = Array("sendmail".utf8)
        _ = sm_ssl_ctx_set_session_id_context(c, sid, UInt32(sid.count))
        guard SSL_CTX_use_certificate_chain_file(c, s.certFile) == 1 else {
            throw TLSSetupError("cannot load ServerCertFile \(s.certFile)")
        }
        guard SSL_CTX_use_PrivateKey_file(c, s.keyFile, SSL_FILETYPE_PEM) == 1 else {
            throw TLSSetupError("cannot load ServerKeyFile \(s.keyFile)")
        }
        guard SSL_CTX_check_private_key(c) == 1 else {
            throw TLSSetupError("ServerKeyFile \(s.keyFile) does not match ServerCertFile \(s.certFile)")
        }
        if s.caFile != nil || s.caPath != nil {
            guard SSL_CTX_load_verify_locations(c, s.caFile, s.caPath) == 1 else {
                throw TLSSetupError("cannot load CACertFile/CACertPath")
            }
            // the CA names sent with the certificate request
            if let f = s.caFile, let names = SSL_load_client_CA_file(f) { SSL_CTX_set_client_CA_list(c, names) }
        }
        try TLSContextSetup.loadCRL(c, s.crlFile)
        try TLSContextSetup.setCipherList(c, s.cipherList)
        try TLSContextSetup.applyOptions(c, s.sslOptions, option: "ServerSSLOptions")
        if let dh = s.dhParameters, !dh.isEmpty, dh.lowercased() != "none" {
            if dh.contains("/") {
                guard let bio = BIO_new_file(dh, "r") else { throw TLSSetupError("cannot read DHParameters \(dh)") }
                defer { BIO_free(bio) }
                guard let key = PEM_read_bio_Parameters(bio, nil), SSL_CTX_set0_tmp_dh_pkey(c, key) == 1 else {
                    throw TLSSetupError("no DH parameters in \(dh)")
                }
            } else {
                _ = sm_ssl_ctx_set_dh_auto(c, 1)
            }
        }
        sm_ssl_ctx_verify_peer(c, s.requestClientCert ? 1 : 0)
    }

    deinit { SSL_CTX_free(ctx) }
}

/// What the handshake settled, for sendmail's macros.
public struct TLSPeerInfo: Sendable, Equatable {
    /// {tls_version}, e.g. "TLSv1.3".
    public var version: String
    /// {cipher}, {cipher_bits}, {alg_bits}.
    public var cipher: String
    public var cipherBits: Int
    public var algBits: Int
    /// {verify}: OK, FAIL (a certificate that did not verify), NO (none
    /// given), NOT (none requested).
    public var verify: String
    /// {cert_subject}, {cert_issuer} (X509_NAME_oneline, xtext-encoded),
    /// {cn_subject}, {cn_issuer}; nil without a client certificate.
    public var certSubject: [UInt8]?
    public var certIssuer: [UInt8]?
    public var cnSubject: [UInt8]?
    public var cnIssuer: [UInt8]?

    /// sendmail's xtextify with its taboo characters for these macros:
    /// bytes outside "!".."~", "+", "\\", "(", and "<>\")" as +XX.
    public static func xtext(_ s: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for c in s {
            if c < 0x21 || c > 0x7E || Array("+\\(<>\")".utf8).contains(c) {
                out += [UInt8(ascii: "+"), hex[Int(c >> 4)], hex[Int(c & 15)]]
            } else {
                out.append(c)
            }
        }
        return out
    }

    static func make(_ ssl: OpaquePointer, requested: Bool) -> TLSPeerInfo {
        let version = String(cString: SSL_get_version(ssl))
        var name = "", bits: Int32 = 0, alg: Int32 = 0
        if let c = SSL_get_current_cipher(ssl) {
            name = String(cString: SSL_CIPHER_get_name(c))
            bits = SSL_CIPHER_get_bits(c, &alg)
        }
        var info = TLSPeerInfo(version: version, cipher: name, cipherBits: Int(bits), algBits: Int(alg),
                               verify: requested ? "NO" : "NOT")
        guard let cert = SSL_get1_peer_certificate(ssl) else { return info }
        defer { X509_free(cert) }
        info.verify = SSL_get_verify_result(ssl) == X509_V_OK ? "OK" : "FAIL"
        func oneline(_ n: OpaquePointer?) -> [UInt8] {
            var buf = [CChar](repeating: 0, count: 1024)
            guard let n, X509_NAME_oneline(n, &buf, Int32(buf.count)) != nil else { return [] }
            return xtext(Array(buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }.utf8))
        }
        func cn(_ n: OpaquePointer?) -> [UInt8] {
            var buf = [CChar](repeating: 0, count: 256)
            guard let n, X509_NAME_get_text_by_NID(n, NID_commonName, &buf, Int32(buf.count)) > 0 else { return [] }
            return xtext(Array(buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }.utf8))
        }
        info.certSubject = oneline(X509_get_subject_name(cert))
        info.certIssuer = oneline(X509_get_issuer_name(cert))
        info.cnSubject = cn(X509_get_subject_name(cert))
        info.cnIssuer = cn(X509_get_issuer_name(cert))
        return info
    }
}
