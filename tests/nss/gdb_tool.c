/* gdb_tool - build a groups.db for tests and benchmarks without Graph.
 *
 *   gdb_tool CONF bench G   with the users of users.db (udb_tool bulk): G groups
 *                           "grp-<i>" (object id from i); user k is in group
 *                           k % G; the first user is also in groups 0..199
 *                           (initgroups of a user in 200 groups); one more
 *                           group "grp-solo" holds only the second user.
 * Prints gid of grp-0 and grp-solo; exit 0, or the EL_ERR_* name and 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "groupdb.h"
#include "userdb.h"

struct all {
	uint32_t *uids;
	size_t n, cap;
};

static int collect(const struct udb_user *u, void *userdata)
{
	struct all *a = userdata;

	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 1024;
		uint32_t *p = realloc(a->uids, cap * sizeof(*p));

		if (!p)
			return EL_ERR_NOMEM;
		a->uids = p;
		a->cap = cap;
	}
	a->uids[a->n++] = u->uid;
	return 0;
}

static int fail(int r)
{
	printf("%s\n", el_errname(r));
	return 1;
}

int main(int argc, char **argv)
{
	struct el_config *cfg = NULL;
	struct all a = { 0 };
	char err[512];
	unsigned g;
	int r;

	if (argc != 4 || strcmp(argv[2], "bench") != 0 || (g = (unsigned)atoi(argv[3])) < 201) {
		fprintf(stderr, "usage: gdb_tool CONF bench G (G > 200)\n");
		return 2;
	}
	r = cfg_load(argv[1], &cfg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	r = udb_foreach(cfg, collect, &a);
	if (r < 0 || a.n < 2)
		return fail(r < 0 ? r : EL_ERR_NOT_FOUND);
	{
		char (*oids)[37] = calloc(g + 1, sizeof(*oids)), (*names)[33] = calloc(g + 1, sizeof(*names));
		struct gdb_in_group *in = calloc(a.n + 200 + 1, sizeof(*in));
		struct gdb_change *ch = calloc(a.n, sizeof(*ch));
		struct gdb *db = NULL;
		struct gdb_group gr;
		size_t k = 0;

		if (!oids || !names || !in || !ch)
			return fail(EL_ERR_NOMEM);
		for (unsigned i = 0; i <= g; i++) {
			snprintf(oids[i], 37, "%08x-0000-4000-8000-%012x", i, i * 7919u);
			if (i == g)
				snprintf(names[i], 33, "grp-solo");
			else
				snprintf(names[i], 33, "grp-%u", i);
		}
		for (size_t u = 0; u < a.n; u++) {
			ch[u].uid = a.uids[u];
			ch[u].groups = &in[k];
			if (u == 0) {
				for (unsigned i = 0; i < 200; i++)
					in[k++] = (struct gdb_in_group){ oids[i], names[i] };
			} else {
				in[k++] = (struct gdb_in_group){ oids[u % g], names[u % g] };
				if (u == 1)
					in[k++] = (struct gdb_in_group){ oids[g], names[g] };
			}
			ch[u].n_groups = (size_t)(&in[k] - ch[u].groups);
		}
		r = gdb_apply(cfg, ch, a.n, NULL, NULL, NULL, NULL);
		if (r < 0)
			return fail(r);
		r = gdb_open(cfg, &db);
		if (r < 0)
			return fail(r);
		if (gdb_lookup_name(db, "grp-0", &gr) == 0)
			printf("grp-0 %u %u\n", gr.gid, gr.n_members);
		if (gdb_lookup_name(db, "grp-solo", &gr) == 0)
			printf("grp-solo %u %u\n", gr.gid, gr.n_members);
		gdb_close(db);
		free(oids);
		free(names);
		free(in);
		free(ch);
	}
	free(a.uids);
	cfg_free(cfg);
	return 0;
}
