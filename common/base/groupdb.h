/* groupdb.h - the mapped-groups database (<state_dir>/groups.db, layout in
 * groupdb_format.h): Entra groups as Linux groups, members as users.db uids.
 *
 * Readers (NSS, CLI) map the file read-only and never lock; a reader that
 * mapped it keeps a consistent (possibly older) view. Writers (PAM helper,
 * CLI refresh) run one transaction at a time under an flock on
 * <state_dir>/groups.lock and replace the file whole (temp, fsync, rename).
 * libc only. A struct gdb is read-only once opened: thread-safe.
 *
 * Names: gdb_sanitize_name() turns a directory attribute into a Linux group
 * name; the writer refuses a group whose name is empty after that, is a
 * local group (/etc/group), one of the two role groups, or shared by two
 * mapped groups (both refused: neither may take over the other's name).
 * GIDs: gdb_gid_hash() of the object id in gid_min..gid_max, probing +1
 * (wrapping) past ids taken by another mapped group, a local id or a role
 * group; a group keeps the gid it already had in the file.
 */
#ifndef EL_GROUPDB_H
#define EL_GROUPDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "el_limits.h"
#include "err.h"
#include "groupdb_format.h"

struct gdb;

/* One mapped group, borrowed from the mapping (valid until gdb_close). */
struct gdb_group {
	uint32_t gid;
	const char *name;		/* sanitized, NUL-terminated */
	char oid[EL_GUID_LEN + 1];	/* lower-case GUID text */
	uint32_t n_members;
	const uint32_t *members;	/* uids (checksummed with the record) */
};

/* Open path / cfg's groups.db. The file must be a regular file owned by
 * root, not group/world-writable, at most GDB_SIZE_MAX, with a valid header.
 * Returns 0, EL_ERR_NOT_FOUND (no file yet), EL_ERR_INSECURE, EL_ERR_CORRUPT,
 * EL_ERR_IO, EL_ERR_NOMEM. Free with gdb_close (NULL-safe). */
int gdb_open_path(const char *path, struct gdb **ret_db) EL_MUST_CHECK;
int gdb_open(const struct el_config *cfg, struct gdb **ret_db) EL_MUST_CHECK;
void gdb_close(struct gdb *db);

/* "<state_dir>/groups.db" into buf. Returns 0 or EL_ERR_RANGE. */
int gdb_path(const struct el_config *cfg, char *buf, size_t len) EL_MUST_CHECK;

uint32_t gdb_count(const struct gdb *db);
uint64_t gdb_generation(const struct gdb *db);
/* Group i in gid order. Returns 0, EL_ERR_NOT_FOUND (i out of range), EL_ERR_CORRUPT. */
int gdb_get(const struct gdb *db, uint32_t i, struct gdb_group *ret) EL_MUST_CHECK;
/* Returns 0, EL_ERR_NOT_FOUND, EL_ERR_CORRUPT. */
int gdb_lookup_name(const struct gdb *db, const char *name, struct gdb_group *ret) EL_MUST_CHECK;
int gdb_lookup_gid(const struct gdb *db, uint32_t gid, struct gdb_group *ret) EL_MUST_CHECK;
/* The gids of the groups uid is a member of (borrowed, checksummed).
 * Returns 0 (*ret_n may be 0 when uid is in none), EL_ERR_CORRUPT. */
int gdb_user_gids(const struct gdb *db, uint32_t uid, const uint32_t **ret_gids, uint32_t *ret_n) EL_MUST_CHECK;

/* Linux group name of a directory attribute: ASCII letters lower-cased,
 * [a-z0-9_.-] kept, every other byte (space, '@', UTF-8) becomes '-' (runs
 * collapse to one), leading '-' '.' '_' dropped, at most GDB_NAME_MAX
 * bytes (trailing '-' '.' '_' dropped after the cut). Refused (EL_ERR_INVAL)
 * when nothing is left or only digits are (a numeric name reads as a gid).
 * Returns 0 and buf (at least GDB_NAME_MAX + 1 bytes), or EL_ERR_INVAL. */
int gdb_sanitize_name(const char *raw, char *buf, size_t len) EL_MUST_CHECK;

/* The first gid tried for a group object id (lower-case GUID text). */
uint32_t gdb_gid_hash(const struct el_config *cfg, const char *oid);

/* The mapped bytes (the writer compares before it rewrites). NULL db: NULL, 0. */
void gdb_raw(const struct gdb *db, const void **ret_base, size_t *ret_size);

/* ---- writing ---- */

/* One group as the directory names it (lower-case GUID, sanitized name). */
struct gdb_in_group {
	const char *oid;
	const char *name;
};

/* The whole membership of one user (uid) as just read from the directory. */
struct gdb_change {
	uint32_t uid;
	const struct gdb_in_group *groups;
	size_t n_groups;
};

/* Called for each group refused (name collision, local name, no gid left):
 * the caller logs it. */
typedef void (*gdb_refused_fn)(void *userdata, const char *oid, const char *name, const char *why);
/* keep(userdata, uid): false drops uid from every group (no longer a user). */
typedef bool (*gdb_keep_fn)(void *userdata, uint32_t uid);

/* Lock, read the current file, replace the memberships of each changed uid
 * (a uid not in changes keeps what it had; keep may drop it), drop groups
 * with no members left, assign gids, write, unlock. No-op write skipped.
 * A damaged or unsafe old file is rebuilt from changes alone.
 * Returns 0, EL_ERR_LOCK, EL_ERR_IO, EL_ERR_RANGE, EL_ERR_FULL, EL_ERR_NOMEM. */
int gdb_apply(const struct el_config *cfg, const struct gdb_change *changes, size_t n, gdb_keep_fn keep,
	      void *keep_data, gdb_refused_fn refused, void *refused_data) EL_MUST_CHECK;

#endif
