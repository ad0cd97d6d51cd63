/* udb_tool - drive the user database writer API from tests and benchmarks.
 *
 *   udb_tool CONF login NAME OID TID ROLE [DISPLAY [NOW]]   prints the uid
 *   udb_tool CONF bulk N [DOMAIN]      N users u<i>@DOMAIN in one write;
 *                                      every 10th admin, every 7th none, rest user
 *   udb_tool CONF import N [DOMAIN]    N pinned users u<i>@DOMAIN (uid 2000000+i, home
 *                                      /home/u<i>_1, shell /bin/sh) through udb_import
 *   udb_tool CONF flip N               N rewrites: users' display "gen <k>",
 *                                      all admin when k is even, all user when odd
 *   udb_tool CONF role NAME ROLE [SOURCE]   (compare-and-set on NAME's current binding;
 *                                      SOURCE claims|static|arm, default arm)
 *   udb_tool CONF forget NAME [--purge] | check NAME OID TID | block NAME | unblock NAME
 *                | release NAME
 *   udb_tool CONF dump                 one line per user
 * Exit 0 on success; otherwise prints the EL_ERR_* name and exits 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "userdb.h"

static int fail(int r)
{
	printf("%s\n", el_errname(r));
	return 1;
}

static void guid_for(unsigned i, unsigned salt, char buf[37])
{
	snprintf(buf, 37, "%08x-%04x-4%03x-8%03x-%012x", i, salt, i % 4096, salt % 4096, i * 7919u);
}

static int print_user(const struct udb_user *u, void *userdata)
{
	char oid[37], tid[37];

	(void)userdata;
	udb_guid_format(u->oid, oid);
	udb_guid_format(u->tid, tid);
	printf("%s:%u:%s:%d:%s:%s:%lld:%lld:%s\n", u->name, u->uid, udb_role_name(u->role), u->bound, oid, tid,
	       (long long)u->first_login, (long long)u->last_login, u->display_name);
	return 0;
}

static int bulk(const struct el_config *cfg, unsigned n, const char *domain, int gen, const char *tag)
{
	struct udb_login *l = calloc(n ? n : 1, sizeof(*l));
	char *names = calloc(n ? n : 1, 80), *guids = calloc(n ? n : 1, 37), *disp = calloc(n ? n : 1, 64);
	char tid[37];
	int r;

	if (!l || !names || !guids || !disp)
		return EL_ERR_NOMEM;
	guid_for(0xffff, 1, tid);
	for (unsigned i = 0; i < n; i++) {
		snprintf(names + 80 * i, 80, "u%06u@%s", i, domain);
		guid_for(i, 2, guids + 37 * i);
		if (gen >= 0)
			snprintf(disp + 64 * i, 64, "gen %d", gen);
		else
			snprintf(disp + 64 * i, 64, "%s User %u", tag, i);
		l[i].name = names + 80 * i;
		l[i].oid = guids + 37 * i;
		l[i].tid = tid;
		l[i].display_name = disp + 64 * i;
		if (gen >= 0)
			l[i].role = gen % 2 == 0 ? UDB_ROLE_ADMIN : UDB_ROLE_USER;
		else
			l[i].role = i % 10 == 0 ? UDB_ROLE_ADMIN : i % 7 == 0 ? UDB_ROLE_NONE : UDB_ROLE_USER;
	}
	r = udb_record_logins(cfg, l, n, 1700000000 + (gen > 0 ? gen : 0));
	free(l);
	free(names);
	free(guids);
	free(disp);
	return r;
}

/* Imported users, as import-aadpasswd --apply adds them (pinned uid below uid_min). */
static int import(const struct el_config *cfg, unsigned n, const char *domain)
{
	struct udb_pinned *p = calloc(n ? n : 1, sizeof(*p));
	struct udb_import_status *st = calloc(n ? n : 1, sizeof(*st));
	char *names = calloc(n ? n : 1, 80), *guids = calloc(n ? n : 1, 37), *homes = calloc(n ? n : 1, 32);
	char tid[37];
	int r;

	if (!p || !st || !names || !guids || !homes)
		return EL_ERR_NOMEM;
	guid_for(0xffff, 1, tid);
	for (unsigned i = 0; i < n; i++) {
		snprintf(names + 80 * i, 80, "u%06u@%s", i, domain);
		guid_for(i, 3, guids + 37 * i);
		snprintf(homes + 32 * i, 32, "/home/u%06u_1", i);
		p[i] = (struct udb_pinned){ names + 80 * i, guids + 37 * i, tid, "Imported", homes + 32 * i, "/bin/sh",
					    2000000 + i };
	}
	r = udb_import(cfg, p, n, true, st);
	for (unsigned i = 0; r == 0 && i < n; i++)
		if (st[i].result != UDB_IMPORT_NEW && st[i].result != UDB_IMPORT_UNCHANGED)
			r = EL_ERR_INVAL;
	free(p);
	free(st);
	free(names);
	free(guids);
	free(homes);
	return r;
}

