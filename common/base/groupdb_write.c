/* groupdb_write.c - replace groups.db: lock, merge, assign gids, write whole.
 *
 * A transaction: flock <state_dir>/groups.lock, map the current file, take
 * every membership of a uid that is not being changed (and that keep()
 * still knows), add the changed uids' new memberships, refuse the groups
 * whose name cannot be used, give each group its gid (the one it had, else
 * the hash of its object id, probing), and write the result with
 * file_write_atomic (temp, fsync, rename, fsync of the directory). Readers
 * that mapped the old file keep it until they look again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "groupdb.h"
#include "strutil.h"
#include "uidmap.h"
#include "userdb.h"

#define GDB_LOCK_TIMEOUT_MS 10000

struct memb {			/* one membership */
	char oid[EL_GUID_LEN + 1];
	char name[GDB_NAME_MAX + 1];
	uint32_t uid;
	bool fresh;		/* from changes (its name wins) */
};

struct wgroup {
	const struct memb *first;	/* run of memberships in the sorted memb array */
	size_t n;
	const char *name;
	uint32_t gid, old_gid;
	bool refused;
};

struct pair {
	uint32_t uid, gid;
};

struct build {
	struct memb *m;
	size_t n, cap;
	struct wgroup *g;
	size_t ng;
};

static int memb_add(struct build *b, const char *oid, const char *name, uint32_t uid, bool fresh)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 256;
		struct memb *p;

		if (cap > GDB_IDS_MAX)
			return EL_ERR_RANGE;
		p = realloc(b->m, cap * sizeof(*p));
		if (!p)
			return EL_ERR_NOMEM;
		b->m = p;
		b->cap = cap;
	}
	if (str_copy(b->m[b->n].oid, sizeof(b->m[b->n].oid), oid) < 0 ||
	    str_copy(b->m[b->n].name, sizeof(b->m[b->n].name), name) < 0)
		return EL_ERR_INVAL;
	b->m[b->n].uid = uid;
	b->m[b->n].fresh = fresh;
	b->n++;
	return 0;
}

