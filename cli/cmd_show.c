/* cmd_show.c - `entra-login show NAME`: everything the host knows about one
 * directory user, as "key: value" lines. For a name of ours that has never
 * logged in it says so and prints the uid its first login would get.
 * Exit 0 known, 1 unknown or not a directory name (or database unreadable),
 * 2 usage. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "certgrant.h"
#include "cmds.h"
#include "conf.h"
#include "names.h"
#include "uidmap.h"
#include "userdb.h"

static void format_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "never");
}

static int taken(void *userdata, uint32_t id)
{
	struct udb_user u;
	int r;

	if (!userdata)
		return 0;
	r = udb_lookup_uid(userdata, id, &u);
	return r == EL_ERR_NOT_FOUND ? 0 : r < 0 ? r : 1;
}

static void print_user(const struct el_config *cfg, const struct udb_user *u)
{
	char oid[37] = "-", tid[37] = "-", first[32], last[32], home[4096];

	if (u->bound) {
		udb_guid_format(u->oid, oid);
		udb_guid_format(u->tid, tid);
	}
	format_time(u->first_login, first, sizeof(first));
	format_time(u->last_login, last, sizeof(last));
	if (u->home[0])
		snprintf(home, sizeof(home), "%s (pinned)", u->home);
	else if (name_home(cfg->home, u->name, home, sizeof(home)) < 0)
		snprintf(home, sizeof(home), "?");
	printf("name: %s\n", u->name);
	printf("display name: %s\n", u->display_name);
	printf("uid: %u%s\ngid: %u\n", u->uid, u->pinned ? " (pinned: imported)" : "", u->uid);
	printf("role: %s\n", udb_role_name(u->role));
	printf("role source: %s\n", u->role == UDB_ROLE_NONE ? "-" : u->source == UDB_SRC_CLAIMS ? "claims" :
	       u->source == UDB_SRC_STATIC ? "static" : u->source == UDB_SRC_ARM ? "arm" :
	       u->source == UDB_SRC_GROUPS ? "groups" : "unknown (written before role sources were stored)");
	printf("groups: %s%s%s\n", u->role == UDB_ROLE_ADMIN ? cfg->admin_group : "",
	       u->role == UDB_ROLE_ADMIN ? " " : "", u->role != UDB_ROLE_NONE ? cfg->user_group : "(none)");
	printf("binding: %s%s\n", u->retired ? "retired (tombstone: nobody gets this name until 'entra-login release')" :
	       u->bound ? "bound" : "forgotten (uid kept for this name)", u->blocked ? ", blocked" : "");
	printf("oid: %s\ntid: %s\n", oid, tid);
	printf("first login: %s\nlast login: %s\n", first, last);
	printf("home: %s\nshell: %s%s\n", home, u->shell[0] ? u->shell : cfg->shell, u->shell[0] ? " (pinned)" : "");
	{	/* issue 14: the last login granted to an SSH certificate (authorized-keys) */
		time_t gt = 0;

		if (certgrant_last(cfg, u->name, &gt) == 0) {
			format_time((int64_t)gt, last, sizeof(last));
			printf("last certificate login: %s%s\n", last,
			       (int64_t)gt >= u->last_login - 5 ? " (the last login was by certificate)" : "");
		} else {
			printf("last certificate login: never\n");
		}
	}
}

int cmd_show(const struct el_config *cfg, int argc, char **argv)
{
	struct uidmap_local *local = NULL;
	struct udb *db = NULL;
	struct udb_user u;
	uint32_t uid;
	int r, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: entra-login show NAME\n");
		return 2;
	}
	r = udb_open(cfg, &db);
	if (r < 0 && r != EL_ERR_NOT_FOUND) {
		fprintf(stderr, "entra-login: cannot read the user database in %s: %s\n", cfg->state_dir,
			el_strerror(r));
		return 1;
	}
	r = db ? udb_lookup_name(db, argv[1], &u) : EL_ERR_NOT_FOUND;
	if (r == 0) {
		print_user(cfg, &u);
		rc = 0;
		goto out;
	}
	if (r != EL_ERR_NOT_FOUND) {
		fprintf(stderr, "entra-login: cannot read the user database in %s: %s\n", cfg->state_dir,
			el_strerror(r));
		goto out;
	}
	if (!name_is_ours(cfg, argv[1])) {
		fprintf(stderr, "entra-login: '%.64s' is not a directory user name (lower-case UPN in %s%s)\n", argv[1],
			cfg->domains.n ? cfg->domains.items[0] : "?", cfg->domains.n > 1 ? ", ..." : "");
		goto out;
	}
	r = uidmap_local_load(UIDMAP_PASSWD, UIDMAP_GROUP, &local);
	if (r == 0)
		r = uidmap_pick(cfg, local, argv[1], taken, db, db ? udb_count(db) : 0, &uid);
	if (r == EL_ERR_NOT_OURS)
		fprintf(stderr, "entra-login: %s is a local user or group, not a directory user\n", argv[1]);
	else if (r < 0)
		fprintf(stderr, "entra-login: %s: has not logged in; no uid available: %s\n", argv[1], el_strerror(r));
	else
		fprintf(stderr, "entra-login: %s has not logged in yet; its first login would get uid %u\n", argv[1],
			uid);
out:
	uidmap_local_free(local);
	udb_close(db);
	return rc;
}
