/* Berkeley DB (Debian libdb-dev, 5.3) for the hash and btree map classes. */
#ifndef SM_CBERKELEYDB_SHIM_H
#define SM_CBERKELEYDB_SHIM_H
#include <db.h>
#endif