static int cmp_memb(const void *a, const void *b)
{
	const struct memb *x = a, *y = b;
	int c = strcmp(x->oid, y->oid);

	if (c)
		return c;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_gname(const void *a, const void *b)
{
	const struct wgroup *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int cmp_ggid(const void *a, const void *b)
{
	const struct wgroup *x = a, *y = b;

	return x->gid < y->gid ? -1 : x->gid > y->gid;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return x->gid < y->gid ? -1 : x->gid > y->gid;
}

/* A set of uint32 ids (open addressing, 0 never stored: gids are >= 1000). */
struct idset {
	uint32_t *slot;
	uint32_t mask;
};

static int idset_init(struct idset *s, size_t n)
{
	uint32_t slots = 16;

	while (slots < 2 * n + 16)
		slots *= 2;
	s->slot = calloc(slots, sizeof(uint32_t));
	if (!s->slot)
		return EL_ERR_NOMEM;
	s->mask = slots - 1;
	return 0;
}

static bool idset_has(const struct idset *s, uint32_t id)
{
	for (uint32_t i = udb_mix32(id) & s->mask;; i = (i + 1) & s->mask) {
		if (s->slot[i] == 0)
			return false;
		if (s->slot[i] == id)
			return true;
	}
}

static void idset_put(struct idset *s, uint32_t id)
{
	uint32_t i = udb_mix32(id) & s->mask;

	while (s->slot[i] != 0 && s->slot[i] != id)
		i = (i + 1) & s->mask;
	s->slot[i] = id;
}

static int lock_take(const struct el_config *cfg, int *ret_fd)
{
	char path[4096];
	int fd, n;

	if (mkdir(cfg->state_dir, 0755) < 0 && errno != EEXIST)
		return EL_ERR_IO;
	n = dir_safe(cfg->state_dir, false);
	if (n < 0)
		return n == EL_ERR_NOT_FOUND ? EL_ERR_IO : n;
	n = snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, GDB_LOCK_FILE);
	if (n < 0 || (size_t)n >= sizeof(path))
		return EL_ERR_RANGE;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return EL_ERR_IO;
	if (fd_lock_wait(fd, GDB_LOCK_TIMEOUT_MS, GDB_LOCK_TIMEOUT_MS, NULL) < 0) {
		close(fd);
		return EL_ERR_LOCK;
	}
	*ret_fd = fd;
	return 0;
}

/* The memberships to keep from the old file. */
static int take_old(struct build *b, const struct gdb *old, const uint32_t *changed, size_t n_changed,
		    gdb_keep_fn keep, void *keep_data)
{
	struct gdb_group g;
	int r;

	for (uint32_t i = 0; i < gdb_count(old); i++) {
		r = gdb_get(old, i, &g);
		if (r < 0)
			return r;
		for (uint32_t k = 0; k < g.n_members; k++) {
			uint32_t uid = g.members[k];

			if (bsearch(&uid, changed, n_changed, sizeof(uint32_t), cmp_u32))
				continue;
			if (keep && !keep(keep_data, uid))
				continue;
			r = memb_add(b, g.oid, g.name, uid, false);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

struct oldgid {
	char oid[EL_GUID_LEN + 1];
	uint32_t gid;
};

static int cmp_oldgid(const void *a, const void *b)
{
	return strcmp(((const struct oldgid *)a)->oid, ((const struct oldgid *)b)->oid);
}

/* Group the sorted memberships by oid; name = a fresh one if any; the gid
 * the group had in the old file, if any. */
static int make_groups(struct build *b, const struct gdb *old)
{
	struct oldgid *og = NULL;
	struct gdb_group g;
	size_t i = 0, nog = 0;

	b->g = calloc(b->n ? b->n : 1, sizeof(*b->g));
	og = calloc(gdb_count(old) ? gdb_count(old) : 1, sizeof(*og));
	if (!b->g || !og) {
		free(og);
		return EL_ERR_NOMEM;
	}
	for (uint32_t k = 0; k < gdb_count(old); k++)
		if (gdb_get(old, k, &g) == 0) {
			memcpy(og[nog].oid, g.oid, sizeof(og[nog].oid));
			og[nog++].gid = g.gid;
		}
	qsort(og, nog, sizeof(*og), cmp_oldgid);
	while (i < b->n) {
		struct wgroup *w = &b->g[b->ng++];
		const struct oldgid *hit;
		size_t j = i;

		w->first = &b->m[i];
		w->name = b->m[i].name;
		while (j < b->n && strcmp(b->m[j].oid, b->m[i].oid) == 0) {
			if (b->m[j].fresh)
				w->name = b->m[j].name;
			j++;
		}
		w->n = j - i;
		hit = bsearch(b->m[i].oid, og, nog, sizeof(*og), cmp_oldgid);
		if (hit)
			w->old_gid = hit->gid;
		i = j;
	}
	free(og);
	return 0;
}

static void refuse_names(const struct el_config *cfg, struct build *b, const struct uidmap_local *local,
			 gdb_refused_fn refused, void *rd)
{
	struct wgroup **by = calloc(b->ng ? b->ng : 1, sizeof(*by));

	for (size_t i = 0; i < b->ng; i++) {
		struct wgroup *w = &b->g[i];

		if (strcmp(w->name, cfg->admin_group) == 0 || strcmp(w->name, cfg->user_group) == 0 ||
		    (local && uidmap_local_has_name(local, w->name))) {
			w->refused = true;
			if (refused)
				refused(rd, w->first->oid, w->name, "a local user or group (or a role group) has this name");
		}
	}
	if (!by) {		/* no memory to look for collisions: map nothing */
		for (size_t i = 0; i < b->ng; i++)
			b->g[i].refused = true;
		return;
	}
	for (size_t i = 0; i < b->ng; i++)
		by[i] = &b->g[i];
	qsort(by, b->ng, sizeof(*by), cmp_gname);
	for (size_t i = 0; i + 1 < b->ng; i++) {
		if (strcmp(by[i]->name, by[i + 1]->name) != 0)
			continue;
		for (size_t j = i; j < b->ng && strcmp(by[j]->name, by[i]->name) == 0; j++) {
			if (!by[j]->refused && refused)
				refused(rd, by[j]->first->oid, by[j]->name, "another mapped group has the same name");
			by[j]->refused = true;
		}
	}
	free(by);
}

static bool gid_free(const struct el_config *cfg, const struct idset *used, const struct uidmap_local *local,
		     uint32_t gid)
{
	return gid >= cfg->gid_min && gid <= cfg->gid_max && gid != cfg->admin_gid && gid != cfg->user_gid &&
	       !idset_has(used, gid) && !(local && uidmap_local_has_id(local, gid));
}

static int assign_gids(const struct el_config *cfg, struct build *b, const struct uidmap_local *local,
		       gdb_refused_fn refused, void *rd)
{
	struct idset used;
	uint64_t span = (uint64_t)cfg->gid_max - cfg->gid_min + 1;
	int r;

	r = idset_init(&used, b->ng);
	if (r < 0)
		return r;
	for (size_t i = 0; i < b->ng; i++) {
		struct wgroup *w = &b->g[i];

		if (!w->refused && w->old_gid && gid_free(cfg, &used, local, w->old_gid)) {
			w->gid = w->old_gid;
			idset_put(&used, w->gid);
		}
	}
	/* New groups in object id order: the same directory gives the same gids. */
	for (size_t i = 0; i < b->ng; i++) {
		struct wgroup *w = &b->g[i];
		uint32_t gid;
		uint64_t tries = 0;

		if (w->refused || w->gid)
			continue;
		gid = gdb_gid_hash(cfg, w->first->oid);
		while (!gid_free(cfg, &used, local, gid) && ++tries < span)
			gid = gid == cfg->gid_max ? cfg->gid_min : gid + 1;
		if (tries >= span) {
			w->refused = true;
			if (refused)
				refused(rd, w->first->oid, w->name, "no free gid left in gid_min..gid_max");
			continue;
		}
		w->gid = gid;
		idset_put(&used, gid);
	}
	free(used.slot);
	return 0;
}

static uint32_t slots_for(size_t n)
{
	uint32_t s = 8;

	while (s <= 2 * n)
		s *= 2;
	return s;
}

static size_t al8(size_t x)
{
	return (x + 7) & ~(size_t)7;
}

/* Serialize the accepted groups. */
static int serialize(struct build *b, uint64_t generation, unsigned char **ret_buf, size_t *ret_len)
{
	struct wgroup *acc = NULL;
	struct pair *pairs = NULL;
	unsigned char *buf = NULL;
	size_t na = 0, np = 0, nu = 0, strings_len = 0, n_ids, size;
	uint32_t slots;
	int r = EL_ERR_NOMEM;

	acc = calloc(b->ng ? b->ng : 1, sizeof(*acc));
	pairs = calloc(b->n ? b->n : 1, sizeof(*pairs));
	if (!acc || !pairs)
		goto out;
	for (size_t i = 0; i < b->ng; i++) {
		if (b->g[i].refused)
			continue;
		acc[na++] = b->g[i];
		strings_len += strlen(b->g[i].name) + 1;
		for (size_t k = 0; k < b->g[i].n; k++)
			pairs[np++] = (struct pair){ b->g[i].first[k].uid, b->g[i].gid };
	}
	r = EL_ERR_RANGE;
	if (na > GDB_GROUPS_MAX || np > GDB_IDS_MAX / 2)
		goto out;
	qsort(acc, na, sizeof(*acc), cmp_ggid);
	qsort(pairs, np, sizeof(*pairs), cmp_pair);
	for (size_t i = 0; i < np; i++)
		if (i == 0 || pairs[i].uid != pairs[i - 1].uid)
			nu++;
	slots = slots_for(na);
	n_ids = 2 * np;
	{
		struct gdb_disk_hdr h = { .version = GDB_VERSION, .bom = GDB_BOM };
		size_t off = GDB_HEADER_SIZE, s_off, ids_at = 0, str_at = 0;
		struct gdb_disk_group *dg;
		struct udb_disk_slot *tab;
		struct gdb_disk_user *du;
		uint32_t *ids;
		char *strs;

		memcpy(h.magic, GDB_MAGIC, 8);
		h.n_groups = (uint32_t)na;
		h.n_users = (uint32_t)nu;
		h.groups_off = off;
		off = al8(off + na * GDB_GROUP_SIZE);
		h.name_slots = slots;
		h.name_table_off = off;
		off = al8(off + (size_t)slots * sizeof(struct udb_disk_slot));
		h.users_off = off;
		off = al8(off + nu * GDB_USER_SIZE);
		h.ids_off = off;
		h.n_ids = n_ids;
		off = al8(off + n_ids * 4);
		h.strings_off = off;
		h.strings_len = strings_len;
		s_off = off;
		size = al8(off + strings_len);
		h.file_size = size;
		h.generation = generation;
		r = EL_ERR_RANGE;
		if (size > GDB_SIZE_MAX)
			goto out;
		r = EL_ERR_NOMEM;
		buf = calloc(1, size);
		if (!buf)
			goto out;
		dg = (struct gdb_disk_group *)(buf + h.groups_off);
		tab = (struct udb_disk_slot *)(buf + h.name_table_off);
		du = (struct gdb_disk_user *)(buf + h.users_off);
		ids = (uint32_t *)(buf + h.ids_off);
		strs = (char *)(buf + s_off);
		for (size_t i = 0; i < na; i++) {
			size_t nl = strlen(acc[i].name);
			uint64_t hh = udb_hash64(acc[i].name, nl, GDB_SEED_NAME), sum;
			uint32_t slot = (uint32_t)hh & (slots - 1);

			dg[i].gid = acc[i].gid;
			dg[i].n_members = (uint32_t)acc[i].n;
			dg[i].members = (uint32_t)ids_at;
			for (size_t k = 0; k < acc[i].n; k++)
				ids[ids_at++] = acc[i].first[k].uid;
			dg[i].name_off = (uint32_t)str_at;
			dg[i].name_len = (uint16_t)nl;
			memcpy(strs + str_at, acc[i].name, nl + 1);
			str_at += nl + 1;
			if (udb_guid_parse(acc[i].first->oid, dg[i].oid) < 0) {
				r = EL_ERR_INVAL;
				goto out;
			}
			sum = udb_hash64(&dg[i], offsetof(struct gdb_disk_group, checksum), GDB_SEED_REC);
			sum = udb_hash64(strs + dg[i].name_off, (uint64_t)nl + 1, sum);
			dg[i].checksum = udb_hash64(ids + dg[i].members, (uint64_t)dg[i].n_members * 4, sum);
			while (tab[slot].rec1 != 0)
				slot = (slot + 1) & (slots - 1);
			tab[slot].key = (uint32_t)(hh >> 32);
			tab[slot].rec1 = (uint32_t)i + 1;
		}
		for (size_t i = 0, u = 0; i < np; u++) {
			size_t j = i;

			du[u].uid = pairs[i].uid;
			du[u].gids = (uint32_t)ids_at;
			while (j < np && pairs[j].uid == pairs[i].uid)
				ids[ids_at++] = pairs[j++].gid;
			du[u].n_groups = (uint32_t)(j - i);
			du[u].checksum = udb_hash64(ids + du[u].gids, (uint64_t)du[u].n_groups * 4,
						    udb_hash64(&du[u], offsetof(struct gdb_disk_user, checksum),
							       GDB_SEED_USER));
			i = j;
		}
		h.checksum = udb_hash64(buf + h.name_table_off, (uint64_t)slots * 8,
					udb_hash64(&h, GDB_HDR_SUMMED, GDB_SEED_HDR));
		memcpy(buf, &h, sizeof(h));
	}
	*ret_buf = buf;
	*ret_len = size;
	buf = NULL;
	r = 0;
out:
	free(buf);
	free(acc);
	free(pairs);
	return r;
}

int gdb_apply(const struct el_config *cfg, const struct gdb_change *changes, size_t n, gdb_keep_fn keep,
	      void *keep_data, gdb_refused_fn refused, void *refused_data)
{
	struct build b = { 0 };
	struct gdb *old = NULL;
	struct uidmap_local *local = NULL;
	uint32_t *changed = NULL;
	unsigned char *buf = NULL;
	const void *old_base = NULL;
	char path[4096];
	size_t len = 0, k = 0, old_len = 0;
	int lock_fd = -1, r;

	r = gdb_path(cfg, path, sizeof(path));
	if (r < 0)
		goto out;
	r = lock_take(cfg, &lock_fd);
	if (r < 0)
		goto out;
	r = gdb_open_path(path, &old);
	if (r < 0)
		old = NULL;	/* none yet, or damaged: rebuilt from the changes */
	r = uidmap_local_load(UIDMAP_PASSWD, UIDMAP_GROUP, &local);
	if (r < 0)
		goto out;	/* cannot tell local names: write nothing */
	changed = calloc(n ? n : 1, sizeof(*changed));
	if (!changed) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		changed[i] = changes[i].uid;
	qsort(changed, n, sizeof(*changed), cmp_u32);
	r = take_old(&b, old, changed, n, keep, keep_data);
	if (r == EL_ERR_CORRUPT) {
		b.n = 0;	/* a damaged record: start over from the changes */
		r = 0;
	}
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < changes[i].n_groups; j++) {
			r = memb_add(&b, changes[i].groups[j].oid, changes[i].groups[j].name, changes[i].uid, true);
			if (r < 0)
				goto out;
		}
	qsort(b.m, b.n, sizeof(*b.m), cmp_memb);
	for (size_t i = 0; i < b.n; i++) {	/* one (oid, uid) each; a fresh one wins */
		if (k > 0 && cmp_memb(&b.m[k - 1], &b.m[i]) == 0) {
			if (b.m[i].fresh)
				b.m[k - 1] = b.m[i];
			continue;
		}
		b.m[k++] = b.m[i];
	}
	b.n = k;
	r = make_groups(&b, old);
	if (r < 0)
		goto out;
	refuse_names(cfg, &b, local, refused, refused_data);
	r = assign_gids(cfg, &b, local, refused, refused_data);
	if (r < 0)
		goto out;
	r = serialize(&b, gdb_generation(old), &buf, &len);
	if (r < 0)
		goto out;
	gdb_raw(old, &old_base, &old_len);
	if (old && len == old_len && memcmp(buf, old_base, len) == 0)
		goto out;	/* nothing changed: no write, readers keep their mapping */
	free(buf);
	buf = NULL;
	r = serialize(&b, gdb_generation(old) + 1, &buf, &len);
	if (r < 0)
		goto out;
	r = file_write_atomic(path, buf, len, 0644);
out:
	uidmap_local_free(local);
	gdb_close(old);
	free(changed);
	free(buf);
	free(b.m);
	free(b.g);
	if (lock_fd >= 0)
		close(lock_fd);
	return r;
}
