/* account.c - pam_sm_acct_mgmt for a directory user without a fresh sign-in
 * in this transaction: no role, no login.
 *
 * (When this transaction's own auth decided, pam_entra.so answers from its
 * PAM data and never starts the helper.) Otherwise - sudo with or without
 * NOPASSWD, su from root, cron, `sudo -u`, sshd after a key or another
 * module - the decision is the user database's stored role, which is what
 * NSS reports as aad_admins / aad_users membership, after refreshing it from
 * the token-free sources that are configured. role_sources is walked in
 * order and the first source that answers decides:
 *   claims  answers with the stored role (what the last token said); a user
 *           with none stored: nothing to say.
 *   static  answers at once from the name lists (no groups without a token).
 *   arm     is asked (bounded by AUTHZ_TIMEOUTS http_timeouts); its answer,
 *           "no assignment" included, decides. A user with no binding has
 *           no oid to ask about: nothing to say.
 * A decision from static or arm (or "nobody answered": no role) is complete
 * and written to the database before it is returned, so NSS and sudo agree;
 * a bound user found to hold no role is demoted. If a source cannot answer
 * (ARM or IMDS down), the walk stops and the stored role stands, with a
 * warning: never stricter or looser than the group membership NSS reports.
 * A name that is also a local group is refused. A user with no database
 * record and no token-free grant is refused (PERM_DENIED).
 *
 * sshd (PAM_TTY "ssh" until a session has a tty) reaches account without
 * our auth only after another method, i.e. publickey: keyboard-interactive
 * runs auth and account in one PAM child, where this transaction's decision
 * answers. A directory user's publickey login passes only if
 * `entra-login authorized-keys` granted a certificate for this name within
 * the last CERTGRANT_WINDOW seconds: an authorized_keys file an admin adds
 * for a directory name never bypasses the certificate and role checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "arm.h"
#include "auth.h"
#include "authz.h"
#include "certgrant.h"
#include "conv.h"
#include "http.h"
#include "localfiles.h"
#include "strutil.h"
#include "userdb.h"

/* What the user database knows about ctx->user. */
struct stored {
	bool bound;
	char oid[EL_GUID_LEN + 1];
	enum el_role role;
};

static int load_stored(const struct hctx *ctx, struct stored *ret)
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
		s.role = u.role == UDB_ROLE_ADMIN ? EL_ROLE_ADMIN : u.role == UDB_ROLE_USER ? EL_ROLE_USER : EL_ROLE_NONE;
	}
out:
	udb_close(db);
	if (r == 0)
		*ret = s;
	return r;
}

static void log_detail(const struct hctx *ctx, int prio, const char *event, const char *oid, const char *detail)
{
	hlog(ctx, prio, "%s: user '%.64s' oid=%.36s rhost=%.64s service=%.32s: %s", event, ctx->user,
	     oid && oid[0] ? oid : "-", ctx->rhost, ctx->service, detail);
}

/* One token-free source: 0 with *ret_role (NONE from arm: an authoritative
 * "no"), EL_ERR_NOT_FOUND (nothing to say), or why it could not answer. */
static int ask(const struct hctx *ctx, enum el_role_source src, const struct stored *s, enum el_role *ret_role)
{
	struct role_input in = { .name = ctx->user };

	switch (src) {
	case EL_SRC_CLAIMS:
		if (!s->bound || s->role == EL_ROLE_NONE)
			return EL_ERR_NOT_FOUND;
		*ret_role = s->role;
		return 0;
	case EL_SRC_STATIC:
		return roles_from_static(ctx->cfg, &in, ret_role);
	case EL_SRC_ARM:
		if (!s->bound)
			return EL_ERR_NOT_FOUND;
		return arm_vm_role(ctx->cfg, s->oid, http_deadline_in(ctx->cfg->http_timeout * AUTHZ_TIMEOUTS),
				   time(NULL), ret_role);
	default:
		return EL_ERR_CONFIG;
	}
}

static enum udb_role to_udb(enum el_role role)
{
	return role == EL_ROLE_ADMIN ? UDB_ROLE_ADMIN : role == EL_ROLE_USER ? UDB_ROLE_USER : UDB_ROLE_NONE;
}

