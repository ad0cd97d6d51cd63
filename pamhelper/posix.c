/* posix.c - POSIX attributes from the directory (issue 21): at the first
 * sign-in of a user on this host, uid_attribute / shell_attribute /
 * home_attribute (Graph user properties, read with User.Read.All) pin the
 * UID, shell and home the user gets here, so every host gives the same UID
 * (NFS, shared storage). The primary gid is the uid, as for every user (a
 * user-private group); shared gids come from mapped groups.
 *
 * Only a user the database does not know yet is provisioned: an existing
 * record never changes its UID here (files on disk belong to it; entra-login
 * refresh reports a difference and names the admin action). The values are
 * checked, then written with udb_import (the path import-aadpasswd takes),
 * which refuses a uid of 0, a system id (< 1000), a role gid, a local uid or
 * gid, or one held by another record. Refused here as well: 61184-65535
 * (systemd's dynamic users, nobody, (uint16_t)-1), the mapped groups'
 * gid_min..gid_max, and >= 2^31; a shell not listed in /etc/shells; a path
 * that is not absolute or holds ':' or control bytes; a home that is another
 * user's (local or in the database). Anything wrong refuses the login
 * (logged): falling back to the hash UID would bind a UID that differs from
 * the other hosts'. Graph unreachable: unavailable, as for roles.
 *
 * sshd resolved the name before authentication and announced the hash UID;
 * when the pinned UID differs, this login is refused (EL_ERR_UID_PINNED,
 * the record is written) and the next connection runs as the pinned UID.
 */
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "authz.h"
#include "graph.h"
#include "http.h"
#include "names.h"
#include "strutil.h"
#include "userdb.h"
#include "userdb_format.h"

static bool uid_reserved(const struct el_config *cfg, uint64_t uid)
{
	return uid < UDB_PINNED_ID_MIN || (uid >= 61184 && uid <= 65535) ||
	       (uid >= cfg->gid_min && uid <= cfg->gid_max) || uid >= 2147483648u;
}

static bool path_ok(const char *p)
{
	return p[0] == '/' && strlen(p) <= UDB_PATH_MAX && !strchr(p, ':') && !str_has_ctl(p);
}

/* Listed in /etc/shells (read directly, never through NSS). */
static bool shell_listed(const char *shell)
{
	char line[PATH_MAX + 2];
	bool found = false;
	FILE *f = fopen("/etc/shells", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		found = line[0] == '/' && strcmp(line, shell) == 0;
	}
	fclose(f);
	return found;
}

struct home_probe {
	const struct el_config *cfg;
	const char *name, *home;
	bool taken;
};

static int home_cb(const struct udb_user *u, void *userdata)
{
	struct home_probe *hp = userdata;
	char tmpl[UDB_PATH_MAX + 1];

	if (strcmp(u->name, hp->name) == 0)
		return 0;
	if (u->home[0] ? strcmp(u->home, hp->home) == 0 :
			 name_home(hp->cfg->home, u->name, tmpl, sizeof(tmpl)) == 0 && strcmp(tmpl, hp->home) == 0)
		hp->taken = true;
	return 0;
}

/* The home of a local account, or of another record (pinned or templated). */
static int home_taken(const struct el_config *cfg, const char *name, const char *home, bool *ret)
{
	struct home_probe hp = { cfg, name, home, false };
	struct passwd *pw;
	FILE *f = fopen("/etc/passwd", "re");
	int r;

	if (!f)
		return EL_ERR_IO;
	while ((pw = fgetpwent(f)))
		if (pw->pw_dir && strcmp(pw->pw_dir, home) == 0)
			hp.taken = true;
	fclose(f);
	r = udb_foreach(cfg, home_cb, &hp);
	if (r < 0 && r != EL_ERR_NOT_FOUND)
		return r;
	*ret = hp.taken;
	return 0;
}

static void refuse_log(const struct hctx *ctx, const char *oid, const char *what, const char *value, const char *why)
{
	hlog(ctx, LOG_ERR, "directory attributes refused: user '%.64s' oid=%.36s: %s '%.64s': %s", ctx->user, oid, what,
	     value ? value : "", why);
}

