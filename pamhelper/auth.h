/* auth.h - the auth and account decisions of pam_entra.so. */
#ifndef EL_PAM_AUTH_H
#define EL_PAM_AUTH_H

#include <stdbool.h>

#include "hctx.h"

struct jwt_claims;

/* pam_sm_authenticate for a directory user: obtain a token (device code or
 * pasted, per mode), validate it for ctx->user, check the name binding and
 * the role, and leave the claims for account/session. Returns a PAM code. */
int auth_run(struct hctx *ctx);

/* Token half: prompts for the parts (first_part may hold an answer already
 * read; ownership passes) and validates. Sets *ret_claims on success. */
int auth_token(struct hctx *ctx, char *first_part, struct jwt_claims **ret_claims);

/* Device half (RFC 8628). Sets *ret_claims on success. */
int auth_device(struct hctx *ctx, struct jwt_claims **ret_claims);

/* After a valid token: refuse a name bound to another object id, resolve
 * the role (no role, no login: enforced here too so a weak account line
 * cannot let a role-less user in), and record the login. Returns EL_ERR_*. */
int auth_bind_and_authorize(struct hctx *ctx, const struct jwt_claims *claims);

/* pam_sm_acct_mgmt for a directory user. Returns a PAM code. */
int account_run(struct hctx *ctx);

#endif
