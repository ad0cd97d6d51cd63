/* cmd_refresh.c - `entra-login refresh [--dry-run]`: re-decide the role of
 * every bound user without their token, so a revoked role is revoked
 * (aad_admins, aad_users) without waiting for the user's next login. Run by
 * entra-login-refresh.timer.
 *
 * Only complete decisions are applied (roles.h). `claims` answers without
 * a token only for a role it decided itself at the last sign-in (kept until
 * the next one); a role static or arm decided is decided again by them,
 * whatever the order, so removing a static_admins entry or an Azure
 * assignment takes effect at the next refresh. A source that is down keeps
 * the stored role, and the exit code says so. Writes are compare-and-set on
 * name + oid (udb_set_role): a user renamed or forgotten meanwhile is left
 * alone.
 *
 * Exit: 0 done (roles kept only because claims cannot be checked offline
 * count as done), 1 the user database could not be read or written,
 * 2 usage, 3 a role source (IMDS, ARM) was unavailable for some user.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmds.h"
#include "graph.h"
#include "groupmap.h"
#include "conf.h"
#include "el_limits.h"
#include "http.h"
#include "roles.h"
#include "strutil.h"
#include "userdb.h"

#define REFRESH_TIMEOUTS 3	/* http_timeouts per user (IMDS, ARM pages, retries) */

struct refresh {
	const struct el_config *cfg;
	bool dry_run;
	unsigned users, changed, kept_offline, kept_unavailable, failed, uid_differs;
};

static enum udb_role to_udb(enum el_role role)
{
	return role == EL_ROLE_ADMIN ? UDB_ROLE_ADMIN : role == EL_ROLE_USER ? UDB_ROLE_USER : UDB_ROLE_NONE;
}

/* True if some source other than claims-without-a-token could not answer. */
static bool network_unavailable(const struct role_result *res, const char **ret_src, int *ret_err)
{
	for (int src = EL_SRC_CLAIMS; src <= EL_ROLE_SOURCES_MAX; src++) {
		if (res->unavailable[src] == 0 || (src == EL_SRC_CLAIMS && res->unavailable[src] == EL_ERR_ROLE_UNAVAILABLE))
			continue;
		*ret_src = roles_source_name(src);
		*ret_err = res->unavailable[src];
		return true;
	}
	return false;
}

static int refresh_one(const struct udb_user *u, void *userdata)
{
	struct refresh *st = userdata;
	struct role_input in = { 0 };
	struct role_result res;
	char oid[EL_GUID_LEN + 1], tid[EL_GUID_LEN + 1];
	const char *src = NULL;
	enum udb_role now_role;
	int r, err = 0;

	if (!u->bound || u->blocked)
		return 0;	/* nothing to decide: no binding, or refused whatever a source says */
	st->users++;
	udb_guid_format(u->oid, oid);
	udb_guid_format(u->tid, tid);
	in.name = u->name;
	in.oid = oid;
	/* Token-free: claims answers only for a role claims decided. */
	in.from_store = true;
	in.stored_claims_role = u->source == UDB_SRC_CLAIMS ? (enum el_role)u->role : EL_ROLE_NONE;
	r = roles_resolve(st->cfg, &in, http_deadline_in(st->cfg->http_timeout * REFRESH_TIMEOUTS), &res);
	if (r == EL_ERR_NOMEM || r == EL_ERR_INVAL) {
		fprintf(stderr, "entra-login: %s: %s\n", u->name, el_strerror(r));
		st->failed++;
		return 0;
	}
	if (res.incomplete) {
		if (network_unavailable(&res, &src, &err)) {
			printf("%s: kept %s (%s unavailable: %s)\n", u->name, udb_role_name(u->role), src, el_strerror(err));
			st->kept_unavailable++;
		} else {
			printf("%s: kept %s (claims cannot be checked without the user's token)\n", u->name,
			       udb_role_name(u->role));
			st->kept_offline++;
		}
		return 0;
	}
	now_role = to_udb(res.role);
	if (now_role == u->role && (now_role == UDB_ROLE_NONE || (int)u->source == (int)res.source)) {
		printf("%s: %s (unchanged, %s)\n", u->name, udb_role_name(now_role),
		       res.source ? roles_source_name(res.source) : "no source grants a role");
		return 0;
	}
	printf("%s: %s -> %s (%s)%s\n", u->name, udb_role_name(u->role), udb_role_name(now_role),
	       res.source ? roles_source_name(res.source) : "no source grants a role", st->dry_run ? " [dry run]" : "");
	if (st->dry_run) {
		st->changed++;
		return 0;
	}
	/* Compare and set: the name may have been renamed, forgotten or rebound
	 * during the ARM calls; then nothing is written. */
	r = udb_set_role(st->cfg, u->name, oid, tid, now_role, (enum udb_source)res.source);
	if (r == EL_ERR_BINDING_CHANGED) {
		printf("%s: changed while its role was decided; left alone\n", u->name);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "entra-login: %s: failed to record the role: %s\n", u->name, el_strerror(r));
		st->failed++;
		return 0;
	}
	st->changed++;
	return 0;
}

