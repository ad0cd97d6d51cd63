/* authz.h - internal to pamhelper/authorize.c and pamhelper/account.c: the
 * role decision of pam_entra.so, shared by auth (enforced there too, so a
 * weak account line cannot let a role-less user in) and account.
 *
 * The decision auth made goes back to the module (RESULT), which keeps it
 * in PAM data so that account, in the same PAM transaction, does not ask again.
 */
#ifndef EL_PAM_AUTHZ_H
#define EL_PAM_AUTHZ_H

#include "el_limits.h"
#include "hctx.h"
#include "roles.h"
#include "userdb.h"

/* Role lookups (IMDS, ARM, their retries) get this many http_timeouts in all. */
#define AUTHZ_TIMEOUTS 3

/* roles_resolve for ctx's configuration with the PAM deadline, logging
 * sources that could not answer and the decision. Returns as roles_resolve;
 * *ret_role is set on 0. */
int authz_resolve(const struct hctx *ctx, const struct role_input *in, enum el_role *ret_role);
/* The same, also giving the source that decided (*ret_src, on 0). */
int authz_resolve_src(const struct hctx *ctx, const struct role_input *in, enum el_role *ret_role,
		      enum el_role_source *ret_src);

/* Record an accepted login (bind on first login, role, last login) and
 * refuse (EL_ERR_UID_CHANGED) when the uid recorded is not the one NSS
 * announced to the host (ctx->announced_uid, 0 = none). Returns EL_ERR_*. */
int authz_record_login(const struct hctx *ctx, const char *name, const char *oid, const char *tid,
		       const char *display, enum udb_role role);
/* The same, storing which source decided role (roles.h: the token-free
 * claims source answers only for roles claims decided). */
int authz_record_login_src(const struct hctx *ctx, const char *name, const char *oid, const char *tid,
			   const char *display, enum udb_role role, enum udb_source source);

/* groups = mapped: map name's Entra groups now (groups_sync.c); logs, never fails. */
void authz_sync_groups(const struct hctx *ctx, const char *name, const char *oid);

/* uid_attribute set and name not in the database yet: read the directory's
 * UID, shell and home and pin them with udb_import (posix.c). Returns 0
 * (nothing to pin, or pinned and announced_uid agrees), EL_ERR_UID_PINNED
 * (pinned; sshd was announced another uid: refuse, connect again),
 * EL_ERR_ROLE_UNAVAILABLE (Graph), EL_ERR_POSIX_ATTR (a value refused,
 * logged), a database error. */
int authz_posix_provision(const struct hctx *ctx, const char *name, const char *oid, const char *tid,
			  const char *display);

/* The user-facing sentence for a refused role decision (one sentence, what to do next). */
const char *authz_message(int r);

#endif
