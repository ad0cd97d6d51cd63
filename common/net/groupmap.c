/* groupmap.c - the "groups" role source and the group mapping (groupmap.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "graph.h"
#include "groupmap.h"
#include "http.h"
#include "names.h"
#include "userdb.h"

bool groupmap_filter_pass(const struct el_config *cfg, const char *oid, const char *name)
{
	for (size_t i = 0; i < cfg->group_filter.n; i++) {
		const char *f = cfg->group_filter.items[i];

		if (strcmp(f, "all") == 0 || strcmp(f, oid) == 0)
			return true;
		if (strncmp(f, "prefix:", 7) == 0 && strncmp(name, f + 7, strlen(f + 7)) == 0)
			return true;
	}
	return false;
}

static enum el_role role_of(const struct el_config *cfg, const char *group, enum el_role best)
{
	if (!group || !name_is_guid(group))
		return best;
	for (size_t i = 0; i < cfg->admin_groups.n; i++)
		if (strcasecmp(cfg->admin_groups.items[i], group) == 0)
			return EL_ROLE_ADMIN;
	for (size_t i = 0; i < cfg->allow_groups.n; i++)
		if (strcasecmp(cfg->allow_groups.items[i], group) == 0 && best < EL_ROLE_USER)
			return EL_ROLE_USER;
	return best;
}

int groupmap_role(const struct el_config *cfg, const struct role_input *in, uint64_t deadline_ms,
		  enum el_role *ret_role)
{
	struct graph_groups *g = NULL;
	enum el_role role = EL_ROLE_NONE;
	int r;

	/* A token's groups claim is complete (at most 200 groups, else the
	 * overage marker replaces it): no request needed. Overage means "ask
	 * Graph", never "no groups" nor "all groups". */
	if (in->have_claims && !in->groups_overage && in->n_groups > 0 && in->groups) {
		for (size_t i = 0; i < in->n_groups; i++)
			role = role_of(cfg, in->groups[i], role);
		*ret_role = role;
		return 0;
	}
	if (!in->oid || !name_is_guid(in->oid))
		return EL_ERR_ROLE_UNAVAILABLE;
	r = graph_user_groups(cfg, in->oid, deadline_ms, time(NULL), &g);
	if (r < 0)
		return r;
	for (size_t i = 0; i < g->n; i++)
		role = role_of(cfg, g->items[i].id, role);
	graph_groups_free(g);
	*ret_role = role;
	return 0;
}

/* Owned copies of one mapped group's id and name (g is freed before the write). */
struct gname {
	char oid[EL_GUID_LEN + 1];
	char name[GDB_NAME_MAX + 1];
};

/* The mappable groups of g (filter passed, usable name) for uid. */
static int to_change(const struct el_config *cfg, const struct graph_groups *g, uint32_t uid,
		     struct gdb_in_group **ret_in, struct gname **ret_names, struct gdb_change *ret_ch,
		     gdb_refused_fn refused, void *rd)
{
	struct gdb_in_group *in = calloc(g->n ? g->n : 1, sizeof(*in));
	struct gname *names = calloc(g->n ? g->n : 1, sizeof(*names));
	size_t n = 0;

	if (!in || !names) {
		free(in);
		free(names);
		return EL_ERR_NOMEM;
	}
	for (size_t i = 0; i < g->n; i++) {
		if (!g->items[i].name || gdb_sanitize_name(g->items[i].name, names[n].name, sizeof(names[n].name)) < 0) {
			/* Only worth a log line when the filter names the group by id. */
			if (refused && groupmap_filter_pass(cfg, g->items[i].id, ""))
				refused(rd, g->items[i].id, "", "no usable name in group_name_attribute");
			continue;
		}
		if (!groupmap_filter_pass(cfg, g->items[i].id, names[n].name))
			continue;
		memcpy(names[n].oid, g->items[i].id, sizeof(names[n].oid));
		in[n].oid = names[n].oid;
		in[n].name = names[n].name;
		n++;
	}
	*ret_ch = (struct gdb_change){ uid, in, n };
	*ret_in = in;
	*ret_names = names;
	return 0;
}

