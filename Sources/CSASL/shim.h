/* The system Cyrus SASL library (libsasl2, Debian's libsasl2-dev), as
 * Debian's sendmail-bin links it: the server side of SMTP AUTH
 * (sasl_server_init, sasl_server_new, sasl_listmech, sasl_server_start,
 * sasl_server_step, sasl_getprop) and its base64 codec, with the proxy
 * policy and configuration-file check callbacks sendmail installs.  Small inline
 * helpers give Swift typed access to the void-pointer properties. */
#ifndef SM_CSASL_SHIM_H
#define SM_CSASL_SHIM_H
#include <sasl/sasl.h>
#include <sasl/saslutil.h>
#include <sys/stat.h>
#include <string.h>

static inline const char *sm_sasl_getprop_string(sasl_conn_t *conn, int prop) {
    const void *v = 0;
    if (sasl_getprop(conn, prop, &v) != SASL_OK) return 0;
    return (const char *)v;
}
static inline int sm_sasl_getprop_ssf(sasl_conn_t *conn, unsigned *out) {
    const void *v = 0;
    int r = sasl_getprop(conn, SASL_SSF, &v);
    if (r == SASL_OK && v) *out = *(const sasl_ssf_t *)v;
    return r;
}
static inline int sm_sasl_set_secprops(sasl_conn_t *conn, unsigned max_ssf, unsigned flags, unsigned maxbuf) {
    sasl_security_properties_t p;
    p.min_ssf = 0;
    p.max_ssf = max_ssf;
    p.maxbufsize = maxbuf;
    p.security_flags = flags;
    p.property_names = 0;
    p.property_values = 0;
    return sasl_setprop(conn, SASL_SEC_PROPS, &p);
}
static inline int sm_sasl_set_ssf_external(sasl_conn_t *conn, unsigned ssf) {
    sasl_ssf_t s = ssf;
    return sasl_setprop(conn, SASL_SSF_EXTERNAL, &s);
}
/* The identity an external layer (TLS with a verified client
 * certificate) established: makes the EXTERNAL mechanism available. */
static inline int sm_sasl_set_auth_external(sasl_conn_t *conn, const char *id) {
    return sasl_setprop(conn, SASL_AUTH_EXTERNAL, id);
}
/* The proxy policy sendmail gives the library: any authenticated client
 * may name another authorization identity; the trust_auth ruleset
 * decides later what that is worth. */
static int sm_sasl_proxy_policy(sasl_conn_t *conn, void *context, const char *requested_user,
                                unsigned rlen, const char *auth_identity, unsigned alen,
                                const char *def_realm, unsigned urlen, struct propctx *propctx) {
    (void)context; (void)requested_user; (void)rlen; (void)alen; (void)def_realm; (void)urlen; (void)propctx;
    if (conn == 0 || auth_identity == 0) return SASL_FAIL;
    return SASL_OK;
}
/* The file check sendmail gives the library: a configuration file is used
 * only when it exists, is not world-writable, and no directory above it
 * (as named, symbolic links followed) is group- or world-writable;
 * otherwise the library goes on to the next place on its path (and, at the
 * end, runs without a configuration).  Plugins and password files are
 * left to the library. */
static int sm_sasl_verifyfile(void *context, const char *file, sasl_verify_type_t type) {
    (void)context;
    if (type != SASL_VRFY_CONF) return SASL_OK;
    if (file == 0 || file[0] != '/') return SASL_CONTINUE;
    struct stat st;
    if (stat(file, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & S_IWOTH)) return SASL_CONTINUE;
    char dir[4096];
    size_t n = strlen(file);
    if (n >= sizeof dir) return SASL_CONTINUE;
    memcpy(dir, file, n + 1);
    for (;;) {
        char *slash = strrchr(dir, '/');
        if (slash == 0) break;
        if (slash == dir) { dir[1] = 0; } else { *slash = 0; }
        if (stat(dir, &st) != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) return SASL_CONTINUE;
        if (slash == dir) break;
    }
    return SASL_OK;
}
static inline int sm_sasl_server_init(const char *app) {
    static sasl_callback_t callbacks[] = {
        { SASL_CB_PROXY_POLICY, (int (*)(void))&sm_sasl_proxy_policy, 0 },
        { SASL_CB_VERIFYFILE, (int (*)(void))&sm_sasl_verifyfile, 0 },
        { SASL_CB_LIST_END, 0, 0 },
    };
    return sasl_server_init(callbacks, app);
}
#endif
