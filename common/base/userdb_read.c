/* userdb_read.c - map and validate users.db, look users up. libc only.
 *
 * Nothing in the file is trusted: the header is bounds- and checksum-checked
 * when mapped, each record (and the strings it points to) each time it is
 * read, each table entry by what it points to, so a damaged file yields
 * EL_ERR_CORRUPT (or, for a damaged table, a user not found), never a read
 * outside the mapping or a wrong answer. See userdb_format.h for the layout.
 *
 * Opening costs the same whatever the number of users (format version 3:
 * the header checksum covers the header alone): one shared mapping, no
 * copy, and only the pages a lookup touches are ever read. Versions 1 and
 * 2 chain the tables into the header checksum: verified once at open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "el_limits.h"
#include "strutil.h"
#include "userdb.h"
#include "userdb_format.h"

struct udb {
	const unsigned char *base;	/* the file's pages, mapped shared read-only */
	size_t size;
	const struct udb_disk_hdr *hdr;
	const struct udb_disk_rec *recs;
	const struct udb_disk_slot *name_tab, *uid_tab;
	const uint32_t *admins, *members;
	const char *strings;
	uint64_t strings_len;
	uint32_t n, name_mask, uid_mask, n_admins, n_members, version;
};

int udb_path(const struct el_config *cfg, char *buf, size_t buflen)
{
	int n = snprintf(buf, buflen, "%s/%s", cfg->state_dir, UDB_FILE);

	if (n < 0 || (size_t)n >= buflen)
		return EL_ERR_RANGE;
	return 0;
}

/* off..off+count*elsize lies inside the file, after the header, 8-aligned. */
static bool region_ok(const struct udb *db, uint64_t off, uint64_t count, uint64_t elsize)
{
	uint64_t bytes;

	if (off % 8 != 0 || off < UDB_HEADER_SIZE || off > db->size)
		return false;
	if (__builtin_mul_overflow(count, elsize, &bytes))
		return false;
	return bytes <= db->size - off;
}

static bool slots_ok(uint32_t slots, uint32_t n)
{
	return slots >= 8 && slots > n && (slots & (slots - 1)) == 0 && slots <= (1u << 24);
}

static int validate(struct udb *db)
{
	struct udb_disk_hdr hc;
	const struct udb_disk_hdr *h = &hc;
	uint64_t sum;

	/* One read of the shared header: every check and use sees the same. */
	memcpy(&hc, db->hdr, sizeof(hc));

	/* A later package's format (after a downgrade): refuse by name, never
	 * guess at its layout, and never let a writer replace it. */
	if (memcmp(h->magic, UDB_MAGIC, 8) == 0 && h->bom == UDB_BOM && h->version > UDB_VERSION)
		return EL_ERR_NEWER_FORMAT;
	if (memcmp(h->magic, UDB_MAGIC, 8) != 0 || h->version < UDB_VERSION_MIN || h->version > UDB_VERSION ||
	    h->bom != UDB_BOM)
		return EL_ERR_CORRUPT;
	if (h->file_size != db->size || h->record_size != UDB_RECORD_SIZE || h->n_users > EL_USERDB_USERS_MAX)
		return EL_ERR_CORRUPT;
	if (h->n_admins > h->n_users || h->n_members > h->n_users || h->n_admins > h->n_members)
		return EL_ERR_CORRUPT;
	if (!slots_ok(h->name_slots, h->n_users) || !slots_ok(h->uid_slots, h->n_users))
		return EL_ERR_CORRUPT;
	if (!region_ok(db, h->records_off, h->n_users, UDB_RECORD_SIZE) ||
	    !region_ok(db, h->name_table_off, h->name_slots, sizeof(struct udb_disk_slot)) ||
	    !region_ok(db, h->uid_table_off, h->uid_slots, sizeof(struct udb_disk_slot)) ||
	    !region_ok(db, h->admins_off, h->n_admins, 4) || !region_ok(db, h->members_off, h->n_members, 4) ||
	    !region_ok(db, h->strings_off, h->strings_len, 1))
		return EL_ERR_CORRUPT;
	sum = udb_hash64(h, UDB_HDR_SUMMED, UDB_SEED_HDR);
	if (h->version < 3) {	/* tables in the header checksum: O(n), once */
		sum = udb_hash64(db->base + h->name_table_off, (uint64_t)h->name_slots * 8, sum);
		sum = udb_hash64(db->base + h->uid_table_off, (uint64_t)h->uid_slots * 8, sum);
		sum = udb_hash64(db->base + h->admins_off, (uint64_t)h->n_admins * 4, sum);
		sum = udb_hash64(db->base + h->members_off, (uint64_t)h->n_members * 4, sum);
	} else if (h->reserved != 0) {
		return EL_ERR_CORRUPT;
	}
	if (sum != h->checksum)
		return EL_ERR_CORRUPT;
	db->recs = (const struct udb_disk_rec *)(db->base + h->records_off);
	db->name_tab = (const struct udb_disk_slot *)(db->base + h->name_table_off);
	db->uid_tab = (const struct udb_disk_slot *)(db->base + h->uid_table_off);
	db->admins = (const uint32_t *)(db->base + h->admins_off);
	db->members = (const uint32_t *)(db->base + h->members_off);
	db->strings = (const char *)(db->base + h->strings_off);
	db->strings_len = h->strings_len;
	db->n = h->n_users;
	db->name_mask = h->name_slots - 1;
	db->uid_mask = h->uid_slots - 1;
	db->n_admins = h->n_admins;
	db->n_members = h->n_members;
	db->version = h->version;
	return 0;
}

