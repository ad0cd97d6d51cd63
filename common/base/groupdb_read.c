/* groupdb_read.c - map and query groups.db (layout: groupdb_format.h).
 *
 * Nothing in the file is trusted: the header is bounds- and checksum-checked
 * when mapped, every record and id list when used. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "groupdb.h"
#include "strutil.h"
#include "userdb.h"

struct gdb {
	const unsigned char *base;
	size_t size;
	const struct gdb_disk_hdr *hdr;
	const struct gdb_disk_group *groups;
	const struct gdb_disk_user *users;
	const struct udb_disk_slot *name_tab;
	const uint32_t *ids;
	const char *strings;
	uint64_t strings_len, n_ids;
	uint32_t n_groups, n_users, name_mask;
};

static bool region_ok(const struct gdb *db, uint64_t off, uint64_t n, uint64_t size)
{
	uint64_t bytes;

	if (off % 8 != 0 || off < GDB_HEADER_SIZE || off > db->size)
		return false;
	if (__builtin_mul_overflow(n, size, &bytes))
		return false;
	return bytes <= db->size - off;
}

static bool slots_ok(uint32_t slots, uint32_t n)
{
	return slots >= 8 && slots > n && (slots & (slots - 1)) == 0 && slots <= (1u << 24);
}

static int validate(struct gdb *db)
{
	const struct gdb_disk_hdr *h = db->hdr;
	uint64_t sum;

	if (memcmp(h->magic, GDB_MAGIC, 8) != 0 || h->version != GDB_VERSION || h->bom != GDB_BOM)
		return EL_ERR_CORRUPT;
	if (h->file_size != db->size || h->n_groups > GDB_GROUPS_MAX || h->n_users > EL_USERDB_USERS_MAX ||
	    h->n_ids > GDB_IDS_MAX || !slots_ok(h->name_slots, h->n_groups))
		return EL_ERR_CORRUPT;
	if (!region_ok(db, h->groups_off, h->n_groups, GDB_GROUP_SIZE) ||
	    !region_ok(db, h->name_table_off, h->name_slots, sizeof(struct udb_disk_slot)) ||
	    !region_ok(db, h->users_off, h->n_users, GDB_USER_SIZE) || !region_ok(db, h->ids_off, h->n_ids, 4) ||
	    !region_ok(db, h->strings_off, h->strings_len, 1))
		return EL_ERR_CORRUPT;
	sum = udb_hash64(h, GDB_HDR_SUMMED, GDB_SEED_HDR);
	sum = udb_hash64(db->base + h->name_table_off, (uint64_t)h->name_slots * 8, sum);
	if (sum != h->checksum)
		return EL_ERR_CORRUPT;
	db->groups = (const struct gdb_disk_group *)(db->base + h->groups_off);
	db->users = (const struct gdb_disk_user *)(db->base + h->users_off);
	db->name_tab = (const struct udb_disk_slot *)(db->base + h->name_table_off);
	db->ids = (const uint32_t *)(db->base + h->ids_off);
	db->strings = (const char *)(db->base + h->strings_off);
	db->strings_len = h->strings_len;
	db->n_ids = h->n_ids;
	db->n_groups = h->n_groups;
	db->n_users = h->n_users;
	db->name_mask = h->name_slots - 1;
	return 0;
}

int gdb_path(const struct el_config *cfg, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", cfg->state_dir, GDB_FILE);

	return n < 0 || (size_t)n >= len ? EL_ERR_RANGE : 0;
}

int gdb_open_path(const char *path, struct gdb **ret_db)
{
	struct gdb *db = NULL;
	const void *map = NULL;
	size_t size = 0;
	int r;

	/* root-owned only: the file decides who is in which group (sudoers). */
	r = file_map_root(path, GDB_HEADER_SIZE, GDB_SIZE_MAX, &map, &size);
	if (r < 0)
		goto out;
	db = calloc(1, sizeof(*db));
	if (!db) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	db->base = map;
	db->size = size;
	db->hdr = map;
	r = validate(db);
	if (r < 0)
		goto out;
	*ret_db = db;
	db = NULL;
	map = NULL;
out:
	if (map)
		munmap((void *)map, size);
	free(db);
	return r;
}

int gdb_open(const struct el_config *cfg, struct gdb **ret_db)
{
	char path[4096];
	int r = gdb_path(cfg, path, sizeof(path));

	if (r < 0)
		return r;
	return gdb_open_path(path, ret_db);
}

void gdb_close(struct gdb *db)
{
	if (!db)
		return;
	munmap((void *)db->base, db->size);
	free(db);
}

void gdb_raw(const struct gdb *db, const void **ret_base, size_t *ret_size)
{
	*ret_base = db ? db->base : NULL;
	*ret_size = db ? db->size : 0;
}

uint32_t gdb_count(const struct gdb *db)
{
	return db ? db->n_groups : 0;
}

uint64_t gdb_generation(const struct gdb *db)
{
	return db ? db->hdr->generation : 0;
}

/* An id list [at, at+n) inside ids. */
static bool ids_ok(const struct gdb *db, uint32_t at, uint32_t n)
{
	return at <= db->n_ids && n <= db->n_ids - at;
}

