/* cmd_forget.c - what an administrator does to a name over its life:
 *
 *   forget NAME          drop the binding and role and BLOCK the name. The
 *                        name keeps its uid and remembers the directory
 *                        object it was bound to: nobody logs in as it until
 *                        `unblock` (then only that same object, same uid) or
 *                        `release` (then whoever signs in next, fresh uid).
 *   forget NAME --purge  retire the name: a tombstone NSS never answers;
 *                        its uid stays reserved; nobody is given the name
 *                        until `release`.
 *   block / unblock NAME refuse every login of a name (and drop its role),
 *                        or allow them again.
 *   release NAME         free a forgotten or retired name (also the
 *                        tombstone `rename` leaves): the next sign-in under
 *                        it gets a fresh uid; the old uid stays reserved
 *                        ("#UID" in `users`), so its files never pass on.
 *
 * forget, block and release also drop the decisions `authorized-keys` cached
 * and the name's certificate grant, so a certificate login decided before
 * them is not replayed. A uid handed out is never given to anybody else.
 * Exit 0 done, 1 unknown name, refused or database error, 2 usage. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ak_cache.h"
#include "certgrant.h"
#include "cmds.h"
#include "conf.h"
#include "userdb.h"

/* Decisions made before the change must not outlive it (best effort: the
 * database state is what PAM and authorized-keys check first). */
static void drop_decisions(const struct el_config *cfg, const char *name)
{
	if (ak_cache_clear(cfg) < 0)
		fprintf(stderr, "entra-login: warning: could not clear the authorized-keys cache\n");
	(void)!certgrant_clear(cfg, name);
}

static int one_name(int argc, char **argv, const char *flag, bool *ret_flag, const char **ret_name)
{
	bool bad = false, f = false;
	const char *name = NULL;

	for (int i = 1; i < argc; i++) {
		if (flag && strcmp(argv[i], flag) == 0 && !f)
			f = true;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else
			bad = true;
	}
	if (!name || bad)
		return -1;
	*ret_name = name;
	if (ret_flag)
		*ret_flag = f;
	return 0;
}

static uint32_t uid_of(const struct el_config *cfg, const char *name)
{
	struct udb *db = NULL;
	struct udb_user u;
	uint32_t uid = 0;

	if (udb_open(cfg, &db) == 0 && udb_lookup_name(db, name, &u) == 0)
		uid = u.uid;
	udb_close(db);
	return uid;
}

int cmd_forget(const struct el_config *cfg, int argc, char **argv)
{
	const char *name = NULL;
	bool purge = false;
	uint32_t uid;
	int r;

	if (one_name(argc, argv, "--purge", &purge, &name) < 0) {
		fprintf(stderr, "usage: entra-login forget NAME [--purge]\n");
		return 2;
	}
	uid = uid_of(cfg, name);
	r = udb_forget(cfg, name, purge);
	if (r == EL_ERR_NOT_FOUND) {
		fprintf(stderr, "entra-login: %.64s is not in the user database\n", name);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "entra-login: cannot forget %.64s: %s\n", name, el_strerror(r));
		return 1;
	}
	drop_decisions(cfg, name);
	if (purge)
		printf("%s: retired; uid %u stays reserved; nobody is given the name until "
		       "'entra-login release %s'\n", name, uid, name);
	else
		printf("%s: binding and role removed, name blocked; uid %u stays reserved for this name "
		       "('entra-login unblock %s' lets the same account back, 'entra-login release %s' frees the name)\n",
		       name, uid, name, name);
	return 0;
}

static int block(const struct el_config *cfg, int argc, char **argv, bool on)
{
	const char *name = NULL;
	int r;

	if (one_name(argc, argv, NULL, NULL, &name) < 0) {
		fprintf(stderr, "usage: entra-login %s NAME\n", on ? "block" : "unblock");
		return 2;
	}
	r = udb_block(cfg, name, on);
	if (r == EL_ERR_NOT_FOUND) {
		fprintf(stderr, "entra-login: %.64s is not in the user database\n", name);
		return 1;
	}
	if (r == EL_ERR_NAME_RETIRED) {
		fprintf(stderr, "entra-login: %.64s is retired (renamed away or purged): "
			"'entra-login release %.64s' frees it\n", name, name);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "entra-login: cannot %s %.64s: %s\n", on ? "block" : "unblock", name, el_strerror(r));
		return 1;
	}
	if (on) {
		drop_decisions(cfg, name);
		printf("%s: blocked; every login is refused until 'entra-login unblock %s'\n", name, name);
	} else {
		printf("%s: unblocked\n", name);
	}
	return 0;
}

int cmd_block(const struct el_config *cfg, int argc, char **argv)
{
	return block(cfg, argc, argv, true);
}

int cmd_unblock(const struct el_config *cfg, int argc, char **argv)
{
	return block(cfg, argc, argv, false);
}

int cmd_release(const struct el_config *cfg, int argc, char **argv)
{
	const char *name = NULL;
	uint32_t uid = 0;
	int r;

	if (one_name(argc, argv, NULL, NULL, &name) < 0) {
		fprintf(stderr, "usage: entra-login release NAME\n");
		return 2;
	}
	r = udb_release(cfg, name, &uid);
	if (r == EL_ERR_NOT_FOUND) {
		fprintf(stderr, "entra-login: %.64s is not in the user database\n", name);
		return 1;
	}
	if (r == EL_ERR_BOUND_OTHER) {
		fprintf(stderr, "entra-login: %.64s is bound to a directory account: 'entra-login forget %.64s' first\n",
			name, name);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "entra-login: cannot release %.64s: %s\n", name, el_strerror(r));
		return 1;
	}
	drop_decisions(cfg, name);
	if (uid)
		printf("%s: released; the next sign-in under this name gets a new uid; uid %u stays reserved (#%u)\n",
		       name, uid, uid);
	else
		printf("%s: released; the next sign-in under this name gets a new uid\n", name);
	return 0;
}