/* Returns 0 (role granted) or EL_ERR_*. */
static int account_decide(struct hctx *ctx)
{
	enum el_role_source by = 0;
	enum el_role role = EL_ROLE_NONE;
	struct stored s;
	char detail[192];
	int r;

	if (local_group_exists(ctx->user))
		return EL_ERR_NOT_OURS;		/* the writer would refuse it too: never a directory user */
	if (strcmp(ctx->tty, "ssh") == 0) {
		r = certgrant_recent(ctx->cfg, ctx->user, time(NULL));
		if (r == EL_ERR_NOT_FOUND) {
			/* authorized-keys keeps the grant in EL_RUNDIR while the state
			 * directory cannot be written (cmd_authorized_keys.c) */
			struct el_config run = *ctx->cfg;

			run.state_dir = (char *)EL_RUNDIR;
			r = certgrant_recent(&run, ctx->user, time(NULL));
		}
		if (r < 0) {
			log_detail(ctx, LOG_NOTICE, "account refused", NULL,
				   r == EL_ERR_NOT_FOUND ? "sshd login without a certificate granted by authorized-keys "
							   "in the last minute" : el_strerror(r));
			return EL_ERR_NO_CERT_GRANT;
		}
	}
	r = load_stored(ctx, &s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->cfg->n_role_sources && i < EL_ROLE_SOURCES_MAX; i++) {
		enum el_role_source src = ctx->cfg->role_sources[i];
		enum el_role got = EL_ROLE_NONE;

		r = ask(ctx, src, &s, &got);
		if (r == EL_ERR_NOMEM)
			return r;
		if (r == EL_ERR_NOT_FOUND)
			continue;
		if (r < 0) {
			/* Cannot refresh: the stored role (= group membership) stands. */
			snprintf(detail, sizeof(detail), "role source %s unavailable (%s); stored role %s stands",
				 roles_source_name(src), el_strerror(r), roles_name(s.role));
			log_detail(ctx, LOG_WARNING, "role lookup", s.oid, detail);
			if (s.role == EL_ROLE_NONE)
				return EL_ERR_ROLE_NONE;
			ctx->res_role = s.role == EL_ROLE_ADMIN ? 2 : 1;
			return 0;
		}
		role = got;
		by = src;
		break;
	}
	/* Complete: a source decided, or none had anything to say (no role). */
	if (s.bound && by != EL_SRC_CLAIMS && role != s.role) {
		r = udb_set_role(ctx->cfg, ctx->user, to_udb(role));
		if (r < 0 && r != EL_ERR_NOT_FOUND) {
			log_detail(ctx, LOG_ERR, "role not recorded", s.oid, el_strerror(r));
			if (role != EL_ROLE_NONE)
				return r;
		}
	}
	if (role == EL_ROLE_NONE) {
		snprintf(detail, sizeof(detail), "%s%s%s", el_strerror(EL_ERR_ROLE_NONE), by ? " by " : "",
			 by ? roles_source_name(by) : "");
		log_detail(ctx, LOG_NOTICE, "role refused", s.oid, detail);
		return EL_ERR_ROLE_NONE;
	}
	snprintf(detail, sizeof(detail), "role %s from %s%s", roles_name(role), roles_source_name(by),
		 by == EL_SRC_CLAIMS ? " (stored at the last sign-in)" : "");
	log_detail(ctx, LOG_INFO, "role granted", s.oid, detail);
	if (!s.bound)
		log_detail(ctx, LOG_NOTICE, "login allowed but not recorded (no directory binding yet)", NULL, "-");
	memcpy(ctx->res_oid, s.oid, sizeof(ctx->res_oid));
	ctx->res_role = role == EL_ROLE_ADMIN ? 2 : 1;
	return 0;
}

int account_run(struct hctx *ctx)
{
	int r = account_decide(ctx);

	if (r == 0)
		return PAM_SUCCESS;
	hctx_log(ctx, r == EL_ERR_ROLE_NONE || r == EL_ERR_NOT_OURS || r == EL_ERR_NO_CERT_GRANT ? LOG_NOTICE : LOG_ERR,
		 "account refused", NULL, r);
	conv_error(ctx, authz_message(r));
	if (r == EL_ERR_ROLE_NONE || r == EL_ERR_NOT_OURS || r == EL_ERR_BOUND_OTHER || r == EL_ERR_NO_CERT_GRANT)
		return PAM_PERM_DENIED;
	return el_to_pam(r) == PAM_AUTH_ERR ? PAM_PERM_DENIED : el_to_pam(r);
}
