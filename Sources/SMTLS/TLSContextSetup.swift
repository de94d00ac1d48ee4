// SMTLS/TLSContextSetup.swift
//
// What the client's and the server's SSL_CTX take alike from sendmail's
// options: the CRLFile (checked for the whole chain), the CipherList, and
// the ClientSSLOptions/ServerSSLOptions words ("+SSL_OP_NO_TLSv1",
// "-SSL_OP_ALL", numbers in decimal or 0x hex), applied in order.
// Promises: each call either applies all it was given or throws a
// TLSSetupError naming the option; the context stays the caller's (its
// owner frees it).

import COpenSSL

enum TLSContextSetup {
    /// CRLFile: loaded into the context's store, CRL checks turned on.
    static func loadCRL(_ c: OpaquePointer, _ crl: String?) throws {
        guard let crl, !crl.isEmpty else { return }
        guard let store = SSL_CTX_get_cert_store(c), X509_STORE_load_file(store, crl) == 1 else {
            throw TLSSetupError("cannot load CRLFile \(crl)")
        }
        X509_STORE_set_flags(store, UInt(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL))
    }

    /// CipherList: refused when it selects no cipher.
    static func setCipherList(_ c: OpaquePointer, _ list: String?) throws {
        guard let list, !list.isEmpty else { return }
        if SSL_CTX_set_cipher_list(c, list) != 1 { throw TLSSetupError("CipherList \(list) selects no cipher") }
    }

    /// The SSL options words, set (+ or none) or cleared (-) in order;
    /// `option` names the option in the error.
    static func applyOptions(_ c: OpaquePointer, _ opts: String?, option: String) throws {
        guard let opts else { return }
        for word in opts.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }) {
            var w = Substring(word)
            var clear = false
            if w.first == "+" { w = w.dropFirst() } else if w.first == "-" { clear = true; w = w.dropFirst() }
            let value: UInt64
            if w.hasPrefix("0x") || w.hasPrefix("0X"), let n = UInt64(w.dropFirst(2), radix: 16) { value = n }
            else if let n = UInt64(w) { value = n }
            else { value = sm_ssl_op_named(String(w)) }
            guard value != 0 else { throw TLSSetupError("\(option): unknown option \(word)") }
            if clear { SSL_CTX_clear_options(c, value) } else { SSL_CTX_set_options(c, value) }
        }
    }
}
