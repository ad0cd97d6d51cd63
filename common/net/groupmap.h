/* groupmap.h - Entra groups on this host (issue 21): the "groups" role
 * source (allow_groups / admin_groups) and the mapping of a user's groups
 * into groups.db (groupdb.h) at login and at refresh.
 *
 * Role source "groups": admin if the user is in a group of admin_groups,
 * else user if in one of allow_groups, else an authoritative "no role"
 * (like arm: removing the user from the group revokes the login even if a
 * later source would grant one). The groups are the token's "groups" claim
 * when it is there and not an overage marker; otherwise (overage, no claim,
 * no token: refresh, sudo, certificate logins) Graph is asked by oid.
 * Graph down, throttled, or no oid known: unavailable, never "no role".
 *
 * Mapping (groups = mapped): the user's groups from Graph (names need it),
 * those passing group_filter, named by group_name_attribute through
 * gdb_sanitize_name. A user whose groups cannot be read keeps the
 * memberships stored: nothing is removed while Graph is unavailable.
 *
 * Thread-safe as graph.h. No logging: refusals and failures go to the
 * caller's callbacks and return codes.
 */
#ifndef EL_GROUPMAP_H
#define EL_GROUPMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "groupdb.h"
#include "roles.h"

/* True if the group (lower-case oid, sanitized name) passes group_filter. */
bool groupmap_filter_pass(const struct el_config *cfg, const char *oid, const char *name);

/* The "groups" role source. *ret_role is ADMIN, USER or NONE on 0.
 * Returns 0, EL_ERR_ROLE_UNAVAILABLE (no claims and no oid), EL_ERR_HTTP_*,
 * EL_ERR_JSON, EL_ERR_NOMEM. */
int groupmap_role(const struct el_config *cfg, const struct role_input *in, uint64_t deadline_ms,
		  enum el_role *ret_role) EL_MUST_CHECK;

/* Map the groups of one user (uid from users.db, oid its binding) now.
 * No-op (0) unless groups = mapped. Returns 0, the Graph error (nothing
 * changed), or a groups.db write error. */
int groupmap_user(const struct el_config *cfg, uint32_t uid, const char *oid, uint64_t deadline_ms,
		  gdb_refused_fn refused, void *refused_data) EL_MUST_CHECK;

struct groupmap_stats {
	unsigned users, mapped, unavailable;
	int last_err;		/* why the last unavailable user could not be read */
};

/* Re-read the groups of every bound user with a role (one Graph walk
 * each, per_user_s seconds at most) and rewrite groups.db once: users
 * that could not be read keep their memberships, users no longer bound
 * (or with no role) leave every group. No-op unless groups = mapped.
 * Returns 0 (see stats) or a users.db / groups.db error. */
int groupmap_refresh(const struct el_config *cfg, unsigned per_user_s, gdb_refused_fn refused, void *refused_data,
		     struct groupmap_stats *ret_stats) EL_MUST_CHECK;

#endif
