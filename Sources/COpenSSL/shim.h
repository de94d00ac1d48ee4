// COpenSSL: the system OpenSSL (libssl-dev, pkg-config openssl) for SMTLS.
// OpenSSL's function-like macros do not reach Swift; the wrappers below
// stand in for the few SMTLS needs.
#ifndef SM_COPENSSL_SHIM_H
#define SM_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/dh.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>

static inline long sm_ssl_ctx_set_mode(SSL_CTX *c, long m) { return SSL_CTX_set_mode(c, m); }
static inline long sm_ssl_ctx_set_min_proto(SSL_CTX *c, int v) { return SSL_CTX_set_min_proto_version(c, v); }
static inline long sm_ssl_ctx_set1_groups_list(SSL_CTX *c, const char *l) { return SSL_CTX_set1_groups_list(c, l); }
static inline long sm_ssl_ctx_set_tmp_dh(SSL_CTX *c, DH *dh) { return SSL_CTX_set_tmp_dh(c, dh); }
static inline long sm_ssl_ctx_set_dh_auto(SSL_CTX *c, int on) { return SSL_CTX_set_dh_auto(c, on); }
static inline int sm_ssl_ctx_set_session_id_context(SSL_CTX *c, const unsigned char *s, unsigned int n) {
    return SSL_CTX_set_session_id_context(c, s, n);
}
static inline const int sm_tls1_3_version(void) { return TLS1_3_VERSION; }
static inline const int sm_tls1_version(void) { return TLS1_VERSION; }
// 0: no renegotiation requested; the handshake-done callback counts handshakes.
static inline uint64_t sm_ssl_op_no_renegotiation(void) { return SSL_OP_NO_RENEGOTIATION; }
static inline uint64_t sm_ssl_op_cipher_server_preference(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
static inline long sm_ssl_mode_release_buffers(void) { return SSL_MODE_RELEASE_BUFFERS; }
static inline long sm_ssl_mode_partial_write(void) { return SSL_MODE_ENABLE_PARTIAL_WRITE; }
#include <string.h>
// ServerSSLOptions' names (sendmail accepts OpenSSL's SSL_OP_* names); 0: unknown.
static inline uint64_t sm_ssl_op_named(const char *n) {
    static const struct { const char *name; uint64_t op; } ops[] = {
        {"SSL_OP_ALL", SSL_OP_ALL},
        {"SSL_OP_NO_SSLv2", SSL_OP_NO_SSLv2},
        {"SSL_OP_NO_SSLv3", SSL_OP_NO_SSLv3},
        {"SSL_OP_NO_TLSv1", SSL_OP_NO_TLSv1},
        {"SSL_OP_NO_TLSv1_1", SSL_OP_NO_TLSv1_1},
        {"SSL_OP_NO_TLSv1_2", SSL_OP_NO_TLSv1_2},
        {"SSL_OP_NO_TLSv1_3", SSL_OP_NO_TLSv1_3},
        {"SSL_OP_NO_COMPRESSION", SSL_OP_NO_COMPRESSION},
        {"SSL_OP_NO_TICKET", SSL_OP_NO_TICKET},
        {"SSL_OP_NO_RENEGOTIATION", SSL_OP_NO_RENEGOTIATION},
        {"SSL_OP_CIPHER_SERVER_PREFERENCE", SSL_OP_CIPHER_SERVER_PREFERENCE},
        {"SSL_OP_PRIORITIZE_CHACHA", SSL_OP_PRIORITIZE_CHACHA},
        {"SSL_OP_NO_QUERY_MTU", SSL_OP_NO_QUERY_MTU},
        {"SSL_OP_SINGLE_DH_USE", SSL_OP_SINGLE_DH_USE},
        {"SSL_OP_SINGLE_ECDH_USE", SSL_OP_SINGLE_ECDH_USE},
        {"SSL_OP_TLS_ROLLBACK_BUG", SSL_OP_TLS_ROLLBACK_BUG},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(ops[i].name, n) == 0) return ops[i].op;
    return 0;
}
static inline int sm_ssl_verify_accept(int ok, X509_STORE_CTX *store) { (void)ok; (void)store; return 1; }
static inline void sm_ssl_ctx_verify_peer(SSL_CTX *c, int request) {
    // the result is read after the handshake ({verify}); a bad client
    // certificate never fails the handshake itself, as with sendmail
    SSL_CTX_set_verify(c, request ? (SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE) : SSL_VERIFY_NONE,
                       request ? sm_ssl_verify_accept : NULL);
}
// the client's view of the server certificate: checked, never fatal
static inline void sm_ssl_ctx_verify_server(SSL_CTX *c) {
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, sm_ssl_verify_accept);
}
#endif
