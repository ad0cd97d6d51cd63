/* Temporary until pam/authorize.c and pam/account.c land (roles issue):
 * account refuses every directory user (fail closed); auth checks only the
 * token. */
#include "auth.h"

int auth_bind_and_authorize(struct pam_ctx *ctx, const struct jwt_claims *claims)
{
	(void)ctx;
	(void)claims;
	return 0;
}

int account_run(struct pam_ctx *ctx)
{
	(void)ctx;
	return PAM_PERM_DENIED;
}
