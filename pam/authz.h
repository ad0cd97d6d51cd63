/* authz.h - internal to pam/authorize.c and pam/account.c: the role
 * decision of pam_entra.so, shared by auth (enforced there too, so a weak
 * account line cannot let a role-less user in) and account.
 *
 * The decision auth made is left in PAM data under PAM_ENTRA_DATA_ROLE so
 * that account, in the same PAM transaction, does not ask ARM again.
 */
#ifndef EL_PAM_AUTHZ_H
#define EL_PAM_AUTHZ_H

#include "el_limits.h"
#include "pam_ctx.h"
#include "roles.h"

#define PAM_ENTRA_DATA_ROLE "pam_entra_role"
/* Role lookups (IMDS, ARM, their retries) get this many http_timeouts in all. */
#define AUTHZ_TIMEOUTS 3

struct authz_decision {
	char name[EL_NAME_MAX + 1];
	char oid[EL_GUID_LEN + 1];
	enum el_role role;		/* USER or ADMIN: only granted decisions are kept */
};

/* roles_resolve for ctx's configuration with the PAM deadline, logging
 * sources that could not answer and the decision. Returns as roles_resolve;
 * *ret_role is set on 0. */
int authz_resolve(const struct pam_ctx *ctx, const struct role_input *in, enum el_role *ret_role);

/* The user-facing sentence for a refused role decision (one sentence, what to do next). */
const char *authz_message(int r);

#endif
