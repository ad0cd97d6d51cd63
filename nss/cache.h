/* cache.h - the NSS module's process-wide view of configuration, user
 * database and local files (internal to libnss_entra.so.2).
 *
 * A snapshot is immutable once published. Readers enter with
 * nss_snap_enter() (two atomic operations, no lock) and must call
 * nss_snap_leave() with the returned ticket before returning to glibc;
 * they never block. Reloading (a mutex, only on that path) happens when
 * the database says a writer replaced it (one memory read per call: the
 * superseded word of the mapped file, see userdb.h), at most once per
 * second after stat() shows a file changed, and on the next call after a
 * load failed for a passing reason (EMFILE, ENOMEM). Retired snapshots are freed once no reader of
 * their epoch is left. Fork-safe; thread cancellation is held off during
 * a reload.
 */
#ifndef EL_NSS_CACHE_H
#define EL_NSS_CACHE_H

#include "conf.h"
#include "uidmap.h"
#include "userdb.h"

struct nss_snap {
	const struct el_config *cfg;	/* NULL: no usable configuration */
	const struct udb *db;		/* NULL: see db_err */
	int db_err;			/* 0, EL_ERR_NOT_FOUND (no database yet), or why unusable */
	const struct uidmap_local *local;	/* NULL: local files unreadable */
	bool role_hidden[2];	/* [enum udb_group]: a local user or group owns its name or gid */
};

/* Never returns NULL; fields may be NULL as documented above. */
const struct nss_snap *nss_snap_enter(unsigned long *ret_ticket);
void nss_snap_leave(unsigned long ticket);

#endif