static int group_at(const struct gdb *db, uint32_t i, struct gdb_group *ret)
{
	const struct gdb_disk_group *g = &db->groups[i];
	uint64_t sum;

	if (g->name_len == 0 || g->name_len > GDB_NAME_MAX || g->name_off > db->strings_len ||
	    (uint64_t)g->name_len + 1 > db->strings_len - g->name_off || !ids_ok(db, g->members, g->n_members))
		return EL_ERR_CORRUPT;
	if (db->strings[g->name_off + g->name_len] != '\0' || memchr(db->strings + g->name_off, '\0', g->name_len))
		return EL_ERR_CORRUPT;
	sum = udb_hash64(g, offsetof(struct gdb_disk_group, checksum), GDB_SEED_REC);
	sum = udb_hash64(db->strings + g->name_off, (uint64_t)g->name_len + 1, sum);
	sum = udb_hash64(db->ids + g->members, (uint64_t)g->n_members * 4, sum);
	if (sum != g->checksum)
		return EL_ERR_CORRUPT;
	ret->gid = g->gid;
	ret->name = db->strings + g->name_off;
	udb_guid_format(g->oid, ret->oid);
	ret->n_members = g->n_members;
	ret->members = db->ids + g->members;
	return 0;
}

int gdb_get(const struct gdb *db, uint32_t i, struct gdb_group *ret)
{
	if (!db || i >= db->n_groups)
		return EL_ERR_NOT_FOUND;
	return group_at(db, i, ret);
}

int gdb_lookup_name(const struct gdb *db, const char *name, struct gdb_group *ret)
{
	size_t len;
	uint64_t h;

	if (!db || !name)
		return EL_ERR_NOT_FOUND;
	len = strnlen(name, GDB_NAME_MAX + 1);
	if (len == 0 || len > GDB_NAME_MAX)
		return EL_ERR_NOT_FOUND;
	h = udb_hash64(name, len, GDB_SEED_NAME);
	for (uint32_t probe = 0, slot = (uint32_t)h & db->name_mask; probe <= db->name_mask;
	     probe++, slot = (slot + 1) & db->name_mask) {
		const struct udb_disk_slot *s = &db->name_tab[slot];
		struct gdb_group g;
		int r;

		if (s->rec1 == 0)
			return EL_ERR_NOT_FOUND;
		if (s->key != (uint32_t)(h >> 32))
			continue;
		if (s->rec1 > db->n_groups)
			return EL_ERR_CORRUPT;
		r = group_at(db, s->rec1 - 1, &g);
		if (r < 0)
			return r;
		if (strcmp(g.name, name) == 0) {
			*ret = g;
			return 0;
		}
	}
	return EL_ERR_NOT_FOUND;
}

int gdb_lookup_gid(const struct gdb *db, uint32_t gid, struct gdb_group *ret)
{
	uint32_t lo = 0, hi;

	if (!db)
		return EL_ERR_NOT_FOUND;
	hi = db->n_groups;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (db->groups[mid].gid < gid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= db->n_groups || db->groups[lo].gid != gid)
		return EL_ERR_NOT_FOUND;
	return group_at(db, lo, ret);
}

int gdb_user_gids(const struct gdb *db, uint32_t uid, const uint32_t **ret_gids, uint32_t *ret_n)
{
	const struct gdb_disk_user *u;
	uint32_t lo = 0, hi;
	uint64_t sum;

	if (!db) {
		*ret_gids = NULL;
		*ret_n = 0;
		return 0;
	}
	hi = db->n_users;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (db->users[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= db->n_users || db->users[lo].uid != uid) {
		*ret_gids = NULL;
		*ret_n = 0;
		return 0;
	}
	u = &db->users[lo];
	if (!ids_ok(db, u->gids, u->n_groups))
		return EL_ERR_CORRUPT;
	sum = udb_hash64(u, offsetof(struct gdb_disk_user, checksum), GDB_SEED_USER);
	sum = udb_hash64(db->ids + u->gids, (uint64_t)u->n_groups * 4, sum);
	if (sum != u->checksum)
		return EL_ERR_CORRUPT;
	*ret_gids = db->ids + u->gids;
	*ret_n = u->n_groups;
	return 0;
}

int gdb_sanitize_name(const char *raw, char *buf, size_t len)
{
	size_t o = 0;
	bool digits_only = true;

	if (!raw || len < GDB_NAME_MAX + 1)
		return EL_ERR_INVAL;
	for (const unsigned char *p = (const unsigned char *)raw; *p && o < GDB_NAME_MAX; p++) {
		char c = (char)*p;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			c = '-';
		if (o == 0 && (c == '_' || c == '.' || c == '-'))
			continue;
		if (c == '-' && buf[o - 1] == '-')
			continue;
		buf[o++] = c;
	}
	while (o > 0 && (buf[o - 1] == '_' || buf[o - 1] == '.' || buf[o - 1] == '-'))
		o--;
	buf[o] = '\0';
	for (size_t i = 0; i < o; i++)
		if (buf[i] < '0' || buf[i] > '9')
			digits_only = false;
	if (o == 0 || digits_only)
		return EL_ERR_INVAL;
	return 0;
}

uint32_t gdb_gid_hash(const struct el_config *cfg, const char *oid)
{
	uint64_t span = (uint64_t)cfg->gid_max - cfg->gid_min + 1;

	return cfg->gid_min + (uint32_t)(udb_hash64(oid, strlen(oid), GDB_SEED_GID) % span);
}
