/* cmd_users.c - `entra-login users`: the directory users this host knows,
 * one line each: name, uid, role, oid, last login (UTC). Forgotten names
 * (uid kept, no binding) show oid "-". Exit 0, or 1 if the user database
 * cannot be read. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmds.h"
#include "conf.h"
#include "userdb.h"

static void format_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "never");
}

static int print_row(const struct udb_user *u, void *userdata)
{
	char oid[37] = "-", when[32];

	(*(unsigned *)userdata)++;
	if (u->bound)
		udb_guid_format(u->oid, oid);
	format_time(u->last_login, when, sizeof(when));
	printf("%-40s %10u  %-5s  %-36s  %s%s\n", u->name, u->uid, udb_role_name(u->role), oid, when,
	       u->name[0] == UDB_RESERVED_PREFIX ? "  (uid reserved)" : u->retired ? "  (retired: release to free)"
	       : u->blocked ? "  (blocked)" : "");
	return 0;
}

int cmd_users(const struct el_config *cfg, int argc, char **argv)
{
	unsigned n = 0;
	int r;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: entra-login users\n");
		return 2;
	}
	printf("%-40s %10s  %-5s  %-36s  %s\n", "NAME", "UID", "ROLE", "OID", "LAST LOGIN");
	r = udb_foreach(cfg, print_row, &n);
	if (r < 0) {
		fprintf(stderr, "entra-login: cannot read the user database in %s: %s\n", cfg->state_dir,
			el_strerror(r));
		return 1;
	}
	return 0;
}
