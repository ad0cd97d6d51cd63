/* account.c - pam_sm_acct_mgmt for a directory user: no role, no login.
 *
 * Works after any auth method:
 *  - after pam_entra's own auth, the decision it made (PAM data) stands, or,
 *    if only its claims are there, the decision is made from them;
 *  - after another module there is no token: the user database's oid lets
 *    `arm` answer, `static` answers by name, `claims` cannot answer.
 * The decision is recorded in the user database (role, last login) so NSS
 * reports the right groups from now on; a bound user found to hold no role
 * is demoted at once.
 */
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <security/pam_ext.h>

#include "auth.h"
#include "authz.h"
#include "conv.h"
#include "jwt.h"
#include "strutil.h"
#include "userdb.h"

#define DISPLAY_COPY_MAX 256

/* What the user database knows about ctx->user. */
struct stored {
	bool bound;
	char oid[EL_GUID_LEN + 1], tid[EL_GUID_LEN + 1];
	char display[DISPLAY_COPY_MAX];
};

static int load_stored(const struct pam_ctx *ctx, struct stored *ret)
{
	struct udb *db = NULL;
	struct udb_user u;
	struct stored s = { 0 };
	int r;

	r = udb_open(ctx->cfg, &db);
	if (r == EL_ERR_NOT_FOUND) {
		r = 0;		/* no database yet: nobody is bound */
		goto out;
	}
	if (r < 0)
		goto out;
	r = udb_lookup_name(db, ctx->user, &u);
	if (r == EL_ERR_NOT_FOUND) {
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	if (u.bound) {
		s.bound = true;
		udb_guid_format(u.oid, s.oid);
		udb_guid_format(u.tid, s.tid);
		if (str_copy(s.display, sizeof(s.display), u.display_name ? u.display_name : "") < 0)
			s.display[0] = '\0';
	}
out:
	udb_close(db);
	if (r == 0)
		*ret = s;
	return r;
}

/* No token in this transaction: decide from the database's binding. */
static int account_without_claims(struct pam_ctx *ctx)
{
	struct role_input in = { 0 };
	struct stored s;
	enum el_role role = EL_ROLE_NONE;
	int r;

	r = load_stored(ctx, &s);
	if (r < 0)
		return r;
	in.name = ctx->user;
	in.oid = s.bound ? s.oid : NULL;
	r = authz_resolve(ctx, &in, &role);
	if (r == EL_ERR_ROLE_NONE && s.bound) {
		int w = udb_set_role(ctx->cfg, ctx->user, UDB_ROLE_NONE);

		if (w < 0 && w != EL_ERR_NOT_FOUND)
			pamctx_log(ctx, LOG_ERR, "role not recorded", s.oid, w);
	}
	if (r < 0)
		return r;
	if (!s.bound) {
		/* Without a token there is no oid to bind the name to: allowed, not recorded. */
		pamctx_log(ctx, LOG_NOTICE, "login allowed but not recorded (no directory binding yet)", NULL, 0);
		return 0;
	}
	return udb_record_login(ctx->cfg, ctx->user, s.oid, s.tid, s.display,
				role == EL_ROLE_ADMIN ? UDB_ROLE_ADMIN : UDB_ROLE_USER, (int64_t)time(NULL), NULL);
}

int account_run(struct pam_ctx *ctx)
{
	const void *data = NULL;
	const struct authz_decision *d = NULL;
	const struct jwt_claims *claims = NULL;
	int r;

	if (pam_get_data(ctx->pamh, PAM_ENTRA_DATA_ROLE, &data) == PAM_SUCCESS && data)
		d = data;
	data = NULL;
	if (pam_get_data(ctx->pamh, PAM_ENTRA_DATA_CLAIMS, &data) == PAM_SUCCESS && data)
		claims = data;
	/* PAM_USER may have changed since auth: data about another name is not ours to use. */
	if (d && strcmp(d->name, ctx->user) != 0)
		d = NULL;
	if (claims && strcmp(claims->name, ctx->user) != 0)
		claims = NULL;
	if (d && claims && strcmp(d->oid, claims->oid) == 0 && d->role != EL_ROLE_NONE) {
		if (ctx->debug)
			pamctx_log(ctx, LOG_DEBUG, "account: role decided at auth", d->oid, 0);
		return PAM_SUCCESS;
	}
	if (claims)
		r = auth_bind_and_authorize(ctx, claims);
	else
		r = account_without_claims(ctx);
	if (r == 0)
		return PAM_SUCCESS;
	pamctx_log(ctx, r == EL_ERR_ROLE_NONE || r == EL_ERR_BOUND_OTHER ? LOG_NOTICE : LOG_ERR, "account refused",
		   claims ? claims->oid : NULL, r);
	conv_error(ctx, authz_message(r));
	if (r == EL_ERR_ROLE_NONE || r == EL_ERR_BOUND_OTHER)
		return PAM_PERM_DENIED;
	return el_to_pam(r) == PAM_AUTH_ERR ? PAM_PERM_DENIED : el_to_pam(r);
}
