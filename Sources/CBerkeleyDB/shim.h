/* Berkeley DB (Debian libdb-dev, 5.3) for the hash and btree map classes,
 * makemap and praliases.  The inline helpers wrap the method pointers of
 * DB and DBC so that Swift calls plain functions; each returns libdb's
 * error code (0, DB_NOTFOUND, DB_KEYEXIST or an errno value). */
#ifndef SM_CBERKELEYDB_SHIM_H
#define SM_CBERKELEYDB_SHIM_H
#include <string.h>
#include <db.h>

/* Opens `path` as `type` (DB_HASH, DB_BTREE or DB_UNKNOWN).  `flags` are
 * DB_RDONLY / DB_CREATE / DB_TRUNCATE; `cachesize` 0 keeps the default;
 * `nelem` > 0 sets the hash table size hint; `dup` allows duplicates. */
static inline void sm_db_silent(const DB_ENV *env, const char *pfx, const char *msg) {
    (void) env; (void) pfx; (void) msg;
}

static inline int sm_db_open(DB **out, const char *path, DBTYPE type,
                             u_int32_t flags, int mode, u_int32_t cachesize,
                             u_int32_t nelem, int dup) {
    DB *db = NULL;
    int ret = db_create(&db, NULL, 0);
    *out = NULL;
    if (ret != 0) return ret;
    db->set_errcall(db, sm_db_silent);
    if (cachesize > 0 && (ret = db->set_cachesize(db, 0, cachesize, 0)) != 0) {
        db->close(db, 0); return ret;
    }
    if (type == DB_HASH && nelem > 0 && (ret = db->set_h_nelem(db, nelem)) != 0) {
        db->close(db, 0); return ret;
    }
    if (dup && (ret = db->set_flags(db, DB_DUP)) != 0) {
        db->close(db, 0); return ret;
    }
    ret = db->open(db, NULL, path, NULL, type, flags, mode);
    if (ret != 0) { db->close(db, 0); return ret; }
    *out = db;
    return 0;
}

static inline int sm_db_close(DB *db) { return db->close(db, 0); }
static inline int sm_db_sync(DB *db) { return db->sync(db, 0); }
static inline int sm_db_fd(DB *db, int *fd) { return db->fd(db, fd); }
static inline int sm_db_type(DB *db, DBTYPE *t) { return db->get_type(db, t); }

static inline int sm_db_get(DB *db, const void *k, u_int32_t klen,
                            void **v, u_int32_t *vlen) {
    DBT key, val;
    int ret;
    memset(&key, 0, sizeof key); memset(&val, 0, sizeof val);
    key.data = (void *) k; key.size = klen;
    ret = db->get(db, NULL, &key, &val, 0);
    if (ret == 0) { *v = val.data; *vlen = val.size; }
    return ret;
}

static inline int sm_db_put(DB *db, const void *k, u_int32_t klen,
                            const void *v, u_int32_t vlen, u_int32_t flags) {
    DBT key, val;
    memset(&key, 0, sizeof key); memset(&val, 0, sizeof val);
    key.data = (void *) k; key.size = klen;
    val.data = (void *) v; val.size = vlen;
    return db->put(db, NULL, &key, &val, flags);
}

static inline int sm_db_cursor(DB *db, DBC **c) { return db->cursor(db, NULL, c, 0); }
static inline int sm_dbc_next(DBC *c, void **k, u_int32_t *klen,
                              void **v, u_int32_t *vlen) {
    DBT key, val;
    int ret;
    memset(&key, 0, sizeof key); memset(&val, 0, sizeof val);
    ret = c->get(c, &key, &val, DB_NEXT);
    if (ret == 0) { *k = key.data; *klen = key.size; *v = val.data; *vlen = val.size; }
    return ret;
}
static inline int sm_dbc_close(DBC *c) { return c->close(c); }
#endif