int groupmap_user(const struct el_config *cfg, uint32_t uid, const char *oid, uint64_t deadline_ms,
		  gdb_refused_fn refused, void *refused_data)
{
	struct graph_groups *g = NULL;
	struct gdb_in_group *in = NULL;
	struct gname *names = NULL;
	struct gdb_change ch;
	int r;

	if (!cfg->groups_mapped)
		return 0;
	r = graph_user_groups(cfg, oid, deadline_ms, time(NULL), &g);
	if (r < 0)
		goto out;
	r = to_change(cfg, g, uid, &in, &names, &ch, refused, refused_data);
	if (r < 0)
		goto out;
	r = gdb_apply(cfg, &ch, 1, NULL, NULL, refused, refused_data);
out:
	graph_groups_free(g);
	free(in);
	free(names);
	return r;
}

struct member {
	uint32_t uid;
	char oid[EL_GUID_LEN + 1];
};

struct collect {
	struct member *m;
	size_t n, cap;
};

static int collect_one(const struct udb_user *u, void *userdata)
{
	struct collect *c = userdata;

	if (!u->bound || u->role == UDB_ROLE_NONE)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct member *p = realloc(c->m, cap * sizeof(*p));

		if (!p)
			return EL_ERR_NOMEM;
		c->m = p;
		c->cap = cap;
	}
	c->m[c->n].uid = u->uid;
	udb_guid_format(u->oid, c->m[c->n].oid);
	c->n++;
	return 0;
}

static int cmp_member(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static bool keep_member(void *userdata, uint32_t uid)
{
	const struct collect *c = userdata;
	struct member key = { .uid = uid };

	return bsearch(&key, c->m, c->n, sizeof(*c->m), cmp_member) != NULL;
}

int groupmap_refresh(const struct el_config *cfg, unsigned per_user_s, gdb_refused_fn refused, void *refused_data,
		     struct groupmap_stats *ret_stats)
{
	struct groupmap_stats st = { 0 };
	struct collect c = { 0 };
	struct gdb_change *ch = NULL;
	struct gdb_in_group **ins = NULL;
	struct gname **names = NULL;
	size_t nch = 0;
	int r;

	if (!cfg->groups_mapped) {
		*ret_stats = st;
		return 0;
	}
	r = udb_foreach(cfg, collect_one, &c);
	if (r < 0)
		goto out;
	qsort(c.m, c.n, sizeof(*c.m), cmp_member);
	ch = calloc(c.n ? c.n : 1, sizeof(*ch));
	ins = calloc(c.n ? c.n : 1, sizeof(*ins));
	names = calloc(c.n ? c.n : 1, sizeof(*names));
	if (!ch || !ins || !names) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < c.n; i++) {
		struct graph_groups *g = NULL;

		st.users++;
		r = graph_user_groups(cfg, c.m[i].oid, http_deadline_in(per_user_s), time(NULL), &g);
		if (r == EL_ERR_NOMEM)
			goto out;
		if (r < 0) {
			st.unavailable++;	/* keeps what it had: not in the changes */
			st.last_err = r;
			continue;
		}
		r = to_change(cfg, g, c.m[i].uid, &ins[nch], &names[nch], &ch[nch], refused, refused_data);
		graph_groups_free(g);
		if (r < 0)
			goto out;
		nch++;
		st.mapped++;
	}
	r = gdb_apply(cfg, ch, nch, keep_member, &c, refused, refused_data);
	if (r < 0)
		goto out;
	*ret_stats = st;
out:
	for (size_t i = 0; i < nch; i++) {
		free(ins[i]);
		free(names[i]);
	}
	free(ch);
	free(ins);
	free(names);
	free(c.m);
	return r;
}