int main(int argc, char **argv)
{
	struct el_config *cfg = NULL;
	enum udb_role role;
	char err[512];
	int r;

	if (argc < 3) {
		fprintf(stderr, "usage: udb_tool CONF COMMAND ...\n");
		return 2;
	}
	r = cfg_load(argv[1], &cfg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "udb_tool: %s\n", err);
		return 2;
	}
	if (strcmp(argv[2], "login") == 0 && argc >= 7) {
		uint32_t uid = 0;

		r = udb_role_parse(argv[6], &role);
		if (r == 0)
			r = udb_record_login(cfg, argv[3], argv[4], argv[5], argc > 7 ? argv[7] : "", role,
					     argc > 8 ? strtoll(argv[8], NULL, 10) : 1700000000, &uid);
		if (r == 0)
			printf("%u\n", uid);
	} else if (strcmp(argv[2], "bulk") == 0 && argc >= 4) {
		r = bulk(cfg, (unsigned)strtoul(argv[3], NULL, 10), argc > 4 ? argv[4] : "contoso.com", -1,
			 argc > 5 ? argv[5] : "Test");
	} else if (strcmp(argv[2], "import") == 0 && argc >= 4) {
		r = import(cfg, (unsigned)strtoul(argv[3], NULL, 10), argc > 4 ? argv[4] : "contoso.com");
	} else if (strcmp(argv[2], "flip") == 0 && argc >= 4) {
		struct udb *db = NULL;
		unsigned n = 0, times = (unsigned)strtoul(argv[3], NULL, 10);

		r = udb_open(cfg, &db);
		if (r == 0)
			n = udb_count(db);
		udb_close(db);
		for (unsigned k = 0; r == 0 && k < times; k++)
			r = bulk(cfg, n, "contoso.com", (int)k + 1, NULL);
	} else if (strcmp(argv[2], "role") == 0 && argc >= 5) {
		struct udb *db = NULL;
		struct udb_user u;
		char oid[37] = "00000000-0000-0000-0000-000000000000", tid[37] = "00000000-0000-0000-0000-000000000000";
		enum udb_source src = UDB_SRC_ARM;

		if (argc > 5)
			src = !strcmp(argv[5], "claims") ? UDB_SRC_CLAIMS : !strcmp(argv[5], "static") ? UDB_SRC_STATIC
											 : UDB_SRC_ARM;
		if (udb_open(cfg, &db) == 0 && udb_lookup_name(db, argv[3], &u) == 0) {
			udb_guid_format(u.oid, oid);
			udb_guid_format(u.tid, tid);
		}
		udb_close(db);
		r = udb_role_parse(argv[4], &role);
		if (r == 0)
			r = udb_set_role(cfg, argv[3], oid, tid, role, src);
	} else if (strcmp(argv[2], "block") == 0 && argc >= 4) {
		r = udb_block(cfg, argv[3], true);
	} else if (strcmp(argv[2], "unblock") == 0 && argc >= 4) {
		r = udb_block(cfg, argv[3], false);
	} else if (strcmp(argv[2], "release") == 0 && argc >= 4) {
		r = udb_release(cfg, argv[3], NULL);
	} else if (strcmp(argv[2], "forget") == 0 && argc >= 4) {
		r = udb_forget(cfg, argv[3], argc > 4 && strcmp(argv[4], "--purge") == 0);
	} else if (strcmp(argv[2], "check") == 0 && argc >= 6) {
		r = udb_check_binding(cfg, argv[3], argv[4], argv[5]);
	} else if (strcmp(argv[2], "dump") == 0) {
		r = udb_foreach(cfg, print_user, NULL);
	} else {
		fprintf(stderr, "udb_tool: bad command\n");
		cfg_free(cfg);
		return 2;
	}
	cfg_free(cfg);
	return r < 0 ? fail(r) : 0;
}
