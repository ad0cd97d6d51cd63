/* cmd_forget.c - `entra-login forget NAME [--purge]`: drop a user's binding
 * to its Entra object and its role. The name keeps its uid, so files it
 * owns never pass to someone else; a new object may then log in under the
 * name. --purge also removes the name and frees the uid.
 * Exit 0 done, 1 unknown name or database error, 2 usage. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "conf.h"
#include "userdb.h"

int cmd_forget(const struct el_config *cfg, int argc, char **argv)
{
	struct udb *db = NULL;
	struct udb_user u;
	const char *name = NULL;
	bool purge = false, bad = false;
	uint32_t uid = 0;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--purge") == 0 && !purge)
			purge = true;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else
			bad = true;
	}
	if (!name || bad) {
		fprintf(stderr, "usage: entra-login forget NAME [--purge]\n");
		return 2;
	}
	if (udb_open(cfg, &db) == 0 && udb_lookup_name(db, name, &u) == 0)
		uid = u.uid;
	udb_close(db);
	r = udb_forget(cfg, name, purge);
	if (r == EL_ERR_NOT_FOUND) {
		fprintf(stderr, "entra-login: %.64s is not in the user database\n", name);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "entra-login: cannot forget %.64s: %s\n", name, el_strerror(r));
		return 1;
	}
	if (purge)
		printf("%s: removed; uid %u is free again\n", name, uid);
	else
		printf("%s: binding and role removed; uid %u stays reserved for this name\n", name, uid);
	return 0;
}