int udb_open_path(const char *path, struct udb **ret_db)
{
	struct udb *db = NULL;
	const void *map = NULL;
	size_t size = 0;
	int r;

	/* root-owned only: the file decides who is which uid. The size the
	 * header states must be the file's (checked in validate), so a file
	 * cut short in place is refused before any page past its end is
	 * touched. Shared, never copied (userdb.h: never truncate in place). */
	r = file_map_root(path, UDB_HEADER_SIZE, EL_USERDB_SIZE_MAX, &map, &size);
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

int udb_open(const struct el_config *cfg, struct udb **ret_db)
{
	char path[4096];
	int r;

	r = udb_path(cfg, path, sizeof(path));
	if (r < 0)
		return r;
	return udb_open_path(path, ret_db);
}

void udb_close(struct udb *db)
{
	if (!db)
		return;
	munmap((void *)db->base, db->size);
	free(db);
}

/* A string of the pool: in bounds, NUL right after len bytes, none before. */
static const char *pool_str(const struct udb *db, uint32_t off, uint16_t len)
{
	const char *s;

	if (off > db->strings_len || db->strings_len - off < (uint64_t)len + 1)
		return NULL;
	s = db->strings + off;
	if (s[len] != '\0' || memchr(s, '\0', len))
		return NULL;
	return s;
}

bool udb_path_field_ok(const char *s, size_t n)
{
	if (n > UDB_PATH_MAX || (n > 0 && s[0] != '/'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == ':')
			return false;
		/* Normalized: no empty, "." or ".." component. */
		if (c == '/' && i + 1 < n) {
			size_t j = i + 1;

			while (j < n && s[j] == '.' && j - i <= 2)
				j++;
			if (s[i + 1] == '/' || ((j == n || s[j] == '/') && j - i - 1 >= 1 && j - i - 1 <= 2))
				return false;
		}
	}
	return n != 1;	/* not "/" itself */
}

/* The pinned "HOME\0SHELL" pair of a version 2 record: both may be empty
 * (= from the configuration), each is udb_path_field_ok. */
static bool extra_read(const struct udb *db, const struct udb_disk_rec *r, const char **home, const char **shell)
{
	const char *s, *nul;
	size_t hl;

	if (db->version < 2) {
		*home = *shell = "";
		return r->extra_len == 0 && r->extra_off == 0;
	}
	if (r->extra_len > 2 * UDB_PATH_MAX + 1 || r->extra_off > db->strings_len ||
	    db->strings_len - r->extra_off < (uint64_t)r->extra_len + 1)
		return false;
	s = db->strings + r->extra_off;
	if (s[r->extra_len] != '\0')
		return false;
	if (r->extra_len == 0) {
		*home = *shell = s;
		return true;
	}
	nul = memchr(s, '\0', r->extra_len);
	if (!nul)
		return false;
	hl = (size_t)(nul - s);
	if (memchr(nul + 1, '\0', r->extra_len - hl - 1) || (hl == 0 && r->extra_len == 1) ||
	    !udb_path_field_ok(s, hl) || !udb_path_field_ok(nul + 1, r->extra_len - hl - 1))
		return false;
	*home = s;
	*shell = nul + 1;
	return true;
}

static int rec_read(const struct udb *db, uint32_t i, struct udb_user *ret)
{
	struct udb_disk_rec rc;
	const struct udb_disk_rec *r;
	const char *name, *display, *home, *shell;
	uint64_t sum;

	if (i >= db->n)
		return EL_ERR_CORRUPT;
	/* One read of the shared record: what is checked is what is used. */
	memcpy(&rc, &db->recs[i], sizeof(rc));
	r = &rc;
	if ((r->role & UDB_ROLE_BITS) > UDB_ROLE_ADMIN || (r->role >> UDB_SRC_SHIFT) > UDB_SRC_MAX ||
	    (r->flags & ~(UDB_FLAG_BOUND | UDB_FLAG_PINNED | UDB_FLAG_BLOCKED | UDB_FLAG_RETIRED)) ||
	    r->name_len == 0 || r->name_len > EL_NAME_MAX || r->display_len > UDB_DISPLAY_MAX ||
	    (db->version < 2 && (r->flags & UDB_FLAG_PINNED)) ||
	    (db->version < 3 && ((r->flags & (UDB_FLAG_BLOCKED | UDB_FLAG_RETIRED)) || (r->role >> UDB_SRC_SHIFT))))
		return EL_ERR_CORRUPT;
	name = pool_str(db, r->name_off, r->name_len);
	display = pool_str(db, r->display_off, r->display_len);
	if (!name || !display || !extra_read(db, r, &home, &shell))
		return EL_ERR_CORRUPT;
	sum = udb_hash64(r, UDB_REC_SUMMED, UDB_SEED_REC);
	sum = udb_hash64(name, (uint64_t)r->name_len + 1, sum);
	sum = udb_hash64(display, (uint64_t)r->display_len + 1, sum);
	if (db->version >= 2)
		sum = udb_hash64(home, (uint64_t)r->extra_len + 1, sum);
	if (sum != r->checksum)
		return EL_ERR_CORRUPT;
	/* A pinned uid is never 0 nor a system id, whatever wrote it. */
	if ((r->flags & UDB_FLAG_PINNED) && r->uid < UDB_PINNED_ID_MIN)
		return EL_ERR_CORRUPT;
	if (!(r->flags & UDB_FLAG_BOUND) && (r->role & UDB_ROLE_BITS) != UDB_ROLE_NONE)
		return EL_ERR_CORRUPT;
	/* A tombstone is never bound; only a tombstone may hold no uid. */
	if ((r->flags & UDB_FLAG_RETIRED) ? (r->flags & UDB_FLAG_BOUND) != 0 : r->uid == 0)
		return EL_ERR_CORRUPT;
	ret->name = name;
	ret->display_name = display;
	ret->uid = r->uid;
	ret->role = (enum udb_role)(r->role & UDB_ROLE_BITS);
	ret->source = (enum udb_source)(r->role >> UDB_SRC_SHIFT);
	ret->bound = (r->flags & UDB_FLAG_BOUND) != 0;
	ret->blocked = (r->flags & UDB_FLAG_BLOCKED) != 0;
	ret->retired = (r->flags & UDB_FLAG_RETIRED) != 0;
	ret->pinned = (r->flags & UDB_FLAG_PINNED) != 0;
	ret->home = home;
	ret->shell = shell;
	memcpy(ret->oid, r->oid, 16);
	memcpy(ret->tid, r->tid, 16);
	ret->first_login = r->first_login;
	ret->last_login = r->last_login;
	return 0;
}

int udb_lookup_name(const struct udb *db, const char *name, struct udb_user *ret)
{
	size_t len = strnlen(name, EL_NAME_MAX + 1);
	uint64_t h;
	uint32_t tag, i;

	if (len == 0 || len > EL_NAME_MAX)
		return EL_ERR_NOT_FOUND;
	h = udb_hash64(name, len, UDB_SEED_NAME);
	tag = (uint32_t)(h >> 32);
	i = (uint32_t)h & db->name_mask;
	for (uint32_t probes = 0; probes <= db->name_mask; probes++, i = (i + 1) & db->name_mask) {
		const struct udb_disk_slot *s = &db->name_tab[i];
		struct udb_user u;
		int r;

		if (s->rec1 == 0)
			return EL_ERR_NOT_FOUND;
		if (s->key != tag)
			continue;
		r = rec_read(db, s->rec1 - 1, &u);
		if (r < 0)
			return r;
		if (strcmp(u.name, name) == 0) {
			*ret = u;
			return 0;
		}
		/* Same tag, other name: a true collision only if that name's
		 * tag is the slot's too; else the slot is damaged. */
		if ((uint32_t)(udb_hash64(u.name, strlen(u.name), UDB_SEED_NAME) >> 32) != tag)
			return EL_ERR_CORRUPT;
	}
	return EL_ERR_CORRUPT;	/* a full table: the writer never makes one */
}

int udb_lookup_uid(const struct udb *db, uint32_t uid, struct udb_user *ret)
{
	uint32_t i = udb_mix32(uid) & db->uid_mask;

	for (uint32_t probes = 0; probes <= db->uid_mask; probes++, i = (i + 1) & db->uid_mask) {
		const struct udb_disk_slot *s = &db->uid_tab[i];
		struct udb_user u;
		int r;

		if (s->rec1 == 0)
			return EL_ERR_NOT_FOUND;
		if (s->key != uid)
			continue;
		r = rec_read(db, s->rec1 - 1, &u);
		if (r < 0)
			return r;
		if (u.uid != uid)
			return EL_ERR_CORRUPT;
		*ret = u;
		return 0;
	}
	return EL_ERR_CORRUPT;
}

int udb_lookup_oid(const struct udb *db, const uint8_t oid[16], const uint8_t tid[16], struct udb_user *ret)
{
	for (uint32_t i = 0; i < db->n; i++) {
		const struct udb_disk_rec *d = &db->recs[i];
		struct udb_user u;
		int r;

		/* Compare first, verify the record only on a match. */
		if (!(d->flags & UDB_FLAG_BOUND) || memcmp(d->oid, oid, 16) != 0 || memcmp(d->tid, tid, 16) != 0)
			continue;
		r = rec_read(db, i, &u);
		if (r < 0)
			return r;
		*ret = u;
		return 0;
	}
	return EL_ERR_NOT_FOUND;
}

bool udb_home_pinned(const struct udb *db, const char *home)
{
	size_t n = home ? strlen(home) : 0;

	if (!db || n == 0 || n > UDB_PATH_MAX || db->version < 2)
		return false;
	for (uint32_t i = 0; i < db->n; i++) {
		const struct udb_disk_rec *d = &db->recs[i];
		struct udb_user u;

		/* Compare the raw bytes first, verify the record only on a match. */
		if (d->extra_len < n || d->extra_off > db->strings_len || db->strings_len - d->extra_off < n + 1 ||
		    memcmp(db->strings + d->extra_off, home, n) != 0 || db->strings[d->extra_off + n] != '\0')
			continue;
		if (rec_read(db, i, &u) == 0 && strcmp(u.home, home) == 0)
			return true;
	}
	return false;
}

uint32_t udb_count(const struct udb *db)
{
	return db->n;
}

int udb_get(const struct udb *db, uint32_t i, struct udb_user *ret)
{
	if (i >= db->n)
		return EL_ERR_NOT_FOUND;
	return rec_read(db, i, ret);
}

uint32_t udb_group_count(const struct udb *db, enum udb_group group)
{
	return group == UDB_GROUP_ADMINS ? db->n_admins : db->n_members;
}

int udb_group_get(const struct udb *db, enum udb_group group, uint32_t i, struct udb_user *ret)
{
	const uint32_t *list = group == UDB_GROUP_ADMINS ? db->admins : db->members;
	struct udb_user u;
	int r;

	if (i >= udb_group_count(db, group))
		return EL_ERR_NOT_FOUND;
	/* The writer lists records in index (= name) order, each once: an
	 * entry not above the one before is damage, not a second member. */
	if (i > 0 && list[i] <= list[i - 1])
		return EL_ERR_CORRUPT;
	r = rec_read(db, list[i], &u);
	if (r < 0)
		return r;
	if (u.role != UDB_ROLE_ADMIN && (group == UDB_GROUP_ADMINS || u.role != UDB_ROLE_USER))
		return EL_ERR_CORRUPT;
	*ret = u;
	return 0;
}

bool udb_superseded(const struct udb *db)
{
	return __atomic_load_n(&db->hdr->superseded, __ATOMIC_RELAXED) != 0;
}

uint64_t udb_generation(const struct udb *db)
{
	return db->hdr->generation;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int udb_guid_parse(const char *s, uint8_t ret_guid[16])
{
	uint8_t g[16];
	size_t j = 0;

	if (!s || strlen(s) != 36)
		return EL_ERR_INVAL;
	for (size_t i = 0; i < 36;) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return EL_ERR_INVAL;
			i++;
			continue;
		}
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0 || j >= 16)
			return EL_ERR_INVAL;
		g[j++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	if (j != 16)
		return EL_ERR_INVAL;
	memcpy(ret_guid, g, 16);
	return 0;
}

void udb_guid_format(const uint8_t g[16], char buf[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t j = 0; j < 16; j++) {
		if (j == 4 || j == 6 || j == 8 || j == 10)
			buf[o++] = '-';
		buf[o++] = hex[g[j] >> 4];
		buf[o++] = hex[g[j] & 15];
	}
	buf[o] = '\0';
}

const char *udb_role_name(enum udb_role role)
{
	switch (role) {
	case UDB_ROLE_ADMIN: return "admin";
	case UDB_ROLE_USER: return "user";
	default: return "none";
	}
}

int udb_role_parse(const char *s, enum udb_role *ret_role)
{
	static const enum udb_role roles[] = { UDB_ROLE_NONE, UDB_ROLE_USER, UDB_ROLE_ADMIN };

	for (size_t i = 0; i < 3; i++) {
		if (s && strcmp(s, udb_role_name(roles[i])) == 0) {
			*ret_role = roles[i];
			return 0;
		}
	}
	return EL_ERR_INVAL;
}
