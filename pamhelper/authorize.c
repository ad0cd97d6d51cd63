/* authorize.c - after a valid token: the name binding, the role decision and
 * the recorded login (auth_bind_and_authorize), plus what account.c shares.
 *
 * Order matters: the binding is checked before any network request (a name
 * bound to another object is refused whatever its roles), the login is
 * recorded only once a role is granted (a role-less user never takes a UID
 * binding), and a bound user found to hold no role is demoted in the
 * database at once, so NSS drops them from aad_admins/aad_users.
 */
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "auth.h"
#include "authz.h"
#include "http.h"
#include "jwt.h"
#include "userdb.h"

static void log_role(const struct hctx *ctx, int prio, const char *event, const char *oid, const char *detail)
{
	hlog(ctx, prio, "%s: user '%.64s' oid=%.36s rhost=%.64s service=%.32s: %s", event,
		   ctx->user ? ctx->user : "?", oid ? oid : "-", ctx->rhost, ctx->service, detail);
}

int authz_resolve(const struct hctx *ctx, const struct role_input *in, enum el_role *ret_role)
{
	enum el_role_source src;

	return authz_resolve_src(ctx, in, ret_role, &src);
}

int authz_resolve_src(const struct hctx *ctx, const struct role_input *in, enum el_role *ret_role,
		      enum el_role_source *ret_src)
{
	struct role_result res;
	char detail[160];
	int r;

	r = roles_resolve(ctx->cfg, in, http_deadline_in(ctx->cfg->http_timeout * AUTHZ_TIMEOUTS), &res);
	if (r < 0 && r != EL_ERR_ROLE_NONE && r != EL_ERR_ROLE_UNAVAILABLE)
		return r;
	for (int src = EL_SRC_CLAIMS; src <= EL_ROLE_SOURCES_MAX; src++) {
		int e = res.unavailable[src];

		if (e == 0)
			continue;
		/* Claims are unavailable whenever another module authenticated: expected, not a warning. */
		if (src == EL_SRC_CLAIMS && e == EL_ERR_ROLE_UNAVAILABLE && !ctx->debug)
			continue;
		snprintf(detail, sizeof(detail), "role source %s unavailable: %s", roles_source_name(src), el_strerror(e));
		log_role(ctx, src == EL_SRC_CLAIMS ? LOG_DEBUG : LOG_WARNING, "role lookup", in->oid, detail);
	}
	if (r == 0) {
		snprintf(detail, sizeof(detail), "role %s from %s", roles_name(res.role), roles_source_name(res.source));
		log_role(ctx, LOG_INFO, "role granted", in->oid, detail);
		*ret_role = res.role;
		*ret_src = res.source;
	} else {
		snprintf(detail, sizeof(detail), "%s%s%s", el_strerror(r), res.source ? " by " : "",
			 res.source ? roles_source_name(res.source) : "");
		log_role(ctx, r == EL_ERR_ROLE_NONE ? LOG_NOTICE : LOG_ERR, "role refused", in->oid, detail);
	}
	return r;
}

const char *authz_message(int r)
{
	switch (r) {
	case EL_ERR_ROLE_NONE:
		return "Access denied: you need the Azure role \"Virtual Machine Administrator Login\" or "
		       "\"Virtual Machine User Login\" on this machine; ask your Azure administrator.";
	case EL_ERR_BOUND_OTHER:
		return "Access denied: this user name belongs to another directory account on this host; ask an administrator.";
	case EL_ERR_NAME_RETIRED:
	case EL_ERR_NAME_BLOCKED:
	case EL_ERR_BINDING_CHANGED:
		return "Access denied: this user name is retired or blocked on this host; ask an administrator.";
	case EL_ERR_NOT_OURS:
		return "Access denied: this user name is taken by a local account or group on this host; ask an administrator.";
	case EL_ERR_DB_NOSPACE:
		return "Login refused: the user database cannot be written: no space left on device; tell an administrator.";
	case EL_ERR_DB_READONLY:
		return "Login refused: the user database cannot be written: read-only file system; tell an administrator.";
	case EL_ERR_DB_WRITE:
		return "Login refused: the user database cannot be written: input/output error; tell an administrator.";
	case EL_ERR_UID_PINNED:
		return "Your account was set up with its directory UID; connect again.";
	case EL_ERR_POSIX_ATTR:
		return "Access denied: your directory UID, shell or home cannot be used on this host; ask an administrator.";
	case EL_ERR_NO_CERT_GRANT:
		return "Access denied: directory users log in over SSH with an Entra certificate (az ssh vm) or a sign-in "
		       "code, not with a key of their own.";
	default:
		return "Your Azure role on this machine cannot be checked right now; try again later or use a local account.";
	}
}