/* Why a uid/shell/home from the directory cannot be used (NULL: it can). */
static const char *judge(const struct el_config *cfg, const char *name, const char *uid_s, const char *shell,
			 const char *home, uint64_t *ret_uid, const char **ret_what, int *ret_err)
{
	bool taken = false;

	*ret_err = 0;
	*ret_what = cfg->uid_attribute;
	if (parse_uint(uid_s, 0, UINT32_MAX, ret_uid) < 0)
		return "not a decimal UID";
	if (uid_reserved(cfg, *ret_uid))
		return "a reserved id (0, below 1000, 61184-65535, the mapped groups' gid range, or >= 2^31)";
	*ret_what = cfg->shell_attribute;
	if (shell && !path_ok(shell))
		return "not an absolute path without ':' or control bytes";
	if (shell && !shell_listed(shell))
		return "not listed in /etc/shells";
	*ret_what = cfg->home_attribute;
	if (home && !path_ok(home))
		return "not an absolute path without ':' or control bytes";
	if (home) {
		*ret_err = home_taken(cfg, name, home, &taken);
		if (*ret_err < 0)
			return "cannot be checked";
		if (taken)
			return "the home of another user";
	}
	return NULL;
}

int authz_posix_provision(const struct hctx *ctx, const char *name, const char *oid, const char *tid,
			  const char *display)
{
	const struct el_config *cfg = ctx->cfg;
	const char *props[3] = { cfg->uid_attribute, cfg->shell_attribute, cfg->home_attribute };
	const char *want[3] = { NULL, NULL, NULL };
	char *got[3] = { NULL, NULL, NULL }, *vals[3] = { NULL, NULL, NULL };
	const char *why, *what;
	struct udb_import_status st;
	struct udb_pinned p = { 0 };
	struct udb_user u;
	struct udb *db = NULL;
	size_t n = 0;
	uint64_t uid = 0;
	int r;

	if (!cfg->uid_attribute)
		return 0;		/* shell/home are pinned only together with a uid */
	r = udb_open(cfg, &db);
	if (r == 0)
		r = udb_lookup_name(db, name, &u);
	udb_close(db);
	if (r == 0)
		return 0;		/* known (bound, forgotten or retired): its UID stays */
	if (r != EL_ERR_NOT_FOUND)
		return r;
	for (size_t i = 0; i < 3; i++)
		if (props[i])
			want[n++] = props[i];
	r = graph_user_attributes(cfg, oid, want, n, http_deadline_in(cfg->http_timeout * AUTHZ_TIMEOUTS), time(NULL),
				  got);
	if (r < 0) {
		hlog(ctx, LOG_WARNING, "directory attributes unavailable: user '%.64s' oid=%.36s: %s", ctx->user, oid,
		     el_strerror(r));
		return EL_ERR_ROLE_UNAVAILABLE;
	}
	for (size_t i = 0, k = 0; i < 3; i++)
		if (props[i])
			vals[i] = got[k++];
	if (!vals[0]) {
		r = 0;			/* no uid in the directory: the hash UID, as without the key */
		goto out;
	}
	why = judge(cfg, name, vals[0], vals[1], vals[2], &uid, &what, &r);
	if (why) {
		refuse_log(ctx, oid, what, what == cfg->uid_attribute ? vals[0] : what == cfg->shell_attribute ?
			   vals[1] : vals[2], why);
		if (r == 0)
			r = EL_ERR_POSIX_ATTR;
		goto out;
	}
	p.name = name;
	p.oid = oid;
	p.tid = tid;
	p.display = display ? display : "";
	p.uid = (uint32_t)uid;
	p.shell = vals[1] ? vals[1] : "";
	p.home = vals[2] ? vals[2] : "";
	r = udb_import(cfg, &p, 1, true, &st);
	if (r < 0)
		goto out;
	/* UNCHANGED: a concurrent first login of the same user pinned the same uid */
	if (st.result != UDB_IMPORT_NEW && st.result != UDB_IMPORT_UNCHANGED) {
		refuse_log(ctx, oid, cfg->uid_attribute, vals[0],
			   st.result == UDB_IMPORT_ID_LOCAL ? "a local uid or gid" :
			   st.result == UDB_IMPORT_UID_TAKEN ? "held by another user in the database" :
			   st.result == UDB_IMPORT_ID_RESERVED ? "a reserved id (a role gid)" :
			   "refused by the user database");
		r = EL_ERR_POSIX_ATTR;
		goto out;
	}
	hlog(ctx, LOG_NOTICE, "directory attributes: user '%.64s' oid=%.36s pinned to uid %u", ctx->user, oid,
	     (unsigned)uid);
	/* sshd was told another uid before authentication: that process must
	 * not run a session; the next connection looks the pinned uid up. */
	r = ctx->announced_uid != 0 && ctx->announced_uid != (uint32_t)uid ? EL_ERR_UID_PINNED : 0;
out:
	for (size_t i = 0; i < 3; i++)
		free(vals[i]);
	return r;
}