static void group_refused(void *userdata, const char *oid, const char *name, const char *why)
{
	(void)userdata;
	fprintf(stderr, "entra-login: group %.36s '%.32s' not mapped: %s\n", oid, name, why);
}

/* Mapped groups: 0, 1 if some user's groups could not be read (kept), or an error. */
static int refresh_groups(const struct el_config *cfg)
{
	struct groupmap_stats gs;
	int r;

	if (!cfg->groups_mapped)
		return 0;
	r = groupmap_refresh(cfg, cfg->http_timeout * REFRESH_TIMEOUTS, group_refused, NULL, &gs);
	if (r < 0) {
		fprintf(stderr, "entra-login: failed to update the mapped groups: %s\n", el_strerror(r));
		return r;
	}
	printf("groups: %u users, %u read, %u kept (Graph unavailable%s%s)\n", gs.users, gs.mapped, gs.unavailable,
	       gs.unavailable ? ": " : "", gs.unavailable ? el_strerror(gs.last_err) : "");
	return gs.unavailable ? 1 : 0;
}

/* uid_attribute (issue 21): the directory's UID is read again and a
 * difference reported, never applied: files on disk belong to the stored
 * UID, moving them is an administrator's decision. */
static int posix_one(const struct udb_user *u, void *userdata)
{
	struct refresh *st = userdata;
	const char *prop = st->cfg->uid_attribute;
	char oid[EL_GUID_LEN + 1], *val = NULL;
	uint64_t uid;
	int r;

	if (!u->bound || u->blocked)
		return 0;
	udb_guid_format(u->oid, oid);
	r = graph_user_attributes(st->cfg, oid, &prop, 1, http_deadline_in(st->cfg->http_timeout * REFRESH_TIMEOUTS),
				  time(NULL), &val);
	if (r < 0) {
		printf("%s: uid kept (%s unavailable: %s)\n", u->name, prop, el_strerror(r));
		st->kept_unavailable++;
		return 0;
	}
	if (val && (parse_uint(val, 0, UINT32_MAX, &uid) < 0 || uid != u->uid)) {
		printf("%s: the directory's %s is %.32s, this host's uid is %u: kept. To move the user to it, an "
		       "administrator runs 'entra-login forget --purge %s' and 'entra-login release %s' (the next login "
		       "pins the directory uid), then gives the user's files to the new uid (chown)\n",
		       u->name, prop, val, (unsigned)u->uid, u->name, u->name);
		st->uid_differs++;
	}
	free(val);
	return 0;
}

static bool has_offline_source(const struct el_config *cfg)
{
	for (size_t i = 0; i < cfg->n_role_sources; i++)
		if (cfg->role_sources[i] != EL_SRC_CLAIMS)
			return true;
	return false;
}

int cmd_refresh(const struct el_config *cfg, int argc, char **argv)
{
	struct refresh st = { .cfg = cfg };
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0) {
			st.dry_run = true;
		} else {
			fprintf(stderr, "usage: entra-login refresh [--dry-run]\n");
			return 2;
		}
	}
	if (!st.dry_run)
		(void)sshca_status(cfg, false);	/* issue 14: keep the SSH CA key set fresh and merged */
	if (!has_offline_source(cfg))
		printf("note: role_sources is 'claims' only, which needs the user's token: roles the last "
		       "sign-in's token decided are kept and decided again at each login\n");
	r = udb_foreach(cfg, refresh_one, &st);
	if (r < 0) {
		fprintf(stderr, "entra-login: failed to read the user database: %s\n", el_strerror(r));
		return 1;
	}
	printf("refresh: %u users, %u changed, %u kept (claims offline), %u kept (source unavailable), %u failed\n",
	       st.users, st.changed, st.kept_offline, st.kept_unavailable, st.failed);
	if (cfg->uid_attribute && cfg->graph_url) {
		r = udb_foreach(cfg, posix_one, &st);
		if (r < 0) {
			fprintf(stderr, "entra-login: failed to read the user database: %s\n", el_strerror(r));
			return 1;
		}
		printf("uids: %u differ from the directory's %s (reported, not changed)\n", st.uid_differs,
		       cfg->uid_attribute);
	}
	r = st.dry_run ? 0 : refresh_groups(cfg);	/* issue 21: groups.db */
	if (r < 0)
		st.failed++;
	else if (r > 0)
		st.kept_unavailable++;
	if (st.failed)
		return 1;
	return st.kept_unavailable ? 3 : 0;
}
