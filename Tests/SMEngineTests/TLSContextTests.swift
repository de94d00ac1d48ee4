// TLSContextTests.swift — SMTLS's contexts refuse options they cannot
// load with an error that names the option, and building one that fails
// neither crashes nor frees anything twice (the context's owner frees it).

import Testing
import SMTLS

@Suite("TLS contexts: options that cannot be loaded")
struct TLSContextTests {
    func error(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return "\(error)" }
    }

    @Test func clientOptionsThatCannotLoad() {
        var s = TLSClientSettings()
        s.certFile = "/nonexistent/client.crt"
        s.keyFile = "/nonexistent/client.key"
        #expect(error { _ = try TLSClientContext(s) }?.hasPrefix("cannot load ClientCertFile /nonexistent/client.crt") == true)
        s = TLSClientSettings()
        s.cipherList = "NO-SUCH-CIPHER"
        #expect(error { _ = try TLSClientContext(s) }?.hasPrefix("CipherList NO-SUCH-CIPHER selects no cipher") == true)
        s = TLSClientSettings()
        s.sslOptions = "+SSL_OP_NO_SUCH_THING"
        #expect(error { _ = try TLSClientContext(s) } == "ClientSSLOptions: unknown option +SSL_OP_NO_SUCH_THING")
        s = TLSClientSettings()
        s.crlFile = "/nonexistent/crl.pem"
        #expect(error { _ = try TLSClientContext(s) }?.hasPrefix("cannot load CRLFile /nonexistent/crl.pem") == true)
        // (and one that loads)
        s = TLSClientSettings()
        s.sslOptions = "+SSL_OP_NO_TLSv1 -SSL_OP_ALL 0x4"
        #expect(error { _ = try TLSClientContext(s) } == nil)
    }

    @Test func serverOptionsThatCannotLoad() {
        let s = TLSServerSettings(certFile: "/nonexistent/server.crt", keyFile: "/nonexistent/server.key")
        #expect(error { _ = try TLSServerContext(s) }?.hasPrefix("cannot load ServerCertFile /nonexistent/server.crt") == true)
    }
}
