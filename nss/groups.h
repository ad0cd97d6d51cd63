/* groups.h - mapped Entra groups in libnss_entra.so.2 (issue 21), from
 * groups.db (groupdb.h). Internal to the NSS module.
 *
 * The mapping of groups.db is process-wide and shared: a lookup takes a
 * reference under a short mutex (held around a pointer and a counter, never
 * across I/O), checks at most once a second whether the file was replaced
 * (stat: inode, size, times) and maps the new one; the old mapping is
 * unmapped when its last reader leaves. Fork-safe (pthread_atfork). Nothing
 * is copied per lookup: records, names and member lists are read in place.
 * Only with groups = mapped; names and gids that became local (/etc/group,
 * /etc/passwd) after the file was written are hidden at lookup time.
 */
#ifndef EL_NSS_GROUPS_H
#define EL_NSS_GROUPS_H

#include <grp.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"

/* The name of a member uid: 0 and *ret_name, 1 (skip), or an error. */
typedef int (*nssgr_member_fn)(const struct nss_snap *s, uint32_t uid, const char **ret_name);
/* Append gid to a getgrouplist array (nss_entra.c's add_gid). */
typedef int (*nssgr_add_fn)(gid_t gid, gid_t skip, long *start, long *size, gid_t **groupsp, long limit);

/* Each returns 0, EL_ERR_NOT_FOUND, EL_ERR_RANGE (buffer), EL_ERR_CORRUPT
 * or EL_ERR_INSECURE (groups.db damaged or unsafe: UNAVAIL), EL_ERR_NOMEM. */
int nssgr_by_name(const struct nss_snap *s, const char *name, nssgr_member_fn member, struct group *gr, char *buf,
		  size_t len);
int nssgr_by_gid(const struct nss_snap *s, uint32_t gid, nssgr_member_fn member, struct group *gr, char *buf,
		 size_t len);
/* Mapped group number *cursor or a later one (enumeration); *cursor is
 * left on the group returned. EL_ERR_NOT_FOUND past the last. */
int nssgr_next(const struct nss_snap *s, unsigned *cursor, nssgr_member_fn member, struct group *gr, char *buf,
	       size_t len);
/* Add the gids of uid's mapped groups. */
int nssgr_initgroups(const struct nss_snap *s, uint32_t uid, gid_t skip, long *start, long *size, gid_t **groupsp,
		     long limit, nssgr_add_fn add);

#endif
