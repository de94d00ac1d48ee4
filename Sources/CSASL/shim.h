/* The system Cyrus SASL library (libsasl2, Debian's libsasl2-dev), as
 * Debian's sendmail-bin links it: the server side of SMTP AUTH
 * (sasl_server_init, sasl_server_new, sasl_listmech, sasl_server_start,
 * sasl_server_step, sasl_getprop) and its base64 codec, with the proxy
 * policy callback sendmail installs.  Small inline
 * helpers give Swift typed access to the void-pointer properties. */
#ifndef SM_CSASL_SHIM_H
#define SM_CSASL_SHIM_H
#include <sasl/sasl.h>
#include <sasl/saslutil.h>

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
static inline int sm_sasl_server_init(const char *app) {
    static sasl_callback_t callbacks[] = {
        { SASL_CB_PROXY_POLICY, (int (*)(void))&sm_sasl_proxy_policy, 0 },
        { SASL_CB_LIST_END, 0, 0 },
    };
    return sasl_server_init(callbacks, app);
}
#endif
