/* The system resolver (glibc libresolv): res_ninit, res_nquery,
 * res_nsearch, res_nquerydomain, dn_expand, for the host, dns and bestmx
 * map classes.  Small inline helpers hide the parts of struct __res_state
 * that Swift cannot reach directly (h_errno, the search list). */
#ifndef SM_CRESOLV_SHIM_H
#define SM_CRESOLV_SHIM_H
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <netdb.h>

static inline int sm_res_herrno(res_state st) { return st->res_h_errno; }
static inline unsigned long sm_res_options(res_state st) { return st->options; }
static inline void sm_res_set_options(res_state st, unsigned long o) { st->options = o; }
static inline const char *sm_res_dnsrch(res_state st, int i) {
    if (i < 0 || i >= MAXDNSRCH) return 0;
    return st->dnsrch[i];
}
static inline const char *sm_res_defdname(res_state st) { return st->defdname; }
static inline int sm_res_ninit(res_state st) { return res_ninit(st); }
static inline void sm_res_nclose(res_state st) { res_nclose(st); }
static inline int sm_res_nsearch(res_state st, const char *d, int c, int t,
                                 unsigned char *a, int l) { return res_nsearch(st, d, c, t, a, l); }
static inline int sm_res_nquerydomain(res_state st, const char *n, const char *d, int c, int t,
                                      unsigned char *a, int l) { return res_nquerydomain(st, n, d, c, t, a, l); }
static inline int sm_dn_expand(const unsigned char *msg, const unsigned char *eom,
                               const unsigned char *src, char *dst, int dstsiz) {
    return dn_expand(msg, eom, src, dst, dstsiz);
}
static inline int sm_dn_skipname(const unsigned char *p, const unsigned char *eom) { return dn_skipname(p, eom); }
#endif
