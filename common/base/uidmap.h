/* uidmap.h - which UID a directory name gets, and which ids and names the
 * local files already own.
 *
 * A name's UID is FNV-1a 64 of its ASCII-lower-cased bytes, reduced modulo
 * the size of [uid_min, uid_max] and added to uid_min. When that id is
 * taken (by another name in the user database, a uid or gid in /etc/passwd
 * or /etc/group, admin_gid or user_gid), the next id is tried, wrapping at
 * uid_max. The hash and the probe order are part of the product: changing
 * them changes users' UIDs, so they are frozen.
 *
 * The local files are read directly, never through getpwnam/getgrnam, which
 * would re-enter NSS. libc only. Thread-safe: a loaded struct uidmap_local
 * is read-only and may be shared.
 */
#ifndef EL_UIDMAP_H
#define EL_UIDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"

#define UIDMAP_PASSWD "/etc/passwd"
#define UIDMAP_GROUP "/etc/group"
#define UIDMAP_LOCAL_FILE_MAX (32u * 1024 * 1024)	/* bytes of each file read */

/* FNV-1a 64 of the name, upper-case ASCII folded to lower case. */
uint64_t uidmap_hash(const char *name);

struct uidmap_local;

/* Read the names and ids of a passwd file and a group file (either path may
 * name a missing file, which counts as empty). On success *ret_local is
 * set; free it with uidmap_local_free(). Returns 0, EL_ERR_IO (unreadable),
 * EL_ERR_RANGE (larger than UIDMAP_LOCAL_FILE_MAX), EL_ERR_NOMEM. */
int uidmap_local_load(const char *passwd_path, const char *group_path,
		      struct uidmap_local **ret_local) EL_MUST_CHECK;
void uidmap_local_free(struct uidmap_local *local);

/* True if a user or group of that exact name exists in the files. */
bool uidmap_local_has_name(const struct uidmap_local *local, const char *name);
/* True if id is a uid or gid in either file. */
bool uidmap_local_has_id(const struct uidmap_local *local, uint32_t id);
/* Number of distinct ids in the files. */
size_t uidmap_local_count(const struct uidmap_local *local);

/* Callback telling uidmap_pick whether the database gives id to a name
 * other than the one being mapped: 1 taken, 0 free, or a negative EL_ERR_*
 * that uidmap_pick returns as is. */
typedef int (*uidmap_taken_fn)(void *userdata, uint32_t id);

/* The UID for name (which the caller has checked with name_is_ours).
 * local may be NULL (no local files). At most db_count ids can be taken by
 * the database, which bounds the probe. Never 0, never outside
 * [uid_min, uid_max], never admin_gid or user_gid, never a local id.
 * Returns 0, EL_ERR_NOT_OURS (name exists in the local files),
 * EL_ERR_FULL (every id in the range is taken), or the callback's error. */
int uidmap_pick(const struct el_config *cfg, const struct uidmap_local *local, const char *name,
		uidmap_taken_fn taken, void *userdata, size_t db_count, uint32_t *ret_uid) EL_MUST_CHECK;

#endif
