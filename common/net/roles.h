/* roles.h - who may log in, who is an administrator: the role decision.
 *
 * The configured role_sources are asked in order; the first source that
 * answers decides; within a source admin wins over user. What "answers"
 * means depends on what a source can know:
 *
 *   claims  answers when the token's "roles" claim holds one of
 *           admin_role_values / user_role_values (exact, case-sensitive), or
 *           its "groups" claim holds a group object id listed in
 *           static_admins / static_users. A token without such a value says
 *           nothing (next source). A groups overage (_claim_names.groups)
 *           means no groups, never all groups. Without a token claims is
 *           unavailable, except on the token-free paths (from_store: PAM
 *           account, `entra-login refresh`), where it answers only with a
 *           role it decided itself at the last sign-in (the database stores
 *           which source decided each role) and else says nothing.
 *   static  answers when the user name, or (with a token, no overage) one of
 *           its groups, is listed in static_admins / static_users. An
 *           allow-list: an unlisted user gets "nothing to say".
 *   arm     Azure RBAC on this VM through its managed identity: the two
 *           built-in VM login roles, matched on the last segment of
 *           roleDefinitionId. ARM is authoritative: "no assignment" decides
 *           (no role) and stops the search, so revoking the role in Azure
 *           revokes the login even if a later source would grant one.
 *           Unavailable when IMDS or ARM cannot be asked (down, timeout,
 *           403 EL_ERR_ARM_FORBIDDEN, 429 after retries, no oid known).
 *
 *   groups  admin_groups / allow_groups (group object ids): the token's
 *           "groups" claim, or Graph transitiveMemberOf when there is no
 *           claim, an overage marker or no token (groupmap.h). Authoritative
 *           like arm; unavailable when Graph cannot be asked.
 *
 * Unavailable is not "no role", and it ends the search: the result is
 * EL_ERR_ROLE_UNAVAILABLE (PAM_AUTHINFO_UNAVAIL: the user may hold a role
 * we could not see) unless a source listed before it already granted (which
 * returns at once). A later source never answers for an unavailable one:
 * with `arm, claims`, ARM down must not let a token's app role undo a role
 * removal in Azure. If every source asked had nothing to say the result is
 * EL_ERR_ROLE_NONE (PAM_PERM_DENIED).
 *
 * `entra-login refresh` (no token) applies a decision only when it is
 * complete (no source before it was unavailable); otherwise the stored role
 * is kept until the next login or refresh that can decide. A role that
 * static or arm decided is decided again by them whatever the order (claims
 * has nothing to say about it), so refresh revokes as soon as ARM no longer
 * lists the role or the static entry is gone; a role the token's claims
 * decided stands until the user's next sign-in.
 *
 * Nothing of a role value or group id ever leaves this module: the answer
 * is the enum, so odd bytes (',' ':' '\n' '%') cannot reach a group line or
 * sudoers.
 *
 * Thread-safe (the managed-identity cache in imds.c has its own lock).
 * No logging; the caller logs result.unavailable_err.
 */
#ifndef EL_ROLES_H
#define EL_ROLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"

enum el_role { EL_ROLE_NONE = 0, EL_ROLE_USER = 1, EL_ROLE_ADMIN = 2 };

/* What roles.c needs to know about the user. All pointers are borrowed. */
struct role_input {
	const char *name;		/* lower-case user name (UPN), required */
	const char *oid;		/* object id (GUID) or NULL if unknown: arm cannot answer */
	bool have_claims;		/* false: no token (other auth module, refresh) */
	const char *const *roles;	/* the token's "roles" claim values */
	size_t n_roles;
	const char *const *groups;	/* the token's "groups" claim (object ids) */
	size_t n_groups;
	bool groups_overage;		/* _claim_names has "groups": no groups at all */
	/* Token-free paths (PAM account without a sign-in, refresh) set
	 * from_store: claims then answers with stored_claims_role, the role
	 * the claims source itself decided at the last sign-in (stored with
	 * source claims), and has nothing to say without one - never with a
	 * role another source set, so removing a static entry or an Azure
	 * assignment revokes whatever the source order. */
	bool from_store;
	enum el_role stored_claims_role;
};

struct role_result {
	enum el_role role;		/* NONE unless the return is 0 */
	enum el_role_source source;	/* the source that decided, 0 if none did */
	bool incomplete;		/* a source asked before the decision (or any, if
					 * none decided) could not answer: with it, the
					 * decision might have been another */
	int unavailable[EL_ROLE_SOURCES_MAX + 1];	/* by source: why it could not
							 * answer, 0 if it could or was not asked */
};

/* Decide the role of in->name. deadline_ms: absolute (http.h clock) bound
 * on all requests of the arm source; 0 = http_timeout per request.
 * Returns 0 (role USER or ADMIN), EL_ERR_ROLE_NONE, EL_ERR_ROLE_UNAVAILABLE:
 * for these three *ret_res is filled (the exception to "outputs only on
 * success": the caller logs why, refresh checks res.incomplete);
 * EL_ERR_INVAL (no name), EL_ERR_NOMEM. */
int roles_resolve(const struct el_config *cfg, const struct role_input *in, uint64_t deadline_ms,
		  struct role_result *ret_res) EL_MUST_CHECK;

/* The claims source alone, no I/O. ret_role is set on 0.
 * Returns 0 (decided: USER or ADMIN), EL_ERR_NOT_FOUND (nothing to say),
 * EL_ERR_ROLE_UNAVAILABLE (no claims). */
int roles_from_claims(const struct el_config *cfg, const struct role_input *in, enum el_role *ret_role) EL_MUST_CHECK;

/* The static source alone, no I/O. Same results as roles_from_claims
 * except that it is never unavailable. */
int roles_from_static(const struct el_config *cfg, const struct role_input *in, enum el_role *ret_role) EL_MUST_CHECK;

/* "none", "user", "admin" / "claims", "static", "arm", "groups" ("-" for 0). Never NULL. */
const char *roles_name(enum el_role role);
const char *roles_source_name(enum el_role_source src);

#endif