int authz_record_login(const struct hctx *ctx, const char *name, const char *oid, const char *tid,
		       const char *display, enum udb_role role)
{
	return authz_record_login_src(ctx, name, oid, tid, display, role, UDB_SRC_UNKNOWN);
}

int authz_record_login_src(const struct hctx *ctx, const char *name, const char *oid, const char *tid,
			   const char *display, enum udb_role role, enum udb_source source)
{
	struct udb_login in = { name, oid, tid, display, role };
	uint32_t uid = 0;
	int unsaved = 0, r;

	/* The single call site of the user database writer for PAM logins. The
	 * session will run as the uid NSS announced to the host: the writer
	 * refuses (EL_ERR_UID_CHANGED, nothing written) rather than bind another.
	 * A full or read-only state directory fails only logins that change a
	 * decision; a returning user with the same role logs in, with a warning. */
	r = udb_record_login_tolerant(ctx->cfg, &in, source, (int64_t)time(NULL), ctx->announced_uid, &uid,
				      &unsaved);
	if (r == 0 && unsaved < 0) {
		char detail[160];

		snprintf(detail, sizeof(detail), "last login not recorded (nothing else changed): %s",
			 el_strerror(unsaved));
		log_role(ctx, LOG_WARNING, "login allowed", oid, detail);
	}
	if (r == EL_ERR_UID_CHANGED) {
		char detail[128];

		snprintf(detail, sizeof(detail), "the uid %u NSS announced to the host was taken by another user",
			 (unsigned)ctx->announced_uid);
		log_role(ctx, LOG_ERR, "login refused", oid, detail);
	}
	if (r < 0)
		return r;
	return 0;
}

static enum udb_role to_udb(enum el_role role)
{
	return role == EL_ROLE_ADMIN ? UDB_ROLE_ADMIN : role == EL_ROLE_USER ? UDB_ROLE_USER : UDB_ROLE_NONE;
}

/* What auth decided goes back to the module (RESULT), which keeps it for account. */
static void keep_decision(struct hctx *ctx, const struct jwt_claims *claims, enum el_role role)
{
	memcpy(ctx->res_oid, claims->oid, sizeof(ctx->res_oid));
	ctx->res_oid[sizeof(ctx->res_oid) - 1] = '\0';
	ctx->res_role = role == EL_ROLE_ADMIN ? 2 : role == EL_ROLE_USER ? 1 : 0;
}

int auth_bind_and_authorize(struct hctx *ctx, const struct jwt_claims *claims)
{
	struct role_input in = { 0 };
	enum el_role role = EL_ROLE_NONE;
	enum el_role_source src = 0;
	int r;

	if (!claims || !ctx->user || strcmp(claims->name, ctx->user) != 0)
		return EL_ERR_TOKEN_USER_MISMATCH;
	r = udb_check_binding(ctx->cfg, claims->name, claims->oid, claims->tid);
	if (r < 0)
		return r;
	in.name = claims->name;
	in.oid = claims->oid;
	in.have_claims = true;
	in.roles = (const char *const *)claims->roles.items;
	in.n_roles = claims->roles.n;
	in.groups = (const char *const *)claims->groups.items;
	in.n_groups = claims->groups.n;
	in.groups_overage = claims->groups_overage;
	r = authz_resolve_src(ctx, &in, &role, &src);
	if (r == EL_ERR_ROLE_NONE) {
		/* The binding check passed: if the name is bound to this user, who
		 * has just been found to hold no role any more, demote; compare and
		 * set, so a name rebound meanwhile is left alone. */
		int s = udb_set_role(ctx->cfg, claims->name, claims->oid, claims->tid, UDB_ROLE_NONE, UDB_SRC_UNKNOWN);

		if (s < 0 && s != EL_ERR_BINDING_CHANGED)
			log_role(ctx, LOG_ERR, "role not recorded", claims->oid, el_strerror(s));
	}
	if (r < 0)
		return r;
	r = authz_posix_provision(ctx, claims->name, claims->oid, claims->tid, claims->display_name);	/* issue 21 */
	if (r < 0)
		return r;
	r = authz_record_login_src(ctx, claims->name, claims->oid, claims->tid, claims->display_name, to_udb(role),
				   (enum udb_source)src);
	if (r < 0)
		return r;
	authz_sync_groups(ctx, claims->name, claims->oid);	/* issue 21 */
	keep_decision(ctx, claims, role);
	return 0;
}
